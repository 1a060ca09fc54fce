/*
 * What every dialect shares: URLs under a provider's base (with the account
 * id of account-scoped providers), the auth header, the first steps of
 * reading a stream frame, and the per-stream state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_buf.h"
#include "providers/dialect.h"

char *gw_dialect_url(const gw_provider_t *p, const char *account_id, const char *path)
{
    gw_buf_t b;
    const char *base = p->base_url;
    const char *ph = strstr(base, "{account_id}");

    gw_buf_init(&b, 8192);
    if (ph != NULL) {
        gw_buf_append(&b, base, (size_t)(ph - base));
        gw_buf_appends(&b, account_id != NULL ? account_id : "");
        gw_buf_appends(&b, ph + strlen("{account_id}"));
    } else {
        gw_buf_appends(&b, base);
    }
    gw_buf_appends(&b, path);
    return gw_buf_detach(&b);
}

int gw_dialect_write_body(gw_http_out_t *out, gw_err_t *err)
{
    int rc = gw_json_append(&out->body, out->json);

    json_decref(out->json);
    out->json = NULL;
    if (rc == GW_ETOOBIG)
        gw_err_set(err, GW_ETOOBIG, 413, "request too large for the provider");
    else if (rc != 0)
        gw_err_set(err, GW_EINVAL, 400, "request could not be encoded");
    return rc;
}

int gw_dialect_body(gw_http_out_t *out, json_t *body, bool defer, gw_err_t *err)
{
    json_decref(out->json);
    out->json = body;
    return defer ? 0 : gw_dialect_write_body(out, err);
}

int64_t gw_dialect_tokens(json_t *v, bool *ok)
{
    json_int_t n = json_integer_value(v);

    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_integer(v) && n >= 0 && n <= 1000000000)
        return n;
    *ok = false;
    return 0;
}

int64_t gw_dialect_embedding_size(const gw_model_t *m, json_t *params)
{
    json_t *dims = json_object_get(params, "dimensions");

    if (json_is_integer(dims) && json_integer_value(dims) > 0)
        return json_integer_value(dims);
    return m->dimensions > 0 ? m->dimensions : 0;
}

void gw_dialect_auth(const gw_provider_t *p, const char *secret, gw_http_out_t *out)
{
    gw_buf_t v;

    if (secret == NULL)
        return; /* anonymous: no Authorization header at all */
    gw_buf_init(&v, 8192);
    if (gw_buf_appends(&v, p->auth_prefix) != 0 || gw_buf_appends(&v, secret) != 0) {
        gw_buf_dispose(&v);
        return;
    }
    gw_http_out_header(out, p->auth_header, v.ptr);
    gw_buf_dispose(&v);
}

void gw_dialect_policy_headers(const gw_provider_t *p, gw_http_out_t *out)
{
    const char *name;
    json_t *v;

    json_object_foreach(p->policy.headers, name, v) {
        if (json_is_string(v))
            gw_http_out_header(out, name, json_string_value(v));
    }
}

gw_ev_t gw_dialect_frame(gw_stream_state_t *st, gw_str_t data, json_t **frame,
                         json_t **err_body)
{
    *frame = NULL;
    if (data.len >= 6 && memcmp(data.ptr, "[DONE]", 6) == 0) {
        st->saw_done = true;
        return GW_EV_DONE;
    }
    *frame = json_loadb(data.ptr, data.len, 0, NULL);
    if (!json_is_object(*frame)) {
        json_decref(*frame);
        *frame = NULL;
        return GW_EV_SKIP; /* a malformed frame does not end the stream */
    }
    if (json_object_get(*frame, "error") != NULL) {
        *err_body = *frame;
        *frame = NULL;
        return GW_EV_ERROR;
    }
    return GW_EV_CHUNKS;
}

void gw_stream_state_init(gw_stream_state_t *st)
{
    memset(st, 0, sizeof(*st));
    st->tool_ids = json_array();
}

void gw_stream_state_dispose(gw_stream_state_t *st)
{
    json_decref(st->tool_ids);
    st->tool_ids = NULL;
    if (st->dialect_free != NULL && st->dialect_state != NULL)
        st->dialect_free(st->dialect_state);
    st->dialect_state = NULL;
}
