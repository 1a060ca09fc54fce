/*
 * Cooldowns (see cooldown.h): in-memory benches, loop thread only. Three kinds
 * of entry live in one pairmap (pairmap.h), keyed by catalog ids (copied):
 *
 *   (provider, model, key)  GW_SCOPE_MODEL_KEY: this pair
 *   (provider, "",    key)  GW_SCOPE_KEY: every model of the key's provider
 *   (provider, model, ANY)  GW_SCOPE_MODEL: the model on every key
 *
 * so a key-wide bench is one entry however many models the provider has, and
 * gw_cooldowns_until() is three lookups.
 *
 * Escalation: a RATE_MINUTE verdict without a delay stated by the upstream
 * benches the entry 90 s, then 180 s, 360 s, ... capped at 15 min. A stated
 * delay (Retry-After, RetryInfo, ...) is used as is but still counts towards
 * the streak. The streak ends on a success, or when the entry has been free
 * for STREAK_RESET_MS without a new 429 (the trouble was a while ago).
 *
 * Entries whose bench ended long ago are swept when the table has doubled
 * since the last sweep, so memory stays bounded by the recent failures.
 */
#include "router/cooldown.h"

#include <stdlib.h>
#include <string.h>

#include "router/pairmap.h"

#define ANY_KEY INT64_MIN
#define STREAK_RESET_MS (15 * 60 * (int64_t)1000)
#define STREAK_MAX 16

typedef struct centry {
    gw_pairmap_node_t node; /* first: the map frees the entry through it */
    int64_t until_ms;       /* benched until; 0 = never was */
    int streak;             /* RATE_MINUTE failures in a row */
    const char *reason;     /* the verdict that set until_ms (static), or "restored" */
} centry_t;

_Static_assert(offsetof(centry_t, node) == 0, "the pairmap node comes first");

struct gw_cooldowns {
    gw_pairmap_t map; /* model_id "" for a key-wide entry, key ANY_KEY for a model-wide one */
    size_t sweep_at;  /* sweep when the map's count reaches this */
};

static centry_t *entry_of(gw_pairmap_node_t *n)
{
    return n != NULL ? gw_container_of(n, centry_t, node) : NULL;
}

static bool stale(const centry_t *e, int64_t now_ms)
{
    return e->until_ms + STREAK_RESET_MS < now_ms;
}

static bool stale_node(const gw_pairmap_node_t *n, void *now_ms)
{
    return stale(gw_container_of(n, const centry_t, node), *(const int64_t *)now_ms);
}

static bool of_key(const gw_pairmap_node_t *n, void *key_id)
{
    return n->key_id == *(const int64_t *)key_id;
}

gw_cooldowns_t *gw_cooldowns_new(void)
{
    gw_cooldowns_t *c = gw_xcalloc(1, sizeof(*c));

    gw_pairmap_init(&c->map, sizeof(centry_t));
    c->sweep_at = 256;
    return c;
}

void gw_cooldowns_free(gw_cooldowns_t *c)
{
    if (c == NULL)
        return;
    gw_pairmap_dispose(&c->map);
    free(c);
}

/* ---- API ------------------------------------------------------------------------- */

/* The entry a scope benches, or NULL for GW_SCOPE_NONE. */
static centry_t *scope_entry(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id,
                             gw_scope_t scope, bool create)
{
    const char *pid = m->provider->id;
    const char *mid = m->id;

    switch (scope) {
    case GW_SCOPE_MODEL_KEY:
        break;
    case GW_SCOPE_KEY:
        mid = "";
        break;
    case GW_SCOPE_MODEL:
        key_id = ANY_KEY;
        break;
    case GW_SCOPE_NONE:
    default:
        return NULL;
    }
    if (create)
        return entry_of(gw_pairmap_get_or_add(&c->map, pid, mid, key_id, NULL));
    return entry_of(gw_pairmap_find(&c->map, pid, mid, key_id));
}

int64_t gw_cooldowns_apply(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id,
                           const gw_verdict_t *v, int64_t now_ms)
{
    bool minute = v->fail == GW_FAIL_RATE_MINUTE;
    int64_t until = v->cooldown_until_ms;
    centry_t *e;

    gw_assert(m->provider != NULL);
    if (v->scope == GW_SCOPE_NONE)
        return 0;
    if (until <= 0 && !minute) {
        e = scope_entry(c, m, key_id, v->scope, false);
        return e != NULL ? e->until_ms : 0;
    }
    if (c->map.count >= c->sweep_at) {
        gw_pairmap_remove_if(&c->map, stale_node, &now_ms);
        c->sweep_at = GW_MAX(c->map.count * 2, (size_t)256);
    }
    e = scope_entry(c, m, key_id, v->scope, true);
    if (minute) {
        if (e->streak > 0 && stale(e, now_ms))
            e->streak = 0;
        if (!v->explicit_delay) {
            int64_t step = GW_COOLDOWN_MINUTE_FIRST_MS << GW_MIN(e->streak, 10);

            until = now_ms + GW_MIN(step, GW_COOLDOWN_MINUTE_CAP_MS);
        }
        if (e->streak < STREAK_MAX)
            e->streak++;
    }
    if (until > e->until_ms) {
        e->until_ms = until;
        e->reason = v->name;
    }
    return e->until_ms;
}

