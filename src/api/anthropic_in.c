/*
 * Anthropic Messages requests as OpenAI chat requests (see anthropic_in.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/anthropic_in.h"


static bool is_type(json_t *block, const char *type)
{
    const char *t = json_string_value(json_object_get(block, "type"));

    return t != NULL && strcmp(t, type) == 0;
}

/* An image block's source as an OpenAI image_url part, or NULL. */
static json_t *image_part(json_t *block, const char *param, gw_client_problem_t *why)
{
    json_t *src = json_object_get(block, "source");
    const char *kind = json_string_value(json_object_get(src, "type"));
    const char *media = json_string_value(json_object_get(src, "media_type"));
    const char *data = json_string_value(json_object_get(src, "data"));
    const char *url = json_string_value(json_object_get(src, "url"));

    if (kind != NULL && strcmp(kind, "base64") == 0 && media != NULL && data != NULL) {
        json_t *u = json_sprintf("data:%s;base64,%s", media, data);

        return u != NULL ? json_pack("{s:s,s:{s:o}}", "type", "image_url", "image_url", "url", u)
                         : gw_client_problem(why, param, "%s.source is not valid text.", param);
    }
    if (kind != NULL && strcmp(kind, "url") == 0 && url != NULL)
        return json_pack("{s:s,s:{s:s}}", "type", "image_url", "image_url", "url", url);
    return gw_client_problem(why, param,
                   "%s.source must be {\"type\":\"base64\",\"media_type\",\"data\"} or "
                   "{\"type\":\"url\",\"url\"}.", param);
}

/* a + sep + b as a new string (both valid UTF-8: they came from JSON). */
static json_t *joined(json_t *a, const char *sep, const char *b)
{
    json_t *j = json_sprintf("%s%s%s", json_string_value(a), json_string_value(a)[0] ? sep : "",
                             b);

    json_decref(a);
    return j != NULL ? j : json_string("");
}

/* A tool_result's content as text (text blocks joined; images are refused). */
static json_t *tool_result_text(json_t *block, const char *param, gw_client_problem_t *why)
{
    json_t *c = json_object_get(block, "content");
    json_t *text;
    json_t *b;
    size_t i;

    if (c == NULL || json_is_string(c)) {
        text = json_string(c != NULL ? json_string_value(c) : "");
    } else if (json_is_array(c)) {
        text = json_string("");
        json_array_foreach(c, i, b) {
            if (!is_type(b, "text") || !json_is_string(json_object_get(b, "text"))) {
                json_decref(text);
                return gw_client_problem(why, param,
                               "%s.content[%zu]: a tool result may hold text blocks only here.",
                               param, i);
            }
            text = joined(text, "\n", json_string_value(json_object_get(b, "text")));
        }
    } else {
        return gw_client_problem(why, param, "%s.content must be a string or an array of blocks.", param);
    }
    if (json_is_true(json_object_get(block, "is_error"))) {
        json_t *marked = joined(json_string("Error:"), " ", json_string_value(text));

        json_decref(text);
        text = marked;
    }
    return text;
}

/* One Anthropic message as OpenAI messages appended to out: a user turn's
 * tool results become "tool" messages first, then its other parts; an
 * assistant turn's tool_use blocks become tool_calls. */
