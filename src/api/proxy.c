/*
 * The fallback loop for chat (see proxy.h).
 */
#include "api/proxy.h"
#include "api/json_body.h"
#include "api/respond.h"
#include "api/inline_images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/json_buf.h"
#include "core/log.h"
#include "core/scrub.h"
#include "providers/dialect.h"
#include "router/errtable.h"
#include "stream/sse.h"

#define MAX_ANSWER (32u << 20)  /* a whole upstream answer */
#define MAX_ERROR_BODY 65536    /* an upstream error body we classify */
#define MAX_SSE_EVENT (8u << 20)

typedef struct proxy {
    gw_gateway_t *gw;
    gw_req_t *req;
    json_t *body;
    char *model_name;
    char *endpoint;
    bool stream;
    bool include_usage;
    bool sticky;
    unsigned char digest[32];
    gw_need_t need;
    const gw_proxy_op_t *op;  /* NULL: chat */
    void *op_ctx;
    bool repeat;              /* the next call goes to the same candidate, not a fallover */
    gw_plan_t plan;
    int attempts;
    /* the attempt in flight */
    gw_cand_t *held;          /* chosen, waiting for its images to be inlined */
    gw_inliner_t *inliner;
    gw_cand_t *cur;
    const gw_dialect_t *dialect;
    gw_call_t call;
    gw_xfer_t *xfer;
    int64_t charged_at_ms;
    int status;
    gw_buf_t in;              /* answer or error body */
    gw_buf_t hdrs;            /* "name\0value\0" of the response headers */
    gw_sse_decoder_t sse;
    bool sse_on;
    gw_stream_state_t st;
    json_t *inband;           /* an in-band error seen before commit */
    bool committed;
    bool stream_closed;
    gw_buf_t wbuf;
    json_t *proto;            /* id, created, model of the upstream's chunks */
    /* outcome */
    gw_verdict_t last;
    bool have_last;
    bool rate_limited;        /* an attempt failed on a rate limit or quota */
    char last_msg[300];
    char last_code[64];
    int64_t ttfb_us;
    gw_tokens_t usage;
    int in_cb;                /* >0 while our code is on the stack for this proxy */
    bool done;                /* answered; free once off the stack */
} proxy_t;

static void try_next(proxy_t *p);

/* ---- teardown and logging ----------------------------------------------- */

static void proxy_free(proxy_t *p)
{
    gw_upstream_cancel(p->xfer);
    gw_plan_dispose(&p->plan);
    if (p->sse_on)
        gw_sse_decoder_dispose(&p->sse);
    gw_stream_state_dispose(&p->st);
    gw_buf_dispose(&p->in);
    gw_buf_dispose(&p->hdrs);
    gw_buf_dispose(&p->wbuf);
    json_decref(p->inband);
    json_decref(p->proto);
    json_decref(p->body);
    if (p->op != NULL && p->op->free != NULL)
        p->op->free(p->op_ctx);
    free(p->model_name);
    free(p->endpoint);
    free(p);
}

static void maybe_free(proxy_t *p)
{
    if (p->done && p->in_cb == 0)
        proxy_free(p);
}

static void log_request(proxy_t *p, int status, const char *error_class)
{
    gw_reqlog_row_t row = {0};

    row.at_ms = gw_now_ms();
    row.endpoint = p->endpoint;
    if (p->cur != NULL) {
        row.provider = p->cur->model->provider->id;
        row.model = p->cur->model->id;
        row.key_id = p->cur->key->id;
    }
    row.status = status;
    row.latency_ms = (gw_mono_us() - gw_req_start_us(p->req)) / 1000;
    row.ttfb_ms = p->ttfb_us > 0 ? (p->ttfb_us - gw_req_start_us(p->req)) / 1000 : -1;
    row.tokens_in = p->usage.prompt;
    row.tokens_out = p->usage.completion;
    row.attempts = p->attempts;
    row.error_class = error_class;
    row.stream = p->stream;
    gw_gateway_log_request(p->gw, &row);
}

/* Corrects the ledger from the estimate to what the attempt really used. */
static void settle_tokens(proxy_t *p, int64_t used)
{
    int64_t delta = used - p->plan.charge_tokens;

    if (p->cur == NULL || p->charged_at_ms == 0)
        return;
    gw_ledger_adjust(p->gw->router.ledger, p->cur->model, p->cur->key->id, delta,
                     p->charged_at_ms, gw_now_ms());
    p->charged_at_ms = 0;
    gw_gateway_usage_changed(p->gw);
}

