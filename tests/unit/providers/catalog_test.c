/* Catalog loading: the built-in data, base-URL overrides, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "providers/catalog.h"

/* The copy compiled into the binary holds every provider of catalog/catalog.json
 * (the tests run from the repository root), each with models, an https URL and the
 * pages a user needs. */
static void test_builtin_has_every_provider(void **state)
{
    gw_catalog_t cat;
    gw_err_t err = {0};
    json_t *file = json_load_file("catalog/catalog.json", 0, NULL);
    json_t *pj;
    size_t i;
    (void)state;
    assert_non_null(file);
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    assert_int_equal(cat.nproviders, json_array_size(json_object_get(file, "providers")));
    json_array_foreach(json_object_get(file, "providers"), i, pj) {
        gw_provider_t *p = gw_catalog_provider(&cat, json_string_value(json_object_get(pj, "id")));
        assert_non_null(p);
        assert_true(p->nmodels > 0);
        assert_true(strncmp(p->base_url, "https://", 8) == 0);
        assert_non_null(p->key_url);
        assert_non_null(p->docs_url);
    }
    json_decref(file);
    /* Evaluation-only terms: off unless the user opts in. */
    assert_false(gw_catalog_provider(&cat, "nvidia")->enabled);
    assert_true(gw_catalog_provider(&cat, "groq")->enabled);
    assert_true(gw_catalog_provider(&cat, "kilo")->keyless);
    assert_false(gw_catalog_provider(&cat, "groq")->keyless);
    assert_true(gw_catalog_provider(&cat, "cloudflare")->needs_account_id);
    assert_string_equal(gw_catalog_provider(&cat, "google")->dialect, "gemini");
    assert_int_equal(gw_catalog_provider(&cat, "google")->reset, GW_RESET_PACIFIC);
    assert_int_equal(gw_catalog_provider(&cat, "cohere")->reset, GW_RESET_MONTHLY);
    gw_catalog_dispose(&cat);
}

static void test_models_and_policy(void **state)
{
    gw_catalog_t cat;
    gw_err_t err = {0};
    gw_model_t *m;
    gw_provider_t *mistral;
    (void)state;
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    m = gw_catalog_model(&cat, "groq", "llama-3.3-70b-versatile");
    assert_non_null(m);
    assert_true(m->caps & GW_CAP_CHAT);
    assert_true(m->caps & GW_CAP_TOOLS);
    assert_false(m->caps & GW_CAP_VISION);
    assert_int_equal(m->limits.rpm, 30);
    assert_int_equal(m->context_window, 131072);
    assert_ptr_equal(m->provider, gw_catalog_provider(&cat, "groq"));
    assert_ptr_equal(&cat.models[m->index], m);
    m = gw_catalog_model(&cat, "groq", "meta-llama/llama-4-scout-17b-16e-instruct");
    assert_true(m->caps & GW_CAP_VISION);
    mistral = gw_catalog_provider(&cat, "mistral");
    assert_true(gw_policy_drops(&mistral->policy, "logit_bias"));
    assert_false(gw_policy_drops(&mistral->policy, "temperature"));
    assert_string_equal(json_string_value(json_object_get(mistral->policy.rename, "seed")),
                        "random_seed");
    assert_int_equal(gw_catalog_provider(&cat, "cloudflare")->policy.default_max_tokens, 8192);
    assert_true(gw_catalog_provider(&cat, "nvidia")->policy.serial_tools);
    assert_int_equal(gw_catalog_provider(&cat, "openrouter")->limits.rpd, 50);
    /* What used to be special cases in the OpenAI dialect is catalog data. */
    assert_string_equal(json_string_value(json_object_get(
                            gw_catalog_provider(&cat, "openrouter")->policy.headers, "X-Title")),
                        "FreeLLMAPI");
    assert_string_equal(json_string_value(json_object_get(
                            gw_catalog_provider(&cat, "nvidia")->policy.embedding_fields,
                            "input_type")),
                        "query");
    assert_true(gw_strv_has(gw_catalog_provider(&cat, "kilo")->policy.declined_answers,
                            gw_catalog_provider(&cat, "kilo")->policy.ndeclined_answers, "safe"));
    assert_int_equal(gw_catalog_provider(&cat, "github")->policy.nreasoning_effort, 3);
    /* Prices and budgets for the dashboard's savings. */
    m = gw_catalog_model(&cat, "google", "gemini-3.1-pro-preview");
    assert_true(m->price_in_per_mtok > 0 && m->price_out_per_mtok > m->price_in_per_mtok);
    assert_int_equal(m->monthly_tokens, 3000000);
    gw_catalog_dispose(&cat);
}

