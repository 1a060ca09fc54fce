/*
 * libmicrohttpd on libuv (see server.h). MHD runs in external-epoll mode: its
 * epoll fd is one uv_poll handle, its timeouts one uv_timer. Requests that
 * wait on an upstream are suspended (MHD stops polling them); a per-connection
 * uv_poll watching for hang-ups notices clients that leave meanwhile.
 *
 * Limits MHD does not keep itself are kept here: a deadline for a request's
 * headers (its idle timeout restarts with every byte, so a client sending a
 * byte a second would hold a connection for ever), connections per client
 * address, and accepting again once a connection closes below the cap.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/peers.h"

#define STREAM_HIGH_WATER (256 * 1024)
#define STREAM_LOW_WATER (64 * 1024)
/* MHD allocates (and zeroes) this with every callback response, but sends
 * chunked (HTTP/1.1) bodies from the connection's own pool: only HTTP/1.0
 * clients read through it. Per open stream, so small. */
#define STREAM_BLOCK 512
#define MAX_EXTRA_HEADERS 16
#define HUP_DELAY_MS 100
#define CONN_MEMORY (16 * 1024) /* MHD's per-connection pool: headers and buffers */
#define DEADLINE_TICK_MS 1000   /* header deadlines are checked this often */

/* One per TCP connection (MHD socket context). */
typedef struct conn_ctx {
    uv_poll_t hup;           /* the hang-up watch while a request is suspended */
    gw_server_t *srv;
    gw_req_t *req;           /* the request in flight on this connection, if any */
    struct conn_ctx *wprev, *wnext; /* the server's list of connections awaiting headers */
    int64_t deadline_ms;     /* while awaiting: the headers must be in by then */
    int fd;
    bool hup_ok;             /* hup is initialised (closed with the connection) */
    bool hup_started;
    bool awaiting;           /* on the awaiting list */
    bool between_requests;   /* keep-alive: the next request line has not begun */
    bool half_closed;        /* the client shut its sending side; only errors cancel */
    socklen_t addrlen;
    struct sockaddr_storage addr; /* the client's, for the per-address count */
} conn_ctx_t;

struct gw_req {
    gw_server_t *srv;
    struct MHD_Connection *conn;
    conn_ctx_t *cc;
    gw_req_t *prev, *next;   /* the server's list of live requests */
    gw_req_t *next_suspend;  /* the server's list of requests to suspend */
    bool suspend_queued;
    char method[16];
    bool http11;             /* 1xx interim answers may be sent */
    bool probed;             /* the half-close probe went out */
    bool sse;                /* the stream is an event stream (comments allowed) */
    bool same_origin_only;   /* no CORS grant on the answer (the admin API) */
    int api;                 /* which client API the answers speak (the layer above's tag) */
    bool authorized;         /* the layer above vouched for the client (the dashboard) */
    char *path;
    char id[40];
    int64_t start_us;
    gw_buf_t body;
    bool too_big;
    bool dispatched;
    bool in_dispatch;
    bool suspended;
    int64_t suspended_ms;
    bool answered;           /* a response (whole or stream) was produced */
    bool finished;           /* the handler is done (no more on_abort) */
    struct MHD_Response *pending;
    unsigned pending_status;
    char *hdr_names[MAX_EXTRA_HEADERS];
    char *hdr_values[MAX_EXTRA_HEADERS];
    size_t nhdrs;
    /* streaming */
    bool streaming;
    bool stream_ended;
    bool reader_waiting;     /* the content reader found nothing and suspended */
    bool producer_paused;    /* a write returned GW_AGAIN */
    gw_buf_t out;
    size_t out_off;
    /* handler */
    void *hctx;
    void (*on_abort)(void *ctx);
    void (*on_drain)(void *ctx);
};