static void add_route_headers(proxy_t *p)
{
    char v[300];

    if (p->cur != NULL) {
        snprintf(v, sizeof(v), "%s/%s", p->cur->model->provider->id, p->cur->model->id);
        gw_req_add_header(p->req, "X-Routed-Via", v);
    }
    if (p->attempts > 1) {
        snprintf(v, sizeof(v), "%d", p->attempts - 1);
        gw_req_add_header(p->req, "X-Fallback-Attempts", v);
    }
}

static void finish(proxy_t *p)
{
    p->done = true;
    gw_inline_cancel(p->inliner);
    p->inliner = NULL;
    gw_upstream_cancel(p->xfer);
    p->xfer = NULL;
}

/* ---- answers to the client ------------------------------------------------ */

/* Every candidate is used up: say why, and when trying again makes sense.
 * Rate limits and quotas give 429 with the earliest time one frees up;
 * candidates that all failed otherwise give 503; either way the SDKs are told
 * not to retry on their own (x-should-retry: false). */
static void exhausted(proxy_t *p)
{
    int64_t now = gw_now_ms();
    int64_t wait_ms = p->plan.earliest_ms > now ? p->plan.earliest_ms - now : 0;
    gw_req_t *req = p->req;
    char v[32];

    gw_req_add_header(req, "x-should-retry", "false");
    if (p->attempts > 0)
        add_route_headers(p);
    if (wait_ms > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)((wait_ms + 999) / 1000));
        gw_req_add_header(req, "retry-after", v);
        snprintf(v, sizeof(v), "%lld", (long long)wait_ms);
        gw_req_add_header(req, "retry-after-ms", v);
    }
    if (p->plan.n == 0 && p->plan.too_long_window > 0) {
        /* Keys exist; the request is too long for every model they open. */
        bool prompt_alone = p->need.prompt_tokens > p->plan.too_long_window;
        log_request(p, 400, "context_length");
        gw_respond_error(req, 400, "invalid_request_error", "context_length_exceeded",
                             p->op != NULL ? "input" : prompt_alone ? "messages" : "max_tokens",
                             "This request needs about %lld tokens (%lld of input%s), more than "
                             "the context window of every model that can serve it (the largest "
                             "is %lld tokens). Shorten the input%s.",
                             (long long)(p->need.prompt_tokens + p->need.max_tokens),
                             (long long)p->need.prompt_tokens,
                             p->need.max_tokens > 0 ? " plus max_tokens" : "",
                             (long long)p->plan.too_long_window,
                             prompt_alone ? "" : " or lower max_tokens");
    } else if (p->plan.n == 0 && p->op != NULL) {
        log_request(p, 503, "no_route");
        gw_respond_error(req, 503, "service_unavailable", "no_route", NULL,
                             "No configured model can serve %s requests. Add a key for a "
                             "provider that has such a model (`freellmapi keys add PROVIDER "
                             "SECRET`), or enable one.", p->need.kind);
    } else if (p->plan.n == 0) {
        log_request(p, 503, "no_route");
        gw_respond_error(req, 503, "service_unavailable", "no_route", NULL,
                             "No configured model can serve this request%s. Add a provider key "
                             "with `freellmapi keys add PROVIDER SECRET`, or enable a model "
                             "that supports it.",
                             (p->need.caps & GW_CAP_VISION)  ? " (it needs vision)"
                             : (p->need.caps & GW_CAP_TOOLS) ? " (it needs tool calling)"
                                                             : "");
    } else if (wait_ms > 0 && (p->rate_limited || p->plan.limited > 0)) {
        log_request(p, 429, "exhausted");
        gw_respond_error(req, 429, "rate_limit_exceeded", "rate_limit_exceeded", NULL,
                             "Every model that can serve this request is rate-limited or out "
                             "of quota right now (%d attempt%s). The earliest frees up in %lld "
                             "s.", p->attempts, p->attempts == 1 ? "" : "s",
                             (long long)((wait_ms + 999) / 1000));
    } else {
        log_request(p, 503, p->have_last ? p->last.name : "no_route");
        char cap[64] = "";
        if (p->attempts >= GW_MAX_ATTEMPTS)
            snprintf(cap, sizeof(cap), ", the limit of %d attempts per request", GW_MAX_ATTEMPTS);
        gw_respond_error(req, 503, "service_unavailable", "upstream_unavailable", NULL,
                             "No upstream provider could serve model '%s' (%d attempt%s%s)%s%s",
                             p->model_name, p->attempts, p->attempts == 1 ? "" : "s", cap,
                             p->last_msg[0] ? "; last error: " : ".", p->last_msg);
    }
    finish(p);
}

