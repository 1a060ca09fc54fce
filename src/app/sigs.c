/*
 * The thought-signature store the Gemini dialect sees (providers/dialect.h),
 * kept in the database sealed with the vault key, for 24 hours. Writes go to
 * the background writer (a write on the loop could wait on its lock); a read
 * looks at what is still queued, then at the database.
 */
#include "app/app.h"

#include "core/clock.h"
#include "core/log.h"

#define SIG_TTL_MS (24LL * 3600 * 1000)

static char *sig_get(void *ctx, const char *call_id)
{
    gw_app_t *app = ctx;
    gw_err_t err = {0};
    char *out = NULL;
    const char *queued = gw_writer_pending_sig(app->writer, call_id);
    int rc;

    if (queued != NULL)
        return gw_xstrdup(queued);
    rc = gw_store_sig_get(app->store, call_id, gw_now_ms(), &out, &err);
    if (rc != 0 && rc != GW_ENOTFOUND)
        gw_log_warn("thought signature lookup: %s", err.msg);
    return out;
}

static void sig_put(void *ctx, const char *call_id, const char *signature)
{
    gw_app_t *app = ctx;

    gw_writer_queue_sig(app->writer, call_id, signature, gw_now_ms() + SIG_TTL_MS);
}

void gw_app_sigs_init(gw_app_t *app)
{
    app->gw.sigs.get = sig_get;
    app->gw.sigs.put = sig_put;
    app->gw.sigs.ctx = app;
}
