/*
 * The schema, as forward-only migrations. This array is the one source of
 * truth for the schema (there are no .sql files): migration N brings a
 * database from user_version N-1 to N. Never edit a migration that has
 * shipped; append a new one. Each runs in one transaction together with the
 * user_version bump, so a crash leaves the database at N-1 or N, never between.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

typedef struct migration {
    const char *name;
    const char *sql;
} migration_t;

static const migration_t migrations[] = {
    /* 0001 initial schema. meta holds store internals (the key-check
     * canary). Secrets are sealed BLOBs (vault.h); account_id is the
     * Cloudflare account, not secret. settings holds named values, sealed
     * or not, e.g. the unified client key. */
    {"0001_initial",
     "CREATE TABLE meta ("
     "  name TEXT PRIMARY KEY,"
     "  value BLOB NOT NULL"
     ");"
     "CREATE TABLE keys ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  provider TEXT NOT NULL,"
     "  label TEXT NOT NULL DEFAULT '',"
     "  secret BLOB NOT NULL,"
     "  account_id TEXT,"
     "  created_ms INTEGER NOT NULL"
     ");"
     "CREATE INDEX keys_provider ON keys(provider);"
     "CREATE TABLE settings ("
     "  name TEXT PRIMARY KEY,"
     "  value BLOB NOT NULL,"
     "  updated_ms INTEGER NOT NULL"
     ");"
     "CREATE TABLE model_prefs ("
     "  provider TEXT NOT NULL,"
     "  model TEXT NOT NULL,"
     "  enabled INTEGER NOT NULL,"
     "  updated_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (provider, model)"
     ") WITHOUT ROWID;"
     "CREATE TABLE chain ("
     "  pos INTEGER PRIMARY KEY,"
     "  provider TEXT NOT NULL,"
     "  model TEXT NOT NULL,"
     "  UNIQUE (provider, model)"
     ");"
     "CREATE TABLE usage ("
     "  provider TEXT NOT NULL,"
     "  model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL,"
     "  period_start_ms INTEGER NOT NULL,"
     "  requests INTEGER NOT NULL DEFAULT 0,"
     "  tokens INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (provider, model, key_id, period_start_ms)"
     ") WITHOUT ROWID;"
     "CREATE TABLE request_log ("
     "  id INTEGER PRIMARY KEY,"
     "  at_ms INTEGER NOT NULL,"
     "  endpoint TEXT NOT NULL,"
     "  provider TEXT,"
     "  model TEXT,"
     "  key_id INTEGER NOT NULL DEFAULT 0,"
     "  status INTEGER NOT NULL,"
     "  latency_ms INTEGER NOT NULL,"
     "  tokens_in INTEGER NOT NULL DEFAULT 0,"
     "  tokens_out INTEGER NOT NULL DEFAULT 0,"
     "  stream INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE INDEX request_log_at ON request_log(at_ms);"},

    /* 0002 failover detail in the request log (time to first byte, number
     * of attempts, error class of the final outcome) and per-key health
     * (ok | invalid | rate_limited | ... as the router's probes find it),
     * dropped with its key. */
    {"0002_reqlog_detail_key_health",
     "ALTER TABLE request_log ADD COLUMN ttfb_ms INTEGER NOT NULL DEFAULT -1;"
     "ALTER TABLE request_log ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;"
     "ALTER TABLE request_log ADD COLUMN error_class TEXT;"
     "CREATE TABLE key_health ("
     "  key_id INTEGER PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,"
     "  health TEXT NOT NULL,"
     "  detail TEXT NOT NULL DEFAULT '',"
     "  at_ms INTEGER NOT NULL"
     ");"},
    /* 0003 Gemini thought signatures by tool-call id, sealed (the call id is
     * in the authenticated context), so multi-turn tool calls survive a
     * restart; rows expire. */
    {"0003_thought_signatures",
     "CREATE TABLE thought_signatures ("
     "  call_id TEXT PRIMARY KEY,"
     "  sealed BLOB NOT NULL,"
     "  expires_ms INTEGER NOT NULL"
     ") WITHOUT ROWID;"
     "CREATE INDEX thought_signatures_expiry ON thought_signatures(expires_ms);"},
    /* 0004 long cooldowns (a spent daily quota, an unavailable model) survive a
     * restart; the router's own ids (model "" = whole key, key INT64_MIN = all
     * keys). */
    {"0004_cooldowns",
     "CREATE TABLE cooldowns ("
     "  provider TEXT NOT NULL,"
     "  model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL,"
     "  until_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (provider, model, key_id)"
     ") WITHOUT ROWID;"},
    /* 0005 a counter of configuration changes (keys, settings, model
     * preferences, the chain), kept by triggers whoever writes, so the server
     * can tell an outside change from its own request-log and usage writes:
     * PRAGMA data_version changed with every commit of its log writer. */
    {"0005_config_version",
     "CREATE TABLE config_version ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  n INTEGER NOT NULL"
     ");"
     "INSERT INTO config_version (id, n) VALUES (1, 0);"
     "CREATE TRIGGER keys_insert_bumps AFTER INSERT ON keys BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER keys_update_bumps AFTER UPDATE ON keys BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER keys_delete_bumps AFTER DELETE ON keys BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER settings_insert_bumps AFTER INSERT ON settings BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER settings_update_bumps AFTER UPDATE ON settings BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER settings_delete_bumps AFTER DELETE ON settings BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER model_prefs_insert_bumps AFTER INSERT ON model_prefs BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER model_prefs_update_bumps AFTER UPDATE ON model_prefs BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER model_prefs_delete_bumps AFTER DELETE ON model_prefs BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER chain_insert_bumps AFTER INSERT ON chain BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER chain_update_bumps AFTER UPDATE ON chain BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER chain_delete_bumps AFTER DELETE ON chain BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
    },
    /* 0006 a key can be switched off without removing it (the dashboard). */
    {"0006_key_enabled", "ALTER TABLE keys ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;"},
    /* 0007 responses kept for the Responses API's previous_response_id and
     * GET /v1/responses/{id}: the record (request items, output, the response
     * object) sealed like secrets, kept until expires_ms. */
    {"0007_responses", "CREATE TABLE responses (id TEXT PRIMARY KEY, created_ms INTEGER NOT "
                       "NULL, expires_ms INTEGER NOT NULL, record BLOB NOT NULL);"
                       "CREATE INDEX responses_expiry ON responses(expires_ms);"},
    /* 0008 analytics: each request's attempts ("provider\tmodel\tkey\tverdict\t
     * status\tms" lines), its prompt and answer when the user opted in, and
     * the rollups the dashboard reads (store/analytics.h): every dimension per
     * minute and per hour, and per model only (key, endpoint and status class
     * folded: 0, "", 0) per quarter hour and per hour, which is what charts
     * and tables of a long window read. The rollups start
     * empty; the background writer builds them from the raw log once
     * (gw_store_rollups_ensure), then keeps them as it appends. */
    {"0008_analytics",
     "ALTER TABLE request_log ADD COLUMN attempt_log TEXT;"
     "ALTER TABLE request_log ADD COLUMN content_prompt TEXT;"
     "ALTER TABLE request_log ADD COLUMN content_answer TEXT;"
     "CREATE TABLE rollup_minute ("
     "  bucket_ms INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL, endpoint TEXT NOT NULL, status_class INTEGER NOT NULL,"
     "  requests INTEGER NOT NULL, ok INTEGER NOT NULL, tokens_in INTEGER NOT NULL,"
     "  tokens_out INTEGER NOT NULL, latency_sum INTEGER NOT NULL, ttfb_sum INTEGER NOT NULL,"
     "  ttfb_n INTEGER NOT NULL, fallbacks INTEGER NOT NULL, attempts INTEGER NOT NULL,"
     "  lat_hist BLOB NOT NULL, ttfb_hist BLOB NOT NULL,"
     "  PRIMARY KEY (bucket_ms, provider, model, key_id, endpoint, status_class)"
     ") WITHOUT ROWID;"
     "CREATE TABLE rollup_hour ("
     "  bucket_ms INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL, endpoint TEXT NOT NULL, status_class INTEGER NOT NULL,"
     "  requests INTEGER NOT NULL, ok INTEGER NOT NULL, tokens_in INTEGER NOT NULL,"
     "  tokens_out INTEGER NOT NULL, latency_sum INTEGER NOT NULL, ttfb_sum INTEGER NOT NULL,"
     "  ttfb_n INTEGER NOT NULL, fallbacks INTEGER NOT NULL, attempts INTEGER NOT NULL,"
     "  lat_hist BLOB NOT NULL, ttfb_hist BLOB NOT NULL,"
     "  PRIMARY KEY (bucket_ms, provider, model, key_id, endpoint, status_class)"
     ") WITHOUT ROWID;"
     "CREATE TABLE rollup_model_quarter ("
     "  bucket_ms INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL, endpoint TEXT NOT NULL, status_class INTEGER NOT NULL,"
     "  requests INTEGER NOT NULL, ok INTEGER NOT NULL, tokens_in INTEGER NOT NULL,"
     "  tokens_out INTEGER NOT NULL, latency_sum INTEGER NOT NULL, ttfb_sum INTEGER NOT NULL,"
     "  ttfb_n INTEGER NOT NULL, fallbacks INTEGER NOT NULL, attempts INTEGER NOT NULL,"
     "  lat_hist BLOB NOT NULL, ttfb_hist BLOB NOT NULL,"
     "  PRIMARY KEY (bucket_ms, provider, model, key_id, endpoint, status_class)"
     ") WITHOUT ROWID;"
     "CREATE TABLE rollup_model_hour ("
     "  bucket_ms INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL, endpoint TEXT NOT NULL, status_class INTEGER NOT NULL,"
     "  requests INTEGER NOT NULL, ok INTEGER NOT NULL, tokens_in INTEGER NOT NULL,"
     "  tokens_out INTEGER NOT NULL, latency_sum INTEGER NOT NULL, ttfb_sum INTEGER NOT NULL,"
     "  ttfb_n INTEGER NOT NULL, fallbacks INTEGER NOT NULL, attempts INTEGER NOT NULL,"
     "  lat_hist BLOB NOT NULL, ttfb_hist BLOB NOT NULL,"
     "  PRIMARY KEY (bucket_ms, provider, model, key_id, endpoint, status_class)"
     ") WITHOUT ROWID;"
     "CREATE TABLE attempt_hour ("
     "  bucket_ms INTEGER NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,"
     "  key_id INTEGER NOT NULL, verdict TEXT NOT NULL, attempts INTEGER NOT NULL,"
     "  latency_sum INTEGER NOT NULL,"
     "  PRIMARY KEY (bucket_ms, provider, model, key_id, verdict)"
     ") WITHOUT ROWID;"},
    /* 0009 models the user (or a Test Lab sweep) quarantined: routing skips
     * them until released or a sweep finds them good. Configuration, so a
     * change bumps the counter the server reloads on. */
    {"0009_quarantines",
     "CREATE TABLE quarantines ("
     "  provider TEXT NOT NULL, model TEXT NOT NULL, reason TEXT NOT NULL,"
     "  since_ms INTEGER NOT NULL, PRIMARY KEY (provider, model)"
     ") WITHOUT ROWID;"
     "CREATE TRIGGER quarantines_insert_bumps AFTER INSERT ON quarantines BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER quarantines_update_bumps AFTER UPDATE ON quarantines BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER quarantines_delete_bumps AFTER DELETE ON quarantines BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"},
    /* 0010 models paced through the day: the share of each daily cap held
     * back and released as the period passes. Configuration, like 0009. */
    {"0010_pacing",
     "CREATE TABLE pacing ("
     "  provider TEXT NOT NULL, model TEXT NOT NULL, reserve REAL NOT NULL,"
     "  updated_ms INTEGER NOT NULL, PRIMARY KEY (provider, model)"
     ") WITHOUT ROWID;"
     "CREATE TRIGGER pacing_insert_bumps AFTER INSERT ON pacing BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER pacing_update_bumps AFTER UPDATE ON pacing BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"
     "CREATE TRIGGER pacing_delete_bumps AFTER DELETE ON pacing BEGIN"
     "  UPDATE config_version SET n = n + 1;"
     "END;"},
};

