/*
 * Unit tests for src/router/cooldown.c: escalation of per-minute benches
 * (90 s doubling to a 15 min cap, reset by success or by a quiet spell),
 * stated delays winning, the three scopes, forgetting a key, and the
 * errtable -> cooldowns flow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/cooldown.h"
#include "router/errtable.h"

#define T0 INT64_C(1781524800000)
#define SEC INT64_C(1000)
#define MIN (60 * SEC)

typedef struct fixture {
    gw_provider_t prov[2];
    gw_model_t model[3]; /* m1, m2 of "acme"; m3 of "other" */
    gw_cooldowns_t *c;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    f->prov[0].id = (char *)"acme";
    f->prov[1].id = (char *)"other";
    f->prov[1].index = 1;
    f->model[0].id = (char *)"m1";
    f->model[0].provider = &f->prov[0];
    f->model[1].id = (char *)"m2";
    f->model[1].provider = &f->prov[0];
    f->model[1].index = 1;
    f->model[2].id = (char *)"m1"; /* same model id under another provider */
    f->model[2].provider = &f->prov[1];
    f->model[2].index = 2;
    f->c = gw_cooldowns_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_cooldowns_free(f->c);
    free(f);
    return 0;
}

static gw_verdict_t verdict(gw_fail_t fail, gw_scope_t scope, int64_t until, bool stated)
{
    gw_verdict_t v;

    memset(&v, 0, sizeof(v));
    v.fail = fail;
    v.scope = scope;
    v.cooldown_until_ms = until;
    v.explicit_delay = stated;
    v.name = gw_fail_name(fail);
    return v;
}

static void test_escalation(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    static const int64_t steps[] = {90, 180, 360, 720, 900, 900, 900};
    int64_t t = T0;

    for (size_t i = 0; i < GW_ARRAY_LEN(steps); i++) {
        gw_verdict_t v = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, t + 90 * SEC, false);
        int64_t until = gw_cooldowns_apply(f->c, m, 1, &v, t);

        assert_int_equal(until, t + steps[i] * SEC);
        assert_int_equal(gw_cooldowns_until(f->c, m, 1, t + 1), until);
        assert_int_equal(gw_cooldowns_until(f->c, m, 1, until - 1), until);
        assert_int_equal(gw_cooldowns_until(f->c, m, 1, until), 0);
        t = until + 5 * SEC; /* the next 429 comes right after the bench */
    }
    /* A success ends the streak. */
    gw_cooldowns_success(f->c, m, 1);
    {
        gw_verdict_t v = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, t + 90 * SEC, false);

        assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, t), t + 90 * SEC);
    }
}

static void test_streak_decays(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_verdict_t v = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, T0 + 90 * SEC, false);
    int64_t t;

    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, T0), T0 + 90 * SEC);
    t = T0 + 90 * SEC + 10 * MIN;
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, t), t + 180 * SEC);
    /* Free and quiet for more than 15 minutes: start again at 90 s. */
    t = t + 180 * SEC + 16 * MIN;
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, t), t + 90 * SEC);
}

static void test_stated_delay_wins(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_verdict_t v = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, T0 + 5 * SEC, true);
    gw_verdict_t d = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, 0, false);
    int64_t t = T0 + 10 * SEC;

    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, T0), T0 + 5 * SEC);
    /* The stated 429 still counts towards the streak. */
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &d, t), t + 180 * SEC);
    /* A stated delay longer than the escalation is honoured too. */
    t += 200 * SEC;
    v.cooldown_until_ms = t + 600 * SEC;
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, t), t + 600 * SEC);
}