static void test_base_url_override(void **state)
{
    gw_catalog_t cat;
    gw_err_t err = {0};
    (void)state;
    setenv("FREELLMAPI_GROQ_BASE_URL", "http://127.0.0.1:9/groq/openai/v1/", 1);
    setenv("FREELLMAPI_CLOUDFLARE_BASE_URL", "http://127.0.0.1:9/cf/{account_id}/ai/v1", 1);
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    /* The trailing slash is dropped so appended paths do not double it. */
    assert_string_equal(gw_catalog_provider(&cat, "groq")->base_url,
                        "http://127.0.0.1:9/groq/openai/v1");
    assert_string_equal(gw_catalog_provider(&cat, "cloudflare")->base_url,
                        "http://127.0.0.1:9/cf/{account_id}/ai/v1");
    assert_string_equal(gw_catalog_provider(&cat, "cerebras")->base_url,
                        "https://api.cerebras.ai/v1");
    unsetenv("FREELLMAPI_GROQ_BASE_URL");
    unsetenv("FREELLMAPI_CLOUDFLARE_BASE_URL");
    gw_catalog_dispose(&cat);
}

static void test_rejects_bad_catalogs(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"providers\":[]}",
        "{\"providers\":[{\"id\":\"x\"}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"daily_reset\":\"sometimes\",\"models\":[]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[{\"name\":\"no id\"}]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[]},{\"id\":\"x\",\"base_url\":\"http://b\",\"dialect\":\"openai\","
        "\"models\":[]}]}",
        /* A misspelt key at any level is an error, not dead data. */
        "{\"provider\":[]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"timeout\":5,\"models\":[]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"auth\":{\"heder\":\"X\"},\"models\":[]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"policy\":{\"drops\":[\"seed\"]},\"models\":[]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"limits\":{\"rpx\":1},\"models\":[]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[{\"id\":\"m\",\"contxt_window\":8}]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[{\"id\":\"m\",\"embedding\":{\"dims\":8}}]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[{\"id\":\"m\",\"price_per_mtok\":{\"in\":1}}]}]}",
        "{\"providers\":[{\"id\":\"x\",\"base_url\":\"http://a\",\"dialect\":\"openai\","
        "\"models\":[{\"id\":\"m\",\"capabilities\":[\"chat\",\"vison\"]}]}]}",
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        gw_catalog_t cat;
        gw_err_t err = {0};
        json_t *root = json_loads(bad[i], 0, NULL);
        assert_non_null(root);
        assert_int_not_equal(gw_catalog_load_json(&cat, root, &err), 0);
        assert_true(strlen(err.msg) > 0);
        json_decref(root);
    }
}

static void test_missing_file(void **state)
{
    gw_catalog_t cat;
    gw_err_t err = {0};
    (void)state;
    assert_int_not_equal(gw_catalog_load(&cat, "/nonexistent/catalog.json", &err), 0);
    assert_non_null(strstr(err.msg, "/nonexistent/catalog.json"));
}

/* Client model names asking for a tier, from the built-in catalog: exact
 * names, prefixes (the longest wins), dated snapshots; tiers of chat models. */
