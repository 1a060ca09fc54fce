/*
 * The router: runtime routing state on top of the immutable catalog (keys
 * and their health, the user's enabled flags and chain order, the ledger,
 * cooldowns, sticky sessions) and candidate selection.
 *
 * A request gets a plan: the ordered (model, key) pairs that can serve it by
 * static rules (enabled, capabilities, context window, key not invalid).
 * gw_plan_next() then yields the next pair that is also free right now (no
 * cooldown, under every ledger cap), so state changed by earlier attempts
 * (a key benched, a quota spent) is seen by later ones.
 */
#ifndef GW_ROUTER_ROUTER_H
#define GW_ROUTER_ROUTER_H

#include "core/header.h"
#include "providers/catalog.h"
#include "router/cooldown.h"
#include "router/estimate.h"
#include "router/ledger.h"
#include "router/sticky.h"
#include "router/verdict.h"

#define GW_MAX_ATTEMPTS 20



/* A credential as the router uses it; key id 0 is the anonymous "key" of a
 * keyless provider. Owned by the router; stable while the request runs
 * (reloads keep removed keys alive until no plan refers to them). */
typedef struct gw_rkey {
    int64_t id;
    gw_provider_t *provider;
    char *secret;      /* NULL when anonymous */
    char *account_id;
    char *label;
    gw_key_health_t health;
    int inflight;      /* calls charged and not settled (the provider's concurrent cap) */
    int refs;          /* plans holding it */
    bool removed;
} gw_rkey_t;

typedef struct gw_router {
    gw_catalog_t *cat;
    gw_ledger_t *ledger;
    gw_cooldowns_t *cool;
    gw_sticky_t *sticky;
    gw_rkey_t **keys;
    size_t nkeys;
    gw_rkey_t **anon;     /* per provider index: the keyless pseudo-key, or NULL */
    bool *enabled;        /* per model index */
    bool *quarantined;    /* per model index: skipped unless asked for by name only */
    int *order;           /* model indices, chain order */
    unsigned *rr;         /* per model index: round-robin start over keys */
    double *pace;         /* per model index: pacing reserve (0: off; see gw_cost_t) */
    gw_estimate_t *est;   /* per model index: how its tokenizer compares to our estimate */
} gw_router_t;

/* What a request needs from a model. */
typedef struct gw_need {
    const char *kind;     /* "chat", "embedding", ... */
    unsigned caps;        /* GW_CAP_* bits required */
    int64_t prompt_tokens; /* our count (gw_estimate_raw) */
    int64_t prompt_messages; /* chat messages in it; 0: not chat */
    int64_t max_tokens;   /* requested output cap, 0 if none */
    gw_tier_t prefer;     /* a name asking for a tier: route as "auto", that tier first */
    bool only_named;      /* the named model's own pairs only: no fallover to others (a
                           * test of that model), quarantined or not */
} gw_need_t;

typedef struct gw_cand {
    gw_model_t *model;
    gw_rkey_t *key;
} gw_cand_t;

typedef struct gw_plan {
    gw_router_t *router;
    gw_need_t need;       /* a copy (kind borrowed) */
    gw_cand_t *c;
    size_t n;
    size_t pos;
    bool *skip_model;     /* per model index */
    bool *skip_provider;  /* per provider index */
    int64_t earliest_ms;  /* earliest time a limited or failed pair frees up */
    size_t limited;       /* pairs skipped by next() for cooldown or ledger caps */
    size_t too_large;     /* pairs skipped because the request is above a whole window */
    int64_t too_large_cap; /* the largest token cap among those */
    size_t busy;          /* pairs skipped at their provider's concurrent-call cap */
    int64_t charged_tokens; /* what the outstanding charge counted */
    bool observed_tpm;    /* the last answer stated the pair's per-minute token room */
    int64_t too_long_window; /* empty plan only: the largest window of a usable model
                                the request is too long for, else 0 */
    bool has_conversation; /* stays on one model (sticky) under digest */
    unsigned char digest[32];
    const gw_cand_t *charged; /* the pair holding an unsettled charge */
    int64_t charged_at_ms;
} gw_plan_t;

void gw_router_init(gw_router_t *r, gw_catalog_t *cat);
void gw_router_dispose(gw_router_t *r);

/* Replaces the key set (decrypted secrets are copied). Health of keys that
 * stay is kept; cooldowns of removed keys are dropped. */
typedef struct gw_key_rec gw_key_rec_t;
void gw_router_set_keys(gw_router_t *r, const gw_key_rec_t *recs, size_t n);
gw_rkey_t *gw_router_key(gw_router_t *r, int64_t id);

