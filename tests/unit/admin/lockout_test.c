/* Wrong-PIN accounting: the free tries, the doubling wait, the right PIN
 * forgetting the count, the global cap, the record surviving a round trip
 * through its stored text, and the bounds on what is remembered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin/lockout.h"
#include "admin/pin.h"

#define T0 ((int64_t)1800000000000)

/* The record as the store would give it back. */
static json_t *reloaded(json_t *l)
{
    char *text = json_dumps(l, JSON_COMPACT);
    json_t *back = gw_lockout_parse(text);

    free(text);
    json_decref(l);
    return back;
}

static void test_free_tries_then_doubling_wait(void **state)
{
    json_t *l = gw_lockout_parse(NULL);
    const char *why;
    int left = -1;
    int64_t now = T0;

    (void)state;
    for (int i = 1; i < GW_PIN_FREE_TRIES; i++) {
        assert_int_equal(gw_lockout_until(l, "10.0.0.1", now, &why), 0);
        assert_int_equal(gw_lockout_failed(l, "10.0.0.1", now, &left), 0);
        assert_int_equal(left, GW_PIN_FREE_TRIES - i);
        now += 1000;
    }
    /* The fifth wrong PIN starts a 30 s wait, kept across a restart. */
    assert_int_equal(gw_lockout_failed(l, "10.0.0.1", now, &left), now + 30000);
    assert_int_equal(left, 0);
    l = reloaded(l);
    assert_int_equal(gw_lockout_until(l, "10.0.0.1", now + 29999, &why), now + 30000);
    assert_string_equal(why, "Too many wrong PINs.");
    /* Other addresses are not held by it. */
    assert_int_equal(gw_lockout_until(l, "10.0.0.2", now, &why), 0);
    /* After the wait, one more try; wrong again: 60 s. */
    now += 30000;
    assert_int_equal(gw_lockout_until(l, "10.0.0.1", now, &why), 0);
    assert_int_equal(gw_lockout_failed(l, "10.0.0.1", now, &left), now + 60000);
    /* The right PIN forgets the count. */
    assert_true(gw_lockout_passed(l, "10.0.0.1"));
    assert_false(gw_lockout_passed(l, "10.0.0.1"));
    assert_int_equal(gw_lockout_until(l, "10.0.0.1", now, &why), 0);
    assert_int_equal(gw_lockout_failed(l, "10.0.0.1", now, &left), 0);
    assert_int_equal(left, GW_PIN_FREE_TRIES - 1);
    json_decref(l);
}

static void test_global_cap(void **state)
{
    json_t *l = gw_lockout_parse("{\"addrs\":{},\"recent\":[]}");
    const char *why;
    int left;
    char addr[32];

    (void)state;
    /* Many addresses, a few wrong PINs each: every address waits once the
     * window holds GW_LOCKOUT_GLOBAL_MAX of them. */
    for (int i = 0; i < GW_LOCKOUT_GLOBAL_MAX; i++) {
        snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 2, i % 2);
        assert_int_equal(gw_lockout_until(l, addr, T0 + i, &why), 0);
        gw_lockout_failed(l, addr, T0 + i, &left);
    }
    l = reloaded(l);
    assert_int_equal(gw_lockout_until(l, "192.0.2.9", T0 + 100, &why),
                     T0 + GW_LOCKOUT_GLOBAL_WINDOW_MS);
    assert_string_equal(why, "Too many wrong PINs from everywhere.");
    /* The window slides: the oldest wrong PIN leaving it frees one try. */
    assert_int_equal(gw_lockout_until(l, "192.0.2.9", T0 + GW_LOCKOUT_GLOBAL_WINDOW_MS, &why),
                     0);
    json_decref(l);
}

static void test_bad_stored_text_starts_fresh(void **state)
{
    const char *bad[] = {"", "null", "[]", "{\"addrs\":[],\"recent\":[]}", "{\"addrs\":{}}",
                         "{not json"};
    const char *why;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *l = gw_lockout_parse(bad[i]);
        int left;

        assert_int_equal(gw_lockout_until(l, "10.0.0.1", T0, &why), 0);
        gw_lockout_failed(l, "10.0.0.1", T0, &left);
        assert_int_equal(left, GW_PIN_FREE_TRIES - 1);
        json_decref(l);
    }
}

static void test_bounded_memory(void **state)
{
    json_t *l = gw_lockout_parse(NULL);
    char addr[48];
    int left;

    (void)state;
    /* An address quiet for a day is forgotten when a new one arrives. */
    gw_lockout_failed(l, "10.9.9.9", T0, &left);
    gw_lockout_failed(l, "10.9.9.8", T0 + GW_LOCKOUT_FORGET_MS + 1, &left);
    assert_null(json_object_get(json_object_get(l, "addrs"), "10.9.9.9"));
    /* However many addresses try, at most GW_LOCKOUT_ADDRS_MAX are kept, and
     * the newest of them are. */
    for (int i = 0; i < 3 * GW_LOCKOUT_ADDRS_MAX; i++) {
        snprintf(addr, sizeof(addr), "2001:db8::%x", i);
        gw_lockout_failed(l, addr, T0 + GW_LOCKOUT_FORGET_MS + 2 + i, &left);
    }
    assert_true(json_object_size(json_object_get(l, "addrs")) <= GW_LOCKOUT_ADDRS_MAX);
    snprintf(addr, sizeof(addr), "2001:db8::%x", 3 * GW_LOCKOUT_ADDRS_MAX - 1);
    assert_non_null(json_object_get(json_object_get(l, "addrs"), addr));
    assert_null(json_object_get(json_object_get(l, "addrs"), "2001:db8::0"));
    json_decref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_tries_then_doubling_wait),
        cmocka_unit_test(test_global_cap),
        cmocka_unit_test(test_bad_stored_text_starts_fresh),
        cmocka_unit_test(test_bounded_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
