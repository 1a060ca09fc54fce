/*
 * `freellmapi test [--models P/M,...] [--budget N]`: the Test Lab's sweep from
 * the command line. It is the running gateway's own engine (POST /api/sweeps
 * on this machine), so the ledger, the caps and the quarantines are the ones
 * the gateway routes by; this command only starts it, shows a progress line
 * and prints the results. With a dashboard PIN set it logs in first (the PIN
 * from $FREELLMAPI_PIN, else the first line of stdin).
 */
#include "cli/cli_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "core/buf.h"

#define POLL_MS 500
#define POLL_MAX 7200 /* an hour of polling at most */

static const char test_usage[] =
    "usage: freellmapi test [--models PROVIDER/MODEL,...] [--budget N] [--host H] [--port P]\n"
    "\n"
    "  Sends each model (default: every enabled model with a key) the cheapest request\n"
    "  its kind allows, through the running gateway, that model only, at most N upstream\n"
    "  requests in all (default: one per model); models over a free-tier cap are skipped.\n"
    "  Exit status 1 when a model failed. With a dashboard PIN, it is read from\n"
    "  $FREELLMAPI_PIN or the first line of stdin.\n";

typedef struct http {
    CURL *curl;
    char base[300];
    char cookie[200];
    gw_buf_t body;
    long status;
} http_t;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    http_t *h = ctx;

    return gw_buf_append(&h->body, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    http_t *h = ctx;
    size_t len = size * n;
    static const char name[] = "set-cookie: freellmapi_session=";

    if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        const char *v = p + strlen("set-cookie: ");
        size_t vn = strcspn(v, ";\r\n");
        snprintf(h->cookie, sizeof(h->cookie), "%.*s", (int)vn, v);
    }
    return len;
}

/* One request to the admin API (body taken); the answer's JSON (or NULL) in *out. */
static int call(http_t *h, const char *method, const char *path, json_t *body, json_t **out)
{
    struct curl_slist *hdrs = NULL;
    char url[400], cookie[240];
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    CURLcode rc;

    json_decref(body);
    snprintf(url, sizeof(url), "%s%s", h->base, path);
    gw_buf_reset(&h->body);
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h->curl, CURLOPT_NOPROXY, "*");
    hdrs = curl_slist_append(hdrs, "X-FreeLLMAPI-Admin: 1");
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    if (h->cookie[0] != '\0') {
        snprintf(cookie, sizeof(cookie), "Cookie: %s", h->cookie);
        hdrs = curl_slist_append(hdrs, cookie);
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
    if (text != NULL)
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
    rc = curl_easy_perform(h->curl);
    curl_slist_free_all(hdrs);
    free(text);
    h->status = 0;
    *out = NULL;
    if (rc != CURLE_OK)
        return -1;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &h->status);
    *out = json_loadb(h->body.ptr != NULL ? h->body.ptr : "", h->body.len, 0, NULL);
    return 0;
}

static const char *error_message(json_t *j)
{
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));

    return m != NULL ? m : "no message";
}

/* With a PIN set: a session from $FREELLMAPI_PIN or stdin. */
static int log_in(http_t *h, const gw__cli_io_t *io)
{
    const char *env = getenv("FREELLMAPI_PIN");
    char pin[128] = "";
    json_t *ans = NULL;
    int rc;

    if (env != NULL)
        snprintf(pin, sizeof(pin), "%s", env);
    else if (fgets(pin, sizeof(pin), io->in) == NULL)
        return gw__cli_fail(io, "the dashboard has a PIN: give it in FREELLMAPI_PIN or on stdin");
    pin[strcspn(pin, "\r\n")] = '\0';
    rc = call(h, "POST", "/api/session", json_pack("{s:s}", "pin", pin), &ans);
    OPENSSL_cleanse(pin, sizeof(pin));
    if (rc != 0 || h->status != 200 || h->cookie[0] == '\0') {
        rc = gw__cli_fail(io, "login refused: %s", error_message(ans));
        json_decref(ans);
        return rc;
    }
    json_decref(ans);
    return GW_CLI_OK;
}

static json_t *models_array(const char *list)
{
    json_t *a = json_array();
    char *copy = gw_xstrdup(list);
    char *save = NULL;

    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        if (*t != '\0')
            json_array_append_new(a, json_string(t));
    free(copy);
    return a;
}

static void print_results(json_t *sweep, const gw__cli_io_t *io, int *failed)
{
    json_t *results = json_object_get(sweep, "results");
    size_t w[5] = {5, 4, 6, 7, 0};
    const char *head[5] = {"MODEL", "KIND", "STATUS", "LATENCY", "MESSAGE"};
    size_t i;
    json_t *r;

    json_array_foreach (results, i, r) {
        size_t n = strlen(json_string_value(json_object_get(r, "provider"))) + 1 +
                   strlen(json_string_value(json_object_get(r, "model")));
        w[0] = GW_MAX(w[0], n);
        w[1] = GW_MAX(w[1], strlen(json_string_value(json_object_get(r, "kind"))));
    }
    gw__cli_table_row(io->out, head, w, 5);
    *failed = 0;
    json_array_foreach (results, i, r) {
        char name[400], lat[32] = "-", msg[400];
        const char *status = json_string_value(json_object_get(r, "status"));
        const char *cls = json_string_value(json_object_get(r, "error_class"));
        const char *m = json_string_value(json_object_get(r, "message"));
        const char *cells[5];

        snprintf(name, sizeof(name), "%s/%s", json_string_value(json_object_get(r, "provider")),
                 json_string_value(json_object_get(r, "model")));
        if (json_is_integer(json_object_get(r, "latency_ms")))
            snprintf(lat, sizeof(lat), "%lld ms",
                     (long long)json_integer_value(json_object_get(r, "latency_ms")));
        snprintf(msg, sizeof(msg), "%s%s%s", cls != NULL ? cls : "", cls && m ? ": " : "",
                 m != NULL ? m : "");
        cells[0] = name;
        cells[1] = json_string_value(json_object_get(r, "kind"));
        cells[2] = status;
        cells[3] = lat;
        cells[4] = msg;
        gw__cli_table_row(io->out, cells, w, 5);
        *failed += strcmp(status, "failed") == 0;
    }
    fprintf(io->out, "%lld of %lld upstream requests used; %s\n",
            (long long)json_integer_value(json_object_get(sweep, "used")),
            (long long)json_integer_value(json_object_get(sweep, "budget")),
            json_string_value(json_object_get(sweep, "state")));
}

