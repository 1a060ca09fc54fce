/*
 * The media job (media.h): a fallback op over the dialects' media calls.
 */
#include "api/media.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/json_buf.h"
#include "router/router.h"

#define MAX_FORM_FIELD 65536
#define MAX_FORM_ITEMS 64

gw_media_job_t *gw__media_job_new(gw_gateway_t *gw, gw_op_t op)
{
    gw_media_job_t *job = gw_xcalloc(1, sizeof(*job));

    job->gw = gw;
    job->call.op = op;
    job->params = json_object();
    job->call.params = job->params;
    return job;
}

void gw__media_job_free(gw_media_job_t *job)
{
    if (job == NULL)
        return;
    if (job->state_free != NULL)
        job->state_free(job->state);
    json_decref(job->params);
    gw_form_dispose(&job->form);
    free(job);
}

bool gw__media_job_file(gw_media_job_t *job, const char *field, const gw_form_item_t *it)
{
    gw_media_file_t *f;

    if (job->nfiles >= GW_ARRAY_LEN(job->files))
        return false;
    f = &job->files[job->nfiles++];
    f->field = field;
    f->filename = it->filename != NULL ? it->filename : field;
    f->content_type = it->content_type;
    f->data = (const unsigned char *)(it->data.ptr != NULL ? it->data.ptr : "");
    f->len = it->data.len;
    job->call.files = job->files;
    job->call.nfiles = job->nfiles;
    return true;
}

/* ---- the op ------------------------------------------------------------------ */

/* Vectors from different weights or sizes must never mix in one index. */
static bool op_accept(void *ctx, const gw_cand_t *c)
{
    gw_media_job_t *job = ctx;
    const gw_model_t *m = c->model;

    json_t *want = json_object_get(job->params, "dimensions");

    if (job->call.op != GW_OP_EMBED)
        return true;
    if (json_is_integer(want) && !gw_model_makes_size(m, json_integer_value(want)))
        return false;
    if (job->first == NULL)
        return true;
    return strcmp(m->space, job->first->space) == 0 && m->dimensions == job->first->dimensions;
}

static int op_request(void *ctx, const gw_call_t *call, const gw_dialect_t *d,
                      gw_http_out_t *out, gw_err_t *err)
{
    gw_media_job_t *job = ctx;
    int rc;

    if (d->media_request == NULL)
        return GW_DECLINED;
    job->call.model = call->model;
    job->call.secret = call->secret;
    job->call.account_id = call->account_id;
    rc = d->media_request(&job->call, out, err);
    if (rc == 0 && job->call.op == GW_OP_EMBED && job->first == NULL)
        job->first = call->model;
    return rc;
}

/* Long answers (a batch of embeddings runs to megabytes of numbers, audio and
 * images to megabytes of base64) are read on the pool (GW_OFF_LOOP_BYTES). */

/* Reads the provider's 2xx answer into the canonical result. */
static int read_answer(gw_media_job_t *job, const gw_dialect_t *d, const char *content_type,
                       gw_str_t body, gw_media_result_t *res, gw_tokens_t *usage,
                       gw_err_t *err)
{
    if (d->media_response(&job->call, content_type, body, res, err) != 0)
        return GW_DECLINED;
    if (res->prompt_tokens >= 0) {
        usage->prompt = res->prompt_tokens;
        usage->completion = res->output_tokens;
        usage->known = true;
    }
    return 0;
}

/* An answer read (and rendered, when the render touches nothing shared) on
 * the thread pool; the engine waits, leaving the answer's bytes alone. */
typedef struct answer_work {
    uv_work_t work;
    gw_media_job_t *job;
    gw_fallback_t *fb;
    gw_answer_t *a;
    gw_media_result_t res;
    bool render_here; /* render on the pool too */
    bool rendered;
    int rc;
} answer_work_t;

static void answer_run(uv_work_t *w)
{
    answer_work_t *aw = w->data;
    gw_answer_t *a = aw->a;

    aw->rc = read_answer(aw->job, a->dialect, a->content_type, a->body, &aw->res, &a->usage,
                         &a->err);
    if (aw->rc == 0 && aw->render_here) {
        aw->rc = aw->job->render(aw->job, a->cand, &aw->res, &a->reply, &a->err);
        aw->rendered = true;
    }
}

static void answer_after(uv_work_t *w, int status)
{
    answer_work_t *aw = w->data;
    gw_answer_t *a = aw->a;

    if (status == 0 && aw->rc == 0 && !aw->rendered) /* a render with side effects */
        aw->rc = aw->job->render(aw->job, a->cand, &aw->res, &a->reply, &a->err);
    gw_media_result_dispose(&aw->res);
    if (status != 0 || aw->rc == GW_PENDING) {
        gw_err_set(&a->err, GW_DECLINED, 0, "reading the answer was cancelled");
        aw->rc = GW_DECLINED;
    }
    gw_fallback_answer_done(aw->fb, aw->rc, a);
    free(aw);
}

static bool answer_off_loop(gw_media_job_t *job, gw_fallback_t *fb, gw_answer_t *a)
{
    answer_work_t *aw = gw_xcalloc(1, sizeof(*aw));

    aw->work.data = aw;
    aw->job = job;
    aw->fb = fb;
    aw->a = a;
    gw_media_result_init(&aw->res);
    aw->render_here = job->render_off_loop || job->render_pure;
    if (uv_queue_work(job->gw->loop, &aw->work, answer_run, answer_after) == 0)
        return true;
    free(aw);
    return false;
}

