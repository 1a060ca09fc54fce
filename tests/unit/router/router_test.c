/* Candidate selection: chain order, capabilities, context, keys, cooldowns,
 * ledger caps, named models, sticky sessions, verdicts applied to a plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "router/router.h"
#include "store/store.h"

/* Two providers: "alpha" (keyed, 3 chat models) and "anon" (keyless, 1 model). */
static const char *const catalog_json =
    "{\"providers\":["
    "{\"id\":\"alpha\",\"base_url\":\"http://a\",\"dialect\":\"openai\",\"limits\":{},"
    " \"models\":["
    "  {\"id\":\"big\",\"kind\":\"chat\",\"capabilities\":[\"chat\",\"tools\"],"
    "   \"context_window\":1000,\"priority\":1,\"limits\":{\"rpm\":2},\"tier\":\"large\"},"
    "  {\"id\":\"eyes\",\"kind\":\"chat\",\"capabilities\":[\"chat\",\"vision\"],"
    "   \"context_window\":100000,\"priority\":2,\"limits\":{\"tpm\":6000},\"tier\":\"small\"},"
    "  {\"id\":\"off\",\"kind\":\"chat\",\"capabilities\":[\"chat\",\"tools\",\"vision\"],"
    "   \"priority\":0,\"enabled\":false},"
    "  {\"id\":\"emb\",\"kind\":\"embedding\",\"capabilities\":[\"embeddings\"],\"priority\":0}"
    " ]},"
    "{\"id\":\"anon\",\"base_url\":\"http://b\",\"dialect\":\"openai\",\"keyless\":true,"
    " \"limits\":{\"concurrent\":1},"
    " \"models\":[{\"id\":\"small\",\"kind\":\"chat\",\"capabilities\":[\"chat\"],"
    "  \"context_window\":100000,\"priority\":5,\"tier\":\"small\",\"reasoning\":true}]}"
    "]}";

typedef struct fixture {
    gw_catalog_t cat;
    gw_router_t r;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    gw_err_t err = {0};
    json_t *root = json_loads(catalog_json, 0, NULL);
    gw_key_rec_t keys[2] = {
        {.id = 1, .provider = "alpha", .label = "", .secret = "k1"},
        {.id = 2, .provider = "alpha", .label = "", .secret = "k2"},
    };

    assert_int_equal(gw_catalog_load_json(&f->cat, root, &err), 0);
    json_decref(root);
    gw_router_init(&f->r, &f->cat);
    gw_router_set_keys(&f->r, keys, 2);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    gw_router_dispose(&f->r);
    gw_catalog_dispose(&f->cat);
    free(f);
    return 0;
}

static gw_need_t chat_need(unsigned caps, int64_t prompt)
{
    gw_need_t n = {.kind = "chat", .caps = GW_CAP_CHAT | caps, .prompt_tokens = prompt,
                   .prompt_messages = 1, .prefer = GW_TIER_NONE};
    return n;
}

static void test_auto_order_and_filters(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);

    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    /* big x2 keys, eyes x2 keys, small (anonymous); "off" is disabled, "emb" is not chat. */
    assert_int_equal(p.n, 5);
    assert_string_equal(p.c[0].model->id, "big");
    assert_string_equal(p.c[2].model->id, "eyes");
    assert_string_equal(p.c[4].model->id, "small");
    assert_int_equal(p.c[4].key->id, 0);
    gw_plan_dispose(&p);

    n = chat_need(GW_CAP_VISION, 10);
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.c[0].model->id, "eyes");
    gw_plan_dispose(&p);

    n = chat_need(GW_CAP_TOOLS | GW_CAP_VISION, 10);
    assert_int_equal(gw_plan_build(&p, &f->r, "auto", &n, NULL, 0), 0);
    gw_plan_dispose(&p);

    /* Too long for big's 1000-token window. */
    n = chat_need(0, 990);
    n.max_tokens = 100;
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "eyes");
    gw_plan_dispose(&p);
}

