/*
 * Anthropic's Messages API as a chat front (front_anthropic.c).
 */
#ifndef GW_API_FRONT_ANTHROPIC_H
#define GW_API_FRONT_ANTHROPIC_H

#include "api/front.h"

/* A front for one request: req_id names the message; input_estimate is the
 * prompt's size in tokens until the upstream reports it. */
gw_front_t gw_front_anthropic(const char *req_id, int64_t input_estimate);

#endif
