/* The background writer (see writer.h). */
#include "app/writer.h"

#include <stdlib.h>
#include <string.h>

#include "app/logq.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/analytics.h"

#define PRUNE_EVERY_MS (10 * 60 * 1000)
/* Benches that would outlive a restart are worth keeping (a spent daily quota). */
#define PERSIST_COOLDOWN_MS (5 * 60 * 1000)
/* Usage periods are at most a month long: older rows are history. */
#define USAGE_KEEP_MS (40LL * 86400000)

/* A thought signature waiting to be written. */
typedef struct sig_pending {
    char *call_id;
    char *signature;
    int64_t expires_ms;
} sig_pending_t;

typedef struct job {
    uv_work_t work;
    gw_writer_t *w;
    gw_logrow_t *rows;
    size_t nrows;
    gw_usage_row_t *usage;
    size_t nusage;
    char **usage_strs;       /* provider/model copies backing usage rows */
    size_t nstrs;
    gw_cooldown_row_t *cool; /* long cooldowns to save (all of them), or NULL */
    size_t ncool;
    bool save_cool;
    bool prune;
    int64_t prune_before_ms;
    bool sync;               /* the last write, on the loop thread */
    bool ensure_rollups;     /* build the rollups first if this database lacks them */
    int64_t config_version;  /* read by the job after its work */
    sig_pending_t *sigs;     /* read by the loop meanwhile: freed on the loop */
    size_t nsigs;
} job_t;

struct gw_writer {
    uv_loop_t *loop;
    gw_store_t *store;
    gw_router_t *router;
    gw_writer_opts_t opts;
    gw_logq_t rows;
    sig_pending_t *sigq;
    size_t nsigq, capsigq;
    int64_t usage_dirty;     /* ledger charges since the last save */
    job_t *running;          /* the job in flight, if any */
    int64_t last_prune_ms;
    uint64_t cooldown_sig;   /* fingerprint of the long cooldowns last saved */
    uint64_t dropped_total;
    bool rollups_checked;    /* the first job builds missing rollups */
    bool finishing;          /* the last write waits for the running job */
};

gw_writer_t *gw_writer_new(uv_loop_t *loop, gw_store_t *store, gw_router_t *router,
                           const gw_writer_opts_t *opts)
{
    gw_writer_t *w = gw_xcalloc(1, sizeof(*w));

    w->loop = loop;
    w->store = store;
    w->router = router;
    w->opts = *opts;
    gw_logq_init(&w->rows, opts->max_queued_rows ? opts->max_queued_rows : GW_WRITER_MAX_ROWS);
    return w;
}

static void free_sigs(sig_pending_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].call_id);
        free(v[i].signature);
    }
    free(v);
}

void gw_writer_set_retention(gw_writer_t *w, int64_t days)
{
    w->opts.reqlog_days = days;
}

void gw_writer_free(gw_writer_t *w)
{
    if (w == NULL)
        return;
    gw_logq_dispose(&w->rows);
    free_sigs(w->sigq, w->nsigq);
    free(w);
}

void gw_writer_log(gw_writer_t *w, const gw_reqlog_row_t *row)
{
    gw_logq_push(&w->rows, row);
}

void gw_writer_usage_changed(gw_writer_t *w)
{
    w->usage_dirty++;
}

void gw_writer_queue_sig(gw_writer_t *w, const char *call_id, const char *signature,
                         int64_t expires_ms)
{
    sig_pending_t *s;

    if (w->nsigq == w->capsigq) {
        w->capsigq = w->capsigq ? w->capsigq * 2 : 8;
        w->sigq = gw_xrealloc(w->sigq, w->capsigq * sizeof(*w->sigq));
    }
    s = &w->sigq[w->nsigq++];
    s->call_id = gw_xstrdup(call_id);
    s->signature = gw_xstrdup(signature);
    s->expires_ms = expires_ms;
}

static const char *find_sig(const sig_pending_t *v, size_t n, const char *call_id)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(v[i].call_id, call_id) == 0)
            return v[i].signature;
    return NULL;
}

