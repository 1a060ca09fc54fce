/*
 * Router state and candidate selection (see router.h).
 */
#include "router/router.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "router/ratelimit_headers.h"
#include "router/reset.h"
#include "store/store.h"

static void rkey_free(gw_rkey_t *k)
{
    if (k->secret != NULL) {
        OPENSSL_cleanse(k->secret, strlen(k->secret));
        free(k->secret);
    }
    free(k->account_id);
    free(k->label);
    free(k);
}

void gw_router_init(gw_router_t *r, gw_catalog_t *cat)
{
    memset(r, 0, sizeof(*r));
    r->cat = cat;
    r->ledger = gw_ledger_new();
    r->cool = gw_cooldowns_new();
    r->sticky = gw_sticky_new(10000);
    r->enabled = gw_xcalloc(cat->nmodels, sizeof(bool));
    r->quarantined = gw_xcalloc(cat->nmodels, sizeof(bool));
    r->order = gw_xcalloc(cat->nmodels, sizeof(int));
    r->rr = gw_xcalloc(cat->nmodels, sizeof(unsigned));
    r->pace = gw_xcalloc(cat->nmodels, sizeof(double));
    r->est = gw_xcalloc(cat->nmodels, sizeof(gw_estimate_t));
    for (size_t i = 0; i < cat->nmodels; i++)
        gw_estimate_init(&r->est[i]);
    r->anon = gw_xcalloc(cat->nproviders, sizeof(gw_rkey_t *));
    for (size_t i = 0; i < cat->nproviders; i++) {
        gw_provider_t *p = &cat->providers[i];
        if (!p->keyless)
            continue;
        r->anon[i] = gw_xcalloc(1, sizeof(gw_rkey_t));
        r->anon[i]->provider = p;
        r->anon[i]->label = gw_xstrdup("anonymous");
    }
    gw_router_reset_prefs(r);
}

void gw_router_dispose(gw_router_t *r)
{
    if (r->cat == NULL)
        return; /* never initialised */
    for (size_t i = 0; i < r->nkeys; i++)
        rkey_free(r->keys[i]);
    for (size_t i = 0; i < r->cat->nproviders; i++)
        if (r->anon[i] != NULL)
            rkey_free(r->anon[i]);
    free(r->keys);
    free(r->anon);
    free(r->enabled);
    free(r->quarantined);
    free(r->order);
    free(r->rr);
    free(r->pace);
    free(r->est);
    gw_ledger_free(r->ledger);
    gw_cooldowns_free(r->cool);
    gw_sticky_free(r->sticky);
    memset(r, 0, sizeof(*r));
}

/* ---- keys ----------------------------------------------------------------- */

static bool str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

void gw_router_set_keys(gw_router_t *r, const gw_key_rec_t *recs, size_t n)
{
    gw_rkey_t **next = gw_xcalloc(n + r->nkeys, sizeof(*next));
    size_t nn = 0;

    for (size_t i = 0; i < n; i++) {
        const gw_key_rec_t *rec = &recs[i];
        gw_provider_t *p = gw_catalog_provider(r->cat, rec->provider);
        gw_rkey_t *k = gw_router_key(r, rec->id);

        if (p == NULL)
            continue; /* a provider the current catalog no longer has */
        if (k != NULL && (!str_same(k->secret, rec->secret) ||
                          !str_same(k->account_id, rec->account_id))) {
            k->removed = true; /* replaced in place: start afresh */
            gw_cooldowns_forget_key(r->cool, k->id);
            k = NULL;
        }
        if (k == NULL) {
            k = gw_xcalloc(1, sizeof(*k));
            k->id = rec->id;
            k->provider = p;
            k->secret = gw_xstrdup(rec->secret);
            k->account_id = rec->account_id ? gw_xstrdup(rec->account_id) : NULL;
            k->label = gw_xstrdup(rec->label ? rec->label : "");
        }
        next[nn++] = k;
    }
    /* Keys that went away: forget their cooldowns; free unless a plan holds them. */
    for (size_t i = 0; i < r->nkeys; i++) {
        gw_rkey_t *k = r->keys[i];
        bool kept = false;
        for (size_t j = 0; j < nn && !kept; j++)
            kept = next[j] == k;
        if (kept)
            continue;
        k->removed = true;
        gw_cooldowns_forget_key(r->cool, k->id);
        if (k->refs == 0)
            rkey_free(k);
        else
            next[nn++] = k; /* kept listed (removed) until its plans finish */
    }
    free(r->keys);
    r->keys = next;
    r->nkeys = nn;
}

