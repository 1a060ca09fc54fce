/*
 * Start-up, the once-a-second housekeeping tick, background persistence and
 * graceful shutdown of a `serve` process (see app.h).
 */
#include "api/app.h"
#include "api/image_store.h"

#include <openssl/crypto.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fdlimit.h"
#include "core/log.h"
#include "core/mem.h"
#include "router/health.h"

#define TICK_MS 1000
#define WRITER_CACHE_KIB 192 /* the request-log writer's SQLite page cache */
#define PRUNE_EVERY_MS (10 * 60 * 1000)
#define TRIM_NEXT_TICK ((size_t)-1) /* inflight_peak: the heap is trimmed on the next tick */

struct gw_flush_job {
    uv_work_t work;
    gw_app_t *app;
    gw_logrow_t *rows;
    size_t nrows;
    gw_usage_row_t *usage;
    size_t nusage;
    char **usage_strs;       /* provider/model copies backing usage rows */
    size_t nstrs;
    gw_cooldown_row_t *cool;   /* long cooldowns to save (all of them), or NULL */
    size_t ncool;
    bool save_cool;
    bool prune;
    int64_t prune_before_ms;
    bool sync;               /* final flush at shutdown, on the loop thread */
    int64_t config_version;  /* read by the writer after its work */
    gw_sig_pending_t *sigs;  /* read by the loop meanwhile: freed in flush_done */
    size_t nsigs;
};

/* ---- preferences and keys from the store ------------------------------- */

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

static void reload(gw_app_t *app)
{
    gw_err_t err = {0};
    gw_key_rec_t *recs = NULL;
    size_t n = 0;
    char **chain = NULL;
    size_t nchain = 0;

    /* Read first: a change made while the tables are read is seen next tick. */
    app->config_version = gw_store_config_version(app->store);
    if (gw_store_keys_load(app->store, &recs, &n, &err) == 0) {
        gw_router_set_keys(&app->router, recs, n);
        gw_key_recs_free(recs, n);
        if (gw_store_key_health_load(app->store, on_health, &app->router, &err) != 0)
            gw_log_warn("key health: %s", err.msg);
    } else {
        gw_log_error("reload keys: %s", err.msg);
    }
    gw_router_reset_prefs(&app->router);
    if (gw_store_model_prefs_load(app->store, on_pref, &app->router, &err) != 0)
        gw_log_error("reload model preferences: %s", err.msg);
    if (gw_store_chain_load(app->store, &chain, &nchain, &err) == 0) {
        if (nchain > 0)
            gw_router_set_chain(&app->router, chain, nchain);
        gw_strv_free(chain, nchain);
    }
    free(app->unified_key);
    app->unified_key = NULL;
    if (gw_store_unified_key(app->store, false, &app->unified_key, &err) != 0)
        gw_log_error("unified key: %s", err.msg);
}

/* ---- background writer -------------------------------------------------- */

static void usage_row(void *ctx, const char *provider, const char *model, int64_t key_id,
                      int64_t period_start_ms, int64_t requests, int64_t tokens)
{
    gw_flush_job_t *j = ctx;
    gw_usage_row_t *r;

    j->usage = gw_xrealloc(j->usage, (j->nusage + 1) * sizeof(*j->usage));
    j->usage_strs = gw_xrealloc(j->usage_strs, (j->nstrs + 2) * sizeof(char *));
    j->usage_strs[j->nstrs++] = gw_xstrdup(provider);
    j->usage_strs[j->nstrs++] = gw_xstrdup(model);
    r = &j->usage[j->nusage++];
    r->provider = j->usage_strs[j->nstrs - 2];
    r->model = j->usage_strs[j->nstrs - 1];
    r->key_id = key_id;
    r->period_start_ms = period_start_ms;
    r->requests = requests;
    r->tokens = tokens;
}

