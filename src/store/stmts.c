/*
 * Every SQL statement the store runs after open, indexed by GW_STMT_*. They
 * are prepared once in gw_store_open (so a typo or a schema mismatch fails at
 * start, not on the first request) and reset after each use.
 */
#include "store/store_int.h"

/* Rollup cells add up: the writer aggregates a batch into cells, each cell
 * one upsert per table. */
#define ROLLUP_UPSERT(table)                                                                      \
    "INSERT INTO " table " (bucket_ms, provider, model, key_id, endpoint, status_class, "         \
    "requests, ok, tokens_in, tokens_out, latency_sum, ttfb_sum, ttfb_n, fallbacks, attempts, "   \
    "lat_hist, ttfb_hist) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "  \
    "?15, ?16, ?17) ON CONFLICT DO UPDATE SET requests = requests + excluded.requests, "          \
    "ok = ok + excluded.ok, tokens_in = tokens_in + excluded.tokens_in, "                         \
    "tokens_out = tokens_out + excluded.tokens_out, "                                             \
    "latency_sum = latency_sum + excluded.latency_sum, ttfb_sum = ttfb_sum + excluded.ttfb_sum, " \
    "ttfb_n = ttfb_n + excluded.ttfb_n, fallbacks = fallbacks + excluded.fallbacks, "            \
    "attempts = attempts + excluded.attempts, "                                                   \
    "lat_hist = gw_hist_merge(lat_hist, excluded.lat_hist), "                                     \
    "ttfb_hist = gw_hist_merge(ttfb_hist, excluded.ttfb_hist)"