gw_rkey_t *gw_router_key(gw_router_t *r, int64_t id)
{
    for (size_t i = 0; i < r->nkeys; i++)
        if (r->keys[i]->id == id && !r->keys[i]->removed)
            return r->keys[i];
    return NULL;
}

/* ---- preferences ------------------------------------------------------------ */

static int by_priority(const void *a, const void *b, void *cat)
{
    const gw_catalog_t *c = cat;
    const gw_model_t *ma = &c->models[*(const int *)a];
    const gw_model_t *mb = &c->models[*(const int *)b];
    if (ma->priority != mb->priority)
        return ma->priority < mb->priority ? -1 : 1;
    return ma->index - mb->index;
}

void gw_router_reset_prefs(gw_router_t *r)
{
    for (size_t i = 0; i < r->cat->nmodels; i++) {
        r->enabled[i] = r->cat->models[i].enabled;
        r->quarantined[i] = false;
        r->pace[i] = 0;
        r->order[i] = (int)i;
    }
    qsort_r(r->order, r->cat->nmodels, sizeof(int), by_priority, r->cat);
}

void gw_router_set_enabled(gw_router_t *r, const char *provider, const char *model, bool on)
{
    gw_model_t *m = gw_catalog_model(r->cat, provider, model);
    if (m != NULL)
        r->enabled[m->index] = on;
}

void gw_router_set_quarantined(gw_router_t *r, const char *provider, const char *model, bool on)
{
    gw_model_t *m = gw_catalog_model(r->cat, provider, model);
    if (m != NULL)
        r->quarantined[m->index] = on;
}

void gw_router_set_pacing(gw_router_t *r, const char *provider, const char *model,
                          double reserve)
{
    gw_model_t *m = gw_catalog_model(r->cat, provider, model);
    if (m != NULL)
        r->pace[m->index] = reserve > 0 ? GW_MIN(reserve, 0.95) : 0;
}

/* The user's ranked entries first, in their order; the rest by priority. */
void gw_router_set_chain(gw_router_t *r, char *const *entries, size_t n)
{
    size_t nm = r->cat->nmodels;
    bool *placed = gw_xcalloc(nm, sizeof(bool));
    int *by_prio = gw_xcalloc(nm, sizeof(int));
    size_t k = 0;

    for (size_t i = 0; i < nm; i++)
        by_prio[i] = (int)i;
    qsort_r(by_prio, nm, sizeof(int), by_priority, r->cat);
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(entries[i], '/');
        char prov[64];
        gw_model_t *m;

        if (slash == NULL || (size_t)(slash - entries[i]) >= sizeof(prov))
            continue;
        memcpy(prov, entries[i], (size_t)(slash - entries[i]));
        prov[slash - entries[i]] = '\0';
        m = gw_catalog_model(r->cat, prov, slash + 1);
        if (m != NULL && !placed[m->index]) {
            placed[m->index] = true;
            r->order[k++] = m->index;
        }
    }
    for (size_t i = 0; i < nm; i++) {
        if (!placed[by_prio[i]]) {
            placed[by_prio[i]] = true;
            r->order[k++] = by_prio[i];
        }
    }
    free(by_prio);
    free(placed);
}

/* ---- lookups ------------------------------------------------------------------ */

/* Matches "id" exactly, or "provider/id". */
static bool name_matches(const gw_model_t *m, const char *name)
{
    size_t plen;

    /* Called for every catalog model per request: the first byte settles most. */
    if (m->id[0] == name[0] && strcmp(m->id, name) == 0)
        return true;
    if (m->provider->id[0] != name[0])
        return false;
    plen = strlen(m->provider->id);
    return strncmp(name, m->provider->id, plen) == 0 && name[plen] == '/' &&
           strcmp(name + plen + 1, m->id) == 0;
}