/* A name asking for a tier: that tier's models first in chain order, then
 * the rest of the chain. */
static void test_tier_first_then_chain(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);

    n.prefer = GW_TIER_SMALL;
    gw_plan_build(&p, &f->r, "gpt-4o-mini", &n, NULL, 0);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.c[0].model->id, "eyes");
    assert_string_equal(p.c[2].model->id, "small");
    assert_string_equal(p.c[3].model->id, "big");
    gw_plan_dispose(&p);
    n.prefer = GW_TIER_REASONING;
    gw_plan_build(&p, &f->r, "o3", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "small");
    assert_string_equal(p.c[1].model->id, "big");
    gw_plan_dispose(&p);
    n.prefer = GW_TIER_LARGE;
    gw_plan_build(&p, &f->r, "gpt-5", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "big");
    assert_string_equal(p.c[2].model->id, "eyes");
    gw_plan_dispose(&p);
}

/* A tier name that is also a catalog model (GitHub's gpt-4o): that model
 * first, then its tier, then the rest; the sticky model only when the name
 * gave nothing usable. */
static void test_tier_name_that_is_a_model(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);
    unsigned char conv[32] = {7};

    n.prefer = GW_TIER_LARGE;
    gw_plan_build(&p, &f->r, "eyes", &n, NULL, 0);
    assert_int_equal(p.n, 5);
    assert_string_equal(p.c[0].model->id, "eyes");
    assert_string_equal(p.c[2].model->id, "big");
    assert_string_equal(p.c[4].model->id, "small");
    gw_plan_dispose(&p);
    /* The conversation was answered by small: a plain tier name keeps it... */
    gw_sticky_put(f->r.sticky, conv, gw_catalog_model(&f->cat, "anon", "small")->index, 0);
    gw_plan_build(&p, &f->r, "gpt-5", &n, conv, 0);
    assert_string_equal(p.c[0].model->id, "small");
    assert_string_equal(p.c[1].model->id, "big");
    gw_plan_dispose(&p);
    /* ...a name that is a usable model asks for that model first. */
    gw_plan_build(&p, &f->r, "eyes", &n, conv, 0);
    assert_string_equal(p.c[0].model->id, "eyes");
    assert_string_equal(p.c[2].model->id, "big");
    gw_plan_dispose(&p);
}

static void test_named_model_first_then_chain(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);

    gw_plan_build(&p, &f->r, "small", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "small");
    assert_string_equal(p.c[1].model->id, "big");
    gw_plan_dispose(&p);
    gw_plan_build(&p, &f->r, "alpha/eyes", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "eyes");
    gw_plan_dispose(&p);
    assert_true(gw_router_known_model(&f->r, "alpha/big"));
    assert_true(gw_router_known_model(&f->r, "off"));
    assert_false(gw_router_known_model(&f->r, "nope"));
}

/* A test of one model (only_named) gets that model's pairs and nothing else;
 * a quarantined model is skipped by everything else and reached only so. */
static void test_only_named_and_quarantine(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);

    n.only_named = true;
    gw_plan_build(&p, &f->r, "small", &n, NULL, 0);
    assert_true(p.n >= 1);
    for (size_t i = 0; i < p.n; i++)
        assert_string_equal(p.c[i].model->id, "small");
    gw_plan_dispose(&p);

    gw_router_set_quarantined(&f->r, "anon", "small", true);
    assert_false(gw_router_model_usable(&f->r, gw_router_find_model(&f->r, "anon/small")));
    n.only_named = false;
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    for (size_t i = 0; i < p.n; i++)
        assert_string_not_equal(p.c[i].model->id, "small");
    gw_plan_dispose(&p);
    gw_plan_build(&p, &f->r, "small", &n, NULL, 0); /* named, with fallover: skipped too */
    for (size_t i = 0; i < p.n; i++)
        assert_string_not_equal(p.c[i].model->id, "small");
    gw_plan_dispose(&p);
    n.only_named = true;
    gw_plan_build(&p, &f->r, "small", &n, NULL, 0); /* a re-test reaches it */
    assert_true(p.n >= 1);
    assert_string_equal(p.c[0].model->id, "small");
    gw_plan_dispose(&p);
    gw_router_reset_prefs(&f->r); /* the reload starts from none */
    assert_false(f->r.quarantined[gw_router_find_model(&f->r, "anon/small")->index]);
}

