/*
 * Open connections per client address, so that one remote client (a
 * slowloris, a runaway pool) cannot take every connection the server has.
 * Loopback clients are not counted: the gateway listens on localhost by
 * default, and a reverse proxy in front of it brings every client from
 * 127.0.0.1. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
#ifndef GW_HTTP_PEERS_H
#define GW_HTTP_PEERS_H

#include <sys/socket.h>

#include "core/gw.h"

typedef struct gw_peers gw_peers_t;

/* A table admitting at most per_client connections from one address
 * (0: no limit). Freed with gw_peers_free. */
gw_peers_t *gw_peers_new(unsigned per_client);
void gw_peers_free(gw_peers_t *p);

/* True when a new connection from addr is within its address's limit. */
bool gw_peers_admit(const gw_peers_t *p, const struct sockaddr *addr, socklen_t len);
/* Counts a connection that was opened (add) or closed (remove). Loopback
 * and unknown address families are ignored by both. */
void gw_peers_add(gw_peers_t *p, const struct sockaddr *addr, socklen_t len);
void gw_peers_remove(gw_peers_t *p, const struct sockaddr *addr, socklen_t len);
/* Open connections counted for addr's address (for tests and logs). */
/* True for 127.0.0.0/8 and ::1 (also IPv4-mapped); false for other or unknown addresses. */
bool gw_peers_is_loopback(const struct sockaddr *addr, socklen_t len);
/* The loopback rule of everything reachable without a key: a client is local
 * when its socket is loopback and the request carries none of Forwarded,
 * X-Forwarded-For, X-Real-IP (behind a proxy on this machine every client
 * would otherwise look local). header(ctx, name) looks a request header up. */
bool gw_peers_local_client(const struct sockaddr *addr, socklen_t len,
                           const char *(*header)(const void *ctx, const char *name),
                           const void *ctx);
unsigned gw_peers_count(const gw_peers_t *p, const struct sockaddr *addr, socklen_t len);

#endif
