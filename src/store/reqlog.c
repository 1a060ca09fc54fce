/*
 * The request log: one row per client request (endpoint, where it was routed,
 * status, timings, tokens, attempts, error class), appended in batches by the
 * server's background writer and pruned by age and row count. Never holds
 * prompt text or secrets.
 */
#include <stdint.h>
#include <string.h>

#include "store/analytics.h"
#include "store/store_int.h"

static int bind_text_or_null(sqlite3_stmt *stmt, int col, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(stmt, col);
    return sqlite3_bind_text(stmt, col, s, -1, SQLITE_STATIC);
}

static bool bind_row(sqlite3_stmt *stmt, const void *row)
{
    const gw_reqlog_row_t *r = row;

    return sqlite3_bind_int64(stmt, 1, r->at_ms) == SQLITE_OK &&
           sqlite3_bind_text(stmt, 2, r->endpoint != NULL ? r->endpoint : "", -1, SQLITE_STATIC) ==
               SQLITE_OK &&
           bind_text_or_null(stmt, 3, r->provider) == SQLITE_OK &&
           bind_text_or_null(stmt, 4, r->model) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 5, r->key_id) == SQLITE_OK &&
           sqlite3_bind_int(stmt, 6, r->status) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 7, r->latency_ms) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 8, r->ttfb_ms) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 9, r->tokens_in) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 10, r->tokens_out) == SQLITE_OK &&
           sqlite3_bind_int(stmt, 11, r->attempts) == SQLITE_OK &&
           bind_text_or_null(stmt, 12, r->error_class) == SQLITE_OK &&
           sqlite3_bind_int(stmt, 13, r->stream ? 1 : 0) == SQLITE_OK &&
           bind_text_or_null(stmt, 14, r->attempt_log) == SQLITE_OK &&
           bind_text_or_null(stmt, 15, r->content_prompt) == SQLITE_OK &&
           bind_text_or_null(stmt, 16, r->content_answer) == SQLITE_OK;
}

