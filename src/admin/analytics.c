/*
 * /api/analytics: totals, time series and per-provider and per-model tables
 * of a window, read from the rollups (store/analytics.h) on the thread pool;
 * one scan of the window's cells feeds every figure. Savings are priced on
 * the loop afterwards, from the catalog the router holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "admin/analytics.h"
#include "api/respond.h"
#include "core/clock.h"
#include "core/hist.h"
#include "store/analytics.h"

#define MAX_GROUPS 1024 /* (provider, model) pairs in one window; more fold into "other" */
#define MAX_PROVIDERS 64
#define MAX_BUCKETS 200

bool gw_admin_window_of(const char *v, int64_t now_ms, gw_admin_window_t *w)
{
    memset(w, 0, sizeof(*w));
    w->to_ms = now_ms + 1;
    if (v == NULL || strcmp(v, "24h") == 0) {
        w->name = "24h";
        w->level = GW_ROLLUP_MODEL_QUARTER;
        w->bucket_ms = GW_ROLLUP_QUARTER_MS;
        w->from_ms = now_ms - 24 * (int64_t)GW_ROLLUP_HOUR_MS;
    } else if (strcmp(v, "7d") == 0) {
        w->name = "7d";
        w->level = GW_ROLLUP_MODEL_HOUR;
        w->bucket_ms = GW_ROLLUP_HOUR_MS;
        w->from_ms = now_ms - 7 * 24 * (int64_t)GW_ROLLUP_HOUR_MS;
    } else if (strcmp(v, "30d") == 0) {
        w->name = "30d";
        w->level = GW_ROLLUP_MODEL_HOUR;
        w->bucket_ms = 6 * (int64_t)GW_ROLLUP_HOUR_MS;
        w->from_ms = now_ms - 30 * 24 * (int64_t)GW_ROLLUP_HOUR_MS;
    } else {
        return false;
    }
    /* Whole buckets, so a series' first point is not a sliver. */
    w->from_ms -= w->from_ms % w->bucket_ms;
    return true;
}

bool gw__admin_window(gw_req_t *req, int64_t now_ms, gw_admin_window_t *w)
{
    if (gw_admin_window_of(gw_req_query(req, "window"), now_ms, w))
        return true;
    gw__admin_error(req, 400, "invalid_value", "window", "'window' must be 24h, 7d or 30d.");
    return false;
}

/* ---- aggregation --------------------------------------------------------------- */

typedef struct figures {
    int64_t requests, ok, tokens_in, tokens_out, fallbacks;
    gw_hist_t latency, ttfb;
} figures_t;

typedef struct group {
    char *provider, *model;
    int prov; /* index in providers */
    figures_t f;
} group_t;

typedef struct agg {
    gw_admin_window_t w;
    size_t nb; /* series buckets */
    figures_t total;
    group_t groups[MAX_GROUPS];
    size_t ngroups;
    uint32_t slots[2 * MAX_GROUPS]; /* open addressing: group index + 1, 0 empty */
    char *providers[MAX_PROVIDERS];
    figures_t by_provider[MAX_PROVIDERS];
    size_t nprov;
    int64_t *series_requests;  /* [provider][bucket] */
    gw_hist_t *series_latency; /* [bucket] */
    int64_t *series_in, *series_out;
    group_t *last; /* cells come in key order: the same group runs on */
} agg_t;

static void add_figures(figures_t *f, const gw_rollup_cell_t *c)
{
    f->requests += c->requests;
    f->ok += c->ok;
    f->tokens_in += c->tokens_in;
    f->tokens_out += c->tokens_out;
    f->fallbacks += c->fallbacks;
    gw_hist_merge(&f->latency, &c->latency);
    gw_hist_merge(&f->ttfb, &c->ttfb);
}

static int provider_index(agg_t *a, const char *provider)
{
    for (size_t i = 0; i < a->nprov; i++)
        if (strcmp(a->providers[i], provider) == 0)
            return (int)i;
    if (a->nprov == MAX_PROVIDERS)
        return (int)a->nprov - 1;
    a->providers[a->nprov] = gw_xstrdup(provider);
    return (int)a->nprov++;
}

