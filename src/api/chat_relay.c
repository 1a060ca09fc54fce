/*
 * Chat as a fallback op (see chat_relay.h).
 */
#include "api/chat_relay.h"
#include "api/front.h"
#include "api/inline_images.h"
#include "api/chat_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json_buf.h"
#include "core/scrub.h"
#include "router/error_message.h"
#include "stream/sse.h"

#define MAX_SSE_EVENT (8u << 20)

typedef struct relay {
    gw_gateway_t *gw;
    gw_front_t front;         /* the client API's shape of the answer */
    int64_t prompt_estimate;
    gw_inliner_t *inliner;    /* remote images being fetched */
    gw_fallback_t *fb;
    /* the streamed attempt */
    const gw_call_t *call;
    const gw_dialect_t *dialect;
    gw_sse_decoder_t sse;
    bool sse_on;
    gw_stream_state_t st;
    json_t *inband;           /* an in-band error seen before commit */
    bool closed;
    gw_buf_t wbuf;
    json_t *proto;            /* id, created, model of the upstream's chunks */
    /* n > 1: one call per choice, collected here, then answered together */
    int n;                    /* choices in all */
    int per_prompt;           /* choices per prompt */
    json_t *prompts;          /* NULL, or the prompts choices are made for in turn */
    json_t *body;             /* the request (the engine's), its last message swapped per prompt */
    bool client_stream;       /* the client asked for a stream (served whole, as chunks) */
    char *suffix;             /* fill-in-the-middle: the text after the gap */
    json_t *choices;
    gw_tokens_t total;
    /* n > 1 off a several-choices dialect: the other choices asked for at
     * once by detached runs of the engine, each with its own plan, charges and
     * fallover (see start_subs) */
    struct sub *subs[GW_CHAT_MAX_N];
    int nsubs;
    int pending;              /* sub-runs still going */
    bool subs_started;
    gw_answer_t *parked;      /* the client's run's answer, waiting for them */
    json_t *parked_completion;
    int refs;                 /* the client's run and each sub-run */
    bool closing;             /* the client's run has ended */
    const char *req_id;
    gw_fallback_spec_t spec;  /* what sub-runs copy (req NULL) */
} relay_t;

typedef struct sub {
    relay_t *r;
    gw_fallback_t *fb;        /* NULL once it ended */
} sub_t;

static void relay_release(relay_t *r);
static int finish_choices(relay_t *r, json_t *completion, gw_answer_t *a);
static void start_subs(relay_t *r);

/* ---- building the call ---------------------------------------------------- */

/* Remote images were fetched for a dialect that needs them inline. */
static void on_inlined(void *ctx, bool ok, const char *msg)
{
    relay_t *r = ctx;

    r->inliner = NULL;
    if (ok)
        gw_fallback_resume(r->fb);
    else
        gw_fallback_refuse(r->fb, 400, "invalid_image_url", "messages", "bad_image_url", msg);
}

static int relay_prepare(void *ctx, gw_fallback_t *fb, const gw_call_t *call,
                         const gw_dialect_t *d)
{
    relay_t *r = ctx;

    if (!d->inline_images || !gw_inline_needed(call->req))
        return 0;
    r->fb = fb;
    r->inliner = gw_inline_start(r->gw, call->req, on_inlined, r);
    return GW_PENDING;
}

static int relay_request(void *ctx, const gw_call_t *call, const gw_dialect_t *d,
                         gw_http_out_t *out, gw_err_t *err)
{
    relay_t *r = ctx;
    int rc;

    if (r->suffix != NULL)
        return d->fim_request != NULL ? d->fim_request(call, r->suffix, out, err) : GW_DECLINED;
    /* n > 1 where one call makes one choice: the others are asked for at
     * once, each by a run of its own. */
    if (r->n > 1 && r->prompts == NULL && !d->several_choices && !r->subs_started)
        start_subs(r);
    /* n > 1 on a dialect that makes several choices in one call: ask for all
     * those still missing (one prompt only); "n" leaves the request after,
     * for a fallover to a dialect that does not. */
    if (r->n > 1 && d->several_choices && r->prompts == NULL && !r->subs_started) {
        json_object_set_new(call->req, "n",
                            json_integer((json_int_t)(r->n - (int)json_array_size(r->choices))));
        rc = d->chat_request(call, out, err);
        json_object_del(call->req, "n");
        return rc;
    }
    return d->chat_request(call, out, err);
}