struct gw_server {
    uv_loop_t *loop;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_prepare_t prepare;    /* run MHD again after resumes made this iteration: */
    uv_check_t check;        /* before the loop sleeps, and after its I/O */
    uv_timer_t hup_timer;    /* starts hang-up watches of long suspensions */
    uv_timer_t deadline_timer; /* closes connections whose headers are late */
    int closing;             /* handles not yet closed at teardown */
    gw_server_opts_t opts;
    gw_peers_t *peers;       /* open connections per client address */
    conn_ctx_t *awaiting;    /* connections waiting for a request's headers */
    gw_req_t *reqs;
    gw_req_t *to_suspend;    /* suspended once MHD_run returns */
    size_t inflight;
    uint64_t started;        /* requests begun since the server opened */
    int port;
    bool quiesced;
    bool need_run;
    uint64_t rng[2];
};

static void run_mhd(gw_server_t *s);

/* ---- small helpers ----------------------------------------------------- */

static uint64_t rng_next(gw_server_t *s)
{
    /* xorshift128+: request ids need to be unique, not secret. */
    uint64_t a = s->rng[0];
    uint64_t b = s->rng[1];
    s->rng[0] = b;
    a ^= a << 23;
    s->rng[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s->rng[1] + b;
}

/* "req_" and 32 hex digits (two random 64-bit words), without printf. */
static void make_id(gw_server_t *s, char out[40])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t w[2];

    w[0] = rng_next(s);
    w[1] = rng_next(s);
    memcpy(out, "req_", 4);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            out[4 + k * 16 + i] = hex[(w[k] >> (60 - 4 * i)) & 0xf];
    out[36] = '\0';
}

static void hup_stop(gw_req_t *r)
{
    if (r->cc != NULL && r->cc->hup_started) {
        uv_poll_stop(&r->cc->hup);
        r->cc->hup_started = false;
    }
}

static void abort_handler(gw_req_t *r)
{
    void (*cb)(void *) = r->on_abort;

    if (r->finished)
        return;
    r->finished = true;
    r->on_abort = NULL;
    r->on_drain = NULL;
    if (cb != NULL)
        cb(r->hctx);
}

static void do_resume(gw_req_t *r)
{
    if (!r->suspended)
        return;
    hup_stop(r);
    r->suspended = false;
    MHD_resume_connection(r->conn);
    r->srv->need_run = true;
}

static int stream_append(gw_req_t *r, const char *p, size_t n);

/* True when the client's socket is reset or closed both ways. A FIN alone
 * is no proof: HTTP/1.1 lets a client shut its sending side after the
 * request and still read the answer. A client that closed its socket
 * instead answers any byte with a reset, so the request sends one, once,
 * that every client skips: "100 Continue" before the answer (an interim
 * answer, RFC 9110 15.2), an SSE comment within an event stream. The reset
 * then wakes the watch, or fails the next write. */
