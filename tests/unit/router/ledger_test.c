/*
 * Unit tests for src/router/ledger.c on a hand-built catalog: sliding-minute
 * RPM/TPM (including a randomized check that no 60 s window ever passes the
 * cap), period RPD/TPD reset at the provider boundary, provider-wide caps,
 * token corrections, and persistence through foreach/restore.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/ledger.h"
#include "router/reset.h"

#define T0 INT64_C(1781524800000) /* 2026-06-15T12:00:00Z */
#define SEC INT64_C(1000)
/* How long a call sent on a whole second stays in the minute window: the
 * upstream may count it up to 250 ms after we send it, then for 60 s, and the
 * ledger's quarter-second buckets round that to the quarter's end. */
#define HOLD (60 * SEC + 500)

typedef struct fixture {
    gw_catalog_t cat;
    gw_provider_t prov[2];
    gw_model_t model[3];
    gw_model_t *pmodels0[2];
    gw_model_t *pmodels1[1];
    gw_ledger_t *l;
} fixture_t;

/* provider 0 "acme" (UTC) with models m1, m2; provider 1 "gem" (Pacific) with m3. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    f->prov[0].id = (char *)"acme";
    f->prov[0].reset = GW_RESET_UTC;
    f->prov[0].index = 0;
    f->prov[1].id = (char *)"gem";
    f->prov[1].reset = GW_RESET_PACIFIC;
    f->prov[1].index = 1;
    f->model[0].id = (char *)"m1";
    f->model[0].provider = &f->prov[0];
    f->model[1].id = (char *)"m2";
    f->model[1].provider = &f->prov[0];
    f->model[2].id = (char *)"m3";
    f->model[2].provider = &f->prov[1];
    for (int i = 0; i < 3; i++)
        f->model[i].index = i;
    f->pmodels0[0] = &f->model[0];
    f->pmodels0[1] = &f->model[1];
    f->pmodels1[0] = &f->model[2];
    f->prov[0].models = f->pmodels0;
    f->prov[0].nmodels = 2;
    f->prov[1].models = f->pmodels1;
    f->prov[1].nmodels = 1;
    f->cat.providers = f->prov;
    f->cat.nproviders = 2;
    f->cat.models = f->model;
    f->cat.nmodels = 3;
    f->l = gw_ledger_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_ledger_free(f->l);
    free(f);
    return 0;
}

static void test_rpm_window(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    int64_t retry = -1;

    m->limits.rpm = 3;
    assert_true(gw_ledger_allows(f->l, m, 1, 0, T0, &retry));
    assert_int_equal(retry, 0);
    gw_ledger_charge(f->l, m, 1, 0, T0);
    gw_ledger_charge(f->l, m, 1, 0, T0 + 10 * SEC);
    gw_ledger_charge(f->l, m, 1, 0, T0 + 20 * SEC + 999);
    assert_false(gw_ledger_allows(f->l, m, 1, 0, T0 + 30 * SEC, &retry));
    /* The oldest request (sent at T0) stops counting at T0 + HOLD. */
    assert_int_equal(retry, T0 + HOLD);
    assert_false(gw_ledger_allows(f->l, m, 1, 0, retry - 1, NULL));
    assert_true(gw_ledger_allows(f->l, m, 1, 0, retry, NULL));
    /* Another key is not affected. */
    assert_true(gw_ledger_allows(f->l, m, 2, 0, T0 + 30 * SEC, NULL));
}

/* Requests admitted by allows() never exceed the cap in any 60 s window
 * measured at millisecond precision, even by an upstream that counts each
 * call up to 250 ms after it was sent (the earlier ones late, the new one at
 * once: the worst case). */
static void test_rpm_never_exceeded(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    int64_t times[4000];
    int n = 0;
    int64_t t = T0;
    uint64_t seed = 99;

    m->limits.rpm = 5;
    while (n < (int)GW_ARRAY_LEN(times) && t < T0 + 3600 * SEC) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        t += (int64_t)((seed >> 33) % 3000);
        if (gw_ledger_allows(f->l, m, 7, 0, t, NULL)) {
            gw_ledger_charge(f->l, m, 7, 0, t);
            times[n++] = t;
        }
    }
    for (int i = 0; i < n; i++) {
        int in = 0;

        for (int j = 0; j <= i; j++)
            if (times[j] + 250 > times[i] - 60 * SEC)
                in++;
        assert_true(in <= 5);
    }
    /* ...and the limiter is not uselessly strict: close to 5 per 61 s. */
    assert_true(n >= 5 * 59 * 90 / 100);
}

