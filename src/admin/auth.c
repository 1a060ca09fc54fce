/*
 * The dashboard PIN over the API: /api/session (state, log in, log out) and
 * /api/pin (set or change, clear). Wrong PINs are counted per client address
 * and in total, in the store, so a lockout survives a restart: after
 * GW_PIN_FREE_TRIES wrong PINs an address waits (pin.h), and past
 * GLOBAL_MAX wrong PINs in GLOBAL_WINDOW_MS every address does.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "core/clock.h"

#define GLOBAL_MAX 50
#define GLOBAL_WINDOW_MS (10 * 60 * (int64_t)1000)

static json_t *session_state(gw_admin_t *ad, gw_req_t *req)
{
    bool pin = gw__admin_pin_set(ad);

    return json_pack("{s:b,s:b}", "pin_set", pin, "authenticated",
                     pin ? gw__admin_session_ok(ad, req) : gw_req_local(req));
}

/* ---- wrong-PIN accounting (pool threads, the job's store connection) ---- */

static json_t *lockout_load(gw_store_t *st)
{
    char *text = NULL;
    gw_err_t err = {0};
    json_t *l = NULL;

    if (gw_store_setting_get(st, GW_PIN_LOCKOUT_SETTING, &text, &err) == 0)
        l = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(l)) {
        json_decref(l);
        l = json_pack("{s:{},s:[]}", "addrs", "recent");
    }
    return l;
}

static void lockout_save(gw_store_t *st, json_t *l)
{
    char *text = json_dumps(l, JSON_COMPACT);
    gw_err_t err = {0};

    if (text != NULL)
        gw_store_setting_set(st, GW_PIN_LOCKOUT_SETTING, text, &err);
    free(text);
}

/* Drops wrong PINs older than the global window; returns how many are left. */
static size_t recent_count(json_t *l, int64_t now)
{
    json_t *recent = json_object_get(l, "recent");
    json_t *kept = json_array();
    size_t i;
    json_t *v;

    json_array_foreach(recent, i, v) {
        if (json_integer_value(v) > now - GLOBAL_WINDOW_MS)
            json_array_append(kept, v);
    }
    json_object_set_new(l, "recent", kept);
    return json_array_size(kept);
}

static void locked(gw_admin_job_t *j, int64_t until, int64_t now, const char *why)
{
    j->retry_after_s = (until - now + 999) / 1000;
    gw__admin_fail(j, 429, "pin_locked", NULL, "%s Try again in %lld s.", why,
                   (long long)j->retry_after_s);
}

static void login_work(gw_admin_job_t *j, gw_store_t *st)
{
    const char *addr = json_string_value(json_object_get(j->in, "addr"));
    const char *pin = json_string_value(json_object_get(j->in, "pin"));
    int64_t now = gw_now_ms();
    json_t *l = lockout_load(st);
    json_t *addrs = json_object_get(l, "addrs");
    json_t *mine = json_object_get(addrs, addr);
    int fails = (int)json_integer_value(json_object_get(mine, "fails"));
    int64_t last = json_integer_value(json_object_get(mine, "at"));
    char *stored = NULL;
    gw_err_t err = {0};

    if (recent_count(l, now) >= GLOBAL_MAX) {
        locked(j, json_integer_value(json_array_get(json_object_get(l, "recent"), 0)) +
                      GLOBAL_WINDOW_MS, now, "Too many wrong PINs from everywhere.");
        goto out;
    }
    if (fails >= GW_PIN_FREE_TRIES && now < last + gw_pin_wait_ms(fails)) {
        locked(j, last + gw_pin_wait_ms(fails), now, "Too many wrong PINs.");
        goto out;
    }
    if (gw_store_setting_get(st, GW_PIN_SETTING, &stored, &err) != 0 || stored[0] == '\0') {
        gw__admin_fail(j, 409, "no_pin", NULL, "No PIN is set.");
        goto out;
    }
    if (gw_pin_verify(pin, stored)) {
        if (mine != NULL) {
            json_object_del(addrs, addr);
            lockout_save(st, l);
        }
        goto out;
    }
    fails++;
    json_object_set_new(addrs, addr, json_pack("{s:i,s:I}", "fails", fails, "at",
                                               (json_int_t)now));
    json_array_append_new(json_object_get(l, "recent"), json_integer(now));
    lockout_save(st, l);
    if (gw_pin_wait_ms(fails) > 0)
        locked(j, now + gw_pin_wait_ms(fails), now, "Wrong PIN, and too many of them.");
    else
        gw__admin_fail(j, 401, "wrong_pin", "pin", "Wrong PIN (%d more tr%s before a wait).",
                       GW_PIN_FREE_TRIES - fails, GW_PIN_FREE_TRIES - fails == 1 ? "y" : "ies");
out:
    if (stored != NULL) {
        OPENSSL_cleanse(stored, strlen(stored));
        free(stored);
    }
    json_decref(l);
}

