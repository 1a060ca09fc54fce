/*
 * libcurl multi_socket on libuv (see client.h). Transfer objects are pooled
 * together with their easy handle and deadline timer, so steady-state
 * requests allocate nothing here and never re-create handles.
 */
#include "upstream/client.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "upstream/netguard.h"

#define MAX_HEADERS 64
#define POOL_MAX 256
/* curl's receive buffer is allocated when a transfer starts and freed when it
 * ends. A stream keeps its transfer open for minutes and gets events of a few
 * hundred bytes: the smallest buffer curl takes (1 KiB; 8 KiB cost ~3 KB more
 * RSS per open stream). Whole answers are read in fewer, larger pieces. */
#define STREAM_RECV_BUFFER 1024L
#define ANSWER_RECV_BUFFER 8192L

struct gw_xfer {
    gw_upstream_t *u;
    CURL *easy;
    uv_timer_t deadline;     /* lives as long as the pooled object */
    gw_http_out_t req;
    curl_mime *mime;         /* the multipart body, when req has parts */
    gw_xfer_cbs_t cbs;
    void *ctx;
    gw_buf_t hdrbuf;         /* "name\0value\0" pairs of the final header block */
    int status;
    int64_t idle_ms;
    bool headers_done;
    bool cancelled;
    bool timed_out;
    bool aborted;            /* a callback asked to stop */
    bool blocked;            /* the guard refused an address */
    const char *allow_cidrs;
    bool guarded;            /* public_only: on_open_socket checks addresses */
    bool active;             /* added to the multi handle */
    bool event_stream;       /* a streamed answer: long-lived, small reads */
    bool follows;            /* curl follows redirects for this transfer */
    gw_xfer_t *next;         /* pool / reap list link */
};

/* The poll handle of one upstream socket. A connection that goes back to curl's
 * cache keeps its handle (and its place in the loop's epoll set) until curl
 * closes the socket, so a reused connection costs no epoll_ctl. */
typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    gw_upstream_t *u;
    int events;              /* what the handle watches now, 0 when stopped */
    bool wanted;             /* curl wants events (between POLL_IN/OUT and REMOVE) */
    bool ours;               /* opened by on_open_socket: we see it closed */
} sock_ctx_t;

struct gw_upstream {
    uv_loop_t *loop;
    CURLM *multi;
    CURLSH *share;           /* DNS cache shared by every easy handle */
    uv_timer_t timer;
    gw_xfer_t *pool;
    size_t npool;
    gw_xfer_t *reap;         /* cancelled inside a curl callback: removed afterwards */
    sock_ctx_t **socks;      /* by fd: handles of sockets curl has told us about */
    unsigned char *opened;   /* by fd: 1 if on_open_socket made it (closed by on_close_socket) */
    size_t nsocks;
    size_t active;
    int in_curl;             /* >0 while curl runs our callbacks */
    bool closing;
};

void gw_http_out_init(gw_http_out_t *o)
{
    o->url = NULL;
    o->headers = NULL;
    gw_buf_init(&o->body, 64u << 20);
    o->json = NULL;
    o->post = false;
    o->parts = NULL;
    o->nparts = 0;
}

void gw_http_out_dispose(gw_http_out_t *o)
{
    free(o->url);
    o->url = NULL;
    curl_slist_free_all(o->headers);
    o->headers = NULL;
    gw_buf_dispose(&o->body);
    json_decref(o->json);
    o->json = NULL;
    for (size_t i = 0; i < o->nparts; i++) {
        free(o->parts[i].name);
        free(o->parts[i].filename);
        free(o->parts[i].content_type);
    }
    free(o->parts);
    o->parts = NULL;
    o->nparts = 0;
}