static void test_tpm(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    int64_t retry = 0;
    gw_usage_t u;

    m->limits.tpm = 1000;
    /* A request bigger than the whole cap never fits, even on an empty window. */
    assert_false(gw_ledger_allows(f->l, m, 1, 5000, T0, &retry));
    assert_int_equal(retry, 0);
    gw_ledger_charge(f->l, m, 1, 600, T0);
    gw_ledger_charge(f->l, m, 1, 200, T0 + 5 * SEC);
    assert_true(gw_ledger_allows(f->l, m, 1, 200, T0 + 6 * SEC, NULL));
    assert_false(gw_ledger_allows(f->l, m, 1, 300, T0 + 6 * SEC, &retry));
    /* Freeing the 600 at T0 is enough for 300 more. */
    assert_int_equal(retry, T0 + HOLD);
    /* 900 needs everything gone: the 200 leaves at T0 + 66 s. */
    assert_false(gw_ledger_allows(f->l, m, 1, 900, T0 + 6 * SEC, &retry));
    assert_int_equal(retry, T0 + 5 * SEC + HOLD);
    /* The whole cap waits for an empty window, then runs. */
    assert_false(gw_ledger_allows(f->l, m, 1, 1000, T0 + 6 * SEC, &retry));
    assert_int_equal(retry, T0 + 5 * SEC + HOLD);
    assert_true(gw_ledger_allows(f->l, m, 1, 1000, T0 + 5 * SEC + HOLD, NULL));
    gw_ledger_usage(f->l, m, 1, T0 + 6 * SEC, &u);
    assert_int_equal(u.rpm, 2);
    assert_int_equal(u.tpm, 800);
    assert_int_equal(u.tpd, 800);
}

static void test_period_reset(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    int64_t midnight = T0 + 12 * 3600 * SEC; /* 2026-06-16T00:00Z */
    int64_t retry = 0;
    gw_usage_t u;

    m->limits.rpd = 2;
    m->limits.tpd = 10000;
    gw_ledger_charge(f->l, m, 1, 100, T0);
    gw_ledger_charge(f->l, m, 1, 100, T0 + 3600 * SEC);
    assert_false(gw_ledger_allows(f->l, m, 1, 0, T0 + 7200 * SEC, &retry));
    assert_int_equal(retry, midnight);
    assert_false(gw_ledger_allows(f->l, m, 1, 0, midnight - 1, NULL));
    assert_true(gw_ledger_allows(f->l, m, 1, 0, midnight, NULL));
    gw_ledger_usage(f->l, m, 1, midnight, &u);
    assert_int_equal(u.rpd, 0);
    assert_int_equal(u.period_start_ms, midnight);

    /* TPD with the same "used > 0" rule as TPM. */
    m->limits.rpd = 0;
    gw_ledger_charge(f->l, m, 1, 9000, midnight + SEC);
    assert_true(gw_ledger_allows(f->l, m, 1, 1000, midnight + 2 * SEC, NULL));
    assert_false(gw_ledger_allows(f->l, m, 1, 1001, midnight + 2 * SEC, &retry));
    assert_int_equal(retry, midnight + 24 * 3600 * SEC);
}

static void test_pacific_period(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[2];
    int64_t local_midnight = T0 + 19 * 3600 * SEC; /* 2026-06-16T07:00Z = 00:00 PDT */
    int64_t retry = 0;
    gw_usage_t u;

    m->limits.rpd = 1;
    gw_ledger_charge(f->l, m, 1, 0, T0);
    gw_ledger_usage(f->l, m, 1, T0, &u);
    assert_int_equal(u.period_start_ms, T0 - 5 * 3600 * SEC); /* 07:00Z today */
    /* UTC midnight is not Google's boundary. */
    assert_false(gw_ledger_allows(f->l, m, 1, 0, T0 + 13 * 3600 * SEC, &retry));
    assert_int_equal(retry, local_midnight);
    assert_true(gw_ledger_allows(f->l, m, 1, 0, local_midnight, NULL));
}

