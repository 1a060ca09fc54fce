/*
 * Reading x-ratelimit-* headers (see ratelimit_headers.h).
 */
#include "router/ratelimit_headers.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "router/retry_delay.h"

#define PREFIX "x-ratelimit-"

/* The window of "requests"/"tokens" plus an optional "-minute"/"-day" suffix
 * (rest), or -1 when the name is not one we read. */
static int window_of(const gw_provider_t *p, const char *rest)
{
    bool tokens;
    gw_rl_window_t span;

    if (strncasecmp(rest, "requests", 8) == 0) {
        tokens = false;
        rest += 8;
    } else if (strncasecmp(rest, "tokens", 6) == 0) {
        tokens = true;
        rest += 6;
    } else {
        return -1;
    }
    if (*rest == '\0')
        span = tokens ? p->policy.rl_tokens : p->policy.rl_requests;
    else if (strcasecmp(rest, "-minute") == 0)
        span = GW_RL_MINUTE;
    else if (strcasecmp(rest, "-day") == 0)
        span = GW_RL_DAY;
    else
        return -1;
    if (span == GW_RL_NONE)
        return -1;
    if (span == GW_RL_MINUTE)
        return tokens ? GW_WIN_TPM : GW_WIN_RPM;
    return tokens ? GW_WIN_TPD : GW_WIN_RPD;
}

/* A non-negative count ("1234", "1234.0"), or -1. */
static int64_t count_value(const char *v)
{
    char *end;
    double d = strtod(v, &end);

    if (end == v || d < 0 || d > 1e15)
        return -1;
    return (int64_t)d;
}

bool gw_rl_parse(const gw_provider_t *p, const gw_header_t *h, size_t n, int64_t now_ms,
                 gw_rl_seen_t *out)
{
    bool any = false;

    gw_rl_seen_init(out);
    for (size_t i = 0; i < n; i++) {
        const char *name = h[i].name;
        const char *rest;
        int w;
        int64_t v;

        if (name == NULL || h[i].value == NULL ||
            strncasecmp(name, PREFIX, sizeof(PREFIX) - 1) != 0)
            continue;
        rest = name + sizeof(PREFIX) - 1;
        if (strncasecmp(rest, "limit-", 6) == 0 && (w = window_of(p, rest + 6)) >= 0) {
            v = count_value(h[i].value);
            if (v > 0)
                out->limit[w] = v;
        } else if (strncasecmp(rest, "remaining-", 10) == 0 && (w = window_of(p, rest + 10)) >= 0) {
            v = count_value(h[i].value);
            if (v >= 0)
                out->remaining[w] = v;
        } else if (strncasecmp(rest, "reset-", 6) == 0 && (w = window_of(p, rest + 6)) >= 0) {
            out->reset_ms[w] = gw_parse_reset_value(h[i].value, now_ms);
        } else {
            continue;
        }
        any = true;
    }
    return any;
}
