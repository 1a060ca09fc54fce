/*
 * /api/live: every finished request as a server-sent event, pushed from the
 * moment it is logged (no polling). At most GW_ADMIN_LIVE_MAX clients; a client that
 * reads too slowly has events skipped (counted, then announced with a
 * `dropped` event once it caught up), so a burst of traffic never grows the
 * server's memory past the stream's high-water mark per client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "core/clock.h"

#define PING_EVERY_MS 15000
#define LIVE_HELLO ": live\n\n" /* comments: the client sees the stream is open */
#define LIVE_PING ": ping\n\n"

struct gw_admin_live {
    gw_admin_t *ad;
    gw_req_t *req;
    bool paused;      /* the client's buffer is full: skip until it drains */
    uint64_t dropped; /* events skipped since the last `dropped` event */
};

static void live_remove(gw_admin_live_t *l)
{
    gw_admin_t *ad = l->ad;

    for (size_t i = 0; i < ad->nlive; i++) {
        if (ad->live[i] == l) {
            ad->live[i] = ad->live[--ad->nlive];
            break;
        }
    }
    free(l);
}

static void on_abort(void *ctx)
{
    live_remove(ctx);
}

static void send_text(gw_admin_live_t *l, const char *text, size_t n)
{
    if (l->paused) {
        l->dropped++;
        return;
    }
    if (gw_req_stream_write(l->req, text, n) == GW_AGAIN)
        l->paused = true; /* queued; the next ones wait for on_drain */
}

static void on_drain(void *ctx)
{
    gw_admin_live_t *l = ctx;
    char ev[96];
    int n;

    l->paused = false;
    if (l->dropped == 0)
        return;
    n = snprintf(ev, sizeof(ev), "event: dropped\ndata: {\"count\":%llu}\n\n",
                 (unsigned long long)l->dropped);
    l->dropped = 0;
    send_text(l, ev, (size_t)n);
}

void gw__admin_live(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_admin_live_t *l;

    (void)rest;
    if (!gw__admin_only(req, "GET"))
        return;
    if (ad->nlive == GW_ADMIN_LIVE_MAX) {
        gw_req_add_header(req, "Retry-After", "5");
        gw__admin_error(req, 429, "too_many_streams", NULL,
                        "%d live views are open already; close one first.", GW_ADMIN_LIVE_MAX);
        return;
    }
    l = gw_xcalloc(1, sizeof(*l));
    l->ad = ad;
    l->req = req;
    ad->live[ad->nlive++] = l;
    gw_req_add_header(req, "Cache-Control", "no-store");
    gw_req_add_header(req, "X-Accel-Buffering", "no");
    gw_req_set_handler(req, l, on_abort, on_drain);
    gw_req_stream_start(req, 200, "text/event-stream");
    send_text(l, LIVE_HELLO, sizeof(LIVE_HELLO) - 1);
}

void gw_admin_live_publish(gw_admin_t *ad, const gw_reqlog_row_t *row)
{
    json_t *o;
    char *data;
    gw_buf_t ev;

    if (ad->nlive == 0)
        return; /* the common case costs one comparison */
    o = gw__admin_logrow_json(0, row);
    data = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (data == NULL)
        return;
    gw_buf_init(&ev, 1024 * 1024);
    gw_buf_printf(&ev, "event: request\ndata: %s\n\n", data);
    free(data);
    for (size_t i = 0; i < ad->nlive; i++)
        send_text(ad->live[i], ev.ptr, ev.len);
    gw_buf_dispose(&ev);
}

void gw__admin_live_tick(gw_admin_t *ad, int64_t now_ms)
{
    if (now_ms == INT64_MAX) { /* stopping: end every stream */
        gw__admin_live_close_all(ad);
        return;
    }
    if (now_ms - ad->live_ping_ms < PING_EVERY_MS)
        return;
    ad->live_ping_ms = now_ms;
    for (size_t i = 0; i < ad->nlive; i++)
        send_text(ad->live[i], LIVE_PING, sizeof(LIVE_PING) - 1);
}

void gw__admin_live_close_all(gw_admin_t *ad)
{
    while (ad->nlive > 0) {
        gw_admin_live_t *l = ad->live[ad->nlive - 1];

        gw_req_set_handler(l->req, NULL, NULL, NULL);
        gw_req_stream_end(l->req);
        live_remove(l);
    }
}
