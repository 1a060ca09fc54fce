/*
 * The fallback loop of one proxied chat request: pick the next free
 * (model, key) from the plan, encode the call with the provider's dialect,
 * run it on the upstream client, and either deliver the answer (whole, or
 * streamed event by event) or classify the failure, cool down what it
 * blames and try the next candidate, up to GW_MAX_ATTEMPTS. Nothing is sent
 * to the client before a candidate produced a real answer, so failures
 * before that point stay invisible; after it, a failing upstream ends the
 * stream with an OpenAI-style error event and [DONE].
 */
#ifndef GW_API_PROXY_H
#define GW_API_PROXY_H

#include <jansson.h>

#include "api/app.h"

typedef struct gw_proxy_spec {
    const char *endpoint;     /* for the request log */
    const char *model;        /* as the client named it */
    gw_need_t need;
    json_t *req;              /* validated request; the proxy takes the reference */
    bool stream;
    bool include_usage;
    bool sticky;              /* remember the serving model under digest */
    unsigned char digest[32];
} gw_proxy_spec_t;

void gw_proxy_chat(gw_app_t *app, gw_req_t *req, gw_proxy_spec_t *spec);

#endif
