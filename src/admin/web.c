/*
 * The dashboard's files: embedded in the binary (web_assets.h) or, for
 * development, read from `serve --web-dir DIR`. Hashed assets are cached for
 * good; index.html is revalidated (ETag). Pages the app routes itself get
 * index.html. Every answer carries the dashboard's security headers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin_int.h"
#include "admin/web_assets.h"

#define WEB_FILE_MAX (8u << 20) /* a file served from --web-dir */
#define ASSETS_DIR "/assets/"

#define CSP_MAX 2048

/* The policy: the app's own files only. media-src blob: lets the playground
 * play the speech it fetched; connect-src adds the WebSocket origin of each
 * provider with a live (realtime) model, whose constrained socket the
 * playground opens with a single-use token: taken from the catalog's base
 * URLs, so a proxy or a test mock in front of the provider works too. */
static const char *csp_of(gw_admin_t *ad)
{
    const gw_catalog_t *cat = &ad->gw->cat;
    gw_buf_t b;

    if (ad->csp != NULL)
        return ad->csp;
    gw_buf_init(&b, CSP_MAX);
    gw_buf_appends(&b, "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                       "script-src 'self'; media-src 'self' blob:; connect-src 'self'");
    for (size_t i = 0; i < cat->nmodels; i++) {
        const gw_model_t *m = &cat->models[i];
        const char *base = m->provider->base_url;
        const char *host;
        bool tls;
        char origin[300];

        if (strcmp(m->kind, "realtime") != 0 || base == NULL)
            continue;
        tls = strncmp(base, "https://", 8) == 0;
        if (!tls && strncmp(base, "http://", 7) != 0)
            continue;
        host = base + (tls ? 8 : 7);
        snprintf(origin, sizeof(origin), " %s%.*s", tls ? "wss://" : "ws://",
                 (int)strcspn(host, "/?#"), host);
        if (strstr(b.ptr, origin) == NULL)
            gw_buf_appends(&b, origin);
    }
    gw_buf_appends(&b, "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    ad->csp = gw_buf_detach(&b);
    return ad->csp;
}

static void security_headers(gw_admin_t *ad, gw_req_t *req)
{
    gw_req_add_header(req, "Content-Security-Policy", csp_of(ad));
    gw_req_add_header(req, "X-Content-Type-Options", "nosniff");
    gw_req_add_header(req, "X-Frame-Options", "DENY");
    gw_req_add_header(req, "Referrer-Policy", "no-referrer");
}

static bool has_token(const char *list, const char *token)
{
    return list != NULL && strstr(list, token) != NULL;
}

bool gw__web_wants(gw_admin_t *ad, gw_req_t *req)
{
    const char *method = gw_req_method(req);
    const char *path = gw_req_path(req);

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return false;
    if (strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/v1") == 0 ||
        gw_req_header(req, "Authorization") != NULL)
        return false;
    if (strcmp(path, "/") == 0 || strncmp(path, ASSETS_DIR, strlen(ASSETS_DIR)) == 0)
        return true;
    (void)ad;
    /* Other paths are the app's own pages only for a browser navigating there:
     * the bare /v1 aliases (/models ...) stay with API clients. */
    return has_token(gw_req_header(req, "Accept"), "text/html");
}

static const gw_web_asset_t *embedded(const char *path)
{
    for (size_t i = 0; i < gw_web_nassets; i++)
        if (strcmp(gw_web_assets[i].path, path) == 0)
            return &gw_web_assets[i];
    return NULL;
}

static void answer_bytes(gw_req_t *req, int status, const char *type, const void *data,
                         size_t len)
{
    gw_buf_t body;

    gw_buf_init(&body, len + 1);
    gw_buf_append(&body, data, len);
    gw_req_respond(req, status, type, &body);
}

static void not_built(gw_admin_t *ad, gw_req_t *req)
{
    static const char page[] =
        "<!doctype html><meta charset=utf-8><title>FreeLLMAPI</title>"
        "<p>This build of FreeLLMAPI has no dashboard: build it with <code>make</code> "
        "(it needs Node.js and npm), or serve it from disk with "
        "<code>freellmapi serve --web-dir web/dist</code>.</p>";

    security_headers(ad, req);
    answer_bytes(req, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
}

static void serve_embedded(gw_admin_t *ad, gw_req_t *req, const gw_web_asset_t *a,
                           bool immutable)
{
    const char *inm = gw_req_header(req, "If-None-Match");
    bool gz = a->gz != NULL && has_token(gw_req_header(req, "Accept-Encoding"), "gzip");

    security_headers(ad, req);
    gw_req_add_header(req, "ETag", a->etag);
    gw_req_add_header(req, "Cache-Control",
                      immutable ? "public, max-age=31536000, immutable" : "no-cache");
    gw_req_add_header(req, "Vary", "Accept-Encoding");
    if (inm != NULL && strstr(inm, a->etag) != NULL) {
        answer_bytes(req, 304, NULL, "", 0);
        return;
    }
    if (gz)
        gw_req_add_header(req, "Content-Encoding", "gzip");
    answer_bytes(req, 200, a->content_type, gz ? a->gz : a->data, gz ? a->gz_len : a->len);
}

static const char *type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".ico", "image/x-icon"},
        {".json", "application/json"},         {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot != NULL && i < GW_ARRAY_LEN(types); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Reads DIR + path into body (initialised, empty); false when there is no such
 * regular file. The path has no ".." segment (checked by the caller). */
static bool read_file(const char *dir, const char *path, gw_buf_t *body)
{
    char full[4096];
    struct stat sb;
    char chunk[16384];
    ssize_t n;
    int fd;

    if (snprintf(full, sizeof(full), "%s%s", dir, path) >= (int)sizeof(full))
        return false;
    fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)WEB_FILE_MAX) {
        close(fd);
        return false;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        gw_buf_append(body, chunk, (size_t)n);
    close(fd);
    return n == 0;
}

static void serve_from_dir(gw_admin_t *ad, gw_req_t *req, const char *path)
{
    gw_buf_t body;
    const char *file = path;

    if (strstr(path, "/..") != NULL || strchr(path, '\\') != NULL || strcmp(path, "/") == 0)
        file = "/index.html";
    security_headers(ad, req);
    gw_req_add_header(req, "Cache-Control", "no-cache");
    gw_buf_init(&body, WEB_FILE_MAX + 1);
    if (read_file(ad->web_dir, file, &body)) {
        gw_req_respond(req, 200, type_of(file), &body);
        return;
    }
    gw_buf_reset(&body);
    if (strncmp(path, ASSETS_DIR, strlen(ASSETS_DIR)) != 0 &&
        read_file(ad->web_dir, "/index.html", &body)) {
        gw_req_respond(req, 200, "text/html; charset=utf-8", &body);
        return;
    }
    gw_buf_dispose(&body);
    gw__admin_error(req, 404, "not_found", NULL, "No such file in %s.", ad->web_dir);
}

void gw__web_serve(gw_admin_t *ad, gw_req_t *req)
{
    const char *path = gw_req_path(req);
    const gw_web_asset_t *a;

    if (ad->web_dir != NULL) {
        serve_from_dir(ad, req, path);
        return;
    }
    a = embedded(strcmp(path, "/") == 0 ? "/index.html" : path);
    if (a != NULL) {
        serve_embedded(ad, req, a, strncmp(path, ASSETS_DIR, strlen(ASSETS_DIR)) == 0);
        return;
    }
    if (strncmp(path, ASSETS_DIR, strlen(ASSETS_DIR)) == 0) {
        security_headers(ad, req);
        gw__admin_error(req, 404, "not_found", NULL, "No such dashboard file.");
        return;
    }
    a = embedded("/index.html"); /* a page the app routes itself */
    if (a != NULL)
        serve_embedded(ad, req, a, false);
    else
        not_built(ad, req);
}
