/*
 * OpenAI Responses API requests (POST /v1/responses) in the chat shape, as
 * pure functions of the parsed body, so the one chat path serves them: input
 * as a string or items (messages with text and images, function calls and
 * their outputs), instructions, function tools and tool_choice, text.format,
 * reasoning.effort, max_output_tokens, sampling, stream. Built-in tools the
 * gateway cannot run are refused naming the tool. Fuzzed with the other
 * client APIs.
 */
#ifndef GW_API_RESPONSES_IN_H
#define GW_API_RESPONSES_IN_H

#include <jansson.h>

#include "api/client_problem.h"
#include "core/gw.h"

/* The request's input as items (a string is one user message), each item
 * given an id when it has none (prefix + n). NULL with *why when malformed. */
json_t *gw_responses_input_items(json_t *body, const char *id_prefix,
                                 gw_client_problem_t *why);
/* The chat request for body, its conversation being items (the earlier
 * turns of previous_response_id, then this input). NULL with *why filled. */
json_t *gw_responses_to_chat(json_t *body, json_t *items, gw_client_problem_t *why);

#endif
