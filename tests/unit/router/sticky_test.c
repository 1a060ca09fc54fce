/*
 * Unit tests for src/router/sticky.c: the digest format (known answers,
 * field boundaries), TTL, refresh, eviction of the oldest when full, and a
 * randomized comparison against a tiny reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/sticky.h"

#define T0 INT64_C(1781524800000)
#define MIN_MS (INT64_C(60) * 1000)

static void hex(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_digest(void **state)
{
    unsigned char a[32], b[32];
    char h[65];

    (void)state;
    /* Known answers: SHA-256("freellmapi/sticky/v1\0" || be64 len || bytes, x3). */
    gw_sticky_digest(GW_STR("key-1"), GW_STR("You are helpful."), GW_STR("Hello"), a);
    hex(a, h);
    assert_string_equal(h, "27b6da875c8c1141f31a90aac4b80dbb24987dc5fbaa313fd2ae6b58b33d56e3");
    gw_sticky_digest(gw_str_c(NULL), gw_str_c(""), GW_STR(""), a);
    hex(a, h);
    assert_string_equal(h, "8023f7fd3553315268092c266a104e27d3623b7846b366d324a1606cc568e285");
    /* Moving bytes across a field boundary changes the digest. */
    gw_sticky_digest(GW_STR("ab"), GW_STR("c"), GW_STR(""), a);
    gw_sticky_digest(GW_STR("a"), GW_STR("bc"), GW_STR(""), b);
    assert_memory_not_equal(a, b, 32);
    gw_sticky_digest(GW_STR("k"), GW_STR(""), GW_STR("x"), a);
    gw_sticky_digest(GW_STR("k"), GW_STR("x"), GW_STR(""), b);
    assert_memory_not_equal(a, b, 32);
}

/* Long fields are hashed by length and both 8 KiB ends: the middle of a
 * 1 MB prompt does not count, its start, end and length do. */
static void test_digest_long_fields(void **state)
{
    size_t n = 1u << 20;
    char *p = malloc(n + 1);
    char *q = malloc(n + 1);
    unsigned char a[32], b[32];
    gw_str_t pv = {p, n};
    gw_str_t qv = {q, n};

    (void)state;
    assert_non_null(p);
    assert_non_null(q);
    memset(p, 'a', n);
    memcpy(q, p, n);
    q[n / 2] = 'b';
    gw_sticky_digest(GW_STR("k"), GW_STR(""), pv, a);
    gw_sticky_digest(GW_STR("k"), GW_STR(""), qv, b);
    assert_memory_equal(a, b, 32);
    q[n / 2] = 'a';
    q[100] = 'b';
    gw_sticky_digest(GW_STR("k"), GW_STR(""), qv, b);
    assert_memory_not_equal(a, b, 32);
    q[100] = 'a';
    q[n - 100] = 'b';
    gw_sticky_digest(GW_STR("k"), GW_STR(""), qv, b);
    assert_memory_not_equal(a, b, 32);
    q[n - 100] = 'a';
    qv.len = n - 1;
    gw_sticky_digest(GW_STR("k"), GW_STR(""), qv, b);
    assert_memory_not_equal(a, b, 32);
    /* At 16 KiB and below every byte counts. */
    pv.len = qv.len = 16 * 1024;
    q[8 * 1024] = 'b';
    gw_sticky_digest(GW_STR("k"), GW_STR(""), pv, a);
    gw_sticky_digest(GW_STR("k"), GW_STR(""), qv, b);
    assert_memory_not_equal(a, b, 32);
    free(p);
    free(q);
}

static void digest_n(int n, unsigned char d[32])
{
    char buf[32];

    snprintf(buf, sizeof(buf), "conversation-%d", n);
    gw_sticky_digest(GW_STR("client"), GW_STR("sys"), gw_str_c(buf), d);
}

static void test_ttl_and_refresh(void **state)
{
    gw_sticky_t *s = gw_sticky_new(8);
    unsigned char d[32], e[32];

    (void)state;
    digest_n(1, d);
    digest_n(2, e);
    assert_int_equal(gw_sticky_get(s, d, T0), -1);
    gw_sticky_put(s, d, 42, T0);
    assert_int_equal(gw_sticky_get(s, d, T0), 42);
    assert_int_equal(gw_sticky_get(s, e, T0), -1);
    assert_int_equal(gw_sticky_get(s, d, T0 + GW_STICKY_TTL_MS - 1), 42);
    assert_int_equal(gw_sticky_get(s, d, T0 + GW_STICKY_TTL_MS), -1);
    /* Gone for good once expired. */
    assert_int_equal(gw_sticky_get(s, d, T0), -1);
    /* A put refreshes the deadline and may change the model. */
    gw_sticky_put(s, d, 1, T0);
    gw_sticky_put(s, d, 2, T0 + 20 * MIN_MS);
    assert_int_equal(gw_sticky_get(s, d, T0 + 45 * MIN_MS), 2);
    assert_int_equal(gw_sticky_get(s, d, T0 + 50 * MIN_MS), -1);
    gw_sticky_free(s);
}

