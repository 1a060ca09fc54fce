/*
 * Rollups of the request log (see analytics.h): aggregated per batch as the
 * background writer appends rows, rebuilt from the raw log when missing,
 * pruned with the log's retention, scanned by the dashboard's analytics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/analytics.h"
#include "store/store_int.h"

#define META_BUILT "rollups_v1"
#define REBUILD_BATCH 4096

/* ---- SQL functions: histograms inside SQLite --------------------------------- */

static void hist_from_value(gw_hist_t *h, sqlite3_value *v)
{
    if (sqlite3_value_type(v) == SQLITE_BLOB)
        (void)gw_hist_decode_add(h, sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v));
}

static void result_hist(sqlite3_context *ctx, const gw_hist_t *h)
{
    unsigned char out[GW_HIST_BLOB_MAX];
    size_t n = gw_hist_encode(h, out);

    sqlite3_result_blob(ctx, out, (int)n, SQLITE_TRANSIENT);
}

/* gw_hist_merge(a, b): the blob of both histograms' counts. */
static void fn_hist_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    gw_hist_t h;

    memset(&h, 0, sizeof(h));
    for (int i = 0; i < argc; i++)
        hist_from_value(&h, argv[i]);
    result_hist(ctx, &h);
}

/* gw_diagnosis(status, error_class): the request log's diagnosis (analytics.h). */
static void fn_diagnosis(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *d =
        gw_reqlog_diagnosis(sqlite3_value_int(argv[0]), (const char *)sqlite3_value_text(argv[1]));

    (void)argc;
    if (d != NULL)
        sqlite3_result_text(ctx, d, -1, SQLITE_STATIC);
    else
        sqlite3_result_null(ctx);
}

int gw__store_register_functions(sqlite3 *db)
{
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

    if (sqlite3_create_function(db, "gw_hist_merge", 2, flags, NULL, fn_hist_merge, NULL, NULL) !=
        SQLITE_OK)
        return GW_EDB;
    if (sqlite3_create_function(db, "gw_diagnosis", 2, flags, NULL, fn_diagnosis, NULL, NULL) !=
        SQLITE_OK)
        return GW_EDB;
    return 0;
}

/* ---- aggregating a batch ------------------------------------------------------ */

int gw_status_class(int status)
{
    if (status == 429 || status == 499)
        return status;
    return status / 100 * 100;
}

static const char *str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* The order both kinds of cell share: bucket, provider, model, key. */
static int cmp_pair(int64_t ba, const char *pa, const char *ma, int64_t ka, int64_t bb,
                    const char *pb, const char *mb, int64_t kb)
{
    int c = cmp_i64(ba, bb);

    if (c == 0)
        c = strcmp(pa, pb);
    if (c == 0)
        c = strcmp(ma, mb);
    if (c == 0)
        c = cmp_i64(ka, kb);
    return c;
}

static int cmp_cell(const void *pa, const void *pb)
{
    const gw_rollup_cell_t *a = pa;
    const gw_rollup_cell_t *b = pb;
    int c = cmp_pair(a->bucket_ms, a->provider, a->model, a->key_id, b->bucket_ms, b->provider,
                     b->model, b->key_id);

    if (c == 0)
        c = strcmp(a->endpoint, b->endpoint);
    if (c == 0)
        c = cmp_i64(a->status_class, b->status_class);
    return c;
}

