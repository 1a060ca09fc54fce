/*
 * bench/mock.c: a fast mock OpenAI upstream for the benchmarks (bench/run.sh).
 *
 * One libuv loop thread on 127.0.0.1, HTTP/1.1 keep-alive, a minimal request parser
 * (request line, Content-Length, Expect, Connection: close; no chunked request bodies).
 *
 *   POST .../chat/completions              a fixed chat.completion JSON
 *   POST .../chat/completions "stream":true an SSE stream of N chat.completion.chunk events,
 *                                          then data: [DONE] (chunked transfer encoding)
 *   GET  .../models                        a one-model list
 *   GET  /stats                            counters (requests, streams, open connections)
 *
 * Stream shape: the first event after ttft_ms, the next ones delay_ms apart. Each event's
 * delta content is "t=<CLOCK_MONOTONIC ns> ", stamped just before the write, so a client on
 * the same machine can tell how long the chunk took to reach it (through a gateway or not).
 *
 * Settings, later ones win: built-in defaults (chunks 20, delay 0, ttft 0); env MOCK_CHUNKS,
 * MOCK_DELAY_MS, MOCK_TTFT_MS; argv --chunks N --delay-ms D --ttft-ms T; per request, any
 * "chunks=N", "delay_ms=D", "ttft_ms=T" in the path or the query (path segments let a gateway
 * base URL carry them: http://127.0.0.1:M/chunks=2/delay_ms=600000/v1).
 *
 * Usage: mock [--port P] [--chunks N] [--delay-ms D] [--ttft-ms T]
 * Prints "mock listening on 127.0.0.1:PORT" once ready (port 0 picks a free one).
 * Exits on SIGINT/SIGTERM, printing its counters to stderr.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "httphead.h"

#define MOCK_MAX_INPUT (1024 * 1024) /* a request head + body larger than this closes */
#define MOCK_MAX_CHUNKS 100000

typedef struct {
    long chunks;
    long delay_ms;
    long ttft_ms;
} shape_t;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles_open; /* tcp + timer; freed when both are closed */
    int closing;
    int close_after; /* "Connection: close" seen: close once the answer is out */
    char *in;
    size_t in_len;
    size_t in_cap;
    /* an SSE answer in progress: requests behind it wait */
    int streaming;
    long sent;
    shape_t shape;
} conn_t;

static shape_t defaults = {20, 0, 0};
static uv_loop_t *loop;
static uv_tcp_t server;
static uint64_t n_requests, n_streams, n_events, n_open, n_open_max, n_write_queued;

static const char completion_body[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,"
    "\"model\":\"bench\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"Hello! This is a fixed answer from the benchmark mock upstream.\"},"
    "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
    "\"completion_tokens\":12,\"total_tokens\":21}}";
static const char models_body[] =
    "{\"object\":\"list\",\"data\":[{\"id\":\"bench\",\"object\":\"model\",\"created\":"
    "1700000000,\"owned_by\":\"bench\"}]}";
static const char notfound_body[] =
    "{\"error\":{\"message\":\"mock: no such route\",\"type\":\"invalid_request_error\"}}";
static char completion_resp[1024];
static size_t completion_resp_len;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- connection lifetime ------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;

    if (--c->handles_open == 0) {
        free(c->in);
        free(c);
    }
}

static void conn_close(conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    n_open--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

typedef struct {
    uv_write_t req;
    conn_t *conn;
    size_t len;
    char data[];
} wreq_t;

static void on_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;

    n_write_queued -= w->len;
    if (status < 0)
        conn_close(w->conn);
    free(w);
}

/* Writes now when the socket takes it all (the usual case), else queues a copy. */
static void conn_write(conn_t *c, const char *data, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n;
    wreq_t *w;

    if (c->closing)
        return;
    n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (n < 0)
        n = 0;
    w = malloc(sizeof(*w) + len - (size_t)n);
    if (w == NULL) {
        conn_close(c);
        return;
    }
    w->conn = c;
    w->len = len - (size_t)n;
    memcpy(w->data, data + n, w->len);
    n_write_queued += w->len;
    b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        n_write_queued -= w->len;
        free(w);
        conn_close(c);
    }
}

