/*
 * Persistence of the router's usage ledger: one row per (provider, model,
 * key, period start) with request and token counts. The ledger keeps the
 * live counts in memory and saves them in batches; a save replaces the
 * stored counts, so saving the same rows twice is harmless.
 */
#include "store/store_int.h"

int gw_store_usage_save(gw_store_t *st, const gw_usage_row_t *rows, size_t n, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_USAGE_PUT];
    size_t i;
    int rc;

    if (n == 0)
        return 0;
    rc = gw__store_begin(st, err);
    if (rc != 0)
        goto out;
    rc = GW_EDB;
    for (i = 0; i < n; i++) {
        const gw_usage_row_t *r = &rows[i];

        if (sqlite3_bind_text(stmt, 1, r->provider, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(stmt, 2, r->model != NULL ? r->model : "", -1, SQLITE_STATIC) !=
                SQLITE_OK ||
            sqlite3_bind_int64(stmt, 3, r->key_id) != SQLITE_OK ||
            sqlite3_bind_int64(stmt, 4, r->period_start_ms) != SQLITE_OK ||
            sqlite3_bind_int64(stmt, 5, r->requests) != SQLITE_OK ||
            sqlite3_bind_int64(stmt, 6, r->tokens) != SQLITE_OK ||
            sqlite3_step(stmt) != SQLITE_DONE) {
            gw__store_dberr(st, err, "save usage");
            goto out;
        }
        sqlite3_reset(stmt);
    }
    rc = gw__store_commit(st, err);
out:
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    gw__store_rollback(st);
    return rc;
}

int gw_store_usage_load(gw_store_t *st, gw_usage_row_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_USAGE_SELECT];
    gw_usage_row_t row;
    int rc = GW_EDB;
    int s;

    for (;;) {
        s = sqlite3_step(stmt);
        if (s != SQLITE_ROW)
            break;
        row.provider = (const char *)sqlite3_column_text(stmt, 0);
        row.model = (const char *)sqlite3_column_text(stmt, 1);
        row.key_id = sqlite3_column_int64(stmt, 2);
        row.period_start_ms = sqlite3_column_int64(stmt, 3);
        row.requests = sqlite3_column_int64(stmt, 4);
        row.tokens = sqlite3_column_int64(stmt, 5);
        cb(ctx, &row);
    }
    if (s == SQLITE_DONE)
        rc = 0;
    else
        gw__store_dberr(st, err, "load usage");
    sqlite3_reset(stmt);
    return rc;
}

int gw_store_usage_prune(gw_store_t *st, int64_t min_period_start_ms, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_USAGE_PRUNE];
    int rc = GW_EDB;

    if (sqlite3_bind_int64(stmt, 1, min_period_start_ms) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        gw__store_dberr(st, err, "prune usage");
    sqlite3_reset(stmt);
    return rc;
}
