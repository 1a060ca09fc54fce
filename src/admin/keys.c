/*
 * Provider keys (/api/keys): list masked with their health, add, remove. The
 * same store functions as `freellmapi keys`, run as store jobs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"

#define SECRET_MAX 8192
#define LABEL_MAX 200

typedef struct health_row {
    int64_t key_id;
    char health[32];
    char detail[200];
    int64_t at_ms;
} health_row_t;

typedef struct health_list {
    health_row_t *rows;
    size_t n, cap;
} health_list_t;

static void on_health(void *ctx, int64_t key_id, const char *health, const char *detail,
                      int64_t at_ms)
{
    health_list_t *l = ctx;
    health_row_t *r;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->rows = gw_xrealloc(l->rows, l->cap * sizeof(*l->rows));
    }
    r = &l->rows[l->n++];
    memset(r, 0, sizeof(*r));
    r->key_id = key_id;
    snprintf(r->health, sizeof(r->health), "%s", health != NULL ? health : "unknown");
    snprintf(r->detail, sizeof(r->detail), "%s", detail != NULL ? detail : "");
    r->at_ms = at_ms;
}

static const health_row_t *health_of(const health_list_t *l, int64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->rows[i].key_id == id)
            return &l->rows[i];
    return NULL;
}

/* The store's health words ("ok" from older rows) in the API's. */
const char *gw__admin_status_word(const char *health)
{
    if (health == NULL || strcmp(health, "unknown") == 0)
        return "unknown";
    if (strcmp(health, "ok") == 0)
        return "healthy";
    return health;
}

json_t *gw__admin_key_json(const gw_key_rec_t *rec, const char *health, const char *detail,
                           int64_t checked_ms)
{
    char *masked = gw_mask_secret(rec->secret);
    json_t *k = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s?,s:o,s:b}", "id", (json_int_t)rec->id,
                          "provider", rec->provider, "label", rec->label, "masked", masked,
                          "status", gw__admin_status_word(health),
                          "status_detail", detail != NULL && detail[0] ? detail : NULL,
                          "account_id", rec->account_id,
                          "checked_at", checked_ms > 0 ? json_integer(checked_ms) : json_null(),
                          "enabled", rec->enabled);

    free(masked);
    return k;
}

static void list_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_key_rec_t *recs = NULL;
    health_list_t health = {0};
    size_t n = 0;
    gw_err_t err = {0};
    json_t *data;

    if (gw_store_keys_load(st, &recs, &n, &err) != 0 ||
        gw_store_key_health_load(st, on_health, &health, &err) != 0) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The keys cannot be read: %s", err.msg);
        goto out;
    }
    data = json_array();
    for (size_t i = 0; i < n; i++) {
        const health_row_t *h = health_of(&health, recs[i].id);
        json_array_append_new(data, gw__admin_key_json(&recs[i], h ? h->health : NULL,
                                                       h ? h->detail : NULL, h ? h->at_ms : 0));
    }
    j->answer = json_pack("{s:o}", "data", data);
out:
    gw_key_recs_free(recs, n);
    free(health.rows);
}

static void add_work(gw_admin_job_t *j, gw_store_t *st)
{
    const char *provider = json_string_value(json_object_get(j->in, "provider"));
    const char *secret = json_string_value(json_object_get(j->in, "secret"));
    const char *label = json_string_value(json_object_get(j->in, "label"));
    const char *account = json_string_value(json_object_get(j->in, "account_id"));
    gw_key_rec_t rec = {0};
    int64_t id = 0;
    gw_err_t err = {0};

    if (gw_store_key_add(st, provider, secret, label != NULL ? label : "", account, &id,
                         &err) != 0) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The key could not be saved: %s", err.msg);
        return;
    }
    rec.id = id;
    rec.provider = (char *)provider;
    rec.label = (char *)(label != NULL ? label : "");
    rec.secret = (char *)secret;
    rec.account_id = (char *)account;
    rec.enabled = true;
    j->status = 201;
    j->answer = json_pack("{s:o}", "key", gw__admin_key_json(&rec, NULL, NULL, 0));
}

/* A new key is checked at once and the answer carries the result: the
 * request waits for the probe (see key_check.c). Without a probe, or with too
 * many waiting, it is answered now with "checked": false. */
static json_t *check_added(gw_admin_job_t *j)
{
    json_t *key = json_object_get(j->answer, "key");
    int64_t id = json_integer_value(json_object_get(key, "id"));

    if (j->req != NULL && gw_gateway_check_key(j->ad->gw, id) &&
        gw__admin_key_wait(j->ad, j->req, id, key)) {
        j->req = NULL; /* the wait answers it */
        return NULL;
    }
    return json_pack("{s:O,s:b}", "key", key, "checked", 0);
}

static void rm_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};
    int rc = gw_store_key_rm(st, j->id, &err);

    if (rc == GW_ENOTFOUND)
        gw__admin_fail(j, 404, "key_not_found", NULL, "No key has the id %" PRId64 ".", j->id);
    else if (rc != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The key could not be removed: %s",
                       err.msg);
    else
        j->status = 204;
}

