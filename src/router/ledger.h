/*
 * The rate-limit ledger: requests and tokens used per (provider, model, key)
 * and per (provider, key) for account-wide caps, over a sliding minute (RPM,
 * TPM) and over the provider's period (RPD, TPD; reset at the provider's own
 * boundary, see reset.h). Loop-thread only; no locks.
 *
 * Token use is estimated when a request is dispatched (charge) and corrected
 * from the response's usage (adjust), so concurrent requests cannot all slip
 * under a cap; a call the upstream refused is taken back (refund). What the
 * upstream says of its own windows (x-ratelimit-* headers, a 413's limit)
 * overrides the catalog and the count (observe, too_large). Period counters
 * are persisted by the caller via gw_ledger_foreach / gw_ledger_restore, so a
 * restart keeps today's usage.
 *
 * key_id 0 stands for "no key" (keyless providers).
 */
#ifndef GW_ROUTER_LEDGER_H
#define GW_ROUTER_LEDGER_H

#include "providers/catalog.h"

typedef struct gw_ledger gw_ledger_t;

gw_ledger_t *gw_ledger_new(void);
void gw_ledger_free(gw_ledger_t *l);

/* The four windows a cap or an upstream's rate-limit header can speak of. */
typedef enum { GW_WIN_RPM = 0, GW_WIN_TPM, GW_WIN_RPD, GW_WIN_TPD, GW_WIN__COUNT } gw_win_t;

/* What one call would cost. */
typedef struct gw_cost {
    int64_t tokens;  /* charged: the prompt estimate plus the answer expected */
    int64_t floor;   /* what the upstream counts at admission (the prompt estimate plus an
                      * explicit max_tokens): token windows admit by it, and above a whole
                      * window's cap it never fits */
    double reserve;  /* pacing: the share of each daily cap released only as the day passes
                      * (0: off; 0.5 = half at once, the other half spread over the period) */
} gw_cost_t;

typedef enum {
    GW_FIT_OK = 0, /* fits under every cap now */
    GW_FIT_LATER,  /* a window is full: fits at *retry_at_ms */
    GW_FIT_NEVER   /* larger than a whole window of this pair (or than one it refused as too
                    * large): no waiting helps, another pair may */
} gw_fit_t;

/*
 * Whether one more call of `cost` fits under every cap of the model
 * (m->limits) and of its provider (m->provider->limits) for this key, the
 * caps and room the upstream itself stated (gw_ledger_observe) taking
 * precedence over the catalog's. LATER sets *retry_at_ms (if not NULL) to
 * the earliest time it could.
 */
gw_fit_t gw_ledger_fit(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, const gw_cost_t *cost,
                       int64_t now_ms, int64_t *retry_at_ms);

/*
 * Pacing, pure: a daily cap `cap` with `reserve` r (0 < r <= 0.95; 0: off)
 * allows cap * ((1 - r) + r * f) by the fraction f of the period
 * [start_ms, next_ms) gone at now_ms (whole requests or tokens, rounded
 * down; the whole cap once the period is over). gw_ledger_fit applies it;
 * the dashboard shows it.
 */
int64_t gw_ledger_paced_allowance(int64_t cap, double reserve, int64_t start_ms, int64_t next_ms,
                                  int64_t now_ms);
/* The first millisecond at which the allowance reaches `amount`: start_ms
 * when it already does at the start, next_ms when only the end of the period
 * brings it (amount >= cap). */
int64_t gw_ledger_paced_release_at(int64_t cap, double reserve, int64_t start_ms, int64_t next_ms,
                                   int64_t amount);

/* gw_ledger_fit for a call counted est_tokens at admission, no pacing: true when OK. */
bool gw_ledger_allows(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms, int64_t *retry_at_ms);

/* Counts one request of est_tokens against the model and provider windows. */
void gw_ledger_charge(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms);

/* Corrects the tokens of a request charged at charged_at_ms (delta may be < 0). */
void gw_ledger_adjust(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t delta_tokens,
                      int64_t charged_at_ms, int64_t now_ms);

