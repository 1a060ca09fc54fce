/* Handlers of the OpenAI surface and what they share (internal to api/). */
#ifndef GW_API_API_H
#define GW_API_API_H

#include <jansson.h>

#include "api/app.h"

void api_chat_completions(gw_app_t *app, gw_req_t *req);
void api_models_list(gw_app_t *app, gw_req_t *req);
void api_models_get(gw_app_t *app, gw_req_t *req, const char *id);
void api_embeddings(gw_app_t *app, gw_req_t *req);
void api_images(gw_app_t *app, gw_req_t *req, const char *mode);
void api_image_file(gw_app_t *app, gw_req_t *req, const char *name);
void api_audio_speech(gw_app_t *app, gw_req_t *req);
void api_audio_transcriptions(gw_app_t *app, gw_req_t *req, bool translate);
void api_realtime_sessions(gw_app_t *app, gw_req_t *req);
void api_realtime_client_secrets(gw_app_t *app, gw_req_t *req);

/* Sends obj (reference taken) as application/json. */
void gw__api_json(gw_req_t *req, int status, json_t *obj);

#endif