const char *const gw__store_stmt_sql[GW_STMT_COUNT] = {
    [GW_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [GW_STMT_COMMIT] = "COMMIT",
    [GW_STMT_ROLLBACK] = "ROLLBACK",
    [GW_STMT_CONFIG_VERSION] = "SELECT n FROM config_version WHERE id = 1",
    [GW_STMT_USER_VERSION] = "PRAGMA user_version",

    [GW_STMT_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [GW_STMT_META_PUT_NEW] = "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",

    /* A key row is inserted with an empty secret, then sealed with its own id
     * in the AAD and updated, inside one transaction. */
    [GW_STMT_KEY_INSERT] = "INSERT INTO keys (provider, label, secret, account_id, created_ms) "
                           "VALUES (?1, ?2, x'', ?3, ?4)",
    [GW_STMT_KEY_SEAL] = "UPDATE keys SET secret = ?2 WHERE id = ?1",
    [GW_STMT_KEY_DELETE] = "DELETE FROM keys WHERE id = ?1",
    [GW_STMT_KEY_USAGE_DELETE] = "DELETE FROM usage WHERE key_id = ?1",
    [GW_STMT_KEYS_SELECT] = "SELECT id, provider, label, secret, account_id, created_ms, "
                            "enabled FROM keys ORDER BY id",
    [GW_STMT_KEY_UPDATE] = "UPDATE keys SET label = coalesce(?2, label), "
                           "enabled = coalesce(?3, enabled) WHERE id = ?1",
    [GW_STMT_KEYS_FIRST] = "SELECT id, provider, secret FROM keys ORDER BY id LIMIT 1",

    [GW_STMT_SETTING_GET] = "SELECT value FROM settings WHERE name = ?1",
    [GW_STMT_SETTING_PUT] = "INSERT INTO settings (name, value, updated_ms) VALUES (?1, ?2, ?3) "
                            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                            "updated_ms = excluded.updated_ms",

    [GW_STMT_PREF_PUT] = "INSERT INTO model_prefs (provider, model, enabled, updated_ms) "
                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (provider, model) DO UPDATE "
                         "SET enabled = excluded.enabled, updated_ms = excluded.updated_ms",
    [GW_STMT_PREFS_SELECT] = "SELECT provider, model, enabled FROM model_prefs "
                             "ORDER BY provider, model",

    [GW_STMT_QUARANTINE_PUT] = "INSERT INTO quarantines (provider, model, reason, since_ms) "
                               "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (provider, model) DO UPDATE "
                               "SET reason = excluded.reason",
    [GW_STMT_QUARANTINE_DELETE] = "DELETE FROM quarantines WHERE provider = ?1 AND model = ?2",
    [GW_STMT_QUARANTINES_SELECT] = "SELECT provider, model, reason, since_ms FROM quarantines "
                                   "ORDER BY since_ms",
    [GW_STMT_PACING_PUT] = "INSERT INTO pacing (provider, model, reserve, updated_ms) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (provider, model) DO UPDATE "
                           "SET reserve = excluded.reserve, updated_ms = excluded.updated_ms",
    [GW_STMT_PACING_DELETE] = "DELETE FROM pacing WHERE provider = ?1 AND model = ?2",
    [GW_STMT_PACING_SELECT] = "SELECT provider, model, reserve FROM pacing "
                              "ORDER BY provider, model",
    [GW_STMT_CHAIN_CLEAR] = "DELETE FROM chain",
    [GW_STMT_CHAIN_INSERT] = "INSERT INTO chain (pos, provider, model) VALUES (?1, ?2, ?3)",
    [GW_STMT_CHAIN_SELECT] = "SELECT provider, model FROM chain ORDER BY pos",

    /* The ledger owns the counts: a save replaces them (idempotent). */
    [GW_STMT_USAGE_PUT] = "INSERT INTO usage "
                          "(provider, model, key_id, period_start_ms, requests, tokens) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                          "ON CONFLICT (provider, model, key_id, period_start_ms) DO UPDATE "
                          "SET requests = excluded.requests, tokens = excluded.tokens",
    [GW_STMT_USAGE_SELECT] = "SELECT provider, model, key_id, period_start_ms, requests, tokens "
                             "FROM usage ORDER BY provider, model, key_id, period_start_ms",
    [GW_STMT_USAGE_PRUNE] = "DELETE FROM usage WHERE period_start_ms < ?1",

    [GW_STMT_HEALTH_PUT] = "INSERT INTO key_health (key_id, health, detail, at_ms) "
                           "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key_id) DO UPDATE "
                           "SET health = excluded.health, detail = excluded.detail, "
                           "at_ms = excluded.at_ms",
    [GW_STMT_HEALTH_SELECT] = "SELECT key_id, health, detail, at_ms FROM key_health "
                              "ORDER BY key_id",

    [GW_STMT_LOG_INSERT] = "INSERT INTO request_log (at_ms, endpoint, provider, model, key_id, "
                           "status, latency_ms, ttfb_ms, tokens_in, tokens_out, attempts, "
                           "error_class, stream, attempt_log, content_prompt, content_answer) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                           "?14, ?15, ?16)",
    [GW_STMT_LOG_PRUNE_AGE] = "DELETE FROM request_log WHERE at_ms < ?1",
    /* Keeps the ?1 newest rows: ids grow with insertion order. */
    [GW_STMT_LOG_PRUNE_ROWS] = "DELETE FROM request_log WHERE id <= "
                               "(SELECT id FROM request_log ORDER BY id DESC LIMIT 1 OFFSET ?1)",
    [GW_STMT_LOG_COUNT] = "SELECT count(*) FROM request_log",
    [GW_STMT_LOG_RECENT] = "SELECT id, at_ms, endpoint, provider, model, key_id, status, "
                           "latency_ms, ttfb_ms, tokens_in, tokens_out, attempts, error_class, "
                           "stream FROM request_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    [GW_STMT_LOG_GET] = "SELECT id, at_ms, endpoint, provider, model, key_id, status, "
                        "latency_ms, ttfb_ms, tokens_in, tokens_out, attempts, error_class, "
                        "stream, attempt_log, content_prompt, content_answer "
                        "FROM request_log WHERE id = ?1",
    [GW_STMT_ROLLUP_MINUTE_ADD] = ROLLUP_UPSERT("rollup_minute"),
    [GW_STMT_ROLLUP_HOUR_ADD] = ROLLUP_UPSERT("rollup_hour"),
    [GW_STMT_ROLLUP_MODEL_QUARTER_ADD] = ROLLUP_UPSERT("rollup_model_quarter"),
    [GW_STMT_ROLLUP_MODEL_HOUR_ADD] = ROLLUP_UPSERT("rollup_model_hour"),
    [GW_STMT_ATTEMPT_ADD] = "INSERT INTO attempt_hour (bucket_ms, provider, model, key_id, "
                            "verdict, attempts, latency_sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                            "ON CONFLICT DO UPDATE SET attempts = attempts + excluded.attempts, "
                            "latency_sum = latency_sum + excluded.latency_sum",
    [GW_STMT_RESPONSE_PUT] = "INSERT OR REPLACE INTO responses(id, created_ms, expires_ms, "
                             "record) VALUES (?1, ?2, ?3, ?4)",
    [GW_STMT_RESPONSE_GET] = "SELECT record FROM responses WHERE id = ?1 AND expires_ms > ?2",
    [GW_STMT_RESPONSE_DELETE] = "DELETE FROM responses WHERE id = ?1",
    [GW_STMT_RESPONSE_PRUNE] = "DELETE FROM responses WHERE expires_ms <= ?1",
};
