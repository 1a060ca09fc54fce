/*
 * GET /api/status, GET /api/providers and the unified key (/api/unified-key):
 * what the loop already holds in memory, answered at once; rotation runs as a
 * store job.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"
#include "core/clock.h"

json_t *gw__admin_caps_json(unsigned caps)
{
    json_t *a = json_array();

    for (size_t i = 0; i < gw_ncap_names; i++)
        if (caps & gw_cap_names[i].bit)
            json_array_append_new(a, json_string(gw_cap_names[i].name));
    return a;
}

void gw__admin_status(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_router_t *r = &ad->gw->router;
    size_t enabled = 0;

    (void)rest;
    if (!gw__admin_only(req, "GET"))
        return;
    for (size_t i = 0; i < r->cat->nmodels; i++)
        enabled += r->enabled[i];
    gw_respond_json(req, 200,
                    json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:b}", "version", ad->version,
                              "uptime_s", (json_int_t)((gw_now_ms() - ad->gw->started_ms) / 1000),
                              "providers", (json_int_t)r->cat->nproviders, "keys",
                              (json_int_t)r->nkeys, "models", (json_int_t)r->cat->nmodels,
                              "models_enabled", (json_int_t)enabled, "pin_set",
                              gw__admin_pin_set(ad)));
}

void gw__admin_providers(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    gw_router_t *r = &ad->gw->router;
    json_t *data = json_array();

    (void)rest;
    if (!gw__admin_only(req, "GET")) {
        json_decref(data);
        return;
    }
    for (size_t i = 0; i < r->cat->nproviders; i++) {
        const gw_provider_t *p = &r->cat->providers[i];
        unsigned caps = 0;
        json_int_t keys = 0, healthy = 0;

        for (size_t k = 0; k < p->nmodels; k++)
            caps |= p->models[k]->caps;
        for (size_t k = 0; k < r->nkeys; k++) {
            if (r->keys[k]->provider != p || r->keys[k]->removed)
                continue;
            keys++;
            healthy += r->keys[k]->health == GW_KEY_HEALTHY ||
                       r->keys[k]->health == GW_KEY_UNKNOWN;
        }
        json_array_append_new(
            data, json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:s?,s:s?,s:o,s:I,s:I}", "id", p->id,
                            "name", p->name, "dialect", p->dialect, "keyless", p->keyless,
                            "needs_account_id", p->needs_account_id, "enabled", p->enabled,
                            "key_url", p->key_url, "docs_url", p->docs_url, "capabilities",
                            gw__admin_caps_json(caps), "keys", keys, "healthy_keys", healthy));
    }
    gw_respond_json(req, 200, json_pack("{s:o}", "data", data));
}

static void rotate_work(gw_admin_job_t *j, gw_store_t *st)
{
    char *key = NULL;
    gw_err_t err = {0};

    if (gw_store_unified_key(st, true, &key, &err) != 0) {
        gw__admin_fail(j, 500, "store_failed", NULL, "The key could not be rotated: %s", err.msg);
        return;
    }
    j->answer = json_pack("{s:s}", "key", key);
    OPENSSL_cleanse(key, strlen(key));
    free(key);
}

void gw__admin_unified_key(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *key = ad->gw->unified_key;

    if (rest[0] == '\0') {
        char *masked;

        if (!gw__admin_only(req, "GET"))
            return;
        masked = key != NULL ? gw_mask_secret(key) : NULL;
        gw_respond_json(req, 200, json_pack("{s:s?}", "masked", masked));
        free(masked);
    } else if (strcmp(rest, "reveal") == 0) {
        if (gw__admin_only(req, "POST"))
            gw_respond_json(req, 200, json_pack("{s:s?}", "key", key));
    } else if (strcmp(rest, "rotate") == 0) {
        if (gw__admin_only(req, "POST"))
            gw__admin_run(ad, req, rotate_work, NULL, 0, true);
    } else {
        gw__admin_error(req, 404, "not_found", NULL, "Unknown admin path: %s",
                        gw_req_path(req));
    }
}
