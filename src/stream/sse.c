/* SSE decoder and encoders (see sse.h), per the WHATWG event-stream rules. */
#include "stream/sse.h"

#include <string.h>

void gw_sse_decoder_init(gw_sse_decoder_t *d, size_t max_event, gw_sse_event_cb cb, void *ctx)
{
    gw_buf_init(&d->line, max_event);
    gw_buf_init(&d->data, max_event);
    d->event[0] = '\0';
    d->has_data = false;
    d->last_cr = false;
    d->cb = cb;
    d->ctx = ctx;
}

void gw_sse_decoder_dispose(gw_sse_decoder_t *d)
{
    gw_buf_dispose(&d->line);
    gw_buf_dispose(&d->data);
}

static int dispatch(gw_sse_decoder_t *d)
{
    int rc = 0;

    if (d->has_data) {
        gw_str_t data = {d->data.ptr ? d->data.ptr : "", d->data.len};
        rc = d->cb(d->ctx, d->event, data);
    }
    gw_buf_reset(&d->data);
    d->event[0] = '\0';
    d->has_data = false;
    return rc;
}

static int process_line(gw_sse_decoder_t *d, const char *p, size_t n)
{
    const char *colon;
    size_t flen;
    const char *v;
    size_t vlen;

    if (n == 0)
        return dispatch(d);
    if (p[0] == ':')
        return 0; /* comment / keep-alive */
    colon = memchr(p, ':', n);
    flen = colon ? (size_t)(colon - p) : n;
    v = colon ? colon + 1 : p + n;
    vlen = colon ? n - flen - 1 : 0;
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(p, "data", 4) == 0) {
        if (d->has_data && gw_buf_append(&d->data, "\n", 1) != 0)
            return GW_ETOOBIG;
        if (gw_buf_append(&d->data, v, vlen) != 0)
            return GW_ETOOBIG;
        d->has_data = true;
    } else if (flen == 5 && memcmp(p, "event", 5) == 0) {
        size_t k = GW_MIN(vlen, sizeof(d->event) - 1);
        memcpy(d->event, v, k);
        d->event[k] = '\0';
    }
    /* id: and retry: mean nothing to a proxy reading one response. */
    return 0;
}

/* A stream spends most of its life waiting for the next event: between reads
 * the decoder keeps no buffer that holds nothing (a malloc per read instead of
 * ~0.5 KB per open stream). */
static void trim(gw_sse_decoder_t *d)
{
    if (d->line.len == 0)
        gw_buf_dispose(&d->line);
    if (!d->has_data)
        gw_buf_dispose(&d->data);
}

int gw_sse_feed(gw_sse_decoder_t *d, const char *p, size_t n)
{
    size_t i = 0;
    int rc;

    if (n > 0 && d->last_cr && p[0] == '\n')
        i = 1;
    d->last_cr = false;
    while (i < n) {
        const char *start = p + i;
        size_t left = n - i;
        const char *nl = memchr(start, '\n', left);
        const char *cr = memchr(start, '\r', nl ? (size_t)(nl - start) : left);
        const char *end = cr ? cr : nl;
        size_t len;

        if (end == NULL) { /* incomplete line: keep it for the next chunk */
            if (gw_buf_append(&d->line, start, left) != 0)
                return GW_ETOOBIG;
            trim(d);
            return 0;
        }
        len = (size_t)(end - start);
        if (d->line.len > 0) {
            if (gw_buf_append(&d->line, start, len) != 0)
                return GW_ETOOBIG;
            rc = process_line(d, d->line.ptr, d->line.len);
            gw_buf_reset(&d->line);
        } else {
            rc = process_line(d, start, len);
        }
        if (rc != 0)
            return rc;
        i += len + 1;
        if (end == cr) { /* \r\n counts as one line end */
            if (i < n && p[i] == '\n')
                i++;
            else if (i == n)
                d->last_cr = true;
        }
    }
    trim(d);
    return 0;
}

int gw_sse_finish(gw_sse_decoder_t *d)
{
    int rc = 0;

    if (d->line.len > 0) {
        rc = process_line(d, d->line.ptr, d->line.len);
        gw_buf_reset(&d->line);
    }
    if (rc == 0)
        rc = dispatch(d);
    return rc;
}

int gw_sse_put_data(gw_buf_t *out, const char *payload, size_t len)
{
    if (gw_buf_append(out, "data: ", 6) != 0 || gw_buf_append(out, payload, len) != 0 ||
        gw_buf_append(out, "\n\n", 2) != 0)
        return GW_ETOOBIG;
    return 0;
}

int gw_sse_put_done(gw_buf_t *out)
{
    return gw_buf_appends(out, "data: [DONE]\n\n");
}