static void test_enable_and_chain_prefs(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);
    char *chain[] = {"anon/small", "alpha/eyes"};

    gw_router_set_enabled(&f->r, "alpha", "off", true);
    gw_router_set_chain(&f->r, chain, 2);
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    assert_string_equal(p.c[0].model->id, "small");
    assert_string_equal(p.c[1].model->id, "eyes");
    assert_string_equal(p.c[3].model->id, "off"); /* the rest by priority */
    gw_plan_dispose(&p);
    gw_router_reset_prefs(&f->r);
}

static void test_sticky_goes_first(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);
    gw_model_t *small = gw_catalog_model(&f->cat, "anon", "small");

    unsigned char conv[32];

    gw_sticky_digest(GW_STR("unified"), GW_STR("sys"), GW_STR("hello"), conv);
    gw_sticky_put(f->r.sticky, conv, small->index, 1000);
    gw_plan_build(&p, &f->r, "auto", &n, conv, 2000);
    assert_ptr_equal(p.c[0].model, small);
    assert_int_equal(p.n, 5); /* listed once */
    gw_plan_dispose(&p);
}

static void test_verdicts_and_limits(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);
    gw_cand_t *c;
    gw_verdict_t v = {0};
    int64_t now = 1800000000000LL;

    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    c = gw_plan_next(&p, now);
    assert_string_equal(c->model->id, "big");
    /* The key is invalid: its other pairs are skipped too. */
    v.fail = GW_FAIL_AUTH;
    v.next = GW_NEXT_KEY;
    v.key_health = GW_KEY_INVALID;
    v.name = "auth";
    gw_plan_fail(&p, c, &v, now);
    assert_int_equal(c->key->health, GW_KEY_INVALID);
    c = gw_plan_next(&p, now);
    assert_string_equal(c->model->id, "big");
    assert_int_not_equal(c->key->health, GW_KEY_INVALID);
    /* A per-minute limit with a retry time: the pair is benched, the plan notes when. */
    memset(&v, 0, sizeof(v));
    v.fail = GW_FAIL_RATE_MINUTE;
    v.next = GW_NEXT_KEY;
    v.scope = GW_SCOPE_MODEL_KEY;
    v.cooldown_until_ms = now + 30000;
    v.explicit_delay = true;
    v.name = "rate_limit_minute";
    gw_plan_fail(&p, c, &v, now);
    assert_true(p.earliest_ms > now && p.earliest_ms <= now + 30000);
    c = gw_plan_next(&p, now);
    assert_string_equal(c->model->id, "eyes");
    /* A model gone upstream: skip its other keys. */
    memset(&v, 0, sizeof(v));
    v.fail = GW_FAIL_MODEL_UNAVAILABLE;
    v.next = GW_NEXT_MODEL;
    v.name = "model_unavailable";
    gw_plan_fail(&p, c, &v, now);
    c = gw_plan_next(&p, now);
    assert_string_equal(c->model->id, "small");
    assert_null(gw_plan_next(&p, now));
    gw_plan_dispose(&p);

    /* The invalid key stays out of new plans; the benched pair is skipped at next(). */
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0);
    assert_int_equal(p.n, 3);
    c = gw_plan_next(&p, now + 1000);
    assert_string_equal(c->model->id, "eyes");
    gw_plan_dispose(&p);
}