static bool add_message(json_t *m, size_t mi, json_t *out, gw_client_problem_t *why)
{
    char param[64];
    const char *role = json_string_value(json_object_get(m, "role"));
    json_t *content = json_object_get(m, "content");
    json_t *parts, *calls, *block;
    bool assistant;
    size_t i;

    snprintf(param, sizeof(param), "messages[%zu]", mi);
    if (!json_is_object(m) || role == NULL ||
        (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0))
        return gw_client_problem(why, param, "%s.role must be \"user\" or \"assistant\".", param), false;
    assistant = strcmp(role, "assistant") == 0;
    if (json_is_string(content)) {
        json_array_append_new(out, json_pack("{s:s,s:O}", "role", role, "content", content));
        return true;
    }
    if (!json_is_array(content))
        return gw_client_problem(why, param, "%s.content must be a string or an array of blocks.", param),
               false;
    parts = json_array();
    calls = json_array();
    json_array_foreach(content, i, block) {
        char bp[112];
        const char *type = json_string_value(json_object_get(block, "type"));
        json_t *part = NULL;

        snprintf(bp, sizeof(bp), "%s.content[%zu]", param, i);
        if (type == NULL) {
            gw_client_problem(why, bp, "%s.type is required.", bp);
            goto fail;
        }
        if (strcmp(type, "text") == 0 && json_is_string(json_object_get(block, "text"))) {
            part = json_pack("{s:s,s:O}", "type", "text", "text", json_object_get(block, "text"));
        } else if (strcmp(type, "image") == 0 && !assistant) {
            if ((part = image_part(block, bp, why)) == NULL)
                goto fail;
        } else if (strcmp(type, "tool_use") == 0 && assistant) {
            json_t *input = json_object_get(block, "input");
            char *args = json_is_object(input) ? json_dumps(input, JSON_COMPACT) : NULL;

            if (!json_is_string(json_object_get(block, "id")) ||
                !json_is_string(json_object_get(block, "name")) || args == NULL) {
                free(args);
                gw_client_problem(why, bp, "%s needs an id, a name and an input object.", bp);
                goto fail;
            }
            json_array_append_new(calls, json_pack("{s:O,s:s,s:{s:O,s:s}}", "id",
                                                   json_object_get(block, "id"), "type",
                                                   "function", "function", "name",
                                                   json_object_get(block, "name"), "arguments",
                                                   args));
            free(args);
            continue;
        } else if (strcmp(type, "tool_result") == 0 && !assistant) {
            json_t *text;

            if (!json_is_string(json_object_get(block, "tool_use_id"))) {
                gw_client_problem(why, bp, "%s.tool_use_id is required.", bp);
                goto fail;
            }
            if ((text = tool_result_text(block, bp, why)) == NULL)
                goto fail;
            json_array_append_new(out, json_pack("{s:s,s:O,s:o}", "role", "tool",
                                                 "tool_call_id",
                                                 json_object_get(block, "tool_use_id"),
                                                 "content", text));
            continue;
        } else if (strcmp(type, "thinking") == 0 || strcmp(type, "redacted_thinking") == 0) {
            continue; /* the model's earlier reasoning: not replayed */
        } else {
            gw_client_problem(why, bp, "%s: blocks of type '%.40s' are not supported in a%s %s message.",
                    bp, type, assistant ? "n" : "", role);
            goto fail;
        }
        json_array_append_new(parts, part);
    }
    if (json_array_size(parts) > 0 || json_array_size(calls) > 0) {
        json_t *msg = json_pack("{s:s}", "role", role);

        if (assistant) { /* OpenAI's assistant content is text */
            json_t *text = json_string("");
            json_t *p;

            json_array_foreach(parts, i, p)
                text = joined(text, "", json_string_value(json_object_get(p, "text")));
            json_object_set_new(msg, "content", json_array_size(parts) > 0 ? text : json_null());
            if (json_array_size(parts) == 0)
                json_decref(text);
            if (json_array_size(calls) > 0)
                json_object_set(msg, "tool_calls", calls);
        } else {
            json_object_set(msg, "content", parts);
        }
        json_array_append_new(out, msg);
    }
    json_decref(parts);
    json_decref(calls);
    return true;
fail:
    json_decref(parts);
    json_decref(calls);
    return false;
}

/* system: a string or text blocks, as the first message. */
static bool add_system(json_t *sys, json_t *out, gw_client_problem_t *why)
{
    json_t *text, *b;
    size_t i;

    if (sys == NULL || json_is_null(sys))
        return true;
    if (json_is_string(sys)) {
        json_array_append_new(out, json_pack("{s:s,s:O}", "role", "system", "content", sys));
        return true;
    }
    if (!json_is_array(sys))
        return gw_client_problem(why, "system", "'system' must be a string or an array of text blocks."),
               false;
    text = json_string("");
    json_array_foreach(sys, i, b) {
        if (!is_type(b, "text") || !json_is_string(json_object_get(b, "text"))) {
            json_decref(text);
            return gw_client_problem(why, "system", "system[%zu] must be a text block.", i), false;
        }
        text = joined(text, "\n\n", json_string_value(json_object_get(b, "text")));
    }
    json_array_append_new(out, json_pack("{s:s,s:o}", "role", "system", "content", text));
    return true;
}

/* Client tools as OpenAI function tools; server tools cannot run here. */
static json_t *tools_of(json_t *tools, gw_client_problem_t *why)
{
    json_t *out = json_array();
    json_t *t;
    size_t i;

    if (!json_is_array(tools)) {
        json_decref(out);
        return gw_client_problem(why, "tools", "'tools' must be an array.");
    }
    json_array_foreach(tools, i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        json_t *schema = json_object_get(t, "input_schema");
        json_t *desc = json_object_get(t, "description");
        json_t *fn;

        if (type != NULL && strcmp(type, "custom") != 0) {
            json_decref(out);
            return gw_client_problem(why, "tools",
                           "tools[%zu]: the server tool '%.40s' cannot run through this "
                           "gateway; declare your own tools (name, description, input_schema).",
                           i, type);
        }
        if (!json_is_string(json_object_get(t, "name")) || !json_is_object(schema)) {
            json_decref(out);
            return gw_client_problem(why, "tools", "tools[%zu] needs a name and an input_schema object.",
                           i);
        }
        fn = json_pack("{s:O,s:O}", "name", json_object_get(t, "name"), "parameters", schema);
        if (json_is_string(desc))
            json_object_set(fn, "description", desc);
        json_array_append_new(out, json_pack("{s:s,s:o}", "type", "function", "function", fn));
    }
    return out;
}