/* ---- whole answers ---------------------------------------------------------- */

/* The n choices collected as the client's stream: per choice its content
 * and tool calls, then its finish, as chunks of one id (OpenAI interleaves
 * choices by index; here each comes whole in turn), then the front's end. */
static void choices_as_stream(relay_t *r, json_t *completion, gw_buf_t *out)
{
    json_t *choice;
    size_t i;

    json_array_foreach(json_object_get(completion, "choices"), i, choice) {
        json_t *msg = json_object_get(choice, "message");
        json_t *delta = json_pack("{s:s}", "role", "assistant");
        json_t *calls = json_deep_copy(json_object_get(msg, "tool_calls"));
        json_t *c, *chunk;
        size_t k;

        if (json_is_string(json_object_get(msg, "content")))
            json_object_set(delta, "content", json_object_get(msg, "content"));
        json_array_foreach(calls, k, c) json_object_set_new(c, "index", json_integer((json_int_t)k));
        if (json_array_size(calls) > 0)
            json_object_set(delta, "tool_calls", calls);
        json_decref(calls);
        chunk = json_pack("{s:O?,s:s,s:O?,s:O?,s:[{s:I,s:o,s:n}]}", "id",
                          json_object_get(completion, "id"), "object", "chat.completion.chunk",
                          "created", json_object_get(completion, "created"), "model",
                          json_object_get(completion, "model"), "choices", "index",
                          (json_int_t)i, "delta", delta, "finish_reason");
        r->front.ops->chunk(r->front.ctx, chunk, out);
        json_object_set_new(json_array_get(json_object_get(chunk, "choices"), 0), "delta",
                            json_object());
        json_object_set(json_array_get(json_object_get(chunk, "choices"), 0), "finish_reason",
                        json_object_get(choice, "finish_reason"));
        r->front.ops->chunk(r->front.ctx, chunk, out);
        json_decref(chunk);
    }
    {
        json_t *last = json_pack("{s:O?,s:s,s:O?,s:O?,s:[]}", "id", json_object_get(completion, "id"),
                                 "object", "chat.completion.chunk", "created",
                                 json_object_get(completion, "created"), "model",
                                 json_object_get(completion, "model"), "choices");
        r->front.ops->end(r->front.ctx, true, last, &r->total, NULL, out);
        json_decref(last);
    }
}

/* n > 1: keeps this call's choices; GW_AGAIN until there are n, then the
 * completion holding them all, with the usage of every call. */
static int collect_choice(relay_t *r, json_t **completion, const gw_tokens_t *usage)
{
    json_t *choice;
    size_t i;

    json_array_foreach(json_object_get(*completion, "choices"), i, choice) {
        if ((int)json_array_size(r->choices) < r->n) {
            json_t *c = json_deep_copy(choice);

            json_object_set_new(c, "index", json_integer((json_int_t)json_array_size(r->choices)));
            json_array_append_new(r->choices, c);
        }
    }
    r->total.prompt += usage->prompt;
    r->total.completion += usage->completion;
    if ((int)json_array_size(r->choices) < r->n) {
        if (r->prompts != NULL) { /* the next call asks for the next prompt's choice */
            json_t *msgs = json_object_get(r->body, "messages");
            json_t *prompt = json_array_get(r->prompts,
                                            json_array_size(r->choices) / (size_t)r->per_prompt);

            json_object_set(json_array_get(msgs, json_array_size(msgs) - 1), "content", prompt);
        }
        return GW_AGAIN;
    }
    json_object_set(*completion, "choices", r->choices);
    json_object_set_new(*completion, "usage", gw_front_usage_json(&r->total));
    return 0;
}

/* The answer parsed (a->json; NULL: not JSON), normalised by the dialect,
 * shaped by the front. */