const gw_model_t *gw_router_find_model(const gw_router_t *r, const char *name)
{
    for (size_t i = 0; i < r->cat->nmodels; i++)
        if (name_matches(&r->cat->models[i], name))
            return &r->cat->models[i];
    return NULL;
}

bool gw_router_known_model(gw_router_t *r, const char *name)
{
    for (size_t i = 0; i < r->cat->nmodels; i++)
        if (name_matches(&r->cat->models[i], name))
            return true;
    return false;
}

static bool key_usable(const gw_rkey_t *k)
{
    return !k->removed && k->health != GW_KEY_INVALID;
}

/* A model the catalog lists but no adapter here can call. */
static bool model_unserved(const gw_model_t *m)
{
    return m->api != NULL && strcmp(m->api, "none") == 0;
}

int gw_router_keys_serving(const gw_router_t *r, const gw_provider_t *p)
{
    int n = r->anon[p->index] != NULL;

    for (size_t i = 0; i < r->nkeys; i++)
        n += r->keys[i]->provider == p && key_usable(r->keys[i]);
    return n;
}

bool gw_router_model_usable(gw_router_t *r, const gw_model_t *m)
{
    const gw_provider_t *p = m->provider;

    if (!r->enabled[m->index] || !p->enabled || model_unserved(m) || r->quarantined[m->index])
        return false;
    if (r->anon[p->index] != NULL)
        return true;
    for (size_t i = 0; i < r->nkeys; i++)
        if (r->keys[i]->provider == p && key_usable(r->keys[i]))
            return true;
    return false;
}

bool gw_router_model_limited(gw_router_t *r, const gw_model_t *m, int64_t now_ms)
{
    const gw_provider_t *p = m->provider;
    bool any = false;

    for (size_t i = 0; i <= r->nkeys; i++) {
        const gw_rkey_t *k = i < r->nkeys ? r->keys[i] : r->anon[p->index];
        int64_t retry_at = 0;

        if (k == NULL || k->provider != p || !key_usable(k))
            continue;
        any = true;
        if (gw_cooldowns_until(r->cool, m, k->id, now_ms) == 0 &&
            gw_ledger_allows(r->ledger, m, k->id, 1, now_ms, &retry_at))
            return false;
    }
    return any;
}

void gw_router_model_usage(gw_router_t *r, const gw_model_t *m, int64_t now_ms, gw_usage_t *out)
{
    const gw_provider_t *p = m->provider;
    gw_usage_t u;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i <= r->nkeys; i++) {
        const gw_rkey_t *k = i < r->nkeys ? r->keys[i] : r->anon[p->index];

        if (k == NULL || k->provider != p || k->removed)
            continue;
        gw_ledger_usage(r->ledger, m, k->id, now_ms, &u);
        out->rpm += u.rpm;
        out->tpm += u.tpm;
        out->rpd += u.rpd;
        out->tpd += u.tpd;
    }
}

/* One daily window of the pacing view: the allowance of each key's cap summed,
 * and the earliest next release. */
static void pace_window(gw_router_t *r, const gw_model_t *m, gw_win_t w, int64_t now_ms,
                        int64_t *allowed, int64_t *next_release)
{
    const gw_provider_t *p = m->provider;
    double reserve = r->pace[m->index];
    int64_t start = gw_reset_period_start(p->reset, now_ms);
    int64_t next = gw_reset_next(p->reset, now_ms);

    *allowed = -1;
    for (size_t i = 0; i <= r->nkeys; i++) {
        const gw_rkey_t *k = i < r->nkeys ? r->keys[i] : r->anon[p->index];
        int64_t cap, have, at;

        if (k == NULL || k->provider != p || !key_usable(k))
            continue;
        cap = gw_ledger_cap(r->ledger, m, k->id, w);
        if (cap <= 0)
            continue;
        have = gw_ledger_paced_allowance(cap, reserve, start, next, now_ms);
        *allowed = GW_MAX(*allowed, 0) + have;
        if (next_release == NULL || have >= cap)
            continue;
        at = gw_ledger_paced_release_at(cap, reserve, start, next, have + 1);
        /* The last share comes with the reset itself. */
        if (at <= next && (*next_release == 0 || at < *next_release))
            *next_release = at;
    }
}

