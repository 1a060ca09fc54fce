/*
 * The error taxonomy as data: one table says which upstream status, error
 * code/type/message and headers mean what, and a second says what each class
 * does (next step, cooldown scope and length, key health). Changing routing
 * behaviour for an error is a table edit covered by the corpus test in
 * tests/unit/router/errtable_test.c (fixtures in tests/fixtures/errors/).
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

/* Parses a delay header value: seconds ("30", "1.5"), an HTTP date, a Go-style
 * duration ("2m59.56s", "120ms"), or an epoch (>1e12 ms, >1e9 s). Returns the
 * absolute epoch ms, or 0 if unparseable. */
int64_t gw_parse_reset_value(const char *v, int64_t now_ms);

/* Copies the upstream error's human message (error.message, {"error":"..."},
 * Cloudflare errors[0].message, detail, OpenRouter metadata.raw, or the text of
 * a non-JSON body) into out, NUL-terminated, truncated on a UTF-8 boundary,
 * invalid UTF-8 replaced by '?', and anything that looks like a credential
 * (known key prefixes, long mixed-case tokens, the word after "Bearer")
 * replaced by "[redacted]". For a BAD_REQUEST verdict handed to the client.
 * Returns the length written (0 when the body says nothing). */
size_t gw_errtable_message(gw_str_t body, char *out, size_t outsz);

#endif
