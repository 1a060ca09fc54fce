/*
 * OpenAI's Responses API as a front (see front.h): a chat.completion becomes
 * a response object whose output holds a message item (output_text) and
 * function_call items; a stream becomes the Responses event sequence, each
 * event numbered: response.created, response.in_progress, then per item
 * response.output_item.added, (content_part.added, output_text.delta…,
 * output_text.done, content_part.done | function_call_arguments.delta…,
 * function_call_arguments.done), response.output_item.done, and
 * response.completed with usage; response.failed when the upstream breaks
 * off mid-stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/front_responses.h"
#include "core/clock.h"

typedef enum { ITEM_NONE, ITEM_MESSAGE, ITEM_CALL } item_kind_t;

typedef struct responses {
    char id[64];
    int64_t created;
    json_t *echo;            /* request fields repeated in the response object */
    gw_responses_done_fn done;
    void *done_ctx;
    void (*done_free)(void *);
    /* streaming */
    int64_t seq;
    bool started;
    json_t *output;           /* finished items */
    item_kind_t open;
    int open_tool;            /* the chat tool-call index of an open call item */
    json_t *item;             /* the open item */
    json_t *text;             /* its text or arguments so far (a string) */
    int nitems;
} responses_t;

static json_t *usage_json(const gw_tokens_t *u)
{
    return json_pack("{s:I,s:{s:i},s:I,s:{s:i},s:I}", "input_tokens", (json_int_t)u->prompt,
                     "input_tokens_details", "cached_tokens", 0, "output_tokens",
                     (json_int_t)u->completion, "output_tokens_details", "reasoning_tokens", 0,
                     "total_tokens", (json_int_t)(u->prompt + u->completion));
}

/* The response object: the echoed request fields, status, output, usage. */
static json_t *response_obj(responses_t *r, const char *status, json_t *model, json_t *output,
                            const gw_tokens_t *usage)
{
    json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:n,s:n,s:O?,s:O}", "id", r->id, "object",
                          "response", "created_at", (json_int_t)r->created, "status", status,
                          "error", "incomplete_details", "model", model, "output", output);

    json_object_update_missing(o, r->echo);
    json_object_set_new(o, "usage", usage != NULL ? usage_json(usage) : json_null());
    return o;
}

static json_t *message_item(const char *id, const char *status, json_t *parts)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "type", "message", "id", id, "status", status,
                     "role", "assistant", "content", parts);
}

static json_t *text_part(const char *text)
{
    return json_pack("{s:s,s:s,s:[],s:[]}", "type", "output_text", "text", text, "annotations",
                     "logprobs");
}

static json_t *call_item(const char *id, const char *status, json_t *call_id, json_t *name,
                         const char *args)
{
    return json_pack("{s:s,s:s,s:s,s:O,s:O,s:s}", "type", "function_call", "id", id, "status",
                     status, "call_id", call_id, "name", name, "arguments", args);
}

static void item_id(responses_t *r, const char *prefix, char *out, size_t n)
{
    /* resp_<hex> → msg_<hex>_<n>, fc_<hex>_<n> */
    snprintf(out, n, "%s_%s_%d", prefix, r->id + 5, r->nitems++);
}

static json_t *responses_whole(void *ctx, json_t *completion, const gw_tokens_t *usage)
{
    responses_t *r = ctx;
    json_t *msg = json_object_get(json_array_get(json_object_get(completion, "choices"), 0),
                                  "message");
    json_t *text = json_object_get(msg, "content");
    json_t *output = json_array();
    json_t *call, *resp;
    size_t i;
    char id[96];

    if (json_is_string(text) && json_string_length(text) > 0) {
        item_id(r, "msg", id, sizeof(id));
        json_array_append_new(output, message_item(id, "completed",
                                                   json_pack("[o]", text_part(json_string_value(text)))));
    }
    json_array_foreach(json_object_get(msg, "tool_calls"), i, call) {
        json_t *fn = json_object_get(call, "function");
        const char *args = json_string_value(json_object_get(fn, "arguments"));

        item_id(r, "fc", id, sizeof(id));
        json_array_append_new(output, call_item(id, "completed", json_object_get(call, "id"),
                                                json_object_get(fn, "name"),
                                                args != NULL ? args : "{}"));
    }
    resp = response_obj(r, "completed", json_object_get(completion, "model"), output, usage);
    json_decref(output);
    if (r->done != NULL)
        r->done(r->done_ctx, resp);
    return resp;
}

