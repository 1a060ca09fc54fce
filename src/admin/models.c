/*
 * Models and the fallback chain (/api/models, /api/chain): read from the
 * router the loop holds; changes are store jobs that reload the router at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "core/clock.h"

#define CHAIN_MAX 4096 /* entries in one PUT */

json_t *gw__admin_limits_json(const gw_limits_t *l)
{
    json_t *o = json_object();

    if (l->rpm > 0)
        json_object_set_new(o, "rpm", json_integer(l->rpm));
    if (l->rpd > 0)
        json_object_set_new(o, "rpd", json_integer(l->rpd));
    if (l->tpm > 0)
        json_object_set_new(o, "tpm", json_integer(l->tpm));
    if (l->tpd > 0)
        json_object_set_new(o, "tpd", json_integer(l->tpd));
    return o;
}

json_t *gw__admin_pacing_json(gw_router_t *r, const gw_model_t *m, int64_t now_ms,
                              gw_pacing_view_t *view)
{
    gw_pacing_view_t v;
    json_t *allowed;

    gw_router_model_pacing(r, m, now_ms, &v);
    if (view != NULL)
        *view = v;
    if (v.reserve <= 0)
        return json_null();
    allowed = json_object();
    if (v.requests >= 0)
        json_object_set_new(allowed, "requests", json_integer(v.requests));
    if (v.tokens >= 0)
        json_object_set_new(allowed, "tokens", json_integer(v.tokens));
    return json_pack("{s:f,s:o,s:o}", "reserve", v.reserve, "allowed_now", allowed,
                     "next_release_ms",
                     v.next_release_ms > 0 ? json_integer(v.next_release_ms) : json_null());
}

static json_t *model_json(gw_router_t *r, const gw_model_t *m)
{
    int position = 0;
    gw_usage_t u;

    for (size_t i = 0; i < r->cat->nmodels; i++)
        if (r->order[i] == m->index)
            position = (int)i + 1;
    gw_router_model_usage(r, m, gw_now_ms(), &u);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:I},s:b,s:b,s:b,s:i,s:o}",
                     "provider",
                     m->provider->id, "id", m->id, "name", m->name, "kind", m->kind,
                     "capabilities", gw__admin_caps_json(m->caps), "context_window",
                     (json_int_t)m->context_window, "max_output_tokens",
                     (json_int_t)m->max_output, "limits", gw__admin_limits_json(&m->limits),
                     "usage",
                     "rpm", (json_int_t)u.rpm, "rpd", (json_int_t)u.rpd, "tpm", (json_int_t)u.tpm,
                     "tpd", (json_int_t)u.tpd, "enabled",
                     r->enabled[m->index], "usable", gw_router_model_usable(r, m), "limited",
                     gw_router_model_limited(r, m, gw_now_ms()),
                     "chain_position", position, "pacing",
                     gw__admin_pacing_json(r, m, gw_now_ms(), NULL));
}

static json_t *chain_json(gw_router_t *r)
{
    json_t *data = json_array();
    char entry[400];

    for (size_t i = 0; i < r->cat->nmodels; i++) {
        const gw_model_t *m = &r->cat->models[r->order[i]];
        snprintf(entry, sizeof(entry), "%s/%s", m->provider->id, m->id);
        json_array_append_new(data, json_string(entry));
    }
    return json_pack("{s:o}", "data", data);
}

/* ---- store jobs ---------------------------------------------------------------------- */

/* Saves what the PATCH carried: enabled, pacing (null: off), or both. */
static void model_work(gw_admin_job_t *j, gw_store_t *st)
{
    const char *provider = json_string_value(json_object_get(j->in, "provider"));
    const char *model = json_string_value(json_object_get(j->in, "model"));
    json_t *enabled = json_object_get(j->in, "enabled");
    json_t *pacing = json_object_get(j->in, "pacing");
    gw_err_t err = {0};
    int rc = 0;

    if (enabled != NULL)
        rc = gw_store_model_enabled_set(st, provider, model, json_is_true(enabled), &err);
    if (rc == 0 && pacing != NULL)
        rc = gw_store_pacing_set(st, provider, model,
                                 json_number_value(json_object_get(pacing, "reserve")),
                                 gw_now_ms(), &err);
    if (rc != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The change could not be saved: %s",
                       err.msg);
}

static json_t *model_now(gw_admin_job_t *j)
{
    gw_router_t *r = &j->ad->gw->router;
    char name[400];

    snprintf(name, sizeof(name), "%s/%s", json_string_value(json_object_get(j->in, "provider")),
             json_string_value(json_object_get(j->in, "model")));
    return json_pack("{s:o}", "model", model_json(r, gw_router_find_model(r, name)));
}

static json_t *chain_now(gw_admin_job_t *j)
{
    return chain_json(&j->ad->gw->router);
}

