/*
 * Rollups of the request log: what a batch adds equals what a rebuild from the
 * raw log finds, retention takes them with the log, an upgraded database gets
 * them built once; histograms, the diagnosis of a failure and the log's
 * filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
#include "store/analytics.h"
#include "store/store_int.h"
#include "test_util.h"

#define H GW_ROLLUP_HOUR_MS
#define NOW (INT64_C(1780000000000) - INT64_C(1780000000000) % H + 30 * 60000)

typedef struct fixture {
    char dir[GW_TEST_DIR_MAX];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (gw_test_dir_make(f->dir, "analytics") != 0)
        return -1;
    unsetenv("ENCRYPTION_KEY");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_test_dir_remove(f->dir);
    free(f);
    return 0;
}

static gw_store_t *open_ok(fixture_t *f)
{
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    if (gw_store_open(&st, f->dir, &err) != 0)
        fail_msg("gw_store_open: %s", err.msg);
    return st;
}

/* ---- histograms ------------------------------------------------------------- */

static void test_hist(void **state)
{
    gw_hist_t h, back;
    unsigned char blob[GW_HIST_BLOB_MAX];
    size_t n;

    (void)state;
    memset(&h, 0, sizeof(h));
    assert_true(gw_hist_quantile(&h, 0.5) < 0);
    assert_int_equal(gw_hist_bucket(-1), -1);
    assert_int_equal(gw_hist_bucket(0), 0);
    assert_int_equal(gw_hist_bucket(INT64_MAX), GW_HIST_BUCKETS - 1);
    for (int i = 0; i < 90; i++)
        gw_hist_add(&h, 120); /* bucket [100, 150) */
    for (int i = 0; i < 10; i++)
        gw_hist_add(&h, 4000); /* bucket [3300, 5000) */
    gw_hist_add(&h, -5);       /* not a sample */
    assert_int_equal(gw_hist_total(&h), 100);
    assert_true(gw_hist_quantile(&h, 0.5) >= 100 && gw_hist_quantile(&h, 0.5) < 150);
    assert_true(gw_hist_quantile(&h, 0.95) >= 3300 && gw_hist_quantile(&h, 0.95) < 5000);
    h.n[3] = UINT64_C(1) << 40; /* a count needing several varint bytes */
    n = gw_hist_encode(&h, blob);
    memset(&back, 0, sizeof(back));
    assert_true(gw_hist_decode_add(&back, blob, n));
    assert_memory_equal(&back, &h, sizeof(h));
    /* A cut blob or a bucket out of range changes nothing. */
    memset(&back, 0, sizeof(back));
    assert_false(gw_hist_decode_add(&back, blob, n - 1));
    assert_int_equal(gw_hist_total(&back), 0);
    blob[0] = GW_HIST_BUCKETS;
    assert_false(gw_hist_decode_add(&back, blob, n));
}

/* ---- rollups ------------------------------------------------------------------ */

typedef struct totals {
    int64_t cells, requests, ok, tokens_in, tokens_out, fallbacks, attempts, ttfb_n, lat_sum;
    int64_t by_class[6]; /* 200, 400, 429, 499, 500, other */
    gw_hist_t lat;
} totals_t;

static void on_cell(void *ctx, const gw_rollup_cell_t *c)
{
    totals_t *t = ctx;

    t->cells++;
    t->requests += c->requests;
    t->ok += c->ok;
    t->tokens_in += c->tokens_in;
    t->tokens_out += c->tokens_out;
    t->fallbacks += c->fallbacks;
    t->attempts += c->attempts;
    t->ttfb_n += c->ttfb_n;
    t->lat_sum += c->latency_sum;
    t->by_class[c->status_class == 200   ? 0
                : c->status_class == 400 ? 1
                : c->status_class == 429 ? 2
                : c->status_class == 499 ? 3
                : c->status_class == 500 ? 4
                                         : 5] += c->requests;
    gw_hist_merge(&t->lat, &c->latency);
}

static totals_t scan(gw_store_t *st, gw_rollup_level_t level, int64_t from, int64_t to)
{
    totals_t t;
    gw_err_t err = {0};

    memset(&t, 0, sizeof(t));
    assert_int_equal(gw_store_rollups_scan(st, level, from, to, on_cell, &t, &err), 0);
    return t;
}

