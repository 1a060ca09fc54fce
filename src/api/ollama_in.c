/*
 * Ollama requests as OpenAI chat requests (see ollama_in.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ollama_in.h"


void gw_ollama_model_name(const char *name, char *out, size_t n)
{
    size_t len = strlen(name);

    if (len > 7 && strcmp(name + len - 7, ":latest") == 0)
        len -= 7;
    snprintf(out, n, "%.*s", (int)len, name);
}

/* Ollama sends images as bare base64; the media type is read from the first
 * bytes' encoding (PNG, JPEG, GIF, WebP), PNG otherwise. */
static const char *image_type(const char *b64)
{
    if (strncmp(b64, "/9j/", 4) == 0)
        return "image/jpeg";
    if (strncmp(b64, "R0lG", 4) == 0)
        return "image/gif";
    if (strncmp(b64, "UklG", 4) == 0)
        return "image/webp";
    return "image/png";
}

/* content plus images as OpenAI parts (a plain string without images). */
static json_t *content_of(json_t *text, json_t *images, const char *where,
                          gw_client_problem_t *why)
{
    json_t *parts, *img;
    size_t i;

    if (text != NULL && !json_is_string(text))
        return gw_client_problem(why, NULL, "%s: content must be a string", where);
    if (images == NULL || json_is_null(images) || json_array_size(images) == 0)
        return json_string(text != NULL ? json_string_value(text) : "");
    if (!json_is_array(images))
        return gw_client_problem(why, NULL, "%s: images must be an array of base64 strings", where);
    parts = json_array();
    if (text != NULL && json_string_length(text) > 0)
        json_array_append_new(parts, json_pack("{s:s,s:O}", "type", "text", "text", text));
    json_array_foreach(images, i, img) {
        json_t *url;

        if (!json_is_string(img) || json_string_length(img) == 0 ||
            (url = json_sprintf("data:%s;base64,%s", image_type(json_string_value(img)),
                                json_string_value(img))) == NULL) {
            json_decref(parts);
            return gw_client_problem(why, NULL, "%s: images[%zu] must be a base64 string", where, i);
        }
        json_array_append_new(parts, json_pack("{s:s,s:{s:o}}", "type", "image_url",
                                               "image_url", "url", url));
    }
    return parts;
}

/* An assistant turn's tool calls ({function:{name, arguments:{…}}}) in
 * OpenAI's shape, with ids the following tool messages are matched to. */
static json_t *calls_of(json_t *calls, size_t mi, gw_client_problem_t *why)
{
    json_t *out = json_array();
    json_t *c;
    size_t i;

    json_array_foreach(calls, i, c) {
        json_t *fn = json_object_get(c, "function");
        json_t *args = json_object_get(fn, "arguments");
        char *text = json_is_object(args) ? json_dumps(args, JSON_COMPACT)
                     : json_is_string(args) ? strdup(json_string_value(args)) : NULL;
        char id[48];

        if (!json_is_string(json_object_get(fn, "name")) || text == NULL) {
            free(text);
            json_decref(out);
            return gw_client_problem(why, NULL, "messages[%zu].tool_calls[%zu] needs function.name and "
                                "function.arguments", mi, i);
        }
        snprintf(id, sizeof(id), "call_%zu_%zu", mi, i);
        json_array_append_new(out, json_pack("{s:s,s:s,s:{s:O,s:s}}", "id", id, "type",
                                             "function", "function", "name",
                                             json_object_get(fn, "name"), "arguments", text));
        free(text);
    }
    return out;
}

/* The id of the call a tool message answers: by tool_name among the last
 * assistant turn's calls, else the next one not answered yet. */
static const char *answered_call(json_t *calls, json_t *used, const char *tool_name)
{
    json_t *c;
    size_t i;

    json_array_foreach(calls, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *name = json_string_value(json_object_get(json_object_get(c, "function"),
                                                             "name"));

        if (json_object_get(used, id) != NULL)
            continue;
        if (tool_name == NULL || (name != NULL && strcmp(name, tool_name) == 0)) {
            json_object_set_new(used, id, json_true());
            return id;
        }
    }
    return NULL;
}

