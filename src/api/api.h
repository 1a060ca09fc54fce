/* Handlers of the OpenAI surface and what they share (internal to api/). */
#ifndef GW_API_API_H
#define GW_API_API_H

#include <jansson.h>

#include "api/app.h"
#include "api/respond.h"

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

/* JSON work on a body this long (parsing a request, writing one upstream,
 * reading an answer) goes to the libuv thread pool: jansson reads ~90 MB/s and
 * writes ~180 MB/s, and meanwhile the loop carries every other request and
 * stream. Shorter bodies take less time than the hand-off. */
#define GW_OFF_LOOP_BYTES (16 * 1024)

/* What a handler does with its parsed body: body is taken (NULL when the
 * request was not JSON; jerr says why). */
typedef void (*gw_api_parsed_fn)(gw_app_t *app, gw_req_t *req, json_t *body,
                                 const json_error_t *jerr);
/* Parses the request's body as JSON, then calls then: at once for a short
 * body; for one of 16 KiB or more, from the libuv thread pool and later on
 * the loop (not at all if the client has gone meanwhile). */
void gw_api_parse_json(gw_app_t *app, gw_req_t *req, gw_api_parsed_fn then);
/* True when body is a JSON object; otherwise answers 400 (where the JSON
 * broke, or that it is not an object) and drops body. */
bool gw_api_json_object(gw_req_t *req, json_t *body, const json_error_t *jerr);

#endif
