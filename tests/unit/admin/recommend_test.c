/*
 * Recommendation rules: an invalid key (and for how long), a provider failing
 * most attempts, a model whose daily cap runs out early most days; and what
 * must not trigger them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "admin/recommend.h"

#define DAY (24 * 3600 * INT64_C(1000))
#define NOW (INT64_C(1780000000000))

static gw_rec_input_t input(void)
{
    gw_rec_input_t in;

    memset(&in, 0, sizeof(in));
    in.window = "24h";
    return in;
}

static void test_invalid_key(void **state)
{
    gw_rec_key_t keys[] = {
        {1, "groq", "main", true, NOW - 3 * DAY - 5},
        {2, "groq", "spare", false, 0},
        {3, "mistral", "new", true, 0},
    };
    gw_rec_input_t in = input();
    gw_recommendation_t out[8];
    size_t n;

    (void)state;
    in.keys = keys;
    in.nkeys = 3;
    n = gw_recommend(&in, NOW, out, 8);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].severity, "high");
    assert_int_equal(out[0].key_id, 1);
    assert_non_null(strstr(out[0].title, "invalid for 3 days"));
    assert_non_null(strstr(out[0].action, "Replace it"));
    assert_string_equal(out[0].id, "key-invalid-1");
    assert_int_equal(out[1].key_id, 3);
    assert_non_null(strstr(out[1].title, "refused as invalid"));
    /* A full output array stops the rules, never overflows. */
    assert_int_equal(gw_recommend(&in, NOW, out, 1), 1);
}

static void test_failing_provider(void **state)
{
    gw_rec_provider_t provs[] = {
        {"sambanova", 40, 30, true},  /* 75 % of 40: disable it */
        {"groq", 100, 10, true},      /* fine */
        {"nvidia", 10, 10, true},     /* too few attempts to judge */
        {"cohere", 50, 50, false},    /* already switched off */
        {"mistral", 20, 10, true},    /* exactly half, enough attempts */
    };
    gw_rec_input_t in = input();
    gw_recommendation_t out[8];
    size_t n;

    (void)state;
    in.providers = provs;
    in.nproviders = 5;
    n = gw_recommend(&in, NOW, out, 8);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].provider, "sambanova");
    assert_non_null(strstr(out[0].title, "75% of 40 attempts in the last 24h"));
    assert_non_null(strstr(out[0].action, "Disable sambanova"));
    assert_string_equal(out[1].provider, "mistral");
}

static void test_capped_model(void **state)
{
    gw_rec_model_t models[] = {
        {"gemini", "gemini-2.5-pro", 7, 7, 7 * 11, 1},  /* every day by 11:00 */
        {"groq", "llama", 7, 6, 6 * 9, 2},              /* 6 of 7 days: most */
        {"cerebras", "qwen", 7, 3, 3 * 8, 1},           /* some days only */
        {"mistral", "large", 5, 5, 5 * 21, 1},          /* late in the day: fine */
        {"nvidia", "kimi", 1, 1, 10, 1},                /* one day is no pattern */
    };
    gw_rec_input_t in = input();
    gw_recommendation_t out[8];
    size_t n;

    (void)state;
    in.models = models;
    in.nmodels = 5;
    n = gw_recommend(&in, NOW, out, 8);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].model, "gemini-2.5-pro");
    assert_string_equal(out[0].severity, "medium");
    assert_non_null(strstr(out[0].title, "by about 11:00 UTC (7 of the last 7 days)"));
    assert_non_null(strstr(out[0].action, "Add another gemini key (1 serves it now)"));
    assert_string_equal(out[1].model, "llama");
    assert_non_null(strstr(out[1].action, "2 serve it"));
}

static void test_order_and_nothing(void **state)
{
    gw_rec_key_t keys[] = {{9, "groq", "k", true, 0}};
    gw_rec_provider_t provs[] = {{"sambanova", 40, 30, true}};
    gw_rec_model_t models[] = {{"gemini", "pro", 3, 3, 30, 1}};
    gw_rec_input_t in = input();
    gw_recommendation_t out[8];

    (void)state;
    assert_int_equal(gw_recommend(&in, NOW, out, 8), 0);
    in.keys = keys;
    in.nkeys = 1;
    in.providers = provs;
    in.nproviders = 1;
    in.models = models;
    in.nmodels = 1;
    assert_int_equal(gw_recommend(&in, NOW, out, 8), 3);
    /* The severe first: keys and failing providers, then caps. */
    assert_string_equal(out[0].severity, "high");
    assert_string_equal(out[1].severity, "high");
    assert_string_equal(out[2].severity, "medium");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_key),
        cmocka_unit_test(test_failing_provider),
        cmocka_unit_test(test_capped_model),
        cmocka_unit_test(test_order_and_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