const char *gw_writer_pending_sig(const gw_writer_t *w, const char *call_id)
{
    const char *s = find_sig(w->sigq, w->nsigq, call_id);

    if (s == NULL && w->running != NULL)
        s = find_sig(w->running->sigs, w->running->nsigs, call_id);
    return s;
}

/* ---- the job (thread pool) ------------------------------------------------ */

static void job_run(uv_work_t *work)
{
    job_t *j = work->data;
    gw_store_t *st = j->w->store;
    gw_err_t err = {0};
    bool rebuilt = false;

    /* Before the rows of this job: they add to what the rebuild counts. */
    if (j->ensure_rollups && gw_store_rollups_ensure(st, gw_now_ms(), &rebuilt, &err) != 0)
        gw_log_error("analytics rollups: %s", err.msg);
    else if (rebuilt)
        gw_log_info("analytics rollups built from the request log");
    if (j->nrows > 0) {
        gw_reqlog_row_t *rows = gw_xcalloc(j->nrows, sizeof(*rows));
        for (size_t i = 0; i < j->nrows; i++)
            rows[i] = j->rows[i].row;
        if (gw_store_reqlog_append(st, rows, j->nrows, &err) != 0)
            gw_log_error("request log: %s", err.msg);
        free(rows);
    }
    for (size_t i = 0; i < j->nsigs; i++)
        if (gw_store_sig_put(st, j->sigs[i].call_id, j->sigs[i].signature,
                             j->sigs[i].expires_ms, &err) != 0)
            gw_log_warn("thought signature not stored: %s", err.msg);
    if (j->nusage > 0 && gw_store_usage_save(st, j->usage, j->nusage, &err) != 0)
        gw_log_error("usage: %s", err.msg);
    if (j->save_cool && gw_store_cooldowns_save(st, j->cool, j->ncool, &err) != 0)
        gw_log_error("cooldowns: %s", err.msg);
    if (j->prune && gw_store_reqlog_prune(st, j->prune_before_ms, j->w->opts.reqlog_max_rows,
                                          gw_now_ms(), &err) != 0)
        gw_log_error("request log prune: %s", err.msg);
    if (j->prune && gw_store_sig_prune(st, gw_now_ms(), &err) != 0)
        gw_log_error("signature prune: %s", err.msg);
    if (j->prune && gw_store_usage_prune(st, gw_now_ms() - USAGE_KEEP_MS, &err) != 0)
        gw_log_error("usage prune: %s", err.msg);
    /* Read here, so the loop thread never waits on SQLite's locks each tick
     * (a reader can sleep while the writer checkpoints the WAL). */
    j->config_version = gw_store_config_version(st);
    /* Freed here, not on the loop: after a burst that is tens of thousands
     * of rows, milliseconds the loop would be held. */
    for (size_t i = 0; i < j->nrows; i++)
        gw_logrow_free(&j->rows[i]);
    for (size_t i = 0; i < j->ncool; i++) {
        free((char *)j->cool[i].provider);
        free((char *)j->cool[i].model);
    }
    free(j->cool);
    for (size_t i = 0; i < j->nstrs; i++)
        free(j->usage_strs[i]);
    free(j->usage_strs);
    free(j->usage);
    free(j->rows);
    j->rows = NULL;
    j->nrows = 0;
}

static void write_now(gw_writer_t *w, bool sync);

static void job_done(uv_work_t *work, int status)
{
    job_t *j = work->data;
    gw_writer_t *w = j->w;

    (void)status;
    free_sigs(j->sigs, j->nsigs);
    if (!j->sync) {
        w->running = NULL;
        if (w->finishing)
            write_now(w, true); /* what queued up while this job ran */
        else if (w->opts.on_version != NULL)
            w->opts.on_version(w->opts.ctx, j->config_version);
    }
    free(j);
}

/* ---- preparing a job (loop) ---------------------------------------------- */

