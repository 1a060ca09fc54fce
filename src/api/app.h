/*
 * The running gateway: everything one `serve` process owns, and the services
 * the API handlers share (router, upstream client, request log, key store).
 * All of it lives on the loop thread; the request log and usage counters are
 * written by a background job on a second store connection.
 */
#ifndef GW_API_APP_H
#define GW_API_APP_H

#include <uv.h>

#include "http/server.h"
#include "providers/dialect.h"
#include "providers/catalog.h"
#include "router/router.h"
#include "store/store.h"
#include "upstream/client.h"

typedef struct gw_app_config {
    const char *host;
    int port;
    const char *data_dir;
    const char *public_url;       /* base of URLs we hand out; NULL: the listen address */
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

/* One request-log row waiting for the background writer (strings owned). */
typedef struct gw_logrow {
    gw_reqlog_row_t row;
    char *endpoint, *provider, *model, *error_class;
} gw_logrow_t;

typedef struct gw_flush_job gw_flush_job_t;

/* A thought signature waiting for the background writer. */
typedef struct gw_sig_pending {
    char *call_id;
    char *signature;
    int64_t expires_ms;
} gw_sig_pending_t;

typedef struct gw_app {
    uv_loop_t *loop;
    gw_app_config_t cfg;
    gw_catalog_t cat;
    gw_router_t router;
    gw_store_t *store;            /* loop thread: reloads, key health */
    gw_store_t *wstore;           /* background writer: request log, usage */
    gw_upstream_t *up;
    gw_server_t *srv;
    char *unified_key;
    char *public_url;             /* "http://127.0.0.1:3001", no trailing slash */
    int64_t config_version;       /* gw_store_config_version() at the last reload */
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    gw_logrow_t *q;
    size_t nq, capq;
    gw_sig_pending_t *sigq;       /* signatures for the writer's next job */
    size_t nsigq, capsigq;
    int64_t usage_dirty;          /* ledger charges since the last save */
    gw_flush_job_t *flushing;     /* the background job in flight, if any */
    int64_t last_prune_ms;
    size_t inflight_peak;         /* since the last heap trim */
    uint64_t started_seen;        /* gw_server_started() at the last tick */
    uint64_t cooldown_sig;        /* fingerprint of the long cooldowns last saved */
    int64_t started_ms;
    bool stopping;
    int64_t stop_deadline_ms;
    struct gw_health *health;
    gw_sig_store_t sigs;          /* thought signatures, kept in the store */
    struct gw_image_store *images; /* generated images served by URL (lazy) */
} gw_app_t;

int gw_app_start(gw_app_t *app, uv_loop_t *loop, const gw_app_config_t *cfg, gw_err_t *err);
/* Begins a graceful stop (what SIGINT/SIGTERM do). */
void gw_app_stop(gw_app_t *app);
void gw_app_dispose(gw_app_t *app);

/* Queues a request-log row (strings are copied). */
void gw_app_log_request(gw_app_t *app, const gw_reqlog_row_t *row);
/* Notes ledger activity so the period counters get persisted. */
void gw_app_usage_changed(gw_app_t *app);
/* Persists a key's new health (from traffic or a probe). */
void gw_app_key_health(gw_app_t *app, gw_rkey_t *k, const char *detail);

/* The durable thought-signature store handed to dialects (api/sigs.c). */
void gw_app_sigs_init(gw_app_t *app);
/* Queues a signature for the background writer (copied), so storing it never
 * waits on SQLite's write lock on the loop; until written it is found by
 * gw_app_pending_sig. */
void gw_app_queue_sig(gw_app_t *app, const char *call_id, const char *signature,
                      int64_t expires_ms);
/* A queued or being-written signature of call_id (borrowed), newest first, or NULL. */
const char *gw_app_pending_sig(const gw_app_t *app, const char *call_id);

/* Entry points of the API layer (api/routes.c). */
void gw_api_dispatch(void *ctx, gw_req_t *req);
bool gw_api_early_check(void *ctx, gw_req_t *req);

#endif