static int op_answer(void *ctx, gw_fallback_t *fb, gw_answer_t *a)
{
    gw_media_job_t *job = ctx;
    gw_media_result_t res;
    int rc;

    job->call.model = a->cand->model;
    job->call.secret = a->cand->key->secret;
    job->call.account_id = a->cand->key->account_id;
    if ((job->render_off_loop || a->body.len >= GW_OFF_LOOP_BYTES) &&
        answer_off_loop(job, fb, a))
        return GW_PENDING;
    gw_media_result_init(&res);
    rc = read_answer(job, a->dialect, a->content_type, a->body, &res, &a->usage, &a->err);
    if (rc == 0)
        rc = job->render(job, a->cand, &res, &a->reply, &a->err);
    gw_media_result_dispose(&res);
    return rc;
}

static void op_free(void *ctx)
{
    gw__media_job_free(ctx);
}

static const gw_fallback_op_t media_op = {
    .accept = op_accept,
    .request = op_request,
    .answer = op_answer,
    .free = op_free,
};

void gw__media_start(gw_req_t *req, gw_media_job_t *job, const char *endpoint, const char *model,
                     const char *kind, unsigned caps, int64_t prompt_tokens)
{
    gw_fallback_spec_t spec;

    memset(&spec, 0, sizeof(spec));
    spec.endpoint = endpoint;
    spec.model = model;
    spec.input_param = "input";
    spec.need.kind = kind;
    spec.need.caps = caps;
    spec.need.prompt_tokens = prompt_tokens;
    job->call.defer_body = gw_fallback_body_off_loop(prompt_tokens);
    spec.req = json_incref(job->params);
    spec.op = &media_op;
    spec.op_ctx = job;
    gw_fallback_run(job->gw, req, &spec);
}

int gw__media_reply_json(gw_reply_t *reply, json_t *obj, gw_err_t *err)
{
    int rc = gw_json_append(&reply->body, obj);

    json_decref(obj);
    if (rc != 0) {
        gw_err_set(err, GW_DECLINED, 0, "could not encode the answer");
        return GW_DECLINED;
    }
    snprintf(reply->content_type, sizeof(reply->content_type), "application/json");
    return 0;
}

void gw__media_missing(gw_req_t *req, const char *param, const char *msg)
{
    gw_respond_error(req, 400, "invalid_request_error", "missing_required_parameter", param,
                         "%s", msg);
}

/* ---- request parsing ---------------------------------------------------------- */

void gw__media_bad(gw_req_t *req, const char *param, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_respond_error(req, 400, "invalid_request_error", "invalid_value", param, "%s", msg);
}

bool gw__media_json_content_type(gw_req_t *req)
{
    const char *ct = gw_req_header(req, "Content-Type");

    if (ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        gw_respond_error(req, 400, "invalid_request_error", "invalid_content_type", NULL,
                             "This endpoint takes a JSON body (Content-Type: "
                             "application/json), not multipart/form-data.");
        return false;
    }
    return true;
}

json_t *gw__media_json_body(gw_req_t *req)
{
    gw_str_t raw = gw_req_body(req);
    json_error_t jerr;
    json_t *body;

    if (!gw__media_json_content_type(req))
        return NULL;
    body = json_loadb(raw.ptr != NULL ? raw.ptr : "", raw.len, 0, &jerr);
    return gw_api_json_object(req, body, &jerr) ? body : NULL;
}

bool gw__media_form_body(gw_req_t *req, gw_form_t *form, size_t max_file)
{
    gw_form_limits_t lim = {max_file, MAX_FORM_FIELD, MAX_FORM_ITEMS};
    gw_err_t err = {0};

    if (!gw_form_is_multipart(req)) {
        gw_respond_error(req, 400, "invalid_request_error", "invalid_content_type", NULL,
                             "This endpoint takes a multipart/form-data upload (Content-Type: "
                             "multipart/form-data; boundary=...).");
        return false;
    }
    if (gw_form_parse(req, &lim, form, &err) != 0) {
        if (err.http_status == 413)
            gw_respond_error(req, 413, "invalid_request_error", "request_too_large", NULL, "%s",
                                 err.msg);
        else
            gw_respond_error(req, 400, "invalid_request_error", "invalid_multipart", NULL, "%s",
                                 err.msg);
        return false;
    }
    /* The form holds its own copies: a 25 MB upload is not kept twice. */
    gw_req_release_body(req);
    return true;
}

const char *gw__media_model(gw_gateway_t *gw, gw_req_t *req, const char *name, const char *kind,
                            const char *what)
{
    const gw_model_t *m;

    if (name == NULL || name[0] == '\0' || strcmp(name, "auto") == 0)
        return "auto";
    m = gw_router_find_model(&gw->router, name);
    if (m == NULL)
        return "auto";
    if (strcmp(m->kind, kind) != 0) {
        gw_respond_error(req, 400, "invalid_request_error", "model_not_supported", "model",
                             "The model '%s' cannot serve %s (it is a%s %s model). GET "
                             "/v1/models lists the models; \"auto\" picks one.",
                             name, what, strchr("aeiou", m->kind[0]) != NULL ? "n" : "", m->kind);
        return NULL;
    }
    return name;
}
