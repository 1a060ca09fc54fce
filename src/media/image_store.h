/*
 * Generated images kept for a while so response_format "url" can point at
 * them: served by the gateway itself under an unguessable name, for an hour
 * (like OpenAI's own URLs), within a memory budget (oldest go first).
 */
#ifndef GW_MEDIA_IMAGE_STORE_H
#define GW_MEDIA_IMAGE_STORE_H

#include "core/buf.h"

typedef struct gw_image_store gw_image_store_t;

#define GW_IMAGE_TTL_MS (60 * 60 * 1000)
#define GW_IMAGE_STORE_BYTES ((size_t)64 << 20)

gw_image_store_t *gw_image_store_new(size_t max_bytes, int64_t ttl_ms);
void gw_image_store_free(gw_image_store_t *s);

/* Keeps a copy of the bytes; writes the file name ("<64 hex>.png") into
 * name. GW_ETOOBIG when one image alone passes the budget. */
int gw_image_store_put(gw_image_store_t *s, const void *data, size_t len, const char *mime,
                       int64_t now_ms, char name[80]);
/* The image of that name if it has not expired: bytes copied into out,
 * its type into mime. GW_ENOTFOUND otherwise. */
int gw_image_store_get(gw_image_store_t *s, const char *name, int64_t now_ms, gw_buf_t *out,
                       char mime[64]);

#endif
