/*
 * Unit tests for src/router/errtable.c. The main test walks the error corpus
 * in tests/fixtures/errors/<provider>/<case>.json (run from the repo root):
 * each file holds an upstream status, headers and body and the verdict we
 * expect, so any edit to the rule or action tables is checked against every
 * recorded provider error. The other tests cover the delay parser, transport
 * verdicts and the client-facing message extraction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/errtable.h"
#include "router/retry_delay.h"
#include "router/error_message.h"

#define FIXTURE_DIR "tests/fixtures/errors"
#define NOW_MS INT64_C(1781524800000) /* 2026-06-15T12:00:00Z, a Monday, PDT in force */
#define MIN_CASES 35

/* Provider ids and reset kinds as in catalog/catalog.json. */
static const struct {
    const char *id;
    gw_reset_t reset;
} providers[] = {
    {"google", GW_RESET_PACIFIC}, {"groq", GW_RESET_UTC},         {"cerebras", GW_RESET_UTC},
    {"sambanova", GW_RESET_UTC},  {"nvidia", GW_RESET_UTC},       {"mistral", GW_RESET_UTC},
    {"openrouter", GW_RESET_UTC}, {"github", GW_RESET_UTC},       {"cohere", GW_RESET_MONTHLY},
    {"cloudflare", GW_RESET_UTC}, {"zhipu", GW_RESET_UTC},        {"ollama", GW_RESET_UTC},
    {"kilo", GW_RESET_HOURLY},    {"pollinations", GW_RESET_HOURLY}, {"llm7", GW_RESET_HOURLY},
};

static gw_provider_t make_provider(const char *id)
{
    gw_provider_t p;

    memset(&p, 0, sizeof(p));
    p.id = (char *)id;
    p.reset = GW_RESET_UTC;
    for (size_t i = 0; i < GW_ARRAY_LEN(providers); i++)
        if (strcmp(providers[i].id, id) == 0)
            p.reset = providers[i].reset;
    return p;
}

static const char *const next_names[] = {"return", "key", "model", "provider"};
static const char *const scope_names[] = {"none", "model_key", "key", "model"};

/* ---- corpus ---------------------------------------------------------------------- */

typedef struct corpus_stats {
    int cases;
    int failures;
    int per_provider[GW_ARRAY_LEN(providers)];
    int per_fail[GW_FAIL__COUNT];
} corpus_stats_t;