static void free_logrow(gw_logrow_t *r)
{
    free(r->endpoint);
    free(r->provider);
    free(r->model);
    free(r->error_class);
}

static void flush_work(uv_work_t *w)
{
    gw_flush_job_t *j = w->data;
    gw_app_t *app = j->app;
    gw_err_t err = {0};

    if (j->nrows > 0) {
        gw_reqlog_row_t *rows = gw_xcalloc(j->nrows, sizeof(*rows));
        for (size_t i = 0; i < j->nrows; i++)
            rows[i] = j->rows[i].row;
        if (gw_store_reqlog_append(app->wstore, rows, j->nrows, &err) != 0)
            gw_log_error("request log: %s", err.msg);
        free(rows);
    }
    for (size_t i = 0; i < j->nsigs; i++)
        if (gw_store_sig_put(app->wstore, j->sigs[i].call_id, j->sigs[i].signature,
                             j->sigs[i].expires_ms, &err) != 0)
            gw_log_warn("thought signature not stored: %s", err.msg);
    if (j->nusage > 0 && gw_store_usage_save(app->wstore, j->usage, j->nusage, &err) != 0)
        gw_log_error("usage: %s", err.msg);
    if (j->save_cool && gw_store_cooldowns_save(app->wstore, j->cool, j->ncool, &err) != 0)
        gw_log_error("cooldowns: %s", err.msg);
    if (j->prune && gw_store_reqlog_prune(app->wstore, j->prune_before_ms,
                                          app->cfg.reqlog_max_rows, &err) != 0)
        gw_log_error("request log prune: %s", err.msg);
    if (j->prune && gw_store_sig_prune(app->wstore, gw_now_ms(), &err) != 0)
        gw_log_error("signature prune: %s", err.msg);
    /* Usage periods are at most a month long: older rows are history. */
    if (j->prune && gw_store_usage_prune(app->wstore, gw_now_ms() - 40LL * 86400000, &err) != 0)
        gw_log_error("usage prune: %s", err.msg);
    /* Read here, so the loop thread never waits on SQLite's locks each tick
     * (a reader can sleep while the writer checkpoints the WAL). */
    j->config_version = gw_store_config_version(app->wstore);
    /* Freed here, not in flush_done: after a burst that is tens of thousands
     * of rows, milliseconds the loop would be held. */
    for (size_t i = 0; i < j->nrows; i++)
        free_logrow(&j->rows[i]);
    for (size_t i = 0; i < j->ncool; i++) {
        free((char *)j->cool[i].provider);
        free((char *)j->cool[i].model);
    }
    free(j->cool);
    for (size_t i = 0; i < j->nstrs; i++)
        free(j->usage_strs[i]);
    free(j->usage_strs);
    free(j->usage);
    free(j->rows);
    j->rows = NULL;
    j->nrows = 0;
}

static void flush(gw_app_t *app, bool sync);

static void flush_done(uv_work_t *w, int status)
{
    gw_flush_job_t *j = w->data;

    (void)status;
    for (size_t i = 0; i < j->nsigs; i++) {
        free(j->sigs[i].call_id);
        free(j->sigs[i].signature);
    }
    free(j->sigs);
    if (!j->sync) {
        gw_app_t *app = j->app;
        app->flushing = NULL;
        if (j->config_version != app->config_version && !app->stopping)
            reload(app); /* the CLI changed keys, preferences or the chain */
        /* Stopped while this job ran: write what queued up meanwhile. */
        if (app->srv == NULL && app->stopping)
            flush(app, true);
    }
    free(j);
}

/* Benches that would outlive a restart are worth keeping (a spent daily quota). */
#define PERSIST_COOLDOWN_MS (5 * 60 * 1000)

static void cool_row(void *ctx, const char *provider, const char *model, int64_t key_id,
                     int64_t until_ms)
{
    gw_flush_job_t *j = ctx;
    gw_cooldown_row_t *r;

    j->cool = gw_xrealloc(j->cool, (j->ncool + 1) * sizeof(*j->cool));
    r = &j->cool[j->ncool++];
    r->provider = gw_xstrdup(provider);
    r->model = gw_xstrdup(model);
    r->key_id = key_id;
    r->until_ms = until_ms;
}

