/*
 * Provider keys: add (validated, sealed with the row id and provider as AAD),
 * remove, load decrypted, and the masked form shown to people. Plaintext
 * secrets exist only in the records handed to the caller and are wiped with
 * OPENSSL_cleanse when those are freed.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


#include "core/clock.h"

#define SECRET_MAX 4096
#define LABEL_MAX 200
#define ACCOUNT_ID_MAX 128

/* Secrets travel in HTTP headers: printable ASCII, no spaces. */
static int check_secret(const char *secret, gw_err_t *err)
{
    size_t n = secret != NULL ? strlen(secret) : 0;
    size_t i;

    if (n == 0) {
        gw_err_set(err, GW_EINVAL, 400, "the secret is empty");
        return GW_EINVAL;
    }
    if (n > SECRET_MAX) {
        gw_err_set(err, GW_EINVAL, 400, "the secret is too long (%zu bytes, at most %d)", n,
                   SECRET_MAX);
        return GW_EINVAL;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (c <= 0x20 || c >= 0x7f) {
            gw_err_set(err, GW_EINVAL, 400,
                       "the secret contains whitespace, control or non-ASCII characters "
                       "(at byte %zu)",
                       i + 1);
            return GW_EINVAL;
        }
    }
    return 0;
}

static int check_fields(const char *provider, const char *label, const char *account_id,
                        gw_err_t *err)
{
    size_t i;

    if (provider == NULL || provider[0] == '\0' || strlen(provider) > 64) {
        gw_err_set(err, GW_EINVAL, 400, "a provider id (at most 64 characters) is required");
        return GW_EINVAL;
    }
    if (label != NULL) {
        if (strlen(label) > LABEL_MAX) {
            gw_err_set(err, GW_EINVAL, 400, "the label is too long (at most %d bytes)",
                       LABEL_MAX);
            return GW_EINVAL;
        }
        for (i = 0; label[i] != '\0'; i++) {
            if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f) {
                gw_err_set(err, GW_EINVAL, 400, "the label contains control characters");
                return GW_EINVAL;
            }
        }
    }
    if (account_id != NULL) {
        size_t n = strlen(account_id);
        if (n == 0 || n > ACCOUNT_ID_MAX ||
            strspn(account_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_.") != n) {
            gw_err_set(err, GW_EINVAL, 400,
                       "the account id must be 1 to %d letters, digits, '-', '_' or '.'",
                       ACCOUNT_ID_MAX);
            return GW_EINVAL;
        }
    }
    return 0;
}

