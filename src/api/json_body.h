/*
 * Reading a request's JSON body, on the loop or, when it is long, on the
 * libuv thread pool, with OpenAI-shaped errors for what is not an object.
 */
#ifndef GW_API_JSON_BODY_H
#define GW_API_JSON_BODY_H

#include <jansson.h>

#include "api/gateway.h"

/* What a handler does with its parsed body: body is taken (NULL when the
 * request was not JSON; jerr says why). */
typedef void (*gw_api_parsed_fn)(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                                 const json_error_t *jerr);
/* Parses the request's body as JSON, then calls then: at once for a short
 * body; for one of 16 KiB or more, from the libuv thread pool and later on
 * the loop (not at all if the client has gone meanwhile). */
void gw_api_parse_json(gw_gateway_t *gw, gw_req_t *req, gw_api_parsed_fn then);
/* True when body is a JSON object; otherwise answers 400 (where the JSON
 * broke, or that it is not an object) and drops body. */
bool gw_api_json_object(gw_req_t *req, json_t *body, const json_error_t *jerr);

#endif