static bool add_messages(json_t *msgs, json_t *out, gw_client_problem_t *why)
{
    json_t *last_calls = NULL; /* borrowed from out */
    json_t *used = json_object();
    json_t *m;
    size_t i;

    json_array_foreach(msgs, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        char where[32];
        json_t *msg, *content;

        snprintf(where, sizeof(where), "messages[%zu]", i);
        if (!json_is_object(m) || role == NULL ||
            (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 &&
             strcmp(role, "assistant") != 0 && strcmp(role, "tool") != 0)) {
            gw_client_problem(why, NULL, "%s: role must be system, user, assistant or tool", where);
            goto fail;
        }
        content = content_of(json_object_get(m, "content"), json_object_get(m, "images"),
                             where, why);
        if (content == NULL)
            goto fail;
        msg = json_pack("{s:s,s:o}", "role", role, "content", content);
        if (strcmp(role, "assistant") == 0 &&
            json_array_size(json_object_get(m, "tool_calls")) > 0) {
            json_t *calls = calls_of(json_object_get(m, "tool_calls"), i, why);

            if (calls == NULL) {
                json_decref(msg);
                goto fail;
            }
            json_object_set_new(msg, "tool_calls", calls);
            last_calls = calls;
            json_object_clear(used);
        } else if (strcmp(role, "tool") == 0) {
            const char *id = answered_call(last_calls, used,
                                           json_string_value(json_object_get(m, "tool_name")));

            if (id == NULL) {
                json_decref(msg);
                gw_client_problem(why, NULL, "%s: a tool message must follow an assistant message with "
                             "tool_calls it answers", where);
                goto fail;
            }
            json_object_set_new(msg, "tool_call_id", json_string(id));
        }
        json_array_append_new(out, msg);
    }
    json_decref(used);
    return true;
fail:
    json_decref(used);
    return false;
}

