/*
 * The fallback loop of one proxied chat request: pick the next free
 * (model, key) from the plan, encode the call with the provider's dialect,
 * run it on the upstream client, and either deliver the answer (whole, or
 * streamed event by event) or classify the failure, cool down what it
 * blames and try the next candidate, up to GW_MAX_ATTEMPTS. Nothing is sent
 * to the client before a candidate produced a real answer, so failures
 * before that point stay invisible; after it, a failing upstream ends the
 * stream with an OpenAI-style error event and [DONE].
 */
#ifndef GW_API_PROXY_H
#define GW_API_PROXY_H

#include <jansson.h>

#include "api/gateway.h"
#include "providers/dialect.h"

/* What a non-chat call (embeddings, images, audio, realtime tokens) plugs
 * into the loop: how to encode it for a candidate and what to answer from
 * a 2xx body. Failures, cooldowns, fallover, headers and the request log
 * stay the loop's. */
typedef struct gw_reply {
    char content_type[96];
    gw_buf_t body;
} gw_reply_t;

/* One proxied request, as ops see it (to report an answer rendered later). */
typedef struct proxy gw_proxy_t;

typedef struct gw_proxy_op {
    /* May this candidate serve the call (NULL: any)? E.g. embeddings stay
     * in the vector space of the first candidate tried. */
    bool (*accept)(void *ctx, const gw_cand_t *c);
    /* Encodes the call (dialect->media_request semantics: GW_DECLINED skips
     * the candidate; err->http_status 400 refuses the request). */
    int (*request)(void *ctx, const gw_cand_t *c, const gw_dialect_t *d, gw_http_out_t *out,
                   gw_err_t *err);
    /* A 2xx answer: 0 with reply filled (sent with status 200), GW_AGAIN to
     * call the same candidate once more (one image per call), GW_DECLINED
     * (err set) to fail over, or GW_PENDING: the op keeps reply and reports
     * through gw_proxy_answer_done() later (work done off the loop). */
    int (*answer)(void *ctx, gw_proxy_t *px, const gw_cand_t *c, const gw_dialect_t *d,
                  const char *content_type, gw_str_t body, gw_reply_t *reply, gw_tokens_t *usage,
                  gw_err_t *err);
    void (*free)(void *ctx);
} gw_proxy_op_t;

typedef struct gw_proxy_spec {
    const char *endpoint;     /* for the request log */
    const char *model;        /* as the client named it */
    gw_need_t need;
    json_t *req;              /* validated request; the proxy takes the reference */
    bool stream;
    bool include_usage;
    bool sticky;              /* remember the serving model under digest */
    unsigned char digest[32];
    const gw_proxy_op_t *op;  /* NULL: chat; else the op runs the calls */
    void *op_ctx;             /* the proxy calls op->free(op_ctx) at the end */
} gw_proxy_spec_t;

void gw_proxy_chat(gw_gateway_t *gw, gw_req_t *req, gw_proxy_spec_t *spec);

/* Completes an answer an op returned GW_PENDING for: rc, reply, usage and
 * err as answer() would have given them (reply is taken). Loop thread only. */
void gw_proxy_answer_done(gw_proxy_t *px, int rc, gw_reply_t *reply, const gw_tokens_t *usage,
                          const gw_err_t *err);

/* Whether a request of this size (the token estimate) has its upstream body
 * written on the thread pool: dialects are asked to defer it (defer_body). */
bool gw_proxy_body_off_loop(int64_t prompt_tokens);

#endif
