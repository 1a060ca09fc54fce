/*
 * bench/loadgen.c: the benchmarks' own load generator (bench/run.sh), for what wrk does not
 * measure: per-request latency at low concurrency, stream timings, many open streams, and
 * start-up time. Plain non-blocking sockets on one epoll thread, HTTP/1.1 keep-alive,
 * 127.0.0.1 only. Every loop is bounded in count (-n) and time (-d).
 *
 *   loadgen run     --url URL [-H 'Name: value']... [--body JSON] [-c C] [-n N] [-w W] [-d S]
 *                   [--pid PID]...
 *       N requests (after W warm-up ones) over C keep-alive connections. Records latency
 *       (request written to response complete), time to first byte, and for SSE answers the
 *       time to the first event, the gaps between events and, when an event carries the
 *       mock's "t=<CLOCK_MONOTONIC ns>" stamp, its lag: arrival here minus the moment the
 *       mock wrote it. With --pid, CPU time of those processes over the measured phase.
 *
 *   loadgen hold    --url URL [-H ...] --body JSON -n STREAMS [--ramp R] [-d S] [--hold-s S]
 *                   [--settle-s S] [--cycles K] --pid PID...
 *       Opens STREAMS streaming requests (at most R not yet answered at a time), waits until
 *       each has its first event, samples RSS and open fds of each PID, keeps them open
 *       --hold-s seconds, samples again, closes them all, waits --settle-s, samples again.
 *
 *   loadgen startup --url URL [-H ...] [--body JSON] [-n REPS] [-d S] [--log FILE] -- CMD...
 *       REPS times: starts CMD, retries the request until a 200 answer (time to first served
 *       request), samples its RSS 0.5 s later, stops it with SIGTERM (SIGKILL after 10 s).
 *
 * Output: one JSON object on stdout; progress and errors on stderr.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httphead.h"

#define LG_MAX_PIDS 4
#define LG_MAX_HEADERS 16
#define LG_HEAD_MAX 16384
#define LG_EVENT_MAX 65536
#define LG_MAX_REQS 10000000

/* ---- options ------------------------------------------------------------------- */

static struct {
    const char *mode;
    char host[64];
    int port;
    const char *path;
    const char *headers[LG_MAX_HEADERS];
    int nheaders;
    const char *body;
    long conns;
    long n;
    long warmup;
    double max_s;
    pid_t pids[LG_MAX_PIDS];
    int npids;
    long ramp;
    double hold_s;
    double settle_s;
    long cycles;
    const char *log;
    char **cmd;
} opt = {
    .conns = 1,
    .n = 1000,
    .warmup = 0,
    .max_s = 60,
    .ramp = 256,
    .hold_s = 2,
    .settle_s = 3,
    .cycles = 1,
    .log = "/dev/null",
};

static char *request;
static size_t request_len;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL)
        die("out of memory");
    return p;
}

static void sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* http://127.0.0.1:PORT/path: loopback only, no TLS. */
static void parse_url(const char *url)
{
    const char *p;
    const char *colon;
    const char *slash;
    size_t hl;
    char *end;

    if (strncmp(url, "http://", 7) != 0)
        die("--url must start with http://");
    p = url + 7;
    slash = strchr(p, '/');
    colon = strchr(p, ':');
    if (slash == NULL || colon == NULL || colon > slash)
        die("--url needs http://HOST:PORT/PATH");
    hl = (size_t)(colon - p);
    if (hl >= sizeof(opt.host))
        die("--url host too long");
    memcpy(opt.host, p, hl);
    opt.host[hl] = '\0';
    if (strcmp(opt.host, "127.0.0.1") != 0 && strcmp(opt.host, "localhost") != 0)
        die("--url host must be 127.0.0.1");
    opt.port = (int)strtol(colon + 1, &end, 10);
    if (end != slash || opt.port <= 0 || opt.port > 65535)
        die("--url port");
    opt.path = slash;
}

