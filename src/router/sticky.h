/*
 * Sticky sessions: a conversation (same client key, same system prompt, same
 * first user message) stays on the model that served it for 30 minutes, so a
 * multi-turn chat does not hop between models. Keys are SHA-256 digests of
 * the identifying text, never the text itself. Bounded in size; the oldest
 * entries go first.
 */
#ifndef GW_ROUTER_STICKY_H
#define GW_ROUTER_STICKY_H

#include "core/gw.h"

#define GW_STICKY_TTL_MS (30 * 60 * 1000)

typedef struct gw_sticky gw_sticky_t;

gw_sticky_t *gw_sticky_new(size_t max_entries);
void gw_sticky_free(gw_sticky_t *s);

/* Digest of (client key id, system prompt, first user message). */
void gw_sticky_digest(gw_str_t client, gw_str_t system, gw_str_t first_user,
                      unsigned char out[32]);

/* The model index remembered for the digest, or -1 if none or expired. */
int gw_sticky_get(gw_sticky_t *s, const unsigned char digest[32], int64_t now_ms);
/* Remembers (or refreshes) the model for 30 minutes from now. */
void gw_sticky_put(gw_sticky_t *s, const unsigned char digest[32], int model_index,
                   int64_t now_ms);

#endif
