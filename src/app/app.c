/*
 * Start-up, the once-a-second housekeeping tick, signals and graceful
 * shutdown of a `serve` process (see app.h). Persistence is the writer's
 * (app/writer.c); configuration reloads are app/reload.c.
 */
#include "app/app.h"

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
#define TRIM_NEXT_TICK ((size_t)-1) /* inflight_peak: the heap is trimmed on the next tick */
#define TRIM_STEP_MS 50 /* between the two trim steps */

/* ---- what the handlers ask of the process -------------------------------- */

static void hook_log_request(void *owner, const gw_reqlog_row_t *row)
{
    gw_app_t *app = owner;

    gw_writer_log(app->writer, row);
    gw_admin_live_publish(&app->admin, row);
}

static void hook_usage_changed(void *owner)
{
    gw_app_t *app = owner;

    gw_writer_usage_changed(app->writer);
}

static void hook_key_health(void *owner, gw_rkey_t *k, const char *detail)
{
    gw_app_t *app = owner;
    gw_err_t err = {0};

    if (k->id == 0 || app->store == NULL)
        return;
    if (gw_store_key_health_set(app->store, k->id, gw_key_health_name(k->health), detail,
                                gw_now_ms(), &err) != 0)
        gw_log_warn("key %lld health: %s", (long long)k->id, err.msg);
    gw_admin_key_checked(&app->admin, k->id, gw_key_health_name(k->health), detail);
}

static void hook_config_changed(void *owner)
{
    gw_app_t *app = owner;

    if (!app->gw.stopping)
        gw_app_reload(app);
}

static bool hook_check_key(void *owner, int64_t key_id)
{
    gw_app_t *app = owner;

    return gw_health_check_soon(app->health, key_id);
}

static const gw_gateway_hooks_t hooks = {
    .log_request = hook_log_request,
    .usage_changed = hook_usage_changed,
    .key_health = hook_key_health,
    .config_changed = hook_config_changed,
    .check_key = hook_check_key,
};

/* After each background job: the CLI changed keys, preferences or the chain. */
static void on_config_version(void *ctx, int64_t version)
{
    gw_app_t *app = ctx;

    if (version != app->config_version && !app->gw.stopping)
        gw_app_reload(app);
}

/* ---- tick, signals, shutdown ---------------------------------------------- */

static void finish_stop(gw_app_t *app);
static void on_tick(uv_timer_t *t);

/* After a burst (thousands of open streams), hands the freed memory back:
 * first the transfers pooled for the burst (their timers close at the end of
 * this loop turn), then, at a tick brought forward to 50 ms later, the heap
 * and the library pages touched. Each step holds the loop for milliseconds,
 * so each waits for a quiet tick: nothing in flight and no request begun
 * since the last one. */
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
        gw_upstream_trim(app->gw.up, 16);
        app->inflight_peak = TRIM_NEXT_TICK;
        uv_timer_start(&app->tick, on_tick, TRIM_STEP_MS, TICK_MS);
    }
}

static void on_tick(uv_timer_t *t)
{
    gw_app_t *app = t->data;

    if (app->gw.stopping) {
        if (gw_server_inflight(app->srv) == 0 || gw_now_ms() >= app->stop_deadline_ms)
            finish_stop(app);
        return;
    }
    gw_writer_tick(app->writer); /* and, on the writer's connection, a configuration check */
    gw_admin_tick(&app->admin, gw_now_ms());
    trim_after_burst(app);
}

/* Begins a graceful stop: new connections refused, in-flight requests drained. */
static void app_stop(gw_app_t *app)
{
    if (app->gw.stopping)
        return;
    app->gw.stopping = true;
    app->stop_deadline_ms = gw_now_ms() + (int64_t)app->cfg.drain_s * 1000;
    gw_server_quiesce(app->srv);
    if (app->health != NULL) {
        gw_health_stop(app->health);
        app->health = NULL;
    }
    gw_admin_tick(&app->admin, INT64_MAX); /* no probe will answer the waiting adds now */
    uv_timer_start(&app->tick, on_tick, 50, 50);
}

void gw_app_probes(gw_app_t *app)
{
    int64_t every = app->cfg.probe_interval_s;

    if (app->gw.up == NULL || app->gw.stopping)
        return; /* not started yet (start-up probes once it is) or stopping */
    if (app->health != NULL && (every <= 0 || gw_health_interval_ms(app->health) != every * 1000)) {
        gw_health_stop(app->health);
        app->health = NULL;
    }
    if (app->health == NULL && every > 0)
        app->health = gw_health_start(app->gw.loop, &app->gw.router, app->gw.up, every * 1000,
                                      hook_key_health, app);
}

