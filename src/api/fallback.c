/*
 * The fallback engine (see fallback.h).
 */
#include "api/fallback.h"
#include "api/request_trace.h"
#include "api/respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/scrub.h"
#include "router/errtable.h"
#include "router/error_message.h"

#define MAX_ANSWER (32u << 20)  /* a whole upstream answer */
#define MAX_ERROR_BODY 65536    /* an upstream error body we classify */
#define UPSTREAM_IDLE_MIN_MS 60000 /* a stream silent this long is dead */
#define BUSY_WAIT_MS 60000      /* how long a request waits for a busy pair's slot */
#define BUSY_POLL_MS 50         /* how often it looks */

typedef struct slot_wait slot_wait_t;

struct gw_fallback {
    gw_gateway_t *gw;
    gw_req_t *req;            /* NULL: a detached run (answers go to detached_done) */
    char id[48];              /* the client request's id, for logs */
    int64_t start_us;
    void (*detached_done)(void *ctx, int status);
    void *detached_ctx;
    json_t *body;
    char *model_name;
    char *endpoint;
    const char *input_param;
    bool stream;
    const char *stream_type;  /* static: the content type of a streamed answer */
    gw_need_t need;
    const gw_fallback_op_t *op;
    void *op_ctx;
    bool repeat;              /* the next call goes to the same candidate, not a fallover */
    gw_plan_t plan;
    int attempts;
    /* the attempt in flight */
    gw_cand_t *held;          /* chosen, waiting for op->prepare or a repeat */
    gw_cand_t *cur;
    const gw_dialect_t *dialect;
    gw_call_t call;
    gw_xfer_t *xfer;
    int status;
    gw_buf_t in;              /* answer or error body */
    gw_buf_t hdrs;            /* "name\0value\0" of the response headers */
    bool streaming;           /* the op reads this attempt's body as it comes */
    bool committed;
    /* outcome */
    gw_verdict_t last;
    bool have_last;
    bool rate_limited;        /* an attempt failed on a rate limit or quota */
    char last_msg[300];
    char last_code[64];
    int64_t ttfb_us;
    gw_tokens_t usage;
    int64_t attempt_start_us;
    gw_request_trace_t trace; /* attempts and (opt-in) content for the request log */
    slot_wait_t *wait;        /* waiting for a busy pair's slot, or NULL */
    int in_cb;                /* >0 while our code (or pending work) holds this request */
    bool done;                /* answered; free once nothing holds it */
};

/* A timer outlives its request until libuv has closed it. */
struct slot_wait {
    uv_timer_t timer;
    gw_fallback_t *p; /* NULL once the request is gone */
};

typedef gw_fallback_t fb_t;

static void try_next(fb_t *p);

/* ---- teardown and logging ----------------------------------------------- */

static void slot_wait_closed(uv_handle_t *h)
{
    free(h->data);
}

static void fb_free(fb_t *p)
{
    if (p->wait != NULL) {
        p->wait->p = NULL;
        uv_timer_stop(&p->wait->timer);
        uv_close((uv_handle_t *)&p->wait->timer, slot_wait_closed);
    }
    gw_upstream_cancel(p->xfer);
    gw_plan_dispose(&p->plan);
    gw_buf_dispose(&p->in);
    gw_buf_dispose(&p->hdrs);
    json_decref(p->body);
    if (p->op->free != NULL)
        p->op->free(p->op_ctx);
    free(p->model_name);
    free(p->endpoint);
    gw_trace_dispose(&p->trace);
    free(p);
}

static void maybe_free(fb_t *p)
{
    if (p->done && p->in_cb == 0)
        fb_free(p);
}