/* The upstream blamed the request itself: pass its error on. */
static void return_error(proxy_t *p)
{
    int status = p->last.client_status > 0 ? p->last.client_status : 400;

    add_route_headers(p);
    log_request(p, status, p->last.name);
    gw_respond_error(p->req, status, status >= 500 ? "server_error" : "invalid_request_error",
                         p->last_code[0] ? p->last_code : NULL, NULL, "%s",
                         p->last_msg[0] ? p->last_msg : "The provider rejected the request.");
    finish(p);
}

static void respond_completion(proxy_t *p, json_t *completion)
{
    add_route_headers(p);
    if (p->sticky)
        gw_sticky_put(p->gw->router.sticky, p->digest, p->cur->model->index, gw_now_ms());
    gw_plan_success(&p->plan, p->cur);
    log_request(p, 200, NULL);
    gw_respond_json(p->req, 200, completion);
    finish(p);
}

/* ---- failures -------------------------------------------------------------- */

/* Keeps the upstream's own message (and error code) for the client, with
 * anything key-like redacted and this attempt's secret scrubbed. */
static void note_message(proxy_t *p, gw_str_t body)
{
    char msg[240];
    const char *secret = p->call.secret;
    json_t *j = json_loadb(body.ptr, body.len, 0, NULL);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

    p->last_code[0] = '\0';
    if (code != NULL && strlen(code) < sizeof(p->last_code))
        snprintf(p->last_code, sizeof(p->last_code), "%s", code);
    json_decref(j);
    if (gw_errtable_message(body, msg, sizeof(msg)) == 0)
        snprintf(msg, sizeof(msg), "HTTP %d", p->status);
    gw_scrub_secret(msg, strlen(msg), secret);
    snprintf(p->last_msg, sizeof(p->last_msg), "%s: %s", p->cur->model->provider->id, msg);
}

static void fail(proxy_t *p, const gw_verdict_t *v)
{
    gw_key_health_t before = p->cur->key->health;

    p->last = *v;
    p->have_last = true;
    if (v->fail == GW_FAIL_RATE_MINUTE || v->fail == GW_FAIL_QUOTA_PERIOD ||
        v->fail == GW_FAIL_QUOTA_ACCOUNT)
        p->rate_limited = true;
    settle_tokens(p, 0);
    gw_plan_fail(&p->plan, p->cur, v, gw_now_ms());
    if (p->cur->key->health != before)
        gw_gateway_key_health(p->gw, p->cur->key, v->name);
    gw_log_info("%s: %s/%s failed: %s (attempt %d)", gw_req_id(p->req),
                p->cur->model->provider->id, p->cur->model->id, v->name, p->attempts);
    if (v->next == GW_NEXT_RETURN) {
        return_error(p);
        return;
    }
    try_next(p);
}

static void fail_body(proxy_t *p, int status, json_t *err_json)
{
    gw_verdict_t v;
    const gw_header_t *hv;
    gw_header_t hs[64];
    size_t nh = 0;
    size_t off = 0;
    char *text = err_json != NULL ? json_dumps(err_json, JSON_COMPACT) : NULL;
    gw_str_t body = text != NULL ? gw_str_c(text) : (gw_str_t){p->in.ptr ? p->in.ptr : "",
                                                                p->in.len};

    while (off < p->hdrs.len && nh < GW_ARRAY_LEN(hs)) {
        hs[nh].name = p->hdrs.ptr + off;
        hs[nh].value = hs[nh].name + strlen(hs[nh].name) + 1;
        off = (size_t)(hs[nh].value - p->hdrs.ptr) + strlen(hs[nh].value) + 1;
        nh++;
    }
    hv = hs;
    gw_errtable_classify(p->cur->model->provider, status, body, hv, nh, gw_now_ms(), &v);
    note_message(p, body);
    free(text);
    fail(p, &v);
}

static void fail_transport(proxy_t *p, gw_fail_t kind, const char *what)
{
    gw_verdict_t v;

    gw_errtable_transport(p->cur->model->provider, kind, gw_now_ms(), &v);
    snprintf(p->last_msg, sizeof(p->last_msg), "%s: %s", p->cur->model->provider->id, what);
    p->last_code[0] = '\0';
    fail(p, &v);
}

/* ---- streaming ------------------------------------------------------------- */

static int write_out(proxy_t *p)
{
    int rc = gw_req_stream_write(p->req, p->wbuf.ptr, p->wbuf.len);
    /* Freed, not kept: thousands of idle streams would each hold one. */
    gw_buf_dispose(&p->wbuf);
    return rc;
}

static void commit(proxy_t *p)
{
    add_route_headers(p);
    gw_req_stream_start(p->req, 200, "text/event-stream");
    p->committed = true;
    if (p->sticky)
        gw_sticky_put(p->gw->router.sticky, p->digest, p->cur->model->index, gw_now_ms());
    /* No fallover after this point: the request and the headers are done with
     * (stream decoding reads neither), so a long stream does not hold the
     * whole parsed conversation. */
    gw_buf_dispose(&p->hdrs);
    json_decref(p->body);
    p->body = NULL;
    p->call.req = NULL;
}

