/*
 * /api/diagnostics: the provider ranking and key health of a window from the
 * attempt rollups, and recommendations (recommend.c) from those, the keys'
 * health and the daily caps models reached over the last week. The store is
 * read on the thread pool; the router's state and the rules run on the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "admin/recommend.h"
#include "core/clock.h"
#include "store/analytics.h"

#define WEEK_DAYS 7
#define DAY_MS (24 * (int64_t)GW_ROLLUP_HOUR_MS)
#define MAX_RECS 32

/* ---- on the thread pool ------------------------------------------------------------ */

typedef struct facts {
    int64_t from_ms;   /* the window */
    json_t *providers; /* id -> {attempts, ok, latency_sum} */
    json_t *keys;      /* "id" -> {attempts, failures, last_failure, last_ok_ms, auth_since_ms} */
    json_t *caps;      /* "provider/model" -> daily request cap (input) */
    json_t *models;    /* "provider/model" -> {days:{day:{req:[24]...}}} built below */
    int64_t week_from;
} facts_t;

static json_t *obj_at(json_t *parent, const char *name)
{
    json_t *o = json_object_get(parent, name);

    if (o == NULL) {
        o = json_object();
        json_object_set_new(parent, name, o);
    }
    return o;
}

static void add_int(json_t *o, const char *name, int64_t v)
{
    json_object_set_new(o, name, json_integer(json_integer_value(json_object_get(o, name)) + v));
}

static void on_attempt(void *ctx, const gw_attempt_cell_t *a)
{
    facts_t *f = ctx;
    bool ok = strcmp(a->verdict, "ok") == 0;
    char id[32];
    json_t *k;

    snprintf(id, sizeof(id), "%lld", (long long)a->key_id);
    k = obj_at(f->keys, id);
    /* The longest run of invalid: the first auth failure after the last success. */
    if (ok) {
        json_object_set_new(k, "last_ok_ms", json_integer(a->bucket_ms));
        json_object_del(k, "auth_since_ms");
    } else if (strcmp(a->verdict, "auth") == 0 && json_object_get(k, "auth_since_ms") == NULL) {
        json_object_set_new(k, "auth_since_ms", json_integer(a->bucket_ms));
    }
    if (a->bucket_ms < f->from_ms)
        return; /* the week before the window: only for how long a key was invalid */
    {
        json_t *p = obj_at(f->providers, a->provider);
        add_int(p, "attempts", a->attempts);
        add_int(p, "ok", ok ? a->attempts : 0);
        add_int(p, "latency_sum", a->latency_sum);
    }
    add_int(k, "attempts", a->attempts);
    if (!ok) {
        add_int(k, "failures", a->attempts);
        json_object_set_new(k, "last_failure", json_string(a->verdict));
    }
}

/* Daily caps over the week: a quota_period verdict, or the day's successes
 * reaching the model's request cap over its keys, marks the day capped at
 * that hour. */
typedef struct week {
    json_t *caps;
    json_t *days; /* "provider/model" -> {"<day>": {"req":n, "capped_hour":h}} */
    int64_t from;
} week_t;

static json_t *day_of(week_t *w, const char *provider, const char *model, int64_t bucket_ms)
{
    char name[400], day[24];

    snprintf(name, sizeof(name), "%s/%s", provider, model);
    snprintf(day, sizeof(day), "%lld", (long long)((bucket_ms - w->from) / DAY_MS));
    return obj_at(obj_at(w->days, name), day);
}

static void mark_capped(json_t *d, int64_t bucket_ms)
{
    if (json_object_get(d, "capped_hour") == NULL)
        json_object_set_new(d, "capped_hour",
                            json_integer((bucket_ms % DAY_MS) / GW_ROLLUP_HOUR_MS));
}

static void on_week_cell(void *ctx, const gw_rollup_cell_t *c)
{
    week_t *w = ctx;
    char name[400];
    json_t *d;
    int64_t cap;

    if (c->provider[0] == '\0' || c->ok == 0)
        return;
    snprintf(name, sizeof(name), "%s/%s", c->provider, c->model);
    d = day_of(w, c->provider, c->model, c->bucket_ms);
    add_int(d, "req", c->ok);
    cap = json_integer_value(json_object_get(w->caps, name));
    if (cap > 0 && json_integer_value(json_object_get(d, "req")) >= cap)
        mark_capped(d, c->bucket_ms);
}

static void on_week_attempt(void *ctx, const gw_attempt_cell_t *a)
{
    week_t *w = ctx;

    if (strcmp(a->verdict, "quota_period") == 0)
        mark_capped(day_of(w, a->provider, a->model, a->bucket_ms), a->bucket_ms);
}