static void build_request(void)
{
    size_t cap = 4096 + (opt.body ? strlen(opt.body) : 0);
    size_t len;
    int i;

    for (i = 0; i < opt.nheaders; i++)
        cap += strlen(opt.headers[i]) + 2;
    request = xmalloc(cap);
    len = (size_t)snprintf(request, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n",
                           opt.body ? "POST" : "GET", opt.path, opt.port);
    for (i = 0; i < opt.nheaders; i++)
        len += (size_t)snprintf(request + len, cap - len, "%s\r\n", opt.headers[i]);
    if (opt.body)
        len += (size_t)snprintf(request + len, cap - len,
                                "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                strlen(opt.body), opt.body);
    else
        len += (size_t)snprintf(request + len, cap - len, "\r\n");
    request_len = len;
}

/* ---- /proc samples ----------------------------------------------------------------- */

/* utime + stime of the whole process, in seconds; -1 when it is gone. */
static double proc_cpu_s(pid_t pid)
{
    char path[64];
    char buf[2048];
    FILE *f;
    size_t n;
    char *p;
    unsigned long long ut = 0, st = 0;
    int field;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    /* Field 3 (state) follows ") "; utime and stime are fields 14 and 15. */
    p += 2;
    for (field = 3; field < 14 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL)
            p++;
    }
    if (p == NULL || sscanf(p, "%llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS, and its anonymous and file-backed parts (kB); -1 when the process is gone. */
static long proc_mem_kb(pid_t pid, long *anon, long *file)
{
    char path[64];
    char line[256];
    FILE *f;
    long kb = -1;

    *anon = -1;
    *file = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            *anon = strtol(line + 8, NULL, 10);
        else if (strncmp(line, "RssFile:", 8) == 0)
            *file = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return kb;
}

static long proc_fds(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    long n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n;
}

/* ---- sample sets ---------------------------------------------------------------------- */

typedef struct {
    uint64_t *v;
    size_t n;
    size_t cap;
    size_t limit;
} samples_t;

static void samples_add(samples_t *s, uint64_t x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;

        if (s->limit && cap > s->limit)
            cap = s->limit;
        if (cap <= s->n)
            return; /* full: later samples are dropped, counted in n_dropped by caller */
        s->v = realloc(s->v, cap * sizeof(*s->v));
        if (s->v == NULL)
            die("out of memory");
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values, in microseconds. */
static double pct_us(const samples_t *s, double q)
{
    size_t i;

    if (s->n == 0)
        return -1;
    i = (size_t)(q * (double)s->n + 0.999999);
    if (i > 0)
        i--;
    if (i >= s->n)
        i = s->n - 1;
    return (double)s->v[i] / 1000.0;
}

static void print_dist(const char *name, samples_t *s, int trailing_comma)
{
    double sum = 0;
    size_t i;

    qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
    for (i = 0; i < s->n; i++)
        sum += (double)s->v[i];
    printf("\"%s\":{\"n\":%zu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
           "\"max\":%.1f,\"mean\":%.1f}%s",
           name, s->n, pct_us(s, 0.50), pct_us(s, 0.90), pct_us(s, 0.99), pct_us(s, 0.999),
           s->n ? (double)s->v[s->n - 1] / 1000.0 : -1, s->n ? sum / (double)s->n / 1000.0 : -1,
           trailing_comma ? "," : "");
}

/* ---- HTTP response parsing ------------------------------------------------------------ */

enum {
    P_HEAD,
    P_BODY_LEN,
    P_CHUNK_SIZE,
    P_CHUNK_DATA,
    P_CHUNK_CRLF,
    P_TRAILER,
    P_BODY_EOF,
    P_DONE,
    P_ERROR
};
enum { C_FREE, C_CONNECTING, C_WRITING, C_READING, C_IDLE };

typedef struct conn {
    int fd;
    int state;
    int measured; /* this request counts (not warm-up) */
    size_t woff;
    uint64_t t_sent;
    uint64_t t_first_byte;
    uint64_t t_first_event;
    uint64_t t_prev_event;
    int nevents;
    int done_seen;
    int established; /* hold: first event arrived */
    /* parser */
    int pstate;
    int status;
    int chunked;
    int close_after;
    uint64_t remain;
    char *head; /* only while the head is being read */
    size_t head_len;
    size_t line_len;
    char *ev; /* run mode: the event being read */
    size_t ev_len;
    int nl; /* newlines just seen in the body (blank line = end of event) */
} conn_t;

static int hold_mode;
static samples_t s_lat, s_ttfb, s_ttft, s_gap, s_lag;
static long lag_over_1ms;
static long ev_min = -1, ev_max = -1;
static long n_ok, n_status_err, n_io_err, n_done_missing;
static long status_count[600];

static void on_event(conn_t *c, const char *ev, size_t len, uint64_t now)
{
    const char *t;

    if (memmem(ev, len, "[DONE]", 6) != NULL) {
        c->done_seen = 1;
        return;
    }
    if (hold_mode) {
        c->established = 1;
        return;
    }
    c->nevents++;
    if (!c->measured)
        return;
    if (c->t_first_event == 0) {
        c->t_first_event = now;
        samples_add(&s_ttft, now - c->t_sent);
    } else {
        samples_add(&s_gap, now - c->t_prev_event);
    }
    c->t_prev_event = now;
    t = memmem(ev, len, "t=", 2);
    while (t != NULL && !isdigit((unsigned char)t[2])) {
        size_t off = (size_t)(t - ev) + 2;

        t = off < len ? memmem(t + 2, len - off, "t=", 2) : NULL;
    }
    if (t != NULL) {
        uint64_t stamp = strtoull(t + 2, NULL, 10);

        if (stamp > 0 && stamp <= now) {
            samples_add(&s_lag, now - stamp);
            if (now - stamp > 1000000)
                lag_over_1ms++;
        }
    }
}

/* Body bytes: scans SSE events (blank-line separated). */
static void on_body(conn_t *c, const char *p, size_t n, uint64_t now)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = p[i];

        if (hold_mode) {
            /* Only the end of the first event matters; no copy. */
            if (ch == '\n') {
                if (++c->nl == 2) {
                    c->established = 1;
                    c->nl = 0;
                }
            } else if (ch != '\r') {
                c->nl = 0;
            }
            continue;
        }
        if (c->ev == NULL)
            c->ev = xmalloc(LG_EVENT_MAX);
        if (c->ev_len < LG_EVENT_MAX)
            c->ev[c->ev_len++] = ch;
        if (ch == '\n') {
            if (++c->nl == 2) {
                on_event(c, c->ev, c->ev_len, now);
                c->ev_len = 0;
                c->nl = 0;
            }
        } else if (ch != '\r') {
            c->nl = 0;
        }
    }
}


static void parse_reset(conn_t *c)
{
    c->pstate = P_HEAD;
    c->status = 0;
    c->chunked = 0;
    c->close_after = 0;
    c->remain = 0;
    c->head_len = 0;
    c->line_len = 0;
    c->ev_len = 0;
    c->nl = 0;
    c->nevents = 0;
    c->done_seen = 0;
    c->t_first_byte = 0;
    c->t_first_event = 0;
    c->t_prev_event = 0;
}

/* Head complete in c->head[0..hlen): status and body framing. */
static void parse_head(conn_t *c, size_t hlen)
{
    const char *v;
    size_t vlen;
    char num[24];

    if (hlen < 12 || strncmp(c->head, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)c->head[9])) {
        c->pstate = P_ERROR;
        return;
    }
    c->status = (int)strtol(c->head + 9, NULL, 10);
    if (c->status < 100 || c->status > 599) {
        c->pstate = P_ERROR;
        return;
    }
    if (c->status < 200) {
        c->head_len = 0; /* 100 Continue: the real head follows */
        return;
    }
    v = bench_header(c->head, hlen, "connection", &vlen);
    if (v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0)
        c->close_after = 1;
    v = bench_header(c->head, hlen, "transfer-encoding", &vlen);
    if (v != NULL && vlen >= 7 && memmem(v, vlen, "chunked", 7) != NULL) {
        c->chunked = 1;
        c->pstate = P_CHUNK_SIZE;
        c->remain = 0;
        c->line_len = 0;
        return;
    }
    v = bench_header(c->head, hlen, "content-length", &vlen);
    if (v != NULL && vlen > 0 && vlen < sizeof(num)) {
        memcpy(num, v, vlen);
        num[vlen] = '\0';
        c->remain = strtoull(num, NULL, 10);
        c->pstate = c->remain ? P_BODY_LEN : P_DONE;
        return;
    }
    if (c->status == 204 || c->status == 304) {
        c->pstate = P_DONE;
        return;
    }
    c->pstate = P_BODY_EOF;
    c->close_after = 1;
}

/* Feeds response bytes; 1 when the response is complete, -1 on a framing error, else 0. */
static int feed(conn_t *c, const char *p, size_t n, uint64_t now)
{
    if (c->t_first_byte == 0) {
        c->t_first_byte = now;
        if (c->measured && !hold_mode)
            samples_add(&s_ttfb, now - c->t_sent);
    }
    while (n > 0 && c->pstate != P_DONE && c->pstate != P_ERROR) {
        size_t take;

        switch (c->pstate) {
        case P_HEAD: {
            size_t from = c->head_len >= 3 ? c->head_len - 3 : 0;
            size_t before = c->head_len;
            const char *e;

            if (c->head == NULL)
                c->head = xmalloc(LG_HEAD_MAX);
            take = n < LG_HEAD_MAX - c->head_len ? n : LG_HEAD_MAX - c->head_len;
            if (take == 0) {
                c->pstate = P_ERROR;
                break;
            }
            memcpy(c->head + c->head_len, p, take);
            c->head_len += take;
            e = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
            if (e == NULL) {
                p += take;
                n -= take;
                break;
            }
            take = (size_t)(e + 4 - c->head) - before;
            p += take;
            n -= take;
            parse_head(c, (size_t)(e + 4 - c->head));
            if (c->pstate != P_HEAD && hold_mode) {
                free(c->head);
                c->head = NULL;
            }
            break;
        }
        case P_BODY_LEN:
            take = n < c->remain ? n : (size_t)c->remain;
            on_body(c, p, take, now);
            c->remain -= take;
            p += take;
            n -= take;
            if (c->remain == 0)
                c->pstate = P_DONE;
            break;
        case P_CHUNK_SIZE: {
            char ch = *p++;

            n--;
            if (ch == '\n') {
                if (c->line_len == 0) {
                    c->pstate = P_ERROR;
                    break;
                }
                c->line_len = 0;
                if (c->remain == 0)
                    c->pstate = P_TRAILER;
                else
                    c->pstate = P_CHUNK_DATA;
            } else if (c->line_len < 1000 && isxdigit((unsigned char)ch)) {
                int d =
                    isdigit((unsigned char)ch) ? ch - '0' : (tolower((unsigned char)ch) - 'a' + 10);

                c->remain = c->remain * 16 + (uint64_t)d;
                c->line_len++;
            } else if (ch != '\r') {
                c->line_len += 1000; /* chunk extension: ignore the rest of the line */
            }
            break;
        }
        case P_CHUNK_DATA:
            take = n < c->remain ? n : (size_t)c->remain;
            on_body(c, p, take, now);
            c->remain -= take;
            p += take;
            n -= take;
            if (c->remain == 0)
                c->pstate = P_CHUNK_CRLF;
            break;
        case P_CHUNK_CRLF:
            if (*p == '\n') {
                c->pstate = P_CHUNK_SIZE;
                c->remain = 0;
                c->line_len = 0;
            }
            p++;
            n--;
            break;
        case P_TRAILER:
            if (*p == '\n') {
                if (c->line_len == 0)
                    c->pstate = P_DONE;
                c->line_len = 0;
            } else if (*p != '\r') {
                c->line_len++;
            }
            p++;
            n--;
            break;
        case P_BODY_EOF:
            on_body(c, p, n, now);
            n = 0;
            break;
        default:
            n = 0;
            break;
        }
    }
    if (c->pstate == P_DONE)
        return 1;
    return c->pstate == P_ERROR ? -1 : 0;
}

/* ---- connections -------------------------------------------------------------------- */

static int ep = -1;
static conn_t *conns;
static long nconns;
static struct sockaddr_in dst;
static char rbuf[256 * 1024];

static void conn_drop(conn_t *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->state = C_FREE;
    free(c->head);
    c->head = NULL;
}

static void conn_watch(conn_t *c, uint32_t events, int op)
{
    struct epoll_event ev;

    ev.events = events;
    ev.data.ptr = c;
    if (epoll_ctl(ep, op, c->fd, &ev) != 0)
        die("epoll_ctl");
}

static int conn_connect(conn_t *c)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    conn_watch(c, EPOLLOUT | EPOLLIN, EPOLL_CTL_ADD);
    return 0;
}