static void test_provider_wide(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m1 = &f->model[0];
    gw_model_t *m2 = &f->model[1];
    int64_t retry = 0;
    gw_usage_t u;

    f->prov[0].limits.rpm = 2;
    f->prov[0].limits.rpd = 3;
    gw_ledger_charge(f->l, m1, 5, 10, T0);
    gw_ledger_charge(f->l, m2, 5, 10, T0 + 1 * SEC);
    /* Both models share the account's minute. */
    assert_false(gw_ledger_allows(f->l, m1, 5, 0, T0 + 2 * SEC, &retry));
    assert_int_equal(retry, T0 + HOLD);
    assert_false(gw_ledger_allows(f->l, m2, 5, 0, T0 + 2 * SEC, NULL));
    assert_true(gw_ledger_allows(f->l, m1, 6, 0, T0 + 2 * SEC, NULL));
    gw_ledger_usage_provider(f->l, &f->prov[0], 5, T0 + 2 * SEC, &u);
    assert_int_equal(u.rpm, 2);
    assert_int_equal(u.rpd, 2);
    assert_int_equal(u.tpm, 20);
    gw_ledger_usage(f->l, m1, 5, T0 + 2 * SEC, &u);
    assert_int_equal(u.rpm, 1);
    /* Third today fits the minute later, the fourth hits the daily cap; both
     * reasons block at once and retry_at is the later one. */
    gw_ledger_charge(f->l, m2, 5, 10, T0 + 70 * SEC);
    gw_ledger_charge(f->l, m1, 5, 10, T0 + 71 * SEC);
    assert_false(gw_ledger_allows(f->l, m1, 5, 0, T0 + 72 * SEC, &retry));
    assert_int_equal(retry, T0 + 12 * 3600 * SEC);
    f->prov[0].limits.rpm = 0;
    f->prov[0].limits.rpd = 0;
}

static void test_adjust(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_usage_t u;

    gw_ledger_charge(f->l, m, 1, 100, T0);
    gw_ledger_adjust(f->l, m, 1, 400, T0, T0 + 5 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 5 * SEC, &u);
    assert_int_equal(u.tpm, 500);
    assert_int_equal(u.tpd, 500);
    gw_ledger_adjust(f->l, m, 1, -450, T0, T0 + 6 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 6 * SEC, &u);
    assert_int_equal(u.tpm, 50);
    gw_ledger_adjust(f->l, m, 1, -1000, T0, T0 + 7 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 7 * SEC, &u);
    assert_int_equal(u.tpm, 0);
    assert_int_equal(u.tpd, 0);
    /* The provider-wide entry is corrected too. */
    gw_ledger_usage_provider(f->l, &f->prov[0], 1, T0 + 7 * SEC, &u);
    assert_int_equal(u.tpm, 0);
    /* A long request: its bucket aged out; more tokens land in the current second. */
    gw_ledger_charge(f->l, m, 1, 100, T0 + 10 * SEC);
    gw_ledger_adjust(f->l, m, 1, 300, T0 + 10 * SEC, T0 + 100 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 100 * SEC, &u);
    assert_int_equal(u.tpm, 300);
    assert_int_equal(u.tpd, 400);
    gw_ledger_adjust(f->l, m, 1, -50, T0 + 10 * SEC, T0 + 200 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 200 * SEC, &u);
    assert_int_equal(u.tpm, 0);
    assert_int_equal(u.tpd, 350);
    /* A correction for yesterday's request does not touch today's count. */
    gw_ledger_adjust(f->l, m, 1, 1000, T0 - 24 * 3600 * SEC, T0 + 300 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 300 * SEC, &u);
    assert_int_equal(u.tpd, 350);
    /* No entry: nothing happens. */
    gw_ledger_adjust(f->l, m, 99, 1000, T0, T0);
    gw_ledger_usage(f->l, m, 99, T0, &u);
    assert_int_equal(u.tpd, 0);
}

typedef struct rows {
    int n;
    char provider[8][16];
    char model[8][16];
    int64_t key[8], start[8], req[8], tok[8];
} rows_t;

static void collect(void *ctx, const char *provider_id, const char *model_id, int64_t key_id,
                    int64_t period_start_ms, int64_t requests, int64_t tokens)
{
    rows_t *r = ctx;

    assert_true(r->n < 8);
    snprintf(r->provider[r->n], sizeof(r->provider[0]), "%s", provider_id);
    snprintf(r->model[r->n], sizeof(r->model[0]), "%s", model_id);
    r->key[r->n] = key_id;
    r->start[r->n] = period_start_ms;
    r->req[r->n] = requests;
    r->tok[r->n] = tokens;
    r->n++;
}

