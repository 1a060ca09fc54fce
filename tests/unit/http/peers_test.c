/* Open connections per client address: the cap, loopback exemption, and
 * IPv4-mapped IPv6 counting as IPv4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/peers.h"

typedef struct addr {
    struct sockaddr_storage ss;
    socklen_t len;
} addr_t;

static addr_t ip(const char *text)
{
    addr_t a;

    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&a.ss)->sin_addr) == 1) {
        a.ss.ss_family = AF_INET;
        a.len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&a.ss)->sin6_addr) == 1) {
        a.ss.ss_family = AF_INET6;
        a.len = sizeof(struct sockaddr_in6);
    } else {
        fail_msg("bad test address %s", text);
    }
    return a;
}

#define SA(a) ((const struct sockaddr *)&(a).ss), (a).len

static void test_cap_per_address(void **state)
{
    gw_peers_t *p = gw_peers_new(3);
    addr_t a = ip("203.0.113.7");
    addr_t b = ip("203.0.113.8");

    (void)state;
    for (int i = 0; i < 3; i++) {
        assert_true(gw_peers_admit(p, SA(a)));
        gw_peers_add(p, SA(a));
    }
    assert_false(gw_peers_admit(p, SA(a)));
    assert_int_equal(gw_peers_count(p, SA(a)), 3);
    /* Another address is not affected. */
    assert_true(gw_peers_admit(p, SA(b)));
    /* One closes: one more may open. */
    gw_peers_remove(p, SA(a));
    assert_true(gw_peers_admit(p, SA(a)));
    for (int i = 0; i < 2; i++)
        gw_peers_remove(p, SA(a));
    assert_int_equal(gw_peers_count(p, SA(a)), 0);
    /* A stray remove does not underflow. */
    gw_peers_remove(p, SA(a));
    assert_int_equal(gw_peers_count(p, SA(a)), 0);
    gw_peers_free(p);
}

static void test_loopback_exempt(void **state)
{
    static const char *const loop[] = {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"};
    gw_peers_t *p = gw_peers_new(1);

    (void)state;
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
        addr_t a = ip(loop[i]);
        for (int k = 0; k < 5; k++) {
            assert_true(gw_peers_admit(p, SA(a)));
            gw_peers_add(p, SA(a));
        }
        assert_int_equal(gw_peers_count(p, SA(a)), 0);
    }
    gw_peers_free(p);
}