/* Writes what it can of the request; 0 when all of it is out, 1 when more is to come. */
static int conn_write(conn_t *c)
{
    while (c->woff < request_len) {
        ssize_t w = write(c->fd, request + c->woff, request_len - c->woff);

        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 1;
            return -1;
        }
        c->woff += (size_t)w;
    }
    return 0;
}

/* Starts the next request on c (connecting first when needed). */
static int conn_start(conn_t *c, int measured)
{
    parse_reset(c);
    c->measured = measured;
    c->woff = 0;
    c->established = 0;
    if (c->fd < 0) {
        if (conn_connect(c) != 0)
            return -1;
        c->t_sent = now_ns(); /* connect time counts for a fresh connection */
        return 0;
    }
    c->state = C_WRITING;
    c->t_sent = now_ns();
    switch (conn_write(c)) {
    case 0:
        c->state = C_READING;
        return 0;
    case 1:
        conn_watch(c, EPOLLOUT | EPOLLIN, EPOLL_CTL_MOD);
        return 0;
    default:
        return -1;
    }
}

/* Socket ready: returns 1 when the response finished, -1 on an error, 0 otherwise. */
static int conn_ready(conn_t *c, uint32_t events, uint64_t *now)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return 0;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
            return -1;
        c->state = C_WRITING;
    }
    if (c->state == C_WRITING) {
        int r = conn_write(c);

        if (r < 0)
            return -1;
        if (r > 0)
            return 0;
        c->state = C_READING;
        conn_watch(c, EPOLLIN, EPOLL_CTL_MOD);
    }
    if (c->state == C_READING && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        ssize_t r = read(c->fd, rbuf, sizeof(rbuf));

        *now = now_ns();
        if (r < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (r == 0) {
            if (c->pstate == P_BODY_EOF) {
                c->pstate = P_DONE;
                return 1;
            }
            return -1;
        }
        return feed(c, rbuf, (size_t)r, *now);
    }
    if (c->state == C_IDLE && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return -2; /* the server closed an idle keep-alive connection */
    return 0;
}

static void setup_engine(long n)
{
    long i;

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)opt.port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    nconns = n;
    conns = calloc((size_t)n, sizeof(*conns));
    if (conns == NULL)
        die("out of memory");
    for (i = 0; i < n; i++)
        conns[i].fd = -1;
}

