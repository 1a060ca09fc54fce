/*
 * The running process of `serve`: everything it owns (the gateway the
 * handlers share, the HTTP server, the store connections, the background
 * writer, the health probes) and its life: start, the once-a-second tick,
 * configuration reloads, signals, graceful stop.
 */
#ifndef GW_APP_APP_H
#define GW_APP_APP_H

#include <uv.h>

#include "admin/admin.h"
#include "api/gateway.h"
#include "app/writer.h"

typedef struct gw_app_config {
    const char *host;
    int port;
    const char *data_dir;
    const char *public_url;       /* base of URLs we hand out; NULL: the listen address */
    const char *web_dir;          /* serve the dashboard from disk; NULL: embedded */
    size_t max_body;
    unsigned max_connections;     /* 0: as many as the open-file limit allows */
    unsigned max_per_client;      /* open connections per remote address */
    unsigned idle_timeout_s;
    unsigned header_timeout_s;    /* a request's headers must arrive within this */
    unsigned body_timeout_s;      /* and its whole body within this */
    unsigned drain_s;             /* graceful shutdown budget */
    int64_t upstream_timeout_ms;  /* 0: each provider's catalog value */
    int64_t probe_interval_s;     /* 0: no health probes */
    int64_t reqlog_days;
    int64_t reqlog_max_rows;
} gw_app_config_t;

typedef struct gw_app {
    gw_gateway_t gw;              /* what the handlers share */
    gw_admin_t admin;             /* the dashboard's API, routed in front of /v1 */
    gw_app_config_t cfg;
    gw_server_t *srv;
    gw_store_t *store;            /* loop thread: reloads, key health, signature reads */
    gw_store_t *wstore;           /* the background writer's connection */
    gw_writer_t *writer;
    int64_t config_version;       /* gw_store_config_version() at the last reload */
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    size_t inflight_peak;         /* since the last heap trim */
    uint64_t started_seen;        /* gw_server_started() at the last tick */
    int64_t stop_deadline_ms;
    struct gw_health *health;
    /* The environment's values, which the dashboard's settings override. */
    int64_t env_reqlog_days;
    int64_t env_probe_interval_s;
} gw_app_t;

int gw_app_start(gw_app_t *app, uv_loop_t *loop, const gw_app_config_t *cfg, gw_err_t *err);
void gw_app_dispose(gw_app_t *app);

/* Reads keys, preferences, the chain and the unified key from the store into
 * the router (app/reload.c). */
void gw_app_reload(gw_app_t *app);
/* Starts, restarts or stops the key health probes for cfg.probe_interval_s. */
void gw_app_probes(gw_app_t *app);
/* Puts back the usage counters and long cooldowns of the last run. */
void gw_app_restore(gw_app_t *app);
/* Hands the dialects a thought-signature store kept through the writer
 * (app/sigs.c). */
void gw_app_sigs_init(gw_app_t *app);

#endif
