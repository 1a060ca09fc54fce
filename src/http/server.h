/*
 * The front server: libmicrohttpd in external-epoll mode, driven by the libuv
 * loop (MHD's epoll fd is watched by a uv_poll, its timeouts by a uv_timer).
 * One loop thread owns every request; no locks.
 *
 * A request (gw_req_t) collects its body under a size limit, then goes to the
 * dispatch callback, which answers at once or later: it may suspend, answer
 * with a whole body, or open a stream and write to it with backpressure.
 * Client disconnects are noticed even while a request waits on its upstream
 * (a disconnect watch on the socket), and reported through on_abort.
 */
#ifndef GW_HTTP_SERVER_H
#define GW_HTTP_SERVER_H

#include <uv.h>

#include "core/buf.h"

typedef struct gw_server gw_server_t;
typedef struct gw_req gw_req_t;

typedef struct gw_server_opts {
    const char *host;
    int port;
    unsigned max_connections;
    unsigned idle_timeout_s;   /* no progress for this long: the connection closes */
    unsigned header_timeout_s; /* a request's headers must arrive within this */
    unsigned body_timeout_s;   /* the whole body must arrive within this */
    unsigned max_per_client;   /* open connections per remote address (0: no cap) */
    size_t max_body;           /* larger bodies get 413 */
    void (*dispatch)(void *ctx, gw_req_t *req); /* body complete: answer it */
    bool (*early_check)(void *ctx, gw_req_t *req); /* headers in: may answer (401) */
    void *ctx;
} gw_server_opts_t;

int gw_server_open(gw_server_t **out, uv_loop_t *loop, const gw_server_opts_t *opts,
                   gw_err_t *err);
/* Stops accepting; in-flight requests go on. */
void gw_server_quiesce(gw_server_t *s);
size_t gw_server_inflight(const gw_server_t *s);
uint64_t gw_server_started(const gw_server_t *s); /* requests begun since it opened */
/* Aborts what is left and frees the server; run the loop to finish closing. */
void gw_server_close(gw_server_t *s);
int gw_server_port(const gw_server_t *s);

/* ---- the request as seen by handlers ---------------------------------- */

const char *gw_req_method(const gw_req_t *r);
const char *gw_req_path(const gw_req_t *r);         /* percent-decoded */
const char *gw_req_header(const gw_req_t *r, const char *name); /* NULL if absent */
/* A query-string argument, percent-decoded; NULL if absent. */
const char *gw_req_query(const gw_req_t *r, const char *name);
gw_str_t gw_req_body(const gw_req_t *r);
/* True when the client is on this machine: a loopback socket, and no
 * Forwarded / X-Forwarded-For / X-Real-IP header (a proxy relaying a remote
 * client connects from loopback too). */
bool gw_req_local(const gw_req_t *r);
/* The socket peer's address as text ("127.0.0.1", "::1"; "unknown"). Never
 * from a proxy header, which the client chooses. */
void gw_req_peer(const gw_req_t *r, char *out, size_t n);
/* A tag the layer above keeps on the request: which client API (and so which
 * error shape) its answers speak. 0 until set. */
void gw_req_set_api(gw_req_t *r, int api);
int gw_req_api(const gw_req_t *r);
/* Routes the request as if it had come for path (copied): the dashboard's
 * /api/v1/... is /v1/... from here on. */
void gw_req_set_path(gw_req_t *r, const char *path);
/* The layer above vouched for this client (a dashboard session, this
 * machine's own page): handlers need no key from it. */
void gw_req_set_authorized(gw_req_t *r);
bool gw_req_authorized(const gw_req_t *r);
/* Answers to this request grant no other origin (no CORS headers). */
void gw_req_same_origin_only(gw_req_t *r);
const char *gw_req_id(const gw_req_t *r);           /* "req_<32 hex>" */
int64_t gw_req_start_us(const gw_req_t *r);
bool gw_req_body_too_big(const gw_req_t *r);
/* Frees the body once a handler has taken what it needs from it (a parsed
 * upload); gw_req_body() is empty afterwards. */
void gw_req_release_body(gw_req_t *r);
/* Moves the body to the caller, who disposes of it: for work that may outlive
 * the request (a parse on the thread pool while the client can still leave).
 * gw_req_body() is empty afterwards. */
gw_buf_t gw_req_take_body(gw_req_t *r);
/* The libmicrohttpd connection, for its form (post) processor only. */
struct MHD_Connection *gw_req_mhd_connection(const gw_req_t *r);

/* Handler hooks: on_abort fires once if the client goes away (or the server
 * shuts down) before the handler finished; on_drain fires when a stream's
 * buffer falls below its low-water mark after a write returned GW_AGAIN. */
void gw_req_set_handler(gw_req_t *r, void *ctx, void (*on_abort)(void *ctx),
                        void (*on_drain)(void *ctx));

/* A header for the eventual response (copied). */
void gw_req_add_header(gw_req_t *r, const char *name, const char *value);

/* Answers with a whole body (taken). Works synchronously inside dispatch or
 * later from any loop callback. */
void gw_req_respond(gw_req_t *r, int status, const char *content_type, gw_buf_t *body);
/* Starts a streamed response (chunked); headers go out with the first bytes.
 * The request body is released here: gw_req_body() is empty afterwards. */
void gw_req_stream_start(gw_req_t *r, int status, const char *content_type);
/* Queues bytes; 0, or GW_AGAIN when above the high-water mark (pause the
 * producer until on_drain). Never blocks, never drops. */
int gw_req_stream_write(gw_req_t *r, const char *p, size_t n);
void gw_req_stream_end(gw_req_t *r);

#endif