void gw_router_model_pacing(gw_router_t *r, const gw_model_t *m, int64_t now_ms,
                            gw_pacing_view_t *out)
{
    memset(out, 0, sizeof(*out));
    out->reserve = r->pace[m->index];
    if (out->reserve <= 0)
        return;
    pace_window(r, m, GW_WIN_RPD, now_ms, &out->requests, &out->next_release_ms);
    pace_window(r, m, GW_WIN_TPD, now_ms, &out->tokens, NULL);
}

/* ---- plans ---------------------------------------------------------------------- */

static bool model_serves(gw_router_t *r, const gw_model_t *m, const gw_need_t *need)
{
    if (!r->enabled[m->index] || !m->provider->enabled || model_unserved(m))
        return false;
    /* A quarantined model is reached only by a test asking for it alone. */
    if (r->quarantined[m->index] && !need->only_named)
        return false;
    if (need->kind != NULL && strcmp(m->kind, need->kind) != 0)
        return false;
    return (m->caps & need->caps) == need->caps;
}

static bool fits_window(const gw_model_t *m, const gw_need_t *need)
{
    /* A provider that caps max_tokens serves the request with the cap applied. */
    int64_t max_tokens = need->max_tokens;
    int64_t cap = m->provider->policy.max_tokens_cap;
    if (cap > 0 && max_tokens > cap)
        max_tokens = cap;
    return m->context_window <= 0 || need->prompt_tokens + max_tokens <= m->context_window;
}

static bool model_fits(gw_router_t *r, const gw_model_t *m, const gw_need_t *need)
{
    return model_serves(r, m, need) && fits_window(m, need);
}

/* Remembers the largest window among usable models the request is too long
 * for, so an empty plan can say "too long" rather than "add a key". */
static void note_too_long(gw_plan_t *p, const gw_model_t *m, const gw_need_t *need)
{
    gw_router_t *r = p->router;
    if (model_serves(r, m, need) && !fits_window(m, need) && gw_router_model_usable(r, m) &&
        m->context_window > p->too_long_window)
        p->too_long_window = m->context_window;
}

static void push(gw_plan_t *p, size_t *cap, gw_model_t *m, gw_rkey_t *k)
{
    if (p->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        p->c = gw_xrealloc(p->c, *cap * sizeof(*p->c));
    }
    k->refs++;
    p->c[p->n].model = m;
    p->c[p->n].key = k;
    p->n++;
}

/* Adds every usable key of the model, rotating the start so load spreads
 * over a provider's keys; the anonymous route goes after real keys. */
static void add_model(gw_plan_t *p, size_t *cap, bool *added, gw_model_t *m)
{
    gw_router_t *r = p->router;
    gw_rkey_t *mine[64];
    size_t n = 0;

    if (added[m->index])
        return;
    added[m->index] = true;
    for (size_t i = 0; i < r->nkeys && n < GW_ARRAY_LEN(mine); i++)
        if (r->keys[i]->provider == m->provider && key_usable(r->keys[i]))
            mine[n++] = r->keys[i];
    for (size_t i = 0; i < n; i++)
        push(p, cap, m, mine[(r->rr[m->index] + i) % n]);
    if (n > 1)
        r->rr[m->index]++;
    if (r->anon[m->provider->index] != NULL)
        push(p, cap, m, r->anon[m->provider->index]);
}

