/*
 * Server-sent events: an incremental decoder for upstream streams (any chunk
 * boundaries, \n, \r\n or \r line ends, comments, multi-line data) and the
 * small encoders for what we send to clients. Pure functions of their input:
 * unit-tested and safe to fuzz without sockets.
 */
#ifndef GW_STREAM_SSE_H
#define GW_STREAM_SSE_H

#include "core/buf.h"

/* Called once per dispatched event that carried data. data is NUL-terminated
 * and valid only during the call; event is the `event:` name or "" . Return
 * nonzero to stop decoding (the value is returned by gw_sse_feed). */
typedef int (*gw_sse_event_cb)(void *ctx, const char *event, gw_str_t data);

typedef struct gw_sse_decoder {
    gw_buf_t line;     /* the current, incomplete line */
    gw_buf_t data;     /* data lines of the current event, joined by \n */
    char event[64];
    bool has_data;
    bool last_cr;      /* previous chunk ended in \r: skip a leading \n */
    gw_sse_event_cb cb;
    void *ctx;
} gw_sse_decoder_t;

void gw_sse_decoder_init(gw_sse_decoder_t *d, size_t max_event, gw_sse_event_cb cb, void *ctx);
void gw_sse_decoder_dispose(gw_sse_decoder_t *d);
/* Feeds bytes; returns 0, the callback's nonzero value, or GW_ETOOBIG when an
 * event passes max_event. */
int gw_sse_feed(gw_sse_decoder_t *d, const char *p, size_t n);
/* End of input: dispatches a final event left without its blank line. */
int gw_sse_finish(gw_sse_decoder_t *d);

/* Appends "data: <payload>\n\n". payload must not contain newlines (JSON from
 * json_dumps without JSON_INDENT never does). */
int gw_sse_put_data(gw_buf_t *out, const char *payload, size_t len);
int gw_sse_put_done(gw_buf_t *out);

#endif
