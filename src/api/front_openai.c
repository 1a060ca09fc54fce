/*
 * OpenAI's chat completions as a front (see front.h): the relay's shapes are
 * already OpenAI's.
 */
#include <stdlib.h>

#include "api/front.h"
#include "core/json_buf.h"
#include "stream/sse.h"

/* [event: name\n]<head><json><tail> onto out in place; out unchanged on failure. */
static int put_framed(gw_buf_t *out, const char *name, const char *head, json_t *obj,
                      const char *tail)
{
    size_t at = out->len;

    if ((name != NULL && (gw_buf_appends(out, "event: ") != 0 ||
                          gw_buf_appends(out, name) != 0 || gw_buf_append(out, "\n", 1) != 0)) ||
        gw_buf_appends(out, head) != 0 || gw_json_append(out, obj) != 0 ||
        gw_buf_appends(out, tail) != 0) {
        out->len = at;
        if (out->ptr != NULL)
            out->ptr[at] = '\0';
        return GW_ETOOBIG;
    }
    return 0;
}

int gw_front_put_data(gw_buf_t *out, json_t *obj)
{
    return put_framed(out, NULL, "data: ", obj, "\n\n");
}

int gw_front_put_event(gw_buf_t *out, const char *name, json_t *obj)
{
    return put_framed(out, name, "data: ", obj, "\n\n");
}

int gw_front_put_line(gw_buf_t *out, json_t *obj)
{
    return put_framed(out, NULL, "", obj, "\n");
}

static int openai_chunk(void *ctx, json_t *chunk, gw_buf_t *out)
{
    (void)ctx;
    return gw_front_put_data(out, chunk);
}

json_t *gw_front_usage_json(const gw_tokens_t *u)
{
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)u->prompt,
                     "completion_tokens", (json_int_t)u->completion, "total_tokens",
                     (json_int_t)(u->prompt + u->completion));
}

void gw_front_openai_end(bool ok, json_t *last, bool include_usage, const gw_tokens_t *usage,
                         const char *why, gw_buf_t *out)
{
    if (ok && include_usage) {
        json_object_set_new(last, "usage", gw_front_usage_json(usage));
        gw_front_put_data(out, last);
    } else if (!ok) {
        json_t *e = json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message", why, "type",
                              "server_error", "param", "code", "stream_interrupted");
        gw_front_put_data(out, e);
        json_decref(e);
    }
    gw_sse_put_done(out);
}

static void end_plain(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                      const char *why, gw_buf_t *out)
{
    (void)ctx;
    gw_front_openai_end(ok, last, false, usage, why, out);
}

static void end_with_usage(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                           const char *why, gw_buf_t *out)
{
    (void)ctx;
    gw_front_openai_end(ok, last, true, usage, why, out);
}

static const gw_front_ops_t plain_ops = {
    .stream_type = "text/event-stream",
    .chunk = openai_chunk,
    .end = end_plain,
};

static const gw_front_ops_t usage_ops = {
    .stream_type = "text/event-stream",
    .chunk = openai_chunk,
    .end = end_with_usage,
};

gw_front_t gw_front_openai(bool include_usage)
{
    return (gw_front_t){include_usage ? &usage_ops : &plain_ops, NULL};
}
