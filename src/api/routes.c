/*
 * Routing of HTTP requests to handlers, client authentication and CORS.
 * Every /v1 path is also served without the /v1 prefix, for clients
 * configured with a bare base URL.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "api/respond.h"


/* The path without "/v1", or NULL when it is not an API path. */
static const char *api_path(const char *path)
{
    if (strncmp(path, "/v1/", 4) == 0)
        return path + 3;
    if (strcmp(path, "/v1") == 0)
        return "/";
    return path;
}

/* Generated images kept for response_format "url": their URLs carry an
 * unguessable name, so <img> tags and plain downloads need no key. */
#define IMAGE_FILES "/images/files/"

static bool is_health(const char *path)
{
    return strcmp(path, "/health") == 0 || strcmp(path, "/healthz") == 0;
}

static bool is_public(const char *path)
{
    return is_health(path) || strncmp(api_path(path), IMAGE_FILES, strlen(IMAGE_FILES)) == 0;
}

static bool is_unified_key(gw_gateway_t *gw, const char *tok)
{
    size_t n;

    if (tok == NULL || gw->unified_key == NULL)
        return false;
    n = strlen(gw->unified_key);
    return strlen(tok) == n && CRYPTO_memcmp(tok, gw->unified_key, n) == 0;
}

/* The unified key as a bearer token, or in x-api-key (Anthropic's clients). */
static bool authorized(gw_gateway_t *gw, gw_req_t *req)
{
    const char *h = gw_req_header(req, "Authorization");

    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ')
            h++;
        return is_unified_key(gw, h);
    }
    return is_unified_key(gw, gw_req_header(req, "x-api-key"));
}

/* Ollama's endpoints (under /api beside the admin API, which owns the rest). */
static const struct {
    const char *path;
    const char *method;
    void (*handler)(gw_gateway_t *gw, gw_req_t *req);
} ollama_routes[] = {
    {"/api/chat", "POST", api_ollama_chat},
    {"/api/generate", "POST", api_ollama_generate},
    {"/api/show", "POST", api_ollama_show},
    {"/api/embed", "POST", api_ollama_embed},
    {"/api/embeddings", "POST", api_ollama_embeddings},
    {"/api/tags", "GET", api_ollama_tags},
    {"/api/version", "GET", api_ollama_version},
    {"/api/ps", "GET", api_ollama_ps},
};

static int ollama_route(const char *path)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(ollama_routes); i++)
        if (strcmp(path, ollama_routes[i].path) == 0)
            return (int)i;
    return -1;
}

bool gw_api_owns_path(const char *path)
{
    return ollama_route(path) >= 0;
}

/* Which client API a path belongs to: its errors take that API's shape. */
static int client_api(const char *path)
{
    if (strncmp(path, "/messages", 9) == 0 && (path[9] == '\0' || path[9] == '/'))
        return GW_API_ANTHROPIC;
    if (ollama_route(path) >= 0)
        return GW_API_OLLAMA;
    return GW_API_OPENAI;
}

static void preflight(gw_req_t *req)
{
    gw_buf_t empty;
    const char *want = gw_req_header(req, "Access-Control-Request-Headers");

    gw_buf_init(&empty, 0);
    gw_req_add_header(req, "Access-Control-Allow-Methods", "GET, POST, OPTIONS, DELETE");
    gw_req_add_header(req, "Access-Control-Allow-Headers", want != NULL ? want : "*");
    gw_req_add_header(req, "Access-Control-Max-Age", "86400");
    gw_req_respond(req, 204, NULL, &empty);
}

/* Runs when the headers are in, before the body is read: refuses unauthenticated
 * requests without reading what they upload. */
bool gw_api_early_check(void *ctx, gw_req_t *req)
{
    gw_gateway_t *gw = ctx;
    const char *path = gw_req_path(req);

    gw_req_set_api(req, client_api(api_path(path)));
    if (strcmp(gw_req_method(req), "OPTIONS") == 0) {
        preflight(req);
        return false;
    }
    /* Health and stored images need no key, from this machine only; nor do
     * Ollama's clients, which send none. */
    if ((is_public(path) || gw_req_api(req) == GW_API_OLLAMA) && gw_req_local(req))
        return true;
    if (!gw_req_authorized(req) && !authorized(gw, req)) {
        gw_respond_error(req, 401, "invalid_request_error", "invalid_api_key", NULL,
                             "Incorrect or missing API key. Send 'Authorization: Bearer "
                             "freellmapi-...' or 'x-api-key: freellmapi-...' (see `freellmapi "
                             "unified-key`).");
        return false;
    }
    return true;
}