typedef struct att {
    int64_t ok, failed, groq_failed, latency;
} att_t;

static void on_attempt(void *ctx, const gw_attempt_cell_t *a)
{
    att_t *t = ctx;

    if (strcmp(a->verdict, "ok") == 0)
        t->ok += a->attempts;
    else
        t->failed += a->attempts;
    if (strcmp(a->provider, "groq") == 0 && strcmp(a->verdict, "ok") != 0)
        t->groq_failed += a->attempts;
    t->latency += a->latency_sum;
}

static att_t scan_attempts(gw_store_t *st)
{
    att_t t;
    gw_err_t err = {0};

    memset(&t, 0, sizeof(t));
    assert_int_equal(gw_store_attempts_scan(st, 0, INT64_MAX, on_attempt, &t, &err), 0);
    return t;
}

/* 300 rows over the last 50 hours, two per 10 minutes: some fall over, some
 * fail, some are older than the minute rollups keep. */
static void make_rows(gw_reqlog_row_t *rows, size_t n)
{
    static const int statuses[] = {200, 200, 200, 429, 500, 400, 499, 200};

    for (size_t i = 0; i < n; i++) {
        gw_reqlog_row_t r = {
            .at_ms = NOW - (int64_t)(n - i) * 10 * 60000,
            .endpoint = i % 3 == 0 ? "/v1/embeddings" : "/v1/chat/completions",
            .provider = i % 7 == 0 ? NULL : (i % 2 ? "groq" : "gemini"),
            .model = i % 7 == 0 ? NULL : (i % 2 ? "llama" : "flash"),
            .key_id = (int64_t)(i % 3),
            .status = statuses[i % 8],
            .latency_ms = 40 + (int64_t)(i % 50) * 30,
            .ttfb_ms = i % 2 ? 15 : -1,
            .tokens_in = 10 + (int64_t)i,
            .tokens_out = 5,
            .attempts = 1 + (int)(i % 3 == 1),
            .error_class = statuses[i % 8] == 200 ? NULL : "server_error",
            .attempt_log = i % 3 == 1 ? "groq\tllama\t1\trate_limit_minute\t429\t30\n"
                                        "gemini\tflash\t2\tok\t200\t80\n"
                                      : "gemini\tflash\t2\tok\t200\t50\n",
        };
        rows[i] = r;
    }
}