static void on_signal(uv_signal_t *s, int signum)
{
    gw_app_t *app = s->data;

    gw_log_info("signal %d: stopping (in flight: %zu)", signum, gw_server_inflight(app->srv));
    if (app->gw.stopping) { /* a second signal: stop now */
        app->stop_deadline_ms = 0;
        return;
    }
    app_stop(app);
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
    gw_upstream_close(app->gw.up);
    app->gw.up = NULL;
    gw_writer_finish(app->writer);
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
    bool every = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;

    if (every)
        host = host[0] == ':' ? "::1" : "127.0.0.1";
    snprintf(buf, sizeof(buf), strchr(host, ':') != NULL ? "http://[%s]:%d" : "http://%s:%d",
             host, gw_server_port(app->srv));
    /* Where the gateway reaches itself (the Test Lab's sweeps). */
    app->gw.self_url = gw_xstrdup(buf);
    if (cfg->public_url != NULL && cfg->public_url[0] != '\0') {
        size_t n = strlen(cfg->public_url);
        while (n > 0 && cfg->public_url[n - 1] == '/')
            n--;
        app->gw.public_url = gw_xstrndup(cfg->public_url, n);
        return;
    }
    if (every)
        gw_log_info("listening on every address: image URLs name %s; set "
                    "FREELLMAPI_PUBLIC_URL to the address clients use",
                    host[0] == ':' ? "[::1]" : "127.0.0.1");
    app->gw.public_url = gw_xstrdup(buf);
}

int gw_app_start(gw_app_t *app, uv_loop_t *loop, const gw_app_config_t *cfg, gw_err_t *err)
{
    gw_gateway_t *gw = &app->gw;
    gw_server_opts_t so = {0};
    gw_writer_opts_t wo = {0};
    int rc;

    memset(app, 0, sizeof(*app));
    app->cfg = *cfg;
    app->env_reqlog_days = cfg->reqlog_days;
    app->env_probe_interval_s = cfg->probe_interval_s;
    gw->loop = loop;
    gw->started_ms = gw_now_ms();
    gw->max_body = cfg->max_body;
    gw->data_dir = cfg->data_dir;
    gw->upstream_timeout_ms = cfg->upstream_timeout_ms;
    gw->hooks = &hooks;
    gw->owner = app;
    rc = check_public_url(cfg, err);
    if (rc == 0)
        rc = gw_catalog_load(&gw->cat, gw_catalog_default_path(), err);
    if (rc != 0)
        return rc;
    gw_router_init(&gw->router, &gw->cat);
    gw_admin_init(&app->admin, gw, cfg->data_dir, cfg->web_dir);
    rc = gw_store_open(&app->store, cfg->data_dir, err);
    if (rc != 0)
        return rc;
    rc = gw_store_open(&app->wstore, cfg->data_dir, err);
    if (rc == 0)
        rc = gw_store_cache_limit(app->wstore, WRITER_CACHE_KIB, err);
    if (rc != 0)
        return rc;
    wo.reqlog_days = cfg->reqlog_days;
    wo.reqlog_max_rows = cfg->reqlog_max_rows;
    wo.on_version = on_config_version;
    wo.ctx = app;
    app->writer = gw_writer_new(loop, app->wstore, &gw->router, &wo);
    gw_app_reload(app);
    gw_app_sigs_init(app);
    gw_app_restore(app);
    if (gw_upstream_open(&gw->up, loop) != 0) {
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
    so.dispatch = gw_site_dispatch;
    so.early_check = gw_site_early_check;
    so.ctx = &app->admin;
    rc = gw_server_open(&app->srv, loop, &so, err);
    if (rc != 0) {
        gw_upstream_close(gw->up); /* its memory goes with its handles */
        gw->up = NULL;
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
    gw_app_probes(app);
    gw_log_info("FreeLLMAPI listening on http://%s:%d/v1 (%zu providers, %zu models)", cfg->host,
                gw_server_port(app->srv), gw->cat.nproviders, gw->cat.nmodels);
    return 0;
}

void gw_app_dispose(gw_app_t *app)
{
    gw_gateway_t *gw = &app->gw;

    gw_writer_free(app->writer);
    app->writer = NULL;
    gw_admin_dispose(&app->admin);
    if (gw->unified_key != NULL) {
        OPENSSL_cleanse(gw->unified_key, strlen(gw->unified_key));
        free(gw->unified_key);
        gw->unified_key = NULL;
    }
    free(gw->public_url);
    gw->public_url = NULL;
    free(gw->self_url);
    gw->self_url = NULL;
    gw_image_store_free(gw->images);
    gw->images = NULL;
    gw_router_dispose(&gw->router);
    if (app->store != NULL)
        gw_store_close(app->store);
    if (app->wstore != NULL)
        gw_store_close(app->wstore);
    gw_catalog_dispose(&gw->cat);
}
