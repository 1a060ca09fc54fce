/* The OpenAI dialect: request shaping by provider policy, answer and stream
 * normalisation. Recorded-style inputs, asserted outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/dialect.h"
#include "test_wire.h"

static gw_catalog_t cat;

static int setup(void **state)
{
    gw_err_t err = {0};
    (void)state;
    return gw_catalog_load(&cat, NULL, &err);
}

static int teardown(void **state)
{
    (void)state;
    gw_catalog_dispose(&cat);
    return 0;
}

/* Encodes req for provider/model; returns the parsed upstream body. */
static json_t *encode(const char *provider, const char *model, const char *req, bool stream,
                      gw_http_out_t *out, const char *account)
{
    gw_call_t c = {0};
    gw_err_t err = {0};
    json_t *body;

    c.model = gw_catalog_model(&cat, provider, model);
    assert_non_null(c.model);
    c.secret = "sk-test-secret";
    c.account_id = account;
    c.req = json_loads(req, 0, NULL);
    assert_non_null(c.req);
    c.stream = stream;
    gw_http_out_init(out);
    assert_int_equal(gw_dialect_for(c.model->provider)->chat_request(&c, out, &err), 0);
    body = json_loadb(out->body.ptr, out->body.len, 0, NULL);
    assert_non_null(body);
    json_decref(c.req);
    return body;
}

static void test_allow_list_and_model_rewrite(void **state)
{
    gw_http_out_t out;
    json_t *b = encode("groq", "llama-3.3-70b-versatile",
                       "{\"model\":\"auto\",\"messages\":[{\"role\":\"developer\",\"content\":\"be"
                       " brief\"},{\"role\":\"user\",\"content\":\"hi\",\"name\":\"bob\"}],"
                       "\"n\":1,\"user\":\"u1\",\"store\":true,\"temperature\":null,"
                       "\"top_p\":0.5,\"max_completion_tokens\":77,\"logprobs\":true,"
                       "\"response_format\":{\"type\":\"text\"}}",
                       false, &out, NULL);
    (void)state;
    assert_string_equal(out.url, "https://api.groq.com/openai/v1/chat/completions");
    assert_true(gw_test_has_header(&out, "Authorization: Bearer sk-test-secret"));
    assert_string_equal(json_string_value(json_object_get(b, "model")),
                        "llama-3.3-70b-versatile");
    assert_null(json_object_get(b, "n"));
    assert_null(json_object_get(b, "user"));
    assert_null(json_object_get(b, "store"));
    assert_null(json_object_get(b, "temperature")); /* null means unset: never forwarded */
    assert_null(json_object_get(b, "logprobs"));    /* groq rejects it */
    assert_null(json_object_get(b, "response_format"));
    assert_null(json_object_get(b, "stream"));
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 77);
    assert_true(json_real_value(json_object_get(b, "top_p")) == 0.5);
    /* developer -> system; groq rejects messages[].name */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(b, "messages"), 0), "role")),
                        "system");
    assert_null(json_object_get(json_array_get(json_object_get(b, "messages"), 1), "name"));
    json_decref(b);
    gw_http_out_dispose(&out);
}

static void test_mistral_rename_and_strictness(void **state)
{
    gw_http_out_t out;
    json_t *b = encode("mistral", "mistral-small-latest",
                       "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"seed\":42,\"top_k\":5,\"stream\":true,\"stream_options\":"
                       "{\"include_usage\":true}}",
                       true, &out, NULL);
    (void)state;
    assert_null(json_object_get(b, "seed"));
    assert_int_equal(json_integer_value(json_object_get(b, "random_seed")), 42);
    assert_null(json_object_get(b, "top_k"));
    assert_null(json_object_get(b, "stream_options")); /* mistral 422s on unknown keys */
    assert_true(json_is_true(json_object_get(b, "stream")));
    json_decref(b);
    gw_http_out_dispose(&out);
}

static void test_cloudflare_quirks(void **state)
{
    gw_http_out_t out;
    json_t *b = encode("cloudflare", "@cf/openai/gpt-oss-120b",
                       "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
                       "\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},{\"role\":"
                       "\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\","
                       "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}"
                       "]},{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"ok\"}]}",
                       false, &out, "acct123");
    json_t *msgs = json_object_get(b, "messages");
    (void)state;
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1"
                                 "/chat/completions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "content")),
                        "a\nb");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "content")),
                        "");
    assert_int_equal(json_array_size(json_object_get(json_array_get(msgs, 1), "tool_calls")), 1);
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 8192);
    json_decref(b);
    gw_http_out_dispose(&out);
}

