/*
 * The background writer: everything the gateway persists while serving goes
 * through it, so no SQLite write ever runs on the loop. Request-log rows and
 * thought signatures are queued here; each tick one job on the libuv thread
 * pool writes them with the usage counters and long cooldowns (snapshots of
 * the router's ledger and cooldown table), prunes old rows now and then, and
 * reads the configuration version so the loop never waits on SQLite's locks.
 */
#ifndef GW_APP_WRITER_H
#define GW_APP_WRITER_H

#include <stdint.h>
#include <uv.h>

#include "router/router.h"
#include "store/store.h"

/* Request-log rows kept while the database is busy (~15 MB at most). */
#define GW_WRITER_MAX_ROWS 100000

typedef struct gw_writer gw_writer_t;

typedef struct gw_writer_opts {
    int64_t reqlog_days;       /* rows older than this are pruned */
    int64_t reqlog_max_rows;   /* and at most this many kept */
    size_t max_queued_rows;    /* 0: GW_WRITER_MAX_ROWS */
    /* Called on the loop after each background job with the configuration
     * version it read (the CLI changes keys, preferences, the chain). */
    void (*on_version)(void *ctx, int64_t version);
    void *ctx;
} gw_writer_opts_t;

/* store is the writer's own connection (used only by its jobs); router is
 * read on the loop when a job is prepared. */
gw_writer_t *gw_writer_new(uv_loop_t *loop, gw_store_t *store, gw_router_t *router,
                           const gw_writer_opts_t *opts);
/* Frees what is still queued (after the loop has stopped). */
void gw_writer_free(gw_writer_t *w);
/* Request-log rows older than this many days are pruned from the next job on. */
void gw_writer_set_retention(gw_writer_t *w, int64_t days);

/* Queues a request-log row (strings copied). */
void gw_writer_log(gw_writer_t *w, const gw_reqlog_row_t *row);
/* Notes ledger activity: the next job saves the usage counters and cooldowns. */
void gw_writer_usage_changed(gw_writer_t *w);
/* Queues a thought signature (copied). */
void gw_writer_queue_sig(gw_writer_t *w, const char *call_id, const char *signature,
                         int64_t expires_ms);
/* A queued or being-written signature of call_id (borrowed), newest first, or NULL. */
const char *gw_writer_pending_sig(const gw_writer_t *w, const char *call_id);

/* Starts a background job unless one is running (then the rows wait). */
void gw_writer_tick(gw_writer_t *w);
/* The last write, at shutdown: everything queued, the usage counters and the
 * cooldowns, now on the loop thread, or when the running job returns. No
 * pruning and no version callback after this. */
void gw_writer_finish(gw_writer_t *w);

#endif
