/*
 * /api/settings: the request-log retention, the key-probe interval and
 * whether prompts and answers are kept in the request log. Stored
 * as settings (over the environment's values) and applied by the reload a
 * change triggers.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/respond.h"

static const struct {
    const char *field;   /* in the API */
    const char *setting; /* in the store */
    json_int_t lo, hi;
    bool zero_ok;        /* 0 is allowed below lo (probes off) */
    bool boolean;        /* true/false in the API, 1/0 in the store */
} fields[] = {
    {"log_retention_days", GW_SETTING_LOG_RETENTION_DAYS, 1, 3650, false, false},
    {"probe_interval_s", GW_SETTING_PROBE_INTERVAL_S, 60, 86400 * 7, true, false},
    {"log_content", GW_SETTING_LOG_CONTENT, 0, 1, false, true},
};

static json_t *settings_json(gw_admin_t *ad)
{
    return json_pack("{s:I,s:I,s:b,s:b}", "log_retention_days",
                     (json_int_t)ad->log_retention_days, "probe_interval_s",
                     (json_int_t)ad->probe_interval_s, "log_content", ad->gw->log_content,
                     "pin_set", gw__admin_pin_set(ad));
}

static json_t *settings_now(gw_admin_job_t *j)
{
    return settings_json(j->ad);
}

static void save_work(gw_admin_job_t *j, gw_store_t *st)
{
    gw_err_t err = {0};

    for (size_t i = 0; i < GW_ARRAY_LEN(fields); i++) {
        json_t *v = json_object_get(j->in, fields[i].field);
        char text[32];

        if (v == NULL)
            continue;
        snprintf(text, sizeof(text), "%lld",
                 json_is_boolean(v) ? (long long)json_is_true(v)
                                    : (long long)json_integer_value(v));
        if (gw_store_setting_set(st, fields[i].setting, text, &err) != 0) {
            gw__admin_fail(j, 500, "store_failed", NULL, "The settings could not be saved: %s",
                           err.msg);
            return;
        }
    }
}

/* Every key is a known field with a whole number in its range. */
static bool valid(gw_req_t *req, json_t *in)
{
    const char *key;
    json_t *v;

    if (json_object_size(in) == 0) {
        gw__admin_error(req, 400, "missing_required_parameter", NULL,
                        "Send at least one of log_retention_days, probe_interval_s, "
                        "log_content.");
        return false;
    }
    json_object_foreach(in, key, v) {
        size_t i = 0;

        while (i < GW_ARRAY_LEN(fields) && strcmp(fields[i].field, key) != 0)
            i++;
        if (i == GW_ARRAY_LEN(fields)) {
            gw__admin_error(req, 400, "unknown_parameter", NULL, "Unknown setting '%.60s'.",
                            key);
            return false;
        }
        if (fields[i].boolean) {
            if (json_is_boolean(v))
                continue;
            gw__admin_error(req, 400, "invalid_value", fields[i].field, "'%s' must be true or "
                            "false.", fields[i].field);
            return false;
        }
        if (!json_is_integer(v) ||
            !((json_integer_value(v) >= fields[i].lo && json_integer_value(v) <= fields[i].hi) ||
              (fields[i].zero_ok && json_integer_value(v) == 0))) {
            gw__admin_error(req, 400, "invalid_value", fields[i].field,
                            "'%s' must be a whole number from %lld to %lld%s.", fields[i].field,
                            (long long)fields[i].lo, (long long)fields[i].hi,
                            fields[i].zero_ok ? " (or 0: off)" : "");
            return false;
        }
    }
    return true;
}

void gw__admin_settings(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    json_t *in;

    (void)rest;
    if (strcmp(gw_req_method(req), "GET") == 0) {
        gw_respond_json(req, 200, settings_json(ad));
        return;
    }
    if (!gw__admin_only(req, "PATCH") || (in = gw__admin_body(req)) == NULL)
        return;
    if (!valid(req, in)) {
        json_decref(in);
        return;
    }
    gw__admin_run_then(ad, req, save_work, in, 0, true, settings_now);
}
