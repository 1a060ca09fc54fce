/*
 * Responses API requests as chat requests (see responses_in.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/responses_in.h"


static const char *type_of(json_t *o)
{
    const char *t = json_string_value(json_object_get(o, "type"));

    return t != NULL ? t : "";
}

json_t *gw_responses_input_items(json_t *body, const char *id_prefix,
                                 gw_client_problem_t *why)
{
    json_t *input = json_object_get(body, "input");
    json_t *items, *it;
    size_t i;

    if (input == NULL || json_is_null(input))
        return json_array(); /* previous_response_id alone may carry on */
    if (json_is_string(input))
        return json_pack("[{s:s,s:s,s:s,s:[{s:s,s:O}]}]", "type", "message", "id", id_prefix,
                         "role", "user", "content", "type", "input_text", "text", input);
    if (!json_is_array(input))
        return gw_client_problem(why, "input", "'input' must be a string or an array of items.");
    items = json_deep_copy(input);
    json_array_foreach(items, i, it) {
        if (!json_is_object(it)) {
            json_decref(items);
            return gw_client_problem(why, "input", "input[%zu] must be an object.", i);
        }
        if (json_object_get(it, "type") == NULL && json_object_get(it, "role") != NULL)
            json_object_set_new(it, "type", json_string("message"));
        if (!json_is_string(json_object_get(it, "id")))
            json_object_set_new(it, "id", json_sprintf("%s_%zu", id_prefix, i));
    }
    return items;
}

/* A message item's content as chat content: text parts joined for the
 * assistant (chat's assistant content is text), parts for the others. */
static json_t *content_of(json_t *content, bool assistant, const char *param,
                          gw_client_problem_t *why)
{
    json_t *parts, *p;
    size_t i;
    bool images = false;

    if (json_is_string(content))
        return json_incref(content);
    if (!json_is_array(content))
        return gw_client_problem(why, param, "%s.content must be a string or an array of parts.", param);
    parts = json_array();
    json_array_foreach(content, i, p) {
        const char *t = type_of(p);
        json_t *text = json_object_get(p, "text");

        if ((strcmp(t, "input_text") == 0 || strcmp(t, "output_text") == 0 ||
             strcmp(t, "text") == 0) && json_is_string(text)) {
            json_array_append_new(parts, json_pack("{s:s,s:O}", "type", "text", "text", text));
        } else if (strcmp(t, "refusal") == 0 && json_is_string(json_object_get(p, "refusal"))) {
            json_array_append_new(parts, json_pack("{s:s,s:O}", "type", "text", "text",
                                                   json_object_get(p, "refusal")));
        } else if (strcmp(t, "input_image") == 0 && !assistant &&
                   json_is_string(json_object_get(p, "image_url"))) {
            json_t *img = json_pack("{s:O}", "url", json_object_get(p, "image_url"));

            if (json_is_string(json_object_get(p, "detail")))
                json_object_set(img, "detail", json_object_get(p, "detail"));
            json_array_append_new(parts, json_pack("{s:s,s:o}", "type", "image_url",
                                                   "image_url", img));
            images = true;
        } else {
            json_decref(parts);
            return gw_client_problem(why, param,
                           "%s.content[%zu]: parts of type '%.40s' are not supported here "
                           "(input_text, input_image with an image_url, output_text).",
                           param, i, t);
        }
    }
    if (assistant || !images) { /* text only: one string */
        json_t *joined = json_string("");

        json_array_foreach(parts, i, p) {
            json_t *next = json_sprintf("%s%s%s", json_string_value(joined), i > 0 ? "\n" : "",
                                        json_string_value(json_object_get(p, "text")));
            json_decref(joined);
            joined = next != NULL ? next : json_string("");
        }
        json_decref(parts);
        return joined;
    }
    return parts;
}

/* The assistant message at the end of msgs, to hold tool calls (a new one
 * when the last message is not the assistant's). */
static json_t *assistant_tail(json_t *msgs)
{
    json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
    const char *role = json_string_value(json_object_get(last, "role"));

    if (last == NULL || role == NULL || strcmp(role, "assistant") != 0) {
        last = json_pack("{s:s,s:n,s:[]}", "role", "assistant", "content", "tool_calls");
        json_array_append_new(msgs, last);
    } else if (json_object_get(last, "tool_calls") == NULL) {
        json_object_set_new(last, "tool_calls", json_array());
    }
    return last;
}

