/*
 * The fallback engine: runs one client request over the plan's candidates.
 * For each free (model, key) it asks the op to build the call, runs it on the
 * upstream client, and either hands a 2xx answer to the op (whole, or streamed
 * piece by piece) or classifies the failure, cools down what it blames and
 * tries the next candidate, up to GW_MAX_ATTEMPTS. Nothing reaches the client
 * before a candidate produced a real answer, so failures before that point
 * stay invisible. The engine owns the plan, charges and settles the caps,
 * writes the routing headers and the request log, and answers when every
 * candidate is used up.
 *
 * What differs per endpoint is an op (gw_fallback_op_t): chat (chat_relay.c)
 * and the media calls (media.c).
 */
#ifndef GW_API_FALLBACK_H
#define GW_API_FALLBACK_H

#include <jansson.h>

#include "api/gateway.h"
#include "providers/dialect.h"

/* One running request, as ops see it. */
typedef struct gw_fallback gw_fallback_t;

/* What goes to the client for a whole answer: sent with status 200. */
typedef struct gw_reply {
    char content_type[96];
    gw_buf_t body;
} gw_reply_t;

/* A candidate's whole 2xx answer, handed to op->answer, which fills the
 * second half. The body stays untouched until the op has answered. */
typedef struct gw_answer {
    const gw_cand_t *cand;
    const gw_dialect_t *dialect;
    const gw_call_t *call;     /* as the request was built */
    const char *content_type;  /* "" when the upstream sent none */
    gw_str_t body;
    /* filled by the op */
    gw_reply_t reply;
    gw_tokens_t usage;
    gw_err_t err;              /* why, on GW_DECLINED */
    json_t *json;              /* the body as JSON when the op read it (taken); lets a
                                  declined answer be classified without reading it twice */
    bool json_read;            /* json is set (NULL there: the body was not JSON) */
} gw_answer_t;

typedef struct gw_fallback_op {
    /* May this candidate serve the call (NULL: any)? E.g. embeddings stay in
     * the vector space of the first candidate tried. */
    bool (*accept)(void *ctx, const gw_cand_t *c);
    /* Work before the candidate's call is built (NULL: none): 0 to go on,
     * GW_PENDING when it runs in the background and ends in
     * gw_fallback_resume() or gw_fallback_refuse(). */
    int (*prepare)(void *ctx, gw_fallback_t *fb, const gw_call_t *call, const gw_dialect_t *d);
    /* Encodes the call. GW_DECLINED skips the candidate; err->http_status 400
     * refuses the request. */
    int (*request)(void *ctx, const gw_call_t *call, const gw_dialect_t *d, gw_http_out_t *out,
                   gw_err_t *err);
    /* A whole 2xx answer: 0 with a->reply filled, GW_AGAIN to call the same
     * candidate once more (one image per call), GW_DECLINED (a->err set) to
     * fail over, or GW_PENDING: the op finishes later with
     * gw_fallback_answer_done() (work done off the loop). */
    int (*answer)(void *ctx, gw_fallback_t *fb, gw_answer_t *a);
    /* Streamed answers (NULL: the op takes whole answers only). open starts a
     * 2xx streamed body; data gets its bytes (0 go on, GW_AGAIN pause, else
     * stop reading); close ends it, true when the op settled the attempt
     * (gw_fallback_stream_end, or a failure reported), false to let the engine
     * classify the transfer's outcome. */
    void (*stream_open)(void *ctx, gw_fallback_t *fb, const gw_call_t *call,
                        const gw_dialect_t *d);
    int (*stream_data)(void *ctx, const char *data, size_t n);
    bool (*stream_close)(void *ctx, gw_xfer_outcome_t outcome);
    void (*free)(void *ctx);
} gw_fallback_op_t;

/* A request header: serve the named model or fail, never another model. */
#define GW_HEADER_NO_FALLOVER "X-FreeLLMAPI-No-Fallover"

typedef struct gw_fallback_spec {
    const char *endpoint;     /* for the request log */
    const char *model;        /* as the client named it */
    const char *input_param;  /* the field that holds the input: "messages", "input" */
    gw_need_t need;
    json_t *req;              /* validated request; the engine takes the reference */
    bool stream;
    const char *stream_type;  /* content type of a streamed answer (NULL: SSE) */
    bool sticky;              /* keep the conversation (digest) on one model */
    unsigned char digest[32];
    const gw_fallback_op_t *op;
    void *op_ctx;             /* the engine calls op->free(op_ctx) at the end */
} gw_fallback_spec_t;

/* Runs the request to its answer. */
void gw_fallback_run(gw_gateway_t *gw, gw_req_t *req, gw_fallback_spec_t *spec);
/* The same with no client to answer (whole answers only): the op's answer
 * is its own business, and done(ctx, status) says how it ended (200, or the
 * status the client would have had). id names the client request in logs.
 * Returns the run, or NULL when it ended already (done was called). */
gw_fallback_t *gw_fallback_run_detached(gw_gateway_t *gw, const char *id,
                                        gw_fallback_spec_t *spec,
                                        void (*done)(void *ctx, int status), void *ctx);
/* Ends a detached run early (its done is not called). */
void gw_fallback_cancel(gw_fallback_t *fb);

/* Whether a request of this size (the token estimate) has its upstream body
 * written on the thread pool: dialects are asked to defer it (defer_body). */
bool gw_fallback_body_off_loop(int64_t prompt_tokens);

/* ---- for ops; loop thread only ------------------------------------------------ */

/* Completes an answer op->answer returned GW_PENDING for, with rc as answer()
 * would have returned it. */
void gw_fallback_answer_done(gw_fallback_t *fb, int rc, gw_answer_t *a);
/* Completes a GW_PENDING prepare: the candidate's call is built now. */
void gw_fallback_resume(gw_fallback_t *fb);
/* Ends the request with an OpenAI-style error of the request's own making
 * (e.g. 400 for an image URL that cannot be fetched). */
void gw_fallback_refuse(gw_fallback_t *fb, int status, const char *code, const char *param,
                        const char *log_class, const char *msg);

/* A streamed answer is real: headers go out (200, text/event-stream) and
 * there is no fallover from here on. */
void gw_fallback_commit(gw_fallback_t *fb);
bool gw_fallback_committed(const gw_fallback_t *fb);
/* Writes bytes of a committed stream; GW_AGAIN when the client is slow. */
int gw_fallback_stream_write(gw_fallback_t *fb, const char *data, size_t n);
/* Ends a committed stream: ok when complete, with what it used. */
void gw_fallback_stream_end(gw_fallback_t *fb, bool ok, const gw_tokens_t *usage);
/* The streamed attempt failed before commit with this error body (in-band
 * error event): classified like an error answer. */
void gw_fallback_stream_failed(gw_fallback_t *fb, json_t *error_body);
/* True once the request is answered (or the client left): stop working on it. */
bool gw_fallback_done(const gw_fallback_t *fb);
/* The model answering the attempt in flight. */
const gw_model_t *gw_fallback_model(const gw_fallback_t *fb);

#endif