static void test_nvidia_serial_tools_and_stream_usage(void **state)
{
    gw_http_out_t out;
    json_t *b = encode("nvidia", "meta/llama-3.3-70b-instruct",
                       "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                       "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":\"auto\"}",
                       true, &out, NULL);
    (void)state;
    assert_true(json_is_false(json_object_get(b, "parallel_tool_calls")));
    assert_string_equal(json_string_value(json_object_get(b, "tool_choice")), "auto");
    assert_true(json_is_true(json_object_get(json_object_get(b, "stream_options"),
                                             "include_usage")));
    json_decref(b);
    gw_http_out_dispose(&out);
}

static void test_anonymous_has_no_auth_header(void **state)
{
    gw_call_t c = {0};
    gw_http_out_t out;
    gw_err_t err = {0};
    (void)state;
    c.model = cat.providers[0].models[0];
    for (size_t i = 0; i < cat.nproviders; i++)
        if (strcmp(cat.providers[i].id, "kilo") == 0)
            c.model = cat.providers[i].models[0];
    c.req = json_loads("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 0, NULL);
    gw_http_out_init(&out);
    assert_int_equal(gw_dialect_for(c.model->provider)->chat_request(&c, &out, &err), 0);
    for (struct curl_slist *l = out.headers; l != NULL; l = l->next)
        assert_null(strstr(l->data, "Authorization"));
    json_decref(c.req);
    gw_http_out_dispose(&out);
}

static void test_answer_normalisation(void **state)
{
    gw_call_t c = {0};
    gw_tokens_t usage = {0};
    gw_err_t err = {0};
    json_t *out = NULL;
    json_t *body = json_loads(
        "{\"id\":\"x\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":"
        "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"reasoning\":"
        "\"hmm\",\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
        "\"arguments\":\"\"}}]},\"finish_reason\":\"stop\"}]}",
        0, NULL);
    json_t *msg;
    json_t *call;
    (void)state;
    c.model = gw_catalog_model(&cat, "ollama", "gpt-oss:120b");
    assert_int_equal(gw_dialect_for(c.model->provider)->chat_response(&c, body, &out, &usage,
                                                                       &err), 0);
    msg = json_object_get(json_array_get(json_object_get(out, "choices"), 0), "message");
    call = json_array_get(json_object_get(msg, "tool_calls"), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(out, "choices"), 0), "finish_reason")),
                        "tool_calls");
    assert_string_equal(json_string_value(json_object_get(msg, "reasoning_content")), "hmm");
    assert_null(json_object_get(msg, "reasoning"));
    assert_true(strncmp(json_string_value(json_object_get(call, "id")), "call_", 5) == 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(call, "function"),
                                                          "arguments")), "{}");
    assert_non_null(json_object_get(out, "usage")); /* estimated when absent */
    assert_false(usage.known);
    json_decref(out);
    json_decref(body);
}

static void test_answer_with_error_or_no_choices_is_declined(void **state)
{
    static const char *const bad[] = {
        "{\"error\":{\"message\":\"overloaded\",\"code\":503}}",
        "{\"id\":\"x\",\"choices\":[]}",
        "{\"id\":\"x\"}",
    };
    gw_call_t c = {0};
    (void)state;
    c.model = gw_catalog_model(&cat, "groq", "llama-3.3-70b-versatile");
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        gw_tokens_t usage = {0};
        gw_err_t err = {0};
        json_t *out = NULL;
        json_t *body = json_loads(bad[i], 0, NULL);
        assert_int_equal(gw_dialect_for(c.model->provider)->chat_response(&c, body, &out,
                                                                           &usage, &err),
                         GW_DECLINED);
        assert_null(out);
        json_decref(body);
    }
}

/* A provider's quirks are catalog data (policy), not code: extra headers, reasoning
 * efforts it refuses, answers that are a filter verdict. */