static uint32_t hash_pair(const char *p, const char *m)
{
    uint32_t h = 2166136261u;

    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (; *m; m++)
        h = (h ^ (unsigned char)*m) * 16777619u;
    return h;
}

static group_t *group_of(agg_t *a, const char *provider, const char *model)
{
    size_t mask = GW_ARRAY_LEN(a->slots) - 1;
    size_t i = hash_pair(provider, model) & mask;
    group_t *g;

    if (a->last != NULL && strcmp(a->last->model, model) == 0 &&
        strcmp(a->last->provider, provider) == 0)
        return a->last;
    for (; a->slots[i] != 0; i = (i + 1) & mask) {
        g = &a->groups[a->slots[i] - 1];
        if (strcmp(g->provider, provider) == 0 && strcmp(g->model, model) == 0)
            return a->last = g;
    }
    if (a->ngroups == MAX_GROUPS) /* a catalog never has this many: fold the rest */
        return a->last = &a->groups[MAX_GROUPS - 1];
    g = &a->groups[a->ngroups++];
    g->provider = gw_xstrdup(provider);
    g->model = gw_xstrdup(model);
    g->prov = provider_index(a, provider);
    a->slots[i] = (uint32_t)a->ngroups;
    return a->last = g;
}

static void on_cell(void *ctx, const gw_rollup_cell_t *c)
{
    agg_t *a = ctx;
    group_t *g = group_of(a, c->provider, c->model);
    int64_t b = (c->bucket_ms - a->w.from_ms) / a->w.bucket_ms;

    if (b < 0)
        b = 0;
    if ((size_t)b >= a->nb)
        b = (int64_t)a->nb - 1;
    add_figures(&a->total, c);
    add_figures(&g->f, c);
    add_figures(&a->by_provider[g->prov], c);
    a->series_requests[(size_t)g->prov * a->nb + (size_t)b] += c->requests;
    gw_hist_merge(&a->series_latency[b], &c->latency);
    a->series_in[b] += c->tokens_in;
    a->series_out[b] += c->tokens_out;
}

static void agg_free(agg_t *a)
{
    for (size_t i = 0; i < a->ngroups; i++) {
        free(a->groups[i].provider);
        free(a->groups[i].model);
    }
    for (size_t i = 0; i < a->nprov; i++)
        free(a->providers[i]);
    free(a->series_requests);
    free(a->series_latency);
    free(a->series_in);
    free(a->series_out);
    free(a);
}

/* ---- JSON ---------------------------------------------------------------------- */

static json_t *quantile_json(const gw_hist_t *h, double q)
{
    double v = gw_hist_quantile(h, q);

    return v < 0 ? json_null() : json_integer((json_int_t)llround(v));
}

static json_t *ratio_json(int64_t num, int64_t den)
{
    return den > 0 ? json_real((double)num / (double)den) : json_null();
}

static json_t *figures_json(const figures_t *f)
{
    json_t *o = json_object();

    json_object_set_new(o, "requests", json_integer(f->requests));
    json_object_set_new(o, "ok", json_integer(f->ok));
    json_object_set_new(o, "failed", json_integer(f->requests - f->ok));
    json_object_set_new(o, "success_rate", ratio_json(f->ok, f->requests));
    json_object_set_new(o, "tokens_in", json_integer(f->tokens_in));
    json_object_set_new(o, "tokens_out", json_integer(f->tokens_out));
    json_object_set_new(o, "latency_p50_ms", quantile_json(&f->latency, 0.5));
    json_object_set_new(o, "latency_p95_ms", quantile_json(&f->latency, 0.95));
    json_object_set_new(o, "ttfb_p50_ms", quantile_json(&f->ttfb, 0.5));
    json_object_set_new(o, "ttfb_p95_ms", quantile_json(&f->ttfb, 0.95));
    json_object_set_new(o, "fallbacks", json_integer(f->fallbacks));
    json_object_set_new(o, "fallback_rate", ratio_json(f->fallbacks, f->requests));
    return o;
}

