/*
 * Chat as a fallback op: builds each candidate's call with its dialect
 * (remote images fetched first for dialects that need them inline), turns a
 * whole answer into an OpenAI chat.completion, and relays a streamed one as
 * OpenAI chunks: the stream commits at the first real chunk, adds a finish
 * chunk and the usage chunk when the upstream left them out, and ends with
 * [DONE], or with an error event when the upstream broke off.
 */
#ifndef GW_API_CHAT_RELAY_H
#define GW_API_CHAT_RELAY_H

#include "api/fallback.h"
#include "api/front.h"

/* Runs a validated chat request (spec->op is set here), its answer shaped by
 * front (taken: freed with the request). n > 1 choices: in one call where
 * the dialect makes several, else one call each, at once, by detached runs
 * of the engine (each its own plan, charges and fallover; a choice none
 * could make is asked again of the client's run's pair); answered together,
 * a stream carrying them as chunks after the last.
 * prompts (NULL, or strings): n choices for each, the user message of the
 * request's last turn swapped between calls. suffix (NULL, or copied): each
 * call is fill-in-the-middle with the prompt before the gap. */
void gw_chat_relay_run(gw_gateway_t *gw, gw_req_t *req, gw_fallback_spec_t *spec,
                       gw_front_t front, int n, json_t *prompts, const char *suffix);

#endif
