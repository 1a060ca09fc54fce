/*
 * Which encryption key a database uses, and proof that it is the right one.
 *
 * The key comes from ENCRYPTION_KEY (64 hex chars; an empty value counts as
 * unset) or else <data-dir>/encryption.key, generated on first use only while
 * the database holds nothing sealed. The first open also stores a sealed
 * canary in meta.key_check; every later open must be able to open it, so a
 * different key is refused at open with a clear message instead of showing up
 * later as undecryptable secrets, and a lost key file is never silently
 * replaced by a new key.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/buf.h"

#define KEY_CHECK_NAME "key_check"
#define KEY_CHECK_CONTEXT "meta|key_check"
#define KEY_CHECK_PLAIN "freellmapi key check v1"

static int mismatch(gw_store_t *st, bool from_env, gw_err_t *err)
{
    gw_err_set(err, GW_ECRYPTO, 500,
               "the encryption key (from %s) does not match the one this database was created "
               "with (ENCRYPTION_KEY or %s/" GW_VAULT_KEY_FILE ")",
               from_env ? "ENCRYPTION_KEY" : GW_VAULT_KEY_FILE, st->data_dir);
    return GW_ECRYPTO;
}

/* Opens the canary; 0 when it holds the expected text. */
static int check_canary(gw_store_t *st, const unsigned char *blob, size_t len)
{
    char *plain = NULL;
    size_t plain_len = 0;
    int rc;

    rc = gw_vault_open(&st->vault, blob, len, KEY_CHECK_CONTEXT, &plain, &plain_len, NULL);
    if (rc == 0 && (plain_len != strlen(KEY_CHECK_PLAIN) ||
                    CRYPTO_memcmp(plain, KEY_CHECK_PLAIN, plain_len) != 0))
        rc = GW_ECRYPTO;
    gw_vault_free_plain(plain);
    return rc;
}

/* Whether the database holds sealed data without a canary (written by a build
 * that predates it, or a crash between the first seal and the canary). */
static int sealed_data_present(gw_store_t *st, bool *present, gw_err_t *err)
{
    sqlite3_stmt *keys = st->stmt[GW_STMT_KEYS_FIRST];
    sqlite3_stmt *setting = st->stmt[GW_STMT_SETTING_GET];
    int rc = GW_EDB;
    int s;

    *present = false;
    s = sqlite3_step(keys);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        goto out;
    *present = s == SQLITE_ROW;
    if (sqlite3_bind_text(setting, 1, "unified_key", -1, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    s = sqlite3_step(setting);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        goto out;
    *present = *present || s == SQLITE_ROW;
    rc = 0;
out:
    if (rc != 0)
        gw__store_dberr(st, err, "read keys");
    sqlite3_reset(keys);
    sqlite3_reset(setting);
    sqlite3_clear_bindings(setting);
    return rc;
}

/* Without a canary, the first key row tells whether the key is right. */
static int check_first_key(gw_store_t *st, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_KEYS_FIRST];
    char context[256];
    char *plain = NULL;
    int rc = GW_EDB;
    int s;

    s = sqlite3_step(stmt);
    if (s == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (s != SQLITE_ROW) {
        gw__store_dberr(st, err, "read keys");
        goto out;
    }
    gw_vault_key_context(context, sizeof(context), sqlite3_column_int64(stmt, 0),
                         (const char *)sqlite3_column_text(stmt, 1));
    rc = gw_vault_open(&st->vault, sqlite3_column_blob(stmt, 2),
                       (size_t)sqlite3_column_bytes(stmt, 2), context, &plain, NULL, err);
out:
    gw_vault_free_plain(plain);
    sqlite3_reset(stmt);
    return rc;
}

/* Stores the canary unless a concurrent opener stored one first, then reads
 * back whichever won and checks it. */
static int write_canary(gw_store_t *st, bool from_env, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_META_PUT_NEW];
    unsigned char *blob = NULL;
    size_t len = 0;
    bool bound;
    int rc;

    rc = gw_vault_seal(&st->vault, KEY_CHECK_PLAIN, strlen(KEY_CHECK_PLAIN), KEY_CHECK_CONTEXT,
                       &blob, &len, err);
    if (rc != 0)
        goto out;
    rc = gw__store_begin(st, err);
    if (rc != 0)
        goto out;
    bound = sqlite3_bind_text(stmt, 1, KEY_CHECK_NAME, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_blob(stmt, 2, blob, (int)len, SQLITE_STATIC) == SQLITE_OK;
    rc = gw__store_run(st, stmt, bound, err, "store key check");
    if (rc == 0)
        rc = gw__store_commit(st, err);
    if (rc != 0)
        goto out;
    free(blob);
    blob = NULL;
    rc = gw__store_meta_get(st, KEY_CHECK_NAME, &blob, &len, err);
    if (rc != 0)
        goto out;
    if (check_canary(st, blob, len) != 0)
        rc = mismatch(st, from_env, err);
out:
    gw__store_rollback(st);
    free(blob);
    return rc;
}

int gw__store_keyring_init(gw_store_t *st, gw_err_t *err)
{
    const char *env = getenv("ENCRYPTION_KEY");
    bool from_env = env != NULL && env[0] != '\0';
    unsigned char *check = NULL;
    size_t check_len = 0;
    bool sealed = false;
    gw_buf_t path;
    int rc;

    gw_buf_init(&path, 4096);
    rc = gw__store_meta_get(st, KEY_CHECK_NAME, &check, &check_len, err);
    if (rc != 0 && rc != GW_ENOTFOUND)
        goto out;
    if (rc == 0)
        sealed = true;
    else
        rc = sealed_data_present(st, &sealed, err);
    if (rc != 0)
        goto out;

    if (from_env) {
        rc = gw_vault_key_from_hex(&st->vault, env, strlen(env), "ENCRYPTION_KEY", err);
    } else {
        rc = gw_buf_printf(&path, "%s/%s", st->data_dir, GW_VAULT_KEY_FILE);
        if (rc == 0)
            rc = gw_vault_key_file_load(&st->vault, path.ptr, !sealed, NULL, err);
        if (rc == GW_ENOTFOUND) {
            rc = GW_ECRYPTO;
            gw_err_set(err, rc, 500,
                       "%s is missing but this database was created with an encryption key: "
                       "restore the file or set ENCRYPTION_KEY to the original key",
                       path.ptr);
        }
    }
    if (rc != 0)
        goto out;

    if (check != NULL) {
        if (check_canary(st, check, check_len) != 0)
            rc = mismatch(st, from_env, err);
        goto out;
    }
    rc = check_first_key(st, err);
    if (rc == GW_ECRYPTO)
        rc = mismatch(st, from_env, err);
    if (rc == 0)
        rc = write_canary(st, from_env, err);
out:
    free(check);
    gw_buf_dispose(&path);
    return rc;
}