void gw_http_out_part(gw_http_out_t *o, const char *name, const char *filename,
                      const char *content_type, const void *data, size_t len)
{
    gw_form_part_t *pt;

    o->parts = gw_xrealloc(o->parts, (o->nparts + 1) * sizeof(*o->parts));
    pt = &o->parts[o->nparts++];
    pt->name = gw_xstrdup(name);
    pt->filename = filename != NULL ? gw_xstrdup(filename) : NULL;
    pt->content_type = content_type != NULL ? gw_xstrdup(content_type) : NULL;
    pt->data = data;
    pt->len = len;
    pt->sent = 0;
    o->post = true;
}

/* curl reads a part's bytes from the caller's buffer as it sends them. */
static size_t read_part(char *buf, size_t size, size_t nitems, void *arg)
{
    gw_form_part_t *pt = arg;
    size_t n = GW_MIN(size * nitems, pt->len - pt->sent);

    memcpy(buf, pt->data + pt->sent, n);
    pt->sent += n;
    return n;
}

/* Rewinds (a retried send): curl asks for an absolute position. */
static int seek_part(void *arg, curl_off_t offset, int origin)
{
    gw_form_part_t *pt = arg;

    if (origin != SEEK_SET || offset < 0 || (size_t)offset > pt->len)
        return CURL_SEEKFUNC_CANTSEEK;
    pt->sent = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static curl_mime *build_mime(CURL *e, gw_http_out_t *o)
{
    curl_mime *mime = curl_mime_init(e);

    gw_assert(mime != NULL);
    for (size_t i = 0; i < o->nparts; i++) {
        gw_form_part_t *pt = &o->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        gw_assert(part != NULL);
        curl_mime_name(part, pt->name);
        pt->sent = 0;
        curl_mime_data_cb(part, (curl_off_t)pt->len, read_part, seek_part, NULL, pt);
        if (pt->filename != NULL)
            curl_mime_filename(part, pt->filename);
        if (pt->content_type != NULL)
            curl_mime_type(part, pt->content_type);
    }
    return mime;
}

void gw_http_out_header(gw_http_out_t *o, const char *name, const char *value)
{
    gw_buf_t line;
    struct curl_slist *l;

    gw_buf_init(&line, 16384);
    if (gw_buf_appends(&line, name) != 0 || gw_buf_append(&line, ": ", 2) != 0 ||
        gw_buf_appends(&line, value) != 0) {
        gw_buf_dispose(&line);
        return;
    }
    l = curl_slist_append(o->headers, line.ptr);
    gw_assert(l != NULL);
    o->headers = l;
    gw_buf_dispose(&line);
}

/* ---- completion ------------------------------------------------------- */

static void free_xfer(uv_handle_t *h)
{
    free(h->data); /* the transfer that embeds the timer */
}

static void xfer_recycle(gw_xfer_t *x)
{
    gw_upstream_t *u = x->u;

    uv_timer_stop(&x->deadline);
    if (x->active) {
        curl_multi_remove_handle(u->multi, x->easy);
        x->active = false;
        u->active--;
    }
    gw_http_out_dispose(&x->req);
    curl_mime_free(x->mime);
    x->mime = NULL;
    gw_buf_reset(&x->hdrbuf);
    x->ctx = NULL;
    if (u->npool >= POOL_MAX || u->closing) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
        gw_buf_dispose(&x->hdrbuf);
        /* The timer is embedded: the object is freed once libuv lets go of it. */
        uv_close((uv_handle_t *)&x->deadline, free_xfer);
        return;
    }
    x->next = u->pool;
    u->pool = x;
    u->npool++;
}

static void on_deadline(uv_timer_t *t);

/* The header views live only during on_headers (consumers copy what they
 * keep). A stream may stay open for minutes: its header block goes once
 * delivered; other transfers keep the buffer for the next use of the pooled
 * object. */
