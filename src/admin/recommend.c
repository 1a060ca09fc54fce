/* Recommendation rules (see recommend.h). */
#include "admin/recommend.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS (24 * 3600 * (int64_t)1000)

static gw_recommendation_t *next(gw_recommendation_t *out, size_t *n, size_t max)
{
    if (*n >= max)
        return NULL;
    memset(&out[*n], 0, sizeof(out[*n]));
    return &out[(*n)++];
}

static void invalid_keys(const gw_rec_input_t *in, int64_t now_ms, gw_recommendation_t *out,
                         size_t *n, size_t max)
{
    for (size_t i = 0; i < in->nkeys; i++) {
        const gw_rec_key_t *k = &in->keys[i];
        int64_t days = k->invalid_since_ms > 0 ? (now_ms - k->invalid_since_ms) / DAY_MS : 0;
        gw_recommendation_t *r;

        if (!k->invalid || (r = next(out, n, max)) == NULL)
            continue;
        snprintf(r->id, sizeof(r->id), "key-invalid-%lld", (long long)k->id);
        r->severity = "high";
        r->provider = k->provider;
        r->key_id = k->id;
        if (days >= 1)
            snprintf(r->title, sizeof(r->title), "%s key \"%s\" has been invalid for %lld day%s",
                     k->provider, k->label, (long long)days, days == 1 ? "" : "s");
        else
            snprintf(r->title, sizeof(r->title), "%s key \"%s\" was refused as invalid",
                     k->provider, k->label);
        snprintf(r->action, sizeof(r->action),
                 "Replace it: create a new key on %s's key page, add it, and remove this one.",
                 k->provider);
    }
}

static void failing_providers(const gw_rec_input_t *in, gw_recommendation_t *out, size_t *n,
                              size_t max)
{
    for (size_t i = 0; i < in->nproviders; i++) {
        const gw_rec_provider_t *p = &in->providers[i];
        gw_recommendation_t *r;
        double share;

        if (!p->enabled || p->attempts < GW_REC_FAILING_MIN_ATTEMPTS)
            continue;
        share = (double)p->failures / (double)p->attempts;
        if (share < GW_REC_FAILING_SHARE || (r = next(out, n, max)) == NULL)
            continue;
        snprintf(r->id, sizeof(r->id), "provider-failing-%s", p->provider);
        r->severity = "high";
        r->provider = p->provider;
        snprintf(r->title, sizeof(r->title), "%s failed %.0f%% of %lld attempts in the last %s",
                 p->provider, share * 100, (long long)p->attempts, in->window);
        snprintf(r->action, sizeof(r->action),
                 "Disable %s (switch its keys off on the Keys page) until it recovers, so "
                 "requests stop spending attempts on it; or check its keys' status.",
                 p->provider);
    }
}

static void capped_models(const gw_rec_input_t *in, gw_recommendation_t *out, size_t *n, size_t max)
{
    for (size_t i = 0; i < in->nmodels; i++) {
        const gw_rec_model_t *m = &in->models[i];
        gw_recommendation_t *r;
        int hour;

        /* Most days it was used (all but one, at least two), and early. */
        if (m->days_capped < 2 || m->days_capped < m->days_observed - 1)
            continue;
        hour = m->cap_hour_sum / m->days_capped;
        if (hour >= GW_REC_EARLY_HOUR || (r = next(out, n, max)) == NULL)
            continue;
        snprintf(r->id, sizeof(r->id), "model-capped-%s/%s", m->provider, m->model);
        r->severity = "medium";
        r->provider = m->provider;
        r->model = m->model;
        snprintf(r->title, sizeof(r->title),
                 "%s/%s reaches its daily cap by about %02d:00 UTC (%d of the last %d days)",
                 m->provider, m->model, hour, m->days_capped, m->days_observed);
        snprintf(r->action, sizeof(r->action),
                 "Add another %s key (%d serve%s it now), or move it lower in the fallback "
                 "chain so its quota lasts the day.",
                 m->provider, m->keys, m->keys == 1 ? "s" : "");
    }
}

size_t gw_recommend(const gw_rec_input_t *in, int64_t now_ms, gw_recommendation_t *out, size_t max)
{
    size_t n = 0;

    invalid_keys(in, now_ms, out, &n, max);
    failing_providers(in, out, &n, max);
    capped_models(in, out, &n, max);
    return n;
}