static void method_not_allowed(gw_req_t *req, const char *allow)
{
    gw_req_add_header(req, "Allow", allow);
    gw_respond_error(req, 405, "invalid_request_error", "method_not_allowed", NULL,
                         "%s is not allowed on %s", gw_req_method(req), gw_req_path(req));
}

static void images_generations(gw_gateway_t *gw, gw_req_t *req)
{
    api_images(gw, req, "generate");
}

static void images_edits(gw_gateway_t *gw, gw_req_t *req)
{
    api_images(gw, req, "edit");
}

static void images_variations(gw_gateway_t *gw, gw_req_t *req)
{
    api_images(gw, req, "variation");
}

static void audio_transcriptions(gw_gateway_t *gw, gw_req_t *req)
{
    api_audio_transcriptions(gw, req, false);
}

static void audio_translations(gw_gateway_t *gw, gw_req_t *req)
{
    api_audio_transcriptions(gw, req, true);
}

/* The POST endpoints beyond chat (paths after /v1). */
static const struct {
    const char *path;
    void (*handler)(gw_gateway_t *gw, gw_req_t *req);
} post_routes[] = {
    {"/embeddings", api_embeddings},
    {"/completions", api_completions},
    {"/moderations", api_moderations},
    {"/images/generations", images_generations},
    {"/images/edits", images_edits},
    {"/images/variations", images_variations},
    {"/audio/speech", api_audio_speech},
    {"/audio/transcriptions", audio_transcriptions},
    {"/audio/translations", audio_translations},
    {"/realtime/sessions", api_realtime_sessions},
    {"/realtime/client_secrets", api_realtime_client_secrets},
    {"/messages", api_messages},
    {"/responses", api_responses_create},
    {"/messages/count_tokens", api_messages_count_tokens},
};

void gw_api_dispatch(void *ctx, gw_req_t *req)
{
    gw_gateway_t *gw = ctx;
    const char *method = gw_req_method(req);
    const char *path = api_path(gw_req_path(req));
    bool get = strcmp(method, "GET") == 0;
    bool post = strcmp(method, "POST") == 0;

    if (gw_req_body_too_big(req)) {
        gw_respond_error(req, 413, "invalid_request_error", "request_too_large", NULL,
                             "Request body is larger than the limit of %zu bytes.",
                             gw->max_body);
        return;
    }
    if (is_health(gw_req_path(req))) {
        gw_respond_json(req, 200, json_pack("{s:s}", "status", gw->stopping ? "stopping" : "ok"));
        return;
    }
    if (strcmp(path, "/chat/completions") == 0) {
        if (post)
            api_chat_completions(gw, req);
        else
            method_not_allowed(req, "POST");
        return;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(post_routes); i++) {
        if (strcmp(path, post_routes[i].path) == 0) {
            if (post)
                post_routes[i].handler(gw, req);
            else
                method_not_allowed(req, "POST");
            return;
        }
    }
    if (strncmp(path, "/responses/", 11) == 0) {
        api_responses_item(gw, req, path + 11);
        return;
    }
    if (strncmp(path, IMAGE_FILES, strlen(IMAGE_FILES)) == 0) {
        if (get)
            api_image_file(gw, req, path + strlen(IMAGE_FILES));
        else
            method_not_allowed(req, "GET");
        return;
    }
    if (ollama_route(path) >= 0) {
        int i = ollama_route(path);

        if (strcmp(method, ollama_routes[i].method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(ollama_routes[i].method, "GET") == 0))
            ollama_routes[i].handler(gw, req);
        else
            method_not_allowed(req, ollama_routes[i].method);
        return;
    }
    if (strcmp(path, "/models") == 0) {
        if (get)
            api_models_list(gw, req);
        else
            method_not_allowed(req, "GET");
        return;
    }
    if (strncmp(path, "/models/", 8) == 0 && path[8] != '\0') {
        if (get)
            api_models_get(gw, req, path + 8);
        else
            method_not_allowed(req, "GET");
        return;
    }
    gw_respond_error(req, 404, "invalid_request_error", "unknown_url", NULL,
                         "Unknown request URL: %s %s", method, gw_req_path(req));
}
