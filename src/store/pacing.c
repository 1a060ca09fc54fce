/*
 * Models paced through the day (migration 0010): the share of each daily cap
 * the router keeps back and releases as the provider's period passes.
 * Configuration: a change bumps the counter the server reloads on.
 */
#include "store/store_int.h"

int gw_store_pacing_set(gw_store_t *st, const char *provider, const char *model, double reserve,
                        int64_t now_ms, gw_err_t *err)
{
    sqlite3_stmt *s;
    bool bound;

    if (provider == NULL || provider[0] == '\0' || model == NULL || model[0] == '\0') {
        gw_err_set(err, GW_EINVAL, 400, "a provider and a model id are required");
        return GW_EINVAL;
    }
    if (!(reserve >= 0 && reserve <= 0.95)) {
        gw_err_set(err, GW_EINVAL, 400, "the reserve must be between 0 and 0.95");
        return GW_EINVAL;
    }
    /* Off is no row, so a table of paced models is all there is to load. */
    s = st->stmt[reserve > 0 ? GW_STMT_PACING_PUT : GW_STMT_PACING_DELETE];
    bound = sqlite3_bind_text(s, 1, provider, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(s, 2, model, -1, SQLITE_STATIC) == SQLITE_OK;
    if (reserve > 0)
        bound = bound && sqlite3_bind_double(s, 3, reserve) == SQLITE_OK &&
                sqlite3_bind_int64(s, 4, now_ms) == SQLITE_OK;
    return gw__store_run(st, s, bound, err, "save pacing");
}

int gw_store_pacing_load(gw_store_t *st, gw_pacing_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *s = st->stmt[GW_STMT_PACING_SELECT];
    int rc;

    while (gw__store_next_row(st, s, &rc, err, "load pacing"))
        cb(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
           sqlite3_column_double(s, 2));
    sqlite3_reset(s);
    return rc;
}
