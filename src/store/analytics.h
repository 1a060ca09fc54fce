/*
 * What the dashboard reads of the request log (docs/admin-api.md): rollups
 * kept as rows are appended, so a 30-day view reads a few thousand cells, not
 * a million rows, and the raw log behind filters, exports and the detail of
 * one request.
 *
 * Rollups: per minute (kept 48 h) and per hour (kept 90 days, or the log's
 * retention when shorter), by provider, model, key, endpoint and status
 * class, and the same per model only: requests, successes, tokens in and out, latency and time to
 * first byte (sums and histograms), requests that needed a fallover, attempts. Attempts (every
 * upstream call) are rolled up per hour by provider, model, key and verdict, for the provider
 * ranking and key health. Cost is not stored: tokens per model times the catalog's price, at read
 * time.
 */
#ifndef GW_STORE_ANALYTICS_H
#define GW_STORE_ANALYTICS_H

#include "core/hist.h"
#include "store/store.h"

#define GW_ROLLUP_MINUTE_MS 60000
#define GW_ROLLUP_QUARTER_MS (15 * GW_ROLLUP_MINUTE_MS)
#define GW_ROLLUP_HOUR_MS 3600000
#define GW_ROLLUP_MINUTE_KEEP_MS (48 * (int64_t)GW_ROLLUP_HOUR_MS)
#define GW_ROLLUP_HOUR_KEEP_MS (90 * 24 * (int64_t)GW_ROLLUP_HOUR_MS)

/* Every dimension per minute (48 h) and per hour (90 days); per model only
 * (key 0, endpoint "", status class 0) per quarter hour (48 h) and per hour
 * (90 days), which is all a chart or a table of a long window needs and a
 * fraction of the cells. */
typedef enum {
    GW_ROLLUP_MINUTE,
    GW_ROLLUP_HOUR,
    GW_ROLLUP_MODEL_QUARTER,
    GW_ROLLUP_MODEL_HOUR,
} gw_rollup_level_t;

/* 200, 300, 400, 500 for each class; 429 (rate limited) and 499 (the client
 * left) on their own. */
int gw_status_class(int status);

typedef struct gw_rollup_cell {
    int64_t bucket_ms;
    const char *provider; /* "" when nothing was routed */
    const char *model;
    int64_t key_id;
    const char *endpoint;
    int status_class;
    int64_t requests, ok, tokens_in, tokens_out;
    int64_t latency_sum, ttfb_sum, ttfb_n;
    int64_t fallbacks; /* requests that took more than one attempt */
    int64_t attempts;
    gw_hist_t latency, ttfb;
} gw_rollup_cell_t;

typedef struct gw_attempt_cell {
    int64_t bucket_ms; /* the hour */
    const char *provider, *model;
    int64_t key_id;
    const char *verdict; /* "ok" or a failure class */
    int64_t attempts, latency_sum;
} gw_attempt_cell_t;

/* Cells whose bucket starts in [from_ms, to_ms), in bucket order. Strings
 * are valid during the callback only. */
typedef void (*gw_rollup_cell_cb)(void *ctx, const gw_rollup_cell_t *c);
int gw_store_rollups_scan(gw_store_t *st, gw_rollup_level_t level, int64_t from_ms, int64_t to_ms,
                          gw_rollup_cell_cb cb, void *ctx, gw_err_t *err);
typedef void (*gw_attempt_cell_cb)(void *ctx, const gw_attempt_cell_t *c);
int gw_store_attempts_scan(gw_store_t *st, int64_t from_ms, int64_t to_ms, gw_attempt_cell_cb cb,
                           void *ctx, gw_err_t *err);

/* Throws the rollups away and builds them again from the raw log (within
 * their horizons from now_ms), in one transaction. */
int gw_store_rollups_rebuild(gw_store_t *st, int64_t now_ms, gw_err_t *err);
/* Rebuilds once for a database that has never had rollups (one upgraded from
 * a version without them); *rebuilt says whether it did. */
int gw_store_rollups_ensure(gw_store_t *st, int64_t now_ms, bool *rebuilt, gw_err_t *err);

/* ---- the raw log ------------------------------------------------------------ */

/* What a failed request most likely needs (NULL for a success): one of
 * "rate_limited", "quota_exhausted", "invalid_key", "upstream_error",
 * "timeout", "client_error". */
const char *gw_reqlog_diagnosis(int status, const char *error_class);

typedef struct gw_reqlog_filter {
    int status_min, status_max; /* inclusive; 0, 0: any */
    const char *provider;       /* exact; NULL: any */
    const char *model;
    const char *endpoint;
    const char *diagnosis;      /* as gw_reqlog_diagnosis; NULL: any */
    int64_t since_ms, until_ms; /* at_ms in [since, until); 0: open */
    int64_t before_id;          /* rows with a smaller id; 0: from the newest */
    size_t limit;
    int64_t max_scan; /* look at most this many ids back (0: no bound) */
} gw_reqlog_filter_t;

/* Matching rows newest first, at most f->limit. The row's strings are valid
 * during the callback only. *next_before (may be NULL) is where the next page
 * starts: the last row's id when the page is full, the bound of the ids
 * looked at when max_scan stopped the search first, 0 at the start of the log. */
int gw_store_reqlog_query(gw_store_t *st, const gw_reqlog_filter_t *f, gw_reqlog_row_cb cb,
                          void *ctx, int64_t *next_before, gw_err_t *err);
/* One row with its attempt log and content; GW_ENOTFOUND when no such id. */
int gw_store_reqlog_get(gw_store_t *st, int64_t id, gw_reqlog_row_cb cb, void *ctx, gw_err_t *err);

#endif
