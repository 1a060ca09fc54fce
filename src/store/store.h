/*
 * Storage: the SQLite database in the data dir (WAL, busy timeout, versioned
 * forward-only migrations) and the domain operations on it. Only store/
 * includes sqlite3.h. One gw_store_t is one connection: use it from one thread
 * at a time (the server keeps one for the loop thread and one for its
 * background writer).
 *
 * Provider secrets are sealed with AES-256-GCM (see vault.h) before they
 * touch the database; the encryption key comes from ENCRYPTION_KEY (64 hex
 * chars) or from <data-dir>/encryption.key (generated, mode 0600). A key that
 * does not match the stored secrets is refused at open with a clear error.
 */
#ifndef GW_STORE_STORE_H
#define GW_STORE_STORE_H

#include "core/gw.h"

typedef struct gw_store gw_store_t;

/* Creates the data dir if needed, opens and migrates the database, loads or
 * creates the encryption key. */
int gw_store_open(gw_store_t **out, const char *data_dir, gw_err_t *err);
/* Caps SQLite's page cache of this connection (KiB). The background writer
 * only appends rows and prunes by index: a small cache keeps memory flat. */
int gw_store_cache_limit(gw_store_t *st, int kib, gw_err_t *err);
void gw_store_close(gw_store_t *st);

/* Schema version after migrations (PRAGMA user_version). */
int gw_store_schema_version(gw_store_t *st);

/* Changes whenever anyone (the CLI, any handle) changed the configuration:
 * keys, settings, model preferences, the chain. The request log, usage,
 * cooldowns, key health and signatures do not count. */
int64_t gw_store_config_version(gw_store_t *st);

/* ---- provider keys ---------------------------------------------------- */

typedef struct gw_key_rec {
    int64_t id;
    char *provider;   /* catalog id */
    char *label;      /* may be "" */
    char *secret;     /* decrypted; wipe before free (gw_key_recs_free does) */
    char *account_id; /* NULL unless the provider needs one (cloudflare) */
    int64_t created_ms;
    bool enabled;     /* false: kept, but never routed to */
} gw_key_rec_t;

int gw_store_key_add(gw_store_t *st, const char *provider, const char *secret, const char *label,
                     const char *account_id, int64_t *id_out, gw_err_t *err);
/* GW_ENOTFOUND when no key has that id. */
int gw_store_key_rm(gw_store_t *st, int64_t id, gw_err_t *err);
/* Relabels (label not NULL) and/or switches a key on or off (enabled 0 or 1;
 * -1 keeps it). GW_ENOTFOUND when no key has that id. */
int gw_store_key_update(gw_store_t *st, int64_t id, const char *label, int enabled,
                        gw_err_t *err);
/* Every key, decrypted, in id order. Caller frees with gw_key_recs_free. */
int gw_store_keys_load(gw_store_t *st, gw_key_rec_t **out, size_t *n, gw_err_t *err);
void gw_key_recs_free(gw_key_rec_t *recs, size_t n);
/* "sk-a…wxyz": never more than 4 leading and 4 trailing characters, and
 * fewer for short secrets. Caller frees. */
char *gw_mask_secret(const char *secret);

/* ---- unified client key ----------------------------------------------- */

/* The freellmapi-… bearer key; created on first call, replaced when rotate.
 * Stored sealed like provider secrets. *out is the caller's: wipe it with
 * OPENSSL_cleanse before free. Compare client tokens with gw_store_token_eq. */
int gw_store_unified_key(gw_store_t *st, bool rotate, char **out, gw_err_t *err);

/* Constant-time comparison of a presented bearer token with the unified key
 * (CRYPTO_memcmp; the length is not secret). NULLs compare unequal. */
bool gw_store_token_eq(const char *presented, const char *expected);

/* ---- named settings ----------------------------------------------------- */

/* Settings the dashboard changes; unset, the environment's values apply. */
#define GW_SETTING_LOG_RETENTION_DAYS "log_retention_days"
#define GW_SETTING_PROBE_INTERVAL_S "probe_interval_s"
#define GW_SETTING_LOG_CONTENT "log_content"

/* Plain-text settings by name (dashboard options and the like; never secrets).
 * get: GW_ENOTFOUND when unset, *out caller frees. "unified_key" is reserved. */
