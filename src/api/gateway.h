/*
 * The gateway as the handlers see it: the services they share (catalog,
 * router, upstream client, stores of images and thought signatures) and what
 * they ask of the process that owns them (app/): keep a request-log row,
 * persist usage, record a key's health. The process fills this in at start
 * and points the server's dispatch at it; handlers never see the process.
 */
#ifndef GW_API_GATEWAY_H
#define GW_API_GATEWAY_H

#include <stdbool.h>
#include <uv.h>

#include "http/server.h"
#include "media/image_store.h"
#include "providers/catalog.h"
#include "providers/dialect.h"
#include "router/router.h"
#include "store/store.h"
#include "upstream/client.h"

/* JSON work on a body this long (parsing a request, writing one upstream,
 * reading an answer) goes to the libuv thread pool: jansson reads ~90 MB/s and
 * writes ~180 MB/s, and meanwhile the loop carries every other request and
 * stream. Shorter bodies take less time than the hand-off. */
#define GW_OFF_LOOP_BYTES (16 * 1024)

typedef struct gw_gateway gw_gateway_t;

/* What the owning process does for handlers; owner is its context. */
typedef struct gw_gateway_hooks {
    /* Queues a request-log row (strings are copied). */
    void (*log_request)(void *owner, const gw_reqlog_row_t *row);
    /* Notes ledger activity so the period counters get persisted. */
    void (*usage_changed)(void *owner);
    /* Persists a key's new health (from traffic or a probe). */
    void (*key_health)(void *owner, gw_rkey_t *k, const char *detail);
    /* Keys, preferences, the chain or the unified key changed in the store:
     * read them into the router now rather than at the next tick. */
    void (*config_changed)(void *owner);
    /* Probes a key's health now (false: nothing will probe it). */
    bool (*check_key)(void *owner, int64_t key_id);
} gw_gateway_hooks_t;

struct gw_gateway {
    uv_loop_t *loop;
    gw_catalog_t cat;
    gw_router_t router;
    gw_upstream_t *up;
    char *unified_key;            /* NULL until one exists */
    char *public_url;             /* "http://127.0.0.1:3001", no trailing slash */
    char *self_url;               /* the listen address as this machine reaches it */
    const char *data_dir;         /* where store jobs open their connection */
    size_t max_body;
    int64_t upstream_timeout_ms;  /* 0: each provider's catalog value */
    int64_t started_ms;           /* wall clock at start ("created" of models) */
    bool stopping;                /* draining: /health says so, nothing new starts */
    bool log_content;             /* keep prompts and answers in the request log (opt-in) */
    gw_sig_store_t sigs;          /* thought signatures, kept by the process */
    gw_image_store_t *images;     /* generated images served by URL (lazy) */
    const gw_gateway_hooks_t *hooks;
    void *owner;
};

static inline void gw_gateway_log_request(gw_gateway_t *gw, const gw_reqlog_row_t *row)
{
    gw->hooks->log_request(gw->owner, row);
}

static inline void gw_gateway_usage_changed(gw_gateway_t *gw)
{
    gw->hooks->usage_changed(gw->owner);
}

static inline void gw_gateway_key_health(gw_gateway_t *gw, gw_rkey_t *k, const char *detail)
{
    gw->hooks->key_health(gw->owner, k, detail);
}

static inline void gw_gateway_config_changed(gw_gateway_t *gw)
{
    gw->hooks->config_changed(gw->owner);
}

static inline bool gw_gateway_check_key(gw_gateway_t *gw, int64_t key_id)
{
    return gw->hooks->check_key(gw->owner, key_id);
}

/* Entry points of the API layer for the HTTP server (api/routes.c); ctx is
 * the gw_gateway_t. */
void gw_api_dispatch(void *ctx, gw_req_t *req);
bool gw_api_early_check(void *ctx, gw_req_t *req);
/* Paths under /api the client APIs serve (Ollama's), not the admin API. */
bool gw_api_owns_path(const char *path);

#endif
