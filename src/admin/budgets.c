/*
 * /api/budgets and /api/quarantines: per model, today's usage against each
 * cap, what is left, when the caps reset, the month's tokens against the
 * free tier's monthly budget, a forecast of when the day's quota runs out at
 * the last hour's rate (and, for a paced model, whether pacing holds it
 * now); the router's benches (quarantines) with their reason, and what the
 * user switched off. The month and the last hour come from the rollups
 * (thread pool); the rest is the router's live state (loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "core/clock.h"
#include "router/cooldown.h"
#include "router/reset.h"
#include "store/analytics.h"

/* ---- on the thread pool ------------------------------------------------------------ */

typedef struct usage_scan {
    json_t *models; /* "provider/model" -> {month_tokens, hour_requests, hour_tokens} */
    int64_t hour_from;
} usage_scan_t;

static void add_to(json_t *o, const char *name, int64_t v)
{
    json_object_set_new(o, name, json_integer(json_integer_value(json_object_get(o, name)) + v));
}

static json_t *model_entry(json_t *models, const char *provider, const char *model)
{
    char name[400];
    json_t *o;

    snprintf(name, sizeof(name), "%s/%s", provider, model);
    o = json_object_get(models, name);
    if (o == NULL) {
        o = json_object();
        json_object_set_new(models, name, o);
    }
    return o;
}

static void on_month_cell(void *ctx, const gw_rollup_cell_t *c)
{
    usage_scan_t *u = ctx;

    if (c->provider[0] != '\0')
        add_to(model_entry(u->models, c->provider, c->model), "month_tokens",
               c->tokens_in + c->tokens_out);
}

static void on_hour_cell(void *ctx, const gw_rollup_cell_t *c)
{
    usage_scan_t *u = ctx;
    json_t *o;

    if (c->provider[0] == '\0')
        return;
    o = model_entry(u->models, c->provider, c->model);
    add_to(o, "hour_requests", c->ok);
    add_to(o, "hour_tokens", c->tokens_in + c->tokens_out);
}

static int64_t month_start(int64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int64_t)timegm(&tm) * 1000;
}

static void on_manual(void *ctx, const gw_quarantine_rec_t *q)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s,s:n,s:s,s:s,s:n,s:b,s:I}", "provider",
                                         q->provider, "model", q->model, "key_id", "scope", "model",
                                         "reason", q->reason, "until_ms", "manual", 1, "since_ms",
                                         (json_int_t)q->since_ms));
}