/* ---- run ------------------------------------------------------------------------------ */

static void record_finished(conn_t *c, uint64_t now, int ok)
{
    if (!c->measured)
        return;
    if (!ok) {
        n_io_err++;
        return;
    }
    if (c->status != 200) {
        n_status_err++;
        status_count[c->status]++;
        return;
    }
    n_ok++;
    samples_add(&s_lat, now - c->t_sent);
    if (c->nevents > 0 || c->done_seen) {
        if (ev_min < 0 || c->nevents < ev_min)
            ev_min = c->nevents;
        if (c->nevents > ev_max)
            ev_max = c->nevents;
        if (!c->done_seen)
            n_done_missing++;
    }
}

/* Runs `count` requests over all connections; returns the seconds it took. */
static double run_phase(long count, int measured, uint64_t deadline)
{
    long issued = 0;
    long finished = 0;
    long i;
    uint64_t t0 = now_ns();
    struct epoll_event evs[256];

    for (i = 0; i < nconns && issued < count; i++) {
        issued++;
        if (conn_start(&conns[i], measured) != 0) {
            record_finished(&conns[i], now_ns(), 0);
            conn_drop(&conns[i]);
            finished++;
        }
    }
    while (finished < issued) {
        int k = epoll_wait(ep, evs, 256, 100);
        uint64_t now = now_ns();

        if (now > deadline) {
            fprintf(stderr, "loadgen: time limit reached with %ld requests in flight\n",
                    issued - finished);
            for (i = 0; i < nconns; i++) {
                if (conns[i].state != C_FREE && conns[i].state != C_IDLE) {
                    record_finished(&conns[i], now, 0);
                    conn_drop(&conns[i]);
                }
            }
            break;
        }
        for (i = 0; i < k; i++) {
            conn_t *c = evs[i].data.ptr;
            int r = conn_ready(c, evs[i].events, &now);

            if (r == 0)
                continue;
            if (r == -2) {
                conn_drop(c);
                continue;
            }
            record_finished(c, now, r == 1);
            finished++;
            if (r < 0 || c->close_after)
                conn_drop(c);
            else
                c->state = C_IDLE;
            if (issued < count && now < deadline) {
                issued++;
                if (conn_start(c, measured) != 0) {
                    record_finished(c, now_ns(), 0);
                    conn_drop(c);
                    finished++;
                }
            }
        }
    }
    return (double)(now_ns() - t0) / 1e9;
}

