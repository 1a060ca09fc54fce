/*
 * The analytics benchmark: generates a request log of N rows (default
 * 1,000,000) over the last 30 days through the writer's own append (so the
 * rollups are kept as in production), then times every query the dashboard
 * makes: analytics for 24 h / 7 d / 30 d (on an open connection and with the
 * fresh connection an admin job opens), the log's first page unfiltered and
 * filtered, the export's read, the attempt scan behind diagnostics, and a
 * rebuild of the rollups from the raw log. Prints one JSON line per figure.
 *
 *   analytics DATA_DIR [ROWS]
 *
 * DATA_DIR must not exist yet (a fresh database). Bounded: ROWS rows, a few
 * repetitions of each query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/analytics.h"
#include "core/clock.h"
#include "store/analytics.h"

#define BATCH 5000
#define REPS 7
#define DAY_MS (24 * 3600 * INT64_C(1000))

/* A catalog-like spread: a few providers carry most traffic. */
static const char *const providers[] = {"gemini", "groq",   "cerebras", "sambanova",
                                        "nvidia", "mistral", "openrouter", "github",
                                        "cohere", "cloudflare", "zai",  "ollama"};
static const char *const models[][3] = {
    {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-embedding-001"},
    {"llama-3.3-70b-versatile", "openai/gpt-oss-120b", "qwen/qwen3-32b"},
    {"gpt-oss-120b", "qwen-3-235b", "llama-4-scout"},
    {"Meta-Llama-3.3-70B-Instruct", "DeepSeek-V3.1", "Qwen3-32B"},
    {"moonshotai/kimi-k2", "deepseek-ai/deepseek-v3.1", "nvidia/llama-3.3-nemotron"},
    {"mistral-large-latest", "mistral-small-latest", "codestral-latest"},
    {"deepseek/deepseek-chat:free", "qwen/qwen3-coder:free", "z-ai/glm-4.5-air:free"},
    {"openai/gpt-4.1", "openai/gpt-4.1-mini", "meta/llama-3.3-70b"},
    {"command-a-03-2025", "command-r-plus", "embed-v4.0"},
    {"@cf/meta/llama-3.3-70b", "@cf/qwen/qwq-32b", "@cf/baai/bge-m3"},
    {"glm-4.5-flash", "glm-4.5-air", "glm-4.6"},
    {"gpt-oss:120b", "qwen3-coder:480b", "deepseek-v3.1:671b"},
};
static const char *const endpoints[] = {"/v1/chat/completions", "/v1/chat/completions",
                                        "/v1/chat/completions", "/v1/chat/completions",
                                        "/v1/chat/completions", "/v1/chat/completions",
                                        "/v1/embeddings",       "/v1/responses",
                                        "/v1/messages",         "/v1/images/generations"};

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int pick(int n)
{
    return (int)(next_rand() % (uint64_t)n);
}

/* Zipf-ish: index 0 most often. */
static int skewed(int n)
{
    int a = pick(n), b = pick(n);

    return a < b ? a : b;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

static void emit(const char *name, double ms, const char *extra)
{
    printf("{\"scenario\":\"analytics\",\"query\":\"%s\",\"ms\":%.2f%s%s}\n", name, ms,
           extra[0] ? "," : "", extra);
    fflush(stdout);
}

static void die(const char *what, const gw_err_t *err)
{
    fprintf(stderr, "analytics bench: %s: %s\n", what, err->msg);
    exit(1);
}

/* ---- generating the log ------------------------------------------------------------ */

static void make_row(gw_reqlog_row_t *r, char *attempts, size_t cap, int64_t at)
{
    int p = skewed((int)GW_ARRAY_LEN(providers));
    int m = skewed(3);
    int roll = pick(100);
    int n_att = roll < 85 ? 1 : roll < 95 ? 2 : 3;
    int st = pick(100);
    size_t off = 0;

    memset(r, 0, sizeof(*r));
    r->at_ms = at;
    r->endpoint = endpoints[pick((int)GW_ARRAY_LEN(endpoints))];
    r->provider = providers[p];
    r->model = models[p][m];
    r->key_id = 1 + p * 2 + pick(2);
    r->status = st < 90 ? 200 : st < 94 ? 429 : st < 96 ? 502 : st < 98 ? 400 : 499;
    r->latency_ms = 80 + pick(400) + (pick(10) == 0 ? pick(8000) : 0);
    r->ttfb_ms = pick(3) == 0 ? -1 : r->latency_ms / 3;
    r->tokens_in = 50 + pick(4000);
    r->tokens_out = r->status == 200 ? 20 + pick(800) : 0;
    r->attempts = n_att;
    r->error_class = r->status == 200   ? NULL
                     : r->status == 429 ? "exhausted"
                     : r->status == 502 ? "server_error"
                     : r->status == 400 ? "bad_request"
                                        : "client_closed";
    r->stream = pick(2) == 0;
    for (int i = 0; i < n_att; i++) {
        int q = i + 1 < n_att ? skewed((int)GW_ARRAY_LEN(providers)) : p;
        const char *verdict = i + 1 < n_att ? (pick(2) ? "rate_limit_minute" : "server_error")
                                            : (r->status == 200 ? "ok" : "server_error");
        off += (size_t)snprintf(attempts + off, cap - off, "%s\t%s\t%d\t%s\t%d\t%d\n",
                                providers[q], models[q][0], 1 + q * 2, verdict,
                                strcmp(verdict, "ok") == 0 ? 200 : 429, 50 + pick(300));
    }
    r->attempt_log = attempts;
}

static void generate(gw_store_t *st, long rows, int64_t now)
{
    gw_reqlog_row_t *batch = calloc(BATCH, sizeof(*batch));
    char (*att)[256] = calloc(BATCH, sizeof(*att));
    gw_err_t err = {0};
    double t0 = now_s();
    long done = 0;

    while (done < rows) {
        int n = (int)(rows - done < BATCH ? rows - done : BATCH);

        for (int i = 0; i < n; i++) {
            /* Evenly over 30 days, oldest first, as a log fills. */
            int64_t at = now - 30 * DAY_MS + (int64_t)((double)(done + i) / (double)rows *
                                                       (double)(30 * DAY_MS));
            make_row(&batch[i], att[i], sizeof(att[i]), at);
        }
        if (gw_store_reqlog_append(st, batch, (size_t)n, &err) != 0)
            die("append", &err);
        done += n;
    }
    {
        char extra[96];
        double s = now_s() - t0;

        snprintf(extra, sizeof(extra), "\"rows\":%ld,\"rows_per_s\":%.0f", rows, (double)rows / s);
        emit("generate (append + rollups, batches of 5000)", s * 1000, extra);
    }
    free(batch);
    free(att);
}

/* ---- timing the queries ---------------------------------------------------------- */

static void time_window(gw_store_t *st, const char *dir, const char *name, int64_t now)
{
    gw_admin_window_t w;
    double t[REPS], fresh[REPS];
    gw_err_t err = {0};
    char label[64], extra[128];
    json_int_t requests = 0;

    gw_admin_window_of(name, now, &w);
    for (int i = 0; i < REPS; i++) {
        json_t *out = NULL;
        double t0 = now_s();
        gw_store_t *st2 = NULL;

        if (gw_admin_analytics_build(st, &w, &out, &err) != 0)
            die("analytics", &err);
        t[i] = (now_s() - t0) * 1000;
        requests = json_integer_value(json_object_get(json_object_get(out, "totals"),
                                                      "requests"));
        json_decref(out);
        /* As an admin job runs it: its own connection, opened for the request. */
        t0 = now_s();
        if (gw_store_open(&st2, dir, &err) != 0 ||
            gw_admin_analytics_build(st2, &w, &out, &err) != 0)
            die("analytics (fresh connection)", &err);
        fresh[i] = (now_s() - t0) * 1000;
        json_decref(out);
        gw_store_close(st2);
    }
    snprintf(label, sizeof(label), "analytics %s", name);
    snprintf(extra, sizeof(extra), "\"requests\":%lld,\"fresh_connection_ms\":%.2f",
             (long long)requests, median(fresh, REPS));
    emit(label, median(t, REPS), extra);
}

typedef struct counter {
    long n;
} counter_t;

static void on_row(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    (void)id;
    (void)r;
    ((counter_t *)ctx)->n++;
}

static void on_attempt(void *ctx, const gw_attempt_cell_t *a)
{
    ((counter_t *)ctx)->n += a->attempts;
}

static void time_logs(gw_store_t *st, const char *label, const gw_reqlog_filter_t *f)
{
    double t[REPS];
    gw_err_t err = {0};
    counter_t c = {0};
    char extra[64];

    for (int i = 0; i < REPS; i++) {
        double t0 = now_s();

        c.n = 0;
        if (gw_store_reqlog_query(st, f, on_row, &c, NULL, &err) != 0)
            die("logs", &err);
        t[i] = (now_s() - t0) * 1000;
    }
    snprintf(extra, sizeof(extra), "\"rows\":%ld", c.n);
    emit(label, median(t, REPS), extra);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    long rows = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
    int64_t now = gw_now_ms();
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    gw_reqlog_filter_t f;

    if (dir == NULL || rows <= 0) {
        fprintf(stderr, "usage: analytics DATA_DIR [ROWS]\n");
        return 2;
    }
    if (gw_store_open(&st, dir, &err) != 0)
        die("open", &err);
    generate(st, rows, now);
    time_window(st, dir, "24h", now);
    time_window(st, dir, "7d", now);
    time_window(st, dir, "30d", now);

    memset(&f, 0, sizeof(f));
    f.limit = 100;
    time_logs(st, "logs: first page", &f);
    f.provider = "cohere";
    time_logs(st, "logs: provider filter", &f);
    f.provider = NULL;
    f.status_min = f.status_max = 429;
    time_logs(st, "logs: status 429", &f);
    f.status_min = f.status_max = 0;
    f.diagnosis = "timeout"; /* matches nothing here */
    f.max_scan = 100000;    /* as /api/logs pages: the next page goes on from the bound */
    time_logs(st, "logs: diagnosis with no match (one page: 100,000 rows looked at)", &f);
    f.max_scan = 0;
    time_logs(st, "logs: diagnosis with no match (the whole log, as an export reads it)", &f);
    f.diagnosis = NULL;
    f.limit = 100000;
    f.since_ms = now - DAY_MS;
    time_logs(st, "export read: last 24 h (up to 100,000 rows)", &f);
    {
        double t[REPS];
        counter_t c = {0};
        char extra[64];

        for (int i = 0; i < REPS; i++) {
            double t0 = now_s();
            c.n = 0;
            if (gw_store_attempts_scan(st, now - 30 * DAY_MS, now + 1, on_attempt, &c, &err) != 0)
                die("attempts", &err);
            t[i] = (now_s() - t0) * 1000;
        }
        snprintf(extra, sizeof(extra), "\"attempts\":%ld", c.n);
        emit("attempt scan 30 d (diagnostics)", median(t, REPS), extra);
    }
    {
        double t0 = now_s();
        if (gw_store_rollups_rebuild(st, now, &err) != 0)
            die("rebuild", &err);
        emit("rebuild rollups from the raw log", (now_s() - t0) * 1000, "");
    }
    gw_store_close(st);
    return 0;
}