static void deliver_headers(gw_xfer_t *x)
{
    gw_header_t hdrs[MAX_HEADERS];
    size_t nhdrs = 0;
    size_t off = 0;

    if (x->headers_done)
        return;
    x->headers_done = true;
    while (off < x->hdrbuf.len && nhdrs < MAX_HEADERS) {
        const char *name = x->hdrbuf.ptr + off;
        const char *value = name + strlen(name) + 1;
        hdrs[nhdrs].name = name;
        hdrs[nhdrs].value = value;
        nhdrs++;
        off = (size_t)(value - x->hdrbuf.ptr) + strlen(value) + 1;
    }
    /* The first-byte deadline runs on until the first body byte: a stream that
     * sends its headers and then nothing has not answered. */
    if (x->cbs.on_headers != NULL && !x->cancelled &&
        x->cbs.on_headers(x->ctx, x->status, hdrs, nhdrs) != 0)
        x->aborted = true; /* the callbacks refuse further data */
    if (x->event_stream)
        gw_buf_dispose(&x->hdrbuf);
}

static void finish(gw_xfer_t *x, gw_xfer_outcome_t outcome)
{
    void *ctx = x->ctx;
    gw_xfer_cbs_t cbs = x->cbs;
    int status = x->status;
    bool notify = !x->cancelled;

    if (notify && outcome == GW_XFER_OK)
        deliver_headers(x);
    notify = notify && !x->cancelled;
    xfer_recycle(x);
    if (notify && cbs.on_done != NULL)
        cbs.on_done(ctx, outcome, status);
}

static void check_done(gw_upstream_t *u)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(u->multi, &left)) != NULL) {
        gw_xfer_t *x = NULL;
        gw_xfer_outcome_t outcome;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x == NULL || !x->active || x->cancelled) /* cancelled ones are reaped */
            continue;
        switch (msg->data.result) {
        case CURLE_OK:
            outcome = GW_XFER_OK;
            break;
        case CURLE_OPERATION_TIMEDOUT:
            outcome = GW_XFER_TIMEOUT;
            break;
        case CURLE_FILESIZE_EXCEEDED:
            outcome = GW_XFER_TOOBIG;
            break;
        default:
            outcome = x->blocked     ? GW_XFER_BLOCKED
                      : x->timed_out ? GW_XFER_TIMEOUT
                                     : GW_XFER_NETWORK;
            break;
        }
        if (outcome == GW_XFER_OK) {
            long code = 0;
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
            x->status = (int)code;
        }
        if (outcome != GW_XFER_OK)
            gw_log_debug("upstream: transfer failed: %s", curl_easy_strerror(msg->data.result));
        finish(x, outcome);
    }
}

/* Removes transfers cancelled while curl was running our callbacks. */
static void reap(gw_upstream_t *u)
{
    while (u->reap != NULL) {
        gw_xfer_t *x = u->reap;
        u->reap = x->next;
        xfer_recycle(x);
    }
}

static void socket_action(gw_upstream_t *u, curl_socket_t fd, int flags)
{
    int running;

    u->in_curl++;
    curl_multi_socket_action(u->multi, fd, flags, &running);
    check_done(u);
    u->in_curl--;
    if (u->in_curl == 0)
        reap(u);
}

/* ---- libuv glue -------------------------------------------------------- */

static void sock_table_grow(gw_upstream_t *u, curl_socket_t fd)
{
    size_t n = u->nsocks ? u->nsocks : 64;

    if ((size_t)fd < u->nsocks)
        return;
    while (n <= (size_t)fd)
        n *= 2;
    u->socks = gw_xrealloc(u->socks, n * sizeof(*u->socks));
    u->opened = gw_xrealloc(u->opened, n);
    memset(u->socks + u->nsocks, 0, (n - u->nsocks) * sizeof(*u->socks));
    memset(u->opened + u->nsocks, 0, n - u->nsocks);
    u->nsocks = n;
}

static sock_ctx_t *sock_lookup(gw_upstream_t *u, curl_socket_t fd)
{
    return fd >= 0 && (size_t)fd < u->nsocks ? u->socks[fd] : NULL;
}