static void mode_run(void)
{
    uint64_t deadline = now_ns() + (uint64_t)(opt.max_s * 1e9);
    double cpu0[LG_MAX_PIDS], cpu1[LG_MAX_PIDS];
    double elapsed;
    long total;
    int i;
    int first = 1;

    setup_engine(opt.conns);
    s_lat.limit = s_ttfb.limit = s_ttft.limit = LG_MAX_REQS;
    s_gap.limit = s_lag.limit = 4 * LG_MAX_REQS;
    if (opt.warmup > 0)
        run_phase(opt.warmup, 0, deadline);
    for (i = 0; i < opt.npids; i++)
        cpu0[i] = proc_cpu_s(opt.pids[i]);
    elapsed = run_phase(opt.n, 1, deadline);
    for (i = 0; i < opt.npids; i++)
        cpu1[i] = proc_cpu_s(opt.pids[i]);
    total = n_ok + n_status_err + n_io_err;

    printf("{\"mode\":\"run\",\"conns\":%ld,\"requests\":%ld,\"ok\":%ld,\"status_errors\":%ld,"
           "\"io_errors\":%ld,\"streams_without_done\":%ld,\"elapsed_s\":%.4f,\"rps\":%.1f,",
           opt.conns, total, n_ok, n_status_err, n_io_err, n_done_missing, elapsed,
           elapsed > 0 ? (double)n_ok / elapsed : 0);
    printf("\"statuses\":{");
    for (i = 0; i < 600; i++) {
        if (status_count[i]) {
            printf("%s\"%d\":%ld", first ? "" : ",", i, status_count[i]);
            first = 0;
        }
    }
    printf("},");
    print_dist("lat_us", &s_lat, 1);
    print_dist("ttfb_us", &s_ttfb, 1);
    print_dist("ttft_us", &s_ttft, 1);
    print_dist("gap_us", &s_gap, 1);
    print_dist("lag_us", &s_lag, 1);
    printf("\"lag_over_1ms\":%ld,\"events_min\":%ld,\"events_max\":%ld,\"cpu\":[", lag_over_1ms,
           ev_min, ev_max);
    for (i = 0; i < opt.npids; i++) {
        double d = (cpu0[i] < 0 || cpu1[i] < 0) ? -1 : cpu1[i] - cpu0[i];

        printf("%s{\"pid\":%d,\"cpu_s\":%.3f,\"us_per_req\":%.2f}", i ? "," : "", (int)opt.pids[i],
               d, d >= 0 && n_ok > 0 ? d * 1e6 / (double)n_ok : -1);
    }
    printf("]}\n");
}

