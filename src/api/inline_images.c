/* Fetching remote images into data: URLs (see inline_images.h). */
#include "api/inline_images.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

struct gw_inliner {
    gw_gateway_t *gw;
    json_t *req;
    gw_inline_done_cb cb;
    void *ctx;
    gw_xfer_t *xfer;
    json_t *part;        /* the image_url object being fetched */
    int status;
    char ctype[128];
    gw_buf_t data;
    uv_timer_t kick;     /* delivers early results after start returns */
    bool failed;
    char msg[300];
};

/* The next image_url object whose url is http(s), or NULL. */
static json_t *next_remote(json_t *req)
{
    json_t *m;
    size_t i;

    json_array_foreach(json_object_get(req, "messages"), i, m) {
        json_t *part;
        size_t k;
        json_array_foreach(json_object_get(m, "content"), k, part) {
            json_t *iu = json_object_get(part, "image_url");
            const char *url = json_string_value(json_object_get(iu, "url"));
            if (url == NULL && json_is_string(iu)) /* some clients send the bare string */
                url = json_string_value(iu);
            if (url != NULL &&
                (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0))
                return part;
        }
    }
    return NULL;
}

bool gw_inline_needed(json_t *req)
{
    return next_remote(req) != NULL;
}

static const char *part_url(json_t *part)
{
    json_t *iu = json_object_get(part, "image_url");
    return json_is_string(iu) ? json_string_value(iu)
                              : json_string_value(json_object_get(iu, "url"));
}

static void on_closed(uv_handle_t *h)
{
    gw_inliner_t *in = h->data;
    gw_buf_dispose(&in->data);
    free(in);
}

static void destroy(gw_inliner_t *in)
{
    gw_upstream_cancel(in->xfer);
    in->xfer = NULL;
    uv_close((uv_handle_t *)&in->kick, on_closed);
}

static void finish(gw_inliner_t *in, bool ok)
{
    gw_inline_done_cb cb = in->cb;
    void *ctx = in->ctx;
    char msg[sizeof(in->msg)];

    memcpy(msg, in->msg, sizeof(msg));
    in->cb = NULL;
    destroy(in);
    if (cb != NULL)
        cb(ctx, ok, msg);
}

static void fetch_next(gw_inliner_t *in);

static int on_headers(void *ctx, int status, const gw_header_t *hdrs, size_t n)
{
    gw_inliner_t *in = ctx;

    in->status = status;
    in->ctype[0] = '\0';
    gw_buf_reset(&in->data);
    for (size_t i = 0; i < n; i++)
        if (strcmp(hdrs[i].name, "content-type") == 0)
            snprintf(in->ctype, sizeof(in->ctype), "%.*s", (int)strcspn(hdrs[i].value, "; "),
                     hdrs[i].value);
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    gw_inliner_t *in = ctx;
    return gw_buf_append(&in->data, p, n) == 0 ? 0 : 1;
}

static void set_msg(gw_inliner_t *in, const char *why)
{
    char url[120];
    const char *u = part_url(in->part);

    /* Only the scheme and host part of the URL: query strings may hold tokens. */
    snprintf(url, sizeof(url), "%.*s", (int)strcspn(u ? u : "", "?#"), u ? u : "");
    snprintf(in->msg, sizeof(in->msg), "The image at %s could not be used: %s.", url, why);
}

static void on_done(void *ctx, gw_xfer_outcome_t outcome, int status)
{
    gw_inliner_t *in = ctx;
    char *data_url;
    size_t b64len;
    char why[96];

    in->xfer = NULL;
    if (outcome == GW_XFER_BLOCKED) {
        set_msg(in, "it does not resolve to a public address (private, loopback, link-local "
                    "and metadata addresses are refused)");
    } else if (outcome == GW_XFER_TIMEOUT) {
        set_msg(in, "fetching it timed out");
    } else if (outcome == GW_XFER_TOOBIG || in->data.len > GW_IMAGE_MAX_BYTES) {
        set_msg(in, "it is larger than 20 MB");
    } else if (outcome != GW_XFER_OK) {
        set_msg(in, "it could not be fetched");
    } else if (status < 200 || status >= 300) {
        snprintf(why, sizeof(why), "fetching it answered HTTP %d", status);
        set_msg(in, why);
    } else if (strncasecmp(in->ctype, "image/", 6) != 0) {
        set_msg(in, "it is not an image (content type must be image/*)");
    } else if (in->data.len == 0) {
        set_msg(in, "it is empty");
    } else {
        b64len = 4 * ((in->data.len + 2) / 3);
        data_url = gw_xmalloc(strlen(in->ctype) + b64len + 16);
        int off = snprintf(data_url, strlen(in->ctype) + 16, "data:%s;base64,", in->ctype);
        EVP_EncodeBlock((unsigned char *)data_url + off, (const unsigned char *)in->data.ptr,
                        (int)in->data.len);
        json_t *iu = json_object_get(in->part, "image_url");
        if (json_is_object(iu))
            json_object_set_new(iu, "url", json_string(data_url));
        else
            json_object_set_new(in->part, "image_url", json_pack("{s:s}", "url", data_url));
        free(data_url);
        fetch_next(in);
        return;
    }
    finish(in, false);
}

static const gw_xfer_cbs_t cbs = {on_headers, on_data, on_done};

static void fetch_next(gw_inliner_t *in)
{
    gw_http_out_t out;
    gw_upstream_opts_t opts = {0};

    in->part = next_remote(in->req);
    if (in->part == NULL) {
        finish(in, true);
        return;
    }
    opts.first_byte_ms = GW_IMAGE_TIMEOUT_MS;
    opts.idle_ms = GW_IMAGE_TIMEOUT_MS;
    opts.public_only = true;
    opts.allow_cidrs = getenv("FREELLMAPI_FETCH_ALLOW_CIDRS");
    opts.max_redirects = 3;
    opts.max_bytes = GW_IMAGE_MAX_BYTES;
    gw_http_out_init(&out);
    out.url = gw_xstrdup(part_url(in->part));
    gw_http_out_header(&out, "Accept", "image/*");
    in->status = 0;
    in->xfer = gw_upstream_start(in->gw->up, &out, &opts, &cbs, in);
    gw_http_out_dispose(&out);
    if (in->xfer == NULL) {
        set_msg(in, "it could not be fetched");
        finish(in, false);
    }
}

static void on_kick(uv_timer_t *t)
{
    fetch_next(t->data);
}

gw_inliner_t *gw_inline_start(gw_gateway_t *gw, json_t *req, gw_inline_done_cb cb, void *ctx)
{
    gw_inliner_t *in = gw_xcalloc(1, sizeof(*in));

    in->gw = gw;
    in->req = req;
    in->cb = cb;
    in->ctx = ctx;
    gw_buf_init(&in->data, GW_IMAGE_MAX_BYTES + 1);
    uv_timer_init(gw->loop, &in->kick);
    in->kick.data = in;
    /* The first fetch starts on the next loop turn, so the callback never runs
     * before this returns (the async contract). */
    uv_timer_start(&in->kick, on_kick, 0, 0);
    return in;
}

void gw_inline_cancel(gw_inliner_t *in)
{
    if (in == NULL)
        return;
    in->cb = NULL;
    uv_timer_stop(&in->kick);
    destroy(in);
}