/* Checks one fixture; on mismatch prints why and returns false. */
static bool check_case(const char *path, const char *prov_id, corpus_stats_t *st)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    json_t *expect, *hdrs, *body;
    gw_header_t h[32];
    size_t nh = 0;
    const char *name;
    json_t *val;
    char *dumped = NULL;
    gw_str_t b = {NULL, 0};
    gw_verdict_t v;
    gw_provider_t prov = make_provider(prov_id);
    int64_t now = NOW_MS;
    double secs, lo, hi;
    const char *want;
    bool ok = true;

    if (root == NULL) {
        print_error("%s: bad JSON: %s line %d\n", path, jerr.text, jerr.line);
        return false;
    }
    expect = json_object_get(root, "expect");
    hdrs = json_object_get(root, "headers");
    body = json_object_get(root, "body");
    if (json_is_integer(json_object_get(root, "now_ms")))
        now = json_integer_value(json_object_get(root, "now_ms"));
    json_object_foreach(hdrs, name, val) {
        if (nh < GW_ARRAY_LEN(h) && json_is_string(val)) {
            h[nh].name = name;
            h[nh].value = json_string_value(val);
            nh++;
        }
    }
    if (json_is_string(body)) {
        b.ptr = json_string_value(body);
        b.len = json_string_length(body);
    } else if (body != NULL) {
        dumped = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        b = gw_str_c(dumped);
    }
    gw_errtable_classify(&prov, (int)json_integer_value(json_object_get(root, "status")), b, h, nh,
                         now, &v);

    want = json_string_value(json_object_get(expect, "fail"));
    if (want == NULL || strcmp(want, gw_fail_name(v.fail)) != 0) {
        print_error("%s: fail %s, want %s\n", path, gw_fail_name(v.fail), want ? want : "?");
        ok = false;
    }
    if (v.name == NULL || strcmp(v.name, gw_fail_name(v.fail)) != 0) {
        print_error("%s: name %s does not match the class\n", path, v.name ? v.name : "(null)");
        ok = false;
    }
    want = json_string_value(json_object_get(expect, "next"));
    if (want == NULL || strcmp(want, next_names[v.next]) != 0) {
        print_error("%s: next %s, want %s\n", path, next_names[v.next], want ? want : "?");
        ok = false;
    }
    want = json_string_value(json_object_get(expect, "scope"));
    if (want != NULL && strcmp(want, scope_names[v.scope]) != 0) {
        print_error("%s: scope %s, want %s\n", path, scope_names[v.scope], want);
        ok = false;
    }
    want = json_string_value(json_object_get(expect, "key_health"));
    if (want == NULL || strcmp(want, gw_key_health_name(v.key_health)) != 0) {
        print_error("%s: key_health %s, want %s\n", path, gw_key_health_name(v.key_health),
                    want ? want : "?");
        ok = false;
    }
    secs = v.cooldown_until_ms == 0 ? 0 : (double)(v.cooldown_until_ms - now) / 1000.0;
    lo = json_number_value(json_object_get(expect, "cooldown_s_min"));
    hi = json_number_value(json_object_get(expect, "cooldown_s_max"));
    if (secs < lo || secs > hi) {
        print_error("%s: cooldown %.3f s, want [%g, %g]\n", path, secs, lo, hi);
        ok = false;
    }
    if (json_is_integer(json_object_get(expect, "client_status")) &&
        v.client_status != json_integer_value(json_object_get(expect, "client_status"))) {
        print_error("%s: client_status %d, want %lld\n", path, v.client_status,
                    (long long)json_integer_value(json_object_get(expect, "client_status")));
        ok = false;
    }
    if (json_is_boolean(json_object_get(expect, "explicit")) &&
        v.explicit_delay != json_is_true(json_object_get(expect, "explicit"))) {
        print_error("%s: explicit_delay %d\n", path, v.explicit_delay);
        ok = false;
    }
    if (v.cooldown_until_ms == 0 && v.scope != GW_SCOPE_NONE) {
        print_error("%s: a scope without a cooldown\n", path);
        ok = false;
    }
    if (v.next == GW_NEXT_RETURN && v.client_status != 400) {
        print_error("%s: returned to the client with %d\n", path, v.client_status);
        ok = false;
    }
    st->per_fail[v.fail]++;
    free(dumped);
    json_decref(root);
    return ok;
}

static void walk_provider(const char *dir, const char *prov_id, corpus_stats_t *st)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char path[1024];

        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        st->cases++;
        for (size_t i = 0; i < GW_ARRAY_LEN(providers); i++)
            if (strcmp(providers[i].id, prov_id) == 0)
                st->per_provider[i]++;
        if (!check_case(path, prov_id, st))
            st->failures++;
    }
    closedir(d);
}

