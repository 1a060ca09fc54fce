/* Public-address check for user-supplied URLs (see netguard.h). */
#include "upstream/netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

typedef struct range {
    const char *cidr;
} range_t;

/* Never fetched from (RFC 6890 special-purpose and friends). */
static const range_t blocked4[] = {
    {"0.0.0.0/8"},      {"10.0.0.0/8"},      {"100.64.0.0/10"},  {"127.0.0.0/8"},
    {"169.254.0.0/16"}, {"172.16.0.0/12"},   {"192.0.0.0/24"},   {"192.0.2.0/24"},
    {"192.88.99.0/24"}, {"192.168.0.0/16"},  {"198.18.0.0/15"},  {"198.51.100.0/24"},
    {"203.0.113.0/24"}, {"224.0.0.0/4"},     {"240.0.0.0/4"},
};
/* Forms that embed an IPv4 address (IPv4-compatible, IPv4-mapped, NAT64,
 * 6to4, Teredo) are refused whole: a public service is never reached by them,
 * and judging the embedded address right in every form is where guards slip. */
static const range_t blocked6[] = {
    {"::/96"},          {"::ffff:0:0/96"}, {"64:ff9b::/96"}, {"64:ff9b:1::/48"},
    {"100::/64"},       {"2001::/32"},     {"2001:db8::/32"}, {"2002::/16"},
    {"fc00::/7"},       {"fe80::/10"},     {"fec0::/10"},    {"ff00::/8"},
};

/* Parses "a.b.c.d/n" or "x::y/n" into family, address bytes and prefix. */
static bool parse_cidr(const char *s, size_t len, int *family, unsigned char addr[16],
                       int *prefix)
{
    char buf[64];
    char *slash;
    char *end;
    long n;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        *family = AF_INET6;
    else
        return false;
    *prefix = *family == AF_INET ? 32 : 128;
    if (slash != NULL) {
        n = strtol(slash + 1, &end, 10);
        if (*end != '\0' || end == slash + 1 || n < 0 || n > *prefix)
            return false;
        *prefix = (int)n;
    }
    return true;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8;
    int rest = bits % 8;

    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static bool in_cidr(int family, const unsigned char *addr, const char *cidr, size_t len)
{
    unsigned char net[16];
    int fam;
    int prefix;

    return parse_cidr(cidr, len, &fam, net, &prefix) && fam == family &&
           prefix_match(addr, net, prefix);
}

static bool in_list(int family, const unsigned char *addr, const char *list)
{
    while (list != NULL && *list != '\0') {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        while (len > 0 && *list == ' ') {
            list++;
            len--;
        }
        if (in_cidr(family, addr, list, len))
            return true;
        list = comma ? comma + 1 : NULL;
    }
    return false;
}

static bool blocked(int family, const unsigned char *addr)
{
    const range_t *r = family == AF_INET ? blocked4 : blocked6;
    size_t n = family == AF_INET ? GW_ARRAY_LEN(blocked4) : GW_ARRAY_LEN(blocked6);

    for (size_t i = 0; i < n; i++)
        if (in_cidr(family, addr, r[i].cidr, strlen(r[i].cidr)))
            return true;
    return false;
}

bool gw_netguard_allows(const struct sockaddr *sa, const char *allow)
{
    unsigned char a[16];
    int family;

    if (sa->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
        family = AF_INET6;
    } else {
        return false;
    }
    if (in_list(family, a, allow))
        return true;
    return !blocked(family, a);
}
