/*
 * OpenAI's legacy completions as a chat front (front_completions.c).
 */
#ifndef GW_API_FRONT_COMPLETIONS_H
#define GW_API_FRONT_COMPLETIONS_H

#include "api/front.h"

/* prompts: the request's prompts (taken), n choices each; echo puts each
 * choice's prompt before its text; include_usage as for chat streams. */
gw_front_t gw_front_completions(json_t *prompts, int n, bool echo, bool include_usage);

#endif
