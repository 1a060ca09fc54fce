/*
 * The handlers of the client APIs (OpenAI's, Anthropic's Messages, Ollama's):
 * what routes.c dispatches to. Each takes
 * the gateway and the request and answers it, now or later.
 */
#ifndef GW_API_HANDLERS_H
#define GW_API_HANDLERS_H

#include <stdbool.h>

#include "api/gateway.h"

void api_chat_completions(gw_gateway_t *gw, gw_req_t *req);
void api_completions(gw_gateway_t *gw, gw_req_t *req);
void api_models_list(gw_gateway_t *gw, gw_req_t *req);
void api_models_get(gw_gateway_t *gw, gw_req_t *req, const char *id);
void api_embeddings(gw_gateway_t *gw, gw_req_t *req);
void api_moderations(gw_gateway_t *gw, gw_req_t *req);
void api_images(gw_gateway_t *gw, gw_req_t *req, const char *mode);
void api_image_file(gw_gateway_t *gw, gw_req_t *req, const char *name);
void api_audio_speech(gw_gateway_t *gw, gw_req_t *req);
void api_audio_transcriptions(gw_gateway_t *gw, gw_req_t *req, bool translate);
void api_realtime_sessions(gw_gateway_t *gw, gw_req_t *req);
void api_realtime_client_secrets(gw_gateway_t *gw, gw_req_t *req);
void api_messages(gw_gateway_t *gw, gw_req_t *req);
void api_messages_count_tokens(gw_gateway_t *gw, gw_req_t *req);
void api_responses_create(gw_gateway_t *gw, gw_req_t *req);
/* rest: what follows /v1/responses/ ("{id}" or "{id}/input_items"). */
void api_responses_item(gw_gateway_t *gw, gw_req_t *req, const char *rest);
void api_ollama_chat(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_generate(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_embed(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_embeddings(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_show(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_tags(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_version(gw_gateway_t *gw, gw_req_t *req);
void api_ollama_ps(gw_gateway_t *gw, gw_req_t *req);

#endif
