/*
 * Every answer the API writes whole: a JSON body, or an error in OpenAI's
 * shape. http/ knows HTTP; the error format is the API's business.
 */
#ifndef GW_API_RESPOND_H
#define GW_API_RESPOND_H

#include <jansson.h>

#include "http/server.h"

/* Sends obj (reference taken) as application/json; "{}" when it cannot be written. */
void gw_respond_json(gw_req_t *req, int status, json_t *obj);
/* OpenAI-style error: {"error":{"message","type","param","code"}}; param and
 * code may be NULL. */
void gw_respond_error(gw_req_t *req, int status, const char *type, const char *code,
                      const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
