/*
 * /api/logs: the request log with filters, its export (CSV, JSON Lines) and
 * the detail of one request with every attempt. Filters are checked on the
 * loop; the reading runs on the thread pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "store/analytics.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 500
/* A page looks at most this many rows back (~0.1 s); a rare filter continues
 * from next_before, so a request never holds a pool thread for seconds. */
#define PAGE_SCAN 100000
#define EXPORT_MAX 100000
#define EXPORT_MAX_BYTES (256 * 1024 * 1024) /* far above 100,000 rows */

static const char *const diagnoses[] = {"rate_limited",   "quota_exhausted", "invalid_key",
                                        "upstream_error", "timeout",         "client_error"};

/* ---- filters --------------------------------------------------------------------- */

static bool parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long n;

    if (v == NULL || *v == '\0')
        return false;
    n = strtoll(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* The status filter as a range: ok, error, 2xx, 4xx, 5xx or one status. */
static bool status_range(const char *v, int64_t *lo, int64_t *hi)
{
    static const struct {
        const char *word;
        int lo, hi;
    } words[] = {{"ok", 200, 399},
                 {"error", 400, 599},
                 {"2xx", 200, 299},
                 {"4xx", 400, 499},
                 {"5xx", 500, 599}};

    for (size_t i = 0; i < GW_ARRAY_LEN(words); i++) {
        if (strcmp(v, words[i].word) == 0) {
            *lo = words[i].lo;
            *hi = words[i].hi;
            return true;
        }
    }
    if (!parse_i64(v, 100, 599, lo))
        return false;
    *hi = *lo;
    return true;
}

static bool set_text(json_t *in, gw_req_t *req, const char *name)
{
    const char *v = gw_req_query(req, name);

    if (v == NULL || *v == '\0')
        return true;
    if (strlen(v) > 200) {
        gw__admin_error(req, 400, "invalid_value", name, "'%s' is too long.", name);
        return false;
    }
    json_object_set_new(in, name, json_string(v));
    return true;
}

static bool set_number(json_t *in, gw_req_t *req, const char *name, int64_t lo, int64_t hi)
{
    const char *v = gw_req_query(req, name);
    int64_t n;

    if (v == NULL || *v == '\0')
        return true;
    if (!parse_i64(v, lo, hi, &n)) {
        gw__admin_error(req, 400, "invalid_value", name,
                        "'%s' must be a whole number from %lld to %lld.", name, (long long)lo,
                        (long long)hi);
        return false;
    }
    json_object_set_new(in, name, json_integer(n));
    return true;
}

/* The request's filters as a job's input; NULL after answering 400. */
static json_t *filters_in(gw_req_t *req, int64_t max_limit)
{
    json_t *in = json_object();
    const char *status = gw_req_query(req, "status");
    const char *diagnosis = gw_req_query(req, "diagnosis");
    int64_t lo, hi;
    bool ok;

    if (status != NULL && *status != '\0') {
        if (!status_range(status, &lo, &hi)) {
            gw__admin_error(req, 400, "invalid_value", "status",
                            "'status' must be ok, error, 2xx, 4xx, 5xx or a status code.");
            json_decref(in);
            return NULL;
        }
        json_object_set_new(in, "status_min", json_integer(lo));
        json_object_set_new(in, "status_max", json_integer(hi));
    }
    if (diagnosis != NULL && *diagnosis != '\0') {
        size_t i = 0;
        while (i < GW_ARRAY_LEN(diagnoses) && strcmp(diagnoses[i], diagnosis) != 0)
            i++;
        if (i == GW_ARRAY_LEN(diagnoses)) {
            gw__admin_error(req, 400, "invalid_value", "diagnosis",
                            "'diagnosis' must be one of rate_limited, quota_exhausted, "
                            "invalid_key, upstream_error, timeout, client_error.");
            json_decref(in);
            return NULL;
        }
        json_object_set_new(in, "diagnosis", json_string(diagnoses[i]));
    }
    ok = set_text(in, req, "provider") && set_text(in, req, "model") &&
         set_text(in, req, "endpoint") && set_number(in, req, "since", 0, INT64_MAX / 2) &&
         set_number(in, req, "until", 0, INT64_MAX / 2) &&
         set_number(in, req, "before", 1, INT64_MAX / 2) &&
         (max_limit == 0 || set_number(in, req, "limit", 1, max_limit));
    if (!ok) {
        json_decref(in);
        return NULL;
    }
    return in;
}

static void filter_of(const json_t *in, gw_reqlog_filter_t *f, size_t limit)
{
    memset(f, 0, sizeof(*f));
    f->status_min = (int)json_integer_value(json_object_get(in, "status_min"));
    f->status_max = (int)json_integer_value(json_object_get(in, "status_max"));
    f->provider = json_string_value(json_object_get(in, "provider"));
    f->model = json_string_value(json_object_get(in, "model"));
    f->endpoint = json_string_value(json_object_get(in, "endpoint"));
    f->diagnosis = json_string_value(json_object_get(in, "diagnosis"));
    f->since_ms = json_integer_value(json_object_get(in, "since"));
    f->until_ms = json_integer_value(json_object_get(in, "until"));
    f->before_id = json_integer_value(json_object_get(in, "before"));
    f->limit = json_object_get(in, "limit") != NULL
                   ? (size_t)json_integer_value(json_object_get(in, "limit"))
                   : limit;
}

/* ---- rows ---------------------------------------------------------------------------- */

json_t *gw__admin_logrow_json(int64_t id, const gw_reqlog_row_t *r)
{
    const char *d = gw_reqlog_diagnosis(r->status, r->error_class);
    json_t *o = json_object();

    if (id > 0)
        json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "at_ms", json_integer(r->at_ms));
    json_object_set_new(o, "endpoint", json_string(r->endpoint != NULL ? r->endpoint : ""));
    json_object_set_new(o, "provider",
                        r->provider != NULL ? json_string(r->provider) : json_null());
    json_object_set_new(o, "model", r->model != NULL ? json_string(r->model) : json_null());
    json_object_set_new(o, "key_id", json_integer(r->key_id));
    json_object_set_new(o, "status", json_integer(r->status));
    json_object_set_new(o, "latency_ms", json_integer(r->latency_ms));
    json_object_set_new(o, "ttfb_ms", r->ttfb_ms >= 0 ? json_integer(r->ttfb_ms) : json_null());
    json_object_set_new(o, "tokens_in", json_integer(r->tokens_in));
    json_object_set_new(o, "tokens_out", json_integer(r->tokens_out));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "error_class",
                        r->error_class != NULL ? json_string(r->error_class) : json_null());
    json_object_set_new(o, "diagnosis", d != NULL ? json_string(d) : json_null());
    json_object_set_new(o, "stream", json_boolean(r->stream));
    return o;
}

