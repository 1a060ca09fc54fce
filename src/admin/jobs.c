/*
 * Store work of admin requests on the libuv thread pool (see admin_int.h):
 * each job opens its own SQLite connection, so a slow disk or a busy database
 * never holds the loop that carries /v1 traffic.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin/admin_int.h"
#include "api/respond.h"

static void job_run(uv_work_t *w)
{
    gw_admin_job_t *j = w->data;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    if (gw_store_open(&st, j->ad->data_dir, &err) != 0) {
        gw__admin_fail(j, 500, "store_unavailable", NULL, "The database cannot be opened: %s",
                       err.msg);
        return;
    }
    j->fn(j, st);
    gw_store_close(st);
}

static void no_content(gw_req_t *req)
{
    gw_buf_t empty;

    gw_buf_init(&empty, 0);
    gw_req_respond(req, 204, NULL, &empty);
}

static void retry_later(gw_admin_job_t *j)
{
    char v[32];

    snprintf(v, sizeof(v), "%lld", (long long)j->retry_after_s);
    gw_req_add_header(j->req, "Retry-After", v);
    gw__admin_error(j->req, j->status, j->code, j->param, "%s", j->msg);
}

static void send_raw(gw_admin_job_t *j)
{
    char v[200];

    snprintf(v, sizeof(v), "attachment; filename=\"%s\"", j->raw_name);
    gw_req_add_header(j->req, "Content-Disposition", v);
    gw_req_add_header(j->req, "Cache-Control", "no-store");
    if (j->raw_truncated)
        gw_req_add_header(j->req, "X-Export-Truncated", "true");
    gw_req_respond(j->req, 200, j->raw_type, &j->raw);
}

static void job_done(uv_work_t *w, int status)
{
    gw_admin_job_t *j = w->data;
    bool ok = status == 0 && j->status < 400;

    if (ok && j->changes_config)
        gw_gateway_config_changed(j->ad->gw);
    if (ok && j->answer_now != NULL) {
        json_t *before = j->answer;

        j->answer = j->answer_now(j);
        json_decref(before);
    }
    if (j->req != NULL) {
        gw_req_set_handler(j->req, NULL, NULL, NULL);
        if (status != 0)
            gw__admin_error(j->req, 503, "shutting_down", NULL, "The gateway is shutting down.");
        else if (j->status >= 400 && j->retry_after_s > 0)
            retry_later(j);
        else if (j->status >= 400)
            gw__admin_error(j->req, j->status, j->code, j->param, "%s", j->msg);
        else if (j->raw_type != NULL)
            send_raw(j);
        else if (j->answer == NULL)
            no_content(j->req);
        else
            gw_respond_json(j->req, j->status > 0 ? j->status : 200, json_incref(j->answer));
    }
    if (j->finally != NULL)
        j->finally(j);
    json_decref(j->answer);
    json_decref(j->in);
    gw_buf_dispose(&j->raw);
    free(j);
}

static void job_abandoned(void *ctx)
{
    ((gw_admin_job_t *)ctx)->req = NULL;
}

void gw__admin_run(gw_admin_t *ad, gw_req_t *req, gw_admin_work_fn fn, json_t *in, int64_t id,
                   bool changes_config)
{
    gw__admin_run_then(ad, req, fn, in, id, changes_config, NULL);
}

gw_admin_job_t *gw__admin_run_then(gw_admin_t *ad, gw_req_t *req, gw_admin_work_fn fn,
                                   json_t *in, int64_t id, bool changes_config,
                                   json_t *(*answer_now)(gw_admin_job_t *))
{
    gw_admin_job_t *j = gw_xcalloc(1, sizeof(*j));

    j->work.data = j;
    j->ad = ad;
    j->req = req;
    j->fn = fn;
    j->in = in;
    j->id = id;
    j->changes_config = changes_config;
    j->answer_now = answer_now;
    if (req != NULL)
        gw_req_set_handler(req, j, job_abandoned, NULL);
    if (uv_queue_work(ad->gw->loop, &j->work, job_run, job_done) != 0) {
        if (req != NULL) {
            gw_req_set_handler(req, NULL, NULL, NULL);
            gw__admin_error(req, 503, "busy", NULL,
                            "The gateway cannot take this now; try again.");
        }
        json_decref(in);
        free(j);
        return NULL;
    }
    return j;
}

void gw__admin_run_detached(gw_admin_t *ad, gw_admin_work_fn fn, json_t *in, bool changes_config)
{
    gw__admin_run_then(ad, NULL, fn, in, 0, changes_config, NULL);
}

void gw__admin_fail(gw_admin_job_t *j, int status, const char *code, const char *param,
                    const char *fmt, ...)
{
    va_list ap;

    j->status = status;
    j->code = code;
    j->param = param;
    va_start(ap, fmt);
    vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
    va_end(ap);
    json_decref(j->answer);
    j->answer = NULL;
}