/* ---- answers ------------------------------------------------------------------- */

static void send_simple(conn_t *c, int status, const char *reason, const char *body)
{
    char buf[2048];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, reason, strlen(body), body);

    conn_write(c, buf, (size_t)n);
}

static void send_stats(conn_t *c)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"requests\":%" PRIu64 ",\"streams\":%" PRIu64 ",\"events\":%" PRIu64
             ",\"open\":%" PRIu64 ",\"open_max\":%" PRIu64 ",\"write_queued\":%" PRIu64 "}",
             n_requests, n_streams, n_events, n_open, n_open_max, n_write_queued);
    send_simple(c, 200, "OK", body);
}

static void process_input(conn_t *c);

/* One SSE event (in its own HTTP chunk); the last one is followed by [DONE] and the end. */
static void stream_send_next(conn_t *c)
{
    char ev[768];
    char out[1024];
    int evn;
    int n;
    int last = c->sent + 1 >= c->shape.chunks;

    evn = snprintf(ev, sizeof(ev),
                   "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                   "\"created\":1700000000,\"model\":\"bench\",\"choices\":[{\"index\":0,"
                   "\"delta\":{%s\"content\":\"t=%" PRIu64 " \"},\"logprobs\":null,"
                   "\"finish_reason\":%s}]%s}\n\n",
                   c->sent == 0 ? "\"role\":\"assistant\"," : "", now_ns(),
                   last ? "\"stop\"" : "null",
                   last ? ",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":20,"
                          "\"total_tokens\":29}"
                        : "");
    if (last)
        n = snprintf(out, sizeof(out), "%x\r\n%s\r\n%x\r\ndata: [DONE]\n\n\r\n0\r\n\r\n", evn, ev,
                     14);
    else
        n = snprintf(out, sizeof(out), "%x\r\n%s\r\n", evn, ev);
    c->sent++;
    n_events++;
    conn_write(c, out, (size_t)n);
}

static void on_stream_timer(uv_timer_t *t)
{
    conn_t *c = t->data;

    stream_send_next(c);
    if (c->closing)
        return;
    if (c->sent < c->shape.chunks) {
        uv_timer_start(&c->timer, on_stream_timer, (uint64_t)c->shape.delay_ms, 0);
        return;
    }
    c->streaming = 0;
    if (c->close_after) {
        conn_close(c);
        return;
    }
    process_input(c); /* requests that arrived behind the stream */
}

static void stream_start(conn_t *c)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";

    n_streams++;
    c->streaming = 1;
    c->sent = 0;
    if (c->shape.ttft_ms > 0) {
        conn_write(c, head, sizeof(head) - 1);
        uv_update_time(loop);
        uv_timer_start(&c->timer, on_stream_timer, (uint64_t)c->shape.ttft_ms, 0);
        return;
    }
    if (c->shape.delay_ms == 0) {
        /* Everything at once: one write for the head and all events would need a big
         * buffer; the events go out back to back instead. */
        conn_write(c, head, sizeof(head) - 1);
        while (c->sent < c->shape.chunks && !c->closing)
            stream_send_next(c);
        c->streaming = 0;
        return;
    }
    /* Head and first event together, as a real upstream usually does. */
    conn_write(c, head, sizeof(head) - 1);
    stream_send_next(c);
    if (c->sent < c->shape.chunks && !c->closing) {
        uv_update_time(loop);
        uv_timer_start(&c->timer, on_stream_timer, (uint64_t)c->shape.delay_ms, 0);
    } else {
        c->streaming = 0;
    }
}