typedef struct page {
    json_t *data;
    int64_t last_id;
} page_t;

static void on_page_row(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    page_t *p = ctx;

    json_array_append_new(p->data, gw__admin_logrow_json(id, r));
    p->last_id = id;
}

static void list_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_reqlog_filter_t f;
    page_t p = {json_array(), 0};
    int64_t next = 0;
    gw_err_t err = {0};

    filter_of(j->in, &f, PAGE_DEFAULT);
    f.max_scan = PAGE_SCAN;
    if (gw_store_reqlog_query(st, &f, on_page_row, &p, &next, &err) != 0) {
        json_decref(p.data);
        gw__admin_fail(j, 500, "store_failed", NULL, "The log could not be read: %s", err.msg);
        return;
    }
    /* A full page, or a search that stopped at its bound, may have more behind it. */
    j->answer = json_pack("{s:o,s:o}", "data", p.data, "next_before",
                          next > 1 ? json_integer(next) : json_null());
}

/* ---- export ------------------------------------------------------------------------- */

/* A CSV field per RFC 4180: quoted when it holds a comma, quote or line break. */
static void csv_field(gw_buf_t *b, const char *s, bool last)
{
    if (s != NULL && strpbrk(s, ",\"\r\n") != NULL) {
        gw_buf_appends(b, "\"");
        for (const char *p = s; *p; p++)
            gw_buf_appends(b, *p == '"' ? "\"\"" : (char[2]){*p, '\0'});
        gw_buf_appends(b, "\"");
    } else if (s != NULL) {
        gw_buf_appends(b, s);
    }
    gw_buf_appends(b, last ? "\r\n" : ",");
}

typedef struct export
{
    gw_admin_job_t *j;
    bool csv;
    size_t n;
}
export_t;

