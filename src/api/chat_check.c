/* The chat request's checks (see chat_check.h). */
#include "api/chat_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "router/estimate.h"

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool",
                                    "function"};

static bool problem(gw_chat_problem_t *why, const char *code, const char *param,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static bool problem(gw_chat_problem_t *why, const char *code, const char *param,
                    const char *fmt, ...)
{
    va_list ap;

    why->code = code;
    snprintf(why->param, sizeof(why->param), "%s", param);
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
    return false;
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

static bool check_scalars(json_t *body, gw_chat_problem_t *why)
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
        if (!ok)
            return problem(why, "invalid_type", scalars[i].name, "'%s' must be %s.",
                           scalars[i].name, what[scalars[i].type]);
    }
    return true;
}

static bool check_messages(json_t *msgs, bool *vision, gw_chat_problem_t *why)
{
    char param[40];
    json_t *m;
    size_t i;

    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return problem(why, "invalid_value", "messages",
                       "'messages' must be a non-empty array of message objects.");
    json_array_foreach(msgs, i, m) {
        json_t *role = json_object_get(m, "role");
        json_t *content = json_object_get(m, "content");
        json_t *part;
        size_t k;

        snprintf(param, sizeof(param), "messages[%zu]", i);
        if (!json_is_object(m) || !json_is_string(role) || !known_role(json_string_value(role)))
            return problem(why, "invalid_value", param,
                           "%s must be an object with a 'role' of system, developer, user, "
                           "assistant or tool.", param);
        if (content != NULL && !json_is_string(content) && !json_is_array(content) &&
            !json_is_null(content))
            return problem(why, "invalid_type", param,
                           "%s.content must be a string or an array of parts.", param);
        if ((content == NULL || json_is_null(content)) &&
            strcmp(json_string_value(role), "assistant") != 0)
            return problem(why, "missing_required_parameter", param, "%s.content is required.",
                           param);
        if (strcmp(json_string_value(role), "tool") == 0 &&
            !json_is_string(json_object_get(m, "tool_call_id")))
            return problem(why, "missing_required_parameter", param,
                           "%s.tool_call_id is required for tool messages.", param);
        json_array_foreach(content, k, part) {
            const char *type = json_string_value(json_object_get(part, "type"));
            if (!json_is_object(part) || type == NULL)
                return problem(why, "invalid_type", param,
                               "%s.content[%zu] must be an object with a 'type'.", param, k);
            if (strcmp(type, "image_url") == 0)
                *vision = true;
        }
    }
    return true;
}

static bool check_tools(json_t *tools, gw_chat_problem_t *why)
{
    char param[32];
    json_t *t;
    size_t i;

    if (tools == NULL || json_is_null(tools))
        return true;
    if (!json_is_array(tools))
        return problem(why, "invalid_value", "tools", "'tools' must be an array.");
    json_array_foreach(tools, i, t) {
        json_t *fn = json_object_get(t, "function");
        if (!json_is_object(t) || !json_is_string(json_object_get(fn, "name"))) {
            snprintf(param, sizeof(param), "tools[%zu]", i);
            return problem(why, "invalid_value", param,
                           "%s must be {\"type\":\"function\",\"function\":{\"name\":...}}.",
                           param);
        }
    }
    return true;
}

bool gw_chat_check(json_t *body, bool *vision, gw_chat_problem_t *why)
{
    json_t *model = json_object_get(body, "model");
    json_t *n;

    *vision = false;
    if (!json_is_string(model) || json_string_length(model) == 0)
        return problem(why, "missing_required_parameter", "model",
                       "You must provide a model parameter (a model id or \"auto\").");
    if (!check_messages(json_object_get(body, "messages"), vision, why) ||
        !check_tools(json_object_get(body, "tools"), why) || !check_scalars(body, why))
        return false;
    n = json_object_get(body, "n");
    if (n != NULL && !json_is_null(n) && json_integer_value(n) > GW_CHAT_MAX_N)
        return problem(why, "invalid_value", "n",
                       "'n' may be at most %d here: each choice is a call on a free tier.",
                       GW_CHAT_MAX_N);
    return true;
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

/* The text of a message's content: a string, or the parts' texts (other
 * parts, such as images, by their JSON). */
static size_t content_length(json_t *content)
{
    json_t *part;
    size_t i;
    size_t n = 0;

    if (json_is_string(content))
        return json_string_length(content);
    if (!json_is_array(content))
        return content != NULL ? compact_length(content) : 0;
    json_array_foreach(content, i, part) {
        json_t *text = json_object_get(part, "text");
        n += json_is_string(text) ? json_string_length(text) : compact_length(part);
    }
    return n;
}

/* As chat tokenizers count: each message's text (content, tool calls, name)
 * at about four bytes a token, plus a few tokens of template around it; the
 * tools by their JSON. Per model, how its tokenizer counts each part is
 * learned from what it reports (router/estimate.h), so only the shape has to
 * be right. */
int64_t gw_chat_estimate_tokens(json_t *body)
{
    json_t *messages = json_object_get(body, "messages");
    json_t *tools = json_object_get(body, "tools");
    json_t *m;
    size_t bytes = tools != NULL ? compact_length(tools) : 0;
    size_t i;
    int64_t n = 0;

    json_array_foreach(messages, i, m) {
        json_t *calls = json_object_get(m, "tool_calls");
        json_t *name = json_object_get(m, "name");

        bytes += content_length(json_object_get(m, "content"));
        bytes += calls != NULL ? compact_length(calls) : 0;
        bytes += json_is_string(name) ? json_string_length(name) : 0;
        n++;
    }
    return gw_estimate_raw((int64_t)(bytes + 3) / 4, n);
}
