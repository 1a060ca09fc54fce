/*
 * Unit tests for src/router/verdict.c: every class and key health has a
 * stable, unique name (they appear in logs, the request log and the error
 * corpus), and out-of-range values do not crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "router/verdict.h"

static void test_fail_names(void **state)
{
    static const char *const want[GW_FAIL__COUNT] = {
        "none",    "rate_limit_minute", "quota_period",   "quota_account",
        "payment", "auth",              "model_unavailable", "context_length",
        "server_error", "timeout",      "network",        "bad_request",
    };

    (void)state;
    for (int f = 0; f < GW_FAIL__COUNT; f++) {
        assert_non_null(gw_fail_name(f));
        assert_string_equal(gw_fail_name(f), want[f]);
        for (int g = 0; g < f; g++)
            assert_string_not_equal(gw_fail_name(f), gw_fail_name(g));
    }
    assert_string_equal(gw_fail_name(GW_FAIL__COUNT), "unknown");
    assert_string_equal(gw_fail_name((gw_fail_t)-1), "unknown");
}

static void test_health_names(void **state)
{
    (void)state;
    assert_string_equal(gw_key_health_name(GW_KEY_UNKNOWN), "unknown");
    assert_string_equal(gw_key_health_name(GW_KEY_HEALTHY), "healthy");
    assert_string_equal(gw_key_health_name(GW_KEY_RATE_LIMITED), "rate_limited");
    assert_string_equal(gw_key_health_name(GW_KEY_INVALID), "invalid");
    assert_string_equal(gw_key_health_name(GW_KEY_ERROR), "error");
    assert_string_equal(gw_key_health_name((gw_key_health_t)99), "unknown");
    assert_string_equal(gw_key_health_name((gw_key_health_t)-1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_names),
        cmocka_unit_test(test_health_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