static void log_request(fb_t *p, int status, const char *error_class)
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
    row.latency_ms = (gw_mono_us() - p->start_us) / 1000;
    row.ttfb_ms = p->ttfb_us > 0 ? (p->ttfb_us - p->start_us) / 1000 : -1;
    row.tokens_in = p->usage.prompt;
    row.tokens_out = p->usage.completion;
    row.attempts = p->attempts;
    row.error_class = error_class;
    row.stream = p->stream;
    row.attempt_log = gw_trace_attempt_log(&p->trace);
    row.content_prompt = gw_trace_prompt_text(&p->trace);
    row.content_answer = gw_trace_answer_text(&p->trace);
    gw_gateway_log_request(p->gw, &row);
}

/* The attempt in flight ended with verdict (see request_trace.h). */
static void trace_attempt(fb_t *p, const char *verdict)
{
    gw_trace_attempt(&p->trace, p->cur, verdict, p->status,
                     (gw_mono_us() - p->attempt_start_us) / 1000);
}

/* Corrects the caps from the estimate to what the attempt really used. */
static void settle_tokens(fb_t *p, int64_t used)
{
    if (gw_plan_settle(&p->plan, used, gw_now_ms()))
        gw_gateway_usage_changed(p->gw);
}

/* Counts a served call's usage (the estimate when the provider gave none). */
static void count_usage(fb_t *p, gw_tokens_t usage)
{
    if (usage.known && p->cur != NULL)
        gw_plan_learn(&p->plan, p->cur->model, usage.prompt);
    if (!usage.known)
        usage.prompt = p->need.prompt_tokens;
    p->usage.prompt += usage.prompt;
    p->usage.completion += usage.completion;
    settle_tokens(p, usage.prompt + usage.completion);
}

static void add_route_headers(fb_t *p)
{
    char v[300];

    if (p->req == NULL)
        return;
    if (p->cur != NULL) {
        snprintf(v, sizeof(v), "%s/%s", p->cur->model->provider->id, p->cur->model->id);
        gw_req_add_header(p->req, "X-Routed-Via", v);
    }
    if (p->attempts > 1) {
        snprintf(v, sizeof(v), "%d", p->attempts - 1);
        gw_req_add_header(p->req, "X-Fallback-Attempts", v);
    }
}

static void finish(fb_t *p)
{
    p->done = true;
    gw_upstream_cancel(p->xfer);
    p->xfer = NULL;
}

/* A detached run's end, in place of an answer to a client: true when p is
 * detached (the caller answers nothing then). */
static bool detached_end(fb_t *p, int status, const char *log_class)
{
    void (*done)(void *ctx, int status) = p->detached_done;

    if (p->req != NULL)
        return false;
    log_request(p, status, log_class);
    finish(p);
    p->detached_done = NULL;
    if (done != NULL)
        done(p->detached_ctx, status);
    return true;
}

/* ---- answers to the client ------------------------------------------------ */

static void respond_too_long(fb_t *p)
{
    bool prompt_alone = p->need.prompt_tokens > p->plan.too_long_window;

    log_request(p, 400, "context_length");
    gw_respond_error(p->req, 400, "invalid_request_error", "context_length_exceeded",
                     prompt_alone ? p->input_param : "max_tokens",
                     "This request needs about %lld tokens (%lld of input%s), more than the "
                     "context window of every model that can serve it (the largest is %lld "
                     "tokens). Shorten the input%s.",
                     (long long)(p->need.prompt_tokens + p->need.max_tokens),
                     (long long)p->need.prompt_tokens,
                     p->need.max_tokens > 0 ? " plus max_tokens" : "",
                     (long long)p->plan.too_long_window,
                     prompt_alone ? "" : " or lower max_tokens");
}

static void respond_no_route(fb_t *p)
{
    log_request(p, 503, "no_route");
    gw_respond_error(p->req, 503, "service_unavailable", "no_route", NULL,
                     "No configured model can serve %s requests%s. Add a key for a provider "
                     "that has such a model (`freellmapi keys add PROVIDER SECRET`), or enable "
                     "one.",
                     p->need.kind,
                     (p->need.caps & GW_CAP_VISION)  ? " with images (vision)"
                     : (p->need.caps & GW_CAP_TOOLS) ? " with tool calling"
                                                     : "");
}

