/*
 * freellmapi: the command line. `serve` runs the gateway; `keys`,
 * `unified-key`, `models` and `chain` manage the data dir, with or without a
 * server running. Argument handling only: the work is in api/ and cli/.
 */
#include <errno.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "app/app.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/mem.h"



static void usage(FILE *f)
{
    fprintf(f,
            "FreeLLMAPI " GW_VERSION " - one OpenAI-compatible endpoint over free LLM tiers\n"
            "\n"
            "usage: freellmapi [--data-dir DIR] COMMAND [ARGS]\n"
            "\n"
            "  serve [--host 127.0.0.1] [--port 3001]   run the gateway\n"
            "  keys add PROVIDER SECRET [--label L] [--account-id ID]\n"
            "  keys list | keys rm ID                    manage provider keys\n"
            "  unified-key [--rotate]                    print the client bearer key\n"
            "  pin set|clear                             the dashboard PIN (set reads stdin)\n"
            "  models list | enable ID | disable ID      choose which models route\n"
            "  chain show | set PROVIDER/MODEL... | reset   order of the fallback chain\n"
            "  test [--models P/M,...] [--budget N]      try each model once (running gateway)\n"
            "\n"
            "environment: HOST, PORT, FREELLMAPI_DATA_DIR (default ./data), ENCRYPTION_KEY\n"
            "(64 hex chars; else DIR/encryption.key), FREELLMAPI_<PROVIDER>_BASE_URL,\n"
            "FREELLMAPI_CATALOG, LOG_LEVEL. See README.md.\n");
}

static int64_t env_int(const char *name, int64_t dflt, int64_t min, int64_t max)
{
    const char *v = getenv(name);
    char *end;
    long long n;

    if (v == NULL || v[0] == '\0')
        return dflt;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        fprintf(stderr, "freellmapi: ignoring %s=%s (expected %lld..%lld)\n", name, v,
                (long long)min, (long long)max);
        return dflt;
    }
    return n;
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0 || n > 65535)
        return -1;
    *out = (int)n;
    return 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int cmd_serve(int argc, char **argv, const char *data_dir)
{
    gw_app_config_t cfg = {0};
    gw_app_t app;
    gw_err_t err = {0};
    uv_loop_t loop;
    const char *env_port = getenv("PORT");
    int rc;

    /* One malloc arena for every thread: the libuv pool threads (request-log
     * writer, audio encoding) allocate seldom, and their own arenas each kept
     * a little of every burst, so memory crept up after each one. */
    mallopt(M_ARENA_MAX, 1);
    /* Large blocks (request bodies, uploads, long answers) stay in their own
     * mappings: grown with mremap, not copied. glibc would otherwise raise
     * this threshold to the size of the last large block freed, and the next
     * 30 MB body grew on the heap, each doubling a copy that held the loop
     * (and, with one arena, its lock) for tens of milliseconds. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    cfg.host = getenv("HOST") ? getenv("HOST") : "127.0.0.1";
    cfg.port = 3001;
    if (env_port != NULL && parse_port(env_port, &cfg.port) != 0) {
        fprintf(stderr, "freellmapi: invalid PORT=%s\n", env_port);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            cfg.host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (parse_port(argv[++i], &cfg.port) != 0) {
                fprintf(stderr, "freellmapi: invalid port '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--web-dir") == 0 && i + 1 < argc) {
            cfg.web_dir = argv[++i];
        } else {
            fprintf(stderr, "freellmapi serve: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    cfg.data_dir = data_dir;
    cfg.public_url = getenv("FREELLMAPI_PUBLIC_URL");
    cfg.max_body = (size_t)env_int("FREELLMAPI_MAX_BODY", 32 << 20, 1024, 1 << 30);
    cfg.max_connections = (unsigned)env_int("FREELLMAPI_MAX_CONNECTIONS", 0, 0, 1 << 20);
    cfg.max_per_client =
        (unsigned)env_int("FREELLMAPI_MAX_CONNECTIONS_PER_CLIENT", 256, 0, 1 << 20);
    cfg.idle_timeout_s = (unsigned)env_int("FREELLMAPI_IDLE_TIMEOUT_S", 60, 1, 86400);
    cfg.header_timeout_s = (unsigned)env_int("FREELLMAPI_HEADER_TIMEOUT_S", 20, 1, 3600);
    cfg.body_timeout_s = (unsigned)env_int("FREELLMAPI_BODY_TIMEOUT_S", 120, 1, 86400);
    cfg.drain_s = (unsigned)env_int("FREELLMAPI_DRAIN_S", 10, 0, 3600);
    cfg.upstream_timeout_ms = env_int("FREELLMAPI_UPSTREAM_TIMEOUT_MS", 0, 0, 3600000);
    cfg.probe_interval_s = env_int("FREELLMAPI_PROBE_INTERVAL_S", 900, 0, 86400 * 7);
    cfg.reqlog_days = env_int("FREELLMAPI_LOG_RETENTION_DAYS", 30, 1, 3650);
    cfg.reqlog_max_rows = env_int("FREELLMAPI_LOG_MAX_ROWS", 1000000, 100, 1000000000);

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uv_loop_init(&loop);
    rc = gw_app_start(&app, &loop, &cfg, &err);
    if (rc != 0) {
        fprintf(stderr, "freellmapi: %s\n", err.msg);
        /* Handles opened so far close with the loop. */
        uv_walk(&loop, close_handle, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        gw_app_dispose(&app);
        uv_loop_close(&loop);
        curl_global_cleanup();
        return 1;
    }
    gw_log_debug("start-up pages dropped: %zu kB", gw_mem_drop_clean_file_pages());
    uv_run(&loop, UV_RUN_DEFAULT);
    gw_app_dispose(&app);
    if (uv_loop_close(&loop) != 0)
        gw_log_warn("loop closed with handles still open");
    curl_global_cleanup();
    return 0;
}

