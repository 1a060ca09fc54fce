/*
 * POST /v1/chat/completions: parse and validate the OpenAI request (clear
 * 400s naming the bad field), work out what it needs from a model (tools,
 * vision, context), then hand it to the fallback loop (proxy.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/proxy.h"

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool",
                                    "function"};

static void bad(gw_req_t *req, const char *param, const char *msg)
{
    gw_req_respond_error(req, 400, "invalid_request_error", "invalid_value", param, "%s", msg);
}

static bool known_role(const char *r)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(roles); i++)
        if (strcmp(r, roles[i]) == 0)
            return true;
    return false;
}

/* Optional scalar fields and the type each must have when present (null is absent). */
typedef enum { T_BOOL, T_OBJECT, T_NUMBER, T_POS_INT } scalar_t;

static const struct {
    const char *name;
    scalar_t type;
} scalars[] = {
    {"stream", T_BOOL},           {"stream_options", T_OBJECT},
    {"temperature", T_NUMBER},    {"top_p", T_NUMBER},
    {"presence_penalty", T_NUMBER}, {"frequency_penalty", T_NUMBER},
    {"max_tokens", T_POS_INT},    {"max_completion_tokens", T_POS_INT},
    {"n", T_POS_INT},
};

static bool check_scalars(gw_req_t *req, json_t *body)
{
    /* Counts past a billion serve no model and would overflow the router's sums. */
    static const char *const what[] = {"a boolean", "an object", "a number",
                                       "an integer from 1 to 1000000000"};

    for (size_t i = 0; i < GW_ARRAY_LEN(scalars); i++) {
        json_t *v = json_object_get(body, scalars[i].name);
        bool ok;

        if (v == NULL || json_is_null(v))
            continue;
        switch (scalars[i].type) {
        case T_BOOL:
            ok = json_is_boolean(v);
            break;
        case T_OBJECT:
            ok = json_is_object(v);
            break;
        case T_NUMBER:
            ok = json_is_number(v);
            break;
        default:
            ok = json_is_integer(v) && json_integer_value(v) >= 1 &&
                 json_integer_value(v) <= 1000000000;
            break;
        }
        if (!ok) {
            gw_req_respond_error(req, 400, "invalid_request_error", "invalid_type",
                                 scalars[i].name, "'%s' must be %s.", scalars[i].name,
                                 what[scalars[i].type]);
            return false;
        }
    }
    return true;
}

/* Validates messages; sets *vision when a user part carries an image. */
static bool check_messages(gw_req_t *req, json_t *msgs, bool *vision)
{
    char param[64];
    json_t *m;
    size_t i;

    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        bad(req, "messages", "'messages' must be a non-empty array of message objects.");
        return false;
    }
    json_array_foreach(msgs, i, m) {
        json_t *role = json_object_get(m, "role");
        json_t *content = json_object_get(m, "content");
        json_t *part;
        size_t k;

        snprintf(param, sizeof(param), "messages[%zu]", i);
        if (!json_is_object(m) || !json_is_string(role) || !known_role(json_string_value(role))) {
            gw_req_respond_error(req, 400, "invalid_request_error", "invalid_value", param,
                                 "%s must be an object with a 'role' of system, developer, "
                                 "user, assistant or tool.", param);
            return false;
        }
        if (content != NULL && !json_is_string(content) && !json_is_array(content) &&
            !json_is_null(content)) {
            gw_req_respond_error(req, 400, "invalid_request_error", "invalid_type", param,
                                 "%s.content must be a string or an array of parts.", param);
            return false;
        }
        if ((content == NULL || json_is_null(content)) &&
            strcmp(json_string_value(role), "assistant") != 0) {
            gw_req_respond_error(req, 400, "invalid_request_error", "missing_required_parameter",
                                 param, "%s.content is required.", param);
            return false;
        }
        if (strcmp(json_string_value(role), "tool") == 0 &&
            !json_is_string(json_object_get(m, "tool_call_id"))) {
            gw_req_respond_error(req, 400, "invalid_request_error", "missing_required_parameter",
                                 param, "%s.tool_call_id is required for tool messages.", param);
            return false;
        }
        json_array_foreach(content, k, part) {
            const char *type = json_string_value(json_object_get(part, "type"));
            if (!json_is_object(part) || type == NULL) {
                gw_req_respond_error(req, 400, "invalid_request_error", "invalid_type", param,
                                     "%s.content[%zu] must be an object with a 'type'.", param,
                                     k);
                return false;
            }
            if (strcmp(type, "image_url") == 0)
                *vision = true;
        }
    }
    return true;
}