static bool client_gone(conn_ctx_t *cc, gw_req_t *r)
{
    static const char probe[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static const char sse_probe[] = ":\n\n";
    struct pollfd pf = {.fd = cc->fd, .events = 0};
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    char c;

    if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
        return true;
    if (getsockopt(cc->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr != 0)
        return true;
    if (recv(cc->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
        errno != EWOULDBLOCK)
        return true;
    if (r == NULL || r->probed)
        return false;
    if (r->answered) {
        /* Any other stream's own next bytes find out. */
        if (r->sse && !r->stream_ended) {
            r->probed = true;
            (void)stream_append(r, sse_probe, sizeof(sse_probe) - 1);
        }
        return false;
    }
    if (!r->http11)
        return false;
    r->probed = true;
    /* Nothing else writes to the socket until the answer is queued. */
    return send(cc->fd, probe, sizeof(probe) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
           errno != EAGAIN && errno != EWOULDBLOCK;
}

static void on_hup(uv_poll_t *h, int status, int events)
{
    conn_ctx_t *cc = h->data;
    gw_req_t *r = cc->req;

    (void)events;
    if (status == 0 && !client_gone(cc, r)) {
        if (!cc->half_closed) {
            /* From now on only an error or a reset (always reported) wakes it:
             * the FIN stays readable and would wake a wider watch every turn. */
            cc->half_closed = true;
            gw_log_debug("%s: client shut its sending side; waiting on",
                         r != NULL ? r->id : "-");
            if (cc->hup_started)
                uv_poll_start(h, UV_PRIORITIZED, on_hup);
        } else {
            /* TCP urgent data, not an error: drop it, or it wakes us every turn. */
            char c;
            (void)!recv(cc->fd, &c, 1, MSG_OOB | MSG_DONTWAIT);
        }
        return;
    }
    uv_poll_stop(h);
    cc->hup_started = false;
    if (r == NULL)
        return;
    gw_log_debug("%s: client went away", r->id);
    abort_handler(r);
    /* MHD finds the dead socket once it polls the connection again. */
    do_resume(r);
}

/* Most suspensions last a millisecond (a fast upstream, the next stream
 * chunk): watching the socket for each would cost two epoll_ctl calls a
 * request. So the hang-up watch starts only for requests still suspended
 * after HUP_DELAY_MS, checked by one server timer while any are waiting. */
static void on_hup_timer(uv_timer_t *t)
{
    gw_server_t *s = t->data;
    int64_t now = gw_mono_ms();
    bool waiting = false;

    for (gw_req_t *r = s->reqs; r != NULL; r = r->next) {
        if (!r->suspended || r->cc == NULL || !r->cc->hup_ok || r->cc->hup_started)
            continue;
        if (now - r->suspended_ms < HUP_DELAY_MS) {
            waiting = true;
            continue;
        }
        uv_poll_start(&r->cc->hup, r->cc->half_closed ? UV_PRIORITIZED : UV_DISCONNECT, on_hup);
        r->cc->hup_started = true;
    }
    if (!waiting)
        uv_timer_stop(t);
}

static void do_suspend(gw_req_t *r)
{
    if (r->suspended)
        return;
    r->suspended = true;
    r->suspended_ms = gw_mono_ms();
    MHD_suspend_connection(r->conn);
    if (!uv_is_active((uv_handle_t *)&r->srv->hup_timer))
        uv_timer_start(&r->srv->hup_timer, on_hup_timer, HUP_DELAY_MS, HUP_DELAY_MS);
}

/* A request waiting for its answer is suspended once MHD_run returns, not in
 * the handler: suspended inside it, the connection keeps the read interest
 * it had while the request came in, and on resume MHD reads before it
 * writes: a client's FIN after its request (a half-close, which HTTP/1.1
 * allows) then ended the connection instead of the answer going out.
 * Returning without a response first lets MHD mark the connection as
 * waiting on us (no reads), which its suspension keeps. */
static void suspend_after_run(gw_req_t *r)
{
    if (r->suspend_queued || r->suspended)
        return;
    r->suspend_queued = true;
    r->next_suspend = r->srv->to_suspend;
    r->srv->to_suspend = r;
}

static void suspend_queued(gw_server_t *s)
{
    while (s->to_suspend != NULL) {
        gw_req_t *r = s->to_suspend;
        s->to_suspend = r->next_suspend;
        r->next_suspend = NULL;
        r->suspend_queued = false;
        /* Answered or abandoned meanwhile: MHD calls the handler again. */
        if (r->pending == NULL && !r->finished)
            do_suspend(r);
    }
}

static void unqueue_suspend(gw_req_t *r)
{
    gw_req_t **pp = &r->srv->to_suspend;

    if (!r->suspend_queued)
        return;
    while (*pp != r)
        pp = &(*pp)->next_suspend;
    *pp = r->next_suspend;
    r->suspend_queued = false;
}

/* ---- header deadlines --------------------------------------------------- */

/* A connection awaits a request's headers from its accept, and again after
 * each answer (keep-alive). Between requests it may idle for the idle
 * timeout first; the header clock restarts when the next request line is in. */
static void on_deadline_timer(uv_timer_t *t);

static void await_start(gw_server_t *s, conn_ctx_t *cc, int64_t deadline_ms, bool between)
{
    cc->deadline_ms = deadline_ms;
    cc->between_requests = between;
    if (!cc->awaiting) {
        cc->awaiting = true;
        cc->wprev = NULL;
        cc->wnext = s->awaiting;
        if (s->awaiting != NULL)
            s->awaiting->wprev = cc;
        s->awaiting = cc;
    }
    if (!uv_is_active((uv_handle_t *)&s->deadline_timer))
        uv_timer_start(&s->deadline_timer, on_deadline_timer, DEADLINE_TICK_MS,
                       DEADLINE_TICK_MS);
}

static void await_stop(gw_server_t *s, conn_ctx_t *cc)
{
    if (!cc->awaiting)
        return;
    cc->awaiting = false;
    if (cc->wprev != NULL)
        cc->wprev->wnext = cc->wnext;
    else
        s->awaiting = cc->wnext;
    if (cc->wnext != NULL)
        cc->wnext->wprev = cc->wprev;
    cc->wprev = cc->wnext = NULL;
}

static int64_t header_ms(const gw_server_t *s)
{
    return (int64_t)s->opts.header_timeout_s * 1000;
}

/* Late connections are shut down, not closed: MHD owns the descriptor and
 * cleans the connection up when its poll reports the hang-up. */
static void on_deadline_timer(uv_timer_t *t)
{
    gw_server_t *s = t->data;
    int64_t now = gw_mono_ms();
    unsigned late = 0;
    conn_ctx_t *next;

    for (conn_ctx_t *cc = s->awaiting; cc != NULL; cc = next) {
        next = cc->wnext;
        if (now < cc->deadline_ms)
            continue;
        await_stop(s, cc);
        shutdown(cc->fd, SHUT_RDWR);
        late++;
    }
    if (late > 0)
        gw_log_info("closed %u connection%s whose request headers took over %u s", late,
                    late == 1 ? "" : "s", s->opts.header_timeout_s);
    if (s->awaiting == NULL)
        uv_timer_stop(t);
}

/* MHD's URI log hook: the request line is in, the header clock starts. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    gw_server_t *s = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_ctx_t *cc = ci != NULL ? ci->socket_context : NULL;

    (void)uri;
    if (cc != NULL && cc->awaiting && cc->between_requests)
        await_start(s, cc, gw_mono_ms() + header_ms(s), false);
    return NULL; /* no request context yet: on_request makes it */
}

/* ---- request lifecycle ------------------------------------------------- */

static gw_req_t *req_new(gw_server_t *s, struct MHD_Connection *conn, const char *url,
                         const char *method)
{
    gw_req_t *r = gw_xcalloc(1, sizeof(*r));
    const union MHD_ConnectionInfo *ci;

    r->srv = s;
    r->conn = conn;
    {
        size_t n = GW_MIN(strlen(method), sizeof(r->method) - 1);
        memcpy(r->method, method, n);
        r->method[n] = '\0';
    }
    r->path = gw_xstrdup(url);
    make_id(s, r->id);
    r->start_us = gw_mono_us();
    gw_buf_init(&r->body, s->opts.max_body);
    gw_buf_init(&r->out, 64u << 20);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci != NULL && ci->socket_context != NULL) {
        r->cc = ci->socket_context;
        r->cc->req = r;
        await_stop(s, r->cc); /* the headers are in */
    }
    r->next = s->reqs;
    if (s->reqs != NULL)
        s->reqs->prev = r;
    s->reqs = r;
    s->inflight++;
    s->started++;
    return r;
}

static void req_free(gw_req_t *r)
{
    gw_server_t *s = r->srv;

    hup_stop(r);
    unqueue_suspend(r);
    if (r->cc != NULL && r->cc->req == r)
        r->cc->req = NULL;
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        s->reqs = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    s->inflight--;
    if (r->pending != NULL)
        MHD_destroy_response(r->pending);
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdr_names[i]);
        free(r->hdr_values[i]);
    }
    gw_buf_dispose(&r->body);
    gw_buf_dispose(&r->out);
    free(r->path);
    free(r);
}