static void test_foreach_restore(void **state)
{
    fixture_t *f = *state;
    rows_t rows;
    gw_ledger_t *l2 = gw_ledger_new();
    gw_usage_t u;
    int model_rows = 0;

    memset(&rows, 0, sizeof(rows));
    gw_ledger_charge(f->l, &f->model[0], 3, 100, T0);
    gw_ledger_charge(f->l, &f->model[0], 3, 50, T0 + SEC);
    gw_ledger_charge(f->l, &f->model[2], 4, 7, T0);
    gw_ledger_foreach(f->l, T0 + 2 * SEC, collect, &rows);
    assert_int_equal(rows.n, 4); /* two models + two provider-wide rows */
    for (int i = 0; i < rows.n; i++) {
        if (rows.model[i][0] != '\0')
            model_rows++;
        if (strcmp(rows.model[i], "m1") == 0) {
            assert_string_equal(rows.provider[i], "acme");
            assert_int_equal(rows.key[i], 3);
            assert_int_equal(rows.req[i], 2);
            assert_int_equal(rows.tok[i], 150);
            assert_int_equal(rows.start[i], T0 - 12 * 3600 * SEC);
        }
        gw_ledger_restore(l2, &f->cat, rows.provider[i], rows.model[i], rows.key[i],
                          rows.start[i], rows.req[i], rows.tok[i], T0 + 3 * SEC);
        /* Twice is the same as once. */
        gw_ledger_restore(l2, &f->cat, rows.provider[i], rows.model[i], rows.key[i],
                          rows.start[i], rows.req[i], rows.tok[i], T0 + 3 * SEC);
    }
    assert_int_equal(model_rows, 2);
    gw_ledger_usage(l2, &f->model[0], 3, T0 + 3 * SEC, &u);
    assert_int_equal(u.rpd, 2);
    assert_int_equal(u.tpd, 150);
    assert_int_equal(u.rpm, 0); /* minute windows are not persisted */
    gw_ledger_usage_provider(l2, &f->prov[1], 4, T0 + 3 * SEC, &u);
    assert_int_equal(u.rpd, 1);
    assert_int_equal(u.tpd, 7);
    /* Rows from an earlier period, or for things no longer in the catalog, are ignored. */
    gw_ledger_restore(l2, &f->cat, "acme", "m2", 3, T0 - 36 * 3600 * SEC, 9, 9, T0);
    gw_ledger_usage(l2, &f->model[1], 3, T0, &u);
    assert_int_equal(u.rpd, 0);
    gw_ledger_restore(l2, &f->cat, "acme", "gone", 3, T0 - 12 * 3600 * SEC, 9, 9, T0);
    gw_ledger_restore(l2, &f->cat, "nobody", "", 3, T0 - 12 * 3600 * SEC, 9, 9, T0);
    gw_ledger_restore(l2, &f->cat, "gem", "m1", 3, T0 - 5 * 3600 * SEC, 9, 9, T0);
    memset(&rows, 0, sizeof(rows));
    gw_ledger_foreach(l2, T0 + 3 * SEC, collect, &rows);
    assert_int_equal(rows.n, 4);
    /* After the period ends nothing is left to persist. */
    memset(&rows, 0, sizeof(rows));
    gw_ledger_foreach(l2, T0 + 20 * 3600 * SEC, collect, &rows);
    assert_int_equal(rows.n, 0);
    gw_ledger_free(l2);
}

/* Many keys: the table grows and every entry stays reachable. */
static void test_many_keys(void **state)
{
    fixture_t *f = *state;
    gw_usage_t u;

    for (int64_t k = 1; k <= 2000; k++)
        for (int64_t i = 0; i < k % 3 + 1; i++)
            gw_ledger_charge(f->l, &f->model[(size_t)(k % 3)], k, k, T0);
    for (int64_t k = 1; k <= 2000; k++) {
        gw_ledger_usage(f->l, &f->model[(size_t)(k % 3)], k, T0, &u);
        assert_int_equal(u.rpm, k % 3 + 1);
        assert_int_equal(u.tpd, k * (k % 3 + 1));
    }
}


/* ---- what routing quality needs (issue: refusals, 413s, the upstream's word) ---- */

static gw_fit_t fit(fixture_t *f, gw_model_t *m, int64_t key, int64_t tokens, int64_t floor,
                    int64_t now, int64_t *retry)
{
    gw_cost_t c = {.tokens = tokens, .floor = floor};
    return gw_ledger_fit(f->l, m, key, &c, now, retry);
}

/* A call whose floor is above a whole token window never fits that pair; one
 * whose expected answer alone passes the cap still runs on an empty window. */
