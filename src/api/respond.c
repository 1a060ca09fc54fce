/* Whole answers: JSON bodies and errors in each client API's shape (see respond.h). */
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

/* Anthropic's error type for a status (its API reference, "Errors"). */
static const char *anthropic_type(int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

json_t *gw_error_body(int api, int status, const char *type, const char *code,
                      const char *param, const char *msg)
{
    switch (api) {
    case GW_API_ANTHROPIC:
        return json_pack("{s:s,s:{s:s,s:s}}", "type", "error", "error", "type",
                         anthropic_type(status), "message", msg);
    case GW_API_OLLAMA:
        return json_pack("{s:s}", "error", msg);
    default:
        return json_pack("{s:{s:s,s:s,s:s?,s:s?}}", "error", "message", msg, "type", type,
                         "param", param, "code", code);
    }
}

void gw_respond_error(gw_req_t *req, int status, const char *type, const char *code,
                      const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *err;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err = gw_error_body(gw_req_api(req), status, type, code, param, msg);
    if (err == NULL) /* msg was not valid UTF-8 (it quoted bad input) */
        err = gw_error_body(gw_req_api(req), status, type, code, NULL, "invalid request");
    gw_respond_json(req, status, err);
}
