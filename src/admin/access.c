/*
 * Who may use the admin API (see admin_int.h, docs/admin-api.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/admin_int.h"

bool gw__admin_allowed(gw_admin_t *ad, gw_req_t *req)
{
    /* Without a PIN: this machine only, and a proxied request counts as remote. */
    if (gw__admin_pin_set(ad) || gw_req_local(req))
        return true;
    gw__admin_error(req, 403, "admin_remote_forbidden", NULL,
                    "The dashboard and /api answer only this machine until a PIN is set. "
                    "Open it on the machine that runs FreeLLMAPI (a request through a proxy "
                    "counts as remote).");
    return false;
}

/* The origins this gateway serves the dashboard from. */
static bool own_origin(gw_admin_t *ad, const char *origin)
{
    const char *pub = ad->gw->public_url;
    const char *colon = pub != NULL ? strrchr(pub, ':') : NULL;
    char alt[96];

    if (pub != NULL && strcasecmp(origin, pub) == 0)
        return true;
    /* The same port named as 127.0.0.1 or localhost (the browser keeps what the user typed). */
    if (colon == NULL)
        return false;
    snprintf(alt, sizeof(alt), "http://127.0.0.1%s", colon);
    if (strcasecmp(origin, alt) == 0)
        return true;
    snprintf(alt, sizeof(alt), "http://localhost%s", colon);
    return strcasecmp(origin, alt) == 0;
}

bool gw__admin_same_origin(gw_admin_t *ad, gw_req_t *req)
{
    const char *method = gw_req_method(req);
    const char *mark = gw_req_header(req, "X-FreeLLMAPI-Admin");
    const char *origin = gw_req_header(req, "Origin");

    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return true;
    if (mark != NULL && strcmp(mark, "1") == 0 && (origin == NULL || own_origin(ad, origin)))
        return true;
    gw__admin_error(req, 403, "csrf_refused", NULL,
                    "A change to the gateway must come from its own dashboard: send "
                    "'X-FreeLLMAPI-Admin: 1' from the gateway's own origin.");
    return false;
}
