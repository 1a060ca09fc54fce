/*
 * Unit tests for store/migrations.c: a database built at an old schema
 * version (through the gw__store_migrate_to test hook) and filled with rows
 * is migrated by gw_store_open to the latest version with its data intact;
 * a database newer than the build is refused; re-running is a no-op.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/analytics.h"
#include "store/store_int.h"
#include "test_util.h"

static const char key_a[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

typedef struct fixture {
    char dir[GW_TEST_DIR_MAX];
    char db[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (gw_test_dir_make(f->dir, "migr") != 0)
        return -1;
    gw_test_path(f->db, sizeof(f->db), f->dir, "freellmapi.db");
    setenv("ENCRYPTION_KEY", key_a, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_test_dir_remove(f->dir);
    unsetenv("ENCRYPTION_KEY");
    free(f);
    return 0;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Builds a version-1 database holding one sealed key, request log rows in the
 * version-1 shape, usage, preferences and a chain, as an old build would. */
static void make_v1(fixture_t *f)
{
    static const char secret[] = "gsk_old_schema_secret_42";
    gw_vault_t vault = {0};
    gw_err_t err = {0};
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    char ctx[64];

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(gw__store_migrate_to(db, 1, &err), 0);
    assert_int_equal(gw__store_user_version(db), 1);

    assert_int_equal(gw_vault_key_from_hex(&vault, key_a, strlen(key_a), "k", &err), 0);
    gw_vault_key_context(ctx, sizeof(ctx), 1, "groq");
    assert_int_equal(gw_vault_seal(&vault, secret, strlen(secret), ctx, &blob, &len, &err), 0);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO keys (id, provider, label, secret, "
                                        "created_ms) VALUES (1, 'groq', 'old', ?1, 1234)",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, blob, (int)len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    free(blob);

    exec_ok(db, "INSERT INTO request_log (at_ms, endpoint, provider, model, key_id, status, "
                "latency_ms, tokens_in, tokens_out, stream) VALUES "
                "(100, '/v1/chat/completions', 'groq', 'llama', 1, 200, 40, 5, 7, 1),"
                "(200, '/v1/embeddings', NULL, NULL, 0, 503, 10, 0, 0, 0)");
    exec_ok(db, "INSERT INTO usage VALUES ('groq', 'llama', 1, 86400000, 12, 3400)");
    exec_ok(db, "INSERT INTO model_prefs VALUES ('groq', 'llama', 0, 1)");
    exec_ok(db, "INSERT INTO chain VALUES (0, 'groq', 'llama'), (1, 'google', 'gemini')");
    /* Version 2's objects are not there yet. */
    assert_int_not_equal(sqlite3_exec(db, "SELECT ttfb_ms FROM request_log", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM key_health", NULL, NULL, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
}

typedef struct log_seen {
    int64_t ttfb[4];
    int attempts[4];
    bool has_class[4];
    int status[4];
    size_t n;
} log_seen_t;

static void on_log(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    log_seen_t *s = ctx;

    (void)id;
    if (s->n >= 4)
        return;
    s->ttfb[s->n] = r->ttfb_ms;
    s->attempts[s->n] = r->attempts;
    s->has_class[s->n] = r->error_class != NULL;
    s->status[s->n] = r->status;
    s->n++;
}

static void on_usage(void *ctx, const gw_usage_row_t *row)
{
    int64_t *total = ctx;
    *total += row->requests * 100000 + row->tokens;
}

static void on_pref(void *ctx, const char *provider, const char *model, bool enabled)
{
    int *n = ctx;
    (void)provider;
    (void)model;
    *n += enabled ? 100 : 1;
}

static void on_pacing(void *ctx, const char *provider, const char *model, double reserve)
{
    (void)provider;
    (void)model;
    *(int *)ctx += (int)(reserve * 100 + 0.5);
}

static void test_migrate_v1_to_latest(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    gw_key_rec_t *recs = NULL;
    size_t n = 0;
    log_seen_t seen = {0};
    int64_t usage = 0;
    int prefs = 0;
    char **chain = NULL;

    make_v1(f);
    if (gw_store_open(&st, f->dir, &err) != 0)
        fail_msg("open: %s", err.msg);
    assert_int_equal(gw_store_schema_version(st), gw__store_latest_version());
    assert_int_equal(gw__store_latest_version(), 10);
    /* 0005: the configuration counter starts at 0 and follows every change. */
    assert_int_equal(gw_store_config_version(st), 0);
    assert_int_equal(gw_store_setting_set(st, "x", "1", &err), 0);
    assert_int_equal(gw_store_config_version(st), 1);

    /* The old rows survived, the new columns have their defaults. */
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].secret, "gsk_old_schema_secret_42");
    assert_string_equal(recs[0].label, "old");
    assert_int_equal(recs[0].created_ms, 1234);
    assert_true(recs[0].enabled); /* keys from before 0006 stay switched on */
    gw_key_recs_free(recs, n);

    assert_int_equal(gw_store_reqlog_count(st), 2);
    assert_int_equal(gw_store_reqlog_recent(st, 0, 10, on_log, &seen, &err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.status[0], 503);
    assert_int_equal(seen.ttfb[0], -1);
    assert_int_equal(seen.attempts[0], 1);
    assert_false(seen.has_class[0]);
    assert_int_equal(seen.status[1], 200);
    /* 0009: a quarantine is configuration: the counter follows it. */
    {
        int64_t before = gw_store_config_version(st);
        assert_int_equal(gw_store_quarantine_put(st, "groq", "m1", "sweep: auth", 5, &err), 0);
        assert_int_equal(gw_store_config_version(st), before + 1);
        assert_int_equal(gw_store_quarantine_delete(st, "groq", "m1", &err), 0);
        assert_int_equal(gw_store_quarantine_delete(st, "groq", "m1", &err), GW_ENOTFOUND);
    }
    /* 0010: pacing is configuration too; 0 turns it off (no row). */
    {
        int64_t before = gw_store_config_version(st);
        int paced = 0;
        assert_int_equal(gw_store_pacing_set(st, "groq", "m1", 0.5, 5, &err), 0);
        assert_int_equal(gw_store_config_version(st), before + 1);
        assert_int_equal(gw_store_pacing_load(st, on_pacing, &paced, &err), 0);
        assert_int_equal(paced, 50);
        assert_int_equal(gw_store_pacing_set(st, "groq", "m1", 0.96, 5, &err), GW_EINVAL);
        assert_int_equal(gw_store_pacing_set(st, "groq", "m1", 0, 6, &err), 0);
        paced = 0;
        assert_int_equal(gw_store_pacing_load(st, on_pacing, &paced, &err), 0);
        assert_int_equal(paced, 0);
    }
    /* 0008: the rollups of an upgraded database are built once, by the writer. */
    {
        bool rebuilt = false;
        assert_int_equal(gw_store_rollups_ensure(st, 1000000, &rebuilt, &err), 0);
        assert_true(rebuilt);
        assert_int_equal(gw_store_rollups_ensure(st, 1000000, &rebuilt, &err), 0);
        assert_false(rebuilt);
    }

    assert_int_equal(gw_store_usage_load(st, on_usage, &usage, &err), 0);
    assert_int_equal(usage, 12 * 100000 + 3400);
    assert_int_equal(gw_store_model_prefs_load(st, on_pref, &prefs, &err), 0);
    assert_int_equal(prefs, 1);
    assert_int_equal(gw_store_chain_load(st, &chain, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(chain[0], "groq/llama");
    assert_string_equal(chain[1], "google/gemini");
    gw_strv_free(chain, n);

    /* Version 2's table works, and cascades with its key. */
    assert_int_equal(gw_store_key_health_set(st, 1, "ok", NULL, 5, &err), 0);
    assert_int_equal(gw_store_key_rm(st, 1, &err), 0);
    gw_store_close(st);

    /* Opening again is a no-op at the latest version. */
    st = NULL;
    assert_int_equal(gw_store_open(&st, f->dir, &err), 0);
    assert_int_equal(gw_store_schema_version(st), gw__store_latest_version());
    assert_int_equal(gw_store_reqlog_count(st), 2);
    gw_store_close(st);
}

/* The first open of an old database that holds secrets but no key-check
 * canary checks the key against a stored secret before adopting it. */
static void test_migrate_checks_key(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    make_v1(f);
    setenv("ENCRYPTION_KEY",
           "0000000000000000000000000000000000000000000000000000000000000000", 1);
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_ECRYPTO);
    assert_null(st);
    assert_non_null(strstr(err.msg, "does not match"));
    /* The schema was migrated, but no canary was written for the wrong key. */
    setenv("ENCRYPTION_KEY", key_a, 1);
    assert_int_equal(gw_store_open(&st, f->dir, &err), 0);
    gw_store_close(st);
}

static void test_newer_schema_refused(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(gw__store_migrate_to(db, gw__store_latest_version(), &err), 0);
    exec_ok(db, "PRAGMA user_version = 99");
    sqlite3_close(db);
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_EDB);
    assert_null(st);
    assert_non_null(strstr(err.msg, "schema version 99"));
    assert_non_null(strstr(err.msg, "upgrade"));
}

/* Step by step equals all at once. */
static void test_stepwise(void **state)
{
    fixture_t *f = *state;
    gw_err_t err = {0};
    sqlite3 *db = NULL;
    int v;

    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    assert_int_equal(gw__store_user_version(db), 0);
    for (v = 0; v <= gw__store_latest_version(); v++) {
        assert_int_equal(gw__store_migrate_to(db, v, &err), 0);
        assert_int_equal(gw__store_user_version(db), v);
        /* Asking for a version already passed changes nothing. */
        assert_int_equal(gw__store_migrate_to(db, 0, &err), 0);
        assert_int_equal(gw__store_user_version(db), v);
    }
    exec_ok(db, "SELECT ttfb_ms, attempts, error_class FROM request_log");
    sqlite3_close(db);
}

int main(void)
{
    gw_test_log_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_v1_to_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_checks_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stepwise, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
