/*
 * Anthropic Messages requests (POST /v1/messages) in OpenAI's chat shape, as
 * a pure function of the parsed body, so the one chat path serves both:
 * system, messages with text / image / tool_use / tool_result blocks, tools
 * and tool_choice, max_tokens, stop_sequences, sampling, stream. What cannot
 * be served (server tools the gateway cannot run, documents) is refused with
 * the field named. Fuzzed with the other request checks.
 */
#ifndef GW_API_ANTHROPIC_IN_H
#define GW_API_ANTHROPIC_IN_H

#include <jansson.h>

#include "api/client_problem.h"
#include "core/gw.h"

/* The OpenAI chat request for body (a JSON object), or NULL with *why filled.
 * for_count: the body of /v1/messages/count_tokens (no max_tokens needed). */
json_t *gw_anthropic_to_chat(json_t *body, bool for_count, gw_client_problem_t *why);

/* Anthropic's stop_reason for an OpenAI finish_reason. */
const char *gw_anthropic_stop_reason(const char *finish_reason);

#endif