static void on_export_row(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    export_t *e = ctx;
    gw_buf_t *b = &e->j->raw;
    const char *d = gw_reqlog_diagnosis(r->status, r->error_class);

    e->n++;
    if (!e->csv) {
        json_t *o = gw__admin_logrow_json(id, r);
        char *line = json_dumps(o, JSON_COMPACT);

        if (line != NULL) {
            gw_buf_appends(b, line);
            gw_buf_appends(b, "\n");
        }
        free(line);
        json_decref(o);
        return;
    }
    gw_buf_printf(b, "%lld,%lld,", (long long)id, (long long)r->at_ms);
    csv_field(b, r->endpoint, false);
    csv_field(b, r->provider, false);
    csv_field(b, r->model, false);
    gw_buf_printf(b, "%lld,%d,%lld,", (long long)r->key_id, r->status, (long long)r->latency_ms);
    if (r->ttfb_ms >= 0)
        gw_buf_printf(b, "%lld", (long long)r->ttfb_ms);
    gw_buf_printf(b, ",%lld,%lld,%d,", (long long)r->tokens_in, (long long)r->tokens_out,
                  r->attempts);
    csv_field(b, r->error_class, false);
    csv_field(b, d, false);
    csv_field(b, r->stream ? "true" : "false", true);
}

static void export_work(gw_admin_job_t *j, gw_store_t *st)
{
    bool csv = strcmp(json_string_value(json_object_get(j->in, "format")), "csv") == 0;
    export_t e = {j, csv, 0};
    gw_reqlog_filter_t f;
    gw_err_t err = {0};

    filter_of(j->in, &f, EXPORT_MAX + 1);
    gw_buf_init(&j->raw, EXPORT_MAX_BYTES);
    if (csv)
        gw_buf_appends(&j->raw, "id,at_ms,endpoint,provider,model,key_id,status,latency_ms,"
                                "ttfb_ms,tokens_in,tokens_out,attempts,error_class,diagnosis,"
                                "stream\r\n");
    f.limit = EXPORT_MAX;
    if (gw_store_reqlog_query(st, &f, on_export_row, &e, NULL, &err) != 0) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The log could not be read: %s", err.msg);
        return;
    }
    j->raw_truncated = e.n >= EXPORT_MAX;
    j->raw_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
    j->raw_name = csv ? "freellmapi-requests.csv" : "freellmapi-requests.jsonl";
}

/* ---- one request -------------------------------------------------------------------- */

static json_t *attempts_json(const char *log)
{
    json_t *a = json_array();
    char *copy = gw_xstrdup(log != NULL ? log : "");
    char *next;

    for (char *line = copy; *line != '\0'; line = next) {
        char *f[6];
        int n = 0;
        char *p = line;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        else
            next = line + strlen(line);
        while (n < 6) {
            f[n++] = p;
            p = strchr(p, '\t');
            if (p == NULL)
                break;
            *p++ = '\0';
        }
        if (n < 6)
            continue;
        json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:s,s:i,s:I}", "provider", f[0], "model",
                                           f[1], "key_id", (json_int_t)strtoll(f[2], NULL, 10),
                                           "verdict", f[3], "status", (int)strtol(f[4], NULL, 10),
                                           "latency_ms", (json_int_t)strtoll(f[5], NULL, 10)));
    }
    free(copy);
    return a;
}

static void on_detail(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    gw_admin_job_t *j = ctx;
    json_t *content = json_null();

    if (r->content_prompt != NULL || r->content_answer != NULL)
        content =
            json_pack("{s:s?,s:s?}", "prompt", r->content_prompt, "answer", r->content_answer);
    j->answer = json_pack("{s:o,s:o,s:o}", "row", gw__admin_logrow_json(id, r), "attempts",
                          attempts_json(r->attempt_log), "content", content);
}

static void detail_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};
    int rc = gw_store_reqlog_get(st, j->id, on_detail, j, &err);

    if (rc == GW_ENOTFOUND)
        gw__admin_fail(j, 404, "not_found", NULL, "No logged request has id %lld.",
                       (long long)j->id);
    else if (rc != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The log could not be read: %s", err.msg);
}

/* ---- the handler ----------------------------------------------------------------------- */

void gw__admin_logs(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    json_t *in;
    int64_t id;

    if (!gw__admin_only(req, "GET"))
        return;
    if (rest[0] == '\0') {
        in = filters_in(req, PAGE_MAX);
        if (in != NULL)
            gw__admin_run(ad, req, list_work, in, 0, false);
        return;
    }
    if (strcmp(rest, "export") == 0) {
        const char *format = gw_req_query(req, "format");

        if (format == NULL || (strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0)) {
            gw__admin_error(req, 400, "invalid_value", "format", "'format' must be csv or jsonl.");
            return;
        }
        in = filters_in(req, 0);
        if (in == NULL)
            return;
        json_object_set_new(in, "format", json_string(format));
        gw__admin_run(ad, req, export_work, in, 0, false);
        return;
    }
    if (!parse_i64(rest, 1, INT64_MAX / 2, &id)) {
        gw__admin_error(req, 404, "not_found", NULL, "No such log entry.");
        return;
    }
    gw__admin_run(ad, req, detail_work, NULL, id, false);
}