static void test_scopes(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m1 = &f->model[0];
    gw_model_t *m2 = &f->model[1];
    gw_model_t *o1 = &f->model[2];
    gw_verdict_t key = verdict(GW_FAIL_PAYMENT, GW_SCOPE_KEY, T0 + 86400 * SEC, false);
    gw_verdict_t model = verdict(GW_FAIL_MODEL_UNAVAILABLE, GW_SCOPE_MODEL, T0 + 600 * SEC, false);
    gw_verdict_t pair = verdict(GW_FAIL_SERVER, GW_SCOPE_MODEL_KEY, T0 + 30 * SEC, false);

    /* Key scope: every model of acme on key 1, nothing else. */
    assert_int_equal(gw_cooldowns_apply(f->c, m1, 1, &key, T0), T0 + 86400 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m1, 1, T0), T0 + 86400 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m2, 1, T0), T0 + 86400 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m1, 2, T0), 0);
    assert_int_equal(gw_cooldowns_until(f->c, o1, 1, T0), 0);

    /* Model scope: m2 on every key, not m1, not other/m1. */
    assert_int_equal(gw_cooldowns_apply(f->c, m2, 2, &model, T0), T0 + 600 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m2, 2, T0), T0 + 600 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m2, 3, T0), T0 + 600 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m1, 3, T0), 0);
    assert_int_equal(gw_cooldowns_until(f->c, o1, 3, T0), 0);

    /* Pair scope: just that pair. */
    assert_int_equal(gw_cooldowns_apply(f->c, o1, 3, &pair, T0), T0 + 30 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, o1, 3, T0), T0 + 30 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, o1, 4, T0), 0);

    /* Overlaps: the latest wins. */
    assert_int_equal(gw_cooldowns_until(f->c, m2, 1, T0), T0 + 86400 * SEC);

    /* A shorter bench does not shorten a longer one already in force. */
    pair.cooldown_until_ms = T0 + 10 * SEC;
    assert_int_equal(gw_cooldowns_apply(f->c, o1, 3, &pair, T0), T0 + 30 * SEC);
}

static void test_none_and_zero(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_verdict_t none = verdict(GW_FAIL_CONTEXT, GW_SCOPE_NONE, 0, false);
    gw_verdict_t zero = verdict(GW_FAIL_SERVER, GW_SCOPE_MODEL_KEY, 0, false);

    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &none, T0), 0);
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &zero, T0), 0);
    assert_int_equal(gw_cooldowns_until(f->c, m, 1, T0), 0);
}

static void test_forget_key(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m1 = &f->model[0];
    gw_model_t *m2 = &f->model[1];
    gw_verdict_t key = verdict(GW_FAIL_AUTH, GW_SCOPE_KEY, T0 + 3600 * SEC, false);
    gw_verdict_t pair = verdict(GW_FAIL_SERVER, GW_SCOPE_MODEL_KEY, T0 + 30 * SEC, false);
    gw_verdict_t model = verdict(GW_FAIL_MODEL_UNAVAILABLE, GW_SCOPE_MODEL, T0 + 600 * SEC, false);

    gw_cooldowns_apply(f->c, m1, 7, &key, T0);
    gw_cooldowns_apply(f->c, m1, 7, &pair, T0);
    gw_cooldowns_apply(f->c, m2, 7, &model, T0);
    gw_cooldowns_apply(f->c, m1, 8, &pair, T0);
    gw_cooldowns_forget_key(f->c, 7);
    assert_int_equal(gw_cooldowns_until(f->c, m1, 7, T0), 0);
    /* The model-wide bench is not the key's. */
    assert_int_equal(gw_cooldowns_until(f->c, m2, 7, T0), T0 + 600 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m1, 8, T0), T0 + 30 * SEC);
}

/* Lots of short benches, then much later more: old entries are swept and the
 * table still answers correctly (run under ASan for leaks). */
static void test_sweep(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_verdict_t pair = verdict(GW_FAIL_SERVER, GW_SCOPE_MODEL_KEY, T0 + 30 * SEC, false);
    int64_t later = T0 + 3600 * SEC;

    for (int64_t k = 0; k < 3000; k++)
        gw_cooldowns_apply(f->c, m, k, &pair, T0);
    assert_int_equal(gw_cooldowns_until(f->c, m, 2999, T0), T0 + 30 * SEC);
    pair.cooldown_until_ms = later + 30 * SEC;
    for (int64_t k = 3000; k < 6000; k++)
        gw_cooldowns_apply(f->c, m, k, &pair, later);
    assert_int_equal(gw_cooldowns_until(f->c, m, 5999, later), later + 30 * SEC);
    assert_int_equal(gw_cooldowns_until(f->c, m, 5, later), 0);
}

