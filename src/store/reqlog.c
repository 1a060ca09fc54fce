/*
 * The request log: one row per client request (endpoint, where it was routed,
 * status, timings, tokens, attempts, error class), appended in batches by the
 * server's background writer and pruned by age and row count. Never holds
 * prompt text or secrets.
 */
#include "store/store_int.h"

#include <stdint.h>

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
           sqlite3_bind_int(stmt, 13, r->stream ? 1 : 0) == SQLITE_OK;
}

int gw_store_reqlog_append(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err)
{
    return gw__store_batch(st, st->stmt[GW_STMT_LOG_INSERT], rows, sizeof(*rows), n, bind_row, err,
                           "append request log");
}

int gw_store_reqlog_prune(gw_store_t *st, int64_t min_at_ms, int64_t max_rows, gw_err_t *err)
{
    sqlite3_stmt *age = st->stmt[GW_STMT_LOG_PRUNE_AGE];
    sqlite3_stmt *rows = st->stmt[GW_STMT_LOG_PRUNE_ROWS];
    int rc;

    if (min_at_ms <= 0 && max_rows < 0)
        return 0;
    rc = gw__store_begin(st, err);
    if (rc == 0 && min_at_ms > 0)
        rc = gw__store_run(st, age, sqlite3_bind_int64(age, 1, min_at_ms) == SQLITE_OK, err,
                           "prune request log");
    if (rc == 0 && max_rows >= 0)
        rc = gw__store_run(st, rows, sqlite3_bind_int64(rows, 1, max_rows) == SQLITE_OK, err,
                           "prune request log");
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int64_t gw_store_reqlog_count(gw_store_t *st)
{
    return gw__store_read_int(st->stmt[GW_STMT_LOG_COUNT]);
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
        row.at_ms = sqlite3_column_int64(stmt, 1);
        row.endpoint = (const char *)sqlite3_column_text(stmt, 2);
        row.provider = (const char *)sqlite3_column_text(stmt, 3);
        row.model = (const char *)sqlite3_column_text(stmt, 4);
        row.key_id = sqlite3_column_int64(stmt, 5);
        row.status = sqlite3_column_int(stmt, 6);
        row.latency_ms = sqlite3_column_int64(stmt, 7);
        row.ttfb_ms = sqlite3_column_int64(stmt, 8);
        row.tokens_in = sqlite3_column_int64(stmt, 9);
        row.tokens_out = sqlite3_column_int64(stmt, 10);
        row.attempts = sqlite3_column_int(stmt, 11);
        row.error_class = (const char *)sqlite3_column_text(stmt, 12);
        row.stream = sqlite3_column_int(stmt, 13) != 0;
        cb(ctx, sqlite3_column_int64(stmt, 0), &row);
    }
out:
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}