/* "name=123" anywhere in s[0..len) (path segment or query), as a non-negative number. */
static void param(const char *s, size_t len, const char *name, long *out)
{
    size_t nl = strlen(name);
    size_t i;

    for (i = 0; i + nl < len; i++) {
        if ((i == 0 || s[i - 1] == '/' || s[i - 1] == '?' || s[i - 1] == '&') &&
            memcmp(s + i, name, nl) == 0 && s[i + nl] == '=') {
            long v = 0;
            size_t j = i + nl + 1;
            int digits = 0;

            while (j < len && isdigit((unsigned char)s[j]) && v < 100000000) {
                v = v * 10 + (s[j] - '0');
                j++;
                digits++;
            }
            if (digits)
                *out = v;
        }
    }
}

/* "stream": true, tolerating blanks around the colon. */
static int body_wants_stream(const char *b, size_t len)
{
    static const char key[] = "\"stream\"";
    const char *end = b + len;
    const char *p = b;

    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), key, sizeof(key) - 1);

        if (q == NULL)
            return 0;
        q += sizeof(key) - 1;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
            q++;
        if (q < end && *q == ':') {
            q++;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
            return (size_t)(end - q) >= 4 && memcmp(q, "true", 4) == 0;
        }
        p = q;
    }
    return 0;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static void handle_request(conn_t *c, const char *method, size_t mlen, const char *target,
                           size_t tlen, const char *body, size_t blen)
{
    size_t plen = tlen;
    const char *q = memchr(target, '?', tlen);

    if (q != NULL)
        plen = (size_t)(q - target);
    n_requests++;
    if (mlen == 4 && memcmp(method, "POST", 4) == 0 &&
        ends_with(target, plen, "/chat/completions")) {
        if (body_wants_stream(body, blen)) {
            c->shape = defaults;
            param(target, tlen, "chunks", &c->shape.chunks);
            param(target, tlen, "delay_ms", &c->shape.delay_ms);
            param(target, tlen, "ttft_ms", &c->shape.ttft_ms);
            if (c->shape.chunks < 1)
                c->shape.chunks = 1;
            if (c->shape.chunks > MOCK_MAX_CHUNKS)
                c->shape.chunks = MOCK_MAX_CHUNKS;
            stream_start(c);
        } else {
            conn_write(c, completion_resp, completion_resp_len);
        }
        return;
    }
    if (mlen == 3 && memcmp(method, "GET", 3) == 0) {
        if (plen == 6 && memcmp(target, "/stats", 6) == 0) {
            send_stats(c);
            return;
        }
        if (ends_with(target, plen, "/models")) {
            send_simple(c, 200, "OK", models_body);
            return;
        }
    }
    send_simple(c, 404, "Not Found", notfound_body);
}


