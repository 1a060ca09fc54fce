/*
 * POST /v1/chat/completions: parse and validate the OpenAI request (clear
 * 400s naming the bad field), work out what it needs from a model (tools,
 * vision, context), then hand it to the chat relay (chat_relay.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/json_body.h"
#include "api/respond.h"
#include "api/chat_check.h"
#include "api/chat_relay.h"
#include "api/chat.h"

/* Text of the first message with one of the roles (string or text parts). */
static gw_str_t first_text(json_t *msgs, const char *role1, const char *role2)
{
    json_t *m;
    size_t i;

    json_array_foreach(msgs, i, m) {
        const char *r = json_string_value(json_object_get(m, "role"));
        json_t *c = json_object_get(m, "content");
        if (r == NULL || (strcmp(r, role1) != 0 && (role2 == NULL || strcmp(r, role2) != 0)))
            continue;
        if (json_is_string(c))
            return (gw_str_t){json_string_value(c), json_string_length(c)};
        if (json_is_array(c) && json_is_string(json_object_get(json_array_get(c, 0), "text"))) {
            json_t *t = json_object_get(json_array_get(c, 0), "text");
            return (gw_str_t){json_string_value(t), json_string_length(t)};
        }
        return GW_STR("");
    }
    return GW_STR("");
}

void gw_chat_start_prompts(gw_gateway_t *gw, gw_req_t *req, json_t *body, const char *endpoint,
                           gw_front_t front, json_t *prompts, const char *suffix)
{
    gw_fallback_spec_t spec;
    gw_chat_problem_t why;
    json_t *mt;
    bool vision = false;
    bool is_auto;
    bool known;

    memset(&spec, 0, sizeof(spec));
    if (!gw_chat_check(body, &vision, &why)) {
        gw_respond_error(req, 400, "invalid_request_error", why.code, why.param, "%s",
                             why.msg);
        goto out;
    }
    mt = json_object_get(body, "max_completion_tokens");
    if (mt == NULL || json_is_null(mt))
        mt = json_object_get(body, "max_tokens");
    spec.model = json_string_value(json_object_get(body, "model"));
    is_auto = strcmp(spec.model, "auto") == 0;
    known = is_auto || gw_router_known_model(&gw->router, spec.model);
    /* A tier name that is also a catalog model (GitHub serves gpt-4o) asks
     * for that model first, then for its tier, then for the rest. */
    spec.need.prefer = is_auto ? GW_TIER_NONE : gw_catalog_name_tier(&gw->cat, spec.model);
    if (!known && spec.need.prefer == GW_TIER_NONE) {
        gw_respond_error(req, 404, "invalid_request_error", "model_not_found", "model",
                             "The model '%s' does not exist. GET /v1/models lists the models "
                             "you can use, or send \"auto\" (OpenAI's and Claude's model "
                             "names route to a tier of the chain).", spec.model);
        goto out;
    }
    spec.endpoint = endpoint;
    spec.input_param = "messages";
    spec.need.kind = "chat";
    spec.need.caps = GW_CAP_CHAT;
    if (json_array_size(json_object_get(body, "tools")) > 0)
        spec.need.caps |= GW_CAP_TOOLS;
    if (vision)
        spec.need.caps |= GW_CAP_VISION;
    if (suffix != NULL)
        spec.need.caps |= GW_CAP_FIM;
    spec.need.prompt_tokens = gw_chat_estimate_tokens(body);
    spec.need.prompt_messages = (int64_t)json_array_size(json_object_get(body, "messages"));
    spec.need.max_tokens = json_is_integer(mt) ? json_integer_value(mt) : 0;
    spec.stream = json_is_true(json_object_get(body, "stream"));
    if (!known || is_auto) {
        json_t *msgs = json_object_get(body, "messages");
        spec.sticky = true;
        gw_sticky_digest(GW_STR("unified"), first_text(msgs, "system", "developer"),
                         first_text(msgs, "user", NULL), spec.digest);
    }
    spec.req = body;
    gw_chat_relay_run(gw, req, &spec, front,
                      json_is_integer(json_object_get(body, "n"))
                          ? (int)json_integer_value(json_object_get(body, "n")) : 1,
                      prompts, suffix);
    return;
out:
    if (front.ops->free != NULL)
        front.ops->free(front.ctx);
    json_decref(body);
}

void gw_chat_start(gw_gateway_t *gw, gw_req_t *req, json_t *body, const char *endpoint,
                   gw_front_t front)
{
    gw_chat_start_prompts(gw, req, body, endpoint, front, NULL, NULL);
}

/* The request parsed (body NULL: it was not JSON; jerr says why). */
static void chat_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    bool include_usage;

    if (!gw_api_json_object(req, body, jerr))
        return;
    include_usage = json_is_true(json_object_get(body, "stream")) &&
                    json_is_true(json_object_get(json_object_get(body, "stream_options"),
                                                 "include_usage"));
    gw_chat_start(gw, req, body, "/v1/chat/completions", gw_front_openai(include_usage));
}

void api_chat_completions(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, chat_parsed);
}
