/*
 * The rate-limit ledger (see ledger.h). One entry per (provider, model, key)
 * and one per (provider, key) for account-wide caps, in a pairmap (pairmap.h)
 * keyed by the catalog ids (copied, so entries survive a catalog reload).
 *
 * Minute window: a ring of 64 one-second buckets. A bucket stamped with second
 * b counts while now_s - b <= 60, i.e. until (b + 61) * 1000 ms: every request
 * stays counted for at least a full 60 s whatever its millisecond inside the
 * second, so we never let a burst through that the upstream's own sliding
 * minute would refuse (conservative by up to one second).
 *
 * Period counters (RPD/TPD) start over at gw_reset_period_start() of the
 * provider's reset kind; they roll forward lazily on access.
 *
 * Token caps and big requests: a request is refused on TPM/TPD only when
 * something is already counted (used > 0) and used + est would pass the cap.
 * A request whose estimate alone exceeds the cap is let through on an empty
 * window, otherwise it could never run here (the upstream will say 413/429 if
 * it really cannot take it, and the error table moves on).
 *
 * After an entry exists nothing allocates: charge/allows/adjust are a hash
 * lookup plus a scan of 64 buckets.
 */
#include "router/ledger.h"

#include <stdlib.h>
#include <string.h>

#include "router/pairmap.h"
#include "router/reset.h"

#define SLOTS 64      /* ring size, a power of two above SPAN */
#define SPAN_S 61     /* a bucket counts for this many distinct seconds */
#define EMPTY_SEC INT64_MIN

typedef struct entry {
    gw_pairmap_node_t node; /* first: the map frees the entry through it */
    gw_reset_t reset;
    int64_t sec[SLOTS]; /* second each slot holds, EMPTY_SEC if none */
    int64_t req[SLOTS];
    int64_t tok[SLOTS];
    int64_t period_start_ms;
    int64_t period_req;
    int64_t period_tok;
} entry_t;

_Static_assert(offsetof(entry_t, node) == 0, "the pairmap node comes first");

struct gw_ledger {
    gw_pairmap_t map; /* model_id "" for the provider-wide entry */
};

static entry_t *entry_of(gw_pairmap_node_t *n)
{
    return n != NULL ? gw_container_of(n, entry_t, node) : NULL;
}

static entry_t *lookup(gw_ledger_t *l, const char *pid, const char *mid, int64_t key_id)
{
    return entry_of(gw_pairmap_find(&l->map, pid, mid, key_id));
}

static entry_t *get_or_add(gw_ledger_t *l, const char *pid, const char *mid, int64_t key_id,
                           gw_reset_t reset, int64_t now_ms)
{
    bool created;
    entry_t *e = entry_of(gw_pairmap_get_or_add(&l->map, pid, mid, key_id, &created));

    if (created) {
        e->reset = reset;
        for (int i = 0; i < SLOTS; i++)
            e->sec[i] = EMPTY_SEC;
        e->period_start_ms = gw_reset_period_start(reset, now_ms);
    }
    return e;
}

gw_ledger_t *gw_ledger_new(void)
{
    gw_ledger_t *l = gw_xcalloc(1, sizeof(*l));

    gw_pairmap_init(&l->map, sizeof(entry_t));
    return l;
}

void gw_ledger_free(gw_ledger_t *l)
{
    if (l == NULL)
        return;
    gw_pairmap_dispose(&l->map);
    free(l);
}

/* ---- windows --------------------------------------------------------------------- */

