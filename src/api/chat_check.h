/*
 * The chat request's checks, as pure functions of the parsed body (no
 * connection, no state): which field is wrong and why, in OpenAI's terms,
 * and what the request needs from a model. Fuzzed (tests/fuzz).
 */
#ifndef GW_API_CHAT_CHECK_H
#define GW_API_CHAT_CHECK_H

#include <jansson.h>

#include "core/gw.h"

/* The most choices (n) one request may ask for. */
#define GW_CHAT_MAX_N 8

/* Why a request is refused: OpenAI's error code, the parameter, a message. */
typedef struct gw_chat_problem {
    const char *code;   /* "invalid_value", "invalid_type", "missing_required_parameter" */
    char param[64];
    char msg[256];
} gw_chat_problem_t;

/* True when body (a JSON object) is a chat request we can route: a model,
 * messages, tools and the typed scalars as OpenAI documents them. Sets
 * *vision when a user part carries an image. Otherwise fills *why. */
bool gw_chat_check(json_t *body, bool *vision, gw_chat_problem_t *why);

/* About 4 characters per token over everything the model will read:
 * messages and tools as compact JSON. */
int64_t gw_chat_estimate_tokens(json_t *body);

#endif
