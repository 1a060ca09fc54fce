/*
 * What an upstream failure means. One table (errtable_rules.c) says which
 * upstream status, error code/type/message and headers mean what, and a
 * second what each class does (next step, cooldown scope and length, key
 * health). Changing routing behaviour for an error is a table edit covered by
 * the corpus test in tests/unit/router/errtable_test.c (fixtures in
 * tests/fixtures/errors/). The delays an answer states are read by
 * retry_delay.c; the message shown to the client by error_message.c.
 *
 * Matching is done on parsed fields (status number, error.code, error.type,
 * error.status, error.message, Google's details[]), case-insensitively and on
 * word boundaries, never on raw body bytes: a "402" inside a token count is
 * not a payment error.
 */
#ifndef GW_ROUTER_ERRTABLE_H
#define GW_ROUTER_ERRTABLE_H

#include "core/header.h"
#include "providers/catalog.h"
#include "router/verdict.h"

/*
 * Classifies an upstream HTTP failure (status >= 400, or a 200 whose body is
 * an in-band {"error":...}). body may be any bytes (not necessarily JSON).
 * The verdict's cooldown honours Retry-After / retry-after-ms, the provider's
 * reset headers (x-ratelimit-reset-*, epoch or duration forms), Google's
 * RetryInfo.retryDelay, and the provider's period reset for daily quotas.
 */
void gw_errtable_classify(const gw_provider_t *prov, int status, gw_str_t body,
                          const gw_header_t *hdrs, size_t nhdrs, int64_t now_ms,
                          gw_verdict_t *out);

/* Verdict for a failure with no HTTP error to read: GW_FAIL_TIMEOUT or
 * GW_FAIL_NETWORK before any byte, or GW_FAIL_SERVER for a 2xx answer that
 * cannot be used (not JSON, truncated, an empty stream). */
void gw_errtable_transport(const gw_provider_t *prov, gw_fail_t fail, int64_t now_ms,
                           gw_verdict_t *out);


#endif