static void on_health(void *ctx, int64_t key_id, const char *health, const char *detail,
                      int64_t at_ms)
{
    char id[32];

    (void)health;
    (void)detail;
    snprintf(id, sizeof(id), "%lld", (long long)key_id);
    json_object_set_new(ctx, id, json_integer(at_ms));
}

static void diagnostics_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_admin_window_t win;
    int64_t now = gw_now_ms();
    facts_t f = {0};
    week_t w;
    json_t *checked;
    gw_err_t err = {0};
    int rc;

    gw__admin_window_from_json(json_object_get(j->in, "window"), &win);
    f.from_ms = win.from_ms - win.from_ms % GW_ROLLUP_HOUR_MS;
    f.providers = json_object();
    f.keys = json_object();
    w.caps = json_object_get(j->in, "caps");
    w.days = json_object();
    w.from = now - now % DAY_MS - (WEEK_DAYS - 1) * DAY_MS;
    /* Keys: 30 days back for how long one has been invalid. */
    rc = gw_store_attempts_scan(st, GW_MIN(f.from_ms, now - 30 * DAY_MS), win.to_ms, on_attempt, &f,
                                &err);
    if (rc == 0)
        rc = gw_store_rollups_scan(st, GW_ROLLUP_MODEL_HOUR, w.from, now + 1, on_week_cell, &w,
                                   &err);
    if (rc == 0)
        rc = gw_store_attempts_scan(st, w.from, now + 1, on_week_attempt, &w, &err);
    checked = json_object();
    if (rc == 0)
        rc = gw_store_key_health_load(st, on_health, checked, &err);
    if (rc != 0) {
        json_decref(f.providers);
        json_decref(f.keys);
        json_decref(w.days);
        json_decref(checked);
        gw__admin_fail(j, 500, "store_failed", NULL, "The log could not be read: %s", err.msg);
        return;
    }
    j->answer = json_pack("{s:o,s:o,s:o,s:o}", "providers", f.providers, "keys", f.keys, "days",
                          w.days, "checked", checked);
}

/* ---- on the loop -------------------------------------------------------------------- */

static int cmp_rank(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double rx = json_number_value(json_object_get(x, "success_rate"));
    double ry = json_number_value(json_object_get(y, "success_rate"));
    double lx = json_number_value(json_object_get(x, "avg_latency_ms"));
    double ly = json_number_value(json_object_get(y, "avg_latency_ms"));

    if (rx != ry)
        return rx > ry ? -1 : 1;
    return lx < ly ? -1 : lx > ly;
}

static const gw_provider_t *provider_named(gw_router_t *r, const char *id)
{
    for (size_t i = 0; i < r->cat->nproviders; i++)
        if (strcmp(r->cat->providers[i].id, id) == 0)
            return &r->cat->providers[i];
    return NULL;
}

static json_t *ranking(gw_router_t *r, json_t *stats, gw_rec_provider_t *recs, size_t *nrecs)
{
    json_t *rows[256];
    size_t n = 0;
    const char *id;
    json_t *s;
    json_t *out = json_array();

    json_object_foreach (stats, id, s) {
        int64_t att = json_integer_value(json_object_get(s, "attempts"));
        int64_t ok = json_integer_value(json_object_get(s, "ok"));
        const gw_provider_t *p = provider_named(r, id);

        if (n == GW_ARRAY_LEN(rows) || att == 0)
            continue;
        rows[n++] =
            json_pack("{s:s,s:I,s:I,s:f,s:f}", "provider", id, "attempts", (json_int_t)att, "ok",
                      (json_int_t)ok, "success_rate", (double)ok / (double)att, "avg_latency_ms",
                      (double)json_integer_value(json_object_get(s, "latency_sum")) / (double)att);
        recs[*nrecs] = (gw_rec_provider_t){
            json_string_value(json_object_get(rows[n - 1], "provider")), att, att - ok,
            p != NULL && p->enabled && gw_router_keys_serving(r, p) > 0};
        (*nrecs)++;
    }
    qsort(rows, n, sizeof(rows[0]), cmp_rank);
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(rows[i], "rank", json_integer((json_int_t)i + 1));
        json_array_append_new(out, rows[i]);
    }
    return out;
}

