/*
 * Wrong-PIN accounting (see lockout.h).
 */
#include "admin/lockout.h"
#include "admin/pin.h"

json_t *gw_lockout_parse(const char *text)
{
    json_t *l = text != NULL ? json_loads(text, 0, NULL) : NULL;

    if (json_is_object(l) && json_is_object(json_object_get(l, "addrs")) &&
        json_is_array(json_object_get(l, "recent")))
        return l;
    json_decref(l);
    return json_pack("{s:{},s:[]}", "addrs", "recent");
}

/* Drops wrong PINs older than the global window; returns how many are left. */
static size_t recent_count(json_t *l, int64_t now)
{
    json_t *recent = json_object_get(l, "recent");
    json_t *kept = json_array();
    size_t i;
    json_t *v;

    json_array_foreach(recent, i, v) {
        if (json_integer_value(v) > now - GW_LOCKOUT_GLOBAL_WINDOW_MS)
            json_array_append(kept, v);
    }
    json_object_set_new(l, "recent", kept);
    return json_array_size(kept);
}

/* Forgets addresses quiet for a day, then the oldest past the cap. */
static void prune(json_t *addrs, int64_t now)
{
    const char *addr;
    json_t *v, *tmp;

    json_object_foreach_safe(addrs, tmp, addr, v) {
        if (json_integer_value(json_object_get(v, "at")) < now - GW_LOCKOUT_FORGET_MS)
            json_object_del(addrs, addr);
    }
    while (json_object_size(addrs) >= GW_LOCKOUT_ADDRS_MAX) {
        const char *oldest = NULL;
        int64_t at = INT64_MAX;

        json_object_foreach(addrs, addr, v) {
            if (json_integer_value(json_object_get(v, "at")) < at) {
                at = json_integer_value(json_object_get(v, "at"));
                oldest = addr;
            }
        }
        json_object_del(addrs, oldest);
    }
}

int64_t gw_lockout_until(json_t *l, const char *addr, int64_t now, const char **why)
{
    json_t *mine = json_object_get(json_object_get(l, "addrs"), addr);
    int fails = (int)json_integer_value(json_object_get(mine, "fails"));
    int64_t last = json_integer_value(json_object_get(mine, "at"));

    if (recent_count(l, now) >= GW_LOCKOUT_GLOBAL_MAX) {
        *why = "Too many wrong PINs from everywhere.";
        return json_integer_value(json_array_get(json_object_get(l, "recent"), 0)) +
               GW_LOCKOUT_GLOBAL_WINDOW_MS;
    }
    if (fails >= GW_PIN_FREE_TRIES && now < last + gw_pin_wait_ms(fails)) {
        *why = "Too many wrong PINs.";
        return last + gw_pin_wait_ms(fails);
    }
    *why = NULL;
    return 0;
}

int64_t gw_lockout_failed(json_t *l, const char *addr, int64_t now, int *tries_left)
{
    json_t *addrs = json_object_get(l, "addrs");
    int fails = (int)json_integer_value(json_object_get(json_object_get(addrs, addr), "fails"));

    fails++;
    if (json_object_get(addrs, addr) == NULL)
        prune(addrs, now);
    json_object_set_new(addrs, addr, json_pack("{s:i,s:I}", "fails", fails, "at",
                                               (json_int_t)now));
    json_array_append_new(json_object_get(l, "recent"), json_integer(now));
    *tries_left = fails < GW_PIN_FREE_TRIES ? GW_PIN_FREE_TRIES - fails : 0;
    return gw_pin_wait_ms(fails) > 0 ? now + gw_pin_wait_ms(fails) : 0;
}

bool gw_lockout_passed(json_t *l, const char *addr)
{
    return json_object_del(json_object_get(l, "addrs"), addr) == 0;
}
