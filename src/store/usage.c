/*
 * Persistence of the router's usage ledger: one row per (provider, model,
 * key, period start) with request and token counts. The ledger keeps the
 * live counts in memory and saves them in batches; a save replaces the
 * stored counts, so saving the same rows twice is harmless.
 */
#include "store/store_int.h"

static bool bind_row(sqlite3_stmt *stmt, const void *row)
{
    const gw_usage_row_t *r = row;

    return sqlite3_bind_text(stmt, 1, r->provider, -1, SQLITE_STATIC) == SQLITE_OK &&
           sqlite3_bind_text(stmt, 2, r->model != NULL ? r->model : "", -1, SQLITE_STATIC) ==
               SQLITE_OK &&
           sqlite3_bind_int64(stmt, 3, r->key_id) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 4, r->period_start_ms) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 5, r->requests) == SQLITE_OK &&
           sqlite3_bind_int64(stmt, 6, r->tokens) == SQLITE_OK;
}

int gw_store_usage_save(gw_store_t *st, const gw_usage_row_t *rows, size_t n, gw_err_t *err)
{
    return gw__store_batch(st, st->stmt[GW_STMT_USAGE_PUT], rows, sizeof(*rows), n, bind_row, err,
                           "save usage");
}

int gw_store_usage_load(gw_store_t *st, gw_usage_row_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_USAGE_SELECT];
    gw_usage_row_t row;
    int rc;

    while (gw__store_next_row(st, stmt, &rc, err, "load usage")) {
        row.provider = (const char *)sqlite3_column_text(stmt, 0);
        row.model = (const char *)sqlite3_column_text(stmt, 1);
        row.key_id = sqlite3_column_int64(stmt, 2);
        row.period_start_ms = sqlite3_column_int64(stmt, 3);
        row.requests = sqlite3_column_int64(stmt, 4);
        row.tokens = sqlite3_column_int64(stmt, 5);
        cb(ctx, &row);
    }
    sqlite3_reset(stmt);
    return rc;
}

int gw_store_usage_prune(gw_store_t *st, int64_t min_period_start_ms, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_USAGE_PRUNE];

    return gw__store_run(st, stmt, sqlite3_bind_int64(stmt, 1, min_period_start_ms) == SQLITE_OK,
                         err, "prune usage");
}