/* ---- hold ------------------------------------------------------------------------------ */

static void print_sample(const char *name)
{
    int i;

    printf("\"%s\":[", name);
    for (i = 0; i < opt.npids; i++) {
        long anon, file;
        long rss = proc_mem_kb(opt.pids[i], &anon, &file);

        printf("%s{\"pid\":%d,\"rss_kb\":%ld,\"anon_kb\":%ld,\"file_kb\":%ld,\"fds\":%ld}",
               i ? "," : "", (int)opt.pids[i], rss, anon, file, proc_fds(opt.pids[i]));
    }
    printf("]");
}

/* Services the open streams for `s` seconds; returns how many the server ended. */
static long hold_service(double s, long *open)
{
    uint64_t end = now_ns() + (uint64_t)(s * 1e9);
    struct epoll_event evs[256];
    long ended = 0;

    for (;;) {
        uint64_t now = now_ns();
        int k;
        int i;

        if (now >= end)
            break;
        k = epoll_wait(ep, evs, 256, (int)((end - now) / 1000000) + 1);
        for (i = 0; i < k; i++) {
            conn_t *c = evs[i].data.ptr;
            int r = conn_ready(c, evs[i].events, &now);

            if (r != 0) {
                conn_drop(c);
                ended++;
                (*open)--;
            }
        }
    }
    return ended;
}