static json_t *series_json(const agg_t *a)
{
    json_t *t = json_array(), *prov = json_array(), *req = json_array();
    json_t *p50 = json_array(), *p95 = json_array(), *in = json_array(), *out = json_array();

    for (size_t b = 0; b < a->nb; b++) {
        json_array_append_new(t, json_integer(a->w.from_ms + (int64_t)b * a->w.bucket_ms));
        json_array_append_new(p50, quantile_json(&a->series_latency[b], 0.5));
        json_array_append_new(p95, quantile_json(&a->series_latency[b], 0.95));
        json_array_append_new(in, json_integer(a->series_in[b]));
        json_array_append_new(out, json_integer(a->series_out[b]));
    }
    for (size_t p = 0; p < a->nprov; p++) {
        json_t *row = json_array();

        json_array_append_new(prov, json_string(a->providers[p][0] ? a->providers[p] : "none"));
        for (size_t b = 0; b < a->nb; b++)
            json_array_append_new(row, json_integer(a->series_requests[p * a->nb + b]));
        json_array_append_new(req, row);
    }
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "t", t, "providers", prov, "requests", req,
                     "latency_p50_ms", p50, "latency_p95_ms", p95, "tokens_in", in, "tokens_out",
                     out);
}

static json_t *answer_json(const agg_t *a)
{
    json_t *by_provider = json_array();
    json_t *by_model = json_array();

    for (size_t p = 0; p < a->nprov; p++) {
        json_t *o = figures_json(&a->by_provider[p]);
        json_object_set_new(o, "provider",
                            json_string(a->providers[p][0] ? a->providers[p] : "none"));
        json_array_append_new(by_provider, o);
    }
    for (size_t i = 0; i < a->ngroups; i++) {
        json_t *o = figures_json(&a->groups[i].f);
        json_object_set_new(o, "provider",
                            json_string(a->groups[i].provider[0] ? a->groups[i].provider : "none"));
        json_object_set_new(o, "model", json_string(a->groups[i].model));
        json_array_append_new(by_model, o);
    }
    return json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "window", a->w.name, "from_ms",
                     (json_int_t)a->w.from_ms, "to_ms", (json_int_t)a->w.to_ms, "bucket_ms",
                     (json_int_t)a->w.bucket_ms, "totals", figures_json(&a->total), "series",
                     series_json(a), "by_provider", by_provider, "by_model", by_model);
}

int gw_admin_analytics_build(gw_store_t *st, const gw_admin_window_t *w, json_t **out,
                             gw_err_t *err)
{
    agg_t *a = gw_xcalloc(1, sizeof(*a));
    int rc;

    a->w = *w;
    a->nb = (size_t)((w->to_ms - w->from_ms + w->bucket_ms - 1) / w->bucket_ms);
    if (a->nb == 0)
        a->nb = 1;
    if (a->nb > MAX_BUCKETS)
        a->nb = MAX_BUCKETS;
    a->series_requests = gw_xcalloc(MAX_PROVIDERS * a->nb, sizeof(int64_t));
    a->series_latency = gw_xcalloc(a->nb, sizeof(gw_hist_t));
    a->series_in = gw_xcalloc(a->nb, sizeof(int64_t));
    a->series_out = gw_xcalloc(a->nb, sizeof(int64_t));
    rc = gw_store_rollups_scan(st, w->level, w->from_ms, w->to_ms, on_cell, a, err);
    *out = rc == 0 ? answer_json(a) : NULL;
    agg_free(a);
    return rc;
}

/* ---- savings, on the loop ------------------------------------------------------ */