static bool add_item(json_t *it, size_t i, json_t *msgs, gw_client_problem_t *why)
{
    const char *t = type_of(it);
    char param[48];

    snprintf(param, sizeof(param), "input[%zu]", i);
    if (strcmp(t, "message") == 0) {
        const char *role = json_string_value(json_object_get(it, "role"));
        bool assistant;
        json_t *content;

        if (role == NULL || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
                             strcmp(role, "system") != 0 && strcmp(role, "developer") != 0))
            return gw_client_problem(why, param, "%s.role must be user, assistant, system or developer.",
                           param), false;
        assistant = strcmp(role, "assistant") == 0;
        if ((content = content_of(json_object_get(it, "content"), assistant, param, why)) == NULL)
            return false;
        /* developer is system to every provider here */
        json_array_append_new(msgs, json_pack("{s:s,s:o}", "role",
                                              strcmp(role, "developer") == 0 ? "system" : role,
                                              "content", content));
        return true;
    }
    if (strcmp(t, "function_call") == 0) {
        json_t *call_id = json_object_get(it, "call_id");
        json_t *name = json_object_get(it, "name");
        json_t *args = json_object_get(it, "arguments");

        if (!json_is_string(call_id) || !json_is_string(name) || !json_is_string(args))
            return gw_client_problem(why, param, "%s (function_call) needs call_id, name and arguments "
                                       "strings.", param), false;
        json_array_append_new(json_object_get(assistant_tail(msgs), "tool_calls"),
                              json_pack("{s:O,s:s,s:{s:O,s:O}}", "id", call_id, "type",
                                        "function", "function", "name", name, "arguments",
                                        args));
        return true;
    }
    if (strcmp(t, "function_call_output") == 0) {
        json_t *call_id = json_object_get(it, "call_id");
        json_t *out = json_object_get(it, "output");
        json_t *text;

        if (!json_is_string(call_id))
            return gw_client_problem(why, param, "%s (function_call_output) needs a call_id.", param),
                   false;
        if (out == NULL || json_is_null(out))
            text = json_string("");
        else if ((text = content_of(out, true, param, why)) == NULL)
            return false;
        json_array_append_new(msgs, json_pack("{s:s,s:O,s:o}", "role", "tool", "tool_call_id",
                                              call_id, "content", text));
        return true;
    }
    if (strcmp(t, "reasoning") == 0)
        return true; /* earlier reasoning is not replayed */
    return gw_client_problem(why, param, "%s: items of type '%.40s' are not supported here (message, "
                               "function_call, function_call_output).", param, t), false;
}

static json_t *tools_of(json_t *tools, gw_client_problem_t *why)
{
    json_t *out = json_array();
    json_t *t;
    size_t i;

    json_array_foreach(tools, i, t) {
        const char *type = type_of(t);
        json_t *fn;

        if (strcmp(type, "function") != 0) {
            json_decref(out);
            return gw_client_problem(why, "tools", "tools[%zu]: the built-in tool '%.40s' cannot run "
                                         "through this gateway; declare function tools.",
                           i, type[0] ? type : "(no type)");
        }
        if (!json_is_string(json_object_get(t, "name"))) {
            json_decref(out);
            return gw_client_problem(why, "tools", "tools[%zu] needs a name.", i);
        }
        fn = json_pack("{s:O}", "name", json_object_get(t, "name"));
        if (json_is_string(json_object_get(t, "description")))
            json_object_set(fn, "description", json_object_get(t, "description"));
        json_object_set_new(fn, "parameters",
                            json_is_object(json_object_get(t, "parameters"))
                                ? json_incref(json_object_get(t, "parameters"))
                                : json_pack("{s:s}", "type", "object"));
        if (json_is_boolean(json_object_get(t, "strict")))
            json_object_set(fn, "strict", json_object_get(t, "strict"));
        json_array_append_new(out, json_pack("{s:s,s:o}", "type", "function", "function", fn));
    }
    return out;
}

static bool set_tool_choice(json_t *tc, json_t *chat, gw_client_problem_t *why)
{
    if (tc == NULL || json_is_null(tc))
        return true;
    if (json_is_string(tc) && (strcmp(json_string_value(tc), "auto") == 0 ||
                               strcmp(json_string_value(tc), "none") == 0 ||
                               strcmp(json_string_value(tc), "required") == 0)) {
        json_object_set(chat, "tool_choice", tc);
        return true;
    }
    if (strcmp(type_of(tc), "function") == 0 && json_is_string(json_object_get(tc, "name"))) {
        json_object_set_new(chat, "tool_choice",
                            json_pack("{s:s,s:{s:O}}", "type", "function", "function", "name",
                                      json_object_get(tc, "name")));
        return true;
    }
    return gw_client_problem(why, "tool_choice", "'tool_choice' is \"auto\", \"none\", \"required\" or "
                                       "{\"type\": \"function\", \"name\": …}."), false;
}

