/*
 * Stored responses of the Responses API (see store.h): one sealed record per
 * response id, kept until it expires. Sealed with the vault like secrets:
 * they hold the conversation, and the database file may travel (backups)
 * without the key.
 */
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void context_of(const char *id, char *out, size_t n)
{
    snprintf(out, n, "response|%s", id);
}

int gw_store_response_put(gw_store_t *st, const char *id, const char *record, int64_t now_ms,
                          int64_t ttl_ms, gw_err_t *err)
{
    sqlite3_stmt *put = st->stmt[GW_STMT_RESPONSE_PUT];
    sqlite3_stmt *prune = st->stmt[GW_STMT_RESPONSE_PRUNE];
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    char ctx[160];
    int rc;

    context_of(id, ctx, sizeof(ctx));
    rc = gw_vault_seal(&st->vault, record, strlen(record), ctx, &sealed, &sealed_len, err);
    if (rc != 0)
        return rc;
    rc = gw__store_run(st, put,
                       sqlite3_bind_text(put, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
                           sqlite3_bind_int64(put, 2, now_ms) == SQLITE_OK &&
                           sqlite3_bind_int64(put, 3, now_ms + ttl_ms) == SQLITE_OK &&
                           sqlite3_bind_blob(put, 4, sealed, (int)sealed_len, SQLITE_STATIC) ==
                               SQLITE_OK,
                       err, "store response");
    free(sealed);
    if (rc == 0) /* expired ones go as new ones come */
        rc = gw__store_run(st, prune, sqlite3_bind_int64(prune, 1, now_ms) == SQLITE_OK, err,
                           "prune responses");
    return rc;
}

int gw_store_response_get(gw_store_t *st, const char *id, int64_t now_ms, char **record,
                          gw_err_t *err)
{
    sqlite3_stmt *get = st->stmt[GW_STMT_RESPONSE_GET];
    char ctx[160];
    int rc = GW_ENOTFOUND;

    *record = NULL;
    if (sqlite3_bind_text(get, 1, id, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(get, 2, now_ms) != SQLITE_OK) {
        sqlite3_reset(get);
        sqlite3_clear_bindings(get);
        return gw__store_dberr(st, err, "read response");
    }
    if (gw__store_next_row(st, get, &rc, err, "read response")) {
        context_of(id, ctx, sizeof(ctx));
        rc = gw_vault_open(&st->vault, sqlite3_column_blob(get, 0),
                           (size_t)sqlite3_column_bytes(get, 0), ctx, record, NULL, err);
    } else if (rc == 0) {
        rc = GW_ENOTFOUND;
        gw_err_set(err, rc, 404, "no stored response %s", id);
    }
    sqlite3_reset(get);
    sqlite3_clear_bindings(get);
    return rc;
}

int gw_store_response_delete(gw_store_t *st, const char *id, gw_err_t *err)
{
    sqlite3_stmt *del = st->stmt[GW_STMT_RESPONSE_DELETE];
    int rc = gw__store_run(st, del, sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC) == SQLITE_OK,
                           err, "delete response");

    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        rc = GW_ENOTFOUND;
        gw_err_set(err, rc, 404, "no stored response %s", id);
    }
    return rc;
}