static int put_chunk(proxy_t *p, json_t *chunk)
{
    size_t at = p->wbuf.len;

    /* "data: <json>\n\n" written in place, without an intermediate string. */
    if (gw_buf_append(&p->wbuf, "data: ", 6) != 0 || gw_json_append(&p->wbuf, chunk) != 0 ||
        gw_buf_append(&p->wbuf, "\n\n", 2) != 0) {
        p->wbuf.len = at;
        if (p->wbuf.ptr != NULL)
            p->wbuf.ptr[at] = '\0';
        return GW_ETOOBIG;
    }
    return 0;
}

/* A chunk like the upstream's (same id, created, model) with given choices. */
static json_t *synth_chunk(proxy_t *p, json_t *choices)
{
    json_t *c = json_deep_copy(p->proto);

    if (c == NULL)
        c = json_pack("{s:s,s:I,s:s}", "id", "chatcmpl-freellmapi", "created",
                      (json_int_t)(gw_now_ms() / 1000), "model", p->cur->model->id);
    json_object_set_new(c, "object", json_string("chat.completion.chunk"));
    json_object_set_new(c, "choices", choices);
    return c;
}

/* Ends a committed stream: finish chunk if the upstream sent none, the usage
 * chunk when asked for, then [DONE]; or an error event when it broke. */
static void end_stream(proxy_t *p, bool ok, const char *why)
{
    if (p->stream_closed)
        return;
    p->stream_closed = true;
    if (!p->st.usage.known) /* estimate: ~4 characters per token */
        p->st.usage.prompt = p->need.prompt_tokens;
    p->usage = p->st.usage;
    if (ok) {
        if (!p->st.saw_finish) {
            json_t *c = synth_chunk(p, json_pack("[{s:i,s:{},s:s}]", "index", 0, "delta",
                                                 "finish_reason",
                                                 p->st.saw_tool_calls ? "tool_calls" : "stop"));
            put_chunk(p, c);
            json_decref(c);
        }
        if (p->include_usage) {
            json_t *c = synth_chunk(p, json_array());
            json_object_set_new(c, "usage",
                                json_pack("{s:I,s:I,s:I}", "prompt_tokens",
                                          (json_int_t)p->usage.prompt, "completion_tokens",
                                          (json_int_t)p->usage.completion, "total_tokens",
                                          (json_int_t)(p->usage.prompt + p->usage.completion)));
            put_chunk(p, c);
            json_decref(c);
        }
        gw_plan_success(&p->plan, p->cur);
    } else {
        json_t *e = json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message", why, "type",
                              "server_error", "param", "code", "stream_interrupted");
        put_chunk(p, e);
        json_decref(e);
    }
    gw_sse_put_done(&p->wbuf);
    write_out(p);
    gw_req_stream_end(p->req);
    settle_tokens(p, p->usage.prompt + p->usage.completion);
    log_request(p, 200, ok ? NULL : "stream_interrupted");
    finish(p);
}

static int on_sse_event(void *ctx, const char *event, gw_str_t data)
{
    proxy_t *p = ctx;
    json_t *chunks = json_array();
    json_t *err = NULL;
    gw_ev_t ev;
    size_t i;
    json_t *c;
    int rc = 0;

    (void)event;
    ev = p->dialect->chat_event(&p->call, &p->st, data, chunks, &err);
    switch (ev) {
    case GW_EV_CHUNKS:
        if (!p->committed && json_array_size(chunks) > 0) {
            json_t *first = json_array_get(chunks, 0);
            json_decref(p->proto);
            p->proto = json_pack("{s:O?,s:O?,s:O?}", "id", json_object_get(first, "id"),
                                 "created", json_object_get(first, "created"), "model",
                                 json_object_get(first, "model"));
            commit(p);
        }
        json_array_foreach(chunks, i, c) put_chunk(p, c);
        if (p->wbuf.len > 0 && write_out(p) == GW_AGAIN)
            rc = GW_AGAIN;
        break;
    case GW_EV_DONE:
        /* Read on to the end of the body so the upstream connection can be reused;
         * on_done finishes the stream. */
        break;
    case GW_EV_ERROR:
        if (p->committed) {
            char *text = json_dumps(err, JSON_COMPACT);
            char msg[200];
            char why[256];
            /* The upstream's words, redacted and scrubbed as for any error. */
            if (text == NULL || gw_errtable_message(gw_str_c(text), msg, sizeof(msg)) == 0)
                snprintf(msg, sizeof(msg), "unknown error");
            free(text);
            gw_scrub_secret(msg, strlen(msg), p->call.secret);
            snprintf(why, sizeof(why), "Upstream error mid-stream: %s", msg);
            end_stream(p, false, why);
            json_decref(err);
        } else {
            p->inband = err;
        }
        rc = 1;
        break;
    case GW_EV_SKIP:
        break;
    }
    json_decref(chunks);
    return rc;
}

