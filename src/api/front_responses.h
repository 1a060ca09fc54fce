/*
 * OpenAI's Responses API as a chat front (front_responses.c).
 */
#ifndef GW_API_FRONT_RESPONSES_H
#define GW_API_FRONT_RESPONSES_H

#include "api/front.h"

/* Called once with the finished response object (borrowed) when it
 * completed, to store it. */
typedef void (*gw_responses_done_fn)(void *ctx, json_t *response);

/* A front for one request: id is the response's ("resp_…"), echo the
 * request fields the response object repeats (taken), done/done_ctx are
 * called on completion (done_ctx is the front's to free with free()). */
gw_front_t gw_front_responses(const char *id, json_t *echo, gw_responses_done_fn done,
                              void *done_ctx, void (*done_free)(void *));

#endif