/* Every pair that could serve the request would count it above a whole
 * window's token budget (a free tier's TPM): waiting does not help. */
static void respond_too_large(fb_t *p)
{
    log_request(p, 413, "too_large");
    gw_respond_error(p->req, 413, "invalid_request_error", "request_too_large", NULL,
                     "This request counts about %lld tokens, more than a whole minute's token "
                     "budget of every free-tier model that can serve it (the largest allows "
                     "%lld). Shorten the input%s.",
                     (long long)p->need.prompt_tokens + GW_MAX(p->need.max_tokens, 0),
                     (long long)p->plan.too_large_cap,
                     p->need.max_tokens > 0 ? " or lower max_tokens" : "");
}

static void on_slot_poll(uv_timer_t *t)
{
    slot_wait_t *w = t->data;
    fb_t *p = w->p;

    if (p == NULL || p->done)
        return;
    p->in_cb++;
    gw_plan_rewind(&p->plan);
    try_next(p);
    p->in_cb--;
    maybe_free(p);
}

/* Pairs at their provider's cap of calls in flight are busy, not failed: the
 * request looks again shortly (for at most BUSY_WAIT_MS) rather than being
 * refused. True when it waits. */
static bool wait_for_slot(fb_t *p)
{
    if (p->plan.busy == 0 || gw_mono_us() - p->start_us >= BUSY_WAIT_MS * (int64_t)1000)
        return false;
    if (p->wait == NULL) {
        p->wait = gw_xcalloc(1, sizeof(*p->wait));
        p->wait->p = p;
        uv_timer_init(p->gw->loop, &p->wait->timer);
        p->wait->timer.data = p->wait;
    }
    uv_timer_start(&p->wait->timer, on_slot_poll, BUSY_POLL_MS, 0);
    return true;
}

/* Every candidate is used up: say why, and when trying again makes sense.
 * Rate limits and quotas give 429 with the earliest time one frees up;
 * candidates that all failed otherwise give 503; either way the SDKs are told
 * not to retry on their own (x-should-retry: false). */
static void exhausted(fb_t *p)
{
    int64_t now = gw_now_ms();
    int64_t wait_ms = p->plan.earliest_ms > now ? p->plan.earliest_ms - now : 0;
    gw_req_t *req = p->req;
    char v[32];

    if (wait_for_slot(p))
        return;
    if (detached_end(p, 503, "exhausted"))
        return;
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
        respond_too_long(p); /* keys exist; the request is too long for every model */
    } else if (p->plan.n == 0) {
        respond_no_route(p);
    } else if (p->plan.too_large > 0 && p->plan.limited == 0 && !p->have_last) {
        respond_too_large(p);
    } else if (wait_ms > 0 && (p->rate_limited || p->plan.limited > 0)) {
        log_request(p, 429, "exhausted");
        gw_respond_error(req, 429, "rate_limit_exceeded", "rate_limit_exceeded", NULL,
                         "Every model that can serve this request is rate-limited or out of "
                         "quota right now (%d attempt%s). The earliest frees up in %lld s.",
                         p->attempts, p->attempts == 1 ? "" : "s",
                         (long long)((wait_ms + 999) / 1000));
    } else {
        char cap[64] = "";

        log_request(p, 503, p->have_last ? p->last.name : "no_route");
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
static void return_error(fb_t *p)
{
    int status = p->last.client_status > 0 ? p->last.client_status : 400;

    if (detached_end(p, status, p->last.name))
        return;
    add_route_headers(p);
    log_request(p, status, p->last.name);
    gw_respond_error(p->req, status, status >= 500 ? "server_error" : "invalid_request_error",
                     p->last_code[0] ? p->last_code : NULL, NULL, "%s",
                     p->last_msg[0] ? p->last_msg : "The provider rejected the request.");
    finish(p);
}

void gw_fallback_refuse(fb_t *p, int status, const char *code, const char *param,
                        const char *log_class, const char *msg)
{
    p->in_cb++; /* ops call this from their own callbacks too */
    if (!detached_end(p, status, log_class)) {
        log_request(p, status, log_class);
        gw_respond_error(p->req, status, "invalid_request_error", code, param, "%s", msg);
        finish(p);
    }
    p->in_cb--;
    maybe_free(p);
}

/* ---- failures -------------------------------------------------------------- */

/* Keeps the upstream's own message (and error code) for the client, with
 * anything key-like redacted and this attempt's secret scrubbed. */
static void note_message(fb_t *p, gw_str_t body)
{
    char msg[240];
    json_t *j = json_loadb(body.ptr, body.len, 0, NULL);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));

    p->last_code[0] = '\0';
    if (code != NULL && strlen(code) < sizeof(p->last_code))
        snprintf(p->last_code, sizeof(p->last_code), "%s", code);
    json_decref(j);
    if (gw_error_message(body, msg, sizeof(msg)) == 0)
        snprintf(msg, sizeof(msg), "HTTP %d", p->status);
    gw_scrub_secret(msg, strlen(msg), p->call.secret);
    snprintf(p->last_msg, sizeof(p->last_msg), "%s: %s", p->cur->model->provider->id, msg);
}

