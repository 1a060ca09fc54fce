/*
 * Internals shared by the files of store/: the connection struct, the table of
 * statements prepared at open, the helpers that run them (transactions,
 * batches, row loops) and the migration hooks.
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
    GW_STMT_CONFIG_VERSION,
    GW_STMT_USER_VERSION,
    GW_STMT_META_GET,
    GW_STMT_META_PUT_NEW,
    GW_STMT_KEY_INSERT,
    GW_STMT_KEY_SEAL,
    GW_STMT_KEY_DELETE,
    GW_STMT_KEY_USAGE_DELETE,
    GW_STMT_KEYS_SELECT,
    GW_STMT_KEY_UPDATE,
    GW_STMT_KEYS_FIRST,
    GW_STMT_SETTING_GET,
    GW_STMT_SETTING_PUT,
    GW_STMT_PREF_PUT,
    GW_STMT_PREFS_SELECT,
    GW_STMT_QUARANTINE_PUT,
    GW_STMT_QUARANTINE_DELETE,
    GW_STMT_QUARANTINES_SELECT,
    GW_STMT_PACING_PUT,
    GW_STMT_PACING_DELETE,
    GW_STMT_PACING_SELECT,
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
    GW_STMT_LOG_GET,
    GW_STMT_ROLLUP_MINUTE_ADD,
    GW_STMT_ROLLUP_HOUR_ADD,
    GW_STMT_ROLLUP_MODEL_QUARTER_ADD,
    GW_STMT_ROLLUP_MODEL_HOUR_ADD,
    GW_STMT_ATTEMPT_ADD,
    GW_STMT_RESPONSE_PUT,
    GW_STMT_RESPONSE_GET,
    GW_STMT_RESPONSE_DELETE,
    GW_STMT_RESPONSE_PRUNE,
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

/* ---- running statements (exec.c) ---------------------------------------- */

/* Sets err to "store: <what>: <sqlite message>" and returns GW_EDB. SQLite
 * messages never hold bound values, so no secret can leak through here. */
int gw__store_dberr(gw_store_t *st, gw_err_t *err, const char *what);

/* Runs a statement that returns no rows, its parameters bound by the caller:
 * `bound` is false when a bind failed (the statement is then not stepped).
 * Resets it and clears its bindings either way. 0, or GW_EDB with err set
 * to "store: <what>: ...". */
int gw__store_run(gw_store_t *st, sqlite3_stmt *stmt, bool bound, gw_err_t *err,
                  const char *what);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout,
 * so a transaction never fails half-way because another writer came first),
 * COMMIT, and ROLLBACK (quiet, safe when no transaction is open). */
int gw__store_begin(gw_store_t *st, gw_err_t *err);
int gw__store_commit(gw_store_t *st, gw_err_t *err);
void gw__store_rollback(gw_store_t *st);

/* Binds one row (of a batch) to stmt; false when a bind failed. */
typedef bool (*gw__store_bind_cb)(sqlite3_stmt *stmt, const void *row);

/* Runs stmt once per row of rows[n] (each `size` bytes, bound by `bind`),
 * all in one transaction: every row is written or none. n == 0 writes
 * nothing. 0, or GW_EDB (err "store: <what>: ...") after a rollback. */
int gw__store_batch(gw_store_t *st, sqlite3_stmt *stmt, const void *rows, size_t size, size_t n,
                    gw__store_bind_cb bind, gw_err_t *err, const char *what);

/* Steps a statement that returns rows: true with the next row ready; false
 * after the last one (*rc = 0) or on failure (*rc = GW_EDB, err "store:
 * <what>: ..."). The caller resets the statement after the loop:
 *
 *     while (gw__store_next_row(st, stmt, &rc, err, "load x"))
 *         use(sqlite3_column_*(stmt, ...));
 *     sqlite3_reset(stmt);
 */
bool gw__store_next_row(gw_store_t *st, sqlite3_stmt *stmt, int *rc, gw_err_t *err,
                        const char *what);

/* The integer in the first column of the first row (a PRAGMA, a count), or
 * -1 when there is no row or the statement fails. Resets the statement. */
int64_t gw__store_read_int(sqlite3_stmt *stmt);

/* Runs a lookup by name (bound to ?1) whose one column is a blob or text.
 * GW_ENOTFOUND when no row matches (err untouched), GW_EDB (err "store:
 * <what>: ...") on failure. *out is malloc'd and NUL-terminated, *len
 * excludes the NUL. */
int gw__store_read_blob(gw_store_t *st, sqlite3_stmt *stmt, const char *name, unsigned char **out,
                        size_t *len, gw_err_t *err, const char *what);

/* A meta row (name -> blob), as gw__store_read_blob. */
int gw__store_meta_get(gw_store_t *st, const char *name, unsigned char **out, size_t *len,
                       gw_err_t *err);

/* ---- rollups (rollups.c) ---------------------------------------------------- */

/* The SQL function the rollups' upserts use (gw_hist_merge), on every
 * connection before anything is prepared. */
int gw__store_register_functions(sqlite3 *db);
/* Adds the rows' rollups inside the caller's transaction. */
int gw__store_rollups_add(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err);
/* Deletes rollups before their horizons (whole hours before min_at_ms when it
 * is > 0), inside the caller's transaction. */
int gw__store_rollups_prune(gw_store_t *st, int64_t min_at_ms, int64_t now_ms, gw_err_t *err);

/* ---- keyring (keyring.c) -------------------------------------------------- */

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