/* Stored responses (Responses API): record is JSON text, sealed at rest,
 * kept ttl_ms; putting one also drops the expired. get: GW_ENOTFOUND when
 * absent or expired; *record malloc'd (the caller frees it). delete:
 * GW_ENOTFOUND when there was none. */
int gw_store_response_put(gw_store_t *st, const char *id, const char *record, int64_t now_ms,
                          int64_t ttl_ms, gw_err_t *err);
int gw_store_response_get(gw_store_t *st, const char *id, int64_t now_ms, char **record,
                          gw_err_t *err);
int gw_store_response_delete(gw_store_t *st, const char *id, gw_err_t *err);

int gw_store_setting_get(gw_store_t *st, const char *name, char **out, gw_err_t *err);
int gw_store_setting_set(gw_store_t *st, const char *name, const char *value, gw_err_t *err);

/* ---- user routing preferences ----------------------------------------- */

/* Enable or disable one model ("provider", "model id"). */
int gw_store_model_enabled_set(gw_store_t *st, const char *provider, const char *model,
                               bool enabled, gw_err_t *err);
typedef void (*gw_model_pref_cb)(void *ctx, const char *provider, const char *model,
                                 bool enabled);
int gw_store_model_prefs_load(gw_store_t *st, gw_model_pref_cb cb, void *ctx, gw_err_t *err);

/* Models quarantined by hand or by a sweep: routing skips them (every key)
 * until released. put replaces the reason; delete says GW_ENOTFOUND when the
 * model was not quarantined. */
typedef struct gw_quarantine_rec {
    const char *provider, *model, *reason;
    int64_t since_ms;
} gw_quarantine_rec_t;
int gw_store_quarantine_put(gw_store_t *st, const char *provider, const char *model,
                            const char *reason, int64_t now_ms, gw_err_t *err);
int gw_store_quarantine_delete(gw_store_t *st, const char *provider, const char *model,
                               gw_err_t *err);
typedef void (*gw_quarantine_cb)(void *ctx, const gw_quarantine_rec_t *q);
int gw_store_quarantines_load(gw_store_t *st, gw_quarantine_cb cb, void *ctx, gw_err_t *err);

/* Models paced through the day (see router/ledger.h): reserve, 0 < r <= 0.95,
 * is the share of each daily cap released only as the period passes; 0
 * turns pacing off (the row goes). load calls cb once per paced model. */
int gw_store_pacing_set(gw_store_t *st, const char *provider, const char *model, double reserve,
                        int64_t now_ms, gw_err_t *err);
typedef void (*gw_pacing_cb)(void *ctx, const char *provider, const char *model,
                             double reserve);
int gw_store_pacing_load(gw_store_t *st, gw_pacing_cb cb, void *ctx, gw_err_t *err);

/* The fallback chain: an ordered list of "provider/model" entries the user
 * ranked; models not listed follow in catalog priority order. Replaces it. */
int gw_store_chain_set(gw_store_t *st, char *const *entries, size_t n, gw_err_t *err);
int gw_store_chain_load(gw_store_t *st, char ***entries, size_t *n, gw_err_t *err);
void gw_strv_free(char **v, size_t n);

/* ---- usage ledger persistence ------------------------------------------ */

typedef struct gw_usage_row {
    const char *provider;
    const char *model; /* "" for provider-wide rows */
    int64_t key_id;
    int64_t period_start_ms;
    int64_t requests;
    int64_t tokens;
} gw_usage_row_t;

/* Upserts the rows in one transaction. */
int gw_store_usage_save(gw_store_t *st, const gw_usage_row_t *rows, size_t n, gw_err_t *err);
typedef void (*gw_usage_row_cb)(void *ctx, const gw_usage_row_t *row);
int gw_store_usage_load(gw_store_t *st, gw_usage_row_cb cb, void *ctx, gw_err_t *err);
/* Deletes rows whose period started before min_period_start_ms. */
int gw_store_usage_prune(gw_store_t *st, int64_t min_period_start_ms, gw_err_t *err);

/* ---- key health -------------------------------------------------------- */

/* Records the latest health of a key ("ok", "invalid", "rate_limited", ...;
 * detail may be NULL). GW_ENOTFOUND when no key has that id. */