static void test_corpus(void **state)
{
    corpus_stats_t st;
    DIR *d = opendir(FIXTURE_DIR);
    struct dirent *de;

    (void)state;
    memset(&st, 0, sizeof(st));
    if (d == NULL)
        fail_msg("cannot open %s: run the tests from the repository root", FIXTURE_DIR);
    while ((de = readdir(d)) != NULL) {
        char dir[512];

        if (de->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", FIXTURE_DIR, de->d_name);
        walk_provider(dir, de->d_name, &st);
    }
    closedir(d);
    print_message("errtable corpus: %d cases, %d failures\n", st.cases, st.failures);
    assert_int_equal(st.failures, 0);
    assert_true(st.cases >= MIN_CASES);
    for (size_t i = 0; i < GW_ARRAY_LEN(providers); i++) {
        if (st.per_provider[i] == 0)
            print_error("no corpus case for provider %s\n", providers[i].id);
        assert_true(st.per_provider[i] > 0);
    }
    /* Every class an HTTP answer can produce is exercised (NETWORK comes from
     * the transport, NONE never). */
    for (int f = GW_FAIL_RATE_MINUTE; f < GW_FAIL__COUNT; f++) {
        if (f == GW_FAIL_NETWORK)
            continue;
        if (st.per_fail[f] == 0)
            print_error("no corpus case for class %s\n", gw_fail_name(f));
        assert_true(st.per_fail[f] > 0);
    }
}

/* ---- inline classification cases ------------------------------------------------- */

typedef struct inline_case {
    const char *provider;
    int status;
    const char *body;
    gw_fail_t fail;
} inline_case_t;

/* Short bodies that pin the matcher's word rules and odd shapes. */
static const inline_case_t inline_cases[] = {
    /* word boundaries */
    {"sambanova", 429, "{\"error\":{\"message\":\"Daily limit reached\"}}", GW_FAIL_QUOTA_PERIOD},
    {"sambanova", 429, "{\"error\":{\"message\":\"limit of requests per-day\"}}",
     GW_FAIL_QUOTA_PERIOD},
    {"sambanova", 429, "{\"error\":{\"message\":\"requests_per_day exhausted\"}}",
     GW_FAIL_QUOTA_PERIOD},
    {"sambanova", 429, "{\"error\":{\"message\":\"dailyish burst limit\"}}", GW_FAIL_RATE_MINUTE},
    {"sambanova", 429, "{\"error\":{\"message\":\"superdaily burst limit\"}}", GW_FAIL_RATE_MINUTE},
    {"sambanova", 429, "{\"error\":{\"message\":\"perday cap\"}}", GW_FAIL_RATE_MINUTE},
    {"sambanova", 429, "{\"error\":{\"message\":\"Used 14023 of 14400, Requested 402\"}}",
     GW_FAIL_RATE_MINUTE},
    {"sambanova", 400, "{\"error\":{\"message\":\"error 402 in field x\"}}", GW_FAIL_BAD_REQUEST},
    {"sambanova", 400, "{\"error\":{\"message\":\"payments are processed nightly\"}}",
     GW_FAIL_BAD_REQUEST},
    /* shapes */
    {"groq", 429, "", GW_FAIL_RATE_MINUTE},
    {"groq", 503, "not json at all {", GW_FAIL_SERVER},
    {"groq", 429, "429 Too Many Requests", GW_FAIL_RATE_MINUTE},
    {"groq", 200, "{\"error\":{\"code\":\"429\",\"message\":\"slow down\"}}", GW_FAIL_RATE_MINUTE},
    {"groq", 200, "{\"error\":{\"message\":\"something broke\"}}", GW_FAIL_SERVER},
    {"groq", 200, "[1,2,3]", GW_FAIL_SERVER},
    {"groq", 429, "\"Rate limit: 100 requests per day\"", GW_FAIL_QUOTA_PERIOD},
    {"mistral", 400, "{\"detail\":\"Invalid model: mistral-huge-9\"}", GW_FAIL_MODEL_UNAVAILABLE},
    {"zhipu", 500, "{\"code\":500,\"msg\":\"Internal Error\",\"success\":false}", GW_FAIL_SERVER},
    {"zhipu", 200, "{\"code\":1302,\"msg\":\"High concurrency\",\"success\":false}",
     GW_FAIL_RATE_MINUTE},
    {"unknown-provider", 401, "{}", GW_FAIL_AUTH},
    /* provider rows do not leak into other providers */
    {"groq", 403, "{\"error\":\"this model requires a subscription\"}",
     GW_FAIL_MODEL_UNAVAILABLE},
    {"groq", 400, "{\"error\":{\"message\":\"Function 'x': DEGRADED function cannot be invoked\"}}",
     GW_FAIL_BAD_REQUEST},
    {"groq", 429, "{\"errors\":[{\"code\":4006,\"message\":\"x\"}]}", GW_FAIL_RATE_MINUTE},
};

static void test_inline(void **state)
{
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(inline_cases); i++) {
        const inline_case_t *c = &inline_cases[i];
        gw_provider_t p = make_provider(c->provider);
        gw_verdict_t v;

        gw_errtable_classify(&p, c->status, gw_str_c(c->body), NULL, 0, NOW_MS, &v);
        if (v.fail != c->fail)
            print_error("inline case %zu (%s %d %s): %s, want %s\n", i, c->provider, c->status,
                        c->body, gw_fail_name(v.fail), gw_fail_name(c->fail));
        assert_int_equal(v.fail, c->fail);
    }
}

