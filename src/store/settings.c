/*
 * User settings: named values, the unified client key (sealed like provider
 * secrets), per-model enable/disable overrides and the ranked fallback chain.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/clock.h"

#define UNIFIED_NAME "unified_key"
#define UNIFIED_CONTEXT "setting|unified_key"
#define UNIFIED_PREFIX "freellmapi-"
#define UNIFIED_RANDOM_BYTES 24 /* 48 hex chars */
#define SETTING_MAX (64 * 1024)
#define CHAIN_MAX 4096

/* ---- named settings ------------------------------------------------------- */

/* Reads a settings row as a blob. GW_ENOTFOUND when absent; *out malloc'd
 * and NUL-terminated. */
static int setting_read(gw_store_t *st, const char *name, unsigned char **out, size_t *len,
                        gw_err_t *err)
{
    int rc = gw__store_read_blob(st, st->stmt[GW_STMT_SETTING_GET], name, out, len, err,
                                 "read setting");

    if (rc == GW_ENOTFOUND)
        gw_err_set(err, rc, 404, "setting %s is not set", name);
    return rc;
}

/* Writes a settings row; the caller holds a transaction or accepts autocommit. */
static int setting_write(gw_store_t *st, const char *name, const void *value, size_t len,
                         bool blob, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_SETTING_PUT];
    bool bound = sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
                 (blob ? sqlite3_bind_blob(stmt, 2, value, (int)len, SQLITE_STATIC)
                       : sqlite3_bind_text(stmt, 2, value, (int)len, SQLITE_STATIC)) == SQLITE_OK &&
                 sqlite3_bind_int64(stmt, 3, gw_now_ms()) == SQLITE_OK;

    return gw__store_run(st, stmt, bound, err, "write setting");
}

static int check_setting_name(const char *name, gw_err_t *err)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 128 ||
        strcmp(name, UNIFIED_NAME) == 0) {
        gw_err_set(err, GW_EINVAL, 400, "invalid or reserved setting name");
        return GW_EINVAL;
    }
    return 0;
}

int gw_store_setting_get(gw_store_t *st, const char *name, char **out, gw_err_t *err)
{
    unsigned char *v = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = check_setting_name(name, err);
    if (rc == 0)
        rc = setting_read(st, name, &v, &len, err);
    if (rc == 0)
        *out = (char *)v;
    return rc;
}

int gw_store_setting_set(gw_store_t *st, const char *name, const char *value, gw_err_t *err)
{
    int rc = check_setting_name(name, err);

    if (rc != 0)
        return rc;
    if (value == NULL || strlen(value) > SETTING_MAX) {
        gw_err_set(err, GW_EINVAL, 400, "setting %s: value missing or too long", name);
        return GW_EINVAL;
    }
    return setting_write(st, name, value, strlen(value), false, err);
}

/* ---- unified client key --------------------------------------------------- */

static int unified_read(gw_store_t *st, char **out, gw_err_t *err)
{
    unsigned char *blob = NULL;
    size_t len = 0;
    int rc;

    rc = setting_read(st, UNIFIED_NAME, &blob, &len, err);
    if (rc == 0)
        rc = gw_vault_open(&st->vault, blob, len, UNIFIED_CONTEXT, out, NULL, err);
    free(blob);
    return rc;
}

int gw_store_unified_key(gw_store_t *st, bool rotate, char **out, gw_err_t *err)
{
    char key[sizeof(UNIFIED_PREFIX) + 2 * UNIFIED_RANDOM_BYTES];
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    int rc;

    *out = NULL;
    if (!rotate) {
        rc = unified_read(st, out, err);
        if (rc != GW_ENOTFOUND)
            return rc;
    }
    rc = gw__store_begin(st, err);
    if (rc != 0)
        goto out;
    /* Under the write lock: another process may have created it meanwhile. */
    if (!rotate) {
        rc = unified_read(st, out, err);
        if (rc != GW_ENOTFOUND)
            goto out;
    }
    memcpy(key, UNIFIED_PREFIX, sizeof(UNIFIED_PREFIX) - 1);
    rc = gw_vault_random_hex(key + sizeof(UNIFIED_PREFIX) - 1, UNIFIED_RANDOM_BYTES, err);
    if (rc == 0)
        rc = gw_vault_seal(&st->vault, key, strlen(key), UNIFIED_CONTEXT, &blob, &blob_len, err);
    if (rc == 0)
        rc = setting_write(st, UNIFIED_NAME, blob, blob_len, true, err);
    if (rc == 0)
        rc = gw__store_commit(st, err);
    if (rc == 0)
        *out = gw_xstrdup(key);
out:
    gw__store_rollback(st);
    OPENSSL_cleanse(key, sizeof(key));
    free(blob);
    return rc;
}

