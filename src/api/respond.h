/*
 * Every answer the API writes whole: a JSON body, or an error in the shape of
 * the client API the request came to (gw_req_set_api): OpenAI's by default,
 * Anthropic's for /v1/messages, Ollama's for its endpoints. http/ knows HTTP;
 * the error format is the API's business.
 */
#ifndef GW_API_RESPOND_H
#define GW_API_RESPOND_H

#include <jansson.h>

#include "http/server.h"

/* The client APIs the gateway speaks (the request's tag). */
enum {
    GW_API_OPENAI = 0,
    GW_API_ANTHROPIC,
    GW_API_OLLAMA,
};

/* Sends obj (reference taken) as application/json; "{}" when it cannot be written. */
void gw_respond_json(gw_req_t *req, int status, json_t *obj);
/* An error in the request's API shape. OpenAI: {"error":{"message","type",
 * "param","code"}} (param and code may be NULL); Anthropic: {"type":"error",
 * "error":{"type","message"}} with its type for the status; Ollama:
 * {"error":"message"}. */
void gw_respond_error(gw_req_t *req, int status, const char *type, const char *code,
                      const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The error body alone, in api's shape (new reference). */
json_t *gw_error_body(int api, int status, const char *type, const char *code,
                      const char *param, const char *msg);

#endif