static double model_savings(gw_router_t *r, json_t *row, json_t *priced, int64_t *unpriced)
{
    const char *provider = json_string_value(json_object_get(row, "provider"));
    const char *model = json_string_value(json_object_get(row, "model"));
    int64_t in = json_integer_value(json_object_get(row, "tokens_in"));
    int64_t out = json_integer_value(json_object_get(row, "tokens_out"));
    char name[400];
    const gw_model_t *m;
    double usd;

    snprintf(name, sizeof(name), "%s/%s", provider, model);
    m = gw_router_find_model(r, name);
    if (m == NULL || (m->price_in_per_mtok <= 0 && m->price_out_per_mtok <= 0)) {
        *unpriced += in + out;
        json_object_set_new(row, "savings_usd", json_null());
        return 0;
    }
    usd = ((double)in * m->price_in_per_mtok + (double)out * m->price_out_per_mtok) / 1e6;
    json_object_set_new(row, "savings_usd", json_real(usd));
    if (in + out > 0)
        json_array_append_new(priced, json_pack("{s:s,s:f,s:f}", "model", name, "input_per_mtok",
                                                m->price_in_per_mtok, "output_per_mtok",
                                                m->price_out_per_mtok));
    return usd;
}

void gw_admin_analytics_price(gw_router_t *r, json_t *answer)
{
    json_t *by_model = json_object_get(answer, "by_model");
    json_t *by_provider = json_object_get(answer, "by_provider");
    json_t *priced = json_array();
    int64_t unpriced = 0;
    double total = 0;
    size_t i, k;
    json_t *row, *prow;

    json_array_foreach (by_provider, k, prow)
        json_object_set_new(prow, "savings_usd", json_real(0));
    json_array_foreach (by_model, i, row) {
        double usd = model_savings(r, row, priced, &unpriced);
        total += usd;
        json_array_foreach (by_provider, k, prow)
            if (json_equal(json_object_get(prow, "provider"), json_object_get(row, "provider")))
                json_object_set_new(
                    prow, "savings_usd",
                    json_real(json_real_value(json_object_get(prow, "savings_usd")) + usd));
    }
    json_object_set_new(json_object_get(answer, "totals"), "savings_usd", json_real(total));
    json_object_set_new(
        answer, "savings_basis",
        json_pack("{s:s,s:o,s:I}", "text",
                  "tokens in and out of each model times the price per million tokens its paid "
                  "equivalent lists in the catalog (price_per_mtok, USD); tokens of models "
                  "without a listed price are not counted.",
                  "priced_models", priced, "unpriced_tokens", (json_int_t)unpriced));
}

/* ---- the handler ----------------------------------------------------------------- */

void gw__admin_window_from_json(const json_t *in, gw_admin_window_t *w)
{
    w->level = (gw_rollup_level_t)json_integer_value(json_object_get(in, "level"));
    w->from_ms = json_integer_value(json_object_get(in, "from"));
    w->to_ms = json_integer_value(json_object_get(in, "to"));
    w->bucket_ms = json_integer_value(json_object_get(in, "bucket"));
    w->name = json_string_value(json_object_get(in, "window"));
}

static void analytics_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_admin_window_t w;
    gw_err_t err = {0};

    gw__admin_window_from_json(j->in, &w);
    if (gw_admin_analytics_build(st, &w, &j->answer, &err) != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "Analytics could not be read: %s", err.msg);
}

static json_t *analytics_now(gw_admin_job_t *j)
{
    json_t *a = json_incref(j->answer);

    gw_admin_analytics_price(&j->ad->gw->router, a);
    return a;
}

json_t *gw__admin_window_json(const gw_admin_window_t *w)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:i}", "window", w->name, "from", (json_int_t)w->from_ms,
                     "to", (json_int_t)w->to_ms, "bucket", (json_int_t)w->bucket_ms, "level",
                     (int)w->level);
}

void gw__admin_analytics(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_admin_window_t w;

    (void)rest;
    if (!gw__admin_only(req, "GET") || !gw__admin_window(req, gw_now_ms(), &w))
        return;
    gw__admin_run_then(ad, req, analytics_work, gw__admin_window_json(&w), 0, false, analytics_now);
}
