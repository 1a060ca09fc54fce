/*
 * Gemini thought signatures, sealed like every secret (context
 * "sig|<call_id>", so a row copied under another id fails to open), with an
 * expiry. Statements are few and rare: prepared per call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static void sig_context(char *buf, size_t n, const char *call_id)
{
    snprintf(buf, n, "sig|%s", call_id);
}

int gw_store_sig_put(gw_store_t *st, const char *call_id, const char *signature,
                     int64_t expires_ms, gw_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    unsigned char *blob = NULL;
    size_t blen = 0;
    char ctx[300];
    int rc = GW_EDB;

    if (strlen(call_id) > 256) {
        gw_err_set(err, GW_EINVAL, 400, "tool call id too long");
        return GW_EINVAL;
    }
    sig_context(ctx, sizeof(ctx), call_id);
    rc = gw_vault_seal(&st->vault, signature, strlen(signature), ctx, &blob, &blen, err);
    if (rc != 0)
        return rc;
    rc = GW_EDB;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO thought_signatures(call_id, sealed, "
                           "expires_ms) VALUES (?1, ?2, ?3)",
                           -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_text(stmt, 1, call_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 2, blob, (int)blen, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, expires_ms);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        gw__store_dberr(st, err, "store thought signature");
    sqlite3_finalize(stmt);
    free(blob);
    return rc;
}

int gw_store_sig_get(gw_store_t *st, const char *call_id, int64_t now_ms, char **out,
                     gw_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    char ctx[300];
    size_t len = 0;
    int rc = GW_EDB;
    int step;

    *out = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT sealed FROM thought_signatures WHERE call_id = ?1 AND "
                           "expires_ms > ?2",
                           -1, &stmt, NULL) != SQLITE_OK) {
        gw__store_dberr(st, err, "read thought signature");
        return GW_EDB;
    }
    sqlite3_bind_text(stmt, 1, call_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now_ms);
    step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = GW_ENOTFOUND;
    } else if (step == SQLITE_ROW) {
        char *plain = NULL;
        sig_context(ctx, sizeof(ctx), call_id);
        rc = gw_vault_open(&st->vault, sqlite3_column_blob(stmt, 0),
                           (size_t)sqlite3_column_bytes(stmt, 0), ctx, &plain, &len, err);
        if (rc == 0) {
            *out = gw_xstrndup(plain, len);
            gw_vault_free_plain(plain);
        }
    } else {
        gw__store_dberr(st, err, "read thought signature");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int gw_store_sig_prune(gw_store_t *st, int64_t now_ms, gw_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    int rc = GW_EDB;

    if (sqlite3_prepare_v2(st->db, "DELETE FROM thought_signatures WHERE expires_ms <= ?1", -1,
                           &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, now_ms);
        if (sqlite3_step(stmt) == SQLITE_DONE)
            rc = 0;
    }
    if (rc != 0)
        gw__store_dberr(st, err, "prune thought signatures");
    sqlite3_finalize(stmt);
    return rc;
}
