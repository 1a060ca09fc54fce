/*
 * Stable names of the routing verdict enums (see verdict.h). The names end up
 * in logs, the request log and the error corpus (tests/fixtures/errors), so
 * they never change once shipped.
 */
#include "router/verdict.h"

static const char *const fail_names[GW_FAIL__COUNT] = {
    [GW_FAIL_NONE] = "none",
    [GW_FAIL_RATE_MINUTE] = "rate_limit_minute",
    [GW_FAIL_QUOTA_PERIOD] = "quota_period",
    [GW_FAIL_QUOTA_ACCOUNT] = "quota_account",
    [GW_FAIL_PAYMENT] = "payment",
    [GW_FAIL_AUTH] = "auth",
    [GW_FAIL_MODEL_UNAVAILABLE] = "model_unavailable",
    [GW_FAIL_CONTEXT] = "context_length",
    [GW_FAIL_SERVER] = "server_error",
    [GW_FAIL_TIMEOUT] = "timeout",
    [GW_FAIL_NETWORK] = "network",
    [GW_FAIL_BAD_REQUEST] = "bad_request",
};

static const char *const health_names[] = {
    [GW_KEY_UNKNOWN] = "unknown",
    [GW_KEY_HEALTHY] = "healthy",
    [GW_KEY_RATE_LIMITED] = "rate_limited",
    [GW_KEY_INVALID] = "invalid",
    [GW_KEY_ERROR] = "error",
};

/* Returns a static string; "unknown" for an out-of-range value. */
const char *gw_fail_name(gw_fail_t f)
{
    if ((int)f < 0 || f >= GW_FAIL__COUNT)
        return "unknown";
    return fail_names[f];
}

/* Returns a static string; "unknown" for an out-of-range value. */
const char *gw_key_health_name(gw_key_health_t h)
{
    if ((int)h < 0 || (size_t)h >= GW_ARRAY_LEN(health_names))
        return "unknown";
    return health_names[h];
}