static void mode_hold(void)
{
    struct epoll_event evs[256];
    long cycle;

    hold_mode = 1;
    setup_engine(opt.n);
    printf("{\"mode\":\"hold\",\"streams\":%ld,", opt.n);
    print_sample("before");
    printf(",\"cycles\":[");
    for (cycle = 0; cycle < opt.cycles; cycle++) {
        uint64_t t0 = now_ns();
        uint64_t deadline = t0 + (uint64_t)(opt.max_s * 1e9);
        long next = 0, pending = 0, established = 0, failed = 0, ended = 0, open;
        double open_s;
        long i;

        while (established + failed < opt.n && now_ns() < deadline) {
            int k;

            while (next < opt.n && pending < opt.ramp) {
                conn_t *c = &conns[next++];

                if (conn_start(c, 0) != 0) {
                    conn_drop(c);
                    failed++;
                    continue;
                }
                pending++;
            }
            k = epoll_wait(ep, evs, 256, 100);
            for (i = 0; i < k; i++) {
                conn_t *c = evs[i].data.ptr;
                uint64_t now;
                int was = c->established;
                int r = conn_ready(c, evs[i].events, &now);

                if (r != 0) {
                    /* Ended: an error answer, a closed socket, or a stream that finished. */
                    conn_drop(c);
                    if (was) {
                        ended++;
                        established--;
                    } else {
                        failed++;
                        pending--;
                    }
                    if (c->status && c->status != 200)
                        status_count[c->status]++;
                    continue;
                }
                if (!was && c->established) {
                    established++;
                    pending--;
                }
            }
        }
        open_s = (double)(now_ns() - t0) / 1e9;
        open = established;
        fprintf(stderr, "loadgen: cycle %ld: %ld streams open in %.1f s (%ld failed)\n", cycle + 1,
                established, open_s, failed + (opt.n - next));
        printf("%s{\"open\":%ld,\"failed\":%ld,\"open_s\":%.2f,", cycle ? "," : "", established,
               failed + (opt.n - next), open_s);
        print_sample("all_open");
        ended += hold_service(opt.hold_s, &open);
        printf(",");
        print_sample("after_hold");
        printf(",\"ended_by_server\":%ld,", ended);
        for (i = 0; i < opt.n; i++) {
            if (conns[i].fd >= 0)
                conn_drop(&conns[i]);
        }
        sleep_s(opt.settle_s);
        print_sample("after_close");
        printf("}");
        fflush(stdout);
    }
    printf("],\"statuses\":{");
    {
        int i;
        int first = 1;

        for (i = 0; i < 600; i++) {
            if (status_count[i]) {
                printf("%s\"%d\":%ld", first ? "" : ",", i, status_count[i]);
                first = 0;
            }
        }
    }
    printf("}}\n");
}

/* ---- startup ---------------------------------------------------------------------------- */

/* One blocking request: its status; 0 when connected but nothing valid came back, -1 when
 * the port does not accept connections yet. */
static int try_request(double timeout_s)
{
    conn_t c;
    struct timeval tv;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int status = 0;
    size_t off = 0;

    if (fd < 0)
        return 0;
    memset(&c, 0, sizeof(c));
    parse_reset(&c);
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
        close(fd);
        return -1; /* not listening yet */
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    tv.tv_sec = (time_t)timeout_s;
    tv.tv_usec = (suseconds_t)((timeout_s - (double)tv.tv_sec) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (off < request_len) {
        ssize_t w = write(fd, request + off, request_len - off);

        if (w <= 0)
            goto out;
        off += (size_t)w;
    }
    for (;;) {
        ssize_t r = read(fd, rbuf, sizeof(rbuf));
        int f;

        if (r <= 0) {
            if (r == 0 && c.pstate == P_BODY_EOF)
                status = c.status;
            break;
        }
        f = feed(&c, rbuf, (size_t)r, now_ns());
        if (f != 0) {
            if (f == 1)
                status = c.status;
            break;
        }
    }
out:
    free(c.head);
    free(c.ev);
    close(fd);
    return status;
}

static void mode_startup(void)
{
    long rep;

    hold_mode = 1; /* no event bookkeeping */
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)opt.port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("{\"mode\":\"startup\",\"runs\":[");
    for (rep = 0; rep < opt.n; rep++) {
        uint64_t t0 = now_ns();
        uint64_t deadline = t0 + (uint64_t)(opt.max_s * 1e9);
        uint64_t t_listen = 0, t_served = 0, t_exit = 0;
        int last = 0;
        long rss = -1, anon = -1, file = -1;
        int wstatus;
        pid_t pid = fork();

        if (pid < 0)
            die("fork");
        if (pid == 0) {
            int fd = open(opt.log, O_WRONLY | O_CREAT | O_APPEND, 0644);

            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            setpgid(0, 0);
            execvp(opt.cmd[0], opt.cmd);
            _exit(127);
        }
        while (now_ns() < deadline) {
            int s = try_request(5.0);

            if (s >= 0 && t_listen == 0)
                t_listen = now_ns();
            if (s == 200) {
                t_served = now_ns();
                break;
            }
            last = s;
            if (waitpid(pid, &wstatus, WNOHANG) == pid) {
                pid = -1;
                break;
            }
            sleep_s(s < 0 ? 0.0005 : 0.002);
        }
        if (t_served) {
            sleep_s(0.5);
            rss = proc_mem_kb(pid, &anon, &file);
        } else {
            fprintf(stderr, "loadgen: start %ld: no 200 answer (last status %d)\n", rep + 1, last);
        }
        if (pid > 0) {
            uint64_t t_kill = now_ns();
            uint64_t stop_by = t_kill + 10000000000ull;

            kill(pid, SIGTERM);
            while (waitpid(pid, &wstatus, WNOHANG) == 0) {
                if (now_ns() > stop_by) {
                    kill(-pid, SIGKILL);
                    kill(pid, SIGKILL);
                    waitpid(pid, &wstatus, 0);
                    break;
                }
                sleep_s(0.001);
            }
            t_exit = now_ns() - t_kill;
        }
        printf("%s{\"served_ms\":%.2f,\"listen_ms\":%.2f,\"rss_kb\":%ld,\"anon_kb\":%ld,"
               "\"file_kb\":%ld,\"exit_ms\":%.1f}",
               rep ? "," : "", t_served ? (double)(t_served - t0) / 1e6 : -1,
               t_listen ? (double)(t_listen - t0) / 1e6 : -1, rss, anon, file,
               (double)t_exit / 1e6);
        fflush(stdout);
        sleep_s(0.2); /* let the port go */
    }
    printf("]}\n");
}

