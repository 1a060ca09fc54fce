/*
 * GET /v1/models and /v1/models/{id}: "auto" plus every catalog model that
 * can route now (enabled, with a usable key or anonymous access), in
 * OpenAI's shape with OpenRouter-style extras (context_length).
 */
#include <string.h>

#include "api/handlers.h"
#include "api/respond.h"

static json_t *model_obj(gw_gateway_t *gw, const char *id, const gw_model_t *m)
{
    json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "id", id, "object", "model", "created",
                          (json_int_t)(gw->started_ms / 1000), "owned_by",
                          m != NULL ? m->provider->id : "freellmapi");
    if (m != NULL) {
        if (m->context_window > 0)
            json_object_set_new(o, "context_length", json_integer(m->context_window));
        json_object_set_new(o, "name", json_string(m->name));
        json_object_set_new(o, "kind", json_string(m->kind));
    }
    return o;
}

void api_models_list(gw_gateway_t *gw, gw_req_t *req)
{
    gw_router_t *r = &gw->router;
    json_t *data = json_array();
    json_t *seen = json_object();

    json_array_append_new(data, model_obj(gw, "auto", NULL));
    for (size_t i = 0; i < gw->cat.nmodels; i++) {
        const gw_model_t *m = &gw->cat.models[r->order[i]];
        /* A model served by several providers is listed once. */
        if (!gw_router_model_usable(r, m) || json_object_get(seen, m->id) != NULL)
            continue;
        json_object_set_new(seen, m->id, json_true());
        json_array_append_new(data, model_obj(gw, m->id, m));
    }
    json_decref(seen);
    gw_respond_json(req, 200, json_pack("{s:s,s:o}", "object", "list", "data", data));
}

void api_models_get(gw_gateway_t *gw, gw_req_t *req, const char *id)
{
    gw_router_t *r = &gw->router;

    if (strcmp(id, "auto") == 0) {
        gw_respond_json(req, 200, model_obj(gw, "auto", NULL));
        return;
    }
    for (size_t i = 0; i < gw->cat.nmodels; i++) {
        const gw_model_t *m = &gw->cat.models[r->order[i]];
        if (strcmp(m->id, id) == 0 && gw_router_model_usable(r, m)) {
            gw_respond_json(req, 200, model_obj(gw, m->id, m));
            return;
        }
    }
    gw_respond_error(req, 404, "invalid_request_error", "model_not_found", "model",
                         "The model '%s' does not exist or has no usable key.", id);
}