/* format, options and stream onto the chat request. */
static bool add_settings(json_t *body, json_t *chat, gw_client_problem_t *why)
{
    json_t *format = json_object_get(body, "format");
    json_t *opts = json_object_get(body, "options");
    json_t *stream = json_object_get(body, "stream");
    static const char *const numbers[] = {"temperature", "top_p", "presence_penalty",
                                          "frequency_penalty"};
    json_t *v;

    if (format != NULL && !json_is_null(format) &&
        !(json_is_string(format) && json_string_length(format) == 0)) {
        if (json_is_string(format) && strcmp(json_string_value(format), "json") == 0)
            json_object_set_new(chat, "response_format", json_pack("{s:s}", "type",
                                                                   "json_object"));
        else if (json_is_object(format))
            json_object_set_new(chat, "response_format",
                                json_pack("{s:s,s:{s:s,s:O}}", "type", "json_schema",
                                          "json_schema", "name", "format", "schema", format));
        else
            return gw_client_problem(why, NULL, "format must be \"json\" or a JSON schema object"), false;
    }
    if (opts != NULL && !json_is_null(opts) && !json_is_object(opts))
        return gw_client_problem(why, NULL, "options must be an object"), false;
    for (size_t i = 0; i < GW_ARRAY_LEN(numbers); i++) {
        if ((v = json_object_get(opts, numbers[i])) == NULL)
            continue;
        if (!json_is_number(v))
            return gw_client_problem(why, NULL, "options.%s must be a number", numbers[i]), false;
        json_object_set(chat, numbers[i], v);
    }
    if ((v = json_object_get(opts, "seed")) != NULL) {
        if (!json_is_integer(v))
            return gw_client_problem(why, NULL, "options.seed must be an integer"), false;
        json_object_set(chat, "seed", v);
    }
    if ((v = json_object_get(opts, "num_predict")) != NULL) {
        if (!json_is_integer(v))
            return gw_client_problem(why, NULL, "options.num_predict must be an integer"), false;
        if (json_integer_value(v) > 0) /* -1, -2: as long as it takes */
            json_object_set(chat, "max_tokens", v);
    }
    if ((v = json_object_get(opts, "stop")) != NULL) {
        json_t *s;
        size_t i;

        if (json_is_string(v))
            v = json_pack("[O]", v);
        else if (json_is_array(v))
            json_incref(v);
        else
            return gw_client_problem(why, NULL, "options.stop must be a string or an array of strings"), false;
        json_array_foreach(v, i, s) {
            if (!json_is_string(s)) {
                json_decref(v);
                return gw_client_problem(why, NULL, "options.stop must be a string or an array of strings"),
                       false;
            }
        }
        json_object_set_new(chat, "stop", v);
    }
    if (stream != NULL && !json_is_boolean(stream))
        return gw_client_problem(why, NULL, "stream must be true or false"), false;
    if (stream == NULL || json_is_true(stream)) { /* Ollama streams unless told not to */
        json_object_set_new(chat, "stream", json_true());
        json_object_set_new(chat, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return true;
}

static json_t *new_chat(json_t *body, gw_client_problem_t *why)
{
    json_t *model = json_object_get(body, "model");
    char name[256];

    if (!json_is_string(model) || json_string_length(model) == 0)
        return gw_client_problem(why, NULL, "model is required");
    gw_ollama_model_name(json_string_value(model), name, sizeof(name));
    return json_pack("{s:s,s:[]}", "model", name, "messages");
}

json_t *gw_ollama_chat_to_openai(json_t *body, gw_client_problem_t *why)
{
    json_t *chat = new_chat(body, why);
    json_t *msgs = json_object_get(body, "messages");
    json_t *tools = json_object_get(body, "tools");

    if (chat == NULL)
        return NULL;
    if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
        gw_client_problem(why, NULL, "messages must be a non-empty array");
        goto fail;
    }
    if (!add_messages(msgs, json_object_get(chat, "messages"), why))
        goto fail;
    if (tools != NULL && !json_is_null(tools)) {
        if (!json_is_array(tools)) {
            gw_client_problem(why, NULL, "tools must be an array");
            goto fail;
        }
        if (json_array_size(tools) > 0) /* Ollama's tools are OpenAI's */
            json_object_set(chat, "tools", tools);
    }
    if (!add_settings(body, chat, why))
        goto fail;
    return chat;
fail:
    json_decref(chat);
    return NULL;
}

json_t *gw_ollama_generate_to_openai(json_t *body, gw_client_problem_t *why)
{
    json_t *chat = new_chat(body, why);
    json_t *msgs = chat != NULL ? json_object_get(chat, "messages") : NULL;
    json_t *system = json_object_get(body, "system");
    json_t *prompt = json_object_get(body, "prompt");
    json_t *content;

    if (chat == NULL)
        return NULL;
    if (json_object_get(body, "suffix") != NULL && !json_is_null(json_object_get(body, "suffix")) &&
        json_string_length(json_object_get(body, "suffix")) > 0) {
        gw_client_problem(why, NULL, "suffix (fill-in-the-middle) is not supported here");
        goto fail;
    }
    if (system != NULL && !json_is_null(system)) {
        if (!json_is_string(system)) {
            gw_client_problem(why, NULL, "system must be a string");
            goto fail;
        }
        json_array_append_new(msgs, json_pack("{s:s,s:O}", "role", "system", "content", system));
    }
    if ((content = content_of(prompt, json_object_get(body, "images"), "prompt", why)) == NULL)
        goto fail;
    json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", "user", "content", content));
    if (!add_settings(body, chat, why))
        goto fail;
    return chat;
fail:
    json_decref(chat);
    return NULL;
}