static void budgets_work(gw_admin_job_t *j, gw_store_t *st)
{
    int64_t now = gw_now_ms();
    usage_scan_t u = {json_object(), now - GW_ROLLUP_HOUR_MS};
    gw_key_rec_t *recs = NULL;
    size_t n = 0;
    json_t *off = json_array();
    json_t *manual = json_array();
    gw_err_t err = {0};
    int rc;

    rc = gw_store_rollups_scan(st, GW_ROLLUP_MODEL_HOUR, month_start(now), now + 1, on_month_cell,
                               &u, &err);
    if (rc == 0)
        rc = gw_store_rollups_scan(st, GW_ROLLUP_MINUTE, u.hour_from, now + 1, on_hour_cell, &u,
                                   &err);
    if (rc == 0)
        rc = gw_store_keys_load(st, &recs, &n, &err);
    if (rc == 0)
        rc = gw_store_quarantines_load(st, on_manual, manual, &err);
    if (rc != 0) {
        json_decref(u.models);
        json_decref(off);
        json_decref(manual);
        gw__admin_fail(j, 500, "store_failed", NULL, "Budgets could not be read: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!recs[i].enabled)
            json_array_append_new(off,
                                  json_pack("{s:I,s:s,s:s}", "id", (json_int_t)recs[i].id,
                                            "provider", recs[i].provider, "label", recs[i].label));
    gw_key_recs_free(recs, n);
    j->answer = json_pack("{s:o,s:o,s:o}", "models", u.models, "keys_off", off, "manual", manual);
}

/* ---- on the loop -------------------------------------------------------------------- */

/* When, at rate per hour, remaining runs out; 0 when not before reset. */
static int64_t runs_out(int64_t now, int64_t remaining, int64_t per_hour, int64_t reset_ms)
{
    int64_t at;

    if (per_hour <= 0)
        return 0;
    if (remaining <= 0)
        return now;
    at = now + remaining * GW_ROLLUP_HOUR_MS / per_hour;
    return at < reset_ms ? at : 0;
}

static json_t *budget_json(gw_router_t *r, const gw_model_t *m, json_t *seen, int64_t now)
{
    int keys = gw_router_keys_serving(r, m->provider);
    int64_t reset = gw_reset_next(m->provider->reset, now);
    int64_t rpd = m->limits.rpd * keys, tpd = m->limits.tpd * keys;
    int64_t hour_req = json_integer_value(json_object_get(seen, "hour_requests"));
    int64_t hour_tok = json_integer_value(json_object_get(seen, "hour_tokens"));
    int64_t out_req, out_tok, out = 0;
    gw_usage_t u;
    gw_pacing_view_t pv;
    json_t *remaining = json_object();
    json_t *pacing = gw__admin_pacing_json(r, m, now, &pv);
    bool held;

    gw_router_model_usage(r, m, now, &u);
    /* Paced, the day cannot run out early: what stops it before the reset is
     * the share released so far. */
    held = pv.reserve > 0 &&
           ((pv.requests >= 0 && u.rpd >= pv.requests) || (pv.tokens >= 0 && u.tpd >= pv.tokens));
    if (rpd > 0)
        json_object_set_new(remaining, "requests", json_integer(GW_MAX(rpd - u.rpd, 0)));
    if (tpd > 0)
        json_object_set_new(remaining, "tokens", json_integer(GW_MAX(tpd - u.tpd, 0)));
    out_req = rpd > 0 ? runs_out(now, rpd - u.rpd, hour_req, reset) : 0;
    out_tok = tpd > 0 ? runs_out(now, tpd - u.tpd, hour_tok, reset) : 0;
    if (out_req > 0 && (out_tok == 0 || out_req < out_tok))
        out = out_req;
    else if (out_tok > 0)
        out = out_tok;
    return json_pack("{s:s,s:s,s:s,s:o,s:{s:I,s:I,s:I,s:I},s:i,s:o,s:I,s:I,s:I,s:I,s:o,s:b,s:b,"
                     "s:b,s:o,s:b}",
                     "provider", m->provider->id, "id", m->id, "name", m->name, "limits",
                     gw__admin_limits_json(&m->limits), "usage", "rpm", (json_int_t)u.rpm, "rpd",
                     (json_int_t)u.rpd, "tpm", (json_int_t)u.tpm, "tpd", (json_int_t)u.tpd, "keys",
                     keys, "remaining_today", remaining, "resets_at_ms", (json_int_t)reset,
                     "monthly_tokens", (json_int_t)m->monthly_tokens, "month_tokens_used",
                     (json_int_t)json_integer_value(json_object_get(seen, "month_tokens")),
                     "last_hour_requests", (json_int_t)hour_req, "runs_out_at_ms",
                     out > 0 ? json_integer(out) : json_null(), "enabled", r->enabled[m->index],
                     "usable", gw_router_model_usable(r, m), "limited",
                     gw_router_model_limited(r, m, now), "pacing", pacing, "held_by_pacing", held);
}

static void on_bench(void *ctx, const char *provider, const char *model, int64_t key_id,
                     bool all_keys, int64_t until_ms, const char *reason)
{
    json_array_append_new(ctx, json_pack("{s:s,s:s?,s:o,s:s,s:s,s:I,s:b}", "provider", provider,
                                         "model", model[0] != '\0' ? model : NULL, "key_id",
                                         all_keys ? json_null() : json_integer(key_id), "scope",
                                         model[0] == '\0' ? "key"
                                         : all_keys       ? "model"
                                                          : "pair",
                                         "reason", reason, "until_ms", (json_int_t)until_ms,
                                         "manual", 0));
}

static json_t *budgets_now(gw_admin_job_t *j)
{
    gw_router_t *r = &j->ad->gw->router;
    json_t *seen = json_object_get(j->answer, "models");
    json_t *data = json_array(), *benches = json_array(), *models_off = json_array();
    int64_t now = gw_now_ms();

    for (size_t i = 0; i < r->cat->nmodels; i++) {
        const gw_model_t *m = &r->cat->models[r->order[i]];
        char name[400];

        snprintf(name, sizeof(name), "%s/%s", m->provider->id, m->id);
        if (!r->enabled[m->index])
            json_array_append_new(models_off, json_string(name));
        /* The page is about what can route: models of providers with a key
         * (switched-off ones among them, so they can be switched on here). */
        if (gw_router_keys_serving(r, m->provider) == 0)
            continue;
        json_array_append_new(data, budget_json(r, m, json_object_get(seen, name), now));
    }
    json_array_extend(benches, json_object_get(j->answer, "manual"));
    gw_cooldowns_active(r->cool, now, on_bench, benches);
    return json_pack("{s:o,s:o,s:{s:o,s:O}}", "data", data, "quarantines", benches, "disabled",
                     "models", models_off, "keys", json_object_get(j->answer, "keys_off"));
}

void gw__admin_budgets(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    (void)rest;
    if (gw__admin_only(req, "GET"))
        gw__admin_run_then(ad, req, budgets_work, NULL, 0, false, budgets_now);
}

/* ---- /api/quarantines ------------------------------------------------------------- */

static void put_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};
    const char *provider = json_string_value(json_object_get(j->in, "provider"));
    const char *model = json_string_value(json_object_get(j->in, "model"));
    const char *reason = json_string_value(json_object_get(j->in, "reason"));

    if (gw_store_quarantine_put(st, provider, model, reason, gw_now_ms(), &err) != 0) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The quarantine could not be saved: %s",
                       err.msg);
        return;
    }
    j->status = 201;
    j->answer = json_pack("{s:{s:s,s:s,s:n,s:s,s:s,s:n,s:b,s:I}}", "quarantine", "provider",
                          provider, "model", model, "key_id", "scope", "model", "reason", reason,
                          "until_ms", "manual", 1, "since_ms", (json_int_t)gw_now_ms());
}