/* tool_choice onto the chat request. */
static bool set_tool_choice(json_t *tc, json_t *chat, gw_client_problem_t *why)
{
    const char *type = json_string_value(json_object_get(tc, "type"));

    if (tc == NULL)
        return true;
    if (type == NULL)
        return gw_client_problem(why, "tool_choice", "'tool_choice' needs a type."), false;
    if (strcmp(type, "auto") == 0)
        json_object_set_new(chat, "tool_choice", json_string("auto"));
    else if (strcmp(type, "any") == 0)
        json_object_set_new(chat, "tool_choice", json_string("required"));
    else if (strcmp(type, "none") == 0)
        json_object_set_new(chat, "tool_choice", json_string("none"));
    else if (strcmp(type, "tool") == 0 && json_is_string(json_object_get(tc, "name")))
        json_object_set_new(chat, "tool_choice",
                            json_pack("{s:s,s:{s:O}}", "type", "function", "function", "name",
                                      json_object_get(tc, "name")));
    else
        return gw_client_problem(why, "tool_choice",
                       "'tool_choice' is {\"type\": \"auto\" | \"any\" | \"none\"} or "
                       "{\"type\": \"tool\", \"name\": …}."), false;
    if (json_is_true(json_object_get(tc, "disable_parallel_tool_use")))
        json_object_set_new(chat, "parallel_tool_calls", json_false());
    return true;
}

/* The sampling and length fields, checked and copied. */
static bool copy_scalars(json_t *body, json_t *chat, bool for_count, gw_client_problem_t *why)
{
    json_t *mt = json_object_get(body, "max_tokens");
    json_t *stop = json_object_get(body, "stop_sequences");
    json_t *stream = json_object_get(body, "stream");
    static const char *const numbers[] = {"temperature", "top_p"};

    if (!for_count) {
        if (!json_is_integer(mt) || json_integer_value(mt) < 1)
            return gw_client_problem(why, "max_tokens", "'max_tokens' is required: a whole number of at "
                                              "least 1."), false;
        json_object_set(chat, "max_tokens", mt);
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(numbers); i++) {
        json_t *v = json_object_get(body, numbers[i]);

        if (v == NULL)
            continue;
        if (!json_is_number(v))
            return gw_client_problem(why, numbers[i], "'%s' must be a number.", numbers[i]), false;
        json_object_set(chat, numbers[i], v);
    }
    if (stop != NULL) {
        json_t *s;
        size_t i;

        if (!json_is_array(stop))
            return gw_client_problem(why, "stop_sequences", "'stop_sequences' must be an array of "
                                                  "strings."), false;
        json_array_foreach(stop, i, s) {
            if (!json_is_string(s))
                return gw_client_problem(why, "stop_sequences", "'stop_sequences' must be an array of "
                                                      "strings."), false;
        }
        if (json_array_size(stop) > 0)
            json_object_set(chat, "stop", stop);
    }
    if (stream != NULL && !json_is_boolean(stream))
        return gw_client_problem(why, "stream", "'stream' must be true or false."), false;
    if (json_is_true(stream) && !for_count) {
        json_object_set_new(chat, "stream", json_true());
        json_object_set_new(chat, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return true;
}

json_t *gw_anthropic_to_chat(json_t *body, bool for_count, gw_client_problem_t *why)
{
    json_t *model = json_object_get(body, "model");
    json_t *msgs = json_object_get(body, "messages");
    json_t *chat, *out, *m;
    size_t i;

    if (!json_is_string(model) || json_string_length(model) == 0)
        return gw_client_problem(why, "model", "'model' is required.");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return gw_client_problem(why, "messages", "'messages' must be a non-empty array.");
    chat = json_pack("{s:O}", "model", model);
    out = json_array();
    json_object_set_new(chat, "messages", out);
    if (!add_system(json_object_get(body, "system"), out, why))
        goto fail;
    json_array_foreach(msgs, i, m) {
        if (!add_message(m, i, out, why))
            goto fail;
    }
    if (json_object_get(body, "tools") != NULL &&
        json_array_size(json_object_get(body, "tools")) > 0) {
        json_t *tools = tools_of(json_object_get(body, "tools"), why);

        if (tools == NULL)
            goto fail;
        json_object_set_new(chat, "tools", tools);
    } else if (json_object_get(body, "tools") != NULL &&
               !json_is_array(json_object_get(body, "tools"))) {
        gw_client_problem(why, "tools", "'tools' must be an array.");
        goto fail;
    }
    if (!set_tool_choice(json_object_get(body, "tool_choice"), chat, why) ||
        !copy_scalars(body, chat, for_count, why))
        goto fail;
    return chat;
fail:
    json_decref(chat);
    return NULL;
}

const char *gw_anthropic_stop_reason(const char *finish_reason)
{
    if (finish_reason == NULL || strcmp(finish_reason, "stop") == 0)
        return "end_turn";
    if (strcmp(finish_reason, "length") == 0)
        return "max_tokens";
    if (strcmp(finish_reason, "tool_calls") == 0 || strcmp(finish_reason, "function_call") == 0)
        return "tool_use";
    if (strcmp(finish_reason, "content_filter") == 0)
        return "refusal";
    return "end_turn";
}