static void add_common_headers(gw_req_t *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "x-request-id", r->id);
    /* While draining, keep-alive clients are sent away after this answer. */
    if (r->srv->quiesced)
        MHD_add_response_header(resp, "Connection", "close");
    if (!r->same_origin_only) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "X-Routed-Via, X-Fallback-Attempts, x-request-id, retry-after");
    }
    for (size_t i = 0; i < r->nhdrs; i++)
        MHD_add_response_header(resp, r->hdr_names[i], r->hdr_values[i]);
}

static enum MHD_Result queue_pending(gw_req_t *r)
{
    enum MHD_Result rc = MHD_queue_response(r->conn, r->pending_status, r->pending);
    MHD_destroy_response(r->pending);
    r->pending = NULL;
    return rc;
}

/* Hands a finished response to MHD now (inside the access handler) or on the
 * next handler call after resuming the connection. */
static void set_pending(gw_req_t *r, unsigned status, struct MHD_Response *resp)
{
    add_common_headers(r, resp);
    r->pending = resp;
    r->pending_status = status;
    r->answered = true;
    if (!r->in_dispatch)
        do_resume(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    gw_server_t *s = cls;
    gw_req_t *r = *con_cls;

    if (r == NULL) {
        const char *cl;

        r = req_new(s, conn, url, method);
        r->http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        *con_cls = r;
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > s->opts.max_body) {
            /* Clients write the whole body before they read: answering now and
             * closing would show them a reset, not the 413. So an oversized body
             * is read and dropped, unless it is absurdly large. */
            r->too_big = true;
            if (strtoull(cl, NULL, 10) / 8 > s->opts.max_body) {
                r->in_dispatch = true;
                s->opts.dispatch(s->opts.ctx, r);
                r->in_dispatch = false;
            }
        }
        if (r->pending == NULL && s->opts.early_check != NULL) {
            r->in_dispatch = true;
            s->opts.early_check(s->opts.ctx, r);
            r->in_dispatch = false;
        }
        if (r->pending != NULL) {
            r->finished = true;
            return queue_pending(r);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->too_big && gw_buf_append(&r->body, upload_data, *upload_data_size) != 0) {
            r->too_big = true;
            gw_buf_dispose(&r->body);
        }
        *upload_data_size = 0;
        if (s->opts.body_timeout_s > 0 &&
            gw_mono_us() - r->start_us > (int64_t)s->opts.body_timeout_s * 1000000) {
            gw_log_info("%s: request body too slow, closing", r->id);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (r->pending != NULL)
        return queue_pending(r);
    if (r->dispatched) {
        /* Resumed without a response: the client left while we waited. */
        if (r->finished && !r->answered)
            return MHD_NO;
        suspend_after_run(r);
        return MHD_YES;
    }
    r->dispatched = true;
    r->in_dispatch = true;
    s->opts.dispatch(s->opts.ctx, r);
    r->in_dispatch = false;
    if (r->pending != NULL)
        return queue_pending(r);
    suspend_after_run(r);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_server_t *s = cls;
    gw_req_t *r = *con_cls;

    (void)conn;
    if (r == NULL)
        return;
    *con_cls = NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        gw_log_debug("%s: connection ended early (%d)", r->id, (int)toe);
    else if (r->cc != NULL && s->opts.header_timeout_s > 0)
        await_start(s, r->cc,
                    gw_mono_ms() + (int64_t)s->opts.idle_timeout_s * 1000 + header_ms(s), true);
    abort_handler(r);
    req_free(r);
}

static void on_conn_closed(uv_handle_t *h)
{
    free(h->data);
}

static socklen_t sockaddr_len(const struct sockaddr *sa)
{
    if (sa == NULL)
        return 0;
    return sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
           : sa->sa_family == AF_INET ? (socklen_t)sizeof(struct sockaddr_in)
                                       : 0;
}

/* MHD's accept policy: a remote address at its connection cap is refused
 * (MHD closes the socket at once). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    gw_server_t *s = cls;

    if (gw_peers_admit(s->peers, addr, addrlen))
        return MHD_YES;
    gw_log_debug("refused a connection: its address has %u open", s->opts.max_per_client);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    gw_server_t *s = cls;
    conn_ctx_t *cc;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *peer =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        cc = gw_xcalloc(1, sizeof(*cc));
        cc->srv = s;
        cc->fd = fd != NULL ? fd->connect_fd : -1;
        if (peer != NULL && peer->client_addr != NULL) {
            cc->addrlen = sockaddr_len(peer->client_addr);
            memcpy(&cc->addr, peer->client_addr, cc->addrlen);
            gw_peers_add(s->peers, (struct sockaddr *)&cc->addr, cc->addrlen);
        }
        cc->hup_ok = cc->fd >= 0 && uv_poll_init_socket(s->loop, &cc->hup, cc->fd) == 0;
        cc->hup.data = cc;
        if (s->opts.header_timeout_s > 0 && cc->fd >= 0)
            await_start(s, cc, gw_mono_ms() + header_ms(s), false);
        *socket_context = cc;
        return;
    }
    cc = *socket_context;
    if (cc == NULL)
        return;
    *socket_context = NULL;
    /* At the cap MHD took its listening socket off its poll set and puts it
     * back only when it runs again: run it, or nothing would. */
    s->need_run = true;
    await_stop(s, cc);
    gw_peers_remove(s->peers, (struct sockaddr *)&cc->addr, cc->addrlen);
    if (cc->req != NULL)
        cc->req->cc = NULL;
    if (!cc->hup_ok) {
        free(cc);
        return;
    }
    if (cc->hup_started)
        uv_poll_stop(&cc->hup);
    uv_close((uv_handle_t *)&cc->hup, on_conn_closed);
}

/* ---- streaming --------------------------------------------------------- */

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    gw_req_t *r = cls;
    size_t avail = r->out.len - r->out_off;

    (void)pos;
    if (avail > 0) {
        size_t n = GW_MIN(avail, max);
        memcpy(buf, r->out.ptr + r->out_off, n);
        r->out_off += n;
        if (r->out_off == r->out.len) {
            /* Drained: an open stream mostly waits, holding no buffer meanwhile. */
            r->out_off = 0;
            gw_buf_dispose(&r->out);
        }
        if (r->producer_paused && r->out.len - r->out_off < STREAM_LOW_WATER) {
            r->producer_paused = false;
            if (r->on_drain != NULL)
                r->on_drain(r->hctx);
        }
        return (ssize_t)n;
    }
    if (r->stream_ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (r->finished && !r->stream_ended)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    /* Nothing to send yet: park the connection until the next write. */
    r->reader_waiting = true;
    do_suspend(r);
    return 0;
}

void gw_req_stream_start(gw_req_t *r, int status, const char *content_type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_reader, r, NULL);

    gw_assert(resp != NULL);
    /* No handler reads the request body once it streams: a stream may stay open
     * for minutes, its prompt need not. */
    gw_buf_dispose(&r->body);
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    r->streaming = true;
    r->sse = strncmp(content_type, "text/event-stream", 17) == 0;
    set_pending(r, (unsigned)status, resp);
}

