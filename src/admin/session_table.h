/*
 * Dashboard login sessions, as a table with the clock passed in: random
 * cookie tokens of which only the SHA-256 is kept (a memory dump or a core
 * file yields no usable cookie), each ending after 12 h without use. Full,
 * a new session takes the slot idle longest.
 */
#ifndef GW_ADMIN_SESSION_TABLE_H
#define GW_ADMIN_SESSION_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#define GW_SESSIONS_MAX 32
#define GW_SESSION_IDLE_MS (12 * 3600 * (int64_t)1000)
#define GW_SESSION_TOKEN_LEN 64 /* hex characters */

typedef struct gw_session {
    unsigned char token_hash[32];
    int64_t last_ms;         /* 0: the slot is free */
} gw_session_t;

typedef struct gw_session_table {
    gw_session_t slot[GW_SESSIONS_MAX];
} gw_session_table_t;

/* A new session; its token goes in the cookie. False without randomness. */
bool gw_session_open(gw_session_table_t *t, int64_t now, char token[GW_SESSION_TOKEN_LEN + 1]);
/* Is token a live session? Its idle time starts again. */
bool gw_session_touch(gw_session_table_t *t, const char *token, int64_t now);
/* Ends token's session (nothing when it has none). */
void gw_session_close(gw_session_table_t *t, const char *token, int64_t now);
/* Ends every session (a new or cleared PIN). */
void gw_session_close_all(gw_session_table_t *t);
/* The token in a Cookie header's cookie `name`; false when absent or not
 * token-shaped. */
bool gw_session_cookie(const char *cookie_header, const char *name,
                       char token[GW_SESSION_TOKEN_LEN + 1]);

#endif
