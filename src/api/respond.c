/* Whole answers: JSON bodies and OpenAI-shaped errors (see respond.h). */
#include "api/respond.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json_buf.h"

void gw_respond_json(gw_req_t *req, int status, json_t *obj)
{
    gw_buf_t body;

    gw_buf_init(&body, (size_t)1 << 30);
    if (obj == NULL || gw_json_append(&body, obj) != 0) {
        gw_buf_reset(&body);
        gw_buf_appends(&body, "{}");
    }
    json_decref(obj);
    gw_req_respond(req, status, "application/json", &body);
}

void gw_respond_error(gw_req_t *req, int status, const char *type, const char *code,
                      const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *err;
    char *text;
    gw_buf_t body;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err = json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "message", msg, "type", type, "param",
                    param, "code", code);
    if (err == NULL) /* msg was not valid UTF-8 (it quoted bad input) */
        err = json_pack("{s:{s:s,s:s,s:n,s:s?}}", "error", "message", "invalid request",
                        "type", type, "param", "code", code);
    text = json_dumps(err, JSON_COMPACT);
    json_decref(err);
    gw_buf_init(&body, 1u << 20);
    gw_buf_appends(&body, text);
    free(text);
    gw_req_respond(req, status, "application/json", &body);
}
