/*
 * Key health as the router last saw it (a probe or a real request): "ok",
 * "invalid", "rate_limited", ... with a short detail and when. Shown by
 * `keys list` and the dashboard; a row goes away with its key.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <string.h>

int gw_store_key_health_set(gw_store_t *st, int64_t key_id, const char *health,
                            const char *detail, int64_t at_ms, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_HEALTH_PUT];
    int rc = GW_EDB;
    int s;

    if (health == NULL || health[0] == '\0' || strlen(health) > 64) {
        gw_err_set(err, GW_EINVAL, 400, "key health must be a short non-empty word");
        return GW_EINVAL;
    }
    if (sqlite3_bind_int64(stmt, 1, key_id) != SQLITE_OK ||
        sqlite3_bind_text(stmt, 2, health, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(stmt, 3, detail != NULL ? detail : "", -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 4, at_ms) != SQLITE_OK) {
        gw__store_dberr(st, err, "save key health");
        goto out;
    }
    s = sqlite3_step(stmt);
    if (s == SQLITE_CONSTRAINT_FOREIGNKEY) {
        rc = GW_ENOTFOUND;
        gw_err_set(err, rc, 404, "no key with id %" PRId64, key_id);
        goto out;
    }
    if (s != SQLITE_DONE) {
        gw__store_dberr(st, err, "save key health");
        goto out;
    }
    rc = 0;
out:
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

int gw_store_key_health_load(gw_store_t *st, gw_key_health_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_HEALTH_SELECT];
    int rc;

    while (gw__store_next_row(st, stmt, &rc, err, "load key health"))
        cb(ctx, sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
           (const char *)sqlite3_column_text(stmt, 2), sqlite3_column_int64(stmt, 3));
    sqlite3_reset(stmt);
    return rc;
}
