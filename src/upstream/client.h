/*
 * Outbound HTTP on the loop: libcurl's multi_socket interface driven by libuv
 * poll and timer handles (after curl's docs/examples/multi-uv.c). Easy
 * handles are recycled and curl's connection cache keeps upstream
 * connections alive, so a proxied request costs no new TCP/TLS handshake.
 *
 * Callbacks run on the loop thread. After gw_upstream_cancel() no callback of
 * that transfer fires again; cancel is safe from inside any callback.
 */
#ifndef GW_UPSTREAM_CLIENT_H
#define GW_UPSTREAM_CLIENT_H

#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>

#include "core/buf.h"
#include "core/header.h"

typedef struct gw_upstream gw_upstream_t;
typedef struct gw_xfer gw_xfer_t;

/* One part of a multipart/form-data upload. data is borrowed for the whole
 * transfer (curl reads it as it sends: a 25 MB upload is not copied again),
 * so it must outlive the transfer or its cancellation. */
typedef struct gw_form_part {
    char *name;
    char *filename;          /* NULL: a plain field */
    char *content_type;      /* NULL: curl's default */
    const char *data;
    size_t len;
    size_t sent;             /* read cursor, curl's */
} gw_form_part_t;

/* An outgoing request. The transfer takes the headers list and the body. */
typedef struct gw_http_out {
    char *url;               /* owned */
    struct curl_slist *headers;
    gw_buf_t body;           /* empty for GET */
    json_t *json;            /* or a JSON body still to be written into body
                                (gw_dialect_write_body), e.g. on the thread pool */
    bool post;
    gw_form_part_t *parts;   /* non-empty: a multipart POST instead of body */
    size_t nparts;
} gw_http_out_t;

void gw_http_out_init(gw_http_out_t *o);
void gw_http_out_dispose(gw_http_out_t *o);
void gw_http_out_header(gw_http_out_t *o, const char *name, const char *value);
/* Adds a multipart field (filename NULL) or file; strings are copied. */
void gw_http_out_part(gw_http_out_t *o, const char *name, const char *filename,
                      const char *content_type, const void *data, size_t len);

typedef enum {
    GW_XFER_OK = 0,        /* a complete HTTP response (any status) */
    GW_XFER_TIMEOUT,       /* first byte or idle deadline passed */
    GW_XFER_NETWORK,       /* DNS, connect, TLS, reset, truncated */
    GW_XFER_TOOBIG,        /* the response passed its size ceiling */
    GW_XFER_BLOCKED        /* guarded fetch: the address is not public */
} gw_xfer_outcome_t;

typedef struct gw_xfer_cbs {
    /* Status line and headers are complete (names lower-cased). Return
     * nonzero to abort the transfer (on_done still fires). */
    int (*on_headers)(void *ctx, int status, const gw_header_t *hdrs, size_t n);
    /* A piece of body. Return 0 to continue, GW_AGAIN to pause (resume with
     * gw_upstream_resume), another nonzero to abort. */
    int (*on_data)(void *ctx, const char *p, size_t n);
    /* Exactly once, unless cancelled. */
    void (*on_done)(void *ctx, gw_xfer_outcome_t outcome, int status);
} gw_xfer_cbs_t;

typedef struct gw_upstream_opts {
    int64_t first_byte_ms; /* deadline for the first body byte */
    int64_t idle_ms;       /* max gap between body bytes afterwards */
    /* Guarded fetch of a user-supplied URL: every connection (after DNS, on
     * every redirect) must go to a public address (see netguard.h), on a
     * fresh connection that is never reused. */
    bool public_only;
    const char *allow_cidrs; /* operator allow-list for public_only */
    long max_redirects;      /* 0: redirects are not followed */
    int64_t max_bytes;       /* 0: no limit from the transfer itself */
} gw_upstream_opts_t;

int gw_upstream_open(gw_upstream_t **out, uv_loop_t *loop);
/* Cancels every transfer and closes handles; the loop must run to finish. */
void gw_upstream_close(gw_upstream_t *u);

/* Starts a transfer; takes ownership of req's contents (req is reset). */
gw_xfer_t *gw_upstream_start(gw_upstream_t *u, gw_http_out_t *req,
                             const gw_upstream_opts_t *opts, const gw_xfer_cbs_t *cbs,
                             void *ctx);
void gw_upstream_cancel(gw_xfer_t *x);
void gw_upstream_resume(gw_xfer_t *x);
/* Frees pooled (idle) transfers beyond keep: after a burst, so that the heap
 * they pin can go back to the system. */
void gw_upstream_trim(gw_upstream_t *u, size_t keep);

#endif
