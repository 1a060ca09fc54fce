/*
 * Anthropic's Messages API as a front (see front.h): a chat.completion becomes
 * a message with text and tool_use blocks; a stream of chunks becomes
 * message_start, content_block_start / _delta / _stop per block,
 * message_delta with the stop reason and usage, and message_stop, as
 * Anthropic's SDKs read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/anthropic_in.h"
#include "api/front_anthropic.h"

typedef enum { BLOCK_NONE, BLOCK_TEXT, BLOCK_TOOL } block_kind_t;

typedef struct anthropic {
    char id[48];                /* msg_<hex> */
    int64_t input_estimate;
    bool started;
    int blocks;                 /* blocks opened so far */
    block_kind_t open;          /* the block open now */
    int open_tool;              /* the OpenAI tool-call index of an open tool block */
    const char *stop_reason;
} anthropic_t;

static json_t *usage_json(const gw_tokens_t *u)
{
    return json_pack("{s:I,s:I}", "input_tokens", (json_int_t)u->prompt, "output_tokens",
                     (json_int_t)u->completion);
}

/* The tool call's arguments as an object ({} when they are not JSON). */
static json_t *input_of(json_t *call)
{
    const char *args = json_string_value(json_object_get(json_object_get(call, "function"),
                                                         "arguments"));
    json_t *in = args != NULL ? json_loads(args, 0, NULL) : NULL;

    if (!json_is_object(in)) {
        json_decref(in);
        in = json_object();
    }
    return in;
}