/* The rollup tables, by level (analytics.h). */
static const struct level {
    const char *table;
    int64_t width;  /* bucket ms */
    bool per_model; /* key, endpoint and status class folded */
    int64_t keep_ms;
    int stmt;
} levels[] = {
    [GW_ROLLUP_MINUTE] = {"rollup_minute", GW_ROLLUP_MINUTE_MS, false, GW_ROLLUP_MINUTE_KEEP_MS,
                          GW_STMT_ROLLUP_MINUTE_ADD},
    [GW_ROLLUP_HOUR] = {"rollup_hour", GW_ROLLUP_HOUR_MS, false, GW_ROLLUP_HOUR_KEEP_MS,
                        GW_STMT_ROLLUP_HOUR_ADD},
    [GW_ROLLUP_MODEL_QUARTER] = {"rollup_model_quarter", GW_ROLLUP_QUARTER_MS, true,
                                 GW_ROLLUP_MINUTE_KEEP_MS, GW_STMT_ROLLUP_MODEL_QUARTER_ADD},
    [GW_ROLLUP_MODEL_HOUR] = {"rollup_model_hour", GW_ROLLUP_HOUR_MS, true, GW_ROLLUP_HOUR_KEEP_MS,
                              GW_STMT_ROLLUP_MODEL_HOUR_ADD},
};

static void cell_of_row(gw_rollup_cell_t *c, const gw_reqlog_row_t *r, const struct level *lv)
{
    int64_t width = lv->width;

    memset(c, 0, sizeof(*c));
    c->bucket_ms = r->at_ms - r->at_ms % width;
    c->provider = str_or_empty(r->provider);
    c->model = str_or_empty(r->model);
    c->key_id = r->key_id;
    c->endpoint = str_or_empty(r->endpoint);
    c->status_class = gw_status_class(r->status);
    c->requests = 1;
    c->ok = r->status >= 200 && r->status < 400;
    c->tokens_in = r->tokens_in;
    c->tokens_out = r->tokens_out;
    c->latency_sum = r->latency_ms > 0 ? r->latency_ms : 0;
    gw_hist_add(&c->latency, r->latency_ms);
    if (r->ttfb_ms >= 0) {
        c->ttfb_sum = r->ttfb_ms;
        c->ttfb_n = 1;
        gw_hist_add(&c->ttfb, r->ttfb_ms);
    }
    c->fallbacks = r->attempts > 1;
    c->attempts = r->attempts;
    if (lv->per_model) {
        c->key_id = 0;
        c->endpoint = "";
        c->status_class = 0;
    }
}

static void cell_merge(gw_rollup_cell_t *into, const gw_rollup_cell_t *c)
{
    into->requests += c->requests;
    into->ok += c->ok;
    into->tokens_in += c->tokens_in;
    into->tokens_out += c->tokens_out;
    into->latency_sum += c->latency_sum;
    into->ttfb_sum += c->ttfb_sum;
    into->ttfb_n += c->ttfb_n;
    into->fallbacks += c->fallbacks;
    into->attempts += c->attempts;
    gw_hist_merge(&into->latency, &c->latency);
    gw_hist_merge(&into->ttfb, &c->ttfb);
}

/* Sorts cells and merges equal keys in place; returns the count left. */
static size_t merge_sorted(gw_rollup_cell_t *v, size_t n)
{
    size_t out = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_cell);
    for (size_t i = 1; i < n; i++) {
        if (cmp_cell(&v[out], &v[i]) == 0)
            cell_merge(&v[out], &v[i]);
        else
            v[++out] = v[i];
    }
    return out + 1;
}