static void chain_work(gw_admin_job_t *j, gw_store_t *st)
{
    json_t *order = json_object_get(j->in, "order");
    size_t n = json_array_size(order);
    char **entries = n > 0 ? gw_xcalloc(n, sizeof(*entries)) : NULL;
    gw_err_t err = {0};

    for (size_t i = 0; i < n; i++)
        entries[i] = (char *)json_string_value(json_array_get(order, i));
    if (gw_store_chain_set(st, entries, n, &err) != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The chain could not be saved: %s", err.msg);
    free(entries);
}

/* ---- handlers ------------------------------------------------------------------------- */

/* Checks a model PATCH: {enabled?: bool, pacing?: {reserve: 0..0.95} | null}, at
 * least one. pacing null becomes {reserve: 0} (off). False after answering 400. */
static bool patch_valid(gw_req_t *req, json_t *in)
{
    json_t *enabled = json_object_get(in, "enabled");
    json_t *pacing = json_object_get(in, "pacing");
    json_t *reserve = json_object_get(pacing, "reserve");
    const char *field;
    json_t *v;

    json_object_foreach(in, field, v) {
        if (strcmp(field, "enabled") != 0 && strcmp(field, "pacing") != 0) {
            gw__admin_error(req, 400, "invalid_value", NULL,
                            "Unknown field '%.64s': send {\"enabled\": true|false} and/or "
                            "{\"pacing\": {\"reserve\": 0-0.95} | null}.",
                            field);
            return false;
        }
    }
    if (enabled == NULL && pacing == NULL) {
        gw__admin_error(req, 400, "invalid_value", NULL,
                        "Send {\"enabled\": true|false} and/or "
                        "{\"pacing\": {\"reserve\": 0-0.95} | null}.");
        return false;
    }
    if (enabled != NULL && !json_is_boolean(enabled)) {
        gw__admin_error(req, 400, "invalid_value", "enabled", "'enabled' must be true or false.");
        return false;
    }
    if (pacing == NULL)
        return true;
    if (json_is_null(pacing)) {
        json_object_set_new(in, "pacing", json_pack("{s:f}", "reserve", 0.0));
        return true;
    }
    if (!json_is_object(pacing) || json_object_size(pacing) != 1 || !json_is_number(reserve) ||
        !(json_number_value(reserve) >= 0 && json_number_value(reserve) <= 0.95)) {
        gw__admin_error(req, 400, "invalid_value", "pacing",
                        "'pacing' must be null (off) or {\"reserve\": r}, r a number from 0 "
                        "(off) to 0.95: the share of each daily cap released only as the "
                        "day passes.");
        return false;
    }
    return true;
}

void gw__admin_models(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_router_t *r = &ad->gw->router;

    if (rest[0] == '\0') {
        json_t *data;

        if (!gw__admin_only(req, "GET"))
            return;
        data = json_array();
        for (size_t i = 0; i < r->cat->nmodels; i++)
            json_array_append_new(data, model_json(r, &r->cat->models[i]));
        gw_respond_json(req, 200, json_pack("{s:o}", "data", data));
        return;
    }
    if (gw__admin_only(req, "PATCH")) {
        /* rest is "provider/model"; model ids may hold '/' themselves. */
        const gw_model_t *m = gw_router_find_model(r, rest);
        json_t *in;

        if (m == NULL || strchr(rest, '/') == NULL) {
            gw__admin_error(req, 404, "model_not_found", NULL,
                            "No catalog model is named '%.200s' (use provider/model).", rest);
            return;
        }
        in = gw__admin_body(req);
        if (in == NULL)
            return;
        if (!patch_valid(req, in)) {
            json_decref(in);
            return;
        }
        json_object_set_new(in, "provider", json_string(m->provider->id));
        json_object_set_new(in, "model", json_string(m->id));
        gw__admin_run_then(ad, req, model_work, in, 0, true, model_now);
    }
}

/* Checks a PUT body: every entry names a catalog model once. On success
 * in["order"] holds the canonical entries. */
static bool chain_valid(gw_router_t *r, gw_req_t *req, json_t *in)
{
    json_t *order = json_object_get(in, "order");
    json_t *canon;
    json_t *v;
    size_t i;

    if (!json_is_array(order) || json_array_size(order) > CHAIN_MAX) {
        gw__admin_error(req, 400, "invalid_value", "order",
                        "'order' must be an array of \"provider/model\" entries.");
        return false;
    }
    canon = json_array();
    json_array_foreach(order, i, v) {
        const char *name = json_string_value(v);
        const gw_model_t *m = name != NULL && strchr(name, '/') != NULL
                                  ? gw_router_find_model(r, name)
                                  : NULL;
        char entry[400];

        if (m == NULL) {
            json_decref(canon);
            gw__admin_error(req, 400, "invalid_value", "order",
                            "Entry %zu is not a catalog model (\"provider/model\").", i);
            return false;
        }
        snprintf(entry, sizeof(entry), "%s/%s", m->provider->id, m->id);
        for (size_t k = 0; k < json_array_size(canon); k++) {
            if (strcmp(json_string_value(json_array_get(canon, k)), entry) == 0) {
                json_decref(canon);
                gw__admin_error(req, 400, "invalid_value", "order",
                                "'%s' appears twice in the order.", entry);
                return false;
            }
        }
        json_array_append_new(canon, json_string(entry));
    }
    json_object_set_new(in, "order", canon);
    return true;
}

void gw__admin_chain(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_router_t *r = &ad->gw->router;
    const char *method = gw_req_method(req);
    json_t *in;

    (void)rest;
    if (strcmp(method, "GET") == 0) {
        gw_respond_json(req, 200, chain_json(r));
    } else if (strcmp(method, "DELETE") == 0) {
        /* An empty chain: catalog priority order. */
        gw__admin_run_then(ad, req, chain_work, json_pack("{s:[]}", "order"), 0, true, chain_now);
    } else if (gw__admin_only(req, "PUT")) {
        in = gw__admin_body(req);
        if (in == NULL)
            return;
        if (!chain_valid(r, req, in)) {
            json_decref(in);
            return;
        }
        gw__admin_run_then(ad, req, chain_work, in, 0, true, chain_now);
    }
}