static void test_policy_from_catalog(void **state)
{
    static const char acme[] =
        "{\"providers\":[{\"id\":\"acme\",\"base_url\":\"https://api.acme.test/v1\","
        "\"dialect\":\"openai\",\"policy\":{\"headers\":{\"X-Acme\":\"on\"},"
        "\"reasoning_effort\":[\"low\",\"high\"],\"declined_answers\":[\"verdict\"]},"
        "\"models\":[{\"id\":\"m1\",\"capabilities\":[\"chat\"]}]}]}";
    static const char *const efforts[][2] = {{"low", "low"}, {"minimal", NULL}};
    json_t *root = json_loads(acme, 0, NULL);
    gw_catalog_t own;
    gw_err_t err = {0};
    gw_call_t c = {0};
    bool header = false;
    (void)state;
    assert_int_equal(gw_catalog_load_json(&own, root, &err), 0);
    json_decref(root);
    c.model = gw_catalog_model(&own, "acme", "m1");
    c.secret = "k";
    for (size_t i = 0; i < GW_ARRAY_LEN(efforts); i++) {
        gw_http_out_t out;
        json_t *b;
        char req[160];

        snprintf(req, sizeof(req), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                 "\"reasoning_effort\":\"%s\"}", efforts[i][0]);
        c.req = json_loads(req, 0, NULL);
        gw_http_out_init(&out);
        assert_int_equal(gw_dialect_for(c.model->provider)->chat_request(&c, &out, &err), 0);
        b = json_loadb(out.body.ptr, out.body.len, 0, NULL);
        if (efforts[i][1] != NULL)
            assert_string_equal(json_string_value(json_object_get(b, "reasoning_effort")),
                                efforts[i][1]);
        else
            assert_null(json_object_get(b, "reasoning_effort"));
        for (struct curl_slist *l = out.headers; l != NULL; l = l->next)
            header |= strcmp(l->data, "X-Acme: on") == 0;
        json_decref(b);
        json_decref(c.req);
        gw_http_out_dispose(&out);
    }
    assert_true(header);
    {
        gw_tokens_t usage = {0};
        json_t *out = NULL;
        json_t *body = json_loads("{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":"
                                  "{\"role\":\"assistant\",\"content\":\"verdict\"}}]}",
                                  0, NULL);
        assert_int_equal(gw_dialect_for(c.model->provider)->chat_response(&c, body, &out,
                                                                           &usage, &err),
                         GW_DECLINED);
        json_decref(body);
    }
    gw_catalog_dispose(&own);
}

static gw_ev_t feed(gw_call_t *c, gw_stream_state_t *st, const char *data, json_t *chunks,
                    json_t **err)
{
    return gw_dialect_for(c->model->provider)->chat_event(c, st, gw_str_c(data), chunks, err);
}

static json_t *delta_of(json_t *chunks, size_t i)
{
    return json_object_get(json_array_get(json_object_get(json_array_get(chunks, i), "choices"),
                                          0), "delta");
}

static void test_stream_tool_deltas(void **state)
{
    gw_call_t c = {0};
    gw_stream_state_t st;
    json_t *chunks = json_array();
    json_t *err = NULL;
    json_t *tc;
    (void)state;
    c.model = gw_catalog_model(&cat, "groq", "llama-3.3-70b-versatile");
    gw_stream_state_init(&st);
    /* A whole call without an index, then a repeat fragment that repeats id and name. */
    assert_int_equal(feed(&c, &st, "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":"
                                   "{\"tool_calls\":[{\"id\":\"call_a\",\"function\":{\"name\":"
                                   "\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}",
                          chunks, &err), GW_EV_CHUNKS);
    assert_int_equal(feed(&c, &st, "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":"
                                   "{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"function\":"
                                   "{\"name\":\"f\",\"arguments\":\":1}\"}}]}}]}",
                          chunks, &err), GW_EV_CHUNKS);
    assert_int_equal(feed(&c, &st, "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},"
                                   "\"finish_reason\":\"stop\"}]}", chunks, &err), GW_EV_CHUNKS);
    assert_int_equal(feed(&c, &st, "{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":"
                                   "5,\"completion_tokens\":7}}", chunks, &err), GW_EV_SKIP);
    assert_int_equal(feed(&c, &st, "not json", chunks, &err), GW_EV_SKIP);
    assert_int_equal(feed(&c, &st, "[DONE]", chunks, &err), GW_EV_DONE);
    assert_int_equal(json_array_size(chunks), 3);
    tc = json_array_get(json_object_get(json_object_get(json_array_get(json_object_get(
             json_array_get(chunks, 0), "choices"), 0), "delta"), "tool_calls"), 0);
    assert_int_equal(json_integer_value(json_object_get(tc, "index")), 0);
    assert_string_equal(json_string_value(json_object_get(tc, "type")), "function");
    assert_string_equal(json_string_value(json_object_get(delta_of(chunks, 0), "role")),
                        "assistant");
    assert_null(json_object_get(delta_of(chunks, 1), "role")); /* once, in the first chunk */
    tc = json_array_get(json_object_get(json_object_get(json_array_get(json_object_get(
             json_array_get(chunks, 1), "choices"), 0), "delta"), "tool_calls"), 0);
    assert_null(json_object_get(tc, "id"));
    assert_null(json_object_get(json_object_get(tc, "function"), "name"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
                            json_array_get(chunks, 2), "choices"), 0), "finish_reason")),
                        "tool_calls");
    assert_true(st.usage.known);
    assert_int_equal(st.usage.completion, 7);
    assert_true(st.saw_finish && st.saw_done);
    json_decref(chunks);
    gw_stream_state_dispose(&st);
}

