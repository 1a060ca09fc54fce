/*
 * A key added from the dashboard is answered with the result of its first
 * check: the add request waits (off the loop's critical path, as a parked
 * request) until the health prober reports on that key, or a deadline passes
 * and the answer says the check is still running.
 */
#include <stdlib.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "core/clock.h"

/* A probe times out at 15 s; a wait ends a little after that at most (the
 * deadline is looked at on the process's 5 s tick). */
#define KEY_WAIT_MS 16000
#define KEY_WAITS_MAX 16

struct gw_admin_key_wait {
    gw_admin_t *ad;
    gw_req_t *req;
    int64_t key_id;
    json_t *key;             /* the answer's key object */
    int64_t deadline_ms;
    gw_admin_key_wait_t *next;
};

static void unlink_wait(gw_admin_key_wait_t *w)
{
    gw_admin_key_wait_t **p = &w->ad->key_waits;

    while (*p != NULL && *p != w)
        p = &(*p)->next;
    if (*p == w)
        *p = w->next;
    w->ad->nkey_waits--;
    json_decref(w->key);
    free(w);
}

static void answer(gw_admin_key_wait_t *w, bool checked)
{
    gw_req_set_handler(w->req, NULL, NULL, NULL);
    gw_respond_json(w->req, 201, json_pack("{s:O,s:b}", "key", w->key, "checked", checked));
    unlink_wait(w);
}

static void wait_abandoned(void *ctx)
{
    unlink_wait(ctx);
}

bool gw__admin_key_wait(gw_admin_t *ad, gw_req_t *req, int64_t key_id, json_t *key)
{
    gw_admin_key_wait_t *w;

    if (ad->nkey_waits >= KEY_WAITS_MAX)
        return false;
    w = gw_xcalloc(1, sizeof(*w));
    w->ad = ad;
    w->req = req;
    w->key_id = key_id;
    w->key = json_deep_copy(key);
    w->deadline_ms = gw_now_ms() + KEY_WAIT_MS;
    w->next = ad->key_waits;
    ad->key_waits = w;
    ad->nkey_waits++;
    gw_req_set_handler(req, w, wait_abandoned, NULL);
    return true;
}

void gw_admin_key_checked(gw_admin_t *ad, int64_t key_id, const char *health, const char *detail)
{
    gw_admin_key_wait_t *w = ad->key_waits;

    while (w != NULL) {
        gw_admin_key_wait_t *next = w->next;

        if (w->key_id == key_id) {
            json_object_set_new(w->key, "status", json_string(gw__admin_status_word(health)));
            json_object_set_new(w->key, "status_detail",
                                detail != NULL && detail[0] ? json_string(detail) : json_null());
            json_object_set_new(w->key, "checked_at", json_integer(gw_now_ms()));
            answer(w, true);
        }
        w = next;
    }
}

void gw_admin_tick(gw_admin_t *ad, int64_t now_ms)
{
    gw_admin_key_wait_t *w = ad->key_waits;

    gw__admin_live_tick(ad, now_ms);
    if (now_ms == INT64_MAX) /* stopping: no call may outlive the upstream client */
        gw__admin_sweep_stop(ad->sweep);
    while (w != NULL) {
        gw_admin_key_wait_t *next = w->next;

        if (now_ms >= w->deadline_ms)
            answer(w, false);
        w = next;
    }
}

void gw__admin_key_waits_free(gw_admin_t *ad)
{
    while (ad->key_waits != NULL) {
        gw_admin_key_wait_t *w = ad->key_waits;

        unlink_wait(w); /* its request went with the server */
    }
}