static void test_never_above_a_whole_window(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    int64_t retry = -1;

    m->limits.tpm = 1000;
    m->limits.tpd = 50000;
    assert_int_equal(fit(f, m, 1, 1300, 1200, T0, &retry), GW_FIT_NEVER);
    assert_int_equal(retry, 0);
    assert_int_equal(fit(f, m, 1, 1256, 1000, T0, NULL), GW_FIT_OK);
    gw_ledger_charge(f->l, m, 1, 500, T0);
    assert_int_equal(fit(f, m, 1, 1256, 1000, T0 + SEC, &retry), GW_FIT_LATER);
    assert_int_equal(retry, T0 + HOLD);
    assert_int_equal(fit(f, m, 1, 1256, 1000, T0 + HOLD, NULL), GW_FIT_OK);
    /* The daily token cap too. */
    m->limits.tpm = 0;
    assert_int_equal(fit(f, m, 1, 60000, 50000, T0 + 61 * SEC, NULL), GW_FIT_LATER);
    assert_int_equal(fit(f, m, 1, 60000, 50001, T0, NULL), GW_FIT_NEVER);
}

/* A refused call comes back whole: its request and its tokens. */
static void test_refund(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_usage_t u;

    m->limits.rpm = 2;
    m->limits.tpm = 1000;
    gw_ledger_charge(f->l, m, 1, 400, T0);
    gw_ledger_charge(f->l, m, 1, 400, T0 + 2 * SEC);
    assert_int_equal(fit(f, m, 1, 100, 100, T0 + 3 * SEC, NULL), GW_FIT_LATER);
    gw_ledger_refund(f->l, m, 1, 400, T0 + 2 * SEC, T0 + 3 * SEC);
    assert_int_equal(fit(f, m, 1, 100, 100, T0 + 3 * SEC, NULL), GW_FIT_OK);
    gw_ledger_usage(f->l, m, 1, T0 + 3 * SEC, &u);
    assert_int_equal(u.rpm, 1);
    assert_int_equal(u.tpm, 400);
    assert_int_equal(u.rpd, 1);
    assert_int_equal(u.tpd, 400);
    gw_ledger_usage_provider(f->l, m->provider, 1, T0 + 3 * SEC, &u);
    assert_int_equal(u.rpm, 1);
    /* A refund for a call whose second has aged out leaves the window alone. */
    gw_ledger_refund(f->l, m, 1, 400, T0, T0 + 70 * SEC);
    gw_ledger_usage(f->l, m, 1, T0 + 70 * SEC, &u);
    assert_int_equal(u.rpm, 0);
    assert_int_equal(u.rpd, 0);
}

/* The upstream's stated room replaces our count until its reset, less what
 * was charged after the call that carried it; a stated cap replaces the
 * catalog's, in either direction. */
static void test_upstream_word_wins(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_rl_seen_t seen;
    int64_t retry = 0;

    m->limits.tpm = 10000;
    gw_ledger_charge(f->l, m, 1, 300, T0);
    gw_rl_seen_init(&seen);
    seen.remaining[GW_WIN_TPM] = 500;
    seen.reset_ms[GW_WIN_TPM] = T0 + 10 * SEC;
    gw_ledger_observe(f->l, m, 1, &seen, T0, T0);
    /* The upstream counts 9,200 more than our 300: 500 left now... */
    assert_int_equal(fit(f, m, 1, 600, 600, T0, &retry), GW_FIT_LATER);
    assert_true(retry > T0 && retry <= T0 + 10 * SEC);
    assert_int_equal(fit(f, m, 1, 400, 400, T0, NULL), GW_FIT_OK);
    /* ...and it frees evenly until the stated reset (half of it by 5 s). */
    assert_int_equal(fit(f, m, 1, 600, 600, retry, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 1, 5000, 5000, T0 + 5 * SEC, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 1, 5300, 5300, T0 + 5 * SEC, NULL), GW_FIT_LATER);
    /* What we charge meanwhile counts on top. */
    gw_ledger_charge(f->l, m, 1, 400, T0 + 5 * SEC);
    assert_int_equal(fit(f, m, 1, 5000, 5000, T0 + 5 * SEC, NULL), GW_FIT_LATER);
    assert_int_equal(fit(f, m, 1, 4600, 4600, T0 + 5 * SEC, NULL), GW_FIT_OK);
    /* After the stated reset our own count rules again. */
    assert_int_equal(fit(f, m, 1, 9000, 9000, T0 + 10 * SEC, NULL), GW_FIT_OK);

    /* Room the catalog would not give: the upstream's requests per minute. */
    m->limits.rpm = 2;
    gw_rl_seen_init(&seen);
    seen.remaining[GW_WIN_RPM] = 5;
    seen.reset_ms[GW_WIN_RPM] = T0 + 30 * SEC;
    assert_int_equal(fit(f, m, 1, 10, 10, T0 + 11 * SEC, NULL), GW_FIT_LATER); /* 2 of 2 */
    gw_ledger_observe(f->l, m, 1, &seen, T0 + 2 * SEC, T0 + 11 * SEC);
    assert_int_equal(fit(f, m, 1, 10, 10, T0 + 11 * SEC, NULL), GW_FIT_OK);

    /* A stated cap below the catalog's: the larger calls never fit. */
    gw_rl_seen_init(&seen);
    seen.limit[GW_WIN_TPM] = 3000;
    gw_ledger_observe(f->l, m, 2, &seen, T0, T0);
    assert_int_equal(gw_ledger_cap(f->l, m, 2, GW_WIN_TPM), 3000);
    assert_int_equal(gw_ledger_cap(f->l, m, 1, GW_WIN_TPM), 10000);
    assert_int_equal(fit(f, m, 2, 4000, 4000, T0, NULL), GW_FIT_NEVER);
    assert_int_equal(fit(f, m, 2, 2900, 2900, T0, NULL), GW_FIT_OK);
}

