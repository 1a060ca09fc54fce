/*
 * The dashboard's side of the port: the admin API under /api/ (docs/admin-api.md)
 * and, above the /v1 handlers, the routing of every request to the one or the
 * other. Admin answers only clients allowed by access.c; its store work runs
 * on the thread pool (jobs.c), each job with its own SQLite connection.
 */
#ifndef GW_ADMIN_ADMIN_H
#define GW_ADMIN_ADMIN_H

#include "admin/pin.h"
#include "admin/session_table.h"
#include "api/gateway.h"

typedef struct gw_admin_key_wait gw_admin_key_wait_t;
typedef struct gw_admin_live gw_admin_live_t;
typedef struct gw_admin_sweep gw_admin_sweep_t;

#define GW_ADMIN_LIVE_MAX 8 /* live views open at once */

typedef struct gw_admin {
    gw_gateway_t *gw;
    char *data_dir;          /* where jobs open their store connection */
    char *web_dir;           /* serve the dashboard from here; NULL: the embedded copy */
    const char *version;
    char pin_hash[GW_PIN_HASH_MAX]; /* "" when no PIN is set */
    /* The settings in force (the process sets them at each reload). */
    int64_t log_retention_days;
    int64_t probe_interval_s;
    gw_session_table_t sessions;
    bool login_running;      /* one PIN is checked at a time */
    gw_admin_key_wait_t *key_waits; /* add requests waiting for their key's first check */
    size_t nkey_waits;
    gw_admin_live_t *live[GW_ADMIN_LIVE_MAX]; /* /api/live streams */
    size_t nlive;
    int64_t live_ping_ms;
    gw_admin_sweep_t *sweep; /* the running or last Test Lab sweep */
    char *csp;               /* the dashboard's Content-Security-Policy, built once */
    unsigned sweeps_started;
} gw_admin_t;

void gw_admin_init(gw_admin_t *ad, gw_gateway_t *gw, const char *data_dir, const char *web_dir);
void gw_admin_dispose(gw_admin_t *ad);
/* The PIN as the store holds it now (NULL or "" for none), at start and after
 * every configuration reload: a new or cleared PIN ends every session. */
void gw_admin_pin_changed(gw_admin_t *ad, const char *hash);

/* A key's health was just found (a probe or traffic): answers the add
 * requests waiting for it. */
void gw_admin_key_checked(gw_admin_t *ad, int64_t key_id, const char *health, const char *detail);
/* A request was logged: pushed to the live views (nothing when none is open). */
void gw_admin_live_publish(gw_admin_t *ad, const gw_reqlog_row_t *row);
/* On the process's tick: answers waits past their deadline (INT64_MAX: all,
 * when stopping). */
void gw_admin_tick(gw_admin_t *ad, int64_t now_ms);

/* Entry points for the HTTP server; ctx is the gw_admin_t. Requests for /api
 * go to the admin API, everything else to the /v1 handlers (api/routes.c). */
bool gw_site_early_check(void *ctx, gw_req_t *req);
void gw_site_dispatch(void *ctx, gw_req_t *req);

#endif