int gw__store_latest_version(void)
{
    return (int)GW_ARRAY_LEN(migrations);
}

int gw__store_user_version(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        goto out;
    v = sqlite3_column_int(stmt, 0);
out:
    sqlite3_finalize(stmt);
    return v;
}

/* Applies migration number `version` (1-based) unless another connection did
 * it first (user_version is re-read under the write lock). */
static int apply_one(sqlite3 *db, int version, gw_err_t *err)
{
    const migration_t *m = &migrations[version - 1];
    char bump[64];
    bool in_tx = false;
    int have;
    int rc = GW_EDB;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    in_tx = true;
    have = gw__store_user_version(db);
    if (have >= version) {
        rc = 0; /* done by a concurrent opener; the rollback below ends the no-op */
        goto out;
    }
    if (have != version - 1)
        goto out;
    if (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version);
    if (sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    in_tx = false;
    rc = 0;
out:
    if (rc != 0)
        gw_err_set(err, rc, 500, "store: migration %s failed: %s", m->name, sqlite3_errmsg(db));
    if (in_tx)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int gw__store_migrate_to(sqlite3 *db, int target, gw_err_t *err)
{
    int latest = gw__store_latest_version();
    int have = gw__store_user_version(db);
    int v;

    gw_assert(target >= 0 && target <= latest);
    if (have < 0) {
        gw_err_set(err, GW_EDB, 500, "store: cannot read the schema version: %s",
                   sqlite3_errmsg(db));
        return GW_EDB;
    }
    if (have > latest) {
        gw_err_set(err, GW_EDB, 500,
                   "store: the database has schema version %d but this build knows only up to "
                   "%d; upgrade freellmapi",
                   have, latest);
        return GW_EDB;
    }
    for (v = have + 1; v <= target; v++) {
        int rc = apply_one(db, v, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