/* Queues bytes for the stream's reader and wakes it. */
static int stream_append(gw_req_t *r, const char *p, size_t n)
{
    if (gw_buf_append(&r->out, p, n) != 0)
        return GW_ETOOBIG;
    if (r->reader_waiting) {
        r->reader_waiting = false;
        do_resume(r);
    }
    return 0;
}

int gw_req_stream_write(gw_req_t *r, const char *p, size_t n)
{
    if (stream_append(r, p, n) != 0)
        return GW_ETOOBIG;
    if (r->out.len - r->out_off > STREAM_HIGH_WATER) {
        r->producer_paused = true;
        return GW_AGAIN;
    }
    return 0;
}

void gw_req_stream_end(gw_req_t *r)
{
    r->stream_ended = true;
    r->finished = true;
    r->on_abort = NULL;
    r->on_drain = NULL;
    if (r->reader_waiting) {
        r->reader_waiting = false;
        do_resume(r);
    }
}

/* ---- whole responses ----------------------------------------------------- */

void gw_req_respond(gw_req_t *r, int status, const char *content_type, gw_buf_t *body)
{
    size_t len = body->len;
    char *bytes = gw_buf_detach(body);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);

    gw_assert(resp != NULL);
    if (content_type != NULL)
        MHD_add_response_header(resp, "Content-Type", content_type);
    r->finished = true;
    r->on_abort = NULL;
    r->on_drain = NULL;
    set_pending(r, (unsigned)status, resp);
}