int gw_store_key_add(gw_store_t *st, const char *provider, const char *secret, const char *label,
                     const char *account_id, int64_t *id_out, gw_err_t *err)
{
    sqlite3_stmt *ins = st->stmt[GW_STMT_KEY_INSERT];
    sqlite3_stmt *seal = st->stmt[GW_STMT_KEY_SEAL];
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    char context[256];
    bool bound;
    int64_t id;
    int rc;

    rc = check_secret(secret, err);
    if (rc == 0)
        rc = check_fields(provider, label, account_id, err);
    if (rc != 0)
        return rc;
    rc = gw__store_begin(st, err);
    if (rc != 0)
        goto out;
    bound = sqlite3_bind_text(ins, 1, provider, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(ins, 2, label != NULL ? label : "", -1, SQLITE_STATIC) ==
                SQLITE_OK &&
            (account_id != NULL ? sqlite3_bind_text(ins, 3, account_id, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(ins, 3)) == SQLITE_OK &&
            sqlite3_bind_int64(ins, 4, gw_now_ms()) == SQLITE_OK;
    rc = gw__store_run(st, ins, bound, err, "add key");
    if (rc != 0)
        goto out;
    id = sqlite3_last_insert_rowid(st->db);
    gw_vault_key_context(context, sizeof(context), id, provider);
    rc = gw_vault_seal(&st->vault, secret, strlen(secret), context, &blob, &blob_len, err);
    if (rc != 0)
        goto out;
    bound = sqlite3_bind_int64(seal, 1, id) == SQLITE_OK &&
            sqlite3_bind_blob(seal, 2, blob, (int)blob_len, SQLITE_STATIC) == SQLITE_OK;
    rc = gw__store_run(st, seal, bound, err, "add key");
    if (rc == 0)
        rc = gw__store_commit(st, err);
    if (rc == 0 && id_out != NULL)
        *id_out = id;
out:
    gw__store_rollback(st);
    free(blob);
    return rc;
}

int gw_store_key_rm(gw_store_t *st, int64_t id, gw_err_t *err)
{
    sqlite3_stmt *del = st->stmt[GW_STMT_KEY_DELETE];
    sqlite3_stmt *usage = st->stmt[GW_STMT_KEY_USAGE_DELETE];
    int rc;

    /* key_health rows go with the key (ON DELETE CASCADE); usage rows have no
     * foreign key (keyless providers count under key 0) so they go here. */
    rc = gw__store_begin(st, err);
    if (rc == 0)
        rc = gw__store_run(st, del, sqlite3_bind_int64(del, 1, id) == SQLITE_OK, err,
                           "remove key");
    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        rc = GW_ENOTFOUND;
        gw_err_set(err, rc, 404, "no key with id %" PRId64, id);
    }
    if (rc == 0)
        rc = gw__store_run(st, usage, sqlite3_bind_int64(usage, 1, id) == SQLITE_OK, err,
                           "remove key");
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int gw_store_key_update(gw_store_t *st, int64_t id, const char *label, int enabled,
                        gw_err_t *err)
{
    sqlite3_stmt *up = st->stmt[GW_STMT_KEY_UPDATE];
    bool bound = sqlite3_bind_int64(up, 1, id) == SQLITE_OK &&
                 (label != NULL ? sqlite3_bind_text(up, 2, label, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(up, 2)) == SQLITE_OK &&
                 (enabled >= 0 ? sqlite3_bind_int(up, 3, enabled != 0)
                               : sqlite3_bind_null(up, 3)) == SQLITE_OK;
    int rc = gw__store_run(st, up, bound, err, "update key");

    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        rc = GW_ENOTFOUND;
        gw_err_set(err, rc, 404, "no key with id %" PRId64, id);
    }
    return rc;
}

static char *column_dup(sqlite3_stmt *stmt, int col)
{
    const char *s = (const char *)sqlite3_column_text(stmt, col);
    return gw_xstrdup(s != NULL ? s : "");
}

int gw_store_keys_load(gw_store_t *st, gw_key_rec_t **out, size_t *n, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_KEYS_SELECT];
    gw_key_rec_t *recs = NULL;
    size_t count = 0;
    size_t cap = 0;
    char context[256];
    int rc;

    *out = NULL;
    *n = 0;
    while (gw__store_next_row(st, stmt, &rc, err, "load keys")) {
        gw_key_rec_t *r;

        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            recs = gw_xrealloc(recs, cap * sizeof(*recs));
        }
        r = &recs[count];
        memset(r, 0, sizeof(*r));
        count++;
        r->id = sqlite3_column_int64(stmt, 0);
        r->provider = column_dup(stmt, 1);
        r->label = column_dup(stmt, 2);
        r->account_id = sqlite3_column_type(stmt, 4) == SQLITE_NULL ? NULL : column_dup(stmt, 4);
        r->created_ms = sqlite3_column_int64(stmt, 5);
        r->enabled = sqlite3_column_int64(stmt, 6) != 0;
        gw_vault_key_context(context, sizeof(context), r->id, r->provider);
        rc = gw_vault_open(&st->vault, sqlite3_column_blob(stmt, 3),
                           (size_t)sqlite3_column_bytes(stmt, 3), context, &r->secret, NULL, err);
        if (rc != 0) {
            gw_err_set(err, rc, 500,
                       "cannot decrypt key %" PRId64 " (%s): its stored secret is corrupt or was "
                       "tampered with; remove it and add it again",
                       r->id, r->provider);
            goto out;
        }
    }
    if (rc == 0) {
        *out = recs;
        *n = count;
        recs = NULL;
        count = 0;
    }
out:
    sqlite3_reset(stmt);
    gw_key_recs_free(recs, count);
    return rc;
}

void gw_key_recs_free(gw_key_rec_t *recs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        gw_vault_free_plain(recs[i].secret);
        free(recs[i].provider);
        free(recs[i].label);
        free(recs[i].account_id);
    }
    free(recs);
}

char *gw_mask_secret(const char *secret)
{
    static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */
    size_t n = secret != NULL ? strlen(secret) : 0;
    /* Show at most a quarter of the secret at each end, and never more than
     * 4 characters: a 40-char key shows 8, a 12-char one 6, a 3-char one 0. */
    size_t k = GW_MIN((size_t)4, n / 4);
    char *out;

    if (n == 0)
        return gw_xstrdup("");
    out = gw_xmalloc(2 * k + sizeof(ellipsis));
    memcpy(out, secret, k);
    memcpy(out + k, ellipsis, sizeof(ellipsis) - 1);
    memcpy(out + k + sizeof(ellipsis) - 1, secret + n - k, k);
    out[2 * k + sizeof(ellipsis) - 1] = '\0';
    return out;
}