size_t gw_plan_build(gw_plan_t *p, gw_router_t *r, const char *model, const gw_need_t *need,
                     const unsigned char *conversation, int64_t now_ms)
{
    gw_catalog_t *cat = r->cat;
    bool *added = gw_xcalloc(cat->nmodels, sizeof(bool));
    size_t cap = 0;
    bool is_auto = model == NULL || strcmp(model, "auto") == 0;
    int sticky_model = -1;

    memset(p, 0, sizeof(*p));
    p->router = r;
    p->need = *need;
    p->skip_model = gw_xcalloc(cat->nmodels, sizeof(bool));
    p->skip_provider = gw_xcalloc(cat->nproviders, sizeof(bool));
    if (conversation != NULL) {
        p->has_conversation = true;
        memcpy(p->digest, conversation, sizeof(p->digest));
        sticky_model = gw_sticky_get(r->sticky, p->digest, now_ms);
    }
    if (!is_auto) {
        /* The named model first, on every provider that serves it, in chain
         * order (a tier name can be a catalog model too: GitHub's gpt-4o). */
        for (size_t i = 0; i < cat->nmodels; i++) {
            gw_model_t *m = &cat->models[r->order[i]];
            if (name_matches(m, model) && model_fits(r, m, need))
                add_model(p, &cap, added, m);
        }
        if (need->only_named)
            goto out;
    }
    /* "auto" and a tier name that named no usable model keep the
     * conversation on the model that answered it before. */
    if ((is_auto || need->prefer != GW_TIER_NONE) && p->n == 0 && sticky_model >= 0 &&
        (size_t)sticky_model < cat->nmodels && model_fits(r, &cat->models[sticky_model], need))
        add_model(p, &cap, added, &cat->models[sticky_model]);
    /* A tier asked for by name: its models first, in chain order; the rest
     * of the chain after them, so the request is served when it has none. */
    for (size_t i = 0; need->prefer != GW_TIER_NONE && i < cat->nmodels; i++) {
        gw_model_t *m = &cat->models[r->order[i]];
        bool in_tier = need->prefer == GW_TIER_REASONING ? m->reasoning : m->tier == need->prefer;

        if (in_tier && model_fits(r, m, need))
            add_model(p, &cap, added, m);
    }
    for (size_t i = 0; i < cat->nmodels; i++) {
        gw_model_t *m = &cat->models[r->order[i]];
        if (model_fits(r, m, need))
            add_model(p, &cap, added, m);
        else if (p->n == 0)
            note_too_long(p, m, need);
    }
out:
    free(added);
    if (p->n > 0)
        p->too_long_window = 0;
    return p->n;
}

void gw_plan_dispose(gw_plan_t *p)
{
    if (p->charged != NULL) { /* a call abandoned unsettled */
        gw_ledger_end(p->router->ledger, p->charged->model, p->charged->key->id, false);
        p->charged->key->inflight--;
    }
    for (size_t i = 0; i < p->n; i++) {
        gw_rkey_t *k = p->c[i].key;
        if (--k->refs == 0 && k->removed) {
            /* Unlist it from the router, then free. */
            gw_router_t *r = p->router;
            for (size_t j = 0; j < r->nkeys; j++) {
                if (r->keys[j] == k) {
                    r->keys[j] = r->keys[--r->nkeys];
                    break;
                }
            }
            rkey_free(k);
        }
    }
    free(p->c);
    free(p->skip_model);
    free(p->skip_provider);
    memset(p, 0, sizeof(*p));
}

static void note_until(gw_plan_t *p, int64_t until)
{
    if (until > 0 && (p->earliest_ms == 0 || until < p->earliest_ms))
        p->earliest_ms = until;
}

/* A pair whose provider caps calls in flight per key and has them all out, or
 * one that has never answered with a call out (gw_ledger_first_busy). */
static bool pair_busy(gw_router_t *r, const gw_cand_t *c)
{
    int64_t cap = c->model->provider->limits.concurrent;
    return (cap > 0 && c->key->inflight >= cap) ||
           gw_ledger_first_busy(r->ledger, c->model, c->key->id);
}