/* ---- upstream callbacks ------------------------------------------------------ */

static int on_headers(void *ctx, int status, const gw_header_t *hdrs, size_t n)
{
    proxy_t *p = ctx;

    p->status = status;
    gw_buf_reset(&p->hdrs);
    for (size_t i = 0; i < n; i++) {
        gw_buf_append(&p->hdrs, hdrs[i].name, strlen(hdrs[i].name) + 1);
        gw_buf_append(&p->hdrs, hdrs[i].value, strlen(hdrs[i].value) + 1);
    }
    gw_buf_reset(&p->in);
    p->in.max = (status >= 200 && status < 300) ? MAX_ANSWER : MAX_ERROR_BODY;
    if (p->stream && status >= 200 && status < 300) {
        gw_sse_decoder_init(&p->sse, MAX_SSE_EVENT, on_sse_event, p);
        p->sse_on = true;
    }
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    proxy_t *p = ctx;
    int rc = 0;

    if (p->ttfb_us == 0)
        p->ttfb_us = gw_mono_us();
    if (p->sse_on) {
        p->in_cb++;
        rc = gw_sse_feed(&p->sse, d, n);
        p->in_cb--;
        if (p->done) {
            maybe_free(p);
            return 1;
        }
        if (rc == GW_AGAIN)
            return GW_AGAIN;
        return rc == 0 ? 0 : 1;
    }
    if (gw_buf_append(&p->in, d, n) != 0) {
        if (p->status >= 200 && p->status < 300)
            return 1; /* an absurd answer: give up on this upstream */
        /* Error bodies: the beginning is enough to classify. */
    }
    return 0;
}

static const char *response_header(const proxy_t *p, const char *name)
{
    size_t off = 0;

    while (off < p->hdrs.len) {
        const char *n = p->hdrs.ptr + off;
        const char *v = n + strlen(n) + 1;
        if (strcmp(n, name) == 0)
            return v;
        off = (size_t)(v - p->hdrs.ptr) + strlen(v) + 1;
    }
    return NULL;
}

/* What an op's answer says, now or later (GW_PENDING): deliver, repeat, or fail over. */
static void settle_answer(proxy_t *p, int rc, gw_reply_t *reply, gw_tokens_t usage,
                          const gw_err_t *err)
{
    if (rc != 0 && rc != GW_AGAIN) {
        gw_str_t body = {p->in.ptr != NULL ? p->in.ptr : "", p->in.len};
        json_t *j = json_loadb(body.ptr, body.len, 0, NULL);
        gw_buf_dispose(&reply->body);
        free(reply);
        if (json_object_get(j, "error") != NULL)
            fail_body(p, 200, j);
        else
            fail_transport(p, GW_FAIL_SERVER, err->msg[0] ? err->msg : "unusable answer");
        json_decref(j);
        return;
    }
    if (!usage.known)
        usage.prompt = p->need.prompt_tokens;
    p->usage.prompt += usage.prompt;
    p->usage.completion += usage.completion;
    settle_tokens(p, usage.prompt + usage.completion);
    if (rc == GW_AGAIN) {
        gw_buf_dispose(&reply->body);
        free(reply);
        p->held = p->cur;
        p->repeat = true;
        try_next(p);
        return;
    }
    add_route_headers(p);
    gw_plan_success(&p->plan, p->cur);
    log_request(p, 200, NULL);
    gw_req_respond(p->req, 200, reply->content_type, &reply->body);
    free(reply);
    finish(p);
}

/* A 2xx answer to a non-chat call: the op renders the client's answer. */
static void answer_op(proxy_t *p)
{
    const char *ct = response_header(p, "content-type");
    gw_str_t body = {p->in.ptr != NULL ? p->in.ptr : "", p->in.len};
    gw_reply_t *reply = gw_xcalloc(1, sizeof(*reply));
    gw_tokens_t usage = {0};
    gw_err_t err = {0};
    int rc;

    gw_buf_init(&reply->body, MAX_ANSWER * 2);
    rc = p->op->answer(p->op_ctx, p, p->cur, p->dialect, ct != NULL ? ct : "", body, reply,
                       &usage, &err);
    if (rc == GW_PENDING) {
        p->in_cb++; /* kept alive until gw_proxy_answer_done */
        return;
    }
    settle_answer(p, rc, reply, usage, &err);
}

