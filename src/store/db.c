/*
 * Opening and closing the database: the data dir, the SQLite connection in
 * WAL mode with a busy timeout, migrations, the encryption key check and the
 * statements prepared once for the connection's life (run through the
 * helpers in exec.c).
 *
 * The CLI and a running server use the same file at once. WAL lets readers
 * run beside the single writer; every write transaction starts with BEGIN
 * IMMEDIATE so it waits (up to the busy timeout) for the write lock up front
 * instead of failing with SQLITE_BUSY half-way through.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/log.h"

#define DB_FILE "freellmapi.db"
#define BUSY_TIMEOUT_MS 5000

/* mkdir -p with mode 0700 for the components it creates. */
static int make_dirs(const char *path, gw_err_t *err)
{
    char *p = gw_xstrdup(path);
    char *s;
    int rc = GW_EIO;

    for (s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            gw_err_set(err, rc, 500, "cannot create %s: %s", p, strerror(errno));
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST) {
        gw_err_set(err, rc, 500, "cannot create data dir %s: %s", p, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(p);
    return rc;
}

/* A data directory others can write lets them swap the database or the key
 * file (created 0700 by us; one made by hand may not be). */
static void warn_if_shared(const char *dir)
{
    struct stat sb;

    if (stat(dir, &sb) != 0 || (sb.st_mode & (S_IWOTH | S_IWGRP)) == 0)
        return;
    gw_log_warn("the data directory %s is writable by %s (mode %04o): anyone who can write "
                "there can replace the database or the encryption key; run `chmod 700 %s`",
                dir, (sb.st_mode & S_IWOTH) ? "every user" : "its group",
                (unsigned)(sb.st_mode & 07777), dir);
}

static int exec_pragma(gw_store_t *st, const char *sql, gw_err_t *err)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return gw__store_dberr(st, err, sql);
    return 0;
}

/* journal_mode answers with a row: check it really became WAL (it stays
 * "delete" on file systems without shared memory, e.g. some network mounts). */
static int set_wal(gw_store_t *st, gw_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    const char *mode;
    int rc = GW_EDB;

    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        gw__store_dberr(st, err, "journal_mode=WAL");
        goto out;
    }
    mode = (const char *)sqlite3_column_text(stmt, 0);
    if (mode == NULL || strcmp(mode, "wal") != 0) {
        gw_err_set(err, rc, 500, "store: the database cannot use WAL mode here (journal mode %s)",
                   mode ? mode : "?");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(stmt);
    return rc;
}

int gw_store_open(gw_store_t **out, const char *data_dir, gw_err_t *err)
{
    gw_store_t *st = gw_xcalloc(1, sizeof(*st));
    gw_buf_t path;
    int rc;
    int i;

    *out = NULL;
    gw_buf_init(&path, 4096);
    st->data_dir = gw_xstrdup(data_dir != NULL && data_dir[0] != '\0' ? data_dir : ".");
    rc = make_dirs(st->data_dir, err);
    if (rc != 0)
        goto out;
    warn_if_shared(st->data_dir);
    rc = gw_buf_printf(&path, "%s/%s", st->data_dir, DB_FILE);
    if (rc != 0) {
        gw_err_set(err, rc, 500, "store: data dir path too long");
        goto out;
    }
    rc = GW_EDB;
    if (sqlite3_open_v2(path.ptr, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        gw_err_set(err, rc, 500, "store: cannot open %s: %s", path.ptr,
                   st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    /* The timeout first: even switching to WAL may wait for another opener. */
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    rc = gw__store_register_functions(st->db) == 0 ? 0 : gw__store_dberr(st, err, "functions");
    if (rc == 0)
        rc = set_wal(st, err);
    if (rc == 0)
        rc = exec_pragma(st, "PRAGMA synchronous = NORMAL", err);
    if (rc == 0)
        rc = exec_pragma(st, "PRAGMA foreign_keys = ON", err);
    if (rc == 0)
        rc = gw__store_migrate_to(st->db, gw__store_latest_version(), err);
    if (rc != 0)
        goto out;
    /* Only the owner may read the database file (ciphertext, but also logs). */
    chmod(path.ptr, 0600);
    for (i = 0; i < GW_STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, gw__store_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmt[i], NULL) != SQLITE_OK) {
            rc = gw__store_dberr(st, err, "prepare");
            goto out;
        }
    }
    rc = gw__store_keyring_init(st, err);
    if (rc != 0)
        goto out;
    *out = st;
    st = NULL;
out:
    gw_buf_dispose(&path);
    if (st != NULL)
        gw_store_close(st);
    return rc;
}

void gw_store_close(gw_store_t *st)
{
    int i;

    if (st == NULL)
        return;
    for (i = 0; i < GW_STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    gw_vault_wipe(&st->vault);
    free(st->data_dir);
    free(st);
}

int gw_store_schema_version(gw_store_t *st)
{
    return (int)gw__store_read_int(st->stmt[GW_STMT_USER_VERSION]);
}

int64_t gw_store_config_version(gw_store_t *st)
{
    return gw__store_read_int(st->stmt[GW_STMT_CONFIG_VERSION]);
}

int gw_store_cache_limit(gw_store_t *st, int kib, gw_err_t *err)
{
    char sql[64];

    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
    return exec_pragma(st, sql, err);
}
