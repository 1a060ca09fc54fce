/*
 * The dashboard's analytics of a window (docs/admin-api.md): built from the
 * rollups on any thread with a store connection, priced on the loop. Also
 * what bench/analytics times at a million logged requests.
 */
#ifndef GW_ADMIN_ANALYTICS_H
#define GW_ADMIN_ANALYTICS_H

#include <jansson.h>

#include "router/router.h"
#include "store/analytics.h"

typedef struct gw_admin_window {
    const char *name;        /* "24h", "7d", "30d" */
    gw_rollup_level_t level; /* minutes for a day, hours beyond */
    int64_t from_ms, to_ms;  /* from is a bucket's start */
    int64_t bucket_ms;       /* the series' step */
} gw_admin_window_t;

/* The window called name ("24h", "7d", "30d") ending at now_ms; false for
 * another name. */
bool gw_admin_window_of(const char *name, int64_t now_ms, gw_admin_window_t *w);
/* Totals, series and tables of the window (without savings). */
int gw_admin_analytics_build(gw_store_t *st, const gw_admin_window_t *w, json_t **out,
                             gw_err_t *err);
/* Adds savings (per model, per provider, total) and their basis from the
 * catalog's prices. Loop thread (reads the router). */
void gw_admin_analytics_price(gw_router_t *r, json_t *answer);

#endif