/* User preferences: enabled flags (catalog defaults first) and chain order. */
void gw_router_reset_prefs(gw_router_t *r);
void gw_router_set_enabled(gw_router_t *r, const char *provider, const char *model, bool on);
/* Quarantined models are skipped (reset_prefs clears them; the reload sets them). */
void gw_router_set_quarantined(gw_router_t *r, const char *provider, const char *model, bool on);
void gw_router_set_chain(gw_router_t *r, char *const *entries, size_t n);

/* True when the model id (or "provider/model") names a catalog model. */
bool gw_router_known_model(gw_router_t *r, const char *name);
/* The first catalog model the name designates (id or provider/id), or NULL. */
const gw_model_t *gw_router_find_model(const gw_router_t *r, const char *name);
/* True when every usable key of the model is cooling down or over a cap right
 * now (the dashboard's "limited"); false when one is free or none exists. */
bool gw_router_model_limited(gw_router_t *r, const gw_model_t *m, int64_t now_ms);
/* What a model used in its current windows, summed over every key (the
 * dashboard's "today against the caps"). */
void gw_router_model_usage(gw_router_t *r, const gw_model_t *m, int64_t now_ms, gw_usage_t *out);
/* A model's pacing as the dashboard shows it, summed over the keys that serve it. */
typedef struct gw_pacing_view {
    double reserve;           /* 0: off (the rest is zero) */
    int64_t requests, tokens; /* what the paced daily caps allow by now; -1: no such cap */
    int64_t next_release_ms;  /* when one more request is released; 0: none before the reset
                               * (or no RPD) */
} gw_pacing_view_t;
void gw_router_model_pacing(gw_router_t *r, const gw_model_t *m, int64_t now_ms,
                            gw_pacing_view_t *out);
/* Keys that can serve the provider now (not invalid), the keyless route counted. */
int gw_router_keys_serving(const gw_router_t *r, const gw_provider_t *p);
/* A model that can route now: enabled, provider enabled, a usable key. */
bool gw_router_model_usable(gw_router_t *r, const gw_model_t *m);

/*
 * Builds the plan for a request naming `model` ("auto" or an id). For a named
 * model its own pairs come first, then the chain as for auto. conversation is
 * the request's gw_sticky_digest when it should stay on one model (NULL: it
 * need not): the model that served it last comes first. Returns the number
 * of pairs.
 */
size_t gw_plan_build(gw_plan_t *p, gw_router_t *r, const char *model, const gw_need_t *need,
                     const unsigned char *conversation, int64_t now_ms);
void gw_plan_dispose(gw_plan_t *p);
/* The next pair free now, or NULL when none is left. */
gw_cand_t *gw_plan_next(gw_plan_t *p, int64_t now_ms);
/* Applies a failed attempt's verdict to the plan and the router state. */
void gw_plan_fail(gw_plan_t *p, const gw_cand_t *c, const gw_verdict_t *v, int64_t now_ms);
/* A success: clears escalation, marks the key healthy. */
void gw_plan_success(gw_plan_t *p, const gw_cand_t *c);

/* What a call of this plan costs on a pair (the estimate corrected for the
 * model, the answer expected, the model's pacing). */
void gw_plan_cost(const gw_plan_t *p, const gw_cand_t *c, gw_cost_t *out);
/* Charges the request's estimate to the pair's caps before it is called. */
void gw_plan_charge(gw_plan_t *p, const gw_cand_t *c, int64_t now_ms);
/* Corrects the outstanding charge to what the call really used (0 for a
 * failed call). False when nothing was outstanding. */
bool gw_plan_settle(gw_plan_t *p, int64_t used_tokens, int64_t now_ms);
/* Takes the outstanding charge back whole: the upstream refused the call or
 * never got it. False when nothing was outstanding. */
bool gw_plan_refund(gw_plan_t *p, int64_t now_ms);
/* The pair's answer stated its rate-limit windows (x-ratelimit-* headers);
 * whole: with the whole answer (not a stream's start), so the upstream
 * counted the call as used. */
void gw_plan_observe(gw_plan_t *p, const gw_header_t *h, size_t n, bool whole, int64_t now_ms);
/* The upstream reported the prompt's real size: corrects the model's estimate. */
void gw_plan_learn(gw_plan_t *p, const gw_model_t *m, int64_t reported_prompt_tokens);
/* Starts the walk over the pairs again (a busy pair may have freed up). */
void gw_plan_rewind(gw_plan_t *p);

/* Pacing of a model's daily caps: the reserve kept for later hours (0: off). */
void gw_router_set_pacing(gw_router_t *r, const char *provider, const char *model,
                          double reserve);
/* Whether the pair's caps allow one more call (a repeat on the same pair). */
bool gw_plan_may_repeat(const gw_plan_t *p, const gw_cand_t *c, int64_t now_ms);
/* The pair's answer goes to the client: the conversation stays on its model. */
void gw_plan_served(gw_plan_t *p, const gw_cand_t *c, int64_t now_ms);

#endif
