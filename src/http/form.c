#include "http/form.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct form_parse {
    gw_form_t *form;
    const gw_form_limits_t *lim;
    int failure; /* GW_ETOOBIG once a limit is passed */
    char what[120];
} form_parse_t;

static char *dup_name(const char *key)
{
    size_t n = strlen(key);

    if (n >= 2 && strcmp(key + n - 2, "[]") == 0)
        n -= 2;
    char *s = gw_xmalloc(n + 1);
    memcpy(s, key, n);
    s[n] = '\0';
    return s;
}

static gw_form_item_t *new_item(form_parse_t *fp, const char *key, const char *filename,
                                const char *content_type)
{
    gw_form_t *f = fp->form;
    gw_form_item_t *it;

    if (f->n >= fp->lim->max_items) {
        fp->failure = GW_ETOOBIG;
        snprintf(fp->what, sizeof(fp->what), "the form has more than %zu fields",
                 fp->lim->max_items);
        return NULL;
    }
    f->items = gw_xrealloc(f->items, (f->n + 1) * sizeof(*f->items));
    it = &f->items[f->n++];
    it->name = dup_name(key);
    it->filename = filename != NULL ? gw_xstrdup(filename) : NULL;
    it->content_type = content_type != NULL ? gw_xstrdup(content_type) : NULL;
    gw_buf_init(&it->data, filename != NULL ? fp->lim->max_file : fp->lim->max_field);
    return it;
}

/* Called by MHD per piece of a value; off == 0 starts a new value. */
static enum MHD_Result on_piece(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
    form_parse_t *fp = cls;
    gw_form_item_t *it;

    (void)kind;
    (void)transfer_encoding;
    if (key == NULL)
        return MHD_YES;
    if (off == 0 || fp->form->n == 0) {
        it = new_item(fp, key, filename, content_type);
        if (it == NULL)
            return MHD_NO;
    } else {
        it = &fp->form->items[fp->form->n - 1];
    }
    if (size > 0 && gw_buf_append(&it->data, data, size) != 0) {
        fp->failure = GW_ETOOBIG;
        if (it->filename != NULL)
            snprintf(fp->what, sizeof(fp->what), "file '%.40s' is larger than %zu bytes", it->name,
                     fp->lim->max_file);
        else
            snprintf(fp->what, sizeof(fp->what), "field '%.40s' is longer than %zu bytes", it->name,
                     fp->lim->max_field);
        return MHD_NO;
    }
    return MHD_YES;
}

bool gw_form_is_multipart(gw_req_t *req)
{
    const char *ct = gw_req_header(req, "Content-Type");
    return ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

int gw_form_parse(gw_req_t *req, const gw_form_limits_t *lim, gw_form_t *out, gw_err_t *err)
{
    memset(out, 0, sizeof(*out));
    if (!gw_form_is_multipart(req)) {
        gw_err_set(err, GW_EINVAL, 400,
                   "Expected a multipart/form-data body (Content-Type: "
                   "multipart/form-data; boundary=...)");
        return GW_EINVAL;
    }
    return gw_form_parse_body(gw_req_mhd_connection(req), gw_req_body(req), lim, out, err);
}

int gw_form_parse_body(struct MHD_Connection *conn, gw_str_t body, const gw_form_limits_t *lim,
                       gw_form_t *out, gw_err_t *err)
{
    form_parse_t fp = {.form = out, .lim = lim};
    struct MHD_PostProcessor *pp;
    enum MHD_Result ok;
    enum MHD_Result clean;

    memset(out, 0, sizeof(*out));
    pp = MHD_create_post_processor(conn, 16384, on_piece, &fp);
    if (pp == NULL) {
        gw_err_set(err, GW_EINVAL, 400, "The multipart/form-data body has no usable boundary");
        return GW_EINVAL;
    }
    ok = body.len > 0 ? MHD_post_process(pp, body.ptr, body.len) : MHD_YES;
    /* MHD_NO here: the body ended inside a part or held stray bytes. */
    clean = MHD_destroy_post_processor(pp);
    if (fp.failure == GW_ETOOBIG) {
        gw_err_set(err, GW_ETOOBIG, 413, "Upload too large: %s", fp.what);
        gw_form_dispose(out);
        return GW_ETOOBIG;
    }
    if (ok != MHD_YES || clean != MHD_YES) {
        gw_err_set(err, GW_EINVAL, 400, "Malformed or truncated multipart/form-data body");
        gw_form_dispose(out);
        return GW_EINVAL;
    }
    return 0;
}

void gw_form_dispose(gw_form_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->items[i].name);
        free(f->items[i].filename);
        free(f->items[i].content_type);
        gw_buf_dispose(&f->items[i].data);
    }
    free(f->items);
    f->items = NULL;
    f->n = 0;
}

const gw_form_item_t *gw_form_item(const gw_form_t *f, const char *name, size_t i)
{
    for (size_t k = 0; k < f->n; k++)
        if (strcmp(f->items[k].name, name) == 0 && i-- == 0)
            return &f->items[k];
    return NULL;
}

const char *gw_form_value(const gw_form_t *f, const char *name)
{
    for (size_t k = 0; k < f->n; k++)
        if (f->items[k].filename == NULL && strcmp(f->items[k].name, name) == 0)
            return f->items[k].data.ptr != NULL ? f->items[k].data.ptr : "";
    return NULL;
}