static void test_ledger_caps_skip_pairs(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);
    gw_model_t *big = gw_catalog_model(&f->cat, "alpha", "big");
    int64_t now = 1800000000000LL;
    gw_cand_t *c;

    /* big allows 2 requests a minute per key. */
    for (int i = 0; i < 2; i++) {
        gw_ledger_charge(f->r.ledger, big, 1, 10, now);
        gw_ledger_charge(f->r.ledger, big, 2, 10, now);
    }
    gw_plan_build(&p, &f->r, "big", &n, NULL, 0);
    c = gw_plan_next(&p, now + 1000);
    assert_string_equal(c->model->id, "eyes");
    assert_int_equal(p.limited, 2);
    assert_true(p.earliest_ms > now && p.earliest_ms <= now + 61000);
    gw_plan_dispose(&p);
}

/* An empty plan tells "too long for every usable model" from "no such model". */
static void test_too_long_for_every_window(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(0, 200000);

    assert_int_equal(gw_plan_build(&p, &f->r, "auto", &n, NULL, 0), 0);
    assert_int_equal(p.too_long_window, 100000);
    gw_plan_dispose(&p);

    /* Only "big" (1000) has tools; the keyless "small" cannot count. */
    n = chat_need(GW_CAP_TOOLS, 5000);
    assert_int_equal(gw_plan_build(&p, &f->r, "auto", &n, NULL, 0), 0);
    assert_int_equal(p.too_long_window, 1000);
    gw_plan_dispose(&p);

    /* Without keys alpha's models are no excuse, and keyless "small" has no tools. */
    gw_router_set_keys(&f->r, NULL, 0);
    n = chat_need(GW_CAP_TOOLS, 5000);
    assert_int_equal(gw_plan_build(&p, &f->r, "auto", &n, NULL, 0), 0);
    assert_int_equal(p.too_long_window, 0);
    gw_plan_dispose(&p);

    /* A plan with pairs reports nothing. */
    n = chat_need(0, 5000);
    assert_true(gw_plan_build(&p, &f->r, "auto", &n, NULL, 0) > 0);
    assert_int_equal(p.too_long_window, 0);
    gw_plan_dispose(&p);
}

static void test_key_reload_keeps_health(void **state)
{
    fixture_t *f = *state;
    gw_key_rec_t keys[2] = {
        {.id = 1, .provider = "alpha", .label = "", .secret = "k1"},
        {.id = 3, .provider = "alpha", .label = "", .secret = "k3"},
    };
    gw_plan_t p;
    gw_need_t n = chat_need(0, 10);

    gw_router_key(&f->r, 1)->health = GW_KEY_RATE_LIMITED;
    gw_plan_build(&p, &f->r, "auto", &n, NULL, 0); /* holds key 2 across the reload */
    gw_router_set_keys(&f->r, keys, 2);
    assert_int_equal(gw_router_key(&f->r, 1)->health, GW_KEY_RATE_LIMITED);
    assert_null(gw_router_key(&f->r, 2));
    assert_non_null(gw_router_key(&f->r, 3));
    gw_plan_dispose(&p); /* frees the removed key */
    /* A replaced secret starts afresh. */
    keys[0].secret = "k1-new";
    gw_router_set_keys(&f->r, keys, 2);
    assert_int_equal(gw_router_key(&f->r, 1)->health, GW_KEY_UNKNOWN);
}


/* A provider capping calls in flight: its pair is busy (not limited, not
 * failed) while a call is out, and free again once it is settled or refunded. */