static bool bind_cell(sqlite3_stmt *s, const gw_rollup_cell_t *c)
{
    unsigned char lat[GW_HIST_BLOB_MAX], ttfb[GW_HIST_BLOB_MAX];
    size_t nl = gw_hist_encode(&c->latency, lat);
    size_t nt = gw_hist_encode(&c->ttfb, ttfb);

    return sqlite3_bind_int64(s, 1, c->bucket_ms) == SQLITE_OK &&
           sqlite3_bind_text(s, 2, c->provider, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_text(s, 3, c->model, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_int64(s, 4, c->key_id) == SQLITE_OK &&
           sqlite3_bind_text(s, 5, c->endpoint, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_int(s, 6, c->status_class) == SQLITE_OK &&
           sqlite3_bind_int64(s, 7, c->requests) == SQLITE_OK &&
           sqlite3_bind_int64(s, 8, c->ok) == SQLITE_OK &&
           sqlite3_bind_int64(s, 9, c->tokens_in) == SQLITE_OK &&
           sqlite3_bind_int64(s, 10, c->tokens_out) == SQLITE_OK &&
           sqlite3_bind_int64(s, 11, c->latency_sum) == SQLITE_OK &&
           sqlite3_bind_int64(s, 12, c->ttfb_sum) == SQLITE_OK &&
           sqlite3_bind_int64(s, 13, c->ttfb_n) == SQLITE_OK &&
           sqlite3_bind_int64(s, 14, c->fallbacks) == SQLITE_OK &&
           sqlite3_bind_int64(s, 15, c->attempts) == SQLITE_OK &&
           sqlite3_bind_blob(s, 16, lat, (int)nl, SQLITE_TRANSIENT) == SQLITE_OK &&
           sqlite3_bind_blob(s, 17, ttfb, (int)nt, SQLITE_TRANSIENT) == SQLITE_OK;
}

static int add_cells(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, const struct level *lv,
                     gw_err_t *err)
{
    gw_rollup_cell_t *v = gw_xcalloc(n, sizeof(*v));
    sqlite3_stmt *stmt = st->stmt[lv->stmt];
    size_t m;
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        cell_of_row(&v[i], &rows[i], lv);
    m = merge_sorted(v, n);
    for (size_t i = 0; i < m && rc == 0; i++)
        rc = gw__store_run(st, stmt, bind_cell(stmt, &v[i]), err, "add rollups");
    free(v);
    return rc;
}

/* One attempt line "provider\tmodel\tkey\tverdict\tstatus\tms" split in place. */
static bool split_attempt(char *line, gw_attempt_cell_t *a)
{
    char *f[6];
    int n = 0;

    for (char *p = line; n < 6; n++) {
        f[n] = p;
        p = strchr(p, '\t');
        if (p == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n < 6)
        return false;
    a->provider = f[0];
    a->model = f[1];
    a->key_id = strtoll(f[2], NULL, 10);
    a->verdict = f[3];
    a->latency_sum = strtoll(f[5], NULL, 10);
    a->attempts = 1;
    return true;
}

static int cmp_attempt(const void *pa, const void *pb)
{
    const gw_attempt_cell_t *a = pa;
    const gw_attempt_cell_t *b = pb;
    int c = cmp_pair(a->bucket_ms, a->provider, a->model, a->key_id, b->bucket_ms, b->provider,
                     b->model, b->key_id);

    if (c == 0)
        c = strcmp(a->verdict, b->verdict);
    return c;
}

/* Every attempt line of the batch as a cell (pointing into copies kept in
 * *text), sorted and merged; returns the count. */
static size_t attempt_cells(const gw_reqlog_row_t *rows, size_t n, gw_attempt_cell_t **out,
                            char ***text)
{
    gw_attempt_cell_t *v = NULL;
    size_t nv = 0, cap = 0, m = 0;

    *text = gw_xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        char *next;

        if (rows[i].attempt_log == NULL || rows[i].attempt_log[0] == '\0')
            continue;
        (*text)[i] = gw_xstrdup(rows[i].attempt_log);
        for (char *line = (*text)[i]; *line != '\0'; line = next) {
            next = strchr(line, '\n');
            if (next != NULL)
                *next++ = '\0';
            else
                next = line + strlen(line);
            if (nv == cap) {
                cap = cap ? cap * 2 : 64;
                v = gw_xrealloc(v, cap * sizeof(*v));
            }
            if (!split_attempt(line, &v[nv]))
                continue;
            v[nv].bucket_ms = rows[i].at_ms - rows[i].at_ms % GW_ROLLUP_HOUR_MS;
            nv++;
        }
    }
    if (nv > 0) {
        qsort(v, nv, sizeof(*v), cmp_attempt);
        for (size_t i = 1; i < nv; i++) {
            if (cmp_attempt(&v[m], &v[i]) == 0) {
                v[m].attempts += v[i].attempts;
                v[m].latency_sum += v[i].latency_sum;
            } else {
                v[++m] = v[i];
            }
        }
        m++;
    }
    *out = v;
    return m;
}

static int add_attempts(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_ATTEMPT_ADD];
    gw_attempt_cell_t *v;
    char **text;
    size_t m = attempt_cells(rows, n, &v, &text);
    int rc = 0;

    for (size_t i = 0; i < m && rc == 0; i++)
        rc = gw__store_run(
            st, s,
            sqlite3_bind_int64(s, 1, v[i].bucket_ms) == SQLITE_OK &&
                sqlite3_bind_text(s, 2, v[i].provider, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_bind_text(s, 3, v[i].model, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_bind_int64(s, 4, v[i].key_id) == SQLITE_OK &&
                sqlite3_bind_text(s, 5, v[i].verdict, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_bind_int64(s, 6, v[i].attempts) == SQLITE_OK &&
                sqlite3_bind_int64(s, 7, v[i].latency_sum) == SQLITE_OK,
            err, "add attempt rollups");
    for (size_t i = 0; i < n; i++)
        free(text[i]);
    free(text);
    free(v);
    return rc;
}

int gw__store_rollups_add(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err)
{
    int rc;

    if (n == 0)
        return 0;
    rc = 0;
    for (size_t i = 0; i < GW_ARRAY_LEN(levels) && rc == 0; i++)
        rc = add_cells(st, rows, n, &levels[i], err);
    if (rc == 0)
        rc = add_attempts(st, rows, n, err);
    return rc;
}

/* ---- horizons ------------------------------------------------------------------- */

static int exec_i64(gw_store_t *st, const char *sql, int64_t a, gw_err_t *err, const char *what)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return gw__store_dberr(st, err, what);
    rc = gw__store_run(st, s, sqlite3_bind_int64(s, 1, a) == SQLITE_OK, err, what);
    sqlite3_finalize(s);
    return rc;
}

/* The first hour the hour rollups keep: 90 days, or less with a shorter log
 * retention (only whole hours before it go). */
static int64_t hour_floor(int64_t min_at_ms, int64_t now_ms)
{
    int64_t floor = now_ms - GW_ROLLUP_HOUR_KEEP_MS;

    if (min_at_ms > 0 && min_at_ms - GW_ROLLUP_HOUR_MS > floor)
        floor = min_at_ms - GW_ROLLUP_HOUR_MS;
    return floor;
}

int gw__store_rollups_prune(gw_store_t *st, int64_t min_at_ms, int64_t now_ms, gw_err_t *err)
{
    int64_t hours = hour_floor(min_at_ms, now_ms);
    char sql[128];
    int rc = 0;

    for (size_t i = 0; i < GW_ARRAY_LEN(levels) && rc == 0; i++) {
        int64_t floor = now_ms - levels[i].keep_ms;

        if (min_at_ms - levels[i].width > floor)
            floor = min_at_ms - levels[i].width; /* whole buckets before the cut */
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE bucket_ms < ?1", levels[i].table);
        rc = exec_i64(st, sql, floor, err, "prune rollups");
    }
    if (rc == 0)
        rc = exec_i64(st, "DELETE FROM attempt_hour WHERE bucket_ms < ?1", hours, err,
                      "prune rollups");
    return rc;
}

/* ---- rebuilding from the raw log ------------------------------------------------- */

/* Rows read back for a rebuild, with their strings copied (a step frees them). */
typedef struct rebuild_batch {
    gw_reqlog_row_t rows[REBUILD_BATCH];
    char *strs[REBUILD_BATCH][4];
    size_t n;
} rebuild_batch_t;

static char *col_dup(sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);

    return t != NULL ? gw_xstrdup(t) : NULL;
}

static void batch_clear(rebuild_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        for (int k = 0; k < 4; k++)
            free(b->strs[i][k]);
    b->n = 0;
}

static int rebuild_in_tx(gw_store_t *st, int64_t now_ms, gw_err_t *err)
{
    rebuild_batch_t *b = gw_xcalloc(1, sizeof(*b));
    sqlite3_stmt *s = NULL;
    char sql[96];
    int rc = 0;

    for (size_t i = 0; i < GW_ARRAY_LEN(levels) && rc == 0; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE ?1 = ?1", levels[i].table);
        rc = exec_i64(st, sql, 0, err, "rebuild rollups");
    }
    if (rc == 0)
        rc = exec_i64(st, "DELETE FROM attempt_hour WHERE ?1 = ?1", 0, err, "rebuild rollups");
    if (rc != 0)
        goto out;
    /* The writer's own aggregation over the raw rows, a batch at a time. */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT at_ms, endpoint, provider, model, key_id, status, latency_ms, "
                           "ttfb_ms, tokens_in, tokens_out, attempts, attempt_log FROM "
                           "request_log WHERE at_ms >= ?1 ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(s, 1, hour_floor(0, now_ms)) != SQLITE_OK) {
        rc = gw__store_dberr(st, err, "rebuild rollups");
        goto out;
    }
    while (rc == 0 && gw__store_next_row(st, s, &rc, err, "rebuild rollups")) {
        gw_reqlog_row_t *r = &b->rows[b->n];
        char **strs = b->strs[b->n];

        memset(r, 0, sizeof(*r));
        r->at_ms = sqlite3_column_int64(s, 0);
        r->endpoint = strs[0] = col_dup(s, 1);
        r->provider = strs[1] = col_dup(s, 2);
        r->model = strs[2] = col_dup(s, 3);
        r->key_id = sqlite3_column_int64(s, 4);
        r->status = sqlite3_column_int(s, 5);
        r->latency_ms = sqlite3_column_int64(s, 6);
        r->ttfb_ms = sqlite3_column_int64(s, 7);
        r->tokens_in = sqlite3_column_int64(s, 8);
        r->tokens_out = sqlite3_column_int64(s, 9);
        r->attempts = sqlite3_column_int(s, 10);
        r->attempt_log = strs[3] = col_dup(s, 11);
        if (++b->n == REBUILD_BATCH) {
            rc = gw__store_rollups_add(st, b->rows, b->n, err);
            batch_clear(b);
        }
    }
    if (rc == 0)
        rc = gw__store_rollups_add(st, b->rows, b->n, err);
    /* Older rows went into the short-lived levels too: trim them to their horizon. */
    if (rc == 0)
        rc = gw__store_rollups_prune(st, 0, now_ms, err);
out:
    sqlite3_finalize(s);
    batch_clear(b);
    free(b);
    return rc;
}

int gw_store_rollups_rebuild(gw_store_t *st, int64_t now_ms, gw_err_t *err)
{
    int rc = gw__store_begin(st, err);

    if (rc == 0)
        rc = rebuild_in_tx(st, now_ms, err);
    if (rc == 0)
        rc = exec_i64(st, "INSERT OR REPLACE INTO meta (name, value) VALUES ('" META_BUILT "', ?1)",
                      now_ms, err, "rebuild rollups");
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int gw_store_rollups_ensure(gw_store_t *st, int64_t now_ms, bool *rebuilt, gw_err_t *err)
{
    unsigned char *v = NULL;
    size_t len = 0;
    int rc = gw__store_meta_get(st, META_BUILT, &v, &len, err);

    free(v);
    *rebuilt = false;
    if (rc != GW_ENOTFOUND)
        return rc;
    *rebuilt = true;
    return gw_store_rollups_rebuild(st, now_ms, err);
}

/* ---- reading ------------------------------------------------------------------------ */

static void read_hist(gw_hist_t *h, sqlite3_stmt *s, int col)
{
    memset(h, 0, sizeof(*h));
    (void)gw_hist_decode_add(h, sqlite3_column_blob(s, col), (size_t)sqlite3_column_bytes(s, col));
}

int gw_store_rollups_scan(gw_store_t *st, gw_rollup_level_t level, int64_t from_ms, int64_t to_ms,
                          gw_rollup_cell_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *s = NULL;
    gw_rollup_cell_t c;
    char sql[400];
    int rc;

    if ((size_t)level >= GW_ARRAY_LEN(levels))
        level = GW_ROLLUP_HOUR;
    snprintf(sql, sizeof(sql),
             "SELECT bucket_ms, provider, model, key_id, endpoint, status_class, requests, ok, "
             "tokens_in, tokens_out, latency_sum, ttfb_sum, ttfb_n, fallbacks, attempts, "
             "lat_hist, ttfb_hist FROM %s WHERE bucket_ms >= ?1 AND bucket_ms < ?2",
             levels[level].table);
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return gw__store_dberr(st, err, "read rollups");
    if (sqlite3_bind_int64(s, 1, from_ms) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, to_ms) != SQLITE_OK) {
        rc = gw__store_dberr(st, err, "read rollups");
        goto out;
    }
    while (gw__store_next_row(st, s, &rc, err, "read rollups")) {
        c.bucket_ms = sqlite3_column_int64(s, 0);
        c.provider = (const char *)sqlite3_column_text(s, 1);
        c.model = (const char *)sqlite3_column_text(s, 2);
        c.key_id = sqlite3_column_int64(s, 3);
        c.endpoint = (const char *)sqlite3_column_text(s, 4);
        c.status_class = sqlite3_column_int(s, 5);
        c.requests = sqlite3_column_int64(s, 6);
        c.ok = sqlite3_column_int64(s, 7);
        c.tokens_in = sqlite3_column_int64(s, 8);
        c.tokens_out = sqlite3_column_int64(s, 9);
        c.latency_sum = sqlite3_column_int64(s, 10);
        c.ttfb_sum = sqlite3_column_int64(s, 11);
        c.ttfb_n = sqlite3_column_int64(s, 12);
        c.fallbacks = sqlite3_column_int64(s, 13);
        c.attempts = sqlite3_column_int64(s, 14);
        read_hist(&c.latency, s, 15);
        read_hist(&c.ttfb, s, 16);
        cb(ctx, &c);
    }
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_attempts_scan(gw_store_t *st, int64_t from_ms, int64_t to_ms, gw_attempt_cell_cb cb,
                           void *ctx, gw_err_t *err)
{
    sqlite3_stmt *s = NULL;
    gw_attempt_cell_t a;
    int rc;

    if (sqlite3_prepare_v2(st->db,
                           "SELECT bucket_ms, provider, model, key_id, verdict, attempts, "
                           "latency_sum FROM attempt_hour WHERE bucket_ms >= ?1 AND "
                           "bucket_ms < ?2",
                           -1, &s, NULL) != SQLITE_OK)
        return gw__store_dberr(st, err, "read attempt rollups");
    if (sqlite3_bind_int64(s, 1, from_ms) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, to_ms) != SQLITE_OK) {
        rc = gw__store_dberr(st, err, "read attempt rollups");
        goto out;
    }
    while (gw__store_next_row(st, s, &rc, err, "read attempt rollups")) {
        a.bucket_ms = sqlite3_column_int64(s, 0);
        a.provider = (const char *)sqlite3_column_text(s, 1);
        a.model = (const char *)sqlite3_column_text(s, 2);
        a.key_id = sqlite3_column_int64(s, 3);
        a.verdict = (const char *)sqlite3_column_text(s, 4);
        a.attempts = sqlite3_column_int64(s, 5);
        a.latency_sum = sqlite3_column_int64(s, 6);
        cb(ctx, &a);
    }
out:
    sqlite3_finalize(s);
    return rc;
}