static json_t *anthropic_whole(void *ctx, json_t *completion, const gw_tokens_t *usage)
{
    anthropic_t *a = ctx;
    json_t *choice = json_array_get(json_object_get(completion, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    json_t *text = json_object_get(msg, "content");
    json_t *content = json_array();
    json_t *call;
    size_t i;

    if (json_is_string(text) && json_string_length(text) > 0)
        json_array_append_new(content, json_pack("{s:s,s:O}", "type", "text", "text", text));
    json_array_foreach(json_object_get(msg, "tool_calls"), i, call) {
        json_array_append_new(content,
                              json_pack("{s:s,s:O?,s:O?,s:o}", "type", "tool_use", "id",
                                        json_object_get(call, "id"), "name",
                                        json_object_get(json_object_get(call, "function"),
                                                        "name"),
                                        "input", input_of(call)));
    }
    return json_pack("{s:s,s:s,s:s,s:O?,s:o,s:s,s:n,s:o}", "id", a->id, "type", "message", "role",
                     "assistant", "model", json_object_get(completion, "model"), "content",
                     content, "stop_reason",
                     gw_anthropic_stop_reason(
                         json_string_value(json_object_get(choice, "finish_reason"))),
                     "stop_sequence", "usage", usage_json(usage));
}

static void close_block(anthropic_t *a, gw_buf_t *out)
{
    json_t *e;

    if (a->open == BLOCK_NONE)
        return;
    e = json_pack("{s:s,s:i}", "type", "content_block_stop", "index", a->blocks - 1);
    gw_front_put_event(out, "content_block_stop", e);
    json_decref(e);
    a->open = BLOCK_NONE;
}

static void open_block(anthropic_t *a, gw_buf_t *out, json_t *block /* taken */)
{
    json_t *e;

    close_block(a, out);
    e = json_pack("{s:s,s:i,s:o}", "type", "content_block_start", "index", a->blocks,
                  "content_block", block);
    gw_front_put_event(out, "content_block_start", e);
    json_decref(e);
    a->blocks++;
}

static void put_delta(anthropic_t *a, gw_buf_t *out, json_t *delta /* taken */)
{
    json_t *e = json_pack("{s:s,s:i,s:o}", "type", "content_block_delta", "index", a->blocks - 1,
                          "delta", delta);

    gw_front_put_event(out, "content_block_delta", e);
    json_decref(e);
}

static void tool_delta(anthropic_t *a, json_t *tc, gw_buf_t *out)
{
    json_t *fn = json_object_get(tc, "function");
    json_t *name = json_object_get(fn, "name");
    json_t *args = json_object_get(fn, "arguments");
    int index = (int)json_integer_value(json_object_get(tc, "index"));

    if (a->open != BLOCK_TOOL || a->open_tool != index) {
        char id[64];
        json_t *given = json_object_get(tc, "id");

        snprintf(id, sizeof(id), "toolu_%s_%d", a->id + 4, index);
        open_block(a, out, json_pack("{s:s,s:s,s:s,s:{}}", "type", "tool_use", "id",
                                     json_is_string(given) ? json_string_value(given) : id,
                                     "name", json_is_string(name) ? json_string_value(name) : "",
                                     "input"));
        a->open = BLOCK_TOOL;
        a->open_tool = index;
    }
    if (json_is_string(args) && json_string_length(args) > 0)
        put_delta(a, out, json_pack("{s:s,s:O}", "type", "input_json_delta", "partial_json",
                                    args));
}

static int anthropic_chunk(void *ctx, json_t *chunk, gw_buf_t *out)
{
    anthropic_t *a = ctx;
    json_t *choice = json_array_get(json_object_get(chunk, "choices"), 0);
    json_t *delta = json_object_get(choice, "delta");
    json_t *text = json_object_get(delta, "content");
    json_t *finish = json_object_get(choice, "finish_reason");
    json_t *tc;
    size_t i;

    if (!a->started) {
        gw_tokens_t u = {.prompt = a->input_estimate};
        json_t *e = json_pack("{s:s,s:{s:s,s:s,s:s,s:O?,s:[],s:n,s:n,s:o}}", "type",
                              "message_start", "message", "id", a->id, "type", "message", "role",
                              "assistant", "model", json_object_get(chunk, "model"), "content",
                              "stop_reason", "stop_sequence", "usage", usage_json(&u));

        gw_front_put_event(out, "message_start", e);
        json_decref(e);
        a->started = true;
    }
    if (json_is_string(text) && json_string_length(text) > 0) {
        if (a->open != BLOCK_TEXT) {
            open_block(a, out, json_pack("{s:s,s:s}", "type", "text", "text", ""));
            a->open = BLOCK_TEXT;
        }
        put_delta(a, out, json_pack("{s:s,s:O}", "type", "text_delta", "text", text));
    }
    json_array_foreach(json_object_get(delta, "tool_calls"), i, tc) tool_delta(a, tc, out);
    if (json_is_string(finish))
        a->stop_reason = gw_anthropic_stop_reason(json_string_value(finish));
    return 0;
}

static void anthropic_end(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                          const char *why, gw_buf_t *out)
{
    anthropic_t *a = ctx;
    json_t *e;

    (void)last;
    if (!ok) {
        e = json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error", "type", "api_error",
                      "message", why);
        gw_front_put_event(out, "error", e);
        json_decref(e);
        return;
    }
    close_block(a, out);
    e = json_pack("{s:s,s:{s:s,s:n},s:o}", "type", "message_delta", "delta", "stop_reason",
                  a->stop_reason != NULL ? a->stop_reason : "end_turn", "stop_sequence",
                  "usage", usage_json(usage));
    gw_front_put_event(out, "message_delta", e);
    json_decref(e);
    e = json_pack("{s:s}", "type", "message_stop");
    gw_front_put_event(out, "message_stop", e);
    json_decref(e);
}

static const gw_front_ops_t anthropic_ops = {
    .stream_type = "text/event-stream",
    .whole = anthropic_whole,
    .chunk = anthropic_chunk,
    .end = anthropic_end,
    .free = free,
};

gw_front_t gw_front_anthropic(const char *req_id, int64_t input_estimate)
{
    anthropic_t *a = gw_xcalloc(1, sizeof(*a));

    /* req_<hex> → msg_<hex>: the same id as the request log's */
    snprintf(a->id, sizeof(a->id), "msg_%s", strncmp(req_id, "req_", 4) == 0 ? req_id + 4 : req_id);
    a->input_estimate = input_estimate;
    return (gw_front_t){&anthropic_ops, a};
}