void gw_req_add_header(gw_req_t *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->nhdrs; i++) {
        if (strcasecmp(r->hdr_names[i], name) == 0) {
            free(r->hdr_values[i]);
            r->hdr_values[i] = gw_xstrdup(value);
            return;
        }
    }
    if (r->nhdrs == MAX_EXTRA_HEADERS)
        return;
    r->hdr_names[r->nhdrs] = gw_xstrdup(name);
    r->hdr_values[r->nhdrs] = gw_xstrdup(value);
    r->nhdrs++;
}

void gw_req_set_handler(gw_req_t *r, void *ctx, void (*on_abort)(void *ctx),
                        void (*on_drain)(void *ctx))
{
    r->hctx = ctx;
    r->on_abort = on_abort;
    r->on_drain = on_drain;
}

const char *gw_req_method(const gw_req_t *r)
{
    return r->method;
}

const char *gw_req_path(const gw_req_t *r)
{
    return r->path;
}

const char *gw_req_header(const gw_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *gw_req_query(const gw_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void gw_req_peer(const gw_req_t *r, char *out, size_t n)
{
    const struct sockaddr *sa = r->cc != NULL ? (const struct sockaddr *)&r->cc->addr : NULL;
    const void *bytes = NULL;

    if (sa != NULL && sa->sa_family == AF_INET)
        bytes = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa != NULL && sa->sa_family == AF_INET6)
        bytes = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (bytes == NULL || inet_ntop(sa->sa_family, bytes, out, (socklen_t)n) == NULL)
        snprintf(out, n, "unknown");
}

void gw_req_set_api(gw_req_t *r, int api)
{
    r->api = api;
}

int gw_req_api(const gw_req_t *r)
{
    return r->api;
}

void gw_req_set_path(gw_req_t *r, const char *path)
{
    char *copy = gw_xstrdup(path);

    free(r->path);
    r->path = copy;
}

void gw_req_set_authorized(gw_req_t *r)
{
    r->authorized = true;
}

bool gw_req_authorized(const gw_req_t *r)
{
    return r->authorized;
}

void gw_req_same_origin_only(gw_req_t *r)
{
    r->same_origin_only = true;
}

static const char *req_header(const void *r, const char *name)
{
    return gw_req_header(r, name);
}

bool gw_req_local(const gw_req_t *r)
{
    return r->cc != NULL && gw_peers_local_client((const struct sockaddr *)&r->cc->addr,
                                                  r->cc->addrlen, req_header, r);
}

gw_str_t gw_req_body(const gw_req_t *r)
{
    gw_str_t v = {r->body.ptr ? r->body.ptr : "", r->body.len};
    return v;
}

const char *gw_req_id(const gw_req_t *r)
{
    return r->id;
}

int64_t gw_req_start_us(const gw_req_t *r)
{
    return r->start_us;
}

bool gw_req_body_too_big(const gw_req_t *r)
{
    return r->too_big;
}

void gw_req_release_body(gw_req_t *r)
{
    gw_buf_dispose(&r->body);
}

gw_buf_t gw_req_take_body(gw_req_t *r)
{
    gw_buf_t b = r->body;

    gw_buf_init(&r->body, b.max);
    return b;
}

struct MHD_Connection *gw_req_mhd_connection(const gw_req_t *r)
{
    return r->conn;
}

/* ---- the daemon on the loop ------------------------------------------------ */

static void on_mhd_timer(uv_timer_t *t);

static void arm_timer(gw_server_t *s)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;

    if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
        uv_timer_start(&s->timer, on_mhd_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&s->timer);
}

