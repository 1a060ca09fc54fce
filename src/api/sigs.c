/*
 * The thought-signature store the Gemini dialect sees (providers/dialect.h),
 * kept in the database sealed with the vault key, for 24 hours. Reads and
 * writes are single-row statements on the loop thread's connection; they
 * happen only on Gemini tool calls.
 */
#include "core/clock.h"
#include "core/log.h"
#include "api/app.h"

#define SIG_TTL_MS (24LL * 3600 * 1000)

static char *sig_get(void *ctx, const char *call_id)
{
    gw_app_t *app = ctx;
    gw_err_t err = {0};
    char *out = NULL;
    int rc = gw_store_sig_get(app->store, call_id, gw_now_ms(), &out, &err);

    if (rc != 0 && rc != GW_ENOTFOUND)
        gw_log_warn("thought signature lookup: %s", err.msg);
    return out;
}

static void sig_put(void *ctx, const char *call_id, const char *signature)
{
    gw_app_t *app = ctx;
    gw_err_t err = {0};

    if (gw_store_sig_put(app->store, call_id, signature, gw_now_ms() + SIG_TTL_MS, &err) != 0)
        gw_log_warn("thought signature not stored: %s", err.msg);
}

void gw_app_sigs_init(gw_app_t *app)
{
    app->sigs.get = sig_get;
    app->sigs.put = sig_put;
    app->sigs.ctx = app;
}
