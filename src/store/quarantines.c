/*
 * Models quarantined by hand or by a Test Lab sweep (migration 0009): routing
 * skips them on every key until they are released or a sweep finds them good.
 * Configuration: a change bumps the counter the server reloads on.
 */
#include "store/store_int.h"

static bool named(const char *provider, const char *model, gw_err_t *err)
{
    if (provider == NULL || provider[0] == '\0' || model == NULL || model[0] == '\0') {
        gw_err_set(err, GW_EINVAL, 400, "a provider and a model id are required");
        return false;
    }
    return true;
}

int gw_store_quarantine_put(gw_store_t *st, const char *provider, const char *model,
                            const char *reason, int64_t now_ms, gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_QUARANTINE_PUT];

    if (!named(provider, model, err))
        return GW_EINVAL;
    return gw__store_run(
        st, s,
        sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(s, 3, reason != NULL ? reason : "", -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_int64(s, 4, now_ms) == SQLITE_OK,
        err, "quarantine a model");
}

int gw_store_quarantine_delete(gw_store_t *st, const char *provider, const char *model,
                               gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_QUARANTINE_DELETE];
    int rc;

    if (!named(provider, model, err))
        return GW_EINVAL;
    rc = gw__store_run(st, s,
                       sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC) == SQLITE_OK &&
                           sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC) == SQLITE_OK,
                       err, "release a quarantine");
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        return GW_ENOTFOUND;
    return rc;
}

int gw_store_quarantines_load(gw_store_t *st, gw_quarantine_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_QUARANTINES_SELECT];
    gw_quarantine_rec_t q;
    int rc;

    while (gw__store_next_row(st, s, &rc, err, "load quarantines")) {
        q.provider = (const char *)sqlite3_column_text(s, 0);
        q.model = (const char *)sqlite3_column_text(s, 1);
        q.reason = (const char *)sqlite3_column_text(s, 2);
        q.since_ms = sqlite3_column_int64(s, 3);
        cb(ctx, &q);
    }
    sqlite3_reset(s);
    return rc;
}
