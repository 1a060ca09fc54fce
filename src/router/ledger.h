/*
 * The rate-limit ledger: requests and tokens used per (provider, model, key)
 * and per (provider, key) for account-wide caps, over a sliding minute (RPM,
 * TPM) and over the provider's period (RPD, TPD; reset at the provider's own
 * boundary, see reset.h). Loop-thread only; no locks.
 *
 * Token use is estimated when a request is dispatched (charge) and corrected
 * from the response's usage (adjust), so concurrent requests cannot all slip
 * under a cap. Period counters are persisted by the caller via
 * gw_ledger_foreach / gw_ledger_restore, so a restart keeps today's usage.
 *
 * key_id 0 stands for "no key" (keyless providers).
 */
#ifndef GW_ROUTER_LEDGER_H
#define GW_ROUTER_LEDGER_H

#include "providers/catalog.h"

typedef struct gw_ledger gw_ledger_t;

gw_ledger_t *gw_ledger_new(void);
void gw_ledger_free(gw_ledger_t *l);

/*
 * True when one more request of est_tokens fits under every cap of the model
 * (m->limits) and of its provider (m->provider->limits) for this key. When it
 * does not fit, *retry_at_ms (if not NULL) gets the earliest time it could.
 */
bool gw_ledger_allows(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms, int64_t *retry_at_ms);

/* Counts one request of est_tokens against the model and provider windows. */
void gw_ledger_charge(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms);

/* Corrects the tokens of a request charged at charged_at_ms (delta may be < 0). */
void gw_ledger_adjust(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t delta_tokens,
                      int64_t charged_at_ms, int64_t now_ms);

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