static int render_completion(relay_t *r, gw_answer_t *a)
{
    json_t *completion = NULL;

    if (a->json == NULL) {
        gw_err_set(&a->err, GW_DECLINED, 0, "unreadable answer (truncated or not JSON)");
        return GW_DECLINED;
    }
    if (a->dialect->chat_response(a->call, a->json, &completion, &a->usage, &a->err) != 0)
        return GW_DECLINED; /* a->json stays for the engine to classify */
    if (r->n > 1 && collect_choice(r, &completion, &a->usage) == GW_AGAIN) {
        if (r->pending > 0) { /* the sub-runs bring the rest: wait for them */
            r->parked = a;
            r->parked_completion = completion;
            return GW_PENDING;
        }
        json_decref(completion);
        return GW_AGAIN;
    }
    return finish_choices(r, completion, a);
}

/* The answer with every choice in: the client's shape into a->reply. Takes
 * completion. */
static int finish_choices(relay_t *r, json_t *completion, gw_answer_t *a)
{
    int rc;

    if (r->n > 1 && r->client_stream) {
        choices_as_stream(r, completion, &a->reply.body);
        json_decref(completion);
        snprintf(a->reply.content_type, sizeof(a->reply.content_type), "%s",
                 r->front.ops->stream_type);
        return 0;
    }
    if (r->front.ops->whole != NULL) {
        json_t *shaped = r->front.ops->whole(r->front.ctx, completion, &a->usage);

        json_decref(completion);
        completion = shaped;
    }
    rc = completion != NULL ? gw_json_append(&a->reply.body, completion) : GW_ERR;
    json_decref(completion);
    if (rc != 0) {
        gw_err_set(&a->err, GW_DECLINED, 0, "could not encode the answer");
        return GW_DECLINED;
    }
    snprintf(a->reply.content_type, sizeof(a->reply.content_type), "application/json");
    return 0;
}

/* ---- n > 1: the other choices at once --------------------------------------------- */

/* A sub-run's whole answer: its choice joins the others. */
static int sub_answer(void *ctx, gw_fallback_t *fb, gw_answer_t *a)
{
    sub_t *sb = ctx;
    relay_t *r = sb->r;
    json_t *completion = NULL;

    (void)fb;
    a->json_read = true;
    a->json = json_loadb(a->body.ptr, a->body.len, 0, NULL);
    if (a->json == NULL ||
        a->dialect->chat_response(a->call, a->json, &completion, &a->usage, &a->err) != 0) {
        if (a->json == NULL)
            gw_err_set(&a->err, GW_DECLINED, 0, "unreadable answer (truncated or not JSON)");
        return GW_DECLINED;
    }
    if (!r->closing && (int)json_array_size(r->choices) < r->n) {
        json_t *c = json_deep_copy(json_array_get(json_object_get(completion, "choices"), 0));

        json_object_set_new(c, "index", json_integer((json_int_t)json_array_size(r->choices)));
        json_array_append_new(r->choices, c);
        r->total.prompt += a->usage.prompt;
        r->total.completion += a->usage.completion;
    }
    json_decref(completion);
    snprintf(a->reply.content_type, sizeof(a->reply.content_type), "application/json");
    return 0;
}

static int sub_request(void *ctx, const gw_call_t *call, const gw_dialect_t *d,
                       gw_http_out_t *out, gw_err_t *err)
{
    (void)ctx;
    return d->chat_request(call, out, err);
}

static void sub_free(void *ctx)
{
    sub_t *sb = ctx;
    relay_t *r = sb->r;

    for (int i = 0; i < r->nsubs; i++)
        if (r->subs[i] == sb)
            r->subs[i] = NULL;
    free(sb);
    relay_release(r);
}

static const gw_fallback_op_t sub_op = {
    .request = sub_request,
    .answer = sub_answer,
    .free = sub_free,
};

/* A sub-run ended (its choice is in, or it found none): when the last one
 * ends and the client's run waits, it carries on: answered with every
 * choice, or asks its own pair again for those still missing. */
