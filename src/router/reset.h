/* Provider period boundaries: when daily (hourly, monthly) counters start over. */
#ifndef GW_ROUTER_RESET_H
#define GW_ROUTER_RESET_H

#include "providers/catalog.h"

/* Start of the period containing now_ms, and start of the next one (epoch ms).
 * Pacific time follows the US DST rules (second Sunday of March to first
 * Sunday of November), computed without a tz database. */
int64_t gw_reset_period_start(gw_reset_t r, int64_t now_ms);
int64_t gw_reset_next(gw_reset_t r, int64_t now_ms);

#endif