/* On `key`: call B charged 3,000 at T0 (2,000 of prompt, 1,000 reserved),
 * call A 1,000 at T0 + 100; A's answer states `remaining` of the 10,000
 * TPM (`whole`: with A's whole answer, not a stream's start). */
static void two_calls_then_statement(fixture_t *f, gw_model_t *m, int64_t key, int64_t remaining,
                                     bool whole)
{
    gw_rl_seen_t seen;

    m->limits.tpm = 10000;
    gw_ledger_charge(f->l, m, key, 3000, T0);
    gw_ledger_charge(f->l, m, key, 1000, T0 + 100);
    gw_rl_seen_init(&seen);
    seen.remaining[GW_WIN_TPM] = remaining;
    seen.reset_ms[GW_WIN_TPM] = T0 + 60 * SEC;
    seen.done = whole;
    gw_ledger_observe(f->l, m, key, &seen, T0 + 100, T0 + 200);
}

/* A statement made while calls are in flight counts them as the upstream
 * reserved them (the prompt and max_tokens, as we charged them): when one
 * settles lower, both counts drop alike and the room grows. A call refused
 * was never in the upstream's count, and the call whose whole answer carried
 * the statement is in it as used: the room it states stays. */
static void test_statement_then_settle_or_refund(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];

    /* Key 1: both counted as we count them. */
    two_calls_then_statement(f, m, 1, 6000, false);
    assert_int_equal(fit(f, m, 1, 6000, 6000, T0 + 300, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 1, 6100, 6100, T0 + 300, NULL), GW_FIT_LATER);
    /* B used 2,100: 900 came back, upstream as here. */
    gw_ledger_adjust(f->l, m, 1, -900, T0, T0 + 300);
    assert_int_equal(fit(f, m, 1, 6900, 6900, T0 + 400, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 1, 7000, 7000, T0 + 400, NULL), GW_FIT_LATER);

    /* Key 2: A is refused (429) and its answer says 5,000 are left: the
     * upstream counts B and 2,000 of another client's, not A. */
    two_calls_then_statement(f, m, 2, 5000, true);
    gw_ledger_refund(f->l, m, 2, 1000, T0 + 100, T0 + 200);
    assert_int_equal(fit(f, m, 2, 5000, 5000, T0 + 300, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 2, 5100, 5100, T0 + 300, NULL), GW_FIT_LATER);

    /* Key 3: A's whole answer says 6,300 are left: the upstream has A as
     * used (700), B as reserved. A's settle then takes 300 off our count,
     * none off the upstream's. */
    two_calls_then_statement(f, m, 3, 6300, true);
    gw_ledger_adjust(f->l, m, 3, -300, T0 + 100, T0 + 200);
    assert_int_equal(fit(f, m, 3, 6300, 6300, T0 + 300, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 3, 6400, 6400, T0 + 300, NULL), GW_FIT_LATER);
}