static void test_model_names(void **state)
{
    gw_catalog_t cat;
    gw_err_t err = {0};
    const gw_model_t *oss = NULL, *small = NULL;

    (void)state;
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-4o-mini"), GW_TIER_SMALL);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-3.5-turbo"), GW_TIER_SMALL);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-5"), GW_TIER_LARGE);
    assert_int_equal(gw_catalog_name_tier(&cat, "o3-mini"), GW_TIER_REASONING);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-4o-2024-08-06"), GW_TIER_LARGE);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-3.5-turbo-0125"), GW_TIER_SMALL);
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-4-1106-preview"), GW_TIER_LARGE);
    assert_int_equal(gw_catalog_name_tier(&cat, "claude-3-5-haiku-20241022"), GW_TIER_SMALL);
    assert_int_equal(gw_catalog_name_tier(&cat, "claude-sonnet-4-5"), GW_TIER_LARGE);
    assert_int_equal(gw_catalog_name_tier(&cat, "claude-3-7-sonnet-latest"), GW_TIER_REASONING);
    assert_int_equal(gw_catalog_name_tier(&cat, "claude-2.1"), GW_TIER_LARGE); /* claude* */
    assert_int_equal(gw_catalog_name_tier(&cat, "gpt-4o-mini-extra"), GW_TIER_NONE);
    assert_int_equal(gw_catalog_name_tier(&cat, "llama-3.3-70b-versatile"), GW_TIER_NONE);
    assert_int_equal(gw_catalog_name_tier(&cat, "-0125"), GW_TIER_NONE);
    assert_int_equal(gw_catalog_name_tier(&cat, ""), GW_TIER_NONE);
    assert_int_equal(gw_catalog_name_tier(&cat, NULL), GW_TIER_NONE);
    assert_string_equal(gw_tier_name(GW_TIER_REASONING), "reasoning");
    assert_int_equal(gw_tier_parse("huge"), GW_TIER_NONE);
    for (size_t i = 0; i < cat.nmodels; i++) {
        const gw_model_t *m = &cat.models[i];

        if (strcmp(m->kind, "chat") == 0)
            assert_true(m->tier == GW_TIER_SMALL || m->tier == GW_TIER_LARGE);
        else
            assert_int_equal(m->tier, GW_TIER_NONE);
        if (strcmp(m->id, "openai/gpt-oss-120b") == 0)
            oss = m;
        if (strcmp(m->id, "llama-3.1-8b-instant") == 0)
            small = m;
    }
    assert_non_null(oss);
    assert_non_null(small);
    assert_true(oss->reasoning && oss->tier == GW_TIER_LARGE);
    assert_true(!small->reasoning && small->tier == GW_TIER_SMALL);
    gw_catalog_dispose(&cat);
}

/* Matryoshka models cut their vectors, never grow them; fixed ones make one size. */
static void test_model_makes_size(void **state)
{
    static const struct {
        int64_t native;
        bool flexible;
        int64_t asked;
        bool makes;
    } cases[] = {
        {3072, true, 3072, true}, {3072, true, 1536, true}, {3072, true, 1, true},
        {3072, true, 3073, false}, {1536, true, 3072, false}, {1536, true, 0, false},
        {1024, false, 1024, true}, {1024, false, 512, false}, {1024, false, 1536, false},
        {0, false, 777, true}, /* unknown size: the answer is checked instead */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_model_t m = {.dimensions = cases[i].native, .flexible_dims = cases[i].flexible};
        assert_int_equal(gw_model_makes_size(&m, cases[i].asked), cases[i].makes);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_has_every_provider),
        cmocka_unit_test(test_models_and_policy),
        cmocka_unit_test(test_base_url_override),
        cmocka_unit_test(test_rejects_bad_catalogs),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_model_names),
        cmocka_unit_test(test_model_makes_size),
    };
    return cmocka_run_group_tests_name("providers/catalog", tests, NULL, NULL);
}