/* Snapshots the long cooldowns; saved only when they differ from the last save. */
static void snapshot_cooldowns(gw_app_t *app, gw_flush_job_t *j, int64_t now)
{
    uint64_t sig = 1469598103934665603ULL;

    gw_cooldowns_foreach(app->router.cool, now + PERSIST_COOLDOWN_MS, cool_row, j);
    for (size_t i = 0; i < j->ncool; i++)
        sig = (sig ^ (uint64_t)(j->cool[i].until_ms + j->cool[i].key_id)) * 1099511628211ULL;
    sig ^= j->ncool;
    j->save_cool = sig != app->cooldown_sig;
    app->cooldown_sig = sig;
}

/* Hands queued rows and dirty usage to the writer; sync runs it right here. */
static void flush(gw_app_t *app, bool sync)
{
    gw_flush_job_t *j;
    int64_t now = gw_now_ms();

    if (app->flushing != NULL && !sync)
        return; /* one job at a time; the rows wait for the next tick */
    /* A job every tick even with nothing to write: it also looks for
     * configuration changes. */
    j = gw_xcalloc(1, sizeof(*j));
    j->app = app;
    j->work.data = j;
    j->rows = app->q;
    j->nrows = app->nq;
    j->sync = sync;
    app->q = NULL;
    app->nq = app->capq = 0;
    j->sigs = app->sigq;
    j->nsigs = app->nsigq;
    app->sigq = NULL;
    app->nsigq = app->capsigq = 0;
    if (app->usage_dirty > 0) {
        gw_ledger_foreach(app->router.ledger, now, usage_row, j);
        snapshot_cooldowns(app, j, now);
        app->usage_dirty = 0;
    }
    if (now - app->last_prune_ms >= PRUNE_EVERY_MS) {
        j->prune = true;
        j->prune_before_ms = now - app->cfg.reqlog_days * 86400000;
        app->last_prune_ms = now;
    }
    if (sync) {
        flush_work(&j->work);
        flush_done(&j->work, 0);
        return;
    }
    app->flushing = j;
    uv_queue_work(app->loop, &j->work, flush_work, flush_done);
}

void gw_app_log_request(gw_app_t *app, const gw_reqlog_row_t *row)
{
    gw_logrow_t *r;

    if (app->nq == app->capq) {
        app->capq = app->capq ? app->capq * 2 : 64;
        app->q = gw_xrealloc(app->q, app->capq * sizeof(*app->q));
    }
    r = &app->q[app->nq++];
    r->row = *row;
    r->endpoint = row->endpoint ? gw_xstrdup(row->endpoint) : NULL;
    r->provider = row->provider ? gw_xstrdup(row->provider) : NULL;
    r->model = row->model ? gw_xstrdup(row->model) : NULL;
    r->error_class = row->error_class ? gw_xstrdup(row->error_class) : NULL;
    r->row.endpoint = r->endpoint;
    r->row.provider = r->provider;
    r->row.model = r->model;
    r->row.error_class = r->error_class;
}

void gw_app_queue_sig(gw_app_t *app, const char *call_id, const char *signature,
                      int64_t expires_ms)
{
    gw_sig_pending_t *s;

    if (app->nsigq == app->capsigq) {
        app->capsigq = app->capsigq ? app->capsigq * 2 : 8;
        app->sigq = gw_xrealloc(app->sigq, app->capsigq * sizeof(*app->sigq));
    }
    s = &app->sigq[app->nsigq++];
    s->call_id = gw_xstrdup(call_id);
    s->signature = gw_xstrdup(signature);
    s->expires_ms = expires_ms;
}