static void update_work(gw_admin_job_t *j, gw_store_t *st)
{
    json_t *label = json_object_get(j->in, "label");
    json_t *enabled = json_object_get(j->in, "enabled");
    gw_err_t err = {0};
    int rc = gw_store_key_update(st, j->id, json_string_value(label),
                                 enabled != NULL ? json_is_true(enabled) : -1, &err);

    if (rc == GW_ENOTFOUND)
        gw__admin_fail(j, 404, "key_not_found", NULL, "No key has the id %" PRId64 ".", j->id);
    else if (rc != 0)
        gw__admin_fail(j, 500, "store_failed", NULL, "The key could not be changed: %s",
                       err.msg);
    else
        list_work(j, st); /* answers with the whole list, this key changed */
}

/* A PATCH body: a label of at most LABEL_MAX, a boolean enabled, nothing else. */
static bool update_valid(gw_req_t *req, json_t *in)
{
    json_t *label = json_object_get(in, "label");
    json_t *enabled = json_object_get(in, "enabled");

    if (label == NULL && enabled == NULL) {
        gw__admin_error(req, 400, "missing_required_parameter", NULL,
                        "Send 'label', 'enabled' or both.");
        return false;
    }
    if (label != NULL && (!json_is_string(label) || json_string_length(label) > LABEL_MAX)) {
        gw__admin_error(req, 400, "invalid_value", "label",
                        "'label' must be a string of at most %d characters.", LABEL_MAX);
        return false;
    }
    if (enabled != NULL && !json_is_boolean(enabled)) {
        gw__admin_error(req, 400, "invalid_value", "enabled", "'enabled' must be true or false.");
        return false;
    }
    return true;
}

/* Checks an add request against the catalog (on the loop: no store work). */
static bool add_valid(gw_admin_t *ad, gw_req_t *req, json_t *in)
{
    json_t *prov = json_object_get(in, "provider");
    json_t *secret = json_object_get(in, "secret");
    json_t *label = json_object_get(in, "label");
    json_t *account = json_object_get(in, "account_id");
    const gw_provider_t *p;

    if (!json_is_string(prov)) {
        gw__admin_error(req, 400, "missing_required_parameter", "provider",
                        "'provider' (a catalog id, see GET /api/providers) is required.");
        return false;
    }
    p = gw_catalog_provider(&ad->gw->cat, json_string_value(prov));
    if (p == NULL) {
        gw__admin_error(req, 400, "invalid_value", "provider", "Unknown provider '%.60s'.",
                        json_string_value(prov));
        return false;
    }
    if (!json_is_string(secret) || json_string_length(secret) == 0 ||
        json_string_length(secret) > SECRET_MAX ||
        strpbrk(json_string_value(secret), " \t\r\n") != NULL) {
        gw__admin_error(req, 400, "invalid_value", "secret",
                        "'secret' must be the key as the provider issued it (no spaces, at "
                        "most %d characters).", SECRET_MAX);
        return false;
    }
    if (label != NULL && !json_is_null(label) &&
        (!json_is_string(label) || json_string_length(label) > LABEL_MAX)) {
        gw__admin_error(req, 400, "invalid_value", "label",
                        "'label' must be a string of at most %d characters.", LABEL_MAX);
        return false;
    }
    if (p->needs_account_id && (!json_is_string(account) || json_string_length(account) == 0)) {
        gw__admin_error(req, 400, "missing_required_parameter", "account_id",
                        "%s keys need 'account_id' (its URLs hold the account id).", p->name);
        return false;
    }
    if (!p->needs_account_id && account != NULL && !json_is_null(account)) {
        gw__admin_error(req, 400, "invalid_value", "account_id",
                        "%s keys take no account id.", p->name);
        return false;
    }
    return true;
}

void gw__admin_keys(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);

    if (rest[0] != '\0') {
        char *end;
        long long id = strtoll(rest, &end, 10);

        if (id > 0 && strcmp(end, "/check") == 0) {
            if (!gw__admin_only(req, "POST"))
                return;
            if (!gw_gateway_check_key(ad->gw, id)) {
                gw__admin_error(req, 409, "check_unavailable", NULL,
                                "This key cannot be checked now: no such key in use, it is "
                                "switched off, its provider has no probe, or probes are off "
                                "(FREELLMAPI_PROBE_INTERVAL_S=0).");
                return;
            }
            gw_respond_json(req, 202, json_pack("{s:b}", "scheduled", 1));
            return;
        }
        if (*end != '\0' || id <= 0) {
            gw__admin_error(req, 404, "key_not_found", NULL, "No key has the id '%.40s'.",
                            rest);
            return;
        }
        if (strcmp(method, "PATCH") == 0) {
            json_t *in = gw__admin_body(req);

            if (in != NULL && update_valid(req, in))
                gw__admin_run(ad, req, update_work, in, id, true);
            else
                json_decref(in);
        } else if (gw__admin_only(req, "DELETE")) {
            gw__admin_run(ad, req, rm_work, NULL, id, true);
        }
        return;
    }
    if (strcmp(method, "GET") == 0) {
        gw__admin_run(ad, req, list_work, NULL, 0, false);
    } else if (gw__admin_only(req, "POST")) {
        json_t *in = gw__admin_body(req);

        if (in == NULL)
            return;
        if (!add_valid(ad, req, in)) {
            json_decref(in);
            return;
        }
        gw__admin_run_then(ad, req, add_work, in, 0, true, check_added);
    }
}
