/*
 * Store work on the thread pool (see store_job.h).
 */
#include <stdlib.h>

#include "api/store_job.h"
#include "core/log.h"

typedef struct job {
    uv_work_t work;
    const char *data_dir;
    int (*fn)(gw_store_t *st, void *ctx);
    void (*done)(void *ctx, int rc);
    void *ctx;
    int rc;
} job_t;

static void job_run(uv_work_t *w)
{
    job_t *j = w->data;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    if (gw_store_open(&st, j->data_dir, &err) != 0) {
        gw_log_warn("store job: %s", err.msg);
        j->rc = GW_EDB;
        return;
    }
    j->rc = j->fn(st, j->ctx);
    gw_store_close(st);
}

static void job_done(uv_work_t *w, int status)
{
    job_t *j = w->data;

    j->done(j->ctx, status == 0 ? j->rc : GW_ERR);
    free(j);
}

int gw_store_job(gw_gateway_t *gw, int (*work)(gw_store_t *st, void *ctx),
                 void (*done)(void *ctx, int rc), void *ctx)
{
    job_t *j = gw_xcalloc(1, sizeof(*j));

    j->work.data = j;
    j->data_dir = gw->data_dir;
    j->fn = work;
    j->done = done;
    j->ctx = ctx;
    if (gw->data_dir == NULL || uv_queue_work(gw->loop, &j->work, job_run, job_done) != 0) {
        free(j);
        return GW_ERR;
    }
    return 0;
}
