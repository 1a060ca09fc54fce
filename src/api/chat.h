/*
 * Chat requests in OpenAI's shape, from whichever client API they came
 * (chat completions, Anthropic Messages, Ollama…): checked (clear 400s naming
 * the bad field), sized (tools, vision, tokens), kept sticky for `auto`, and
 * run by the chat relay with the answer shaped by the caller's front.
 */
#ifndef GW_API_CHAT_H
#define GW_API_CHAT_H

#include "api/front.h"
#include "api/gateway.h"

/* Takes body (an OpenAI chat request) and front; answers the request.
 * endpoint (static) names the client's endpoint in the request log. */
void gw_chat_start(gw_gateway_t *gw, gw_req_t *req, json_t *body, const char *endpoint,
                   gw_front_t front);
/* The same for several prompts (legacy completions): body's last message
 * holds the first; each gets n choices, prompt k's from call k / n on.
 * suffix (NULL, or copied): fill-in-the-middle, on models that do it. */
void gw_chat_start_prompts(gw_gateway_t *gw, gw_req_t *req, json_t *body, const char *endpoint,
                           gw_front_t front, json_t *prompts, const char *suffix);

#endif