static void test_eviction(void **state)
{
    gw_sticky_t *s = gw_sticky_new(3);
    unsigned char d[6][32];

    (void)state;
    for (int i = 0; i < 6; i++)
        digest_n(i, d[i]);
    gw_sticky_put(s, d[0], 0, T0);
    gw_sticky_put(s, d[1], 1, T0 + 1);
    gw_sticky_put(s, d[2], 2, T0 + 2);
    gw_sticky_put(s, d[3], 3, T0 + 3); /* full: 0 goes */
    assert_int_equal(gw_sticky_get(s, d[0], T0 + 4), -1);
    assert_int_equal(gw_sticky_get(s, d[1], T0 + 4), 1);
    /* Refreshing 1 makes 2 the oldest. */
    gw_sticky_put(s, d[1], 1, T0 + 5);
    gw_sticky_put(s, d[4], 4, T0 + 6);
    assert_int_equal(gw_sticky_get(s, d[2], T0 + 7), -1);
    assert_int_equal(gw_sticky_get(s, d[1], T0 + 7), 1);
    assert_int_equal(gw_sticky_get(s, d[3], T0 + 7), 3);
    assert_int_equal(gw_sticky_get(s, d[4], T0 + 7), 4);
    /* Later, expired entries make room before anything live is evicted. */
    gw_sticky_put(s, d[5], 5, T0 + GW_STICKY_TTL_MS + 6);
    assert_int_equal(gw_sticky_get(s, d[5], T0 + GW_STICKY_TTL_MS + 6), 5);
    assert_int_equal(gw_sticky_get(s, d[3], T0 + GW_STICKY_TTL_MS + 6), -1);
    gw_sticky_free(s);
}

/* Reference: an array kept in put order. */
typedef struct ref {
    int key[16];
    int model[16];
    int64_t exp[16];
    int n;
} ref_t;

static void ref_remove(ref_t *r, int i)
{
    memmove(&r->key[i], &r->key[i + 1], (size_t)(r->n - i - 1) * sizeof(int));
    memmove(&r->model[i], &r->model[i + 1], (size_t)(r->n - i - 1) * sizeof(int));
    memmove(&r->exp[i], &r->exp[i + 1], (size_t)(r->n - i - 1) * sizeof(int64_t));
    r->n--;
}

static int ref_find(const ref_t *r, int key)
{
    for (int i = 0; i < r->n; i++)
        if (r->key[i] == key)
            return i;
    return -1;
}

static int ref_get(ref_t *r, int key, int64_t now)
{
    int i = ref_find(r, key);

    if (i < 0)
        return -1;
    if (r->exp[i] <= now) {
        ref_remove(r, i);
        return -1;
    }
    return r->model[i];
}

static void ref_put(ref_t *r, int key, int model, int64_t now, int cap)
{
    int i = ref_find(r, key);

    if (i >= 0)
        ref_remove(r, i);
    else {
        while (r->n > 0 && r->exp[0] <= now)
            ref_remove(r, 0);
        if (r->n == cap)
            ref_remove(r, 0);
    }
    r->key[r->n] = key;
    r->model[r->n] = model;
    r->exp[r->n] = now + GW_STICKY_TTL_MS;
    r->n++;
}

static void test_against_reference(void **state)
{
    const int cap = 12;
    gw_sticky_t *s = gw_sticky_new((size_t)cap);
    unsigned char d[40][32];
    ref_t r;
    uint64_t seed = 7;
    int64_t now = T0;

    (void)state;
    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 40; i++)
        digest_n(i, d[i]);
    for (int step = 0; step < 20000; step++) {
        int key, model;

        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        key = (int)((seed >> 33) % 40);
        model = (int)((seed >> 20) % 100);
        now += (int64_t)((seed >> 40) % (3 * MIN_MS));
        if ((seed >> 60) & 1) {
            gw_sticky_put(s, d[key], model, now);
            ref_put(&r, key, model, now, cap);
        } else {
            assert_int_equal(gw_sticky_get(s, d[key], now), ref_get(&r, key, now));
        }
    }
    gw_sticky_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_digest_long_fields),
        cmocka_unit_test(test_ttl_and_refresh),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_against_reference),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