static void test_null_body_and_provider(void **state)
{
    gw_verdict_t v;
    gw_str_t none = {NULL, 0};

    (void)state;
    gw_errtable_classify(NULL, 500, none, NULL, 0, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_SERVER);
    assert_int_equal(v.next, GW_NEXT_PROVIDER);
    gw_errtable_classify(NULL, 429, none, NULL, 0, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_RATE_MINUTE);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + 90000);
    assert_false(v.explicit_delay);
}

/* Retry-After 0 still moves off the pair briefly; absurd values are capped. */
static void test_delay_clamps(void **state)
{
    gw_provider_t p = make_provider("groq");
    gw_header_t zero[] = {{"Retry-After", "0"}};
    gw_header_t huge[] = {{"retry-after", "99999999"}};
    gw_header_t absurd_ms[] = {
        {"retry-after-ms", "9999999999999999999999999999999999999999999999999999999999"}};
    gw_verdict_t v;

    (void)state;
    gw_errtable_classify(&p, 429, GW_STR("{}"), zero, 1, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_RATE_MINUTE);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + 1000);
    assert_true(v.explicit_delay);
    gw_errtable_classify(&p, 429, GW_STR("{}"), huge, 1, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_QUOTA_PERIOD);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + INT64_C(32) * 86400 * 1000);
    /* A delay too large to be a time is no statement at all. */
    gw_errtable_classify(&p, 429, GW_STR("{}"), absurd_ms, 1, NOW_MS, &v);
    assert_false(v.explicit_delay);
}

static void test_transport(void **state)
{
    gw_provider_t p = make_provider("nvidia");
    gw_verdict_t v;

    (void)state;
    gw_errtable_transport(&p, GW_FAIL_TIMEOUT, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_TIMEOUT);
    assert_int_equal(v.next, GW_NEXT_PROVIDER);
    assert_int_equal(v.scope, GW_SCOPE_MODEL_KEY);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + 60000);
    assert_string_equal(v.name, "timeout");
    gw_errtable_transport(&p, GW_FAIL_NETWORK, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_NETWORK);
    assert_int_equal(v.next, GW_NEXT_PROVIDER);
    assert_int_equal(v.scope, GW_SCOPE_KEY);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + 30000);
    assert_int_equal(v.key_health, GW_KEY_UNKNOWN);
    /* A 200 whose body cannot be used (not JSON, empty stream): the pair rests. */
    gw_errtable_transport(&p, GW_FAIL_SERVER, NOW_MS, &v);
    assert_int_equal(v.fail, GW_FAIL_SERVER);
    assert_int_equal(v.next, GW_NEXT_PROVIDER);
    assert_int_equal(v.scope, GW_SCOPE_MODEL_KEY);
    assert_int_equal(v.cooldown_until_ms, NOW_MS + 30000);
    assert_string_equal(v.name, "server_error");
}

/* ---- gw_parse_reset_value -------------------------------------------------------- */

