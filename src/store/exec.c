/*
 * Running the prepared statements (store_int.h): the error message, one-shot
 * writes, transactions, batches of rows in one transaction, reading rows,
 * and the single-value lookups. Each helper resets the statement it ran
 * (gw__store_next_row excepted: the caller resets after its loop), so
 * callers bind, call, and read what came back.
 */
#include "store/store_int.h"

#include <string.h>

int gw__store_dberr(gw_store_t *st, gw_err_t *err, const char *what)
{
    gw_err_set(err, GW_EDB, 500, "store: %s: %s", what, sqlite3_errmsg(st->db));
    return GW_EDB;
}

int gw__store_run(gw_store_t *st, sqlite3_stmt *stmt, bool bound, gw_err_t *err, const char *what)
{
    int rc = 0;

    if (!bound || sqlite3_step(stmt) != SQLITE_DONE)
        rc = gw__store_dberr(st, err, what);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

/* ---- transactions ---------------------------------------------------------- */

int gw__store_begin(gw_store_t *st, gw_err_t *err)
{
    return gw__store_run(st, st->stmt[GW_STMT_BEGIN], true, err,
                         "begin (database busy or locked?)");
}

int gw__store_commit(gw_store_t *st, gw_err_t *err)
{
    return gw__store_run(st, st->stmt[GW_STMT_COMMIT], true, err, "commit");
}

void gw__store_rollback(gw_store_t *st)
{
    if (sqlite3_get_autocommit(st->db))
        return;
    gw__store_run(st, st->stmt[GW_STMT_ROLLBACK], true, NULL, "rollback");
}

int gw__store_batch(gw_store_t *st, sqlite3_stmt *stmt, const void *rows, size_t size, size_t n,
                    gw__store_bind_cb bind, gw_err_t *err, const char *what)
{
    const char *row = rows;
    int rc;

    if (n == 0)
        return 0;
    rc = gw__store_begin(st, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gw__store_run(st, stmt, bind(stmt, row + i * size), err, what);
    if (rc == 0)
        rc = gw__store_commit(st, err);
    gw__store_rollback(st);
    return rc;
}

/* ---- reading --------------------------------------------------------------- */

bool gw__store_next_row(gw_store_t *st, sqlite3_stmt *stmt, int *rc, gw_err_t *err,
                        const char *what)
{
    int s = sqlite3_step(stmt);

    if (s == SQLITE_ROW) {
        *rc = 0;
        return true;
    }
    *rc = s == SQLITE_DONE ? 0 : gw__store_dberr(st, err, what);
    return false;
}

int64_t gw__store_read_int(sqlite3_stmt *stmt)
{
    int64_t v = -1;

    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return v;
}

int gw__store_read_blob(gw_store_t *st, sqlite3_stmt *stmt, const char *name, unsigned char **out,
                        size_t *len, gw_err_t *err, const char *what)
{
    int rc = GW_EDB;
    int s;

    *out = NULL;
    *len = 0;
    if (sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
        goto out;
    s = sqlite3_step(stmt);
    if (s == SQLITE_DONE) {
        rc = GW_ENOTFOUND;
        goto out;
    }
    if (s != SQLITE_ROW)
        goto out;
    *len = (size_t)sqlite3_column_bytes(stmt, 0);
    *out = gw_xmalloc(*len + 1);
    if (*len > 0)
        memcpy(*out, sqlite3_column_blob(stmt, 0), *len);
    (*out)[*len] = '\0';
    rc = 0;
out:
    if (rc == GW_EDB)
        gw__store_dberr(st, err, what);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

int gw__store_meta_get(gw_store_t *st, const char *name, unsigned char **out, size_t *len,
                       gw_err_t *err)
{
    return gw__store_read_blob(st, st->stmt[GW_STMT_META_GET], name, out, len, err, "read meta");
}
