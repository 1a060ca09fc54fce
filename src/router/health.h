/*
 * Active health checks of provider keys. Every key is probed on a schedule
 * with the cheapest request its provider allows: an unmetered GET of the
 * model list where there is one, else a one-token chat within a small daily
 * probe budget per key. Results (and passive results from real traffic,
 * applied by the fallback loop) set each key's health: healthy,
 * rate_limited, invalid or error. The router skips invalid keys.
 */
#ifndef GW_ROUTER_HEALTH_H
#define GW_ROUTER_HEALTH_H

#include "router/router.h"
#include "upstream/client.h"

#define GW_PROBE_CHAT_BUDGET_PER_DAY 4

typedef struct gw_health gw_health_t;
typedef void (*gw_health_change_cb)(void *ctx, gw_rkey_t *k, const char *detail);

gw_health_t *gw_health_start(uv_loop_t *loop, gw_router_t *r, gw_upstream_t *up,
                             int64_t interval_ms, gw_health_change_cb cb, void *ctx);
/* Probes the key now, whatever its schedule (a chat probe still within its
 * daily budget).
 * False when there is nothing to probe (no such key, probes off for its
 * provider, h NULL). */
bool gw_health_check_soon(gw_health_t *h, int64_t key_id);
int64_t gw_health_interval_ms(const gw_health_t *h);
/* Cancels probes in flight and frees (after the loop closes its timer). */
void gw_health_stop(gw_health_t *h);

#endif