static int64_t sec_of(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* Starts a new period when the provider's boundary has passed. Only forward:
 * a clock stepping back keeps today's counts (the safe side). */
static void roll(entry_t *e, int64_t now_ms)
{
    int64_t start = gw_reset_period_start(e->reset, now_ms);

    if (start > e->period_start_ms) {
        e->period_start_ms = start;
        e->period_req = 0;
        e->period_tok = 0;
    }
}

static bool in_window(int64_t sec, int64_t now_s)
{
    return sec != EMPTY_SEC && sec > now_s - SPAN_S;
}

static void window_sum(const entry_t *e, int64_t now_s, int64_t *req, int64_t *tok)
{
    *req = 0;
    *tok = 0;
    for (int i = 0; i < SLOTS; i++) {
        if (!in_window(e->sec[i], now_s))
            continue;
        *req += e->req[i];
        *tok += e->tok[i];
    }
}

/* The bucket of second s, emptied first if it still holds an older second. */
static int bucket(entry_t *e, int64_t s)
{
    int i = (int)(s & (SLOTS - 1));

    if (e->sec[i] != s) {
        e->sec[i] = s;
        e->req[i] = 0;
        e->tok[i] = 0;
    }
    return i;
}

/*
 * When enough of the window has aged out: buckets leave oldest first; stop
 * when freeing them lets one more request of `est` fit (tokens=true: the
 * remaining tokens are 0 or remaining + est <= cap; tokens=false: remaining
 * requests + 1 <= cap). Returns epoch ms.
 */
static int64_t free_at(const entry_t *e, int64_t now_s, bool tokens, int64_t used, int64_t est,
                       int64_t cap)
{
    int64_t freed = 0;
    int64_t last = now_s;

    for (int64_t s = now_s - SPAN_S + 1; s <= now_s; s++) {
        int i = (int)(s & (SLOTS - 1));
        int64_t left;

        if (e->sec[i] != s)
            continue;
        freed += tokens ? e->tok[i] : e->req[i];
        left = used - freed;
        if (tokens ? (left <= 0 || left + est <= cap) : (left + 1 <= cap))
            return (s + SPAN_S) * 1000;
        last = s;
    }
    /* Only buckets stamped in the future (clock stepped back) are left. */
    for (int i = 0; i < SLOTS; i++)
        if (e->sec[i] != EMPTY_SEC && e->sec[i] > last)
            last = e->sec[i];
    return (last + SPAN_S) * 1000;
}

/* Checks one entry against its caps; on refusal raises *retry to when it fits. */
static bool fits(entry_t *e, const gw_limits_t *lim, int64_t est, int64_t now_ms, int64_t *retry)
{
    int64_t now_s = sec_of(now_ms);
    int64_t rq, tk;
    bool ok = true;

    if (e == NULL)
        return true; /* nothing counted: even a huge request may run (see top) */
    roll(e, now_ms);
    window_sum(e, now_s, &rq, &tk);
    if (lim->rpm > 0 && rq + 1 > lim->rpm) {
        ok = false;
        *retry = GW_MAX(*retry, free_at(e, now_s, false, rq, est, lim->rpm));
    }
    if (lim->tpm > 0 && tk > 0 && tk + est > lim->tpm) {
        ok = false;
        *retry = GW_MAX(*retry, free_at(e, now_s, true, tk, est, lim->tpm));
    }
    if ((lim->rpd > 0 && e->period_req + 1 > lim->rpd) ||
        (lim->tpd > 0 && e->period_tok > 0 && e->period_tok + est > lim->tpd)) {
        ok = false;
        *retry = GW_MAX(*retry, gw_reset_next(e->reset, now_ms));
    }
    return ok;
}

/* ---- API ------------------------------------------------------------------------- */

bool gw_ledger_allows(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms, int64_t *retry_at_ms)
{
    const gw_provider_t *p = m->provider;
    int64_t retry = 0;
    bool ok;

    gw_assert(p != NULL);
    if (est_tokens < 0)
        est_tokens = 0;
    ok = fits(lookup(l, p->id, m->id, key_id), &m->limits, est_tokens, now_ms, &retry);
    /* Evaluate both so retry_at covers every cap that is in the way. */
    ok = fits(lookup(l, p->id, "", key_id), &p->limits, est_tokens, now_ms, &retry) && ok;
    if (retry_at_ms != NULL)
        *retry_at_ms = ok ? 0 : retry;
    return ok;
}

static void charge_entry(entry_t *e, int64_t est, int64_t now_ms)
{
    int i;

    roll(e, now_ms);
    i = bucket(e, sec_of(now_ms));
    e->req[i] += 1;
    e->tok[i] += est;
    e->period_req += 1;
    e->period_tok += est;
}

void gw_ledger_charge(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t est_tokens,
                      int64_t now_ms)
{
    const gw_provider_t *p = m->provider;

    gw_assert(p != NULL);
    if (est_tokens < 0)
        est_tokens = 0;
    charge_entry(get_or_add(l, p->id, m->id, key_id, p->reset, now_ms), est_tokens, now_ms);
    charge_entry(get_or_add(l, p->id, "", key_id, p->reset, now_ms), est_tokens, now_ms);
}

/* Moves the correction into the bucket the request was charged to while it is
 * still in the window. A positive correction whose bucket has aged out goes to
 * the current second instead (the upstream may still count those tokens); a
 * negative one is dropped (the window already forgot them). Same for the
 * period: only corrections to this period's charges count. */
static void adjust_entry(entry_t *e, int64_t delta, int64_t charged_at_ms, int64_t now_ms)
{
    int64_t now_s = sec_of(now_ms);
    int64_t cs = sec_of(charged_at_ms);
    int i = (int)(cs & (SLOTS - 1));

    roll(e, now_ms);
    if (e->sec[i] == cs && in_window(cs, now_s)) {
        e->tok[i] = GW_MAX(e->tok[i] + delta, 0);
    } else if (delta > 0) {
        i = bucket(e, now_s);
        e->tok[i] += delta;
    }
    if (charged_at_ms >= e->period_start_ms)
        e->period_tok = GW_MAX(e->period_tok + delta, 0);
}

void gw_ledger_adjust(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t delta_tokens,
                      int64_t charged_at_ms, int64_t now_ms)
{
    const gw_provider_t *p = m->provider;
    entry_t *e;

    gw_assert(p != NULL);
    if (delta_tokens == 0)
        return;
    e = lookup(l, p->id, m->id, key_id);
    if (e != NULL)
        adjust_entry(e, delta_tokens, charged_at_ms, now_ms);
    e = lookup(l, p->id, "", key_id);
    if (e != NULL)
        adjust_entry(e, delta_tokens, charged_at_ms, now_ms);
}

static void usage_of(entry_t *e, gw_reset_t reset, int64_t now_ms, gw_usage_t *out)
{
    memset(out, 0, sizeof(*out));
    out->period_start_ms = gw_reset_period_start(reset, now_ms);
    if (e == NULL)
        return;
    roll(e, now_ms);
    window_sum(e, sec_of(now_ms), &out->rpm, &out->tpm);
    if (e->period_start_ms == out->period_start_ms) {
        out->rpd = e->period_req;
        out->tpd = e->period_tok;
    }
}

void gw_ledger_usage(gw_ledger_t *l, const gw_model_t *m, int64_t key_id, int64_t now_ms,
                     gw_usage_t *out)
{
    const gw_provider_t *p = m->provider;

    gw_assert(p != NULL);
    usage_of(lookup(l, p->id, m->id, key_id), p->reset, now_ms, out);
}

void gw_ledger_usage_provider(gw_ledger_t *l, const gw_provider_t *p, int64_t key_id,
                              int64_t now_ms, gw_usage_t *out)
{
    usage_of(lookup(l, p->id, "", key_id), p->reset, now_ms, out);
}

void gw_ledger_foreach(gw_ledger_t *l, int64_t now_ms, gw_ledger_row_cb cb, void *ctx)
{
    for (gw_pairmap_node_t *n = gw_pairmap_next(&l->map, NULL); n != NULL;
         n = gw_pairmap_next(&l->map, n)) {
        entry_t *e = entry_of(n);

        roll(e, now_ms);
        if (e->period_req == 0 && e->period_tok == 0)
            continue;
        cb(ctx, n->provider_id, n->model_id, n->key_id, e->period_start_ms, e->period_req,
           e->period_tok);
    }
}

/* Looked up by scanning rather than through catalog.c's helpers: restore runs
 * once at start, and this keeps the ledger testable on a hand-built catalog. */
static const gw_provider_t *find_provider(const gw_catalog_t *cat, const char *id)
{
    for (size_t i = 0; i < cat->nproviders; i++)
        if (cat->providers[i].id != NULL && strcmp(cat->providers[i].id, id) == 0)
            return &cat->providers[i];
    return NULL;
}

static bool has_model(const gw_catalog_t *cat, const gw_provider_t *p, const char *id)
{
    for (size_t i = 0; i < cat->nmodels; i++)
        if (cat->models[i].provider == p && strcmp(cat->models[i].id, id) == 0)
            return true;
    return false;
}

void gw_ledger_restore(gw_ledger_t *l, const gw_catalog_t *cat, const char *provider_id,
                       const char *model_id, int64_t key_id, int64_t period_start_ms,
                       int64_t requests, int64_t tokens, int64_t now_ms)
{
    const gw_provider_t *p;
    entry_t *e;

    if (provider_id == NULL)
        return;
    if (model_id == NULL)
        model_id = "";
    p = find_provider(cat, provider_id);
    if (p == NULL)
        return; /* provider left the catalog */
    if (model_id[0] != '\0' && !has_model(cat, p, model_id))
        return;
    if (period_start_ms != gw_reset_period_start(p->reset, now_ms))
        return; /* an earlier period: already reset upstream */
    e = get_or_add(l, p->id, model_id, key_id, p->reset, now_ms);
    roll(e, now_ms);
    /* max, not sum: restoring the same row twice must not double it. */
    e->period_req = GW_MAX(e->period_req, requests);
    e->period_tok = GW_MAX(e->period_tok, tokens);
}