static const char *find_sig(const gw_sig_pending_t *v, size_t n, const char *call_id)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(v[i].call_id, call_id) == 0)
            return v[i].signature;
    return NULL;
}

const char *gw_app_pending_sig(const gw_app_t *app, const char *call_id)
{
    const char *s = find_sig(app->sigq, app->nsigq, call_id);

    if (s == NULL && app->flushing != NULL)
        s = find_sig(app->flushing->sigs, app->flushing->nsigs, call_id);
    return s;
}

void gw_app_usage_changed(gw_app_t *app)
{
    app->usage_dirty++;
}

void gw_app_key_health(gw_app_t *app, gw_rkey_t *k, const char *detail)
{
    gw_err_t err = {0};

    if (k->id == 0 || app->store == NULL)
        return;
    if (gw_store_key_health_set(app->store, k->id, gw_key_health_name(k->health), detail,
                                gw_now_ms(), &err) != 0)
        gw_log_warn("key %lld health: %s", (long long)k->id, err.msg);
}

static void restore_cooldown(void *ctx, const gw_cooldown_row_t *row)
{
    gw_app_t *app = ctx;
    gw_cooldowns_restore(app->router.cool, row->provider, row->model, row->key_id, row->until_ms);
}

static void restore_usage(void *ctx, const gw_usage_row_t *row)
{
    gw_app_t *app = ctx;
    gw_ledger_restore(app->router.ledger, &app->cat, row->provider, row->model, row->key_id,
                      row->period_start_ms, row->requests, row->tokens, gw_now_ms());
}

static void on_health_change(void *ctx, gw_rkey_t *k, const char *detail)
{
    gw_app_key_health(ctx, k, detail);
}

/* ---- tick, signals, shutdown ---------------------------------------------- */

static void finish_stop(gw_app_t *app);

/* After a burst (thousands of open streams), hands the freed memory back:
 * first the transfers pooled for the burst (their timers close at the end of
 * this loop turn), then, a tick later, the heap and the library pages touched.
 * Each step holds the loop for milliseconds, so each waits for a quiet tick:
 * nothing in flight and no request begun since the last one. */
static void trim_after_burst(gw_app_t *app)
{
    size_t inflight = gw_server_inflight(app->srv);
    bool quiet = inflight == 0 && gw_server_started(app->srv) == app->started_seen;

    app->started_seen = gw_server_started(app->srv);
    if (app->inflight_peak == TRIM_NEXT_TICK) {
        if (quiet) {
            malloc_trim(0);
            gw_mem_drop_clean_file_pages(); /* what the next requests use comes back */
            app->inflight_peak = 0;
        }
        return;
    }
    if (inflight > app->inflight_peak)
        app->inflight_peak = inflight;
    if (quiet && app->inflight_peak >= 64) {
        gw_upstream_trim(app->up, 16);
        app->inflight_peak = TRIM_NEXT_TICK;
    }
}

static void on_tick(uv_timer_t *t)
{
    gw_app_t *app = t->data;

    if (app->stopping) {
        if (gw_server_inflight(app->srv) == 0 || gw_now_ms() >= app->stop_deadline_ms)
            finish_stop(app);
        return;
    }
    flush(app, false); /* and, on the writer's connection, a configuration check */
    trim_after_burst(app);
}

static void on_signal(uv_signal_t *s, int signum)
{
    gw_app_t *app = s->data;

    gw_log_info("signal %d: stopping (in flight: %zu)", signum, gw_server_inflight(app->srv));
    if (app->stopping) { /* a second signal: stop now */
        app->stop_deadline_ms = 0;
        return;
    }
    gw_app_stop(app);
}

void gw_app_stop(gw_app_t *app)
{
    if (app->stopping)
        return;
    app->stopping = true;
    app->stop_deadline_ms = gw_now_ms() + (int64_t)app->cfg.drain_s * 1000;
    gw_server_quiesce(app->srv);
    if (app->health != NULL) {
        gw_health_stop(app->health);
        app->health = NULL;
    }
    uv_timer_start(&app->tick, on_tick, 50, 50);
}

