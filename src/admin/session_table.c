/*
 * Dashboard login sessions (see session_table.h).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "admin/session_table.h"

#define TOKEN_BYTES (GW_SESSION_TOKEN_LEN / 2)

static void token_hash(const char *token, unsigned char out[32])
{
    unsigned int n = 32;

    EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL);
}

bool gw_session_open(gw_session_table_t *t, int64_t now, char token[GW_SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[TOKEN_BYTES];
    gw_session_t *slot = &t->slot[0];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return false;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));
    /* A free or expired slot, else the one idle longest. */
    for (size_t i = 0; i < GW_SESSIONS_MAX; i++) {
        gw_session_t *s = &t->slot[i];
        if (s->last_ms == 0 || now - s->last_ms > GW_SESSION_IDLE_MS) {
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

static gw_session_t *find(gw_session_table_t *t, const char *token, int64_t now)
{
    unsigned char h[32];

    if (token == NULL || strlen(token) != GW_SESSION_TOKEN_LEN)
        return NULL;
    token_hash(token, h);
    for (size_t i = 0; i < GW_SESSIONS_MAX; i++) {
        gw_session_t *s = &t->slot[i];
        if (s->last_ms != 0 && now - s->last_ms <= GW_SESSION_IDLE_MS &&
            CRYPTO_memcmp(s->token_hash, h, sizeof(h)) == 0)
            return s;
    }
    return NULL;
}

bool gw_session_touch(gw_session_table_t *t, const char *token, int64_t now)
{
    gw_session_t *s = find(t, token, now);

    if (s == NULL)
        return false;
    s->last_ms = now;
    return true;
}

void gw_session_close(gw_session_table_t *t, const char *token, int64_t now)
{
    gw_session_t *s = find(t, token, now);

    if (s != NULL)
        OPENSSL_cleanse(s, sizeof(*s));
}

void gw_session_close_all(gw_session_table_t *t)
{
    OPENSSL_cleanse(t, sizeof(*t));
}

bool gw_session_cookie(const char *c, const char *name, char token[GW_SESSION_TOKEN_LEN + 1])
{
    size_t nl = strlen(name);

    while (c != NULL && *c != '\0') {
        while (*c == ' ' || *c == ';')
            c++;
        if (strncmp(c, name, nl) == 0 && c[nl] == '=') {
            const char *v = c + nl + 1;
            size_t n = strcspn(v, "; ");

            if (n != GW_SESSION_TOKEN_LEN || strspn(v, "0123456789abcdef") < n)
                return false;
            memcpy(token, v, n);
            token[n] = '\0';
            return true;
        }
        c = strchr(c, ';');
    }
    return false;
}