gw_cand_t *gw_plan_next(gw_plan_t *p, int64_t now_ms)
{
    gw_router_t *r = p->router;

    while (p->pos < p->n) {
        gw_cand_t *c = &p->c[p->pos++];
        int64_t until;
        int64_t retry_at = 0;
        gw_cost_t cost;

        if (p->skip_model[c->model->index] || p->skip_provider[c->model->provider->index])
            continue;
        if (!key_usable(c->key))
            continue;
        gw_plan_cost(p, c, &cost);
        switch (gw_ledger_fit(r->ledger, c->model, c->key->id, &cost, now_ms, &retry_at)) {
        case GW_FIT_NEVER:
            p->too_large++;
            p->too_large_cap = GW_MAX(p->too_large_cap,
                                      gw_ledger_cap(r->ledger, c->model, c->key->id, GW_WIN_TPM));
            continue;
        case GW_FIT_LATER:
            p->limited++;
            note_until(p, retry_at);
            continue;
        case GW_FIT_OK:
            break;
        }
        until = gw_cooldowns_until(r->cool, c->model, c->key->id, now_ms);
        if (until > 0) {
            p->limited++;
            note_until(p, until);
            continue;
        }
        if (pair_busy(r, c)) {
            p->busy++;
            continue;
        }
        return c;
    }
    return NULL;
}

void gw_plan_rewind(gw_plan_t *p)
{
    p->pos = 0;
    p->limited = 0;
    p->too_large = 0;
    p->too_large_cap = 0;
    p->busy = 0;
    p->earliest_ms = 0;
}

void gw_plan_fail(gw_plan_t *p, const gw_cand_t *c, const gw_verdict_t *v, int64_t now_ms)
{
    gw_router_t *r = p->router;
    int64_t until = 0;
    gw_verdict_t own = *v;

    if (v->too_large || v->token_window)
        v = &own;
    if (own.too_large) {
        /* Never this large again on this pair; smaller calls still fit. */
        gw_cost_t cost;
        gw_rl_seen_t seen;

        gw_plan_cost(p, c, &cost);
        gw_ledger_too_large(r->ledger, c->model, c->key->id, cost.floor, now_ms);
        gw_rl_seen_init(&seen);
        seen.limit[GW_WIN_TPM] = own.stated_limit;
        gw_ledger_observe(r->ledger, c->model, c->key->id, &seen, p->charged_at_ms, now_ms);
    }
    if (own.token_window) {
        /* The token window is full for now: the ledger holds the pair until
         * it frees for calls this size, no fixed bench (smaller calls may
         * still fit, and the time is known). */
        gw_rl_seen_t seen;
        int64_t retry_at = 0;
        gw_cost_t cost;

        if (!p->observed_tpm) {
            gw_rl_seen_init(&seen);
            seen.remaining[GW_WIN_TPM] = 0;
            seen.reset_ms[GW_WIN_TPM] = own.cooldown_until_ms;
            seen.held = true;
            seen.limit[GW_WIN_TPM] = own.stated_limit;
            gw_ledger_observe(r->ledger, c->model, c->key->id, &seen, p->charged_at_ms, now_ms);
        }
        gw_plan_cost(p, c, &cost);
        if (gw_ledger_fit(r->ledger, c->model, c->key->id, &cost, now_ms, &retry_at) ==
            GW_FIT_LATER)
            note_until(p, retry_at);
        own.scope = GW_SCOPE_NONE;
        own.cooldown_until_ms = 0;
    }
    if (v->cooldown_until_ms > 0 || v->scope != GW_SCOPE_NONE)
        until = gw_cooldowns_apply(r->cool, c->model, c->key->id, v, now_ms);
    if (until > now_ms)
        note_until(p, until);
    if (v->key_health != GW_KEY_UNKNOWN && c->key->id != 0)
        c->key->health = v->key_health;
    if (v->next == GW_NEXT_MODEL)
        p->skip_model[c->model->index] = true;
    else if (v->next == GW_NEXT_PROVIDER)
        p->skip_provider[c->model->provider->index] = true;
}

void gw_plan_success(gw_plan_t *p, const gw_cand_t *c)
{
    gw_cooldowns_success(p->router->cool, c->model, c->key->id);
    if (c->key->id != 0)
        c->key->health = GW_KEY_HEALTHY;
}

/* The max_tokens the provider will be sent: the client's, capped by the
 * provider, or the provider's default when the client set none. */