/* ---- streaming ---------------------------------------------------------------- */

static void emit(responses_t *r, gw_buf_t *out, const char *type, json_t *ev /* taken */)
{
    json_object_set_new(ev, "type", json_string(type));
    json_object_set_new(ev, "sequence_number", json_integer(r->seq++));
    gw_front_put_event(out, type, ev);
    json_decref(ev);
}

static int open_index(responses_t *r)
{
    return (int)json_array_size(r->output);
}

/* Finishes the open item: its done events, then it joins the output. */
static void close_item(responses_t *r, gw_buf_t *out)
{
    const char *id = json_string_value(json_object_get(r->item, "id"));
    const char *text = json_string_value(r->text);
    int at = open_index(r);

    if (r->open == ITEM_MESSAGE) {
        emit(r, out, "response.output_text.done",
             json_pack("{s:s,s:i,s:i,s:s,s:[]}", "item_id", id, "output_index", at,
                       "content_index", 0, "text", text, "logprobs"));
        emit(r, out, "response.content_part.done",
             json_pack("{s:s,s:i,s:i,s:o}", "item_id", id, "output_index", at, "content_index",
                       0, "part", text_part(text)));
        json_object_set_new(r->item, "content", json_pack("[o]", text_part(text)));
    } else if (r->open == ITEM_CALL) {
        emit(r, out, "response.function_call_arguments.done",
             json_pack("{s:s,s:i,s:s,s:O}", "item_id", id, "output_index", at, "arguments", text,
                       "name", json_object_get(r->item, "name")));
        json_object_set(r->item, "arguments", r->text);
    } else {
        return;
    }
    json_object_set_new(r->item, "status", json_string("completed"));
    emit(r, out, "response.output_item.done",
         json_pack("{s:i,s:O}", "output_index", at, "item", r->item));
    json_array_append_new(r->output, r->item);
    r->item = NULL;
    json_decref(r->text);
    r->text = NULL;
    r->open = ITEM_NONE;
}

static void open_item(responses_t *r, gw_buf_t *out, item_kind_t kind, json_t *item)
{
    close_item(r, out);
    r->open = kind;
    r->item = item;
    r->text = json_string("");
    emit(r, out, "response.output_item.added",
         json_pack("{s:i,s:O}", "output_index", open_index(r), "item", item));
    if (kind == ITEM_MESSAGE)
        emit(r, out, "response.content_part.added",
             json_pack("{s:O,s:i,s:i,s:o}", "item_id", json_object_get(item, "id"),
                       "output_index", open_index(r), "content_index", 0, "part", text_part("")));
}

static void append_text(responses_t *r, const char *more)
{
    json_t *joined = json_sprintf("%s%s", json_string_value(r->text), more);

    if (joined != NULL) {
        json_decref(r->text);
        r->text = joined;
    }
}