/* ---- setting and clearing ------------------------------------------------------------ */

static void set_work(gw_admin_job_t *j, gw_store_t *st)
{
    char hash[GW_PIN_HASH_MAX];
    gw_err_t err = {0};

    if (gw_pin_hash(json_string_value(json_object_get(j->in, "pin")), hash, sizeof(hash)) != 0 ||
        gw_store_setting_set(st, GW_PIN_SETTING, hash, &err) != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The PIN could not be saved.");
}

static void clear_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};

    if (gw_store_setting_set(st, GW_PIN_SETTING, "", &err) != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The PIN could not be cleared: %s",
                       err.msg);
}

/* After a login or a new PIN (the reload has ended older sessions): this
 * client gets a fresh session. */
static json_t *logged_in(gw_admin_job_t *j)
{
    char token[65];

    if (j->req != NULL && gw__admin_session_new(j->ad, token)) {
        gw__admin_set_cookie(j->req, token);
        OPENSSL_cleanse(token, sizeof(token));
    }
    return json_pack("{s:b,s:b}", "pin_set", gw__admin_pin_set(j->ad), "authenticated", 1);
}

static json_t *cleared(gw_admin_job_t *j)
{
    if (j->req != NULL)
        gw__admin_set_cookie(j->req, NULL);
    return json_pack("{s:b,s:b}", "pin_set", 0, "authenticated", 1);
}

static const char *pin_of(gw_req_t *req, json_t *in)
{
    const char *pin = json_string_value(json_object_get(in, "pin"));

    if (pin == NULL) {
        gw__admin_error(req, 400, "missing_required_parameter", "pin", "'pin' is required.");
        return NULL;
    }
    return pin;
}

void gw__admin_session(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);
    json_t *in;
    char addr[64];

    (void)rest;
    if (strcmp(method, "GET") == 0) {
        gw_respond_json(req, 200, session_state(ad, req));
    } else if (strcmp(method, "DELETE") == 0) {
        gw__admin_session_end(ad, req);
        gw__admin_set_cookie(req, NULL);
        gw_respond_json(req, 200, json_pack("{s:b,s:b}", "pin_set", gw__admin_pin_set(ad),
                                            "authenticated", 0));
    } else if (gw__admin_only(req, "POST")) {
        if (!gw__admin_pin_set(ad)) {
            gw__admin_error(req, 409, "no_pin", NULL, "No PIN is set: nothing to log in to.");
            return;
        }
        if ((in = gw__admin_body(req)) == NULL)
            return;
        if (pin_of(req, in) == NULL) {
            json_decref(in);
            return;
        }
        gw_req_peer(req, addr, sizeof(addr));
        json_object_set_new(in, "addr", json_string(addr));
        gw__admin_run_then(ad, req, login_work, in, 0, false, logged_in);
    }
}

void gw__admin_pin(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);
    const char *pin;
    json_t *in;

    (void)rest;
    if (strcmp(method, "DELETE") == 0) {
        gw__admin_run_then(ad, req, clear_work, NULL, 0, true, cleared);
        return;
    }
    if (!gw__admin_only(req, "PUT") || (in = gw__admin_body(req)) == NULL)
        return;
    if ((pin = pin_of(req, in)) == NULL) {
        json_decref(in);
        return;
    }
    if (!gw_pin_valid(pin)) {
        json_decref(in);
        gw__admin_error(req, 400, "invalid_value", "pin",
                        "A PIN is 4 to 64 printable characters.");
        return;
    }
    gw__admin_run_then(ad, req, set_work, in, 0, true, logged_in);
}
