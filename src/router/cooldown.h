/*
 * Cooldowns and key health, in memory on the loop thread. A cooldown benches
 * a (model, key) pair, a whole key (all models of its provider) or a model on
 * every key until a time. Repeated per-minute 429s on the same pair escalate
 * the bench (90 s, 180 s, ... capped at 15 min) and a success clears the
 * streak, so a per-minute limit never benches a model for the day.
 */
#ifndef GW_ROUTER_COOLDOWN_H
#define GW_ROUTER_COOLDOWN_H

#include "providers/catalog.h"
#include "router/verdict.h"

/* A per-minute rate limit benches the pair this long the first time; repeats
 * double it up to the cap. A stated delay beyond the cap means the upstream
 * speaks of a longer window than a minute (errtable.c). */
#define GW_COOLDOWN_MINUTE_FIRST_MS (90 * (int64_t)1000)
#define GW_COOLDOWN_MINUTE_CAP_MS (15 * 60 * (int64_t)1000)

typedef struct gw_cooldowns gw_cooldowns_t;

gw_cooldowns_t *gw_cooldowns_new(void);
void gw_cooldowns_free(gw_cooldowns_t *c);

/* Applies a verdict's cooldown (scope, until, escalation for RATE_MINUTE without
 * an explicit delay). Returns the effective until-time. */
int64_t gw_cooldowns_apply(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id,
                           const gw_verdict_t *v, int64_t now_ms);

/* 0 when usable now, else the epoch ms when the (model, key) pair frees up. */
int64_t gw_cooldowns_until(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id,
                           int64_t now_ms);

/* A success on the pair: clears its escalation streak. */
void gw_cooldowns_success(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id);

/* Drops every cooldown of a key (it was removed or replaced). */
void gw_cooldowns_forget_key(gw_cooldowns_t *c, int64_t key_id);

/* Persistence of long benches (a spent daily quota must stay benched across
 * a restart). Rows are opaque: the ids are the table's own (model "" for a
 * key-wide bench, key INT64_MIN for a model-wide one). */
typedef void (*gw_cooldown_row_cb)(void *ctx, const char *provider_id, const char *model_id,
                                   int64_t key_id, int64_t until_ms);
/* Every bench lasting until min_until_ms or later. */
void gw_cooldowns_foreach(gw_cooldowns_t *c, int64_t min_until_ms, gw_cooldown_row_cb cb,
                          void *ctx);
void gw_cooldowns_restore(gw_cooldowns_t *c, const char *provider_id, const char *model_id,
                          int64_t key_id, int64_t until_ms);

/* Every bench running at now_ms: model "" for a key-wide one; all_keys for a
 * model benched on every key (key_id 0 then); reason is the verdict's class. */
typedef void (*gw_cooldown_active_cb)(void *ctx, const char *provider_id, const char *model_id,
                                      int64_t key_id, bool all_keys, int64_t until_ms,
                                      const char *reason);
void gw_cooldowns_active(gw_cooldowns_t *c, int64_t now_ms, gw_cooldown_active_cb cb, void *ctx);

/* Which running benches a release ends: the provider's, narrowed by model (""
 * the key-wide ones; NULL any) and, with match_key, by key (all_keys: the
 * model-wide ones). */
typedef struct gw_cooldown_match {
    const char *provider_id;
    const char *model_id;
    bool match_key;
    bool all_keys;
    int64_t key_id;
} gw_cooldown_match_t;
/* Ends the matching benches now; returns how many. */
size_t gw_cooldowns_release(gw_cooldowns_t *c, const gw_cooldown_match_t *m, int64_t now_ms);

#endif
