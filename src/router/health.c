/*
 * Key health probes (see health.h). A timer walks the keys and probes the
 * ones not checked for an interval, a couple at a time so a large key set
 * never bursts. Probe answers go through the same error table as traffic.
 */
#include "router/health.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "providers/dialect.h"
#include "router/errtable.h"
#include "router/reset.h"

#define TICK_MS 5000
#define FIRST_PROBE_MS 3000     /* new keys are checked soon after they appear */
#define PROBES_PER_TICK 2
#define PROBE_TIMEOUT_MS 15000

typedef struct seen {
    int64_t key_id;
    int64_t next_ms;           /* when to probe next */
    int64_t chat_day;          /* UTC day of the chat-probe budget */
    int chat_used;
} seen_t;

typedef struct probe {
    gw_health_t *h;
    int64_t key_id;
    gw_xfer_t *xfer;
    int status;
    gw_buf_t body;
    struct probe *next;
} probe_t;

struct gw_health {
    uv_timer_t timer;
    gw_router_t *r;
    gw_upstream_t *up;
    int64_t interval_ms;
    gw_health_change_cb cb;
    void *ctx;
    seen_t *seen;
    size_t nseen;
    probe_t *probes;
};

static seen_t *seen_for(gw_health_t *h, int64_t key_id, int64_t now)
{
    for (size_t i = 0; i < h->nseen; i++)
        if (h->seen[i].key_id == key_id)
            return &h->seen[i];
    h->seen = gw_xrealloc(h->seen, (h->nseen + 1) * sizeof(*h->seen));
    memset(&h->seen[h->nseen], 0, sizeof(seen_t));
    h->seen[h->nseen].key_id = key_id;
    h->seen[h->nseen].next_ms = now + FIRST_PROBE_MS;
    return &h->seen[h->nseen++];
}

static void unlink_probe(gw_health_t *h, probe_t *pr)
{
    for (probe_t **pp = &h->probes; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pr) {
            *pp = pr->next;
            break;
        }
    }
    gw_buf_dispose(&pr->body);
    free(pr);
}

/* A probe's result: reported even when the health stays, so "last checked" moves. */
static void set_health(gw_health_t *h, gw_rkey_t *k, gw_key_health_t hl, const char *why)
{
    if (k->health == hl) {
        if (h->cb != NULL)
            h->cb(h->ctx, k, why);
        return;
    }
    gw_log_info("key %lld (%s): %s -> %s (%s)", (long long)k->id, k->provider->id,
                gw_key_health_name(k->health), gw_key_health_name(hl), why);
    k->health = hl;
    if (h->cb != NULL)
        h->cb(h->ctx, k, why);
}

static int probe_data(void *ctx, const char *p, size_t n)
{
    probe_t *pr = ctx;
    gw_buf_append(&pr->body, p, n); /* past the ceiling the head is enough */
    return 0;
}

static int probe_headers(void *ctx, int status, const gw_header_t *hdrs, size_t n)
{
    probe_t *pr = ctx;
    (void)hdrs;
    (void)n;
    pr->status = status;
    return 0;
}

static void probe_done(void *ctx, gw_xfer_outcome_t outcome, int status)
{
    probe_t *pr = ctx;
    gw_health_t *h = pr->h;
    gw_rkey_t *k = gw_router_key(h->r, pr->key_id);
    gw_verdict_t v;

    if (k != NULL) {
        if (outcome != GW_XFER_OK) {
            set_health(h, k, GW_KEY_ERROR, outcome == GW_XFER_TIMEOUT ? "probe timed out"
                                                                      : "probe failed");
        } else if (status >= 200 && status < 300) {
            set_health(h, k, GW_KEY_HEALTHY, "probe ok");
        } else {
            gw_str_t body = {pr->body.ptr ? pr->body.ptr : "", pr->body.len};
            gw_errtable_classify(k->provider, status, body, NULL, 0, gw_now_ms(), &v);
            if (v.key_health != GW_KEY_UNKNOWN)
                set_health(h, k, v.key_health, v.name);
            else if (status >= 500)
                set_health(h, k, GW_KEY_ERROR, v.name);
        }
    }
    pr->xfer = NULL;
    unlink_probe(h, pr);
}

static const gw_xfer_cbs_t probe_cbs = {probe_headers, probe_data, probe_done};