static void fail(fb_t *p, const gw_verdict_t *v)
{
    gw_key_health_t before = p->cur->key->health;

    p->last = *v;
    p->have_last = true;
    trace_attempt(p, v->name);
    if (v->fail == GW_FAIL_RATE_MINUTE || v->fail == GW_FAIL_QUOTA_PERIOD ||
        v->fail == GW_FAIL_QUOTA_ACCOUNT)
        p->rate_limited = true;
    /* A call the upstream refused (or never got) counted against none of its
     * caps: give the charge back. One it took and then failed may have. */
    if (v->fail == GW_FAIL_SERVER || v->fail == GW_FAIL_TIMEOUT)
        settle_tokens(p, 0);
    else if (gw_plan_refund(&p->plan, gw_now_ms()))
        gw_gateway_usage_changed(p->gw);
    gw_plan_fail(&p->plan, p->cur, v, gw_now_ms());
    if (p->cur->key->health != before)
        gw_gateway_key_health(p->gw, p->cur->key, v->name);
    gw_log_info("%s: %s/%s failed: %s (attempt %d)", p->id,
                p->cur->model->provider->id, p->cur->model->id, v->name, p->attempts);
    if (v->next == GW_NEXT_RETURN) {
        return_error(p);
        return;
    }
    try_next(p);
}

/* An error answer (err_json: an error found inside a 2xx, else the body read). */
static void fail_body(fb_t *p, int status, json_t *err_json)
{
    gw_verdict_t v;
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
    gw_errtable_classify(p->cur->model->provider, status, body, hs, nh, gw_now_ms(), &v);
    note_message(p, body);
    free(text);
    fail(p, &v);
}

static void fail_transport(fb_t *p, gw_fail_t kind, const char *what)
{
    gw_verdict_t v;

    gw_errtable_transport(p->cur->model->provider, kind, gw_now_ms(), &v);
    snprintf(p->last_msg, sizeof(p->last_msg), "%s: %s", p->cur->model->provider->id, what);
    p->last_code[0] = '\0';
    fail(p, &v);
}

/* ---- streamed answers: what the op calls ----------------------------------- */

void gw_fallback_commit(fb_t *p)
{
    add_route_headers(p);
    gw_req_stream_start(p->req, 200, p->stream_type);
    p->committed = true;
    gw_plan_served(&p->plan, p->cur, gw_now_ms());
    /* No fallover after this point: the request and the headers are done with
     * (stream decoding reads neither), so a long stream does not hold the
     * whole parsed conversation. */
    gw_buf_dispose(&p->hdrs);
    json_decref(p->body);
    p->body = NULL;
    p->call.req = NULL;
}

