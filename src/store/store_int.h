/*
 * Internals shared by the files of store/: the connection struct, the table of
 * statements prepared at open, transaction helpers and the migration hooks.
 * Nothing outside src/store (and the store's unit tests) includes this.
 */
#ifndef GW_STORE_STORE_INT_H
#define GW_STORE_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"
#include "store/vault.h"

/* Every statement the store runs after open, prepared once (stmts.c). */
enum {
    GW_STMT_BEGIN,
    GW_STMT_COMMIT,
    GW_STMT_ROLLBACK,
    GW_STMT_DATA_VERSION,
    GW_STMT_USER_VERSION,
    GW_STMT_META_GET,
    GW_STMT_META_PUT_NEW,
    GW_STMT_KEY_INSERT,
    GW_STMT_KEY_SEAL,
    GW_STMT_KEY_DELETE,
    GW_STMT_KEY_USAGE_DELETE,
    GW_STMT_KEYS_SELECT,
    GW_STMT_KEYS_FIRST,
    GW_STMT_SETTING_GET,
    GW_STMT_SETTING_PUT,
    GW_STMT_PREF_PUT,
    GW_STMT_PREFS_SELECT,
    GW_STMT_CHAIN_CLEAR,
    GW_STMT_CHAIN_INSERT,
    GW_STMT_CHAIN_SELECT,
    GW_STMT_USAGE_PUT,
    GW_STMT_USAGE_SELECT,
    GW_STMT_USAGE_PRUNE,
    GW_STMT_HEALTH_PUT,
    GW_STMT_HEALTH_SELECT,
    GW_STMT_LOG_INSERT,
    GW_STMT_LOG_PRUNE_AGE,
    GW_STMT_LOG_PRUNE_ROWS,
    GW_STMT_LOG_COUNT,
    GW_STMT_LOG_RECENT,
    GW_STMT_COUNT
};

struct gw_store {
    sqlite3 *db;
    char *data_dir;
    gw_vault_t vault;
    sqlite3_stmt *stmt[GW_STMT_COUNT];
};

/* The SQL of each GW_STMT_* (stmts.c). */
extern const char *const gw__store_stmt_sql[GW_STMT_COUNT];

/* Sets err to "store: <what>: <sqlite message>" and returns GW_EDB. SQLite
 * messages never hold bound values, so no secret can leak through here. */
int gw__store_dberr(gw_store_t *st, gw_err_t *err, const char *what);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout,
 * so a transaction never fails half-way because another writer came first),
 * COMMIT, and ROLLBACK (quiet, safe when no transaction is open). */
int gw__store_begin(gw_store_t *st, gw_err_t *err);
int gw__store_commit(gw_store_t *st, gw_err_t *err);
void gw__store_rollback(gw_store_t *st);

/* A meta row (name -> blob). GW_ENOTFOUND when absent; *out is malloc'd. */
int gw__store_meta_get(gw_store_t *st, const char *name, unsigned char **out, size_t *len,
                       gw_err_t *err);

/* Loads the encryption key and checks it against the database (keyring.c). */
int gw__store_keyring_init(gw_store_t *st, gw_err_t *err);

/* ---- migrations (migrations.c) ------------------------------------------ */

/* The newest schema version this build knows. */
int gw__store_latest_version(void);

/* Applies the migrations after the database's user_version up to and
 * including `target`, each in its own BEGIN IMMEDIATE transaction that
 * re-reads user_version first (so concurrent openers apply each one once).
 * Refuses a database newer than this build (GW_EDB, clear message). Tests use
 * it with a small target to build an old-schema database. */
int gw__store_migrate_to(sqlite3 *db, int target, gw_err_t *err);

/* PRAGMA user_version, or -1 on error. */
int gw__store_user_version(sqlite3 *db);

#endif