static int64_t sent_max_tokens(const gw_plan_t *p, const gw_model_t *m)
{
    const gw_policy_t *pol = &m->provider->policy;
    int64_t mt = p->need.max_tokens;

    if (mt <= 0)
        mt = pol->default_max_tokens;
    if (pol->max_tokens_cap > 0 && mt > pol->max_tokens_cap)
        mt = pol->max_tokens_cap;
    return GW_MAX(mt, 0);
}

void gw_plan_cost(const gw_plan_t *p, const gw_cand_t *c, gw_cost_t *out)
{
    const gw_router_t *r = p->router;
    const gw_model_t *m = c->model;
    int64_t prompt =
        gw_estimate_charge(&r->est[m->index], p->need.prompt_tokens, p->need.prompt_messages);
    int64_t mt = sent_max_tokens(p, m);

    /* Charged what the upstream counts at admission: the answer's tokens land
     * in its window when they are made, and the settle puts them in ours. */
    out->floor = prompt + mt;
    out->tokens = out->floor;
    out->reserve = r->pace[m->index];
}

void gw_plan_charge(gw_plan_t *p, const gw_cand_t *c, int64_t now_ms)
{
    gw_cost_t cost;

    if (p->charged != NULL)
        gw_plan_settle(p, p->charged_tokens, now_ms); /* never left open; kept as charged */
    gw_plan_cost(p, c, &cost);
    gw_ledger_charge(p->router->ledger, c->model, c->key->id, cost.tokens, now_ms);
    gw_ledger_begin(p->router->ledger, c->model, c->key->id, now_ms);
    c->key->inflight++;
    p->charged = c;
    p->charged_at_ms = now_ms;
    p->charged_tokens = cost.tokens;
    p->observed_tpm = false;
}

bool gw_plan_settle(gw_plan_t *p, int64_t used_tokens, int64_t now_ms)
{
    const gw_cand_t *c = p->charged;

    if (c == NULL)
        return false;
    gw_ledger_adjust(p->router->ledger, c->model, c->key->id, used_tokens - p->charged_tokens,
                     p->charged_at_ms, now_ms);
    gw_ledger_end(p->router->ledger, c->model, c->key->id, used_tokens > 0);
    c->key->inflight--;
    p->charged = NULL;
    return true;
}

bool gw_plan_refund(gw_plan_t *p, int64_t now_ms)
{
    const gw_cand_t *c = p->charged;

    if (c == NULL)
        return false;
    gw_ledger_refund(p->router->ledger, c->model, c->key->id, p->charged_tokens,
                     p->charged_at_ms, now_ms);
    gw_ledger_end(p->router->ledger, c->model, c->key->id, false);
    c->key->inflight--;
    p->charged = NULL;
    return true;
}

void gw_plan_observe(gw_plan_t *p, const gw_header_t *h, size_t n, bool whole, int64_t now_ms)
{
    const gw_cand_t *c = p->charged;
    gw_rl_seen_t seen;

    if (c == NULL || !gw_rl_parse(c->model->provider, h, n, now_ms, &seen))
        return;
    seen.done = whole;
    gw_ledger_observe(p->router->ledger, c->model, c->key->id, &seen, p->charged_at_ms, now_ms);
    p->observed_tpm = seen.remaining[GW_WIN_TPM] >= 0;
}

void gw_plan_learn(gw_plan_t *p, const gw_model_t *m, int64_t reported_prompt_tokens)
{
    gw_estimate_learn(&p->router->est[m->index], p->need.prompt_tokens, p->need.prompt_messages,
                      reported_prompt_tokens);
}

bool gw_plan_may_repeat(const gw_plan_t *p, const gw_cand_t *c, int64_t now_ms)
{
    int64_t retry_at = 0;
    gw_cost_t cost;

    gw_plan_cost(p, c, &cost);
    if (pair_busy(p->router, c))
        return false;
    return gw_ledger_fit(p->router->ledger, c->model, c->key->id, &cost, now_ms, &retry_at) ==
           GW_FIT_OK;
}

void gw_plan_served(gw_plan_t *p, const gw_cand_t *c, int64_t now_ms)
{
    if (p->has_conversation)
        gw_sticky_put(p->router->sticky, p->digest, c->model->index, now_ms);
}
