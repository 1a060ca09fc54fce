/*
 * What an upstream failure means for routing. The error table (errtable.c)
 * turns (provider, status, body, headers) into a verdict; the fallback loop
 * (api/fallback.c) applies it: cool down a key or a model, mark a key invalid,
 * try the next key or model, or hand the error back to the client.
 */
#ifndef GW_ROUTER_VERDICT_H
#define GW_ROUTER_VERDICT_H

#include "core/gw.h"

typedef enum {
    GW_FAIL_NONE = 0,
    GW_FAIL_RATE_MINUTE,       /* per-minute/short limit: cool (model,key) briefly */
    GW_FAIL_QUOTA_PERIOD,      /* daily/period quota of (model,key) spent: until reset */
    GW_FAIL_QUOTA_ACCOUNT,     /* account-wide quota spent: every model of the key */
    GW_FAIL_PAYMENT,           /* 402 / no credit: bench the key for 24 h */
    GW_FAIL_AUTH,              /* 401/403 bad key: mark the key invalid */
    GW_FAIL_MODEL_UNAVAILABLE, /* model gone / not on the free plan / degraded */
    GW_FAIL_CONTEXT,           /* prompt too long for this model: next model */
    GW_FAIL_SERVER,            /* 5xx or in-band server error */
    GW_FAIL_TIMEOUT,           /* no first byte in time */
    GW_FAIL_NETWORK,           /* connect/TLS/reset before the first byte */
    GW_FAIL_BAD_REQUEST,       /* the client's request is wrong: return it */
    GW_FAIL__COUNT
} gw_fail_t;

typedef enum {
    GW_NEXT_RETURN = 0, /* give the (normalised) error to the client */
    GW_NEXT_KEY,        /* same model, another key */
    GW_NEXT_MODEL,      /* another model (any provider) */
    GW_NEXT_PROVIDER    /* skip the whole provider for this request */
} gw_next_t;

typedef enum {
    GW_SCOPE_NONE = 0,
    GW_SCOPE_MODEL_KEY, /* this (model, key) pair */
    GW_SCOPE_KEY,       /* every model of this key's provider */
    GW_SCOPE_MODEL      /* this model on every key (model gone upstream) */
} gw_scope_t;

typedef enum {
    GW_KEY_UNKNOWN = 0,
    GW_KEY_HEALTHY,
    GW_KEY_RATE_LIMITED,
    GW_KEY_INVALID,
    GW_KEY_ERROR
} gw_key_health_t;

typedef struct gw_verdict {
    gw_fail_t fail;
    gw_next_t next;
    gw_scope_t scope;
    int64_t cooldown_until_ms; /* absolute epoch ms; 0 = no cooldown */
    gw_key_health_t key_health; /* the key's new health; UNKNOWN = unchanged */
    int client_status;          /* status for the client when next == RETURN */
    const char *name;           /* stable class name for logs/request log */
    bool explicit_delay;        /* cooldown_until_ms came from the upstream (Retry-After,
                                 * RetryInfo, reset headers, "try again in"); false when it
                                 * is a table default, which cooldowns may escalate */
    bool token_window;          /* a 429 on a per-minute token window: the ledger holds the
                                 * pair until it frees for calls that size, no bench */
    bool too_large;             /* a 413: the call is larger than the pair ever takes */
    int64_t stated_limit;       /* the window's cap the message stated ("Limit 6000"), or 0 */
} gw_verdict_t;

const char *gw_fail_name(gw_fail_t f);
const char *gw_key_health_name(gw_key_health_t h);

#endif
