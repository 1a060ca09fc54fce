/*
 * The client side of a chat answer. The chat relay (chat_relay.c) reads every
 * provider into OpenAI chat completions and chunks; a front shapes them for
 * the API the client called: OpenAI's chat (front_openai.c), Anthropic's
 * Messages, Ollama's chat and generate. A front sees only OpenAI shapes, so a
 * new client API needs no provider code, and a new provider no client code.
 */
#ifndef GW_API_FRONT_H
#define GW_API_FRONT_H

#include <jansson.h>

#include "core/buf.h"
#include "providers/dialect.h"

typedef struct gw_front_ops {
    /* Content type of a streamed answer ("text/event-stream", NDJSON…). */
    const char *stream_type;
    /* A whole answer: the chat.completion (borrowed) in the client's shape
     * (new reference), with what it used. NULL op: sent as it is. */
    json_t *(*whole)(void *ctx, json_t *completion, const gw_tokens_t *usage);
    /* A streamed chunk (borrowed), encoded onto out. 0, or GW_ETOOBIG. */
    int (*chunk)(void *ctx, json_t *chunk, gw_buf_t *out);
    /* The end of a committed stream, onto out: complete (ok, with usage), or
     * broken off (why). last is a chunk like the upstream's (id, created,
     * model) with no choices, for fronts that echo them. */
    void (*end)(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage, const char *why,
                gw_buf_t *out);
    void (*free)(void *ctx);
} gw_front_ops_t;

typedef struct gw_front {
    const gw_front_ops_t *ops;
    void *ctx;                /* ops->free(ctx) when the request ends */
} gw_front_t;

/* OpenAI's chat completions: answers as they are; a stream of "data:" chunks
 * ending in [DONE]; include_usage adds the usage chunk. */
gw_front_t gw_front_openai(bool include_usage);

/* The end of an OpenAI-style stream (chat, legacy completions): the usage
 * chunk on last when asked for, or the error event when it broke, then
 * [DONE]. */
void gw_front_openai_end(bool ok, json_t *last, bool include_usage, const gw_tokens_t *usage,
                         const char *why, gw_buf_t *out);
/* {prompt_tokens, completion_tokens, total_tokens} (new reference). */
json_t *gw_front_usage_json(const gw_tokens_t *u);

/* "data: <json>\n\n" onto out, in place (0, or GW_ETOOBIG with out unchanged). */
int gw_front_put_data(gw_buf_t *out, json_t *obj);
/* "<json>\n" onto out (NDJSON; 0, or GW_ETOOBIG, out unchanged). */
int gw_front_put_line(gw_buf_t *out, json_t *obj);
/* "event: <name>\ndata: <json>\n\n" onto out (0, or GW_ETOOBIG, out unchanged). */
int gw_front_put_event(gw_buf_t *out, const char *name, json_t *obj);

#endif