/* Serves every complete request in the input buffer, stopping behind a stream. */
static void process_input(conn_t *c)
{
    size_t off = 0;

    while (!c->closing && !c->streaming && off < c->in_len) {
        const char *head = c->in + off;
        size_t avail = c->in_len - off;
        const char *eoh = memmem(head, avail, "\r\n\r\n", 4);
        const char *sp1;
        const char *sp2;
        const char *v;
        size_t vlen;
        size_t hlen;
        size_t clen = 0;

        if (eoh == NULL)
            break;
        hlen = (size_t)(eoh - head) + 4;
        sp1 = memchr(head, ' ', hlen);
        sp2 = sp1 ? memchr(sp1 + 1, ' ', hlen - (size_t)(sp1 + 1 - head)) : NULL;
        if (sp1 == NULL || sp2 == NULL) {
            conn_close(c);
            return;
        }
        v = bench_header(head, hlen, "content-length", &vlen);
        if (v != NULL) {
            char num[24];

            if (vlen == 0 || vlen >= sizeof(num)) {
                conn_close(c);
                return;
            }
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            clen = strtoul(num, NULL, 10);
        }
        if (clen > MOCK_MAX_INPUT) {
            conn_close(c);
            return;
        }
        if (avail < hlen + clen) {
            /* Body still coming: answer "Expect: 100-continue" once, when nothing of it
             * has arrived yet. */
            v = bench_header(head, hlen, "expect", &vlen);
            if (v != NULL && avail == hlen && vlen == 12 && strncasecmp(v, "100-continue", 12) == 0)
                conn_write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            break;
        }
        v = bench_header(head, hlen, "connection", &vlen);
        if (v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0)
            c->close_after = 1;
        handle_request(c, head, (size_t)(sp1 - head), sp1 + 1, (size_t)(sp2 - sp1 - 1), head + hlen,
                       clen);
        off += hlen + clen;
        if (c->close_after && !c->streaming) {
            conn_close(c);
            return;
        }
    }
    if (off > 0 && !c->closing) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;

    /* Small to start with: 10,000 open streams should not cost the mock much. */
    if (c->in_cap - c->in_len < 2048) {
        size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
        char *p = realloc(c->in, cap);

        if (p == NULL) {
            buf->base = NULL;
            buf->len = 0;
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    buf->base = c->in + c->in_len;
    buf->len = c->in_cap - c->in_len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn_t *c = s->data;

    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    c->in_len += (size_t)nread;
    if (c->in_len > MOCK_MAX_INPUT + 65536) {
        conn_close(c);
        return;
    }
    process_input(c);
}

static void on_connection(uv_stream_t *srv, int status)
{
    conn_t *c;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    n_open++;
    if (n_open > n_open_max)
        n_open_max = n_open;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    fprintf(stderr,
            "mock: %" PRIu64 " requests, %" PRIu64 " streams, %" PRIu64 " events, max %" PRIu64
            " open connections\n",
            n_requests, n_streams, n_events, n_open_max);
    exit(0);
}

static long num_arg(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "mock: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    long port = 0;
    uv_signal_t sigint, sigterm;
    const char *e;
    int i;
    int rc;

    if ((e = getenv("MOCK_CHUNKS")) != NULL && *e)
        defaults.chunks = num_arg(e, "MOCK_CHUNKS");
    if ((e = getenv("MOCK_DELAY_MS")) != NULL && *e)
        defaults.delay_ms = num_arg(e, "MOCK_DELAY_MS");
    if ((e = getenv("MOCK_TTFT_MS")) != NULL && *e)
        defaults.ttft_ms = num_arg(e, "MOCK_TTFT_MS");
    for (i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--port") == 0)
            port = num_arg(argv[++i], "--port");
        else if (i + 1 < argc && strcmp(argv[i], "--chunks") == 0)
            defaults.chunks = num_arg(argv[++i], "--chunks");
        else if (i + 1 < argc && strcmp(argv[i], "--delay-ms") == 0)
            defaults.delay_ms = num_arg(argv[++i], "--delay-ms");
        else if (i + 1 < argc && strcmp(argv[i], "--ttft-ms") == 0)
            defaults.ttft_ms = num_arg(argv[++i], "--ttft-ms");
        else {
            fprintf(stderr, "usage: mock [--port P] [--chunks N] [--delay-ms D] [--ttft-ms T]\n");
            return 2;
        }
    }
    if (port > 65535 || defaults.chunks < 1 || defaults.chunks > MOCK_MAX_CHUNKS) {
        fprintf(stderr, "mock: port or chunks out of range\n");
        return 2;
    }
    completion_resp_len = (size_t)snprintf(
        completion_resp, sizeof(completion_resp),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
        sizeof(completion_body) - 1, completion_body);

    loop = uv_default_loop();
    uv_tcp_init(loop, &server);
    uv_ip4_addr("127.0.0.1", (int)port, &addr);
    rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&server, 4096, on_connection);
    if (rc != 0) {
        fprintf(stderr, "mock: listen on 127.0.0.1:%ld: %s\n", port, uv_strerror(rc));
        return 1;
    }
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
    uv_signal_init(loop, &sigint);
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    printf("mock listening on 127.0.0.1:%d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