static void test_stream_inband_error(void **state)
{
    gw_call_t c = {0};
    gw_stream_state_t st;
    json_t *chunks = json_array();
    json_t *err = NULL;
    (void)state;
    c.model = gw_catalog_model(&cat, "groq", "llama-3.3-70b-versatile");
    gw_stream_state_init(&st);
    assert_int_equal(feed(&c, &st, "{\"error\":{\"message\":\"Failed to call a function\","
                                   "\"type\":\"invalid_request_error\",\"code\":"
                                   "\"tool_use_failed\"}}", chunks, &err), GW_EV_ERROR);
    assert_non_null(err);
    assert_string_equal(json_string_value(json_object_get(json_object_get(err, "error"),
                                                          "code")), "tool_use_failed");
    json_decref(err);
    json_decref(chunks);
    gw_stream_state_dispose(&st);
}

/* Deferred, the body is left as JSON for the caller (the proxy writes it on
 * the thread pool for long conversations); written later it is the same bytes. */
static void test_deferred_body_is_the_same_bytes(void **state)
{
    const char *req = "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":"
                      "\"h\\u00e9 \\\"quoted\\\"\\n\"}],\"max_tokens\":9}";
    gw_call_t c = {0};
    gw_err_t err = {0};
    gw_http_out_t now;
    gw_http_out_t later;

    (void)state;
    c.model = gw_catalog_model(&cat, "groq", "llama-3.3-70b-versatile");
    c.secret = "sk-test-secret";
    c.req = json_loads(req, 0, NULL);
    assert_non_null(c.req);
    gw_http_out_init(&now);
    gw_http_out_init(&later);
    assert_int_equal(gw_dialect_for(c.model->provider)->chat_request(&c, &now, &err), 0);
    assert_null(now.json);
    c.defer_body = true;
    assert_int_equal(gw_dialect_for(c.model->provider)->chat_request(&c, &later, &err), 0);
    assert_non_null(later.json);
    assert_int_equal(later.body.len, 0);
    assert_string_equal(later.url, now.url);
    assert_int_equal(gw_dialect_write_body(&later, &err), 0);
    assert_null(later.json);
    assert_int_equal(later.body.len, now.body.len);
    assert_memory_equal(later.body.ptr, now.body.ptr, now.body.len);
    gw_http_out_dispose(&now);
    gw_http_out_dispose(&later);
    json_decref(c.req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_list_and_model_rewrite),
        cmocka_unit_test(test_mistral_rename_and_strictness),
        cmocka_unit_test(test_cloudflare_quirks),
        cmocka_unit_test(test_nvidia_serial_tools_and_stream_usage),
        cmocka_unit_test(test_anonymous_has_no_auth_header),
        cmocka_unit_test(test_answer_normalisation),
        cmocka_unit_test(test_answer_with_error_or_no_choices_is_declined),
        cmocka_unit_test(test_policy_from_catalog),
        cmocka_unit_test(test_stream_tool_deltas),
        cmocka_unit_test(test_stream_inband_error),
        cmocka_unit_test(test_deferred_body_is_the_same_bytes),
    };
    return cmocka_run_group_tests_name("providers/openai", tests, setup, teardown);
}