bool gw_store_token_eq(const char *presented, const char *expected)
{
    size_t n;

    if (presented == NULL || expected == NULL)
        return false;
    n = strlen(expected);
    if (strlen(presented) != n)
        return false;
    return CRYPTO_memcmp(presented, expected, n) == 0;
}

/* ---- model preferences ---------------------------------------------------- */

int gw_store_model_enabled_set(gw_store_t *st, const char *provider, const char *model,
                               bool enabled, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_PREF_PUT];
    bool bound;

    if (provider == NULL || provider[0] == '\0' || model == NULL || model[0] == '\0') {
        gw_err_set(err, GW_EINVAL, 400, "a provider and a model id are required");
        return GW_EINVAL;
    }
    bound = sqlite3_bind_text(stmt, 1, provider, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_text(stmt, 2, model, -1, SQLITE_STATIC) == SQLITE_OK &&
            sqlite3_bind_int(stmt, 3, enabled ? 1 : 0) == SQLITE_OK &&
            sqlite3_bind_int64(stmt, 4, gw_now_ms()) == SQLITE_OK;
    return gw__store_run(st, stmt, bound, err, "save model preference");
}

int gw_store_model_prefs_load(gw_store_t *st, gw_model_pref_cb cb, void *ctx, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_PREFS_SELECT];
    int rc;

    while (gw__store_next_row(st, stmt, &rc, err, "load model preferences"))
        cb(ctx, (const char *)sqlite3_column_text(stmt, 0),
           (const char *)sqlite3_column_text(stmt, 1), sqlite3_column_int(stmt, 2) != 0);
    sqlite3_reset(stmt);
    return rc;
}

/* ---- fallback chain ------------------------------------------------------- */

/* "provider/model": the provider is up to the first '/', the model id (which
 * may hold more slashes, "openai/gpt-oss-120b") is the rest. */
static int check_entry(const char *e, gw_err_t *err)
{
    const char *slash = e != NULL ? strchr(e, '/') : NULL;

    if (slash == NULL || slash == e || slash[1] == '\0' || strlen(e) > 512) {
        gw_err_set(err, GW_EINVAL, 400, "chain entries must look like provider/model-id");
        return GW_EINVAL;
    }
    return 0;
}

int gw_store_chain_set(gw_store_t *st, char *const *entries, size_t n, gw_err_t *err)
{
    sqlite3_stmt *ins = st->stmt[GW_STMT_CHAIN_INSERT];
    sqlite3_stmt *clear = st->stmt[GW_STMT_CHAIN_CLEAR];
    size_t i;
    size_t j;
    int rc = GW_EINVAL;

    if (n > CHAIN_MAX) {
        gw_err_set(err, rc, 400, "the chain is too long (at most %d entries)", CHAIN_MAX);
        return rc;
    }
    for (i = 0; i < n; i++) {
        if (check_entry(entries[i], err) != 0)
            return rc;
        for (j = 0; j < i; j++) {
            if (strcmp(entries[i], entries[j]) == 0) {
                gw_err_set(err, rc, 400, "%.150s appears twice in the chain", entries[i]);
                return rc;
            }
        }
    }
    rc = gw__store_begin(st, err);
    if (rc == 0)
        rc = gw__store_run(st, clear, true, err, "save chain");
    for (i = 0; i < n && rc == 0; i++) {
        const char *slash = strchr(entries[i], '/');

        bool bound = sqlite3_bind_int64(ins, 1, (int64_t)i) == SQLITE_OK &&
                     sqlite3_bind_text(ins, 2, entries[i], (int)(slash - entries[i]),
                                       SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_bind_text(ins, 3, slash + 1, -1, SQLITE_STATIC) == SQLITE_OK;

        rc = gw__store_run(st, ins, bound, err, "save chain");
    }
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

int gw_store_chain_load(gw_store_t *st, char ***entries, size_t *n, gw_err_t *err)
{
    sqlite3_stmt *stmt = st->stmt[GW_STMT_CHAIN_SELECT];
    char **v = NULL;
    size_t count = 0;
    size_t cap = 0;
    int rc;

    *entries = NULL;
    *n = 0;
    while (gw__store_next_row(st, stmt, &rc, err, "load chain")) {
        const char *provider;
        const char *model;
        size_t len;

        provider = (const char *)sqlite3_column_text(stmt, 0);
        model = (const char *)sqlite3_column_text(stmt, 1);
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            v = gw_xrealloc(v, cap * sizeof(*v));
        }
        len = strlen(provider) + 1 + strlen(model) + 1;
        v[count] = gw_xmalloc(len);
        snprintf(v[count], len, "%s/%s", provider, model);
        count++;
    }
    if (rc == 0) {
        *entries = v;
        *n = count;
        v = NULL;
        count = 0;
    }
    sqlite3_reset(stmt);
    gw_strv_free(v, count);
    return rc;
}

void gw_strv_free(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