static void test_parse_reset_value(void **state)
{
    static const struct {
        const char *in;
        int64_t want; /* absolute; 0 = unparseable */
    } cases[] = {
        {"30", NOW_MS + 30000},
        {" 1.5 ", NOW_MS + 1500},
        {"0", NOW_MS},
        {"0.0004", NOW_MS + 1},
        {"7.66s", NOW_MS + 7660},
        {"2m59.56s", NOW_MS + 179560},
        {"120ms", NOW_MS + 120},
        {"1h2m3s", NOW_MS + 3723000},
        {"34s", NOW_MS + 34000},
        {"29.723877525s", NOW_MS + 29724},
        {"500us", NOW_MS + 1},
        {"1781568000000", INT64_C(1781568000000)}, /* epoch ms */
        {"1781568000", INT64_C(1781568000000)},    /* epoch s */
        {"33011.382867097855", NOW_MS + 33011383},
        {"Mon, 15 Jun 2026 12:00:30 GMT", NOW_MS + 30000},
        {"Wed, 21 Oct 2015 07:28:00 GMT", INT64_C(1445412480000)},
        {"", 0},
        {"soon", 0},
        {"12abc", 0},
        {"-5", 0},
        {"1m 2s", 0},
        {"Mon, 15 Foo 2026 12:00:30 GMT", 0},
        /* Numbers too large for a time are ignored, not converted (found by fuzzing). */
        {"999999999999999999999999999999999999999999999999999999999999", 0},
        {"99999999999999999999999999999999999999999999999999999999999s", 0},
        {"1000000000000001", 0},
        {"Mon, 15 Jun 2147483647 12:00:30 GMT", 0},
        {"Mon, 15 Jun 2026 -1:00:30 GMT", 0},
    };

    (void)state;
    assert_int_equal(gw_parse_reset_value(NULL, NOW_MS), 0);
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        int64_t got = gw_parse_reset_value(cases[i].in, NOW_MS);

        if (got != cases[i].want)
            print_error("parse_reset_value(\"%s\") = %lld, want %lld\n", cases[i].in,
                        (long long)got, (long long)cases[i].want);
        assert_int_equal(got, cases[i].want);
    }
}

/* ---- gw_errtable_message --------------------------------------------------------- */

static void test_message(void **state)
{
    static const struct {
        const char *body;
        const char *want;
    } cases[] = {
        {"{\"error\":{\"message\":\"Incorrect API key provided: sk-abc***xyz.\"}}",
         "Incorrect API key provided: [redacted]"},
        {"{\"error\":{\"message\":\"bad key gsk_4f9aQ2 and "
         "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW\"}}",
         "bad key [redacted] and [redacted]"},
        {"{\"error\":\"Authorization: Bearer abc.def.ghi rejected\"}",
         "Authorization: Bearer [redacted] rejected"},
        {"{\"detail\":\"Function 'x': Not found for account 'Qawmu2vUw3rdcREnubcAVqe1c55nUTb1h'\"}",
         "Function 'x': Not found for account '[redacted]'"},
        {"{\"error\":{\"message\":\"The model `meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8` "
         "is busy\"}}",
         "The model `meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8` is busy"},
        {"{\"errors\":[{\"code\":7000,\"message\":\"No route for that URI\"}],\"success\":false}",
         "No route for that URI"},
        {"[{\"error\":{\"code\":429,\"message\":\"Resource exhausted\"}}]", "Resource exhausted"},
        {"{\"error\":{\"message\":\"Provider returned error\","
         "\"metadata\":{\"raw\":\"upstream said no\"}}}",
         "Provider returned error: upstream said no"},
        {"{\"message\":{\"detail\":[{\"msg\":\"Extra inputs are not permitted\"}]}}",
         "{\"detail\":[{\"msg\":\"Extra inputs are not permitted\"}]}"},
        {"plain\ttext\nbody", "plain text body"},
        {"data: {\"error\":{\"message\":\"in band\"}}\n\n", "in band"},
        {"", ""},
        {"{}", ""},
        {"bad \xff byte", "bad ? byte"},
    };
    char out[256];
    char tiny[8];

    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        size_t n = gw_error_message(gw_str_c(cases[i].body), out, sizeof(out));

        if (strcmp(out, cases[i].want) != 0)
            print_error("message case %zu: \"%s\", want \"%s\"\n", i, out, cases[i].want);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(out));
    }
    /* Truncation never splits a UTF-8 sequence ("é" is two bytes). */
    gw_error_message(GW_STR("{\"message\":\"abcdé\xc3\xa9xyz\"}"), tiny, sizeof(tiny));
    assert_string_equal(tiny, "abcd\xc3\xa9");
    assert_int_equal(gw_error_message(GW_STR("{\"message\":\"x\"}"), out, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_null_body_and_provider),
        cmocka_unit_test(test_delay_clamps),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_parse_reset_value),
        cmocka_unit_test(test_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