static void sub_done(void *ctx, int status)
{
    sub_t *sb = ctx;
    relay_t *r = sb->r;
    gw_answer_t *a;
    json_t *completion;

    (void)status;
    sb->fb = NULL;
    if (--r->pending > 0 || r->parked == NULL || r->closing)
        return;
    a = r->parked;
    completion = r->parked_completion;
    r->parked = NULL;
    r->parked_completion = NULL;
    if ((int)json_array_size(r->choices) < r->n) {
        json_decref(completion);
        gw_fallback_answer_done(r->fb, GW_AGAIN, a);
        return;
    }
    json_object_set(completion, "choices", r->choices);
    json_object_set_new(completion, "usage", gw_front_usage_json(&r->total));
    gw_fallback_answer_done(r->fb, finish_choices(r, completion, a), a);
}

/* Starts a detached run per missing choice but the one the client's run makes. */
static void start_subs(relay_t *r)
{
    r->subs_started = true;
    for (int i = 1; i < r->n && r->nsubs < GW_CHAT_MAX_N; i++) {
        sub_t *sb = gw_xcalloc(1, sizeof(*sb));
        gw_fallback_spec_t spec = r->spec;

        sb->r = r;
        r->refs++;
        r->pending++;
        r->subs[r->nsubs++] = sb;
        spec.req = json_deep_copy(r->body);
        spec.stream = false;
        spec.sticky = false;
        spec.op = &sub_op;
        spec.op_ctx = sb;
        sb->fb = gw_fallback_run_detached(r->gw, r->req_id, &spec, sub_done, sb);
    }
}

static void relay_release(relay_t *r)
{
    if (--r->refs > 0)
        return;
    json_decref(r->choices);
    json_decref(r->prompts);
    free(r->suffix);
    if (r->front.ops->free != NULL)
        r->front.ops->free(r->front.ctx);
    free(r);
}

/* A long answer (GW_OFF_LOOP_BYTES) is parsed on a pool thread; the dialect's
 * normalisation, which may touch shared state (Gemini's thought signatures),
 * stays on the loop. */
typedef struct parse_job {
    uv_work_t work;
    relay_t *r;
    gw_fallback_t *fb;
    gw_answer_t *a;
} parse_job_t;

static void parse_run(uv_work_t *w)
{
    parse_job_t *j = w->data;

    j->a->json = json_loadb(j->a->body.ptr, j->a->body.len, 0, NULL);
}

static void parse_after(uv_work_t *w, int status)
{
    parse_job_t *j = w->data;
    gw_answer_t *a = j->a;
    int rc;

    if (status != 0) { /* not run: read as unreadable, so the request falls over */
        json_decref(a->json);
        a->json = NULL;
    }
    rc = render_completion(j->r, a);
    if (rc != GW_PENDING) /* else the sub-runs finish it (sub_done) */
        gw_fallback_answer_done(j->fb, rc, a);
    free(j);
}

static int relay_answer(void *ctx, gw_fallback_t *fb, gw_answer_t *a)
{
    relay_t *r = ctx;

    r->fb = fb;
    a->json_read = true;
    if (a->body.len >= GW_OFF_LOOP_BYTES) {
        parse_job_t *j = gw_xcalloc(1, sizeof(*j));

        j->work.data = j;
        j->r = r;
        j->fb = fb;
        j->a = a;
        if (uv_queue_work(r->gw->loop, &j->work, parse_run, parse_after) == 0)
            return GW_PENDING;
        free(j);
    }
    a->json = json_loadb(a->body.ptr, a->body.len, 0, NULL);
    return render_completion(r, a);
}

/* ---- streamed answers ---------------------------------------------------------- */

static int write_out(relay_t *r)
{
    int rc = gw_fallback_stream_write(r->fb, r->wbuf.ptr, r->wbuf.len);
    /* Freed, not kept: thousands of idle streams would each hold one. */
    gw_buf_dispose(&r->wbuf);
    return rc;
}

static int put_chunk(relay_t *r, json_t *chunk)
{
    return r->front.ops->chunk(r->front.ctx, chunk, &r->wbuf);
}

