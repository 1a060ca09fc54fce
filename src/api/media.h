/*
 * What the media endpoints (embeddings, images, audio, realtime) share: the
 * job that runs one call through the fallback engine as an op, JSON
 * and form body parsing with OpenAI-style errors, and model resolution.
 *
 * An endpoint validates its request into job->params (media.h shapes),
 * attaches uploaded files, picks a render function that turns the dialect's
 * canonical result into OpenAI's exact answer, and starts the job.
 */
#ifndef GW_API_MEDIA_H
#define GW_API_MEDIA_H

#include "api/json_body.h"
#include "api/fallback.h"
#include "api/respond.h"
#include "http/form.h"
#include "providers/media.h"

typedef struct gw_media_job gw_media_job_t;

/* Renders a decoded 2xx result into the client's answer (reply). Returns 0,
 * GW_AGAIN (call the same candidate again) or GW_DECLINED (err set). */
typedef int (*gw_media_render_fn)(gw_media_job_t *job, const gw_cand_t *c,
                                  gw_media_result_t *res, gw_reply_t *reply, gw_err_t *err);

struct gw_media_job {
    gw_gateway_t *gw;
    gw_media_call_t call;     /* op, params, files; the candidate's fields per attempt */
    json_t *params;           /* owned */
    gw_form_t form;           /* owns the uploaded bytes the files point into */
    gw_media_file_t files[8];
    size_t nfiles;
    gw_media_render_fn render;
    bool render_off_loop;     /* render in the thread pool (CPU-heavy: audio encoding) */
    bool render_pure;         /* the render touches nothing shared: for a large
                                 answer it runs on the pool with the reading */
    void *state;              /* the endpoint's, freed with state_free */
    void (*state_free)(void *state);
    const gw_model_t *first;  /* embeddings: the vector space chosen */
};

gw_media_job_t *gw__media_job_new(gw_gateway_t *gw, gw_op_t op);
void gw__media_job_free(gw_media_job_t *job);
/* Adds an uploaded file (borrowed from job->form) under a field name. */
bool gw__media_job_file(gw_media_job_t *job, const char *field, const gw_form_item_t *it);

/* Runs the job through the fallback loop (the job is taken). model is as
 * the client named it; kind and caps select the candidates. */
void gw__media_start(gw_req_t *req, gw_media_job_t *job, const char *endpoint,
                     const char *model, const char *kind, unsigned caps, int64_t prompt_tokens);

/* The JSON object body, or NULL after answering 400. Parsed on the loop: for
 * endpoints whose bodies stay small (see gw_api_parse_json otherwise). */
json_t *gw__media_json_body(gw_req_t *req);
/* False after answering 400 to a multipart body sent to a JSON endpoint. */
bool gw__media_json_content_type(gw_req_t *req);
/* The form body, or false after answering 400/413. */
bool gw__media_form_body(gw_req_t *req, gw_form_t *form, size_t max_file);

/* Which name to route by: a catalog model of that kind as named, or "auto"
 * for names the catalog does not know (OpenAI's own: whisper-1, tts-1,
 * dall-e-3...). NULL after answering 400 when the named model is of another
 * kind. */
const char *gw__media_model(gw_gateway_t *gw, gw_req_t *req, const char *name, const char *kind,
                            const char *what);

/* Puts obj (reference taken) into reply as application/json; GW_DECLINED
 * (err set) when it cannot be encoded. For render functions. */
int gw__media_reply_json(gw_reply_t *reply, json_t *obj, gw_err_t *err);

/* 400 missing_required_parameter naming the parameter. */
void gw__media_missing(gw_req_t *req, const char *param, const char *msg);

/* 400 invalid_request_error naming the parameter. */
void gw__media_bad(gw_req_t *req, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
