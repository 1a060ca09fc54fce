/*
 * File descriptors: the process's open-file limit, raised at start, and how
 * many client connections it can carry. Each proxied request holds two
 * descriptors (the client's socket and the upstream one), and the process
 * needs some of its own (SQLite, the event loops, logs, image fetches).
 */
#ifndef GW_CORE_FDLIMIT_H
#define GW_CORE_FDLIMIT_H

#include "core/gw.h"

typedef struct gw_fdlimit {
    uint64_t soft_before; /* RLIMIT_NOFILE soft limit found at start */
    uint64_t soft;        /* after raising it */
    uint64_t hard;
} gw_fdlimit_t;

/* Raises the soft open-file limit to the hard limit (as far as the kernel
 * allows) and reports both. Returns 0, or GW_EIO when the limit cannot be
 * read (out is then zeroed). */
int gw_fdlimit_raise(gw_fdlimit_t *out);

/* The most client connections that fit in `soft` descriptors: two per
 * connection after a reserve for the process itself. At least 1. */
unsigned gw_fdlimit_connections(uint64_t soft);

#endif