void gw_proxy_answer_done(gw_proxy_t *p, int rc, gw_reply_t *reply, const gw_tokens_t *usage,
                          const gw_err_t *err)
{
    if (p->done) { /* the client left meanwhile */
        gw_buf_dispose(&reply->body);
        free(reply);
    } else {
        settle_answer(p, rc, reply, *usage, err);
    }
    p->in_cb--;
    maybe_free(p);
}

/* ---- long answers: parsed on the thread pool ----------------------------- */

/* A long whole answer (GW_OFF_LOOP_BYTES) is parsed on a pool thread; the
 * dialect's normalisation, which may touch shared state (Gemini's thought
 * signatures), and the reply stay on the loop. */

typedef struct answer_job {
    uv_work_t work;
    proxy_t *p;
    json_t *j;
} answer_job_t;

static void answer_parsed(proxy_t *p, json_t *j);

static void answer_read(uv_work_t *w)
{
    answer_job_t *a = w->data;

    a->j = json_loadb(a->p->in.ptr, a->p->in.len, 0, NULL); /* left alone by the loop */
}

static void answer_read_done(uv_work_t *w, int status)
{
    answer_job_t *a = w->data;
    proxy_t *p = a->p;

    if (status != 0) { /* not run: read as unreadable, so the request falls over */
        json_decref(a->j);
        a->j = NULL;
    }
    if (p->done)
        json_decref(a->j);
    else
        answer_parsed(p, a->j);
    free(a);
    p->in_cb--; /* held since the parse was queued */
    maybe_free(p);
}

static bool read_answer_off_loop(proxy_t *p)
{
    answer_job_t *a = gw_xcalloc(1, sizeof(*a));

    a->work.data = a;
    a->p = p;
    if (uv_queue_work(p->gw->loop, &a->work, answer_read, answer_read_done) != 0) {
        free(a);
        return false;
    }
    p->in_cb++;
    return true;
}

static void on_done_inner(proxy_t *p, gw_xfer_outcome_t outcome, int status)
{
    p->xfer = NULL;
    if (p->committed) {
        if (p->sse_on)
            gw_sse_finish(&p->sse);
        if (p->done)
            return;
        /* A finish_reason or [DONE] means the answer is complete even if the
         * connection then broke; dialects without [DONE] end at a clean EOF. */
        if (p->st.saw_done || p->st.saw_finish ||
            (outcome == GW_XFER_OK && p->dialect->eof_ends_stream))
            end_stream(p, true, NULL);
        else
            end_stream(p, false, "Upstream provider disconnected mid-stream");
        return;
    }
    if (p->inband != NULL) {
        json_t *e = p->inband;
        p->inband = NULL;
        fail_body(p, 200, e);
        json_decref(e);
        return;
    }
    if (outcome == GW_XFER_TIMEOUT) {
        fail_transport(p, GW_FAIL_TIMEOUT, "timed out");
        return;
    }
    if (outcome != GW_XFER_OK && !(p->stream && p->st.saw_done)) {
        fail_transport(p, GW_FAIL_NETWORK,
                       outcome == GW_XFER_TOOBIG ? "answer too large" : "connection failed");
        return;
    }
    if (status < 200 || status >= 300) {
        fail_body(p, status, NULL);
        return;
    }
    if (p->op != NULL) {
        answer_op(p);
        return;
    }
    if (p->stream) {
        /* 200 but nothing usable before the end: a failed attempt, not an answer. */
        if (p->sse_on)
            gw_sse_finish(&p->sse);
        if (p->done)
            return;
        if (p->committed) {
            end_stream(p, true, NULL);
            return;
        }
        fail_transport(p, GW_FAIL_SERVER, "empty stream");
        return;
    }
    if (p->in.len >= GW_OFF_LOOP_BYTES && read_answer_off_loop(p))
        return; /* answer_read carries on */
    answer_parsed(p, json_loadb(p->in.ptr ? p->in.ptr : "", p->in.len, 0, NULL));
}

/* A whole chat answer, parsed (NULL: it was not JSON): normalised by the
 * dialect and sent. Takes j. */
static void answer_parsed(proxy_t *p, json_t *j)
{
    json_t *completion = NULL;
    gw_err_t err = {0};

    if (j == NULL) {
        fail_transport(p, GW_FAIL_SERVER, "unreadable answer (truncated or not JSON)");
        return;
    }
    if (p->dialect->chat_response(&p->call, j, &completion, &p->usage, &err) != 0) {
        if (json_object_get(j, "error") != NULL)
            fail_body(p, 200, j);
        else
            fail_transport(p, GW_FAIL_SERVER, err.msg);
        json_decref(j);
        return;
    }
    json_decref(j);
    if (!p->usage.known)
        p->usage.prompt = p->need.prompt_tokens;
    settle_tokens(p, p->usage.prompt + p->usage.completion);
    respond_completion(p, completion);
}