static bool check_tools(gw_req_t *req, json_t *tools)
{
    json_t *t;
    size_t i;

    if (tools == NULL || json_is_null(tools))
        return true;
    if (!json_is_array(tools)) {
        bad(req, "tools", "'tools' must be an array.");
        return false;
    }
    json_array_foreach(tools, i, t) {
        json_t *fn = json_object_get(t, "function");
        if (!json_is_object(t) || !json_is_string(json_object_get(fn, "name"))) {
            char param[32];
            snprintf(param, sizeof(param), "tools[%zu]", i);
            gw_req_respond_error(req, 400, "invalid_request_error", "invalid_value", param,
                                 "%s must be {\"type\":\"function\",\"function\":{\"name\":...}}.",
                                 param);
            return false;
        }
    }
    return true;
}

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

/* The length v would have as compact JSON (escapes aside), summed over the
 * parsed tree: one step per node, where serialising it would cost one per byte
 * (jansson writes ~5 ns a byte: a 40 KB conversation is 0.2 ms). */
static size_t compact_length(json_t *v)
{
    const char *key;
    json_t *item;
    size_t n = 2; /* the brackets, or the quotes */
    size_t i;
    unsigned long long u;

    if (v == NULL)
        return 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach(v, key, item)
            n += strlen(key) + 3 + compact_length(item) + 1; /* "key": value, */
        return n - (json_object_size(v) > 0);
    case JSON_ARRAY:
        json_array_foreach(v, i, item)
            n += compact_length(item) + 1;
        return n - (json_array_size(v) > 0);
    case JSON_STRING:
        return json_string_length(v) + 2;
    case JSON_INTEGER:
        u = (unsigned long long)json_integer_value(v);
        if (json_integer_value(v) < 0)
            u = 0 - u;
        for (n = 1; u >= 10; u /= 10)
            n++;
        return n + (json_integer_value(v) < 0);
    case JSON_REAL:
        return 8;
    case JSON_FALSE:
        return 5;
    default: /* true, null */
        return 4;
    }
}

/* About 4 characters per token over everything the model will read:
 * messages and tools as compact JSON. */
static int64_t estimate_tokens(json_t *body)
{
    json_t *tools = json_object_get(body, "tools");

    return (int64_t)(compact_length(json_object_get(body, "messages")) +
                     (tools != NULL ? compact_length(tools) : 4) + 3) / 4 + 1;
}

/* The request parsed (body NULL: it was not JSON; jerr says why): checked,
 * then handed to the proxy. Takes body. */
static void chat_parsed(gw_app_t *app, gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    gw_proxy_spec_t spec;
    json_t *model;
    json_t *mt;
    json_t *n;
    bool vision = false;

    memset(&spec, 0, sizeof(spec));
    if (!gw_api_json_object(req, body, jerr))
        return;
    model = json_object_get(body, "model");
    if (!json_is_string(model) || json_string_length(model) == 0) {
        gw_req_respond_error(req, 400, "invalid_request_error", "missing_required_parameter",
                             "model", "You must provide a model parameter (a model id or "
                             "\"auto\").");
        goto out;
    }
    if (!check_messages(req, json_object_get(body, "messages"), &vision) ||
        !check_tools(req, json_object_get(body, "tools")))
        goto out;
    if (!check_scalars(req, body))
        goto out;
    n = json_object_get(body, "n");
    if (n != NULL && !json_is_null(n) && json_integer_value(n) != 1) {
        bad(req, "n", "Only n=1 is supported.");
        goto out;
    }
    mt = json_object_get(body, "max_completion_tokens");
    if (mt == NULL || json_is_null(mt))
        mt = json_object_get(body, "max_tokens");
    spec.model = json_string_value(model);
    if (strcmp(spec.model, "auto") != 0 && !gw_router_known_model(&app->router, spec.model)) {
        gw_req_respond_error(req, 404, "invalid_request_error", "model_not_found", "model",
                             "The model '%s' does not exist. GET /v1/models lists the models "
                             "you can use, or send \"auto\".", spec.model);
        goto out;
    }
    spec.endpoint = "/v1/chat/completions";
    spec.need.kind = "chat";
    spec.need.caps = GW_CAP_CHAT;
    if (json_array_size(json_object_get(body, "tools")) > 0)
        spec.need.caps |= GW_CAP_TOOLS;
    if (vision)
        spec.need.caps |= GW_CAP_VISION;
    spec.need.prompt_tokens = estimate_tokens(body);
    spec.need.max_tokens = json_is_integer(mt) ? json_integer_value(mt) : 0;
    spec.stream = json_is_true(json_object_get(body, "stream"));
    spec.include_usage = spec.stream && json_is_true(json_object_get(
                                            json_object_get(body, "stream_options"),
                                            "include_usage"));
    if (strcmp(spec.model, "auto") == 0) {
        json_t *msgs = json_object_get(body, "messages");
        spec.sticky = true;
        gw_sticky_digest(GW_STR("unified"), first_text(msgs, "system", "developer"),
                         first_text(msgs, "user", NULL), spec.digest);
    }
    spec.req = body;
    body = NULL;
    gw_proxy_chat(app, req, &spec);
out:
    json_decref(body);
}

void api_chat_completions(gw_app_t *app, gw_req_t *req)
{
    gw_api_parse_json(app, req, chat_parsed);
}