static void sock_close(sock_ctx_t *s)
{
    gw_upstream_t *u = s->u;

    if ((size_t)s->fd < u->nsocks && u->socks[s->fd] == s)
        u->socks[s->fd] = NULL;
    uv_close((uv_handle_t *)&s->poll, (uv_close_cb)free);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx_t *s = h->data;
    int flags = 0;

    if (!s->wanted) {
        /* An idle cached connection became readable (closed by the upstream, most
         * likely): stop watching; curl finds out when it next looks at it. */
        uv_poll_stop(&s->poll);
        s->events = 0;
        return;
    }
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    socket_action(s->u, s->fd, flags);
}

static void on_curl_timer(uv_timer_t *t)
{
    socket_action(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    gw_upstream_t *u = userp;
    sock_ctx_t *s = socketp != NULL ? socketp : sock_lookup(u, fd);
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s == NULL)
            return 0;
        curl_multi_assign(u->multi, fd, NULL);
        s->wanted = false;
        /* Sockets we see closed keep a read watch (no epoll_ctl now, none when the
         * connection is reused); others (the resolver's) go now. */
        if (s->ours && s->events == UV_READABLE)
            return 0;
        sock_close(s);
        return 0;
    }
    if (s == NULL) {
        s = gw_xcalloc(1, sizeof(*s));
        s->fd = fd;
        s->u = u;
        if (uv_poll_init_socket(u->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        sock_table_grow(u, fd);
        s->ours = u->opened[fd] != 0;
        u->socks[fd] = s;
    }
    curl_multi_assign(u->multi, fd, s);
    s->wanted = true;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    if (events != s->events) {
        uv_poll_start(&s->poll, events, on_poll);
        s->events = events;
    }
    return 0;
}

/* libuv never runs a timer from inside curl, so a 0 ms timeout is safe here and
 * saves a millisecond on every dispatch. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    gw_upstream_t *u = userp;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&u->timer);
    else
        uv_timer_start(&u->timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- per-transfer callbacks -------------------------------------------- */

/* curl follows a 3xx that names a Location (up to the limit, which it
 * reports as an error), so only the last answer's headers are the answer's. */
static bool redirect_followed(const gw_xfer_t *x, long code)
{
    size_t off = 0;

    if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308)
        return false;
    while (off < x->hdrbuf.len) {
        const char *name = x->hdrbuf.ptr + off;
        const char *value = name + strlen(name) + 1;
        if (strcmp(name, "location") == 0 && value[0] != '\0')
            return true;
        off = (size_t)(value - x->hdrbuf.ptr) + strlen(value) + 1;
    }
    return false;
}

static size_t on_header_line(char *p, size_t size, size_t n, void *userp)
{
    gw_xfer_t *x = userp;
    size_t len = size * n;
    size_t end = len;
    const char *colon;

    if (x->cancelled || x->aborted)
        return 0;
    while (end > 0 && (p[end - 1] == '\r' || p[end - 1] == '\n'))
        end--;
    if (end == 0) {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 100 && code < 200) { /* interim response: a real one follows */
            gw_buf_reset(&x->hdrbuf);
            return len;
        }
        if (x->follows && redirect_followed(x, code)) { /* the target's block follows */
            gw_buf_reset(&x->hdrbuf);
            return len;
        }
        x->status = (int)code;
        deliver_headers(x);
        return (x->cancelled || x->aborted) ? 0 : len;
    }
    if (strncmp(p, "HTTP/", 5) == 0) { /* a new status line starts a new block */
        gw_buf_reset(&x->hdrbuf);
        return len;
    }
    colon = memchr(p, ':', end);
    if (colon == NULL)
        return len;
    {
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t start = x->hdrbuf.len;
        while (v < p + end && (*v == ' ' || *v == '\t'))
            v++;
        if (gw_buf_append(&x->hdrbuf, p, nlen) != 0 || gw_buf_append(&x->hdrbuf, "", 1) != 0 ||
            gw_buf_append(&x->hdrbuf, v, (size_t)(p + end - v)) != 0 ||
            gw_buf_append(&x->hdrbuf, "", 1) != 0)
            return len; /* oversized header block: keep what fits */
        for (size_t i = start; i < start + nlen; i++)
            x->hdrbuf.ptr[i] = (char)tolower((unsigned char)x->hdrbuf.ptr[i]);
    }
    return len;
}

