/*
 * What the request log keeps of one request beyond its outcome: each upstream
 * attempt (pair, verdict, status, latency) and, only when the user turned
 * content logging on, the prompt and the answer, each cut at
 * GW_REQLOG_CONTENT_MAX. Filled by the fallback loop, read when it logs.
 */
#ifndef GW_API_REQUEST_TRACE_H
#define GW_API_REQUEST_TRACE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "router/router.h"

typedef struct gw_request_trace {
    gw_buf_t attempts; /* the request log's attempt lines */
    bool keep_content;
    gw_buf_t prompt, answer; /* NUL-terminated when kept */
} gw_request_trace_t;

void gw_trace_init(gw_request_trace_t *t, bool keep_content);
void gw_trace_dispose(gw_request_trace_t *t);
/* One attempt on c: verdict "ok" or a failure class, the upstream status (0
 * when none came), how long it took. At most GW_MAX_ATTEMPTS lines. */
void gw_trace_attempt(gw_request_trace_t *t, const gw_cand_t *c, const char *verdict, int status,
                      int64_t latency_ms);
/* The request as routed (serialised when content is kept). */
void gw_trace_prompt(gw_request_trace_t *t, const json_t *request);
/* Bytes of the answer as the client got them (the start is kept). */
void gw_trace_answer(gw_request_trace_t *t, const char *p, size_t n);
/* For the log row: NULL when empty. */
const char *gw_trace_attempt_log(const gw_request_trace_t *t);
const char *gw_trace_prompt_text(const gw_request_trace_t *t);
const char *gw_trace_answer_text(const gw_request_trace_t *t);

#endif