static void usage_row(void *ctx, const char *provider, const char *model, int64_t key_id,
                      int64_t period_start_ms, int64_t requests, int64_t tokens)
{
    job_t *j = ctx;
    gw_usage_row_t *r;

    j->usage = gw_xrealloc(j->usage, (j->nusage + 1) * sizeof(*j->usage));
    j->usage_strs = gw_xrealloc(j->usage_strs, (j->nstrs + 2) * sizeof(char *));
    j->usage_strs[j->nstrs++] = gw_xstrdup(provider);
    j->usage_strs[j->nstrs++] = gw_xstrdup(model);
    r = &j->usage[j->nusage++];
    r->provider = j->usage_strs[j->nstrs - 2];
    r->model = j->usage_strs[j->nstrs - 1];
    r->key_id = key_id;
    r->period_start_ms = period_start_ms;
    r->requests = requests;
    r->tokens = tokens;
}

static void cool_row(void *ctx, const char *provider, const char *model, int64_t key_id,
                     int64_t until_ms)
{
    job_t *j = ctx;
    gw_cooldown_row_t *r;

    j->cool = gw_xrealloc(j->cool, (j->ncool + 1) * sizeof(*j->cool));
    r = &j->cool[j->ncool++];
    r->provider = gw_xstrdup(provider);
    r->model = gw_xstrdup(model);
    r->key_id = key_id;
    r->until_ms = until_ms;
}

/* Snapshots the long cooldowns; saved only when they differ from the last save. */
static void snapshot_cooldowns(gw_writer_t *w, job_t *j, int64_t now)
{
    uint64_t sig = 1469598103934665603ULL;

    gw_cooldowns_foreach(w->router->cool, now + PERSIST_COOLDOWN_MS, cool_row, j);
    for (size_t i = 0; i < j->ncool; i++)
        sig = (sig ^ (uint64_t)(j->cool[i].until_ms + j->cool[i].key_id)) * 1099511628211ULL;
    sig ^= j->ncool;
    j->save_cool = sig != w->cooldown_sig;
    w->cooldown_sig = sig;
}

/* Hands the queues and dirty usage to a job; sync runs it right here. */
static void write_now(gw_writer_t *w, bool sync)
{
    job_t *j;
    int64_t now = gw_now_ms();
    uint64_t dropped;

    j = gw_xcalloc(1, sizeof(*j));
    j->w = w;
    j->work.data = j;
    j->sync = sync;
    j->ensure_rollups = !w->rollups_checked;
    w->rollups_checked = true;
    j->rows = gw_logq_take(&w->rows, &j->nrows, &dropped);
    if (dropped > 0) {
        w->dropped_total += dropped;
        gw_log_warn("request log: %llu rows dropped (%llu in all): the database stayed busy "
                    "and the queue reached its limit of %zu rows",
                    (unsigned long long)dropped, (unsigned long long)w->dropped_total,
                    w->rows.max);
    }
    j->sigs = w->sigq;
    j->nsigs = w->nsigq;
    w->sigq = NULL;
    w->nsigq = w->capsigq = 0;
    if (w->usage_dirty > 0 || sync) {
        gw_ledger_foreach(w->router->ledger, now, usage_row, j);
        snapshot_cooldowns(w, j, now);
        w->usage_dirty = 0;
    }
    if (!sync && now - w->last_prune_ms >= PRUNE_EVERY_MS) {
        j->prune = true;
        j->prune_before_ms = now - w->opts.reqlog_days * 86400000;
        w->last_prune_ms = now;
    }
    if (sync) {
        job_run(&j->work);
        job_done(&j->work, 0);
        return;
    }
    w->running = j;
    uv_queue_work(w->loop, &j->work, job_run, job_done);
}

void gw_writer_tick(gw_writer_t *w)
{
    /* One job at a time; the rows wait for the next tick. A job runs every
     * tick even with nothing to write: it also reads the configuration
     * version. */
    if (w->running == NULL && !w->finishing)
        write_now(w, false);
}

void gw_writer_finish(gw_writer_t *w)
{
    if (w->finishing)
        return;
    w->finishing = true;
    if (w->running == NULL)
        write_now(w, true);
    /* else job_done writes the rest once the running job returns */
}