/* ---- main ------------------------------------------------------------------------------- */

static long num(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "loadgen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

static double fnum(const char *s, const char *what)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || v < 0) {
        fprintf(stderr, "loadgen: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen run|hold|startup --url http://127.0.0.1:PORT/PATH [-H 'K: V']...\n"
            "       [--body JSON] [-c CONNS] [-n COUNT] [-w WARMUP] [-d MAX_SECONDS]\n"
            "       [--pid PID]... [--ramp R] [--hold-s S] [--settle-s S] [--cycles K]\n"
            "       [--log FILE] [-- CMD ARGS...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    const char *url = NULL;
    int i;

    if (argc < 2)
        usage();
    opt.mode = argv[1];
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--") == 0) {
            opt.cmd = &argv[i + 1];
            break;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(a, "--url") == 0)
            url = v;
        else if (strcmp(a, "-H") == 0 && opt.nheaders < LG_MAX_HEADERS)
            opt.headers[opt.nheaders++] = v;
        else if (strcmp(a, "--body") == 0)
            opt.body = v;
        else if (strcmp(a, "-c") == 0)
            opt.conns = num(v, "-c");
        else if (strcmp(a, "-n") == 0)
            opt.n = num(v, "-n");
        else if (strcmp(a, "-w") == 0)
            opt.warmup = num(v, "-w");
        else if (strcmp(a, "-d") == 0)
            opt.max_s = fnum(v, "-d");
        else if (strcmp(a, "--pid") == 0 && opt.npids < LG_MAX_PIDS)
            opt.pids[opt.npids++] = (pid_t)num(v, "--pid");
        else if (strcmp(a, "--ramp") == 0)
            opt.ramp = num(v, "--ramp");
        else if (strcmp(a, "--hold-s") == 0)
            opt.hold_s = fnum(v, "--hold-s");
        else if (strcmp(a, "--settle-s") == 0)
            opt.settle_s = fnum(v, "--settle-s");
        else if (strcmp(a, "--cycles") == 0)
            opt.cycles = num(v, "--cycles");
        else if (strcmp(a, "--log") == 0)
            opt.log = v;
        else
            usage();
    }
    if (url == NULL || opt.conns < 1 || opt.n < 1 || opt.n > LG_MAX_REQS || opt.ramp < 1 ||
        opt.max_s <= 0)
        usage();
    parse_url(url);
    build_request();
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (strcmp(opt.mode, "run") == 0) {
        mode_run();
    } else if (strcmp(opt.mode, "hold") == 0) {
        if (opt.npids == 0)
            usage();
        mode_hold();
    } else if (strcmp(opt.mode, "startup") == 0) {
        if (opt.cmd == NULL || opt.cmd[0] == NULL)
            usage();
        mode_startup();
    } else {
        usage();
    }
    return 0;
}
