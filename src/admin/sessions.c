/*
 * Dashboard sessions on requests: the cookie in, the cookie out, over the
 * table of session_table.h. A changed PIN ends them all.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/admin_int.h"
#include "core/clock.h"

void gw__admin_sessions_clear(gw_admin_t *ad)
{
    gw_session_close_all(&ad->sessions);
}

void gw_admin_pin_changed(gw_admin_t *ad, const char *hash)
{
    if (hash == NULL)
        hash = "";
    if (strcmp(hash, ad->pin_hash) == 0)
        return;
    snprintf(ad->pin_hash, sizeof(ad->pin_hash), "%s", hash);
    gw__admin_sessions_clear(ad);
    gw__admin_live_close_all(ad); /* opened under the sessions that just ended */
}

bool gw__admin_pin_set(const gw_admin_t *ad)
{
    return ad->pin_hash[0] != '\0';
}

bool gw__admin_session_new(gw_admin_t *ad, char token[GW_SESSION_TOKEN_LEN + 1])
{
    return gw_session_open(&ad->sessions, gw_now_ms(), token);
}

bool gw__admin_session_ok(gw_admin_t *ad, gw_req_t *req)
{
    char token[GW_SESSION_TOKEN_LEN + 1];

    return gw_session_cookie(gw_req_header(req, "Cookie"), GW_ADMIN_COOKIE, token) &&
           gw_session_touch(&ad->sessions, token, gw_now_ms());
}

void gw__admin_session_end(gw_admin_t *ad, gw_req_t *req)
{
    char token[GW_SESSION_TOKEN_LEN + 1];

    if (gw_session_cookie(gw_req_header(req, "Cookie"), GW_ADMIN_COOKIE, token))
        gw_session_close(&ad->sessions, token, gw_now_ms());
}

void gw__admin_set_cookie(gw_req_t *req, const char *token)
{
    char v[256];
    const char *proto = gw_req_header(req, "X-Forwarded-Proto");
    const char *fwd = gw_req_header(req, "Forwarded");
    bool tls = (proto != NULL && strcasecmp(proto, "https") == 0) ||
               (fwd != NULL && strcasestr(fwd, "proto=https") != NULL);

    /* token NULL: the cookie is cleared. */
    snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", GW_ADMIN_COOKIE,
             token != NULL ? token : "", tls ? "; Secure" : "",
             token != NULL ? "" : "; Max-Age=0");
    gw_req_add_header(req, "Set-Cookie", v);
}