/* A chunk like the upstream's (same id, created, model) with given choices. */
static json_t *synth_chunk(relay_t *r, json_t *choices)
{
    json_t *c = json_deep_copy(r->proto);

    if (c == NULL)
        c = json_pack("{s:s,s:I,s:s}", "id", "chatcmpl-freellmapi", "created",
                      (json_int_t)(gw_now_ms() / 1000), "model", gw_fallback_model(r->fb)->id);
    json_object_set_new(c, "object", json_string("chat.completion.chunk"));
    json_object_set_new(c, "choices", choices);
    return c;
}

/* Ends a committed stream: a finish chunk if the upstream sent none, then
 * the front's ending (usage, [DONE], or an error event when it broke). */
static void end_stream(relay_t *r, bool ok, const char *why)
{
    gw_tokens_t usage;
    json_t *last;

    if (r->closed)
        return;
    r->closed = true;
    if (!r->st.usage.known) /* estimate: ~4 characters per token */
        r->st.usage.prompt = r->prompt_estimate;
    usage = r->st.usage;
    if (ok && !r->st.saw_finish) {
        json_t *c = synth_chunk(r, json_pack("[{s:i,s:{},s:s}]", "index", 0, "delta",
                                             "finish_reason",
                                             r->st.saw_tool_calls ? "tool_calls" : "stop"));
        put_chunk(r, c);
        json_decref(c);
    }
    last = synth_chunk(r, json_array());
    r->front.ops->end(r->front.ctx, ok, last, &usage, why, &r->wbuf);
    json_decref(last);
    write_out(r);
    gw_fallback_stream_end(r->fb, ok, &usage);
}

/* The upstream's words for an error mid-stream, redacted and scrubbed as for any error. */
static void end_with_upstream_error(relay_t *r, json_t *err)
{
    char *text = json_dumps(err, JSON_COMPACT);
    char msg[200];
    char why[256];

    if (text == NULL || gw_error_message(gw_str_c(text), msg, sizeof(msg)) == 0)
        snprintf(msg, sizeof(msg), "unknown error");
    free(text);
    gw_scrub_secret(msg, strlen(msg), r->call->secret);
    snprintf(why, sizeof(why), "Upstream error mid-stream: %s", msg);
    end_stream(r, false, why);
}

static int on_sse_event(void *ctx, const char *event, gw_str_t data)
{
    relay_t *r = ctx;
    json_t *chunks = json_array();
    json_t *err = NULL;
    size_t i;
    json_t *c;
    int rc = 0;

    (void)event;
    switch (r->dialect->chat_event(r->call, &r->st, data, chunks, &err)) {
    case GW_EV_CHUNKS:
        if (!gw_fallback_committed(r->fb) && json_array_size(chunks) > 0) {
            json_t *first = json_array_get(chunks, 0);
            json_decref(r->proto);
            r->proto = json_pack("{s:O?,s:O?,s:O?}", "id", json_object_get(first, "id"),
                                 "created", json_object_get(first, "created"), "model",
                                 json_object_get(first, "model"));
            gw_fallback_commit(r->fb);
        }
        json_array_foreach(chunks, i, c) put_chunk(r, c);
        if (r->wbuf.len > 0 && write_out(r) == GW_AGAIN)
            rc = GW_AGAIN;
        break;
    case GW_EV_DONE:
        /* Read on to the end of the body so the upstream connection can be reused;
         * stream_close finishes the stream. */
        break;
    case GW_EV_ERROR:
        if (gw_fallback_committed(r->fb)) {
            end_with_upstream_error(r, err);
            json_decref(err);
        } else {
            json_decref(r->inband);
            r->inband = err;
        }
        rc = 1;
        break;
    case GW_EV_SKIP:
        break;
    }
    json_decref(chunks);
    return rc;
}

static void stream_reset(relay_t *r)
{
    if (r->sse_on)
        gw_sse_decoder_dispose(&r->sse);
    r->sse_on = false;
    gw_stream_state_dispose(&r->st);
    gw_stream_state_init(&r->st);
    json_decref(r->inband);
    r->inband = NULL;
}

