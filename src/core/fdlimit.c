/*
 * The open-file limit (see fdlimit.h). A common default soft limit is 1024
 * while the hard limit is far higher: left alone, about 500 concurrent
 * streams exhaust it, accept() fails with EMFILE and clients wait in the
 * listen queue.
 */
#include "core/fdlimit.h"

#include <string.h>
#include <sys/resource.h>

/* Descriptors kept for the process: SQLite (two connections with their
 * WAL and shared-memory files), the loops' epoll and signal fds, logs,
 * curl's resolver and image fetches. An eighth of the limit, 32..256. */
static uint64_t reserve_for(uint64_t soft)
{
    uint64_t r = soft / 8;
    return r < 32 ? 32 : r > 256 ? 256 : r;
}

int gw_fdlimit_raise(gw_fdlimit_t *out)
{
    struct rlimit rl;

    memset(out, 0, sizeof(*out));
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return GW_EIO;
    out->soft_before = rl.rlim_cur;
    out->hard = rl.rlim_max;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        /* An unlimited hard limit is refused for NOFILE (nr_open caps it). */
        if (want.rlim_cur == RLIM_INFINITY)
            want.rlim_cur = 1u << 20;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = want.rlim_cur;
    }
    out->soft = rl.rlim_cur;
    return 0;
}

unsigned gw_fdlimit_connections(uint64_t soft)
{
    uint64_t reserve = reserve_for(soft);
    uint64_t n = soft > reserve ? (soft - reserve) / 2 : 1;

    if (n < 1)
        n = 1;
    return n > (1u << 20) ? (1u << 20) : (unsigned)n;
}
