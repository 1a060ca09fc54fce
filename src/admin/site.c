/*
 * Which side of the port a request is for: /api goes to the admin API (access
 * rules first), everything else to the /v1 handlers. Also the admin API's own
 * routing table and answer helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"

#define API_PREFIX "/api"

void gw_admin_init(gw_admin_t *ad, gw_gateway_t *gw, const char *data_dir, const char *web_dir)
{
    memset(ad, 0, sizeof(*ad));
    ad->gw = gw;
    ad->data_dir = gw_xstrdup(data_dir);
    if (web_dir != NULL) {
        size_t n = strlen(web_dir);
        while (n > 1 && web_dir[n - 1] == '/')
            n--;
        ad->web_dir = gw_xstrndup(web_dir, n);
    }
    ad->version = GW_VERSION;
}

void gw_admin_dispose(gw_admin_t *ad)
{
    gw__admin_key_waits_free(ad);
    for (size_t i = 0; i < ad->nlive; i++)
        free(ad->live[i]); /* their requests went with the server */
    gw__admin_sweep_free(ad->sweep);
    free(ad->csp);
    free(ad->data_dir);
    free(ad->web_dir);
    memset(ad, 0, sizeof(*ad));
}

static bool is_admin_path(const char *path)
{
    size_t n = strlen(API_PREFIX);

    return strncmp(path, API_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/') &&
           !gw_api_owns_path(path); /* Ollama's endpoints share the prefix */
}

void gw__admin_error(gw_req_t *req, int status, const char *code, const char *param,
                     const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_respond_error(req, status, status >= 500 ? "server_error" : "invalid_request_error", code,
                     param, "%s", msg);
}

bool gw__admin_only(gw_req_t *req, const char *method)
{
    if (strcmp(gw_req_method(req), method) == 0)
        return true;
    gw_req_add_header(req, "Allow", method);
    gw__admin_error(req, 405, "method_not_allowed", NULL, "%s is not allowed on %s",
                    gw_req_method(req), gw_req_path(req));
    return false;
}

json_t *gw__admin_body(gw_req_t *req)
{
    gw_str_t raw = gw_req_body(req);
    json_error_t jerr;
    json_t *body = json_loadb(raw.ptr != NULL ? raw.ptr : "", raw.len, 0, &jerr);

    if (!json_is_object(body)) {
        json_decref(body);
        gw__admin_error(req, 400, "invalid_json", NULL,
                        "The body must be a JSON object (%s).", jerr.text[0] ? jerr.text : "");
        return NULL;
    }
    return body;
}

static const struct {
    const char *path; /* after /api; a route ending in '/' takes the rest of the path */
    void (*handler)(gw_admin_t *ad, gw_req_t *req, const char *rest);
} routes[] = {
    {"/status", gw__admin_status},
    {"/providers", gw__admin_providers},
    {"/keys", gw__admin_keys},
    {"/keys/", gw__admin_keys},
    {"/unified-key", gw__admin_unified_key},
    {"/unified-key/", gw__admin_unified_key},
    {"/models", gw__admin_models},
    {"/models/", gw__admin_models},
    {"/chain", gw__admin_chain},
    {"/session", gw__admin_session},
    {"/pin", gw__admin_pin},
    {"/settings", gw__admin_settings},
    {"/analytics", gw__admin_analytics},
    {"/live", gw__admin_live},
    {"/logs", gw__admin_logs},
    {"/logs/", gw__admin_logs},
    {"/diagnostics", gw__admin_diagnostics},
    {"/budgets", gw__admin_budgets},
    {"/quarantines", gw__admin_quarantines},
    {"/sweeps", gw__admin_sweeps},
    {"/sweeps/", gw__admin_sweeps},
};

static void admin_dispatch(gw_admin_t *ad, gw_req_t *req, const char *path)
{
    if (gw_req_body_too_big(req)) {
        gw__admin_error(req, 413, "request_too_large", NULL, "The request body is too large.");
        return;
    }
    if (!gw__admin_allowed(ad, req) || !gw__admin_same_origin(ad, req))
        return;
    /* With a PIN, everything but logging in needs a session. */
    if (gw__admin_pin_set(ad) && strcmp(path, "/session") != 0 &&
        !gw__admin_session_ok(ad, req)) {
        gw__admin_error(req, 401, "session_required", NULL,
                        "Enter the dashboard PIN first (POST /api/session).");
        return;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++) {
        size_t n = strlen(routes[i].path);
        bool prefix = routes[i].path[n - 1] == '/';

        if (prefix ? strncmp(path, routes[i].path, n) == 0 && path[n] != '\0'
                   : strcmp(path, routes[i].path) == 0) {
            routes[i].handler(ad, req, prefix ? path + n : "");
            return;
        }
    }
    gw__admin_error(req, 404, "not_found", NULL, "Unknown admin path: %s %s",
                    gw_req_method(req), gw_req_path(req));
}

/* /api/v1/...: the dashboard's own way to /v1 (the playground, the Test Lab).
 * The admin API's rules let it in; then it is a /v1 request the server
 * vouches for, so the page never holds the unified key. */
static bool playground_check(gw_admin_t *ad, gw_req_t *req)
{
    gw_req_same_origin_only(req);
    if (strcmp(gw_req_method(req), "OPTIONS") == 0) {
        gw__admin_error(req, 403, "csrf_refused", NULL, "The admin API allows no other origin.");
        return false;
    }
    if (!gw__admin_allowed(ad, req) || !gw__admin_same_origin(ad, req))
        return false;
    if (gw__admin_pin_set(ad) && !gw__admin_session_ok(ad, req)) {
        gw__admin_error(req, 401, "session_required", NULL,
                        "Enter the dashboard PIN first (POST /api/session).");
        return false;
    }
    gw_req_set_path(req, gw_req_path(req) + strlen(API_PREFIX));
    gw_req_set_authorized(req);
    return gw_api_early_check(ad->gw, req);
}

bool gw_site_early_check(void *ctx, gw_req_t *req)
{
    gw_admin_t *ad = ctx;
    const char *path = gw_req_path(req);

    if (strncmp(path, API_PREFIX "/v1/", strlen(API_PREFIX "/v1/")) == 0)
        return playground_check(ad, req);
    if (!is_admin_path(path) && !gw__web_wants(ad, req))
        return gw_api_early_check(ad->gw, req);
    gw_req_same_origin_only(req);
    /* No CORS for the admin API: a page elsewhere gets no preflight grant. */
    if (strcmp(gw_req_method(req), "OPTIONS") == 0) {
        gw__admin_error(req, 403, "csrf_refused", NULL, "The admin API allows no other origin.");
        return false;
    }
    /* Refused before the body is read. */
    return gw__admin_allowed(ad, req);
}

void gw_site_dispatch(void *ctx, gw_req_t *req)
{
    gw_admin_t *ad = ctx;
    const char *path = gw_req_path(req);

    if (is_admin_path(path))
        admin_dispatch(ad, req, path + strlen(API_PREFIX));
    else if (gw__web_wants(ad, req))
        gw__web_serve(ad, req);
    else
        gw_api_dispatch(ad->gw, req);
}