static int run(http_t *h, json_t *start, const gw__cli_io_t *io)
{
    json_t *ans = NULL;
    int failed = 0;
    int rc;

    if (call(h, "POST", "/api/sweeps", json_incref(start), &ans) != 0)
        return gw__cli_fail(io,
                            "the gateway does not answer at %s (is `freellmapi serve` "
                            "running? --host/--port, HOST/PORT)",
                            h->base);
    if (h->status == 401) {
        json_decref(ans);
        rc = log_in(h, io);
        if (rc != GW_CLI_OK)
            return rc;
        if (call(h, "POST", "/api/sweeps", json_incref(start), &ans) != 0)
            return gw__cli_fail(io, "the gateway stopped answering");
    }
    if (h->status != 202) {
        rc = gw__cli_fail(io, "%s", error_message(ans));
        json_decref(ans);
        return rc;
    }
    for (int i = 0; i < POLL_MAX; i++) {
        const char *state = json_string_value(json_object_get(ans, "state"));

        fprintf(io->err, "\rtesting: %lld/%lld models, %lld/%lld requests used ",
                (long long)json_integer_value(json_object_get(ans, "done")),
                (long long)json_integer_value(json_object_get(ans, "total")),
                (long long)json_integer_value(json_object_get(ans, "used")),
                (long long)json_integer_value(json_object_get(ans, "budget")));
        if (state == NULL || strcmp(state, "running") != 0)
            break;
        nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
        json_decref(ans);
        if (call(h, "GET", "/api/sweeps/current", NULL, &ans) != 0 || h->status != 200) {
            json_decref(ans);
            fputc('\n', io->err);
            return gw__cli_fail(io, "lost the gateway while testing");
        }
    }
    fputc('\n', io->err);
    print_results(ans, io, &failed);
    json_decref(ans);
    return failed > 0 ? GW_CLI_FAIL : GW_CLI_OK;
}

int gw__cli_test(int argc, char **argv, const gw__cli_io_t *io)
{
    const char *models = NULL, *budget = NULL, *host = NULL, *port = NULL;
    const gw__cli_opt_t opts[] = {
        {"models", &models, NULL},
        {"budget", &budget, NULL},
        {"host", &host, NULL},
        {"port", &port, NULL},
    };
    gw__cli_args_t a;
    http_t h;
    json_t *start;
    char *end = NULL;
    long p, b = 0;
    int rc;

    rc = gw__cli_parse(argc, argv, opts, GW_ARRAY_LEN(opts), &a, io, test_usage);
    if (rc != GW_CLI_OK)
        return rc;
    if (a.help || a.npos > 0) {
        rc = a.help ? (fputs(test_usage, io->out), GW_CLI_OK) : gw__cli_usage(io, test_usage);
        gw__cli_args_dispose(&a);
        return rc;
    }
    gw__cli_args_dispose(&a);
    host = host != NULL ? host : getenv("HOST");
    if (host == NULL || host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    if (strcmp(host, "::") == 0)
        host = "::1";
    port = port != NULL ? port : getenv("PORT");
    p = port != NULL ? strtol(port, &end, 10) : 3001;
    if (port != NULL && (*end != '\0' || p < 1 || p > 65535))
        return gw__cli_fail(io, "--port must be a port number");
    if (budget != NULL && ((b = strtol(budget, &end, 10)) < 1 || b > 1000 || *end != '\0'))
        return gw__cli_fail(io, "--budget must be a whole number from 1 to 1000");
    memset(&h, 0, sizeof(h));
    snprintf(h.base, sizeof(h.base), strchr(host, ':') ? "http://[%s]:%ld" : "http://%s:%ld", host,
             p);
    gw_buf_init(&h.body, 64 * 1024 * 1024);
    h.curl = curl_easy_init();
    start = json_object();
    if (models != NULL)
        json_object_set_new(start, "models", models_array(models));
    if (b > 0)
        json_object_set_new(start, "budget", json_integer(b));
    rc = h.curl != NULL ? run(&h, start, io) : gw__cli_fail(io, "libcurl did not start");
    json_decref(start);
    curl_easy_cleanup(h.curl);
    gw_buf_dispose(&h.body);
    return rc;
}

int gw_cli_test(int argc, char **argv)
{
    const gw__cli_io_t io = {stdout, stderr, stdin};

    return gw__cli_test(argc, argv, &io);
}
