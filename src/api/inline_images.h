/*
 * Remote images for dialects that take images only inline (Gemini): every
 * http(s) image_url of a chat request is fetched by the gateway, under the
 * safe-fetch rules, and replaced with a data: URL in place, so every later
 * candidate reuses it. The rules: public addresses only (checked on the
 * address actually connected to, after DNS and on each redirect; see
 * upstream/netguard.h), at most 3 redirects, a size and a time limit, and an
 * image content type. Anything else is the client's error: a clear 400.
 */
#ifndef GW_API_INLINE_IMAGES_H
#define GW_API_INLINE_IMAGES_H

#include <jansson.h>

#include "api/gateway.h"

#define GW_IMAGE_MAX_BYTES (20 << 20)
#define GW_IMAGE_TIMEOUT_MS 15000

typedef struct gw_inliner gw_inliner_t;

/* ok: every remote image is now a data: URL. Otherwise msg says which image
 * failed and why (status 400). Fires once, never before start returns. */
typedef void (*gw_inline_done_cb)(void *ctx, bool ok, const char *msg);

/* True when the request has http(s) image URLs left to inline. */
bool gw_inline_needed(json_t *req);

/* Starts fetching; body (borrowed, edited in place) must outlive the job. */
gw_inliner_t *gw_inline_start(gw_gateway_t *gw, json_t *req, gw_inline_done_cb cb, void *ctx);
/* Stops the job; its callback never fires. */
void gw_inline_cancel(gw_inliner_t *in);

#endif