static json_t *diagnostics_now(gw_admin_job_t *j)
{
    gw_router_t *r = &j->ad->gw->router;
    json_t *stats = j->answer;
    json_t *kstats = json_object_get(stats, "keys");
    json_t *days = json_object_get(stats, "days");
    gw_rec_provider_t provs[256];
    size_t nprovs = 0;
    gw_rec_key_t *keys = gw_xcalloc(r->nkeys + 1, sizeof(*keys));
    size_t nkeys = 0;
    gw_rec_model_t *models = gw_xcalloc(json_object_size(days) + 1, sizeof(*models));
    size_t nmodels = 0;
    gw_recommendation_t recs[MAX_RECS];
    gw_rec_input_t in;
    json_t *keys_json = json_array(), *recs_json = json_array(), *rank, *out;
    const char *name;
    json_t *mdays;
    size_t nrecs;

    rank = ranking(r, json_object_get(stats, "providers"), provs, &nprovs);
    for (size_t i = 0; i < r->nkeys; i++) {
        const gw_rkey_t *k = r->keys[i];
        char id[32];
        json_t *s;

        snprintf(id, sizeof(id), "%lld", (long long)k->id);
        s = json_object_get(kstats, id);
        json_array_append_new(
            keys_json,
            json_pack("{s:I,s:s,s:s,s:s,s:O?,s:I,s:I,s:O?}", "id", (json_int_t)k->id, "provider",
                      k->provider->id, "label", k->label != NULL ? k->label : "", "status",
                      gw__admin_status_word(gw_key_health_name(k->health)), "checked_at",
                      json_object_get(json_object_get(stats, "checked"), id), "attempts",
                      (json_int_t)json_integer_value(json_object_get(s, "attempts")), "failures",
                      (json_int_t)json_integer_value(json_object_get(s, "failures")),
                      "last_failure", json_object_get(s, "last_failure")));
        keys[nkeys++] = (gw_rec_key_t){k->id, k->provider->id, k->label != NULL ? k->label : "",
                                       k->health == GW_KEY_INVALID,
                                       json_integer_value(json_object_get(s, "auth_since_ms"))};
    }
    json_object_foreach (days, name, mdays) {
        const gw_model_t *m = gw_router_find_model(r, name);
        const char *day;
        json_t *d;
        gw_rec_model_t *rm;

        if (m == NULL)
            continue;
        rm = &models[nmodels++];
        rm->provider = m->provider->id;
        rm->model = m->id;
        rm->keys = gw_router_keys_serving(r, m->provider);
        json_object_foreach (mdays, day, d) {
            json_t *h = json_object_get(d, "capped_hour");
            rm->days_observed++;
            if (h != NULL) {
                rm->days_capped++;
                rm->cap_hour_sum += (int)json_integer_value(h);
            }
        }
    }
    in = (gw_rec_input_t){
        keys,
        nkeys,
        models,
        nmodels,
        provs,
        nprovs,
        json_string_value(json_object_get(json_object_get(j->in, "window"), "window"))};
    nrecs = gw_recommend(&in, gw_now_ms(), recs, MAX_RECS);
    for (size_t i = 0; i < nrecs; i++)
        json_array_append_new(
            recs_json, json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:o}", "id", recs[i].id, "severity",
                                 recs[i].severity, "title", recs[i].title, "action", recs[i].action,
                                 "provider", recs[i].provider, "model", recs[i].model, "key_id",
                                 recs[i].key_id ? json_integer(recs[i].key_id) : json_null()));
    out = json_pack("{s:o,s:o,s:o}", "providers", rank, "keys", keys_json, "recommendations",
                    recs_json);
    free(keys);
    free(models);
    return out;
}

void gw__admin_diagnostics(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_router_t *r = &ad->gw->router;
    gw_admin_window_t w;
    json_t *caps, *in;

    (void)rest;
    if (!gw__admin_only(req, "GET") || !gw__admin_window(req, gw_now_ms(), &w))
        return;
    /* Each model's daily request cap over the keys that serve it now. */
    caps = json_object();
    for (size_t i = 0; i < r->cat->nmodels; i++) {
        const gw_model_t *m = &r->cat->models[i];
        char name[400];

        if (m->limits.rpd <= 0)
            continue;
        snprintf(name, sizeof(name), "%s/%s", m->provider->id, m->id);
        json_object_set_new(
            caps, name,
            json_integer(m->limits.rpd * GW_MAX(gw_router_keys_serving(r, m->provider), 1)));
    }
    in = json_pack("{s:o,s:o}", "window", gw__admin_window_json(&w), "caps", caps);
    gw__admin_run_then(ad, req, diagnostics_work, in, 0, false, diagnostics_now);
}
