/* Handlers of the OpenAI surface and what they share (internal to api/). */
#ifndef GW_API_API_H
#define GW_API_API_H

#include <jansson.h>

#include "api/app.h"

void api_chat_completions(gw_app_t *app, gw_req_t *req);
void api_models_list(gw_app_t *app, gw_req_t *req);
void api_models_get(gw_app_t *app, gw_req_t *req, const char *id);

/* Sends obj (reference taken) as application/json. */
void gw__api_json(gw_req_t *req, int status, json_t *obj);

#endif