static void on_deadline(uv_timer_t *t)
{
    gw_xfer_t *x = t->data;

    x->timed_out = true;
    finish(x, GW_XFER_TIMEOUT);
}

static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
    gw_xfer_t *x = userp;
    size_t len = size * n;
    int rc;

    if (x->cancelled || x->aborted)
        return 0;
    deliver_headers(x);
    if (x->cancelled || x->aborted)
        return 0;
    if (x->idle_ms > 0)
        uv_timer_start(&x->deadline, on_deadline, (uint64_t)x->idle_ms, 0);
    if (x->cbs.on_data == NULL)
        return len;
    rc = x->cbs.on_data(x->ctx, p, len);
    if (x->cancelled)
        return 0;
    if (rc == GW_AGAIN) {
        uv_timer_stop(&x->deadline);
        return CURL_WRITEFUNC_PAUSE;
    }
    return rc == 0 ? len : 0;
}

/* Every upstream socket is opened here, so that its closing is seen too
 * (on_close_socket). Guarded fetches: refuse to even open a socket to a
 * non-public address. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *a)
{
    gw_xfer_t *x = clientp;
    gw_upstream_t *u = x->u;
    curl_socket_t fd;

    if (x->guarded &&
        (purpose != CURLSOCKTYPE_IPCXN || !gw_netguard_allows(&a->addr, x->allow_cidrs))) {
        x->blocked = true;
        return CURL_SOCKET_BAD;
    }
    fd = socket(a->family, a->socktype, a->protocol);
    if (fd >= 0) {
        sock_table_grow(u, fd);
        u->opened[fd] = 1;
    }
    return fd;
}

static int on_close_socket(void *clientp, curl_socket_t fd)
{
    gw_upstream_t *u = clientp;
    sock_ctx_t *s = sock_lookup(u, fd);

    if (s != NULL)
        sock_close(s);
    if (fd >= 0 && (size_t)fd < u->nsocks)
        u->opened[fd] = 0;
    return close(fd);
}

/* ---- public API --------------------------------------------------------- */

int gw_upstream_open(gw_upstream_t **out, uv_loop_t *loop)
{
    gw_upstream_t *u = gw_xcalloc(1, sizeof(*u));

    u->loop = loop;
    u->multi = curl_multi_init();
    u->share = curl_share_init();
    if (u->multi == NULL || u->share == NULL) {
        curl_multi_cleanup(u->multi);
        curl_share_cleanup(u->share);
        free(u);
        return GW_ERR;
    }
    curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    /* Keep plenty of idle upstream connections: one per concurrent request. */
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, 512L);
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    *out = u;
    return 0;
}

static void free_upstream(uv_handle_t *h)
{
    gw_upstream_t *u = h->data;
    curl_multi_cleanup(u->multi); /* closes cached connections: on_close_socket */
    curl_share_cleanup(u->share);
    free(u->socks);
    free(u->opened);
    free(u);
}

void gw_upstream_close(gw_upstream_t *u)
{
    u->closing = true;
    /* Active transfers belong to requests, which cancel them on teardown;
     * whatever is left is dropped here without callbacks. */
    while (u->pool != NULL) {
        gw_xfer_t *x = u->pool;
        u->pool = x->next;
        curl_easy_cleanup(x->easy);
        gw_buf_dispose(&x->hdrbuf);
        uv_close((uv_handle_t *)&x->deadline, free_xfer);
    }
    u->npool = 0;
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, free_upstream);
}

