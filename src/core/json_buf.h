/*
 * Compact JSON into a bounded buffer: the one place bodies are serialised.
 */
#ifndef GW_CORE_JSON_BUF_H
#define GW_CORE_JSON_BUF_H

#include <jansson.h>

#include "core/buf.h"

/* Appends j as compact JSON in one pass: through a stack buffer for small
 * values (one exact-size copy, no slack kept while the body lives), straight
 * into b for larger ones. GW_EINVAL if j cannot be encoded, GW_ETOOBIG past
 * b's ceiling; b is unchanged on failure. */
int gw_json_append(gw_buf_t *b, json_t *j);

#endif