/* Takes back a request charged at charged_at_ms with `tokens`: the upstream
 * refused it (429, 413, 4xx) or it never reached the upstream, so it counted
 * against nothing there. */
void gw_ledger_refund(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t tokens,
                      int64_t charged_at_ms, int64_t now_ms);

/* What an upstream said of its own windows for this (model, key). */
typedef struct gw_rl_seen {
    int64_t limit[GW_WIN__COUNT];     /* the cap; 0: not stated */
    int64_t remaining[GW_WIN__COUNT]; /* room left; -1: not stated */
    int64_t reset_ms[GW_WIN__COUNT];  /* when the window is whole again (epoch ms); 0: not stated */
    bool held;  /* the room stays as stated until the reset (a 429's own wait), rather than
                 * freeing evenly as the window turns over (rate-limit headers) */
    bool done;  /* said with the call's whole answer: the upstream counts that call as
                 * used already (at a stream's start it holds what it reserved) */
} gw_rl_seen_t;

void gw_rl_seen_init(gw_rl_seen_t *s);

/*
 * Reconciles the pair with what the upstream said in the answer to a call
 * charged at charged_at_ms: a stated cap replaces the catalog's; a stated
 * room replaces the ledger's count of that window until its reset (calls
 * charged after charged_at_ms come off it), so the upstream's word wins in
 * both directions.
 */
void gw_ledger_observe(gw_ledger_t *l, const gw_model_t *m, int64_t key_id,
                       const gw_rl_seen_t *seen, int64_t charged_at_ms, int64_t now_ms);

/* The upstream refused a call of `floor` tokens as larger than it can ever
 * take (413): calls this large or larger never fit the pair for an hour;
 * smaller ones still do. */
void gw_ledger_too_large(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t floor,
                         int64_t now_ms);

/* Calls in flight on the pair: begun when charged, ended when settled or
 * refunded (answered: the upstream served it). Until a pair with token caps
 * has answered once (or stated its windows) nothing is known of how the
 * upstream counts there (a catalog's caps may be wrong, the model's tokenizer
 * unlearned), so it takes one call at a time: first_busy says it has one out. */
void gw_ledger_begin(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t now_ms);
void gw_ledger_end(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, bool answered);
bool gw_ledger_first_busy(gw_ledger_t *l, const gw_model_t *m, int64_t key_id);

/* Forgets the room the upstream stated (a user released the pair by hand):
 * the provider's pairs, narrowed to a model (NULL: any) and a key (NULL: any). */
void gw_ledger_forget_room(gw_ledger_t *l, const char *provider_id, const char *model_id,
                           const int64_t *key_id);

/* The cap in force for a window of the pair: the upstream's stated one, else
 * the catalog's (0: none). */
int64_t gw_ledger_cap(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, gw_win_t w);

/* Usage in the current windows, for the dashboard/tests. */
typedef struct gw_usage {
    int64_t rpm, tpm;       /* last 60 s */
    int64_t rpd, tpd;       /* current provider period */
    int64_t period_start_ms;
} gw_usage_t;
void gw_ledger_usage(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t now_ms,
                     gw_usage_t *out);
/* model NULL: the provider-wide (account) counters of the key. */
void gw_ledger_usage_provider(gw_ledger_t *l, const gw_provider_t *p, int64_t key_id,
                              int64_t now_ms, gw_usage_t *out);

/* Persistence of the period counters. provider-wide rows have model_id "". */
typedef void (*gw_ledger_row_cb)(void *ctx, const char *provider_id, const char *model_id,
                                 int64_t key_id, int64_t period_start_ms, int64_t requests,
                                 int64_t tokens);
void gw_ledger_foreach(gw_ledger_t *l, int64_t now_ms, gw_ledger_row_cb cb, void *ctx);
/* Restores a persisted row; rows from an earlier period are ignored. */
void gw_ledger_restore(gw_ledger_t *l, const gw_catalog_t *cat, const char *provider_id,
                       const char *model_id, int64_t key_id, int64_t period_start_ms,
                       int64_t requests, int64_t tokens, int64_t now_ms);

#endif