/* The real flow: errtable verdicts fed to the cooldowns. */
static void test_with_errtable(void **state)
{
    fixture_t *f = *state;
    gw_model_t *m = &f->model[0];
    gw_verdict_t v;
    gw_header_t ra[] = {{"Retry-After", "12"}};
    gw_str_t body = GW_STR("{\"error\":{\"message\":\"Rate limit exceeded\"}}");

    gw_errtable_classify(&f->prov[0], 429, body, NULL, 0, T0, &v);
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, T0), T0 + 90 * SEC);
    gw_errtable_classify(&f->prov[0], 429, body, NULL, 0, T0 + 91 * SEC, &v);
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, T0 + 91 * SEC), T0 + 271 * SEC);
    gw_errtable_classify(&f->prov[0], 429, body, ra, 1, T0 + 272 * SEC, &v);
    assert_int_equal(gw_cooldowns_apply(f->c, m, 1, &v, T0 + 272 * SEC), T0 + 284 * SEC);
}

/* ---- what the dashboard lists and releases ---------------------------------------- */

typedef struct listed {
    int n, pair, key, model;
    char reason[32];
} listed_t;

static void on_active(void *ctx, const char *provider, const char *model, int64_t key_id,
                      bool all_keys, int64_t until_ms, const char *reason)
{
    listed_t *l = ctx;

    (void)provider;
    (void)until_ms;
    l->n++;
    if (model[0] == '\0')
        l->key++;
    else if (all_keys)
        l->model += key_id == 0;
    else
        l->pair++;
    snprintf(l->reason, sizeof(l->reason), "%s", reason);
}

static void test_active_and_release(void **state)
{
    fixture_t *f = *state;
    gw_verdict_t pair = verdict(GW_FAIL_RATE_MINUTE, GW_SCOPE_MODEL_KEY, T0 + 5 * MIN, true);
    gw_verdict_t key = verdict(GW_FAIL_PAYMENT, GW_SCOPE_KEY, T0 + 60 * MIN, true);
    gw_verdict_t model = verdict(GW_FAIL_MODEL_UNAVAILABLE, GW_SCOPE_MODEL, T0 + 60 * MIN, true);
    gw_cooldown_match_t m = {0};
    listed_t l = {0};

    gw_cooldowns_apply(f->c, &f->model[0], 7, &pair, T0);
    gw_cooldowns_apply(f->c, &f->model[1], 8, &key, T0);
    gw_cooldowns_apply(f->c, &f->model[2], 7, &model, T0);
    gw_cooldowns_active(f->c, T0, on_active, &l);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.pair, 1);
    assert_int_equal(l.key, 1);
    assert_int_equal(l.model, 1);
    /* Past its end a bench is not listed (nor released). */
    memset(&l, 0, sizeof(l));
    gw_cooldowns_active(f->c, T0 + 10 * MIN, on_active, &l);
    assert_int_equal(l.n, 2);

    /* Release the pair: the model routes on that key again, the rest stays. */
    m.provider_id = "acme";
    m.model_id = "m1";
    m.match_key = true;
    m.key_id = 7;
    assert_int_equal(gw_cooldowns_release(f->c, &m, T0), 1);
    assert_int_equal(gw_cooldowns_until(f->c, &f->model[0], 7, T0), 0);
    assert_int_equal(gw_cooldowns_until(f->c, &f->model[1], 8, T0), T0 + 60 * MIN);
    assert_int_equal(gw_cooldowns_release(f->c, &m, T0), 0);
    /* The key-wide bench by its "" model; then the model-wide one by all_keys. */
    m.model_id = "";
    m.key_id = 8;
    assert_int_equal(gw_cooldowns_release(f->c, &m, T0), 1);
    assert_int_equal(gw_cooldowns_until(f->c, &f->model[1], 8, T0), 0);
    m.provider_id = "other";
    m.model_id = NULL;
    m.all_keys = true;
    assert_int_equal(gw_cooldowns_release(f->c, &m, T0), 1);
    assert_int_equal(gw_cooldowns_until(f->c, &f->model[2], 7, T0), 0);
    memset(&l, 0, sizeof(l));
    gw_cooldowns_active(f->c, T0, on_active, &l);
    assert_int_equal(l.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escalation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streak_decays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stated_delay_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_none_and_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_errtable, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