static void on_done(void *ctx, gw_xfer_outcome_t outcome, int status)
{
    proxy_t *p = ctx;

    p->in_cb++;
    on_done_inner(p, outcome, status);
    p->in_cb--;
    maybe_free(p);
}

static const gw_xfer_cbs_t xfer_cbs = {on_headers, on_data, on_done};

/* ---- the loop ------------------------------------------------------------------ */

static void reset_attempt(proxy_t *p)
{
    if (p->sse_on) {
        gw_sse_decoder_dispose(&p->sse);
        p->sse_on = false;
    }
    gw_stream_state_dispose(&p->st);
    gw_stream_state_init(&p->st);
    gw_buf_reset(&p->in);
    gw_buf_reset(&p->hdrs);
    p->status = 0;
}

/* Remote images were fetched for a dialect that needs them inline. */
static void on_inlined(void *ctx, bool ok, const char *msg)
{
    proxy_t *p = ctx;

    p->inliner = NULL;
    p->in_cb++;
    if (ok) {
        try_next(p);
    } else {
        log_request(p, 400, "bad_image_url");
        gw_respond_error(p->req, 400, "invalid_request_error", "invalid_image_url",
                             "messages", "%s", msg);
        finish(p);
    }
    p->in_cb--;
    maybe_free(p);
}

/* The request could not be built for this candidate. True when that ends the
 * request (it cannot be sent anywhere like this); false: try the next one. */
static bool request_refused(proxy_t *p, const gw_err_t *err)
{
    p->repeat = false;
    if (err->http_status != 400)
        return false;
    log_request(p, 400, "bad_request");
    gw_respond_error(p->req, 400, "invalid_request_error", "invalid_value", NULL, "%s",
                         err->msg);
    finish(p);
    return true;
}

/* Charges the pair and starts the upstream call with the built request. */
static void send_attempt(proxy_t *p, gw_cand_t *c, gw_http_out_t *out)
{
    gw_gateway_t *gw = p->gw;
    gw_upstream_opts_t opts = {0};

    gw_ledger_charge(gw->router.ledger, c->model, c->key->id, p->plan.charge_tokens,
                     gw_now_ms());
    p->charged_at_ms = gw_now_ms();
    gw_gateway_usage_changed(gw);
    opts.first_byte_ms = gw->upstream_timeout_ms > 0 ? gw->upstream_timeout_ms
                                                          : c->model->provider->timeout_ms;
    opts.idle_ms = GW_MAX(opts.first_byte_ms, 60000);
    if (!p->repeat)
        p->attempts++;
    p->repeat = false;
    p->xfer = gw_upstream_start(gw->up, out, &opts, &xfer_cbs, p);
    if (p->xfer == NULL)
        fail_transport(p, GW_FAIL_NETWORK, "could not start the request");
}

/* ---- long requests: the body written on the thread pool ------------------ */

/* The estimate counts ~4 bytes a token. */
#define OFF_LOOP_BODY_TOKENS (GW_OFF_LOOP_BYTES / 4)

typedef struct body_job {
    uv_work_t work;
    proxy_t *p;
    gw_cand_t *c;
    gw_http_out_t out; /* its JSON tree is left alone by the loop meanwhile */
    gw_err_t err;
    int rc;
} body_job_t;

static void body_write(uv_work_t *w)
{
    body_job_t *j = w->data;

    j->rc = gw_dialect_write_body(&j->out, &j->err);
}

static void body_written(uv_work_t *w, int status)
{
    body_job_t *j = w->data;
    proxy_t *p = j->p;

    if (!p->done) {
        if (status != 0)
            gw_err_set(&j->err, GW_EIO, 0, "writing the request was cancelled");
        if (status == 0 && j->rc == 0)
            send_attempt(p, j->c, &j->out);
        else if (!request_refused(p, &j->err))
            try_next(p);
    }
    gw_http_out_dispose(&j->out);
    free(j);
    p->in_cb--; /* held since body_write was queued */
    maybe_free(p);
}

bool gw_proxy_body_off_loop(int64_t prompt_tokens)
{
    return prompt_tokens >= OFF_LOOP_BODY_TOKENS;
}

/* Takes out on success: send_attempt follows from body_written. */
static bool write_body_off_loop(proxy_t *p, gw_cand_t *c, gw_http_out_t *out)
{
    body_job_t *j = gw_xcalloc(1, sizeof(*j));

    j->work.data = j;
    j->p = p;
    j->c = c;
    j->out = *out;
    if (uv_queue_work(p->gw->loop, &j->work, body_write, body_written) != 0) {
        free(j);
        return false;
    }
    gw_http_out_init(out);
    p->in_cb++;
    return true;
}

