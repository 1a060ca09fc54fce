/*
 * Cooldowns (see cooldown.h): in-memory benches, loop thread only. Three kinds
 * of entry live in one chained hash table keyed by catalog ids (copied):
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

#define ANY_KEY INT64_MIN
#define BASE_MS (90 * (int64_t)1000)
#define CAP_MS (15 * 60 * (int64_t)1000)
#define STREAK_RESET_MS (15 * 60 * (int64_t)1000)
#define STREAK_MAX 16

typedef struct centry {
    struct centry *next;
    uint64_t hash;
    char *provider_id;
    char *model_id;   /* "" for a key-wide entry */
    int64_t key_id;   /* ANY_KEY for a model-wide entry */
    int64_t until_ms; /* benched until; 0 = never was */
    int streak;       /* RATE_MINUTE failures in a row */
} centry_t;

struct gw_cooldowns {
    centry_t **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    size_t sweep_at; /* sweep when count reaches this */
};

/* ---- hash table ------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t key_hash(const char *pid, const char *mid, int64_t key_id)
{
    uint64_t h = 14695981039346656037ULL;

    h = fnv(h, pid, strlen(pid) + 1);
    h = fnv(h, mid, strlen(mid) + 1);
    return fnv(h, &key_id, sizeof(key_id));
}

static centry_t *lookup(gw_cooldowns_t *c, const char *pid, const char *mid, int64_t key_id)
{
    uint64_t h = key_hash(pid, mid, key_id);
    centry_t *e = c->buckets[h & (c->nbuckets - 1)];

    for (; e != NULL; e = e->next)
        if (e->hash == h && e->key_id == key_id && strcmp(e->model_id, mid) == 0 &&
            strcmp(e->provider_id, pid) == 0)
            return e;
    return NULL;
}

static void grow(gw_cooldowns_t *c)
{
    size_t n = c->nbuckets * 2;
    centry_t **b = gw_xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < c->nbuckets; i++) {
        centry_t *e = c->buckets[i];

        while (e != NULL) {
            centry_t *next = e->next;

            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static centry_t *get_or_add(gw_cooldowns_t *c, const char *pid, const char *mid, int64_t key_id)
{
    centry_t *e = lookup(c, pid, mid, key_id);
    size_t slot;

    if (e != NULL)
        return e;
    if (c->count + 1 > c->nbuckets / 4 * 3)
        grow(c);
    e = gw_xcalloc(1, sizeof(*e));
    e->hash = key_hash(pid, mid, key_id);
    e->provider_id = gw_xstrdup(pid);
    e->model_id = gw_xstrdup(mid);
    e->key_id = key_id;
    slot = e->hash & (c->nbuckets - 1);
    e->next = c->buckets[slot];
    c->buckets[slot] = e;
    c->count++;
    return e;
}

static void entry_free(centry_t *e)
{
    free(e->provider_id);
    free(e->model_id);
    free(e);
}

/* Removes every entry the predicate selects. */
static void remove_if(gw_cooldowns_t *c, bool (*pred)(const centry_t *e, int64_t arg), int64_t arg)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        centry_t **pp = &c->buckets[i];

        while (*pp != NULL) {
            centry_t *e = *pp;

            if (pred(e, arg)) {
                *pp = e->next;
                entry_free(e);
                c->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static bool stale(const centry_t *e, int64_t now_ms)
{
    return e->until_ms + STREAK_RESET_MS < now_ms;
}

static bool of_key(const centry_t *e, int64_t key_id)
{
    return e->key_id == key_id;
}

gw_cooldowns_t *gw_cooldowns_new(void)
{
    gw_cooldowns_t *c = gw_xcalloc(1, sizeof(*c));

    c->nbuckets = 64;
    c->buckets = gw_xcalloc(c->nbuckets, sizeof(*c->buckets));
    c->sweep_at = 256;
    return c;
}

void gw_cooldowns_free(gw_cooldowns_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        centry_t *e = c->buckets[i];

        while (e != NULL) {
            centry_t *next = e->next;

            entry_free(e);
            e = next;
        }
    }
    free(c->buckets);
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
    return create ? get_or_add(c, pid, mid, key_id) : lookup(c, pid, mid, key_id);
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
    if (c->count >= c->sweep_at) {
        remove_if(c, stale, now_ms);
        c->sweep_at = GW_MAX(c->count * 2, (size_t)256);
    }
    e = scope_entry(c, m, key_id, v->scope, true);
    if (minute) {
        if (e->streak > 0 && stale(e, now_ms))
            e->streak = 0;
        if (!v->explicit_delay) {
            int64_t step = BASE_MS << GW_MIN(e->streak, 10);

            until = now_ms + GW_MIN(step, CAP_MS);
        }
        if (e->streak < STREAK_MAX)
            e->streak++;
    }
    if (until > e->until_ms)
        e->until_ms = until;
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
    remove_if(c, of_key, key_id);
}
