/*
 * The dashboard PIN over the API: /api/session (state, log in, log out) and
 * /api/pin (set or change, clear). Wrong PINs are counted in the store
 * (lockout.h), so a lockout survives a restart; one login is checked at a
 * time, so parallel guesses neither race the count nor pile up scrypt work.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "admin/lockout.h"
#include "api/respond.h"
#include "core/clock.h"

static json_t *session_state(gw_admin_t *ad, gw_req_t *req)
{
    bool pin = gw__admin_pin_set(ad);

    return json_pack("{s:b,s:b}", "pin_set", pin, "authenticated",
                     pin ? gw__admin_session_ok(ad, req) : gw_req_local(req));
}

/* ---- logging in (a pool thread, the job's store connection) ---- */

static void lockout_save(gw_store_t *st, json_t *l)
{
    char *text = json_dumps(l, JSON_COMPACT);
    gw_err_t err = {0};

    if (text != NULL)
        gw_store_setting_set(st, GW_PIN_LOCKOUT_SETTING, text, &err);
    free(text);
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
    char *text = NULL, *stored = NULL;
    gw_err_t err = {0};
    json_t *l;
    const char *why;
    int64_t until;
    int left;

    gw_store_setting_get(st, GW_PIN_LOCKOUT_SETTING, &text, &err);
    l = gw_lockout_parse(text);
    free(text);
    if ((until = gw_lockout_until(l, addr, now, &why)) > 0) {
        locked(j, until, now, why);
        goto out;
    }
    if (gw_store_setting_get(st, GW_PIN_SETTING, &stored, &err) != 0 || stored[0] == '\0') {
        gw__admin_fail(j, 409, "no_pin", NULL, "No PIN is set.");
        goto out;
    }
    if (gw_pin_verify(pin, stored)) {
        if (gw_lockout_passed(l, addr))
            lockout_save(st, l);
        goto out;
    }
    until = gw_lockout_failed(l, addr, now, &left);
    lockout_save(st, l);
    if (until > 0)
        locked(j, until, now, "Wrong PIN, and too many of them.");
    else
        gw__admin_fail(j, 401, "wrong_pin", "pin", "Wrong PIN (%d more tr%s before a wait).",
                       left, left == 1 ? "y" : "ies");
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
    char token[GW_SESSION_TOKEN_LEN + 1];

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

static void login_ended(gw_admin_job_t *j)
{
    j->ad->login_running = false;
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
    gw_admin_job_t *job;
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
        if (ad->login_running) {
            json_decref(in);
            gw_req_add_header(req, "Retry-After", "1");
            gw__admin_error(req, 429, "login_busy", NULL,
                            "Another PIN is being checked; try again in a second.");
            return;
        }
        gw_req_peer(req, addr, sizeof(addr));
        json_object_set_new(in, "addr", json_string(addr));
        if ((job = gw__admin_run_then(ad, req, login_work, in, 0, false, logged_in)) != NULL) {
            ad->login_running = true;
            job->finally = login_ended;
        }
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
