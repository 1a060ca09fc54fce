/*
 * Configuration from the store: keys and their recorded health, model
 * preferences (enabled, quarantined, paced), the fallback chain and the
 * unified key, read at start and again whenever the CLI (or any other
 * process) changes them; and, at start only, the usage counters and long
 * cooldowns of the last run.
 */
#include "app/app.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

static void on_quarantine(void *ctx, const gw_quarantine_rec_t *q)
{
    gw_router_set_quarantined(ctx, q->provider, q->model, true);
}

static void on_pacing(void *ctx, const char *provider, const char *model, double reserve)
{
    gw_router_set_pacing(ctx, provider, model, reserve);
}

static void on_pref(void *ctx, const char *provider, const char *model, bool enabled)
{
    gw_router_set_enabled(ctx, provider, model, enabled);
}

/* Health recorded by an earlier run (or the probes) for keys we know nothing
 * about yet, so an invalid key stays benched across restarts. */
static void on_health(void *ctx, int64_t key_id, const char *health, const char *detail,
                      int64_t at_ms)
{
    gw_rkey_t *k = gw_router_key(ctx, key_id);

    (void)detail;
    (void)at_ms;
    if (k == NULL || k->health != GW_KEY_UNKNOWN)
        return;
    for (int h = GW_KEY_HEALTHY; h <= GW_KEY_ERROR; h++)
        if (strcmp(health, gw_key_health_name((gw_key_health_t)h)) == 0)
            k->health = (gw_key_health_t)h;
}

/* A whole-number setting, or dflt when unset or not a number in [lo, hi]. */
static int64_t setting_int(gw_store_t *st, const char *name, int64_t dflt, int64_t lo,
                           int64_t hi)
{
    char *v = NULL;
    char *end;
    gw_err_t err = {0};
    long long n;

    if (gw_store_setting_get(st, name, &v, &err) != 0)
        return dflt;
    n = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi)
        n = dflt;
    free(v);
    return n;
}

/* Settings from the dashboard, over the environment's values. */
static void reload_settings(gw_app_t *app)
{
    app->cfg.reqlog_days = setting_int(app->store, GW_SETTING_LOG_RETENTION_DAYS,
                                       app->env_reqlog_days, 1, 3650);
    app->cfg.probe_interval_s = setting_int(app->store, GW_SETTING_PROBE_INTERVAL_S,
                                            app->env_probe_interval_s, 0, 86400 * 7);
    app->gw.log_content = setting_int(app->store, GW_SETTING_LOG_CONTENT, 0, 0, 1) == 1;
    gw_writer_set_retention(app->writer, app->cfg.reqlog_days);
    gw_app_probes(app);
    app->admin.log_retention_days = app->cfg.reqlog_days;
    app->admin.probe_interval_s = app->cfg.probe_interval_s;
}

/* The dashboard PIN: a new or cleared one (API or `freellmapi pin`) ends every session. */
static void reload_pin(gw_app_t *app)
{
    char *hash = NULL;
    gw_err_t err = {0};

    if (gw_store_setting_get(app->store, GW_PIN_SETTING, &hash, &err) == 0)
        gw_admin_pin_changed(&app->admin, hash);
    else if (err.code == GW_ENOTFOUND)
        gw_admin_pin_changed(&app->admin, NULL);
    else
        gw_log_error("reload the dashboard PIN: %s", err.msg);
    if (hash != NULL) {
        OPENSSL_cleanse(hash, strlen(hash));
        free(hash);
    }
}

void gw_app_reload(gw_app_t *app)
{
    gw_router_t *router = &app->gw.router;
    gw_err_t err = {0};
    gw_key_rec_t *recs = NULL;
    size_t n = 0;
    char **chain = NULL;
    size_t nchain = 0;

    /* Read first: a change made while the tables are read is seen next tick. */
    app->config_version = gw_store_config_version(app->store);
    if (gw_store_keys_load(app->store, &recs, &n, &err) == 0) {
        /* A switched-off key stays in the store but never reaches the router. */
        gw_key_rec_t *on = gw_xcalloc(n + 1, sizeof(*on));
        size_t non = 0;
        for (size_t i = 0; i < n; i++)
            if (recs[i].enabled)
                on[non++] = recs[i]; /* borrowed: freed with recs */
        gw_router_set_keys(router, on, non);
        free(on);
        gw_key_recs_free(recs, n);
        if (gw_store_key_health_load(app->store, on_health, router, &err) != 0)
            gw_log_warn("key health: %s", err.msg);
    } else {
        gw_log_error("reload keys: %s", err.msg);
    }
    gw_router_reset_prefs(router);
    if (gw_store_model_prefs_load(app->store, on_pref, router, &err) != 0)
        gw_log_error("reload model preferences: %s", err.msg);
    if (gw_store_quarantines_load(app->store, on_quarantine, router, &err) != 0)
        gw_log_error("reload quarantines: %s", err.msg);
    if (gw_store_pacing_load(app->store, on_pacing, router, &err) != 0)
        gw_log_error("reload pacing: %s", err.msg);
    if (gw_store_chain_load(app->store, &chain, &nchain, &err) == 0) {
        if (nchain > 0)
            gw_router_set_chain(router, chain, nchain);
        gw_strv_free(chain, nchain);
    }
    if (app->gw.unified_key != NULL) {
        OPENSSL_cleanse(app->gw.unified_key, strlen(app->gw.unified_key));
        free(app->gw.unified_key);
        app->gw.unified_key = NULL;
    }
    if (gw_store_unified_key(app->store, false, &app->gw.unified_key, &err) != 0)
        gw_log_error("unified key: %s", err.msg);
    reload_pin(app);
    reload_settings(app);
}

static void restore_cooldown(void *ctx, const gw_cooldown_row_t *row)
{
    gw_app_t *app = ctx;

    gw_cooldowns_restore(app->gw.router.cool, row->provider, row->model, row->key_id,
                         row->until_ms);
}

static void restore_usage(void *ctx, const gw_usage_row_t *row)
{
    gw_app_t *app = ctx;

    gw_ledger_restore(app->gw.router.ledger, &app->gw.cat, row->provider, row->model,
                      row->key_id, row->period_start_ms, row->requests, row->tokens,
                      gw_now_ms());
}

void gw_app_restore(gw_app_t *app)
{
    gw_err_t err = {0};

    if (gw_store_usage_load(app->store, restore_usage, app, &err) != 0)
        gw_log_warn("usage counters not restored: %s", err.msg);
    if (gw_store_cooldowns_load(app->store, gw_now_ms(), restore_cooldown, app, &err) != 0)
        gw_log_warn("cooldowns not restored: %s", err.msg);
}