static void tool_delta(responses_t *r, json_t *tc, gw_buf_t *out)
{
    json_t *fn = json_object_get(tc, "function");
    json_t *args = json_object_get(fn, "arguments");
    int index = (int)json_integer_value(json_object_get(tc, "index"));
    char id[96];

    if (r->open != ITEM_CALL || r->open_tool != index) {
        json_t *call_id = json_object_get(tc, "id");
        json_t *given = json_object_get(fn, "name");
        json_t *cid = json_is_string(call_id) ? json_incref(call_id)
                                                : json_sprintf("call_%s_%d", r->id + 5, index);
        json_t *name = json_is_string(given) ? json_incref(given) : json_string("");

        item_id(r, "fc", id, sizeof(id));
        open_item(r, out, ITEM_CALL, call_item(id, "in_progress", cid, name, ""));
        json_decref(cid);
        json_decref(name);
        r->open_tool = index;
    }
    if (json_is_string(args) && json_string_length(args) > 0) {
        append_text(r, json_string_value(args));
        emit(r, out, "response.function_call_arguments.delta",
             json_pack("{s:O,s:i,s:O}", "item_id", json_object_get(r->item, "id"),
                       "output_index", open_index(r), "delta", args));
    }
}

static int responses_chunk(void *ctx, json_t *chunk, gw_buf_t *out)
{
    responses_t *r = ctx;
    json_t *delta = json_object_get(json_array_get(json_object_get(chunk, "choices"), 0),
                                    "delta");
    json_t *text = json_object_get(delta, "content");
    json_t *tc;
    size_t i;
    char id[96];

    if (!r->started) {
        json_t *none = json_array();
        json_t *resp = response_obj(r, "in_progress", json_object_get(chunk, "model"), none,
                                    NULL);

        json_decref(none);
        emit(r, out, "response.created", json_pack("{s:O}", "response", resp));
        emit(r, out, "response.in_progress", json_pack("{s:o}", "response", resp));
        r->started = true;
    }
    if (json_is_string(text) && json_string_length(text) > 0) {
        if (r->open != ITEM_MESSAGE) {
            item_id(r, "msg", id, sizeof(id));
            open_item(r, out, ITEM_MESSAGE, message_item(id, "in_progress", json_array()));
        }
        append_text(r, json_string_value(text));
        emit(r, out, "response.output_text.delta",
             json_pack("{s:O,s:i,s:i,s:O,s:[]}", "item_id", json_object_get(r->item, "id"),
                       "output_index", open_index(r), "content_index", 0, "delta", text,
                       "logprobs"));
    }
    json_array_foreach(json_object_get(delta, "tool_calls"), i, tc) tool_delta(r, tc, out);
    return 0;
}

static void responses_end(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                          const char *why, gw_buf_t *out)
{
    responses_t *r = ctx;
    json_t *resp;

    if (!ok) {
        resp = response_obj(r, "failed", json_object_get(last, "model"), r->output, usage);
        json_object_set_new(resp, "error", json_pack("{s:s,s:s}", "code", "server_error",
                                                     "message", why));
        emit(r, out, "response.failed", json_pack("{s:o}", "response", resp));
        return;
    }
    close_item(r, out);
    resp = response_obj(r, "completed", json_object_get(last, "model"), r->output, usage);
    if (r->done != NULL)
        r->done(r->done_ctx, resp);
    emit(r, out, "response.completed", json_pack("{s:o}", "response", resp));
}

static void responses_free(void *ctx)
{
    responses_t *r = ctx;

    json_decref(r->echo);
    json_decref(r->output);
    json_decref(r->item);
    json_decref(r->text);
    if (r->done_free != NULL)
        r->done_free(r->done_ctx);
    free(r);
}

static const gw_front_ops_t responses_ops = {
    .stream_type = "text/event-stream",
    .whole = responses_whole,
    .chunk = responses_chunk,
    .end = responses_end,
    .free = responses_free,
};

gw_front_t gw_front_responses(const char *id, json_t *echo, gw_responses_done_fn done,
                              void *done_ctx, void (*done_free)(void *))
{
    responses_t *r = gw_xcalloc(1, sizeof(*r));

    snprintf(r->id, sizeof(r->id), "%s", id);
    r->created = gw_now_ms() / 1000;
    r->echo = echo;
    r->done = done;
    r->done_ctx = done_ctx;
    r->done_free = done_free;
    r->output = json_array();
    return (gw_front_t){&responses_ops, r};
}