static void test_rollups_add_rebuild(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    gw_reqlog_row_t rows[300];
    totals_t hour, minute, hour2, minute2;
    att_t a, a2;
    int64_t want_in = 0;
    int64_t recent = 0;
    int64_t want_ok = 0, want_400 = 0, want_429 = 0, want_499 = 0;
    bool rebuilt;

    make_rows(rows, 300);
    for (size_t i = 0; i < 300; i++) {
        want_in += rows[i].tokens_in;
        recent += rows[i].at_ms >= NOW - GW_ROLLUP_MINUTE_KEEP_MS;
        want_ok += rows[i].status == 200;
        want_400 += rows[i].status == 400;
        want_429 += rows[i].status == 429;
        want_499 += rows[i].status == 499;
    }
    /* In batches of uneven size, as the writer's ticks cut them. */
    assert_int_equal(gw_store_reqlog_append(st, rows, 7, &err), 0);
    assert_int_equal(gw_store_reqlog_append(st, rows + 7, 193, &err), 0);
    assert_int_equal(gw_store_reqlog_append(st, rows + 200, 100, &err), 0);

    hour = scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX);
    assert_int_equal(hour.requests, 300);
    assert_int_equal(hour.ok, want_ok);
    assert_int_equal(hour.by_class[0], want_ok);
    assert_int_equal(hour.by_class[1], want_400);
    assert_int_equal(hour.by_class[2], want_429);
    assert_int_equal(hour.by_class[3], want_499);
    assert_int_equal(hour.tokens_in, want_in);
    assert_int_equal(hour.tokens_out, 1500);
    assert_int_equal(hour.fallbacks, 100);
    assert_int_equal(hour.attempts, 400);
    assert_int_equal(hour.ttfb_n, 150);
    assert_int_equal(gw_hist_total(&hour.lat), 300);
    /* The minute rollups hold only what is within their 48 h, as written. */
    minute = scan(st, GW_ROLLUP_MINUTE, 0, INT64_MAX);
    assert_int_equal(minute.requests, 300);
    /* Per model: the same sums in far fewer cells (key, endpoint, status folded). */
    {
        totals_t pm = scan(st, GW_ROLLUP_MODEL_HOUR, 0, INT64_MAX);
        totals_t pq = scan(st, GW_ROLLUP_MODEL_QUARTER, 0, INT64_MAX);
        assert_int_equal(pm.requests, 300);
        assert_int_equal(pm.ok, want_ok);
        assert_int_equal(pm.tokens_in, want_in);
        assert_int_equal(pm.by_class[5], 300); /* status class folded to 0 */
        assert_true(pm.cells < hour.cells);
        assert_int_equal(pq.requests, 300);
        assert_memory_equal(&pm.lat, &hour.lat, sizeof(hour.lat));
    }
    /* A window reads only its buckets. */
    assert_int_equal(scan(st, GW_ROLLUP_MINUTE, NOW - 60 * 60000, NOW + 1).requests, 6);
    a = scan_attempts(st);
    assert_int_equal(a.ok, 300);
    assert_int_equal(a.failed, 100);
    assert_int_equal(a.groq_failed, 100);
    assert_int_equal(a.latency, 200 * 50 + 100 * 110);

    /* A rebuild from the raw log finds the same hours and attempts, and only
     * the minutes within 48 h. */
    assert_int_equal(gw_store_rollups_rebuild(st, NOW, &err), 0);
    hour2 = scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX);
    minute2 = scan(st, GW_ROLLUP_MINUTE, 0, INT64_MAX);
    assert_int_equal(hour2.cells, hour.cells);
    assert_int_equal(hour2.requests, hour.requests);
    assert_int_equal(hour2.ok, hour.ok);
    assert_int_equal(hour2.tokens_in, hour.tokens_in);
    assert_int_equal(hour2.fallbacks, hour.fallbacks);
    assert_int_equal(hour2.attempts, hour.attempts);
    assert_int_equal(hour2.ttfb_n, hour.ttfb_n);
    assert_int_equal(hour2.lat_sum, hour.lat_sum);
    assert_memory_equal(&hour2.lat, &hour.lat, sizeof(hour.lat));
    assert_memory_equal(hour2.by_class, hour.by_class, sizeof(hour.by_class));
    assert_int_equal(minute2.requests, recent);
    assert_int_equal(scan(st, GW_ROLLUP_MODEL_HOUR, 0, INT64_MAX).requests, 300);
    assert_int_equal(scan(st, GW_ROLLUP_MODEL_QUARTER, 0, INT64_MAX).requests, recent);
    a2 = scan_attempts(st);
    assert_memory_equal(&a2, &a, sizeof(a));

    /* Ensure: built once already (the rebuild marked it). */
    assert_int_equal(gw_store_rollups_ensure(st, NOW, &rebuilt, &err), 0);
    assert_false(rebuilt);
    gw_store_close(st);
}

static void test_rollups_retention(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    gw_reqlog_row_t rows[300];
    int64_t keep_from = NOW - 24 * H; /* the log keeps a day */
    int64_t want = 0;
    int64_t want_minutes = 0;

    make_rows(rows, 300);
    assert_int_equal(gw_store_reqlog_append(st, rows, 300, &err), 0);
    for (size_t i = 0; i < 300; i++) {
        want += rows[i].at_ms >= keep_from - keep_from % H;
        want_minutes += rows[i].at_ms >= keep_from - keep_from % 60000;
    }
    assert_int_equal(gw_store_reqlog_prune(st, keep_from, -1, NOW, &err), 0);
    /* Whole hours before the cut go; the hour holding it stays. */
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, want);
    assert_int_equal(scan(st, GW_ROLLUP_MINUTE, 0, INT64_MAX).requests, want_minutes);
    /* Without an age limit, the horizons still apply: 48 h of minutes. */
    assert_int_equal(gw_store_reqlog_prune(st, 0, -1, NOW + 47 * H, &err), 0);
    assert_true(scan(st, GW_ROLLUP_MINUTE, 0, INT64_MAX).requests < want_minutes);
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, want);
    /* 90 days on, nothing is left of the hours either. */
    assert_int_equal(gw_store_reqlog_prune(st, 0, -1, NOW + GW_ROLLUP_HOUR_KEEP_MS + H, &err), 0);
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, 0);
    assert_int_equal(scan_attempts(st).ok, 0);
    gw_store_close(st);
}

