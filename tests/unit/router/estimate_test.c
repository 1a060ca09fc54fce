/*
 * Unit tests for src/router/estimate.c: the prior is our own count; a model
 * whose tokenizer is denser and whose chat template is longer is learned
 * from its reports, closely enough that a long prompt after short ones is
 * neither undercharged (the upstream would refuse it in a nearly full
 * window) nor charged much above what it counts; implausible reports are
 * ignored; weights and covariance stay bounded on traffic that never varies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "router/estimate.h"

/* A tokenizer of 3.4 bytes a token against our 4, 6 template tokens per
 * message, 3 for the reply, each message tokenized on its own. */
static int64_t upstream_count(const int64_t *bytes, int n)
{
    int64_t t = 3;

    for (int i = 0; i < n; i++)
        t += (int64_t)ceil((double)bytes[i] / 3.4) + 6;
    return t;
}

static int64_t our_count(const int64_t *bytes, int n)
{
    int64_t b = 0;

    for (int i = 0; i < n; i++)
        b += bytes[i];
    return gw_estimate_raw((b + 3) / 4, n);
}

static uint64_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A prompt of 1-10 messages; short (under 300 bytes) one time in four. */
static int prompt(uint64_t *s, int64_t *bytes)
{
    int n = 1 + (int)(rnd(s) % 10);
    bool short_one = rnd(s) % 4 == 0;

    for (int i = 0; i < n; i++)
        bytes[i] = short_one ? 20 + (int64_t)(rnd(s) % 30) : 200 + (int64_t)(rnd(s) % 2400);
    return n;
}

static void test_prior_is_our_count(void **state)
{
    gw_estimate_t e;

    (void)state;
    gw_estimate_init(&e);
    assert_int_equal(gw_estimate_raw(100, 3), 100 + 3 * GW_EST_MESSAGE_TOKENS + GW_EST_REPLY_TOKENS);
    assert_int_equal(gw_estimate_raw(100, 0), 100);
    assert_true(fabs(gw_estimate_mean(&e, 113, 3) - 113) < 1e-9);
    assert_true(fabs(gw_estimate_mean(&e, 500, 0) - 500) < 1e-9);
    /* Unlearned: the count plus two tokens for rounding. */
    assert_int_equal(gw_estimate_charge(&e, 113, 3), 115);
}

static void test_learns_tokenizer_and_template(void **state)
{
    gw_estimate_t e;
    uint64_t s = 7;
    int64_t bytes[10];
    int under = 0, far = 0, checked = 0;

    (void)state;
    gw_estimate_init(&e);
    for (int i = 0; i < 400; i++) {
        int n = prompt(&s, bytes);
        int64_t raw = our_count(bytes, n), truth = upstream_count(bytes, n);

        if (i >= 20) { /* after a few reports */
            int64_t charge = gw_estimate_charge(&e, raw, n);

            checked++;
            under += charge < truth;
            /* at most 12 tokens or 1.5 % above (each message's rounding
             * is noise the margin has to cover) */
            far += charge > truth + 12 && charge * 1000 > truth * 1015;
        }
        gw_estimate_learn(&e, raw, n, truth);
    }
    assert_int_equal(under, 0);
    assert_int_equal(far, 0);
    /* 4 / 3.4 tokens per text token, and the template's share found too. */
    assert_true(e.w[0] > 1.16 && e.w[0] < 1.19);
    assert_true(e.w[1] > 5 && e.w[1] < 8);
}

/* The failure of one ratio over the whole count: after a short prompt (mostly
 * template) it undercharged the next long one. */
static void test_long_after_short(void **state)
{
    gw_estimate_t e;
    int64_t longp[8] = {2400, 2400, 2400, 2400, 2400, 2400, 2400, 2400};
    int64_t shortp[1] = {20};

    (void)state;
    gw_estimate_init(&e);
    for (int i = 0; i < 30; i++) {
        gw_estimate_learn(&e, our_count(longp, 1 + i % 8), 1 + i % 8, upstream_count(longp, 1 + i % 8));
        gw_estimate_learn(&e, our_count(shortp, 1), 1, upstream_count(shortp, 1));
    }
    assert_true(gw_estimate_charge(&e, our_count(longp, 8), 8) >= upstream_count(longp, 8));
    assert_true(gw_estimate_charge(&e, our_count(longp, 8), 8) <= upstream_count(longp, 8) + 30);
}

static void test_ignores_implausible_reports(void **state)
{
    gw_estimate_t e;

    (void)state;
    gw_estimate_init(&e);
    gw_estimate_learn(&e, 1000, 2, 0);
    gw_estimate_learn(&e, 1000, 2, -5);
    gw_estimate_learn(&e, 1000, 2, 100000);
    gw_estimate_learn(&e, 1000, 2, 150);
    assert_int_equal(e.samples, 0);
    assert_true(fabs(gw_estimate_mean(&e, 1000, 2) - 1000) < 1e-9);
    gw_estimate_learn(&e, 1000, 2, 1200);
    assert_int_equal(e.samples, 1);
    assert_true(fabs(gw_estimate_mean(&e, 1000, 2) - 1200) < 1.0);
}

/* Every prompt one message of the same size: nothing tells the weights
 * apart, and the covariance must not grow without bound meanwhile. */
static void test_bounded_without_variety(void **state)
{
    gw_estimate_t e;

    (void)state;
    gw_estimate_init(&e);
    for (int i = 0; i < 100000; i++)
        gw_estimate_learn(&e, 505, 1, 600);
    for (int i = 0; i < 3; i++) {
        assert_true(isfinite(e.w[i]));
        assert_true(e.p[i][i] <= 100.0 + 1e-9);
    }
    assert_true(fabs(gw_estimate_mean(&e, 505, 1) - 600) < 0.5);
    /* Then the traffic changes: it follows. */
    for (int i = 0; i < 200; i++)
        gw_estimate_learn(&e, 2005, 1, 2400);
    assert_true(fabs(gw_estimate_mean(&e, 2005, 1) - 2400) < 2.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prior_is_our_count),
        cmocka_unit_test(test_learns_tokenizer_and_template),
        cmocka_unit_test(test_long_after_short),
        cmocka_unit_test(test_ignores_implausible_reports),
        cmocka_unit_test(test_bounded_without_variety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