static void test_concurrency_cap(void **state)
{
    fixture_t *f = *state;
    gw_plan_t a, b;
    gw_need_t n = chat_need(0, 10);
    int64_t now = 1800000000000LL;
    gw_cand_t *c;

    gw_plan_build(&a, &f->r, "small", &n, NULL, now);
    c = gw_plan_next(&a, now);
    assert_string_equal(c->model->id, "small");
    gw_plan_charge(&a, c, now);
    gw_plan_build(&b, &f->r, "small", &n, NULL, now);
    n.only_named = true;
    c = gw_plan_next(&b, now);
    assert_string_equal(c->model->id, "big"); /* small is busy: the chain goes on */
    gw_plan_dispose(&b);
    gw_plan_build(&b, &f->r, "small", &n, NULL, now);
    assert_null(gw_plan_next(&b, now));
    assert_int_equal(b.busy, 1);
    assert_int_equal(b.limited, 0);
    assert_true(gw_plan_refund(&a, now + 100));
    gw_plan_rewind(&b);
    c = gw_plan_next(&b, now + 200);
    assert_non_null(c);
    assert_string_equal(c->model->id, "small");
    gw_plan_charge(&b, c, now + 200);
    assert_true(gw_plan_settle(&b, 50, now + 300));
    assert_false(gw_plan_settle(&b, 50, now + 300));
    gw_plan_dispose(&b);
    /* A plan disposed with its call out frees the slot too. */
    gw_plan_build(&b, &f->r, "small", &n, NULL, now);
    gw_plan_charge(&b, gw_plan_next(&b, now), now);
    gw_plan_dispose(&b);
    gw_plan_dispose(&a);
    gw_plan_build(&b, &f->r, "small", &n, NULL, now);
    assert_non_null(gw_plan_next(&b, now));
    gw_plan_dispose(&b);
}

/* A pair that has never answered takes one call at a time (its caps and the
 * model's tokenizer are unknown until then); after its first answer, more. */
static void test_first_contact_one_at_a_time(void **state)
{
    fixture_t *f = *state;
    gw_plan_t a, b;
    gw_need_t n = chat_need(GW_CAP_VISION, 10);
    int64_t now = 1800000000000LL;
    gw_cand_t *c, *d;

    n.only_named = true;
    gw_plan_build(&a, &f->r, "eyes", &n, NULL, now);
    c = gw_plan_next(&a, now);
    gw_plan_charge(&a, c, now);
    gw_plan_build(&b, &f->r, "eyes", &n, NULL, now);
    d = gw_plan_next(&b, now);
    assert_non_null(d);
    assert_true(d->key->id != c->key->id); /* the other key, itself unanswered */
    gw_plan_charge(&b, d, now);
    gw_plan_dispose(&b);
    gw_plan_build(&b, &f->r, "eyes", &n, NULL, now);
    d = gw_plan_next(&b, now); /* the call b abandoned freed its pair */
    assert_non_null(d);
    assert_true(d->key->id != c->key->id);
    assert_int_equal(b.busy, 1);
    gw_plan_charge(&b, d, now);
    gw_plan_t t;
    gw_plan_build(&t, &f->r, "eyes", &n, NULL, now);
    assert_null(gw_plan_next(&t, now));
    assert_int_equal(t.busy, 2);
    assert_int_equal(t.limited, 0);
    assert_true(gw_plan_settle(&a, 40, now + 500));
    gw_plan_rewind(&t);
    assert_non_null(gw_plan_next(&t, now + 600));
    gw_plan_dispose(&t);
    gw_plan_dispose(&a);
    /* Answered once: that pair now takes calls side by side. */
    gw_plan_build(&a, &f->r, "eyes", &n, NULL, now + 700);
    assert_non_null(gw_plan_next(&a, now + 700));
    gw_plan_dispose(&a);
    gw_plan_dispose(&b);
}

/* The estimate follows what a model reports: a tokenizer counting 1.5x ours
 * makes a prompt too large for eyes' 6000 TPM that our raw count would send. */
static void test_estimate_learned_per_model(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(GW_CAP_VISION, 4000);
    gw_model_t *eyes = gw_catalog_model(&f->cat, "alpha", "eyes");
    int64_t now = 1800000000000LL;
    gw_cost_t cost;

    gw_plan_build(&p, &f->r, "eyes", &n, NULL, now);
    gw_plan_cost(&p, &p.c[0], &cost);
    /* Unlearned: our count, and two tokens for rounding. */
    assert_int_equal(cost.floor, 4002);
    assert_int_equal(cost.tokens, 4002); /* what the upstream counts at admission */
    assert_non_null(gw_plan_next(&p, now));
    gw_plan_learn(&p, eyes, 6000);
    gw_plan_cost(&p, &p.c[0], &cost);
    assert_true(cost.floor >= 6000 && cost.floor <= 6003);
    gw_plan_dispose(&p);
    n.prompt_tokens = 4100;
    gw_plan_build(&p, &f->r, "eyes", &n, NULL, now);
    assert_null(gw_plan_next(&p, now));
    assert_int_equal(p.too_large, 2);
    assert_int_equal(p.too_large_cap, 6000);
    assert_int_equal(p.limited, 0);
    gw_plan_dispose(&p);
    /* A report ten times our count is not a tokenizer: ignored. */
    n.prompt_tokens = 10;
    gw_plan_build(&p, &f->r, "eyes", &n, NULL, now);
    gw_plan_learn(&p, eyes, 100);
    assert_true(f->r.est[eyes->index].w[0] > 1.49 && f->r.est[eyes->index].w[0] < 1.51);
    gw_plan_dispose(&p);
}

