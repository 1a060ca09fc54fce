/*
 * Dashboard sessions (see admin_int.h): random cookie tokens of which only the
 * SHA-256 is kept, in memory, with an idle expiry. A changed PIN ends them all.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/admin_int.h"
#include "core/clock.h"

#define SESSION_IDLE_MS (12 * 3600 * (int64_t)1000)
#define TOKEN_BYTES 32

static void token_hash(const char *token, unsigned char out[32])
{
    unsigned int n = 32;

    EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL);
}

void gw__admin_sessions_clear(gw_admin_t *ad)
{
    OPENSSL_cleanse(ad->sessions, sizeof(ad->sessions));
}

void gw_admin_pin_changed(gw_admin_t *ad, const char *hash)
{
    if (hash == NULL)
        hash = "";
    if (strcmp(hash, ad->pin_hash) == 0)
        return;
    snprintf(ad->pin_hash, sizeof(ad->pin_hash), "%s", hash);
    gw__admin_sessions_clear(ad);
}

bool gw__admin_pin_set(const gw_admin_t *ad)
{
    return ad->pin_hash[0] != '\0';
}

bool gw__admin_session_new(gw_admin_t *ad, char token[2 * TOKEN_BYTES + 1])
{
    unsigned char raw[TOKEN_BYTES];
    gw_admin_session_t *slot = &ad->sessions[0];
    int64_t now = gw_now_ms();

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return false;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));
    /* A free or expired slot, else the one idle longest. */
    for (size_t i = 0; i < GW_ADMIN_SESSIONS_MAX; i++) {
        gw_admin_session_t *s = &ad->sessions[i];
        if (s->last_ms == 0 || now - s->last_ms > SESSION_IDLE_MS) {
            slot = s;
            break;
        }
        if (s->last_ms < slot->last_ms)
            slot = s;
    }
    token_hash(token, slot->token_hash);
    slot->last_ms = now;
    return true;
}

/* The session cookie's value, or NULL. */
static bool cookie_token(gw_req_t *req, char out[2 * TOKEN_BYTES + 1])
{
    const char *c = gw_req_header(req, "Cookie");
    const char *name = GW_ADMIN_COOKIE "=";

    while (c != NULL && *c != '\0') {
        while (*c == ' ' || *c == ';')
            c++;
        if (strncmp(c, name, strlen(name)) == 0) {
            const char *v = c + strlen(name);
            size_t n = strcspn(v, "; ");
            if (n != 2 * TOKEN_BYTES)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        c = strchr(c, ';');
    }
    return false;
}

static gw_admin_session_t *find(gw_admin_t *ad, gw_req_t *req)
{
    char token[2 * TOKEN_BYTES + 1];
    unsigned char h[32];
    int64_t now = gw_now_ms();

    if (!cookie_token(req, token))
        return NULL;
    token_hash(token, h);
    for (size_t i = 0; i < GW_ADMIN_SESSIONS_MAX; i++) {
        gw_admin_session_t *s = &ad->sessions[i];
        if (s->last_ms != 0 && now - s->last_ms <= SESSION_IDLE_MS &&
            CRYPTO_memcmp(s->token_hash, h, sizeof(h)) == 0)
            return s;
    }
    return NULL;
}

bool gw__admin_session_ok(gw_admin_t *ad, gw_req_t *req)
{
    gw_admin_session_t *s = find(ad, req);

    if (s == NULL)
        return false;
    s->last_ms = gw_now_ms();
    return true;
}

void gw__admin_session_end(gw_admin_t *ad, gw_req_t *req)
{
    gw_admin_session_t *s = find(ad, req);

    if (s != NULL)
        OPENSSL_cleanse(s, sizeof(*s));
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