/* A daily room stated by the upstream (a key also used elsewhere). */
static void test_upstream_daily_room(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_rl_seen_t seen;
    int64_t retry = 0;

    m->limits.rpd = 1000;
    gw_ledger_charge(f->l, m, 1, 10, T0);
    gw_rl_seen_init(&seen);
    seen.remaining[GW_WIN_RPD] = 2;
    gw_ledger_observe(f->l, m, 1, &seen, T0, T0 + SEC);
    assert_int_equal(fit(f, m, 1, 10, 10, T0 + 2 * SEC, NULL), GW_FIT_OK);
    gw_ledger_charge(f->l, m, 1, 10, T0 + 2 * SEC);
    gw_ledger_charge(f->l, m, 1, 10, T0 + 3 * SEC);
    assert_int_equal(fit(f, m, 1, 10, 10, T0 + 4 * SEC, &retry), GW_FIT_LATER);
    /* No reset stated: until the period turns (UTC midnight). */
    assert_int_equal(retry, gw_reset_next(GW_RESET_UTC, T0));
    /* A refund of a later call gives its room back. */
    gw_ledger_refund(f->l, m, 1, 10, T0 + 3 * SEC, T0 + 4 * SEC);
    assert_int_equal(fit(f, m, 1, 10, 10, T0 + 4 * SEC, NULL), GW_FIT_OK);
}

/* A 413 rules out calls that large or larger for an hour, not smaller ones. */
static void test_too_large_remembered(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];

    gw_ledger_too_large(f->l, m, 1, 5000, T0);
    assert_int_equal(fit(f, m, 1, 5000, 5000, T0 + SEC, NULL), GW_FIT_NEVER);
    assert_int_equal(fit(f, m, 1, 9000, 9000, T0 + SEC, NULL), GW_FIT_NEVER);
    assert_int_equal(fit(f, m, 1, 4999, 4999, T0 + SEC, NULL), GW_FIT_OK);
    assert_int_equal(fit(f, m, 2, 9000, 9000, T0 + SEC, NULL), GW_FIT_OK); /* another key */
    gw_ledger_too_large(f->l, m, 1, 4000, T0 + 2 * SEC);
    assert_int_equal(fit(f, m, 1, 4500, 4500, T0 + 3 * SEC, NULL), GW_FIT_NEVER);
    assert_int_equal(fit(f, m, 1, 9000, 9000, T0 + 3 * SEC + 3600 * SEC, NULL), GW_FIT_OK);
}

/* Pacing with an injected clock: half the daily cap at once, the other half
 * released evenly over the day. T0 is 12:00 UTC, half the period gone. */
static void test_pacing(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_cost_t c = {.tokens = 1, .floor = 1, .reserve = 0.5};
    int64_t day0 = gw_reset_period_start(GW_RESET_UTC, T0);
    int64_t retry = 0;
    int n = 0;

    m->limits.rpd = 100;
    /* At 00:00 only the unreserved half may go. */
    while (gw_ledger_fit(f->l, m, 1, &c, day0 + 1, &retry) == GW_FIT_OK && n < 200) {
        gw_ledger_charge(f->l, m, 1, 1, day0 + 1);
        n++;
    }
    assert_int_equal(n, 50);
    /* The 51st is allowed once 51 % is released: 2 % of the day past midnight. */
    assert_true(retry > day0 + 1);
    assert_true(retry <= day0 + 86400 * SEC * 2 / 100 + 1);
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, retry - 1000, NULL), GW_FIT_LATER);
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, retry, NULL), GW_FIT_OK);
    /* By noon 75 are released. */
    for (; n < 75; n++)
        gw_ledger_charge(f->l, m, 1, 1, T0);
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, T0, NULL), GW_FIT_LATER);
    /* Without pacing the rest of the day's cap is there. */
    c.reserve = 0;
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, T0, NULL), GW_FIT_OK);
    /* At the end of the day all of it. */
    c.reserve = 0.5;
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, day0 + 86400 * SEC - 1, NULL), GW_FIT_OK);
}