static void run_mhd(gw_server_t *s)
{
    s->need_run = false;
    MHD_run(s->mhd);
    suspend_queued(s);
    arm_timer(s);
}

static void on_mhd_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    run_mhd(h->data);
}

static void on_mhd_timer(uv_timer_t *t)
{
    run_mhd(t->data);
}

/* A resume (or a stream write) made in a timer or I/O callback must reach the
 * socket before the loop sleeps: MHD's wake-up pipe would only be noticed by the
 * next poll. Timers run before poll, I/O callbacks during it, so MHD runs again
 * in both the prepare (pre-poll) and check (post-poll) phases when needed. */
static void on_prepare(uv_prepare_t *h)
{
    gw_server_t *s = h->data;
    if (s->need_run)
        run_mhd(s);
}

static void on_check(uv_check_t *c)
{
    gw_server_t *s = c->data;
    if (s->need_run)
        run_mhd(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    gw_log_debug("http: %s", line);
}

int gw_server_open(gw_server_t **out, uv_loop_t *loop, const gw_server_opts_t *opts,
                   gw_err_t *err)
{
    gw_server_t *s = gw_xcalloc(1, sizeof(*s));
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *di;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, opts->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)opts->port);
    } else if (inet_pton(AF_INET6, opts->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)opts->port);
        flags |= MHD_USE_IPv6;
    } else {
        gw_err_set(err, GW_EINVAL, 0, "invalid listen address '%s' (use an IP address)",
                   opts->host);
        free(s);
        return GW_EINVAL;
    }
    if (getrandom(s->rng, sizeof(s->rng), 0) != (ssize_t)sizeof(s->rng))
        s->rng[0] = (uint64_t)gw_mono_us(), s->rng[1] = 0x9e3779b97f4a7c15ull;
    s->loop = loop;
    s->opts = *opts;
    s->peers = gw_peers_new(opts->max_per_client);
    s->mhd = MHD_start_daemon(
        flags, (uint16_t)opts->port, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, s, MHD_OPTION_SOCK_ADDR, &ss,
        MHD_OPTION_CONNECTION_LIMIT, opts->max_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
        opts->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_URI_LOG_CALLBACK,
        on_request_line, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (s->mhd == NULL) {
        gw_err_set(err, GW_EIO, 0, "cannot listen on %s:%d: %s", opts->host, opts->port,
                   strerror(errno));
        gw_peers_free(s->peers);
        free(s);
        return GW_EIO;
    }
    di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : opts->port;
    di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &s->poll, di->epoll_fd);
    s->poll.data = s;
    uv_poll_start(&s->poll, UV_READABLE, on_mhd_poll);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_prepare_init(loop, &s->prepare);
    s->prepare.data = s;
    uv_prepare_start(&s->prepare, on_prepare);
    uv_check_init(loop, &s->check);
    s->check.data = s;
    uv_check_start(&s->check, on_check);
    uv_timer_init(loop, &s->hup_timer);
    s->hup_timer.data = s;
    uv_timer_init(loop, &s->deadline_timer);
    s->deadline_timer.data = s;
    arm_timer(s);
    *out = s;
    return 0;
}

