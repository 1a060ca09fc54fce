/*
 * Connection counts per client address (see peers.h): a chained hash table
 * of the addresses with at least one open connection. An entry goes away
 * with its last connection, so the table holds no more entries than there
 * are connections.
 */
#include "http/peers.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024 /* a power of two */

typedef struct peer {
    struct peer *next;
    uint8_t addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
    unsigned count;
} peer_t;

struct gw_peers {
    unsigned per_client;
    peer_t *buckets[NBUCKETS];
};

/* The address as 16 bytes; false for loopback and non-IP families. */
static bool peer_key(const struct sockaddr *sa, socklen_t len, uint8_t out[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(out, mapped, 12);
        memcpy(out + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return false;
        memcpy(out, &in6->sin6_addr, 16);
    } else {
        return false;
    }
    /* 127.0.0.0/8, also when it arrives IPv4-mapped on an IPv6 socket. */
    return !(memcmp(out, mapped, 12) == 0 && out[12] == 127);
}

bool gw_peers_is_loopback(const struct sockaddr *addr, socklen_t len)
{
    uint8_t key[16];
    bool ip = addr != NULL &&
              ((addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) ||
               (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)));

    return ip && !peer_key(addr, len, key);
}

bool gw_peers_local_client(const struct sockaddr *addr, socklen_t len,
                           const char *(*header)(const void *ctx, const char *name),
                           const void *ctx)
{
    static const char *const relayed[] = {"Forwarded", "X-Forwarded-For", "X-Real-IP"};

    if (!gw_peers_is_loopback(addr, len))
        return false;
    for (size_t i = 0; i < GW_ARRAY_LEN(relayed); i++)
        if (header(ctx, relayed[i]) != NULL)
            return false;
    return true;
}

static size_t bucket_of(const uint8_t key[16])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h & (NBUCKETS - 1));
}

static peer_t **find(const gw_peers_t *p, const uint8_t key[16])
{
    peer_t *const *pp = &p->buckets[bucket_of(key)];

    while (*pp != NULL && memcmp((*pp)->addr, key, 16) != 0)
        pp = &(*pp)->next;
    return (peer_t **)pp;
}

gw_peers_t *gw_peers_new(unsigned per_client)
{
    gw_peers_t *p = gw_xcalloc(1, sizeof(*p));
    p->per_client = per_client;
    return p;
}

void gw_peers_free(gw_peers_t *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (p->buckets[i] != NULL) {
            peer_t *e = p->buckets[i];
            p->buckets[i] = e->next;
            free(e);
        }
    }
    free(p);
}

unsigned gw_peers_count(const gw_peers_t *p, const struct sockaddr *addr, socklen_t len)
{
    uint8_t key[16];
    peer_t **pp;

    if (!peer_key(addr, len, key))
        return 0;
    pp = find(p, key);
    return *pp != NULL ? (*pp)->count : 0;
}

bool gw_peers_admit(const gw_peers_t *p, const struct sockaddr *addr, socklen_t len)
{
    return p->per_client == 0 || gw_peers_count(p, addr, len) < p->per_client;
}

void gw_peers_add(gw_peers_t *p, const struct sockaddr *addr, socklen_t len)
{
    uint8_t key[16];
    peer_t **pp;

    if (!peer_key(addr, len, key))
        return;
    pp = find(p, key);
    if (*pp == NULL) {
        *pp = gw_xcalloc(1, sizeof(peer_t));
        memcpy((*pp)->addr, key, 16);
    }
    (*pp)->count++;
}

void gw_peers_remove(gw_peers_t *p, const struct sockaddr *addr, socklen_t len)
{
    uint8_t key[16];
    peer_t **pp;
    peer_t *e;

    if (!peer_key(addr, len, key))
        return;
    pp = find(p, key);
    e = *pp;
    if (e == NULL)
        return;
    if (--e->count == 0) {
        *pp = e->next;
        free(e);
    }
}