/* The pure arithmetic the ledger and the dashboard share, on an injected clock. */
static void test_paced_allowance(void **state)
{
    int64_t day0 = gw_reset_period_start(GW_RESET_UTC, T0);
    int64_t day1 = gw_reset_next(GW_RESET_UTC, T0);
    int64_t at;

    (void)state;
    assert_int_equal(day1 - day0, 86400 * SEC);
    /* Off, or no cap: the cap as it is. */
    assert_int_equal(gw_ledger_paced_allowance(100, 0, day0, day1, day0), 100);
    assert_int_equal(gw_ledger_paced_allowance(0, 0.5, day0, day1, T0), 0);
    /* 100 with half kept back: 50 at midnight, 75 at noon, 100 at the end. */
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, day0), 50);
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, T0), 75);
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, day1), 100);
    /* 0.62 of the day with a 0.9 reserve 4 requests: 0.4 + 3.6 * 0.62 = 2.63. */
    assert_int_equal(gw_ledger_paced_allowance(4, 0.9, day0, day1, day0 + 53568 * SEC), 2);
    /* The reserve is held to 0.95. */
    assert_int_equal(gw_ledger_paced_allowance(100, 1.0, day0, day1, day0), 5);
    /* Exact figures do not round down (62 of 100 at 24 % with 0.5). */
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, day0 + 86400 * SEC * 24 / 100),
                     62);

    /* Release times: the first millisecond the allowance reaches the amount. */
    assert_int_equal(gw_ledger_paced_release_at(100, 0.5, day0, day1, 50), day0);
    at = gw_ledger_paced_release_at(100, 0.5, day0, day1, 76);
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, at), 76);
    assert_int_equal(gw_ledger_paced_allowance(100, 0.5, day0, day1, at - 1), 75);
    assert_true(at > T0 && at < T0 + 30 * 60 * SEC);
    assert_int_equal(gw_ledger_paced_release_at(100, 0.5, day0, day1, 100), day1);
    assert_int_equal(gw_ledger_paced_release_at(100, 0, day0, day1, 100), day0);
    at = gw_ledger_paced_release_at(4, 0.9, day0, day1, 1);
    assert_int_equal(gw_ledger_paced_allowance(4, 0.9, day0, day1, at), 1);
    assert_int_equal(gw_ledger_paced_allowance(4, 0.9, day0, day1, at - 1), 0);
}

/* A pair nothing was charged to is paced too: early in the day a 0.9 reserve
 * of 4 requests releases none, so even the first call waits. */
static void test_pacing_first_call(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_cost_t c = {.tokens = 1, .floor = 1, .reserve = 0.9};
    int64_t day0 = gw_reset_period_start(GW_RESET_UTC, T0);
    int64_t day1 = gw_reset_next(GW_RESET_UTC, T0);
    int64_t retry = 0;

    m->limits.rpd = 4;
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, day0 + SEC, &retry), GW_FIT_LATER);
    assert_int_equal(retry, gw_ledger_paced_release_at(4, 0.9, day0, day1, 1));
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, retry, NULL), GW_FIT_OK);
    /* At noon 2 are released (0.4 + 1.8): exactly 2 go. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gw_ledger_fit(f->l, m, 2, &c, T0, NULL), GW_FIT_OK);
        gw_ledger_charge(f->l, m, 2, 1, T0);
    }
    assert_int_equal(gw_ledger_fit(f->l, m, 2, &c, T0, NULL), GW_FIT_LATER);
}

/* The upstream stating its room (Groq does on every answer) does not lift
 * pacing: spent is its count (cap less room) or ours, whichever is more. */
static void test_pacing_with_stated_room(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_cost_t c = {.tokens = 1, .floor = 1, .reserve = 0.5};
    gw_rl_seen_t seen;

    m->limits.rpd = 100; /* 75 released by noon */
    for (int i = 0; i < 75; i++)
        gw_ledger_charge(f->l, m, 1, 1, T0);
    gw_rl_seen_init(&seen);
    seen.limit[GW_WIN_RPD] = 100;
    seen.remaining[GW_WIN_RPD] = 90; /* the upstream counts fewer: ours wins */
    gw_ledger_observe(f->l, m, 1, &seen, T0, T0 + SEC);
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, T0 + SEC, NULL), GW_FIT_LATER);
    c.reserve = 0;
    assert_int_equal(gw_ledger_fit(f->l, m, 1, &c, T0 + SEC, NULL), GW_FIT_OK);
    /* Another key whose upstream says 30 are left of 100: 70 spent, 5 more may go. */
    c.reserve = 0.5;
    gw_ledger_charge(f->l, m, 2, 1, T0);
    seen.remaining[GW_WIN_RPD] = 30;
    gw_ledger_observe(f->l, m, 2, &seen, T0, T0 + SEC);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(gw_ledger_fit(f->l, m, 2, &c, T0 + SEC, NULL), GW_FIT_OK);
        gw_ledger_charge(f->l, m, 2, 1, T0 + SEC);
    }
    assert_int_equal(gw_ledger_fit(f->l, m, 2, &c, T0 + SEC, NULL), GW_FIT_LATER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rpm_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rpm_never_exceeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tpm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_period_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pacific_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_wide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adjust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_above_a_whole_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refund, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_word_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_then_settle_or_refund, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upstream_daily_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large_remembered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
        cmocka_unit_test(test_paced_allowance),
        cmocka_unit_test_setup_teardown(test_pacing_first_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pacing_with_stated_room, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