static void relay_stream_open(void *ctx, gw_fallback_t *fb, const gw_call_t *call,
                              const gw_dialect_t *d)
{
    relay_t *r = ctx;

    stream_reset(r);
    r->fb = fb;
    r->call = call;
    r->dialect = d;
    gw_sse_decoder_init(&r->sse, MAX_SSE_EVENT, on_sse_event, r);
    r->sse_on = true;
}

static int relay_stream_data(void *ctx, const char *data, size_t n)
{
    relay_t *r = ctx;
    int rc = gw_sse_feed(&r->sse, data, n);

    return rc == GW_AGAIN ? GW_AGAIN : rc == 0 ? 0 : 1;
}

static bool relay_stream_close(void *ctx, gw_xfer_outcome_t outcome)
{
    relay_t *r = ctx;
    json_t *e;

    gw_sse_finish(&r->sse);
    if (gw_fallback_done(r->fb))
        return true;
    if (gw_fallback_committed(r->fb)) {
        /* A finish_reason or [DONE] means the answer is complete even if the
         * connection then broke; dialects without [DONE] end at a clean EOF. */
        if (r->st.saw_done || r->st.saw_finish ||
            (outcome == GW_XFER_OK && r->dialect->eof_ends_stream))
            end_stream(r, true, NULL);
        else
            end_stream(r, false, "Upstream provider disconnected mid-stream");
        return true;
    }
    if (r->inband == NULL)
        return false; /* nothing usable came: the engine says why */
    e = r->inband;
    r->inband = NULL;
    gw_fallback_stream_failed(r->fb, e);
    json_decref(e);
    return true;
}

static void relay_free(void *ctx)
{
    relay_t *r = ctx;

    r->closing = true;
    for (int i = 0; i < r->nsubs; i++) /* a run that is over needs none */
        if (r->subs[i] != NULL)
            gw_fallback_cancel(r->subs[i]->fb);
    json_decref(r->parked_completion);
    r->parked_completion = NULL;
    gw_inline_cancel(r->inliner);
    stream_reset(r);
    gw_stream_state_dispose(&r->st);
    gw_buf_dispose(&r->wbuf);
    json_decref(r->proto);
    r->proto = NULL;
    relay_release(r);
}

static const gw_fallback_op_t chat_op = {
    .prepare = relay_prepare,
    .request = relay_request,
    .answer = relay_answer,
    .stream_open = relay_stream_open,
    .stream_data = relay_stream_data,
    .stream_close = relay_stream_close,
    .free = relay_free,
};

void gw_chat_relay_run(gw_gateway_t *gw, gw_req_t *req, gw_fallback_spec_t *spec,
                       gw_front_t front, int n, json_t *prompts, const char *suffix)
{
    relay_t *r = gw_xcalloc(1, sizeof(*r));
    json_t *body = spec->req;

    r->gw = gw;
    r->front = front;
    r->refs = 1;
    r->req_id = gw_req_id(req);
    r->per_prompt = n > 1 ? n : 1;
    r->n = r->per_prompt * (prompts != NULL ? (int)GW_MAX(json_array_size(prompts), 1) : 1);
    r->prompts = json_incref(prompts);
    r->body = body;
    r->suffix = suffix != NULL ? gw_xstrdup(suffix) : NULL;
    if (r->n > 1) {
        /* Each upstream call makes one choice, whole: n and streaming stay here. */
        r->choices = json_array();
        r->client_stream = spec->stream;
        spec->stream = false;
        json_object_del(body, "n");
        json_object_del(body, "stream");
        json_object_del(body, "stream_options");
    }
    spec->stream_type = front.ops->stream_type;
    r->prompt_estimate = spec->need.prompt_tokens;
    gw_buf_init(&r->wbuf, MAX_SSE_EVENT * 2);
    gw_stream_state_init(&r->st);
    spec->op = &chat_op;
    spec->op_ctx = r;
    r->spec = *spec;
    r->spec.req = NULL;
    gw_fallback_run(gw, req, spec);
}