bool gw_fallback_committed(const fb_t *p)
{
    return p->committed;
}

int gw_fallback_stream_write(fb_t *p, const char *data, size_t n)
{
    gw_trace_answer(&p->trace, data, n);
    return gw_req_stream_write(p->req, data, n);
}

void gw_fallback_stream_end(fb_t *p, bool ok, const gw_tokens_t *usage)
{
    p->usage = *usage;
    if (usage->known)
        gw_plan_learn(&p->plan, p->cur->model, usage->prompt);
    trace_attempt(p, ok ? "ok" : "stream_interrupted");
    if (ok)
        gw_plan_success(&p->plan, p->cur);
    gw_req_stream_end(p->req);
    settle_tokens(p, p->usage.prompt + p->usage.completion);
    log_request(p, 200, ok ? NULL : "stream_interrupted");
    finish(p);
}

void gw_fallback_stream_failed(fb_t *p, json_t *error_body)
{
    fail_body(p, 200, error_body);
}

bool gw_fallback_done(const fb_t *p)
{
    return p->done;
}

const gw_model_t *gw_fallback_model(const fb_t *p)
{
    return p->cur->model;
}

/* ---- upstream callbacks ------------------------------------------------------ */

static int on_headers(void *ctx, int status, const gw_header_t *hdrs, size_t n)
{
    fb_t *p = ctx;
    bool ok = status >= 200 && status < 300;

    p->status = status;
    gw_buf_reset(&p->hdrs);
    for (size_t i = 0; i < n; i++) {
        gw_buf_append(&p->hdrs, hdrs[i].name, strlen(hdrs[i].name) + 1);
        gw_buf_append(&p->hdrs, hdrs[i].value, strlen(hdrs[i].value) + 1);
    }
    gw_plan_observe(&p->plan, hdrs, n, !(p->stream && ok), gw_now_ms());
    gw_buf_reset(&p->in);
    p->in.max = ok ? MAX_ANSWER : MAX_ERROR_BODY;
    if (p->stream && ok && p->op->stream_open != NULL) {
        p->streaming = true;
        p->op->stream_open(p->op_ctx, p, &p->call, p->dialect);
    }
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    fb_t *p = ctx;
    int rc;

    if (p->ttfb_us == 0)
        p->ttfb_us = gw_mono_us();
    if (p->streaming) {
        p->in_cb++;
        rc = p->op->stream_data(p->op_ctx, d, n);
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

static const char *response_header(const fb_t *p, const char *name)
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

static void answer_free(gw_answer_t *a)
{
    gw_buf_dispose(&a->reply.body);
    json_decref(a->json);
    free(a);
}

/* Speech answers are audio: only text is worth keeping as an answer. */
static bool answer_is_text(const gw_answer_t *a)
{
    const char *ct = a->reply.content_type;

    return strncmp(ct, "application/json", 16) == 0 || strncmp(ct, "text/", 5) == 0;
}

/* What the op made of a whole answer, now or later (GW_PENDING): deliver,
 * repeat, or fail over. Takes a. */
static void settle_answer(fb_t *p, int rc, gw_answer_t *a)
{
    if (rc != 0 && rc != GW_AGAIN) {
        json_t *j = a->json_read ? json_incref(a->json)
                                 : json_loadb(a->body.ptr, a->body.len, 0, NULL);

        if (json_object_get(j, "error") != NULL)
            fail_body(p, 200, j);
        else
            fail_transport(p, GW_FAIL_SERVER, a->err.msg[0] ? a->err.msg : "unusable answer");
        json_decref(j);
        answer_free(a);
        return;
    }
    count_usage(p, a->usage);
    if (rc == GW_AGAIN) {
        answer_free(a);
        p->held = p->cur;
        p->repeat = true;
        try_next(p);
        return;
    }
    add_route_headers(p);
    gw_plan_served(&p->plan, p->cur, gw_now_ms());
    gw_plan_success(&p->plan, p->cur);
    trace_attempt(p, "ok");
    if (answer_is_text(a))
        gw_trace_answer(&p->trace, a->reply.body.ptr, a->reply.body.len);
    if (detached_end(p, 200, NULL)) {
        answer_free(a);
        return;
    }
    log_request(p, 200, NULL);
    gw_req_respond(p->req, 200, a->reply.content_type, &a->reply.body);
    answer_free(a);
    finish(p);
}

/* A whole 2xx answer: the op renders the client's answer. */
static void hand_answer(fb_t *p)
{
    const char *ct = response_header(p, "content-type");
    gw_answer_t *a = gw_xcalloc(1, sizeof(*a));
    int rc;

    a->cand = p->cur;
    a->dialect = p->dialect;
    a->call = &p->call;
    a->content_type = ct != NULL ? ct : "";
    a->body = (gw_str_t){p->in.ptr != NULL ? p->in.ptr : "", p->in.len};
    gw_buf_init(&a->reply.body, MAX_ANSWER * 2);
    rc = p->op->answer(p->op_ctx, p, a);
    if (rc == GW_PENDING) {
        p->in_cb++; /* kept alive until gw_fallback_answer_done */
        return;
    }
    settle_answer(p, rc, a);
}

void gw_fallback_answer_done(fb_t *p, int rc, gw_answer_t *a)
{
    if (p->done) /* the client left meanwhile */
        answer_free(a);
    else
        settle_answer(p, rc, a);
    p->in_cb--;
    maybe_free(p);
}

static void on_done_inner(fb_t *p, gw_xfer_outcome_t outcome, int status)
{
    p->xfer = NULL;
    if (p->streaming) {
        p->streaming = false;
        if (p->op->stream_close(p->op_ctx, outcome) || p->done)
            return;
        /* 200 but nothing usable before the end: a failed attempt, not an answer. */
        if (outcome == GW_XFER_TIMEOUT)
            fail_transport(p, GW_FAIL_TIMEOUT, "timed out");
        else if (outcome != GW_XFER_OK)
            fail_transport(p, GW_FAIL_NETWORK, "connection failed");
        else
            fail_transport(p, GW_FAIL_SERVER, "empty stream");
        return;
    }
    if (outcome == GW_XFER_TIMEOUT) {
        fail_transport(p, GW_FAIL_TIMEOUT, "timed out");
        return;
    }
    if (outcome != GW_XFER_OK) {
        fail_transport(p, GW_FAIL_NETWORK,
                       outcome == GW_XFER_TOOBIG ? "answer too large" : "connection failed");
        return;
    }
    if (status < 200 || status >= 300) {
        fail_body(p, status, NULL);
        return;
    }
    hand_answer(p);
}

static void on_done(void *ctx, gw_xfer_outcome_t outcome, int status)
{
    fb_t *p = ctx;

    p->in_cb++;
    on_done_inner(p, outcome, status);
    p->in_cb--;
    maybe_free(p);
}

static const gw_xfer_cbs_t xfer_cbs = {on_headers, on_data, on_done};

/* ---- attempts ------------------------------------------------------------------ */

static void reset_attempt(fb_t *p)
{
    p->streaming = false;
    gw_buf_reset(&p->in);
    gw_buf_reset(&p->hdrs);
    p->status = 0;
}

void gw_fallback_resume(fb_t *p)
{
    p->in_cb++;
    try_next(p);
    p->in_cb--;
    maybe_free(p);
}

/* The request could not be built for this candidate. True when that ends the
 * request (it cannot be sent anywhere like this); false: try the next one. */
static bool request_refused(fb_t *p, const gw_err_t *err)
{
    p->repeat = false;
    if (err->http_status != 400)
        return false;
    gw_fallback_refuse(p, 400, "invalid_value", NULL, "bad_request", err->msg);
    return true;
}

/* Starts the upstream call with the built request (the pair was charged when chosen). */
static void send_attempt(fb_t *p, gw_cand_t *c, gw_http_out_t *out)
{
    gw_gateway_t *gw = p->gw;
    gw_upstream_opts_t opts = {0};

    opts.first_byte_ms = gw->upstream_timeout_ms > 0 ? gw->upstream_timeout_ms
                                                     : c->model->provider->timeout_ms;
    opts.idle_ms = GW_MAX(opts.first_byte_ms, UPSTREAM_IDLE_MIN_MS);
    if (!p->repeat) {
        p->attempts++;
        p->attempt_start_us = gw_mono_us();
    }
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
    fb_t *p;
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
    fb_t *p = j->p;

    if (!p->done) {
        if (status != 0)
            gw_err_set(&j->err, GW_EIO, 0, "writing the request was cancelled");
        if (status == 0 && j->rc == 0) {
            send_attempt(p, j->c, &j->out);
        } else {
            gw_plan_refund(&p->plan, gw_now_ms()); /* never sent */
            if (!request_refused(p, &j->err))
                try_next(p);
        }
    }
    gw_http_out_dispose(&j->out);
    free(j);
    p->in_cb--; /* held since body_write was queued */
    maybe_free(p);
}

bool gw_fallback_body_off_loop(int64_t prompt_tokens)
{
    return prompt_tokens >= OFF_LOOP_BODY_TOKENS;
}

/* Takes out on success: send_attempt follows from body_written. */
static bool write_body_off_loop(fb_t *p, gw_cand_t *c, gw_http_out_t *out)
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

/* The candidate to call next: a repeat's own pair while its caps allow, else
 * the plan's next free pair that the op accepts. NULL when none is left. */
static gw_cand_t *next_candidate(fb_t *p)
{
    gw_cand_t *c = p->held;

    p->held = NULL;
    if (c != NULL && p->repeat && !gw_plan_may_repeat(&p->plan, c, gw_now_ms())) {
        c = NULL; /* a repeat (one more image) on the same pair still obeys its caps */
        p->repeat = false;
    }
    if (c != NULL)
        return c;
    if (p->attempts >= GW_MAX_ATTEMPTS)
        return NULL;
    while ((c = gw_plan_next(&p->plan, gw_now_ms())) != NULL) {
        if (gw_dialect_for(c->model->provider) == NULL)
            continue; /* a wire format this build does not speak */
        if (p->op->accept != NULL && !p->op->accept(p->op_ctx, c))
            continue;
        return c;
    }
    return NULL;
}

static void try_next(fb_t *p)
{
    gw_gateway_t *gw = p->gw;

    for (;;) {
        gw_cand_t *c;
        gw_http_out_t out;
        gw_err_t err = {0};
        int rc;

        if (p->done)
            return;
        c = next_candidate(p);
        if (c == NULL) {
            exhausted(p);
            return;
        }
        /* Charged when chosen, not when sent: a large body built on the
         * thread pool, or an op's prepare step, takes time in which other
         * requests would still see the pair's room (or its one concurrent
         * slot) free. A held pair (prepare done) is charged already. */
        if (p->plan.charged != c) {
            gw_plan_charge(&p->plan, c, gw_now_ms());
            gw_gateway_usage_changed(gw);
        }
        p->dialect = gw_dialect_for(c->model->provider);
        reset_attempt(p);
        p->cur = c;
        p->call.model = c->model;
        p->call.secret = c->key->secret;
        p->call.account_id = c->key->account_id;
        p->call.req = p->body;
        p->call.stream = p->stream;
        p->call.sigs = &gw->sigs;
        p->call.defer_body = gw_fallback_body_off_loop(p->need.prompt_tokens);
        if (p->op->prepare != NULL &&
            p->op->prepare(p->op_ctx, p, &p->call, p->dialect) == GW_PENDING) {
            p->held = c; /* gw_fallback_resume carries on with it */
            return;
        }
        gw_http_out_init(&out);
        rc = p->op->request(p->op_ctx, &p->call, p->dialect, &out, &err);
        if (rc == 0 && out.json != NULL) {
            if (write_body_off_loop(p, c, &out))
                return; /* body_written carries on */
            rc = gw_dialect_write_body(&out, &err);
        }
        if (rc != 0) {
            gw_http_out_dispose(&out);
            gw_plan_refund(&p->plan, gw_now_ms()); /* never sent */
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
    fb_t *p = ctx;

    if (p->done)
        return;
    gw_log_debug("%s: client gone; cancelling the upstream call", p->id);
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
    fb_t *p = ctx;

    p->in_cb++;
    gw_upstream_resume(p->xfer);
    p->in_cb--;
    maybe_free(p);
}

static fb_t *fb_new(gw_gateway_t *gw, gw_fallback_spec_t *spec)
{
    fb_t *p = gw_xcalloc(1, sizeof(*p));

    p->gw = gw;
    p->body = spec->req;
    p->model_name = gw_xstrdup(spec->model);
    p->endpoint = gw_xstrdup(spec->endpoint);
    p->input_param = spec->input_param;
    p->stream = spec->stream;
    p->stream_type = spec->stream_type != NULL ? spec->stream_type : "text/event-stream";
    p->need = spec->need;
    p->op = spec->op;
    p->op_ctx = spec->op_ctx;
    gw_buf_init(&p->in, MAX_ANSWER);
    gw_buf_init(&p->hdrs, 65536);
    gw_trace_init(&p->trace, gw->log_content);
    gw_trace_prompt(&p->trace, p->body);
    gw_plan_build(&p->plan, &gw->router, p->model_name, &p->need,
                  spec->sticky ? spec->digest : NULL, gw_now_ms());
    return p;
}

static void fb_start(fb_t *p)
{
    p->in_cb++;
    try_next(p);
    p->in_cb--;
    maybe_free(p);
}

void gw_fallback_run(gw_gateway_t *gw, gw_req_t *req, gw_fallback_spec_t *spec)
{
    fb_t *p;

    /* The client asks for the named model only (the Test Lab's sweeps do). */
    if (gw_req_header(req, GW_HEADER_NO_FALLOVER) != NULL)
        spec->need.only_named = true;
    p = fb_new(gw, spec);

    p->req = req;
    p->start_us = gw_req_start_us(req);
    snprintf(p->id, sizeof(p->id), "%s", gw_req_id(req));
    gw_req_set_handler(req, p, on_abort, on_drain);
    fb_start(p);
}

gw_fallback_t *gw_fallback_run_detached(gw_gateway_t *gw, const char *id,
                                        gw_fallback_spec_t *spec,
                                        void (*done)(void *ctx, int status), void *ctx)
{
    fb_t *p = fb_new(gw, spec);

    p->start_us = gw_mono_us();
    snprintf(p->id, sizeof(p->id), "%s", id);
    p->detached_done = done;
    p->detached_ctx = ctx;
    p->in_cb++; /* the caller's handle stays valid until this returns */
    try_next(p);
    p->in_cb--;
    if (p->done) {
        maybe_free(p);
        return NULL; /* over already: done has been called */
    }
    return p;
}

void gw_fallback_cancel(gw_fallback_t *p)
{
    if (p == NULL || p->done)
        return;
    p->detached_done = NULL; /* no callback for a run the caller ended */
    settle_tokens(p, 0);
    log_request(p, 499, "cancelled");
    finish(p);
    maybe_free(p);
}
