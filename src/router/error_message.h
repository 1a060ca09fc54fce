/*
 * An upstream error body as the client may see it: the upstream's own
 * message with anything that looks like a credential redacted.
 */
#ifndef GW_ROUTER_ERROR_MESSAGE_H
#define GW_ROUTER_ERROR_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

#include "core/gw.h"

/* How much of an error's text is kept (message, code, type ...). */
#define GW_ERROR_TEXT_MAX 4096

/* The body without leading white space and an SSE "data:" prefix (in-band
 * stream errors). */
gw_str_t gw_error_body_trim(gw_str_t b);
/* The body parsed as JSON: an object, array or string, else NULL. */
json_t *gw_error_body_json(gw_str_t body);

/* Copies the upstream error's human message (error.message, {"error":"..."},
 * Cloudflare errors[0].message, detail, OpenRouter metadata.raw, or the text of
 * a non-JSON body) into out, NUL-terminated, truncated on a UTF-8 boundary,
 * invalid UTF-8 replaced by '?', and anything that looks like a credential
 * (known key prefixes, long mixed-case tokens, the word after "Bearer")
 * replaced by "[redacted]". Returns the length written (0 when the body says
 * nothing). */
size_t gw_error_message(gw_str_t body, char *out, size_t outsz);

#endif