int gw_store_reqlog_append(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_LOG_INSERT];
    int rc;

    if (n == 0)
        return 0;
    rc = gw__store_begin(st, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gw__store_run(st, stmt, bind_row(stmt, &rows[i]), err, "append request log");
    if (rc == 0)
        rc = gw__store_rollups_add(st, rows, n, err);
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int gw_store_reqlog_prune(gw_store_t *st, int64_t min_at_ms, int64_t max_rows, int64_t now_ms,
                          gw_err_t *err)
{
    sqlite3_stmt *age = st->stmt[GW_STMT_LOG_PRUNE_AGE];
    sqlite3_stmt *rows = st->stmt[GW_STMT_LOG_PRUNE_ROWS];
    int rc;

    rc = gw__store_begin(st, err);
    if (rc == 0 && min_at_ms > 0)
        rc = gw__store_run(st, age, sqlite3_bind_int64(age, 1, min_at_ms) == SQLITE_OK, err,
                           "prune request log");
    if (rc == 0 && max_rows >= 0)
        rc = gw__store_run(st, rows, sqlite3_bind_int64(rows, 1, max_rows) == SQLITE_OK, err,
                           "prune request log");
    if (rc == 0)
        rc = gw__store_rollups_prune(st, min_at_ms, now_ms, err);
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int64_t gw_store_reqlog_count(gw_store_t *st)
{
    return gw__store_read_int(st->stmt[GW_STMT_LOG_COUNT]);
}

/* Columns 0..13 as every log SELECT lists them; the attempt log and content
 * (14..16) only when the statement has them. */
static void read_row(sqlite3_stmt *stmt, gw_reqlog_row_t *row)
{
    memset(row, 0, sizeof(*row));
    row->at_ms = sqlite3_column_int64(stmt, 1);
    row->endpoint = (const char *)sqlite3_column_text(stmt, 2);
    row->provider = (const char *)sqlite3_column_text(stmt, 3);
    row->model = (const char *)sqlite3_column_text(stmt, 4);
    row->key_id = sqlite3_column_int64(stmt, 5);
    row->status = sqlite3_column_int(stmt, 6);
    row->latency_ms = sqlite3_column_int64(stmt, 7);
    row->ttfb_ms = sqlite3_column_int64(stmt, 8);
    row->tokens_in = sqlite3_column_int64(stmt, 9);
    row->tokens_out = sqlite3_column_int64(stmt, 10);
    row->attempts = sqlite3_column_int(stmt, 11);
    row->error_class = (const char *)sqlite3_column_text(stmt, 12);
    row->stream = sqlite3_column_int(stmt, 13) != 0;
    if (sqlite3_column_count(stmt) > 16) {
        row->attempt_log = (const char *)sqlite3_column_text(stmt, 14);
        row->content_prompt = (const char *)sqlite3_column_text(stmt, 15);
        row->content_answer = (const char *)sqlite3_column_text(stmt, 16);
    }
}

int gw_store_reqlog_recent(gw_store_t *st, int64_t before_id, size_t limit, gw_reqlog_row_cb cb,
                           void *ctx, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_LOG_RECENT];
    gw_reqlog_row_t row;
    int rc;

    if (sqlite3_bind_int64(stmt, 1, before_id > 0 ? before_id : INT64_MAX) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit) != SQLITE_OK) {
        rc = gw__store_dberr(st, err, "read request log");
        goto out;
    }
    while (gw__store_next_row(st, stmt, &rc, err, "read request log")) {
        read_row(stmt, &row);
        cb(ctx, sqlite3_column_int64(stmt, 0), &row);
    }
out:
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

/* ---- diagnosis, filters, one row ------------------------------------------------ */

const char *gw_reqlog_diagnosis(int status, const char *error_class)
{
    static const struct {
        const char *cls, *diagnosis;
    } classes[] = {
        {"rate_limit_minute", "rate_limited"},   {"exhausted", "rate_limited"},
        {"quota_period", "quota_exhausted"},     {"quota_account", "quota_exhausted"},
        {"payment", "quota_exhausted"},          {"auth", "invalid_key"},
        {"timeout", "timeout"},                  {"server_error", "upstream_error"},
        {"model_unavailable", "upstream_error"}, {"network", "upstream_error"},
        {"stream_interrupted", "upstream_error"}, {"no_route", "upstream_error"},
        {"shutdown", "upstream_error"},          {"bad_request", "client_error"},
        {"context_length", "client_error"},      {"client_closed", "client_error"},
        {"cancelled", "client_error"},
    };

    if (status >= 200 && status < 400 && error_class == NULL)
        return NULL;
    if (error_class != NULL)
        for (size_t i = 0; i < GW_ARRAY_LEN(classes); i++)
            if (strcmp(error_class, classes[i].cls) == 0)
                return classes[i].diagnosis;
    if (status == 429)
        return "rate_limited";
    if (status == 401 || status == 403)
        return "invalid_key";
    if (status == 504)
        return "timeout";
    if (status >= 500)
        return "upstream_error";
    if (status >= 400)
        return "client_error";
    return error_class != NULL ? "upstream_error" : NULL;
}

/* The newest id, or 0 for an empty log. */
static int64_t max_id(gw_store_t *st)
{
    sqlite3_stmt *s = NULL;
    int64_t id = 0;

    if (sqlite3_prepare_v2(st->db, "SELECT max(id) FROM request_log", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

int gw_store_reqlog_query(gw_store_t *st, const gw_reqlog_filter_t *f, gw_reqlog_row_cb cb,
                          void *ctx, int64_t *next_before, gw_err_t *err)
{
    /* A NULL parameter matches everything. Ids grow with time, so the scan
     * walks the primary key down from `before` and stops at `lower`. */
    static const char sql[] =
        "SELECT id, at_ms, endpoint, provider, model, key_id, status, latency_ms, ttfb_ms, "
        "tokens_in, tokens_out, attempts, error_class, stream FROM request_log "
        "WHERE id < ?1 AND id >= ?10 AND (?2 IS NULL OR status >= ?2) "
        "AND (?3 IS NULL OR status <= ?3) AND (?4 IS NULL OR provider = ?4) "
        "AND (?5 IS NULL OR model = ?5) AND (?6 IS NULL OR endpoint = ?6) "
        "AND (?7 IS NULL OR at_ms >= ?7) AND (?8 IS NULL OR at_ms < ?8) "
        "AND (?9 IS NULL OR gw_diagnosis(status, error_class) = ?9) ORDER BY id DESC LIMIT ?11";
    sqlite3_stmt *s = NULL;
    gw_reqlog_row_t row;
    int64_t before = f->before_id > 0 ? f->before_id : max_id(st) + 1;
    int64_t lower = f->max_scan > 0 && before - f->max_scan > 1 ? before - f->max_scan : 1;
    int64_t last = 0;
    size_t seen = 0;
    int rc;
    bool ok;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return gw__store_dberr(st, err, "query request log");
    ok = sqlite3_bind_int64(s, 1, before) == SQLITE_OK &&
         (f->status_min > 0 ? sqlite3_bind_int(s, 2, f->status_min) : SQLITE_OK) == SQLITE_OK &&
         (f->status_max > 0 ? sqlite3_bind_int(s, 3, f->status_max) : SQLITE_OK) == SQLITE_OK &&
         bind_text_or_null(s, 4, f->provider) == SQLITE_OK &&
         bind_text_or_null(s, 5, f->model) == SQLITE_OK &&
         bind_text_or_null(s, 6, f->endpoint) == SQLITE_OK &&
         (f->since_ms > 0 ? sqlite3_bind_int64(s, 7, f->since_ms) : SQLITE_OK) == SQLITE_OK &&
         (f->until_ms > 0 ? sqlite3_bind_int64(s, 8, f->until_ms) : SQLITE_OK) == SQLITE_OK &&
         bind_text_or_null(s, 9, f->diagnosis) == SQLITE_OK &&
         sqlite3_bind_int64(s, 10, lower) == SQLITE_OK &&
         sqlite3_bind_int64(s, 11, f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit) ==
             SQLITE_OK;
    if (!ok) {
        rc = gw__store_dberr(st, err, "query request log");
        goto out;
    }
    while (gw__store_next_row(st, s, &rc, err, "query request log")) {
        read_row(s, &row);
        last = sqlite3_column_int64(s, 0);
        cb(ctx, last, &row);
        seen++;
    }
    if (next_before != NULL)
        *next_before = seen == f->limit ? last : lower > 1 ? lower : 0;
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_reqlog_get(gw_store_t *st, int64_t id, gw_reqlog_row_cb cb, void *ctx,
                        gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_LOG_GET];
    gw_reqlog_row_t row;
    int rc = GW_ENOTFOUND;
    int step;

    if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK) {
        rc = gw__store_dberr(st, err, "read request log");
        goto out;
    }
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        read_row(s, &row);
        cb(ctx, id, &row);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = gw__store_dberr(st, err, "read request log");
    }
out:
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}