/* Ends the model's manual quarantine, if any; the count of benches the loop
 * released already is in the input. */
static void release_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};
    json_int_t released = json_integer_value(json_object_get(j->in, "released"));
    const char *model = json_string_value(json_object_get(j->in, "model"));
    int rc = 0;

    if (model != NULL && model[0] != '\0') {
        rc = gw_store_quarantine_delete(st, json_string_value(json_object_get(j->in, "provider")),
                                        model, &err);
        if (rc == 0)
            released++;
    }
    if (rc != 0 && rc != GW_ENOTFOUND) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The quarantine could not be ended: %s",
                       err.msg);
        return;
    }
    if (released == 0) {
        gw__admin_fail(j, 404, "not_found", NULL, "No running quarantine matches.");
        return;
    }
    j->answer = json_pack("{s:I}", "released", released);
}

static void clear_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};
    int rc = gw_store_quarantine_delete(st, json_string_value(json_object_get(j->in, "provider")),
                                        json_string_value(json_object_get(j->in, "model")), &err);

    if (rc != 0 && rc != GW_ENOTFOUND)
        gw__admin_fail(j, 500, "store_failed", NULL, "%s", err.msg);
}

void gw__admin_quarantine_clear(gw_admin_t *ad, const gw_model_t *m)
{
    gw__admin_run_detached(
        ad, clear_work, json_pack("{s:s,s:s}", "provider", m->provider->id, "model", m->id), true);
}