static gw_xfer_t *xfer_get(gw_upstream_t *u)
{
    gw_xfer_t *x = u->pool;

    if (x != NULL) {
        u->pool = x->next;
        u->npool--;
        curl_easy_reset(x->easy);
    } else {
        x = gw_xcalloc(1, sizeof(*x));
        x->u = u;
        x->easy = curl_easy_init();
        gw_assert(x->easy != NULL);
        uv_timer_init(u->loop, &x->deadline);
        x->deadline.data = x;
        gw_buf_init(&x->hdrbuf, 64 * 1024);
    }
    x->next = NULL;
    x->status = 0;
    x->headers_done = false;
    x->cancelled = false;
    x->timed_out = false;
    x->aborted = false;
    x->blocked = false;
    return x;
}

/* Streamed answers are asked for with "Accept: text/event-stream" (every
 * dialect's streaming request says so). */
static bool wants_event_stream(const struct curl_slist *h)
{
    for (; h != NULL; h = h->next)
        if (strncasecmp(h->data, "Accept:", 7) == 0 && strstr(h->data, "event-stream") != NULL)
            return true;
    return false;
}

gw_xfer_t *gw_upstream_start(gw_upstream_t *u, gw_http_out_t *req, const gw_upstream_opts_t *opts,
                             const gw_xfer_cbs_t *cbs, void *ctx)
{
    gw_xfer_t *x = xfer_get(u);
    CURL *e = x->easy;

    x->req = *req;
    gw_http_out_init(req);
    x->cbs = *cbs;
    x->ctx = ctx;
    x->idle_ms = opts->idle_ms;
    /* No "Expect: 100-continue" round trip on large bodies. */
    x->req.headers = curl_slist_append(x->req.headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, x->req.url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req.headers);
    if (x->req.nparts > 0) {
        x->mime = build_mime(e, &x->req);
        curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime);
    } else if (x->req.post) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.body.ptr ? x->req.body.ptr : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body.len);
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header_line);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SHARE, u->share);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    x->event_stream = wants_event_stream(x->req.headers);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
                     x->event_stream ? STREAM_RECV_BUFFER : ANSWER_RECV_BUFFER);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    /* Redirects are not followed: an API answering 3xx is a failure to report. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    /* Kept by the connection, which may outlive this transfer: u, not x. */
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, u);
    x->guarded = opts->public_only;
    if (opts->public_only) {
        x->allow_cidrs = opts->allow_cidrs;
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    }
    x->follows = opts->max_redirects > 0;
    if (x->follows) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, opts->max_redirects);
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (opts->max_bytes > 0)
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes);
    uv_timer_start(&x->deadline, on_deadline, (uint64_t)opts->first_byte_ms, 0);
    if (curl_multi_add_handle(u->multi, e) != CURLM_OK) {
        x->cancelled = true;
        xfer_recycle(x);
        return NULL;
    }
    x->active = true;
    u->active++;
    return x;
}

void gw_upstream_cancel(gw_xfer_t *x)
{
    gw_upstream_t *u;

    if (x == NULL || x->cancelled)
        return;
    u = x->u;
    x->cancelled = true;
    x->ctx = NULL;
    uv_timer_stop(&x->deadline);
    if (u->in_curl > 0) {
        x->next = u->reap;
        u->reap = x;
        return;
    }
    xfer_recycle(x);
}

void gw_upstream_resume(gw_xfer_t *x)
{
    gw_upstream_t *u;

    if (x == NULL || x->cancelled)
        return;
    u = x->u;
    if (x->idle_ms > 0)
        uv_timer_start(&x->deadline, on_deadline, (uint64_t)x->idle_ms, 0);
    /* Unpausing may deliver buffered data through our callbacks right away. */
    u->in_curl++;
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
    check_done(u);
    u->in_curl--;
    if (u->in_curl == 0)
        reap(u);
}

void gw_upstream_trim(gw_upstream_t *u, size_t keep)
{
    while (u->npool > keep) {
        gw_xfer_t *x = u->pool;
        u->pool = x->next;
        u->npool--;
        curl_easy_cleanup(x->easy);
        gw_buf_dispose(&x->hdrbuf);
        uv_close((uv_handle_t *)&x->deadline, free_xfer);
    }
}

