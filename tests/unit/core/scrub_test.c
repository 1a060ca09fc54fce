/* Secret scrubbing: altered echoes of a key (case, separators, truncation)
 * are masked; ordinary text is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/scrub.h"

static const char *const SECRET = "gsk_Q7xA9mZ2LpT4vB8nR1cK";

typedef struct row {
    const char *in;
    const char *out;
} row_t;

static void check(const char *secret, const row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", rows[i].in);
        gw_scrub_secret(buf, strlen(buf), secret);
        if (strcmp(buf, rows[i].out) != 0)
            fail_msg("row %zu: \"%s\" gave \"%s\", want \"%s\"", i, rows[i].in, buf, rows[i].out);
    }
}

static void test_altered_echoes(void **state)
{
    static const row_t rows[] = {
        /* verbatim */
        {"Invalid API Key: gsk_Q7xA9mZ2LpT4vB8nR1cK.", "Invalid API Key: ************************."},
        /* lower-cased, upper-cased */
        {"key gsk_q7xa9mz2lpt4vb8nr1ck bad", "key ************************ bad"},
        {"KEY=GSK_Q7XA9MZ2LPT4VB8NR1CK", "KEY=************************"},
        /* split by '/', spaces, dashes */
        {"path /v1/Q7xA9mZ2/LpT4vB8n/R1cK/x", "path /v1/**********************/x"},
        {"Q7xA 9mZ2 LpT4", "**************"},
        {"q7-xa-9m-z2", "***********"},
        /* a truncated echo of 8 characters, at either end or the middle */
        {"ends with ...nR1cK and gsk_Q7xA9", "ends with ...nR1cK and *********"},
        {"mid 9mZ2LpT4 mid", "mid ******** mid"},
        /* 7 characters is not enough */
        {"short 9mZ2LpT here", "short 9mZ2LpT here"},
        /* ordinary text and other keys */
        {"Rate limit reached for model llama-3.3-70b", "Rate limit reached for model llama-3.3-70b"},
        {"gsk_ZZZZZZZZZZZZ", "gsk_ZZZZZZZZZZZZ"},
        {"", ""},
    };
    (void)state;
    check(SECRET, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_short_and_odd_secrets(void **state)
{
    static const row_t shortrows[] = {
        {"token AbC12 echoed abc12", "token ***** echoed *****"},
        {"token AbC1", "token AbC1"},
    };
    char buf[64] = "no secret at all";
    (void)state;
    check("AbC12", shortrows, 2);
    /* fewer than 4 letters and digits: nothing can be matched safely */
    assert_int_equal(gw_scrub_secret(buf, strlen(buf), "a-b-c"), 0);
    assert_int_equal(gw_scrub_secret(buf, strlen(buf), NULL), 0);
    assert_string_equal(buf, "no secret at all");
}

static void test_counts_and_long_text(void **state)
{
    char big[20000];
    (void)state;
    memset(big, 'x', sizeof(big));
    memcpy(big + 100, SECRET, strlen(SECRET));
    memcpy(big + 15000, "q7xa9mz2", 8);
    assert_int_equal(gw_scrub_secret(big, sizeof(big), SECRET), 2);
    for (size_t i = 100; i < 100 + strlen(SECRET); i++)
        assert_int_equal(big[i], '*');
    assert_int_equal(memcmp(big + 15000, "********", 8), 0);
    assert_int_equal(big[99], 'x');
    assert_int_equal(big[15008], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_altered_echoes),
        cmocka_unit_test(test_short_and_odd_secrets),
        cmocka_unit_test(test_counts_and_long_text),
    };
    return cmocka_run_group_tests_name("core/scrub", tests, NULL, NULL);
}
