/*
 * Ollama's API requests (/api/chat, /api/generate) in OpenAI's chat shape, as
 * pure functions of the parsed body, so the one chat path serves them:
 * messages with base64 images and tool calls, tools, format (JSON or a
 * schema), options (temperature, top_p, seed, stop, num_predict), stream
 * (Ollama's default: on). Fuzzed with the other client APIs.
 */
#ifndef GW_API_OLLAMA_IN_H
#define GW_API_OLLAMA_IN_H

#include <jansson.h>

#include "api/client_problem.h"
#include "core/gw.h"

/* The chat request for an /api/chat body, or NULL with *why filled. */
json_t *gw_ollama_chat_to_openai(json_t *body, gw_client_problem_t *why);
/* The chat request for an /api/generate body (system + prompt as a user
 * turn), or NULL with *why filled. */
json_t *gw_ollama_generate_to_openai(json_t *body, gw_client_problem_t *why);
/* A model name as Ollama clients write it ("name:latest") without the tag
 * "latest", into out. */
void gw_ollama_model_name(const char *name, char *out, size_t n);

#endif