/* A database from before the rollups: rows but no rollups, and no mark. */
static void test_rollups_upgrade(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    gw_reqlog_row_t rows[300];
    bool rebuilt = false;

    make_rows(rows, 300);
    assert_int_equal(gw_store_reqlog_append(st, rows, 300, &err), 0);
    assert_int_equal(sqlite3_exec(st->db,
                                  "DELETE FROM rollup_hour; DELETE FROM rollup_minute; "
                                  "DELETE FROM attempt_hour; DELETE FROM meta WHERE name = "
                                  "'rollups_v1';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, 0);
    assert_int_equal(gw_store_rollups_ensure(st, NOW, &rebuilt, &err), 0);
    assert_true(rebuilt);
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, 300);
    assert_int_equal(scan_attempts(st).failed, 100);
    assert_int_equal(gw_store_rollups_ensure(st, NOW, &rebuilt, &err), 0);
    assert_false(rebuilt);
    assert_int_equal(scan(st, GW_ROLLUP_HOUR, 0, INT64_MAX).requests, 300);
    gw_store_close(st);
}

/* ---- the raw log ------------------------------------------------------------- */

static void test_diagnosis(void **state)
{
    (void)state;
    assert_null(gw_reqlog_diagnosis(200, NULL));
    assert_string_equal(gw_reqlog_diagnosis(200, "stream_interrupted"), "upstream_error");
    assert_string_equal(gw_reqlog_diagnosis(429, "exhausted"), "rate_limited");
    assert_string_equal(gw_reqlog_diagnosis(429, "rate_limit_minute"), "rate_limited");
    assert_string_equal(gw_reqlog_diagnosis(429, "quota_period"), "quota_exhausted");
    assert_string_equal(gw_reqlog_diagnosis(402, "payment"), "quota_exhausted");
    assert_string_equal(gw_reqlog_diagnosis(401, "auth"), "invalid_key");
    assert_string_equal(gw_reqlog_diagnosis(504, "timeout"), "timeout");
    assert_string_equal(gw_reqlog_diagnosis(502, "server_error"), "upstream_error");
    assert_string_equal(gw_reqlog_diagnosis(400, "bad_request"), "client_error");
    assert_string_equal(gw_reqlog_diagnosis(400, "context_length"), "client_error");
    assert_string_equal(gw_reqlog_diagnosis(499, "client_closed"), "client_error");
    /* An unknown class falls back on the status. */
    assert_string_equal(gw_reqlog_diagnosis(503, "something_new"), "upstream_error");
    assert_string_equal(gw_reqlog_diagnosis(404, "something_new"), "client_error");
    assert_string_equal(gw_reqlog_diagnosis(401, NULL), "invalid_key");
}

typedef struct got {
    size_t n;
    int64_t last_id;
    bool all_match;
    const gw_reqlog_filter_t *f;
    char attempt_log[256];
    char prompt[64];
} got_t;

static void on_row(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    got_t *g = ctx;
    const gw_reqlog_filter_t *f = g->f;

    if (g->n > 0 && id >= g->last_id)
        g->all_match = false; /* newest first */
    if (f != NULL && ((f->status_min && r->status < f->status_min) ||
                      (f->status_max && r->status > f->status_max) ||
                      (f->provider && (!r->provider || strcmp(r->provider, f->provider))) ||
                      (f->endpoint && strcmp(r->endpoint, f->endpoint)) ||
                      (f->since_ms && r->at_ms < f->since_ms) ||
                      (f->diagnosis &&
                       strcmp(gw_reqlog_diagnosis(r->status, r->error_class), f->diagnosis))))
        g->all_match = false;
    snprintf(g->attempt_log, sizeof(g->attempt_log), "%s", r->attempt_log ? r->attempt_log : "");
    snprintf(g->prompt, sizeof(g->prompt), "%s", r->content_prompt ? r->content_prompt : "");
    g->last_id = id;
    g->n++;
}

static got_t query(gw_store_t *st, const gw_reqlog_filter_t *f)
{
    got_t g = {.all_match = true, .f = f};
    gw_err_t err = {0};

    assert_int_equal(gw_store_reqlog_query(st, f, on_row, &g, NULL, &err), 0);
    return g;
}

static void test_query(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    gw_reqlog_row_t rows[300];
    gw_reqlog_filter_t flt;
    got_t g;
    size_t want;
    size_t want_err = 0;

    make_rows(rows, 300);
    rows[299].content_prompt = "{\"messages\":[]}";
    assert_int_equal(gw_store_reqlog_append(st, rows, 300, &err), 0);

    memset(&flt, 0, sizeof(flt));
    flt.limit = 1000;
    g = query(st, &flt);
    assert_int_equal(g.n, 300);
    assert_true(g.all_match);

    flt.status_min = 400; /* "error" */
    for (size_t i = 0; i < 300; i++)
        want_err += rows[i].status >= 400;
    g = query(st, &flt);
    assert_int_equal(g.n, want_err);
    assert_true(g.all_match);

    flt.status_min = flt.status_max = 429;
    flt.provider = "groq";
    want = 0;
    for (size_t i = 0; i < 300; i++)
        want += rows[i].status == 429 && rows[i].provider && !strcmp(rows[i].provider, "groq");
    g = query(st, &flt);
    assert_int_equal(g.n, want);
    assert_true(g.all_match);

    memset(&flt, 0, sizeof(flt));
    flt.diagnosis = "client_error"; /* 400 bad request and 499 left: server_error class */
    flt.limit = 1000;
    g = query(st, &flt);
    assert_int_equal(g.n, 0); /* the rows' class says server_error: upstream */
    flt.diagnosis = "upstream_error";
    g = query(st, &flt);
    assert_int_equal(g.n, want_err);
    assert_true(g.all_match);

    /* Paging by id with a limit, and a time window. */
    memset(&flt, 0, sizeof(flt));
    flt.limit = 10;
    flt.endpoint = "/v1/embeddings";
    g = query(st, &flt);
    assert_int_equal(g.n, 10);
    flt.before_id = g.last_id;
    flt.limit = 1000;
    g = query(st, &flt);
    assert_int_equal(g.n, 100 - 10);
    assert_true(g.all_match);
    memset(&flt, 0, sizeof(flt));
    flt.limit = 1000;
    flt.since_ms = NOW - 60 * 60000;
    g = query(st, &flt);
    assert_int_equal(g.n, 6);

    /* A bounded search stops at its bound and says where to go on. */
    {
        int64_t next = -1;
        size_t in_window = 0;

        memset(&flt, 0, sizeof(flt));
        flt.limit = 1000;
        flt.status_min = flt.status_max = 429;
        flt.max_scan = 50;
        g = (got_t){.all_match = true, .f = &flt};
        assert_int_equal(gw_store_reqlog_query(st, &flt, on_row, &g, &next, &err), 0);
        for (size_t i = 250; i < 300; i++) /* ids 251..300 */
            in_window += rows[i].status == 429;
        assert_int_equal(g.n, in_window);
        assert_true(g.all_match);
        assert_int_equal(next, 251);
        flt.before_id = next;
        flt.max_scan = 0;
        g = (got_t){.all_match = true, .f = &flt};
        assert_int_equal(gw_store_reqlog_query(st, &flt, on_row, &g, &next, &err), 0);
        assert_int_equal(next, 0); /* the start of the log */
        flt.limit = 2; /* a full page goes on from its last row */
        flt.before_id = 0;
        g = (got_t){.all_match = true, .f = &flt};
        assert_int_equal(gw_store_reqlog_query(st, &flt, on_row, &g, &next, &err), 0);
        assert_int_equal(next, g.last_id);
    }

    /* One row: its attempts and content. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(gw_store_reqlog_get(st, 300, on_row, &g, &err), 0);
    assert_string_equal(g.prompt, "{\"messages\":[]}");
    assert_string_equal(g.attempt_log, "gemini\tflash\t2\tok\t200\t50\n");
    assert_int_equal(gw_store_reqlog_get(st, 301, on_row, &g, &err), GW_ENOTFOUND);
    gw_store_close(st);
}

int main(void)
{
    gw_test_log_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist),
        cmocka_unit_test_setup_teardown(test_rollups_add_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups_upgrade, setup, teardown),
        cmocka_unit_test(test_diagnosis),
        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