/* A one-token chat on the provider's first enabled chat model. */
static int chat_probe(gw_health_t *h, gw_rkey_t *k, gw_http_out_t *out)
{
    const gw_dialect_t *d = gw_dialect_for(k->provider);
    gw_model_t *m = NULL;
    gw_call_t call = {0};
    gw_err_t err = {0};
    int rc;

    for (size_t i = 0; i < k->provider->nmodels && m == NULL; i++) {
        gw_model_t *c = k->provider->models[i];
        if (strcmp(c->kind, "chat") == 0 && h->r->enabled[c->index])
            m = c;
    }
    if (d == NULL || m == NULL)
        return GW_DECLINED;
    call.model = m;
    call.secret = k->secret;
    call.account_id = k->account_id;
    call.req = json_pack("{s:[{s:s,s:s}],s:i}", "messages", "role", "user", "content", "ping",
                         "max_tokens", 1);
    rc = d->chat_request(&call, out, &err);
    json_decref(call.req);
    if (rc == 0)
        gw_ledger_charge(h->r->ledger, m, k->id, 8, gw_now_ms());
    return rc;
}

static void start_probe(gw_health_t *h, gw_rkey_t *k, seen_t *s, int64_t now)
{
    const gw_dialect_t *d = gw_dialect_for(k->provider);
    gw_http_out_t out;
    gw_upstream_opts_t opts = {.first_byte_ms = PROBE_TIMEOUT_MS, .idle_ms = PROBE_TIMEOUT_MS};
    probe_t *pr;
    int rc = GW_DECLINED;

    s->next_ms = now + h->interval_ms;
    if (d == NULL || strcmp(k->provider->probe, "none") == 0)
        return;
    gw_http_out_init(&out);
    if (strcmp(k->provider->probe, "models") == 0 && d->probe_request != NULL) {
        rc = d->probe_request(k->provider, k->secret, k->account_id, &out);
    } else if (strcmp(k->provider->probe, "chat") == 0) {
        int64_t day = now / 86400000;
        if (s->chat_day != day) {
            s->chat_day = day;
            s->chat_used = 0;
        }
        if (s->chat_used < GW_PROBE_CHAT_BUDGET_PER_DAY) {
            rc = chat_probe(h, k, &out);
            if (rc == 0)
                s->chat_used++;
        }
    }
    if (rc != 0) {
        gw_http_out_dispose(&out);
        return;
    }
    pr = gw_xcalloc(1, sizeof(*pr));
    pr->h = h;
    pr->key_id = k->id;
    gw_buf_init(&pr->body, 16384);
    pr->next = h->probes;
    h->probes = pr;
    pr->xfer = gw_upstream_start(h->up, &out, &opts, &probe_cbs, pr);
    gw_http_out_dispose(&out);
    if (pr->xfer == NULL)
        unlink_probe(h, pr);
}

static void on_tick(uv_timer_t *t)
{
    gw_health_t *h = t->data;
    int64_t now = gw_now_ms();
    int started = 0;

    for (size_t i = 0; i < h->r->nkeys && started < PROBES_PER_TICK; i++) {
        gw_rkey_t *k = h->r->keys[i];
        seen_t *s;
        bool busy = false;

        if (k->removed || k->secret == NULL)
            continue;
        s = seen_for(h, k->id, now);
        for (probe_t *pr = h->probes; pr != NULL && !busy; pr = pr->next)
            busy = pr->key_id == k->id;
        if (busy || now < s->next_ms)
            continue;
        start_probe(h, k, s, now);
        started++;
    }
}

gw_health_t *gw_health_start(uv_loop_t *loop, gw_router_t *r, gw_upstream_t *up,
                             int64_t interval_ms, gw_health_change_cb cb, void *ctx)
{
    gw_health_t *h = gw_xcalloc(1, sizeof(*h));

    h->r = r;
    h->up = up;
    h->interval_ms = interval_ms;
    h->cb = cb;
    h->ctx = ctx;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_timer_start(&h->timer, on_tick, 1000, TICK_MS);
    return h;
}

int64_t gw_health_interval_ms(const gw_health_t *h)
{
    return h->interval_ms;
}

bool gw_health_check_soon(gw_health_t *h, int64_t key_id)
{
    gw_rkey_t *k = h != NULL ? gw_router_key(h->r, key_id) : NULL;

    if (k == NULL || k->removed || k->secret == NULL || strcmp(k->provider->probe, "none") == 0)
        return false;
    for (probe_t *pr = h->probes; pr != NULL; pr = pr->next)
        if (pr->key_id == key_id)
            return true; /* one is on its way */
    start_probe(h, k, seen_for(h, key_id, gw_now_ms()), gw_now_ms());
    return true;
}

static void free_health(uv_handle_t *t)
{
    gw_health_t *h = t->data;
    free(h->seen);
    free(h);
}

void gw_health_stop(gw_health_t *h)
{
    while (h->probes != NULL) {
        probe_t *pr = h->probes;
        gw_upstream_cancel(pr->xfer);
        unlink_probe(h, pr);
    }
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, free_health);
}