int gw_server_port(const gw_server_t *s)
{
    return s->port;
}

size_t gw_server_inflight(const gw_server_t *s)
{
    return s->inflight;
}

uint64_t gw_server_started(const gw_server_t *s)
{
    return s->started;
}

void gw_server_quiesce(gw_server_t *s)
{
    MHD_socket fd;

    if (s->quiesced)
        return;
    s->quiesced = true;
    fd = MHD_quiesce_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

/* libuv finishes closes in no promised order: free after the last one. */
static void on_handle_closed(uv_handle_t *h)
{
    gw_server_t *s = h->data;
    if (--s->closing == 0) {
        gw_peers_free(s->peers);
        free(s);
    }
}

void gw_server_close(gw_server_t *s)
{
    uv_handle_t *handles[] = {(uv_handle_t *)&s->poll, (uv_handle_t *)&s->timer,
                              (uv_handle_t *)&s->check, (uv_handle_t *)&s->prepare,
                              (uv_handle_t *)&s->hup_timer,
                              (uv_handle_t *)&s->deadline_timer};

    /* Whatever is still running is cut: handlers abort, MHD closes sockets. */
    for (gw_req_t *r = s->reqs; r != NULL; r = r->next) {
        abort_handler(r);
        do_resume(r);
    }
    MHD_run(s->mhd);
    MHD_stop_daemon(s->mhd);
    s->closing = (int)GW_ARRAY_LEN(handles);
    for (size_t i = 0; i < GW_ARRAY_LEN(handles); i++)
        uv_close(handles[i], on_handle_closed);
}