int64_t gw_cooldowns_until(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id,
                           int64_t now_ms)
{
    static const gw_scope_t scopes[] = {GW_SCOPE_MODEL_KEY, GW_SCOPE_KEY, GW_SCOPE_MODEL};
    int64_t until = 0;

    gw_assert(m->provider != NULL);
    for (size_t i = 0; i < GW_ARRAY_LEN(scopes); i++) {
        centry_t *e = scope_entry(c, m, key_id, scopes[i], false);

        if (e != NULL && e->until_ms > now_ms && e->until_ms > until)
            until = e->until_ms;
    }
    return until;
}

void gw_cooldowns_success(gw_cooldowns_t *c, const gw_model_t *m, int64_t key_id)
{
    static const gw_scope_t scopes[] = {GW_SCOPE_MODEL_KEY, GW_SCOPE_KEY, GW_SCOPE_MODEL};

    gw_assert(m->provider != NULL);
    for (size_t i = 0; i < GW_ARRAY_LEN(scopes); i++) {
        centry_t *e = scope_entry(c, m, key_id, scopes[i], false);

        if (e != NULL)
            e->streak = 0;
    }
}

void gw_cooldowns_forget_key(gw_cooldowns_t *c, int64_t key_id)
{
    gw_pairmap_remove_if(&c->map, of_key, &key_id);
}

/* ---- persistence --------------------------------------------------------------- */

void gw_cooldowns_foreach(gw_cooldowns_t *c, int64_t min_until_ms, gw_cooldown_row_cb cb,
                          void *ctx)
{
    for (gw_pairmap_node_t *n = gw_pairmap_next(&c->map, NULL); n != NULL;
         n = gw_pairmap_next(&c->map, n)) {
        const centry_t *e = entry_of(n);
        if (e->until_ms >= min_until_ms)
            cb(ctx, n->provider_id, n->model_id, n->key_id, e->until_ms);
    }
}

void gw_cooldowns_restore(gw_cooldowns_t *c, const char *provider_id, const char *model_id,
                          int64_t key_id, int64_t until_ms)
{
    centry_t *e = entry_of(gw_pairmap_get_or_add(&c->map, provider_id, model_id, key_id, NULL));

    if (until_ms > e->until_ms) {
        e->until_ms = until_ms;
        e->reason = "restored";
    }
}

/* ---- what the dashboard shows and releases ------------------------------------------ */

void gw_cooldowns_active(gw_cooldowns_t *c, int64_t now_ms, gw_cooldown_active_cb cb, void *ctx)
{
    for (gw_pairmap_node_t *n = gw_pairmap_next(&c->map, NULL); n != NULL;
         n = gw_pairmap_next(&c->map, n)) {
        const centry_t *e = entry_of(n);
        if (e->until_ms > now_ms)
            cb(ctx, n->provider_id, n->model_id, n->key_id == ANY_KEY ? 0 : n->key_id,
               n->key_id == ANY_KEY, e->until_ms, e->reason != NULL ? e->reason : "unknown");
    }
}

typedef struct release {
    const gw_cooldown_match_t *m;
    int64_t now_ms;
    size_t n;
} release_t;

static bool matches(const gw_pairmap_node_t *n, void *ctx)
{
    release_t *r = ctx;
    const gw_cooldown_match_t *m = r->m;
    bool all_keys = n->key_id == ANY_KEY;
    bool hit = entry_of((gw_pairmap_node_t *)n)->until_ms > r->now_ms &&
               strcmp(n->provider_id, m->provider_id) == 0 &&
               (m->model_id == NULL || strcmp(n->model_id, m->model_id) == 0) &&
               (!m->match_key || (m->all_keys ? all_keys : !all_keys && n->key_id == m->key_id));

    r->n += hit;
    return hit;
}

size_t gw_cooldowns_release(gw_cooldowns_t *c, const gw_cooldown_match_t *m, int64_t now_ms)
{
    release_t r = {m, now_ms, 0};

    gw_pairmap_remove_if(&c->map, matches, &r);
    return r.n;
}