static void finish_stop(gw_app_t *app)
{
    uv_timer_stop(&app->tick);
    uv_close((uv_handle_t *)&app->tick, NULL);
    uv_signal_stop(&app->sigint);
    uv_signal_stop(&app->sigterm);
    uv_close((uv_handle_t *)&app->sigint, NULL);
    uv_close((uv_handle_t *)&app->sigterm, NULL);
    gw_server_close(app->srv);
    app->srv = NULL;
    gw_upstream_close(app->up);
    app->up = NULL;
    gw_app_usage_changed(app);
    app->last_prune_ms = gw_now_ms(); /* no prune on the way out */
    if (app->flushing == NULL)
        flush(app, true);
    /* else flush_done writes the rest once the running job returns */
    gw_log_info("stopped");
}

/* Raises the open-file limit and keeps the connection cap within it: past
 * the limit accept() fails and clients wait in the listen queue. wanted 0:
 * as many as the limit allows. */
static unsigned connection_cap(unsigned wanted)
{
    gw_fdlimit_t fl;
    unsigned fit;

    if (gw_fdlimit_raise(&fl) != 0) {
        gw_log_warn("cannot read the open-file limit");
        return wanted != 0 ? wanted : 1024;
    }
    fit = gw_fdlimit_connections(fl.soft);
    gw_log_info("open files: soft limit %llu (was %llu), hard limit %llu: room for %u connections",
                (unsigned long long)fl.soft, (unsigned long long)fl.soft_before,
                (unsigned long long)fl.hard, fit);
    if (wanted == 0)
        return fit;
    if (wanted <= fit)
        return wanted;
    gw_log_warn("FREELLMAPI_MAX_CONNECTIONS=%u lowered to %u to fit the open-file limit", wanted,
                fit);
    return fit;
}

/* FREELLMAPI_PUBLIC_URL, checked before anything opens so a bad value stops
 * the start with nothing to unwind. */
static int check_public_url(const gw_app_config_t *cfg, gw_err_t *err)
{
    const char *url = cfg->public_url;

    if (url == NULL || url[0] == '\0')
        return 0;
    bool scheme = strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
    if (!scheme || strlen(url) >= 512 || strcspn(url, " \t\r\n\"'<>\\") < strlen(url)) {
        gw_err_set(err, GW_EINVAL, 0,
                   "FREELLMAPI_PUBLIC_URL must be an http:// or https:// URL without "
                   "spaces or quotes");
        return GW_EINVAL;
    }
    return 0;
}

/* The base of URLs handed to clients (stored images): the configured public
 * URL, else the listen address. Never the request's Host header, which the
 * client chooses. */
static void public_url(gw_app_t *app, const gw_app_config_t *cfg)
{
    char buf[512];
    const char *host = cfg->host;

    if (cfg->public_url != NULL && cfg->public_url[0] != '\0') {
        size_t n = strlen(cfg->public_url);
        while (n > 0 && cfg->public_url[n - 1] == '/')
            n--;
        app->public_url = gw_xstrndup(cfg->public_url, n);
        return;
    }
    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
        gw_log_info("listening on every address: image URLs name %s; set "
                    "FREELLMAPI_PUBLIC_URL to the address clients use",
                    host[0] == ':' ? "[::1]" : "127.0.0.1");
        host = host[0] == ':' ? "::1" : "127.0.0.1";
    }
    snprintf(buf, sizeof(buf), strchr(host, ':') != NULL ? "http://[%s]:%d" : "http://%s:%d",
             host, gw_server_port(app->srv));
    app->public_url = gw_xstrdup(buf);
}