int main(int argc, char **argv)
{
    const char *data_dir = getenv("FREELLMAPI_DATA_DIR");
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    int n = 0;
    int rc;

    gw_log_init();
    if (data_dir == NULL || data_dir[0] == '\0')
        data_dir = "./data";
    /* --data-dir may appear anywhere; the rest keeps its order. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            data_dir = argv[i] + 11;
        else
            args[n++] = argv[i];
    }
    if (n == 0 || strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0 ||
        strcmp(args[0], "help") == 0) {
        usage(n == 0 ? stderr : stdout);
        free(args);
        return n == 0 ? 2 : 0;
    }
    if (strcmp(args[0], "--version") == 0)
        rc = printf("freellmapi " GW_VERSION "\n") > 0 ? 0 : 1;
    else if (strcmp(args[0], "serve") == 0)
        rc = cmd_serve(n, args, data_dir);
    else if (strcmp(args[0], "keys") == 0)
        rc = gw_cli_keys(n - 1, args + 1, data_dir);
    else if (strcmp(args[0], "unified-key") == 0)
        rc = gw_cli_unified_key(n - 1, args + 1, data_dir);
    else if (strcmp(args[0], "pin") == 0)
        rc = gw_cli_pin(n - 1, args + 1, data_dir);
    else if (strcmp(args[0], "models") == 0)
        rc = gw_cli_models(n - 1, args + 1, data_dir);
    else if (strcmp(args[0], "chain") == 0)
        rc = gw_cli_chain(n - 1, args + 1, data_dir);
    else if (strcmp(args[0], "test") == 0)
        rc = gw_cli_test(n - 1, args + 1);
    else {
        fprintf(stderr, "freellmapi: unknown command '%s'\n\n", args[0]);
        usage(stderr);
        rc = 2;
    }
    free(args);
    return rc;
}
