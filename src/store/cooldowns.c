/*
 * Long cooldowns across restarts: the router's benches that outlast a
 * restart (a daily quota spent until the provider's reset) are saved as a
 * whole by the background writer and read back at start.
 */
#include "store/store_int.h"

int gw_store_cooldowns_save(gw_store_t *st, const gw_cooldown_row_t *rows, size_t n,
                            gw_err_t *err)
{
    sqlite3_stmt *ins = NULL;
    int rc = GW_EDB;

    if (gw__store_begin(st, err) != 0)
        return GW_EDB;
    if (sqlite3_exec(st->db, "DELETE FROM cooldowns", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO cooldowns(provider, model, key_id, until_ms) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           -1, &ins, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_text(ins, 1, rows[i].provider, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, rows[i].model, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, rows[i].key_id);
        sqlite3_bind_int64(ins, 4, rows[i].until_ms);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto out;
        sqlite3_reset(ins);
    }
    rc = 0;
out:
    if (rc != 0) {
        gw__store_dberr(st, err, "save cooldowns");
        sqlite3_finalize(ins);
        gw__store_rollback(st);
        return rc;
    }
    sqlite3_finalize(ins);
    return gw__store_commit(st, err);
}

int gw_store_cooldowns_load(gw_store_t *st, int64_t now_ms, gw_cooldown_load_cb cb, void *ctx,
                            gw_err_t *err)
{
    sqlite3_stmt *sel = NULL;
    int rc = GW_EDB;
    int step;

    if (sqlite3_prepare_v2(st->db,
                           "SELECT provider, model, key_id, until_ms FROM cooldowns "
                           "WHERE until_ms > ?1",
                           -1, &sel, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(sel, 1, now_ms);
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        gw_cooldown_row_t row = {(const char *)sqlite3_column_text(sel, 0),
                                 (const char *)sqlite3_column_text(sel, 1),
                                 sqlite3_column_int64(sel, 2), sqlite3_column_int64(sel, 3)};
        if (row.provider != NULL && row.model != NULL)
            cb(ctx, &row);
    }
    if (step == SQLITE_DONE)
        rc = 0;
out:
    if (rc != 0)
        gw__store_dberr(st, err, "load cooldowns");
    sqlite3_finalize(sel);
    return rc;
}