/* The model a quarantine body names, canonical; NULL after answering 4xx. */
static const gw_model_t *named_model(gw_router_t *r, gw_req_t *req, json_t *in)
{
    const char *provider = json_string_value(json_object_get(in, "provider"));
    const char *model = json_string_value(json_object_get(in, "model"));
    const gw_model_t *m = NULL;
    char name[400];

    if (provider != NULL && model != NULL && model[0] != '\0') {
        snprintf(name, sizeof(name), "%s/%s", provider, model);
        m = gw_router_find_model(r, name);
    }
    if (m == NULL)
        gw__admin_error(req, 404, "model_not_found", NULL,
                        "No catalog model is named '%.100s/%.200s'.", provider ? provider : "",
                        model ? model : "");
    return m;
}

static void quarantine_put(gw_admin_t *ad, gw_req_t *req)
{
    json_t *in = gw__admin_body(req);
    json_t *reason;
    const gw_model_t *m;
    json_t *job;

    if (in == NULL)
        return;
    reason = json_object_get(in, "reason");
    if (reason != NULL && (!json_is_string(reason) || json_string_length(reason) > 300)) {
        json_decref(in);
        gw__admin_error(req, 400, "invalid_value", "reason",
                        "'reason' must be a string of at most 300 characters.");
        return;
    }
    m = named_model(&ad->gw->router, req, in);
    if (m != NULL) {
        job = json_pack("{s:s,s:s,s:s}", "provider", m->provider->id, "model", m->id, "reason",
                        reason != NULL ? json_string_value(reason) : "quarantined by hand");
        gw__admin_run(ad, req, put_work, job, 0, true);
    }
    json_decref(in);
}

static void quarantine_release(gw_admin_t *ad, gw_req_t *req)
{
    gw_router_t *r = &ad->gw->router;
    gw_cooldown_match_t m = {0};
    json_t *in = gw__admin_body(req);
    json_t *model, *key, *job;
    size_t n;

    if (in == NULL)
        return;
    model = json_object_get(in, "model");
    key = json_object_get(in, "key_id");
    m.provider_id = json_string_value(json_object_get(in, "provider"));
    if (m.provider_id == NULL ||
        (model != NULL && !json_is_string(model) && !json_is_null(model)) ||
        (key != NULL && !json_is_integer(key) && !json_is_null(key))) {
        json_decref(in);
        gw__admin_error(req, 400, "invalid_value", NULL,
                        "Send {provider, model?, key_id?}: provider a string, model a string "
                        "(\"\" for a whole key), key_id a number or null (every key).");
        return;
    }
    m.model_id = json_string_value(model);
    m.match_key = key != NULL;
    m.all_keys = json_is_null(key);
    m.key_id = json_integer_value(key);
    n = gw_cooldowns_release(r->cool, &m, gw_now_ms());
    /* A hold the upstream's own word put on the pair goes with the bench. */
    gw_ledger_forget_room(r->ledger, m.provider_id,
                          m.model_id != NULL && m.model_id[0] != '\0' ? m.model_id : NULL,
                          m.match_key && !m.all_keys ? &m.key_id : NULL);
    if (n > 0)
        gw_gateway_usage_changed(ad->gw); /* the saved benches follow */
    /* A manual quarantine is the model's on every key: released with the model. */
    job =
        json_pack("{s:s,s:s?,s:I}", "provider", m.provider_id, "model",
                  key == NULL || json_is_null(key) ? m.model_id : NULL, "released", (json_int_t)n);
    json_decref(in);
    gw__admin_run(ad, req, release_work, job, 0, true);
}

void gw__admin_quarantines(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);

    (void)rest;
    if (strcmp(method, "GET") == 0) {
        json_t *benches = json_array();
        gw_cooldowns_active(ad->gw->router.cool, gw_now_ms(), on_bench, benches);
        gw_respond_json(req, 200, json_pack("{s:o}", "data", benches));
    } else if (strcmp(method, "POST") == 0) {
        quarantine_put(ad, req);
    } else if (gw__admin_only(req, "DELETE")) {
        quarantine_release(ad, req);
    }
}
