/*
 * What an upstream says of its own rate-limit windows in the x-ratelimit-*
 * headers of an answer (success or error), read into a gw_rl_seen_t for the
 * ledger (gw_ledger_observe). Suffixed names say their window
 * (x-ratelimit-remaining-tokens-minute, Cerebras); unsuffixed ones
 * (x-ratelimit-remaining-tokens) count the window the provider's
 * policy.ratelimit_headers names (Groq: requests per day, tokens per minute)
 * and are ignored when it names none. Pure.
 */
#ifndef GW_ROUTER_RATELIMIT_HEADERS_H
#define GW_ROUTER_RATELIMIT_HEADERS_H

#include "core/header.h"
#include "providers/catalog.h"
#include "router/ledger.h"

/* Fills *out (initialised here); true when any window was stated. */
bool gw_rl_parse(const gw_provider_t *p, const gw_header_t *h, size_t n, int64_t now_ms,
                 gw_rl_seen_t *out);

#endif
