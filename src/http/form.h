/*
 * multipart/form-data (and urlencoded) request bodies, parsed with
 * libmicrohttpd's post processor once the body is in: the fields and files
 * of an upload, under limits. Array fields arrive as "name" or "name[]" from
 * different SDKs; both are stored under "name".
 */
#ifndef GW_HTTP_FORM_H
#define GW_HTTP_FORM_H

#include "core/buf.h"
#include "http/server.h"

typedef struct gw_form_item {
    char *name;          /* without a trailing "[]" */
    char *filename;      /* NULL for a plain field */
    char *content_type;  /* NULL when the part had none */
    gw_buf_t data;
} gw_form_item_t;

typedef struct gw_form {
    gw_form_item_t *items;
    size_t n;
} gw_form_t;

typedef struct gw_form_limits {
    size_t max_file;     /* bytes per file */
    size_t max_field;    /* bytes per plain field */
    size_t max_items;
} gw_form_limits_t;

/* Parses the request body. Errors: GW_EINVAL (not a form, malformed or
 * truncated body; err->http_status 400), GW_ETOOBIG (a limit; 413). */
int gw_form_parse(gw_req_t *req, const gw_form_limits_t *lim, gw_form_t *out, gw_err_t *err);
/* The same for a body already in hand, on the connection it came by (whose
 * Content-Type names the boundary). */
int gw_form_parse_body(struct MHD_Connection *conn, gw_str_t body, const gw_form_limits_t *lim,
                       gw_form_t *out, gw_err_t *err);
void gw_form_dispose(gw_form_t *f);

/* The first plain field of that name, or NULL. */
const char *gw_form_value(const gw_form_t *f, const char *name);
/* The i-th item (field or file) of that name, or NULL. */
const gw_form_item_t *gw_form_item(const gw_form_t *f, const char *name, size_t i);
/* Whether the request says it carries multipart/form-data. */
bool gw_form_is_multipart(gw_req_t *req);

#endif