/* ---- the fallback loop ---------------------------------------------------- */

static void try_next(proxy_t *p)
{
    gw_gateway_t *gw = p->gw;

    for (;;) {
        gw_cand_t *c;
        gw_http_out_t out;
        gw_err_t err = {0};
        int rc;

        if (p->done)
            return;
        if (p->attempts >= GW_MAX_ATTEMPTS && !(p->repeat && p->held != NULL)) {
            exhausted(p);
            return;
        }
        /* A repeat (one more image) on the same pair still obeys its caps. */
        if (p->repeat && p->held != NULL) {
            int64_t retry_at = 0;
            if (!gw_ledger_allows(gw->router.ledger, p->held->model, p->held->key->id,
                                  p->plan.charge_tokens, gw_now_ms(), &retry_at)) {
                p->held = NULL;
                p->repeat = false;
            }
        }
        c = p->held != NULL ? p->held : gw_plan_next(&p->plan, gw_now_ms());
        p->held = NULL;
        if (c == NULL) {
            exhausted(p);
            return;
        }
        p->dialect = gw_dialect_for(c->model->provider);
        if (p->dialect == NULL)
            continue; /* a wire format this build does not speak */
        if (p->op != NULL) {
            if (!p->repeat && p->op->accept != NULL && !p->op->accept(p->op_ctx, c))
                continue;
        } else if (p->dialect->inline_images && gw_inline_needed(p->body)) {
            p->held = c;
            p->inliner = gw_inline_start(gw, p->body, on_inlined, p);
            return;
        }
        reset_attempt(p);
        p->cur = c;
        p->call.model = c->model;
        p->call.secret = c->key->secret;
        p->call.account_id = c->key->account_id;
        p->call.req = p->body;
        p->call.stream = p->stream;
        p->call.sigs = &gw->sigs;
        p->call.defer_body = gw_proxy_body_off_loop(p->need.prompt_tokens);
        gw_http_out_init(&out);
        rc = p->op != NULL ? p->op->request(p->op_ctx, c, p->dialect, &out, &err)
                           : p->dialect->chat_request(&p->call, &out, &err);
        if (rc == 0 && out.json != NULL) {
            if (write_body_off_loop(p, c, &out))
                return; /* body_written carries on */
            rc = gw_dialect_write_body(&out, &err);
        }
        if (rc != 0) {
            gw_http_out_dispose(&out);
            if (request_refused(p, &err))
                return;
            continue;
        }
        send_attempt(p, c, &out);
        gw_http_out_dispose(&out);
        return;
    }
}

static void on_abort(void *ctx)
{
    proxy_t *p = ctx;

    if (p->done)
        return;
    gw_log_debug("%s: client gone; cancelling the upstream call", gw_req_id(p->req));
    settle_tokens(p, 0);
    /* The server cuts what outlives the drain at shutdown; otherwise the client left. */
    if (p->gw->stopping)
        log_request(p, 503, "shutdown");
    else
        log_request(p, 499, "client_closed");
    finish(p);
    maybe_free(p);
}

static void on_drain(void *ctx)
{
    proxy_t *p = ctx;

    p->in_cb++;
    gw_upstream_resume(p->xfer);
    p->in_cb--;
    maybe_free(p);
}

void gw_proxy_chat(gw_gateway_t *gw, gw_req_t *req, gw_proxy_spec_t *spec)
{
    proxy_t *p = gw_xcalloc(1, sizeof(*p));
    int sticky_model = -1;

    p->gw = gw;
    p->req = req;
    p->body = spec->req;
    p->model_name = gw_xstrdup(spec->model);
    p->endpoint = gw_xstrdup(spec->endpoint);
    p->stream = spec->stream;
    p->include_usage = spec->include_usage;
    p->sticky = spec->sticky;
    memcpy(p->digest, spec->digest, sizeof(p->digest));
    p->need = spec->need;
    p->op = spec->op;
    p->op_ctx = spec->op_ctx;
    gw_buf_init(&p->in, MAX_ANSWER);
    gw_buf_init(&p->hdrs, 65536);
    gw_buf_init(&p->wbuf, MAX_SSE_EVENT * 2);
    gw_stream_state_init(&p->st);
    if (p->sticky)
        sticky_model = gw_sticky_get(gw->router.sticky, p->digest, gw_now_ms());
    gw_plan_build(&p->plan, &gw->router, p->model_name, &p->need, sticky_model);
    gw_req_set_handler(req, p, on_abort, on_drain);
    p->in_cb++;
    try_next(p);
    p->in_cb--;
    maybe_free(p);
}