static bool set_format(json_t *text, json_t *chat, gw_client_problem_t *why)
{
    json_t *f = json_object_get(text, "format");
    const char *t = type_of(f);

    if (f == NULL || strcmp(t, "text") == 0)
        return true;
    if (strcmp(t, "json_object") == 0) {
        json_object_set_new(chat, "response_format", json_pack("{s:s}", "type", "json_object"));
        return true;
    }
    if (strcmp(t, "json_schema") == 0 && json_is_object(json_object_get(f, "schema"))) {
        json_t *js = json_pack("{s:s,s:O}", "name",
                               json_is_string(json_object_get(f, "name"))
                                   ? json_string_value(json_object_get(f, "name")) : "response",
                               "schema", json_object_get(f, "schema"));

        if (json_is_boolean(json_object_get(f, "strict")))
            json_object_set(js, "strict", json_object_get(f, "strict"));
        json_object_set_new(chat, "response_format", json_pack("{s:s,s:o}", "type",
                                                               "json_schema", "json_schema", js));
        return true;
    }
    return gw_client_problem(why, "text.format", "'text.format' is {\"type\": \"text\"}, {\"type\": "
                                        "\"json_object\"} or {\"type\": \"json_schema\", "
                                        "\"name\", \"schema\"}."), false;
}

/* Sampling, length, reasoning and streaming. */
static bool copy_settings(json_t *body, json_t *chat, gw_client_problem_t *why)
{
    static const char *const numbers[] = {"temperature", "top_p"};
    json_t *mot = json_object_get(body, "max_output_tokens");
    json_t *effort = json_object_get(json_object_get(body, "reasoning"), "effort");
    json_t *v;

    for (size_t i = 0; i < GW_ARRAY_LEN(numbers); i++) {
        if ((v = json_object_get(body, numbers[i])) == NULL || json_is_null(v))
            continue;
        if (!json_is_number(v))
            return gw_client_problem(why, numbers[i], "'%s' must be a number.", numbers[i]), false;
        json_object_set(chat, numbers[i], v);
    }
    if (mot != NULL && !json_is_null(mot)) {
        if (!json_is_integer(mot) || json_integer_value(mot) < 1)
            return gw_client_problem(why, "max_output_tokens", "'max_output_tokens' must be a whole "
                                                     "number of at least 1."), false;
        json_object_set(chat, "max_tokens", mot);
    }
    if (json_is_string(effort))
        json_object_set(chat, "reasoning_effort", effort);
    if ((v = json_object_get(body, "parallel_tool_calls")) != NULL && json_is_boolean(v))
        json_object_set(chat, "parallel_tool_calls", v);
    v = json_object_get(body, "stream");
    if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
        return gw_client_problem(why, "stream", "'stream' must be true or false."), false;
    if (json_is_true(v)) {
        json_object_set_new(chat, "stream", json_true());
        json_object_set_new(chat, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return true;
}

json_t *gw_responses_to_chat(json_t *body, json_t *items, gw_client_problem_t *why)
{
    json_t *model = json_object_get(body, "model");
    json_t *instr = json_object_get(body, "instructions");
    json_t *tools = json_object_get(body, "tools");
    json_t *chat, *msgs, *it;
    size_t i;

    if (!json_is_string(model) || json_string_length(model) == 0)
        return gw_client_problem(why, "model", "'model' is required.");
    chat = json_pack("{s:O,s:[]}", "model", model, "messages");
    msgs = json_object_get(chat, "messages");
    if (instr != NULL && !json_is_null(instr)) {
        if (!json_is_string(instr)) {
            gw_client_problem(why, "instructions", "'instructions' must be a string.");
            goto fail;
        }
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "system", "content", instr));
    }
    json_array_foreach(items, i, it) {
        if (!add_item(it, i, msgs, why))
            goto fail;
    }
    if (json_array_size(msgs) == 0 || (json_array_size(msgs) == 1 && instr != NULL &&
                                       json_is_string(instr))) {
        gw_client_problem(why, "input", "'input' is required (a string or items).");
        goto fail;
    }
    if (tools != NULL && !json_is_null(tools)) {
        json_t *t;

        if (!json_is_array(tools)) {
            gw_client_problem(why, "tools", "'tools' must be an array.");
            goto fail;
        }
        if (json_array_size(tools) > 0) {
            if ((t = tools_of(tools, why)) == NULL)
                goto fail;
            json_object_set_new(chat, "tools", t);
        }
    }
    if (!set_tool_choice(json_object_get(body, "tool_choice"), chat, why) ||
        !set_format(json_object_get(body, "text"), chat, why) || !copy_settings(body, chat, why))
        goto fail;
    return chat;
fail:
    json_decref(chat);
    return NULL;
}
