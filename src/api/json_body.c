/*
 * Request bodies parsed as JSON, long ones on the libuv thread pool (see
 * json_body.h).
 */
#include <stdlib.h>

#include "api/json_body.h"
#include "api/respond.h"

typedef struct parse_job {
    uv_work_t work;
    gw_gateway_t *gw;
    gw_req_t *req; /* NULL once the client has gone */
    gw_buf_t raw;  /* taken from the request, which may be freed meanwhile */
    gw_api_parsed_fn then;
    json_t *body;
    json_error_t jerr;
} parse_job_t;

static void parse_run(uv_work_t *w)
{
    parse_job_t *j = w->data;

    j->body = json_loadb(j->raw.ptr, j->raw.len, 0, &j->jerr);
    gw_buf_dispose(&j->raw);
}

static void parse_after(uv_work_t *w, int status)
{
    parse_job_t *j = w->data;

    if (j->req != NULL) {
        gw_req_set_handler(j->req, NULL, NULL, NULL);
        if (status == 0)
            j->then(j->gw, j->req, j->body, &j->jerr);
        else
            gw_respond_error(j->req, 503, "server_error", "shutting_down", NULL,
                                 "The gateway is shutting down.");
    } else {
        json_decref(j->body);
    }
    gw_buf_dispose(&j->raw);
    free(j);
}

static void parse_abandoned(void *ctx)
{
    ((parse_job_t *)ctx)->req = NULL;
}

void gw_api_parse_json(gw_gateway_t *gw, gw_req_t *req, gw_api_parsed_fn then)
{
    gw_str_t raw = gw_req_body(req);
    json_error_t jerr;
    parse_job_t *j;

    if (raw.len >= GW_OFF_LOOP_BYTES) {
        j = gw_xcalloc(1, sizeof(*j));
        j->work.data = j;
        j->gw = gw;
        j->req = req;
        j->then = then;
        j->raw = gw_req_take_body(req);
        gw_req_set_handler(req, j, parse_abandoned, NULL);
        if (uv_queue_work(gw->loop, &j->work, parse_run, parse_after) == 0)
            return;
        gw_req_set_handler(req, NULL, NULL, NULL);
        then(gw, req, json_loadb(j->raw.ptr, j->raw.len, 0, &jerr), &jerr);
        gw_buf_dispose(&j->raw);
        free(j);
        return;
    }
    then(gw, req, json_loadb(raw.ptr != NULL ? raw.ptr : "", raw.len, 0, &jerr), &jerr);
}

bool gw_api_json_object(gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    if (body == NULL) {
        gw_respond_error(req, 400, "invalid_request_error", "invalid_json", NULL,
                             "We could not parse the JSON body of your request: %s (line %d, "
                             "column %d).",
                             jerr->text, jerr->line, jerr->column);
        return false;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        gw_respond_error(req, 400, "invalid_request_error", "invalid_value", NULL,
                             "The request body must be a JSON object.");
        return false;
    }
    return true;
}
