/* Dashboard sessions: tokens, the idle expiry and its refresh, logout, the
 * end of every session on a PIN change, a full table, and the cookie parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "admin/session_table.h"

#define T0 ((int64_t)1800000000000)

static void test_open_and_idle_expiry(void **state)
{
    gw_session_table_t t;
    char a[GW_SESSION_TOKEN_LEN + 1], b[GW_SESSION_TOKEN_LEN + 1];

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_true(gw_session_open(&t, T0, a));
    assert_true(gw_session_open(&t, T0, b));
    assert_int_equal(strlen(a), GW_SESSION_TOKEN_LEN);
    assert_string_not_equal(a, b);
    /* Only a hash is kept: the token's bytes are nowhere in the table. */
    assert_null(memmem(&t, sizeof(t), a, 16));
    assert_true(gw_session_touch(&t, a, T0 + 1000));
    assert_false(gw_session_touch(&t, "0000000000000000000000000000000000000000000000000000000000000000", T0));
    assert_false(gw_session_touch(&t, "short", T0));
    assert_false(gw_session_touch(&t, NULL, T0));
    /* Used within the idle time: kept; b unused for longer: gone. */
    assert_true(gw_session_touch(&t, a, T0 + GW_SESSION_IDLE_MS));
    assert_false(gw_session_touch(&t, b, T0 + GW_SESSION_IDLE_MS + 1));
    assert_true(gw_session_touch(&t, a, T0 + 2 * GW_SESSION_IDLE_MS));
    assert_false(gw_session_touch(&t, a, T0 + 3 * GW_SESSION_IDLE_MS + 1));
}

static void test_close_and_close_all(void **state)
{
    gw_session_table_t t;
    char a[GW_SESSION_TOKEN_LEN + 1], b[GW_SESSION_TOKEN_LEN + 1];

    (void)state;
    memset(&t, 0, sizeof(t));
    gw_session_open(&t, T0, a);
    gw_session_open(&t, T0, b);
    gw_session_close(&t, a, T0); /* logout ends this one only */
    assert_false(gw_session_touch(&t, a, T0));
    assert_true(gw_session_touch(&t, b, T0));
    gw_session_close(&t, a, T0); /* again: nothing */
    gw_session_open(&t, T0, a);
    gw_session_close_all(&t); /* a new PIN */
    assert_false(gw_session_touch(&t, a, T0));
    assert_false(gw_session_touch(&t, b, T0));
}

static void test_full_table_evicts_idle_longest(void **state)
{
    gw_session_table_t t;
    char tok[GW_SESSIONS_MAX + 1][GW_SESSION_TOKEN_LEN + 1];

    (void)state;
    memset(&t, 0, sizeof(t));
    for (int i = 0; i < GW_SESSIONS_MAX; i++)
        assert_true(gw_session_open(&t, T0 + i, tok[i]));
    assert_true(gw_session_touch(&t, tok[0], T0 + 100)); /* 0 is in use; 1 is idle longest */
    assert_true(gw_session_open(&t, T0 + 200, tok[GW_SESSIONS_MAX]));
    assert_false(gw_session_touch(&t, tok[1], T0 + 201));
    for (int i = 0; i <= GW_SESSIONS_MAX; i++)
        if (i != 1)
            assert_true(gw_session_touch(&t, tok[i], T0 + 201));
}

static void test_cookie(void **state)
{
    const char *tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char out[GW_SESSION_TOKEN_LEN + 1];
    char header[256];

    (void)state;
    snprintf(header, sizeof(header), "theme=dark; sid=%s; other=1", tok);
    assert_true(gw_session_cookie(header, "sid", out));
    assert_string_equal(out, tok);
    snprintf(header, sizeof(header), "sid=%s", tok);
    assert_true(gw_session_cookie(header, "sid", out));
    snprintf(header, sizeof(header), "xsid=%s", tok); /* a longer name is another cookie */
    assert_false(gw_session_cookie(header, "sid", out));
    assert_false(gw_session_cookie("sid=abc", "sid", out));
    assert_false(gw_session_cookie("sid=0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "sid", out));
    assert_false(gw_session_cookie("sid=../../0123456789abcdef0123456789abcdef0123456789abcdef01234567", "sid", out));
    assert_false(gw_session_cookie("", "sid", out));
    assert_false(gw_session_cookie(NULL, "sid", out));
    assert_false(gw_session_cookie(";;;", "sid", out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_idle_expiry),
        cmocka_unit_test(test_close_and_close_all),
        cmocka_unit_test(test_full_table_evicts_idle_longest),
        cmocka_unit_test(test_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