int gw_app_start(gw_app_t *app, uv_loop_t *loop, const gw_app_config_t *cfg, gw_err_t *err)
{
    gw_server_opts_t so = {0};
    int rc;

    memset(app, 0, sizeof(*app));
    app->loop = loop;
    app->cfg = *cfg;
    app->started_ms = gw_now_ms();
    app->last_prune_ms = 0;
    rc = check_public_url(cfg, err);
    if (rc == 0)
        rc = gw_catalog_load(&app->cat, gw_catalog_default_path(), err);
    if (rc != 0)
        return rc;
    gw_router_init(&app->router, &app->cat);
    rc = gw_store_open(&app->store, cfg->data_dir, err);
    if (rc != 0)
        return rc;
    rc = gw_store_open(&app->wstore, cfg->data_dir, err);
    if (rc == 0)
        rc = gw_store_cache_limit(app->wstore, WRITER_CACHE_KIB, err);
    if (rc != 0)
        return rc;
    reload(app);
    gw_app_sigs_init(app);
    if (gw_store_usage_load(app->store, restore_usage, app, err) != 0)
        gw_log_warn("usage counters not restored: %s", err->msg);
    if (gw_store_cooldowns_load(app->store, gw_now_ms(), restore_cooldown, app, err) != 0)
        gw_log_warn("cooldowns not restored: %s", err->msg);
    if (gw_upstream_open(&app->up, loop) != 0) {
        gw_err_set(err, GW_ERR, 0, "cannot start the upstream client");
        return GW_ERR;
    }
    so.host = cfg->host;
    so.port = cfg->port;
    so.max_connections = connection_cap(cfg->max_connections);
    so.max_per_client = cfg->max_per_client;
    so.idle_timeout_s = cfg->idle_timeout_s;
    so.header_timeout_s = cfg->header_timeout_s;
    so.body_timeout_s = cfg->body_timeout_s;
    so.max_body = cfg->max_body;
    so.dispatch = gw_api_dispatch;
    so.early_check = gw_api_early_check;
    so.ctx = app;
    rc = gw_server_open(&app->srv, loop, &so, err);
    if (rc != 0) {
        gw_upstream_close(app->up); /* its memory goes with its handles */
        app->up = NULL;
        return rc;
    }
    public_url(app, cfg);
    uv_timer_init(loop, &app->tick);
    app->tick.data = app;
    uv_timer_start(&app->tick, on_tick, TICK_MS, TICK_MS);
    uv_signal_init(loop, &app->sigint);
    uv_signal_init(loop, &app->sigterm);
    app->sigint.data = app;
    app->sigterm.data = app;
    uv_signal_start(&app->sigint, on_signal, SIGINT);
    uv_signal_start(&app->sigterm, on_signal, SIGTERM);
    if (cfg->probe_interval_s > 0)
        app->health = gw_health_start(loop, &app->router, app->up,
                                      cfg->probe_interval_s * 1000, on_health_change, app);
    gw_log_info("FreeLLMAPI listening on http://%s:%d/v1 (%zu providers, %zu models)", cfg->host,
                gw_server_port(app->srv), app->cat.nproviders, app->cat.nmodels);
    return 0;
}

void gw_app_dispose(gw_app_t *app)
{
    for (size_t i = 0; i < app->nq; i++)
        free_logrow(&app->q[i]);
    free(app->q);
    for (size_t i = 0; i < app->nsigq; i++) {
        free(app->sigq[i].call_id);
        free(app->sigq[i].signature);
    }
    free(app->sigq);
    if (app->unified_key != NULL) {
        OPENSSL_cleanse(app->unified_key, strlen(app->unified_key));
        free(app->unified_key);
    }
    free(app->public_url);
    app->public_url = NULL;
    gw_image_store_free(app->images);
    app->images = NULL;
    gw_router_dispose(&app->router);
    if (app->store != NULL)
        gw_store_close(app->store);
    if (app->wstore != NULL)
        gw_store_close(app->wstore);
    gw_catalog_dispose(&app->cat);
}