/* A 429 on the token window holds the pair in the ledger, for calls of that
 * size, until the stated time; no bench. A 413 rules out that size only. */
static void test_token_window_and_too_large_verdicts(void **state)
{
    fixture_t *f = *state;
    gw_plan_t p;
    gw_need_t n = chat_need(GW_CAP_VISION, 3000);
    int64_t now = 1800000000000LL;
    gw_verdict_t v = {0};
    gw_cand_t *c;

    gw_plan_build(&p, &f->r, "eyes", &n, NULL, now);
    c = gw_plan_next(&p, now);
    gw_plan_charge(&p, c, now);
    v.fail = GW_FAIL_RATE_MINUTE;
    v.next = GW_NEXT_KEY;
    v.scope = GW_SCOPE_MODEL_KEY;
    v.cooldown_until_ms = now + 5000;
    v.explicit_delay = true;
    v.token_window = true;
    gw_plan_refund(&p, now);
    gw_plan_fail(&p, c, &v, now);
    assert_int_equal(gw_cooldowns_until(f->r.cool, c->model, c->key->id, now), 0);
    assert_int_equal(p.earliest_ms, now + 5000);
    /* That key waits for 5 s; a tiny call... waits too (the window said 0 left). */
    assert_false(gw_ledger_allows(f->r.ledger, c->model, c->key->id, 10, now + 1000, NULL));
    assert_true(gw_ledger_allows(f->r.ledger, c->model, c->key->id, 3256, now + 5000, NULL));
    gw_plan_dispose(&p);

    /* 413 for 3000 on key 1: 2000 still goes there, 3000 goes to key 2. */
    gw_plan_build(&p, &f->r, "eyes", &n, NULL, now);
    c = gw_plan_next(&p, now + 6000);
    gw_plan_charge(&p, c, now + 6000);
    memset(&v, 0, sizeof(v));
    v.fail = GW_FAIL_CONTEXT;
    v.next = GW_NEXT_MODEL;
    v.too_large = true;
    v.stated_limit = 6000;
    gw_plan_refund(&p, now + 6000);
    gw_plan_fail(&p, c, &v, now + 6000);
    {
        int64_t first = c->key->id;
        gw_cand_t *d;

        gw_plan_dispose(&p);
        gw_plan_build(&p, &f->r, "eyes", &n, NULL, now + 7000);
        d = gw_plan_next(&p, now + 7000);
        assert_non_null(d);
        assert_true(d->key->id != first);
        gw_plan_dispose(&p);
        n.prompt_tokens = 2000;
        gw_plan_build(&p, &f->r, "eyes", &n, NULL, now + 7000);
        while ((d = gw_plan_next(&p, now + 7000)) != NULL && d->key->id != first)
            ;
        assert_non_null(d);
    }
    gw_plan_dispose(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auto_order_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tier_name_that_is_a_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_model_first_then_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_named_and_quarantine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tier_first_then_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_and_chain_prefs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sticky_goes_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verdicts_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_caps_skip_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long_for_every_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_reload_keeps_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_contact_one_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_estimate_learned_per_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_window_and_too_large_verdicts, setup, teardown),
    };
    return cmocka_run_group_tests_name("router/router", tests, NULL, NULL);
}