int gw_store_key_health_set(gw_store_t *st, int64_t key_id, const char *health,
                            const char *detail, int64_t at_ms, gw_err_t *err);
typedef void (*gw_key_health_cb)(void *ctx, int64_t key_id, const char *health,
                                 const char *detail, int64_t at_ms);
/* Calls cb for every key with a recorded health, in key id order. */
int gw_store_key_health_load(gw_store_t *st, gw_key_health_cb cb, void *ctx, gw_err_t *err);

/* ---- thought signatures (Gemini) --------------------------------------- */

/* Stores (or replaces) the signature of a tool call until expires_ms, sealed. */
int gw_store_sig_put(gw_store_t *st, const char *call_id, const char *signature,
                     int64_t expires_ms, gw_err_t *err);
/* The unexpired signature of call_id (caller frees), or GW_ENOTFOUND. */
int gw_store_sig_get(gw_store_t *st, const char *call_id, int64_t now_ms, char **out,
                     gw_err_t *err);
/* Deletes expired signatures. */
int gw_store_sig_prune(gw_store_t *st, int64_t now_ms, gw_err_t *err);

/* ---- long cooldowns ----------------------------------------------------- */

typedef struct gw_cooldown_row {
    const char *provider;
    const char *model;
    int64_t key_id;
    int64_t until_ms;
} gw_cooldown_row_t;

/* Replaces every stored cooldown with rows, in one transaction. */
int gw_store_cooldowns_save(gw_store_t *st, const gw_cooldown_row_t *rows, size_t n,
                            gw_err_t *err);
typedef void (*gw_cooldown_load_cb)(void *ctx, const gw_cooldown_row_t *row);
/* Calls cb for every cooldown still running at now_ms. */
int gw_store_cooldowns_load(gw_store_t *st, int64_t now_ms, gw_cooldown_load_cb cb, void *ctx,
                            gw_err_t *err);

/* ---- request log ------------------------------------------------------- */

typedef struct gw_reqlog_row {
    int64_t at_ms;
    const char *endpoint;    /* "/v1/chat/completions" */
    const char *provider;    /* NULL when nothing was routed */
    const char *model;
    int64_t key_id;          /* 0 keyless/none */
    int status;              /* status sent to the client */
    int64_t latency_ms;
    int64_t ttfb_ms;         /* -1 when not applicable */
    int64_t tokens_in;
    int64_t tokens_out;
    int attempts;
    const char *error_class; /* NULL on success */
    bool stream;
    /* Every upstream attempt, one line each: "provider\tmodel\tkey_id\tverdict\t
     * status\tlatency_ms\n" (verdict "ok" for the one that answered, else the
     * failure class). NULL when nothing was tried. */
    const char *attempt_log;
    /* The prompt and the answer, only when the user turned content logging
     * on (each already cut to GW_REQLOG_CONTENT_MAX); NULL otherwise. */
    const char *content_prompt;
    const char *content_answer;
} gw_reqlog_row_t;

#define GW_REQLOG_CONTENT_MAX 8192

/* Appends rows in one transaction, with their rollups (analytics.h). */
int gw_store_reqlog_append(gw_store_t *st, const gw_reqlog_row_t *rows, size_t n, gw_err_t *err);
/* Deletes rows older than min_at_ms (<= 0: no age limit) and keeps at most
 * max_rows newest (< 0: no row limit), in one transaction; the rollups go
 * with the age limit (whole hours before it; minutes past 48 h; hours past
 * 90 days), not with the row limit (they are the history a capped log
 * cannot keep). now_ms dates the rollups' own horizons. */
int gw_store_reqlog_prune(gw_store_t *st, int64_t min_at_ms, int64_t max_rows, int64_t now_ms,
                          gw_err_t *err);
int64_t gw_store_reqlog_count(gw_store_t *st);
/* Newest first: up to limit rows whose id is below before_id (0: from the
 * newest). The row's strings are valid only during the callback. */
typedef void (*gw_reqlog_row_cb)(void *ctx, int64_t id, const gw_reqlog_row_t *row);
int gw_store_reqlog_recent(gw_store_t *st, int64_t before_id, size_t limit,
                           gw_reqlog_row_cb cb, void *ctx, gw_err_t *err);

#endif