/* What counts as this machine for the paths that need no key. */
static void test_is_loopback(void **state)
{
    static const char *const yes[] = {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"};
    static const char *const no[] = {"10.0.0.1", "192.168.1.2", "::", "::2", "fe80::1",
                                      "::ffff:10.0.0.1", "128.0.0.1", "0.0.0.0"};
    struct sockaddr unix_sa = {.sa_family = AF_UNIX};

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        addr_t a = ip(yes[i]);
        if (!gw_peers_is_loopback(SA(a)))
            fail_msg("%s is loopback", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        addr_t a = ip(no[i]);
        if (gw_peers_is_loopback(SA(a)))
            fail_msg("%s is not loopback", no[i]);
    }
    assert_false(gw_peers_is_loopback(NULL, 0));
    assert_false(gw_peers_is_loopback(&unix_sa, sizeof(unix_sa)));
    addr_t shortlen = ip("127.0.0.1");
    assert_false(gw_peers_is_loopback((const struct sockaddr *)&shortlen.ss, 4));
}

/* Request headers for the loopback rule: a NULL-terminated name/value list. */
static const char *lookup(const void *ctx, const char *name)
{
    for (const char *const *h = ctx; *h != NULL; h += 2)
        if (strcasecmp(*h, name) == 0)
            return h[1];
    return NULL;
}

static void test_local_client_rule(void **state)
{
    addr_t lo4 = ip("127.0.0.1"), lo6 = ip("::1"), mapped = ip("::ffff:127.0.0.1");
    addr_t lan = ip("192.168.1.20");
    const char *none[] = {NULL};
    const char *plain[] = {"Host", "localhost", "Accept", "*/*", NULL};
    const char *const relayed[][3] = {{"X-Forwarded-For", "203.0.113.7", NULL},
                                      {"x-real-ip", "203.0.113.7", NULL},
                                      {"Forwarded", "for=203.0.113.7", NULL},
                                      {"X-Forwarded-For", "", NULL}};

    (void)state;
    assert_true(gw_peers_local_client(SA(lo4), lookup, none));
    assert_true(gw_peers_local_client(SA(lo6), lookup, plain));
    assert_true(gw_peers_local_client(SA(mapped), lookup, plain));
    assert_false(gw_peers_local_client(SA(lan), lookup, none));
    assert_false(gw_peers_local_client(NULL, 0, lookup, none));
    /* A proxy on this machine: loopback socket, but the request was relayed. */
    for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
        assert_false(gw_peers_local_client(SA(lo4), lookup, relayed[i]));
}

static void test_mapped_counts_as_ipv4(void **state)
{
    gw_peers_t *p = gw_peers_new(2);
    addr_t v4 = ip("198.51.100.20");
    addr_t mapped = ip("::ffff:198.51.100.20");
    addr_t v6 = ip("2001:db8::20");

    (void)state;
    gw_peers_add(p, SA(v4));
    gw_peers_add(p, SA(mapped));
    assert_false(gw_peers_admit(p, SA(v4)));
    assert_false(gw_peers_admit(p, SA(mapped)));
    assert_true(gw_peers_admit(p, SA(v6)));
    gw_peers_add(p, SA(v6));
    gw_peers_add(p, SA(v6));
    assert_false(gw_peers_admit(p, SA(v6)));
    gw_peers_free(p); /* frees what is still counted */
}

static void test_no_cap_and_many_addresses(void **state)
{
    gw_peers_t *p = gw_peers_new(0);
    char text[32];

    (void)state;
    /* More addresses than buckets: chains stay correct. */
    for (int i = 0; i < 3000; i++) {
        addr_t a;
        snprintf(text, sizeof(text), "10.%d.%d.1", i / 256, i % 256);
        a = ip(text);
        assert_true(gw_peers_admit(p, SA(a)));
        gw_peers_add(p, SA(a));
    }
    for (int i = 0; i < 3000; i += 2) {
        addr_t a;
        snprintf(text, sizeof(text), "10.%d.%d.1", i / 256, i % 256);
        a = ip(text);
        assert_int_equal(gw_peers_count(p, SA(a)), 1);
        gw_peers_remove(p, SA(a));
        assert_int_equal(gw_peers_count(p, SA(a)), 0);
    }
    {
        addr_t odd = ip("10.0.1.1");
        assert_int_equal(gw_peers_count(p, SA(odd)), 1);
    }
    gw_peers_free(p);
}

static void test_unknown_family_ignored(void **state)
{
    gw_peers_t *p = gw_peers_new(1);
    struct sockaddr sa = {.sa_family = AF_UNIX};

    (void)state;
    gw_peers_add(p, &sa, sizeof(sa));
    gw_peers_add(p, &sa, sizeof(sa));
    assert_true(gw_peers_admit(p, &sa, sizeof(sa)));
    assert_true(gw_peers_admit(p, NULL, 0));
    gw_peers_remove(p, &sa, sizeof(sa));
    gw_peers_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_per_address),
        cmocka_unit_test(test_loopback_exempt),
        cmocka_unit_test(test_is_loopback),
        cmocka_unit_test(test_local_client_rule),
        cmocka_unit_test(test_mapped_counts_as_ipv4),
        cmocka_unit_test(test_no_cap_and_many_addresses),
        cmocka_unit_test(test_unknown_family_ignored),
    };
    return cmocka_run_group_tests_name("http/peers", tests, NULL, NULL);
}
