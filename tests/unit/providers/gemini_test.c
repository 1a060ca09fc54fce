/* The Gemini dialect: request encoding (contents, generationConfig, tools,
 * signatures, images), answer and stream decoding, the key probe. Inputs are
 * recorded-style fixtures (tests/fixtures/gemini/) and small tables; outputs
 * are compared as JSON. Run from the repository root. */
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

#define FIXTURES "tests/fixtures/gemini/"

extern const gw_dialect_t gw_dialect_gemini;

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

/* ---- helpers ------------------------------------------------------------------- */

/* A signature store over a JSON object, counting puts. */
typedef struct fake_sigs {
    json_t *map;
    int puts;
} fake_sigs_t;

static char *fake_get(void *ctx, const char *id)
{
    const char *s = json_string_value(json_object_get(((fake_sigs_t *)ctx)->map, id));
    return s != NULL ? strdup(s) : NULL;
}

static void fake_put(void *ctx, const char *id, const char *sig)
{
    fake_sigs_t *f = ctx;
    json_object_set_new(f->map, id, json_string(sig));
    f->puts++;
}

static json_t *fixture(const char *name)
{
    char path[256];
    json_error_t e;
    json_t *j;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    j = json_load_file(path, 0, &e);
    if (j == NULL)
        fail_msg("%s: %s", path, e.text);
    return j;
}

static char *read_file(const char *name)
{
    char path[256];
    FILE *f;
    long n;
    char *buf;

    snprintf(path, sizeof(path), FIXTURES "%s", name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static gw_model_t *model(const char *id)
{
    gw_model_t *m = gw_catalog_model(&cat, "google", id);
    assert_non_null(m);
    return m;
}

/* Encodes req (JSON text) for a Google model; returns the upstream body. */
static json_t *encode_req(const char *model_id, json_t *req, bool stream,
                          const gw_sig_store_t *sigs, gw_http_out_t *out)
{
    gw_call_t c = {0};
    gw_err_t err = {0};
    json_t *body;

    c.model = model(model_id);
    c.secret = "AIza-test-key";
    c.req = req;
    c.stream = stream;
    c.sigs = sigs;
    gw_http_out_init(out);
    assert_int_equal(gw_dialect_gemini.chat_request(&c, out, &err), 0);
    body = json_loadb(out->body.ptr, out->body.len, 0, NULL);
    assert_non_null(body);
    return body;
}

static json_t *encode(const char *model_id, const char *req_text)
{
    gw_http_out_t out;
    json_t *req = json_loads(req_text, 0, NULL);
    json_t *body;

    assert_non_null(req);
    body = encode_req(model_id, req, false, NULL, &out);
    gw_http_out_dispose(&out);
    json_decref(req);
    return body;
}

/* ---- requests --------------------------------------------------------------------- */

static void test_registered_and_inline_images(void **state)
{
    const gw_provider_t *p = model("gemini-2.5-flash")->provider;
    (void)state;
    assert_ptr_equal(gw_dialect_for(p), &gw_dialect_gemini);
    assert_true(gw_dialect_gemini.inline_images);
    assert_string_equal(gw_dialect_gemini.name, "gemini");
}

static void test_url_and_headers(void **state)
{
    gw_http_out_t out;
    json_t *req = json_loads("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 0, NULL);
    json_t *b;
    gw_model_t *m = model("gemini-2.5-flash");
    char *saved = m->provider->base_url;
    (void)state;

    b = encode_req("gemini-2.5-flash", req, false, NULL, &out);
    assert_string_equal(out.url, "https://generativelanguage.googleapis.com/v1beta/models/"
                                 "gemini-2.5-flash:generateContent");
    assert_true(out.post);
    assert_true(gw_test_has_header(&out, "x-goog-api-key: AIza-test-key"));
    assert_true(gw_test_has_header(&out, "Content-Type: application/json"));
    assert_null(strstr(out.url, "key"));
    for (struct curl_slist *l = out.headers; l != NULL; l = l->next)
        assert_null(strstr(l->data, "Authorization"));
    gw_test_assert_json(b, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}");
    json_decref(b);
    gw_http_out_dispose(&out);

    /* FREELLMAPI_GOOGLE_BASE_URL style override (a path, a trailing slash); streaming. */
    m->provider->base_url = "http://127.0.0.1:9/google/";
    b = encode_req("gemini-2.5-flash", req, true, NULL, &out);
    assert_string_equal(out.url, "http://127.0.0.1:9/google/v1beta/models/gemini-2.5-flash:"
                                 "streamGenerateContent?alt=sse");
    assert_true(gw_test_has_header(&out, "Accept: text/event-stream"));
    assert_null(strstr(out.url, "AIza"));
    m->provider->base_url = saved;
    json_decref(b);
    gw_http_out_dispose(&out);
    json_decref(req);
}

static void test_history_with_tools_and_signatures(void **state)
{
    gw_http_out_t out;
    fake_sigs_t fs = {json_object(), 0};
    gw_sig_store_t sigs = {fake_get, fake_put, &fs};
    json_t *req = fixture("request_tool_history.json");
    json_t *b;
    (void)state;

    json_object_set_new(fs.map, "call_paris", json_string("U0lHLXBhcmlz"));
    b = encode_req("gemini-3-flash-preview", req, false, &sigs, &out);
    gw_test_assert_json(json_object_get(b, "systemInstruction"),
                "{\"parts\":[{\"text\":\"Answer in one sentence.\\n\\nUse metric units.\"}]}");
    gw_test_assert_json(json_object_get(b, "contents"),
                "[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Paris and Tokyo?\"}]},"
                " {\"role\":\"model\",\"parts\":["
                "   {\"functionCall\":{\"id\":\"call_paris\",\"name\":\"get_weather\","
                "     \"args\":{\"city\":\"Paris\"}},\"thoughtSignature\":\"U0lHLXBhcmlz\"},"
                "   {\"functionCall\":{\"id\":\"call_tokyo\",\"name\":\"get_weather\","
                "     \"args\":{\"city\":\"Tokyo\"}}}]},"
                " {\"role\":\"user\",\"parts\":["
                "   {\"functionResponse\":{\"id\":\"call_paris\",\"name\":\"get_weather\","
                "     \"response\":{\"temp_c\":18}}},"
                "   {\"functionResponse\":{\"id\":\"call_tokyo\",\"name\":\"get_weather\","
                "     \"response\":{\"result\":\"sunny, 24C\"}}},"
                "   {\"text\":\"And the time there?\"}]},"
                " {\"role\":\"model\",\"parts\":[{\"text\":\"Checking.\"},"
                "   {\"functionCall\":{\"id\":\"call_time\",\"name\":\"get_time\","
                "     \"args\":{\"_raw\":\"not json\"}},"
                "    \"thoughtSignature\":\"context_engineering_is_the_way_to_go\"}]},"
                " {\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":\"call_time\","
                "   \"name\":\"get_time\",\"response\":{\"result\":[\"14:00\",\"21:00\"]}}}]},"
                " {\"role\":\"model\",\"parts\":[{\"text\":\"Paris 14:00, Tokyo 21:00.\"}]},"
                " {\"role\":\"user\",\"parts\":[{\"text\":\"Thanks\"},{\"text\":\"Bye\"}]}]");
    /* Tools: sanitized schema, required filtered; the parameterless tool has none. */
    gw_test_assert_json(json_object_get(b, "tools"),
                "[{\"functionDeclarations\":["
                "  {\"name\":\"get_weather\",\"description\":\"Current weather\",\"parameters\":"
                "   {\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
                "    \"unit\":{\"type\":\"string\",\"nullable\":true,\"enum\":[\"c\",\"f\"]}},"
                "    \"required\":[\"city\"]}},"
                "  {\"name\":\"get_time\"}]}]");
    gw_test_assert_json(json_object_get(b, "toolConfig"),
                "{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}");
    assert_null(json_object_get(b, "generationConfig")); /* parallel_tool_calls: dropped */
    assert_int_equal(fs.puts, 0);
    json_decref(b);
    gw_http_out_dispose(&out);
    json_decref(req);
    json_decref(fs.map);
}

static void test_signature_sources(void **state)
{
    static const struct {
        const char *model;
        const char *call_extra; /* JSON members added to the tool call */
        const char *stored;     /* the store's signature for call_1, or NULL */
        const char *want;       /* expected thoughtSignature on the part, or NULL */
    } cases[] = {
        {"gemini-3-flash-preview", "", NULL, "context_engineering_is_the_way_to_go"},
        {"gemini-2.5-flash", "", NULL, "context_engineering_is_the_way_to_go"},
        {"gemini-3-flash-preview", "", "c3RvcmVk", "c3RvcmVk"},
        {"gemini-3-flash-preview",
         ",\"extra_content\":{\"google\":{\"thought_signature\":"
         "\"Y2xpZW50\"}}",
         "c3RvcmVk", "Y2xpZW50"},
        {"gemini-3-flash-preview", ",\"thought_signature\":\"YmFyZQ==\"", NULL, "YmFyZQ=="},
        {"gemma-4-31b-it", "", "c3RvcmVk", NULL},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        fake_sigs_t fs = {json_object(), 0};
        gw_sig_store_t sigs = {fake_get, fake_put, &fs};
        gw_http_out_t out;
        char text[1024];
        json_t *req;
        json_t *b;
        json_t *parts;

        if (cases[i].stored != NULL)
            json_object_set_new(fs.map, "call_1", json_string(cases[i].stored));
        snprintf(text, sizeof(text),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"go\"},{\"role\":\"assistant\","
                 "\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
                 "\"f\",\"arguments\":\"{}\"}%s},{\"id\":\"call_2\",\"type\":\"function\","
                 "\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},{\"role\":\"tool\","
                 "\"tool_call_id\":\"call_1\",\"content\":\"1\"},{\"role\":\"tool\","
                 "\"tool_call_id\":\"call_2\",\"content\":\"2\"}]}",
                 cases[i].call_extra);
        req = json_loads(text, 0, NULL);
        assert_non_null(req);
        b = encode_req(cases[i].model, req, false, &sigs, &out);
        parts = json_object_get(json_array_get(json_object_get(b, "contents"), 1), "parts");
        assert_int_equal(json_array_size(parts), 2);
        if (cases[i].want == NULL)
            assert_null(json_object_get(json_array_get(parts, 0), "thoughtSignature"));
        else
            assert_string_equal(
                json_string_value(json_object_get(json_array_get(parts, 0), "thoughtSignature")),
                cases[i].want);
        /* Only the first call of a step carries one (Gemini signs parallel calls so). */
        assert_null(json_object_get(json_array_get(parts, 1), "thoughtSignature"));
        gw_test_assert_json(
            json_object_get(json_object_get(json_array_get(parts, 1), "functionCall"), "args"),
            "{}");
        json_decref(b);
        json_decref(req);
        gw_http_out_dispose(&out);
        json_decref(fs.map);
    }
}

static void test_gemma_folds_system_prompt(void **state)
{
    json_t *b = encode("gemma-4-31b-it",
                       "{\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},"
                       "{\"role\":\"user\",\"content\":\"hi\"}],\"reasoning_effort\":\"high\"}");
    (void)state;
    assert_null(json_object_get(b, "systemInstruction"));
    assert_null(json_object_get(b, "generationConfig")); /* no thinking config for Gemma */
    gw_test_assert_json(json_object_get(b, "contents"),
                "[{\"role\":\"user\",\"parts\":[{\"text\":\"Be terse.\"},{\"text\":\"hi\"}]}]");
    json_decref(b);
    /* A conversation opening with the model still gets a user turn first. */
    b = encode("gemma-4-31b-it",
               "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"assistant\","
               "\"content\":\"Hello\"},{\"role\":\"user\",\"content\":\"hi\"}]}");
    gw_test_assert_json(json_object_get(b, "contents"),
                "[{\"role\":\"user\",\"parts\":[{\"text\":\"S\"}]},"
                " {\"role\":\"model\",\"parts\":[{\"text\":\"Hello\"}]},"
                " {\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]");
    json_decref(b);
}

static void test_generation_config(void **state)
{
    static const struct {
        const char *model;
        const char *params; /* members added to a one-message request */
        const char *want;   /* generationConfig, or "null" */
    } cases[] = {
        {"gemini-2.5-flash",
         "\"temperature\":0.2,\"top_p\":0.9,\"top_k\":40,\"max_tokens\":100,\"seed\":7,"
         "\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"stop\":\"END\"",
         "{\"temperature\":0.2,\"topP\":0.9,\"topK\":40,\"maxOutputTokens\":100,\"seed\":7,"
         "\"presencePenalty\":0.5,\"frequencyPenalty\":-0.5,\"stopSequences\":[\"END\"]}"},
        {"gemini-2.5-flash",
         "\"max_tokens\":100,\"max_completion_tokens\":300,"
         "\"stop\":[\"a\",\"\",\"b\",\"c\",\"d\",\"e\",\"f\"]",
         "{\"maxOutputTokens\":300,\"stopSequences\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"},
        /* No mapping (or dropped by the google policy): nothing sent. */
        {"gemini-2.5-flash",
         "\"logit_bias\":{\"50256\":-100},\"logprobs\":true,"
         "\"top_logprobs\":2,\"min_p\":0.1,\"user\":\"u\",\"n\":1,"
         "\"temperature\":null,\"response_format\":{\"type\":\"text\"}",
         "null"},
        {"gemini-2.5-flash", "\"response_format\":{\"type\":\"json_object\"}",
         "{\"responseMimeType\":\"application/json\"}"},
        {"gemini-2.5-flash",
         "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\","
         "\"strict\":true,\"schema\":{\"$schema\":\"x\",\"type\":\"object\",\"properties\":"
         "{\"name\":{\"type\":[\"string\",\"null\"]}},\"additionalProperties\":false}}}",
         "{\"responseMimeType\":\"application/json\",\"responseJsonSchema\":{\"type\":\"object\","
         "\"properties\":{\"name\":{\"type\":[\"string\",\"null\"]}},"
         "\"additionalProperties\":false}}"},
        /* Gemma has no responseJsonSchema: the sanitized responseSchema. */
        {"gemma-4-31b-it",
         "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\","
         "\"schema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":[\"string\","
         "\"null\"]}},\"additionalProperties\":false}}}",
         "{\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"object\","
         "\"properties\":{\"name\":{\"type\":\"string\",\"nullable\":true}}}}"},
        {"gemini-2.5-flash", "\"reasoning_effort\":\"low\"",
         "{\"thinkingConfig\":{\"thinkingBudget\":1024,\"includeThoughts\":true}}"},
        {"gemini-2.5-flash", "\"reasoning_effort\":\"none\"",
         "{\"thinkingConfig\":{\"thinkingBudget\":0,\"includeThoughts\":false}}"},
        {"gemini-2.5-flash-lite", "\"reasoning_effort\":\"high\"",
         "{\"thinkingConfig\":{\"thinkingBudget\":24576,\"includeThoughts\":true}}"},
        {"gemini-2.5-pro", "\"reasoning_effort\":\"minimal\"",
         "{\"thinkingConfig\":{\"thinkingBudget\":128,\"includeThoughts\":false}}"},
        {"gemini-2.5-pro", "\"reasoning_effort\":\"xhigh\"",
         "{\"thinkingConfig\":{\"thinkingBudget\":32768,\"includeThoughts\":true}}"},
        {"gemini-3-flash-preview", "\"reasoning_effort\":\"none\"",
         "{\"thinkingConfig\":{\"thinkingLevel\":\"MINIMAL\",\"includeThoughts\":false}}"},
        {"gemini-3-flash-preview", "\"reasoning\":{\"effort\":\"medium\"}",
         "{\"thinkingConfig\":{\"thinkingLevel\":\"MEDIUM\",\"includeThoughts\":true}}"},
        {"gemini-3.1-pro-preview", "\"reasoning_effort\":\"none\"",
         "{\"thinkingConfig\":{\"thinkingLevel\":\"LOW\",\"includeThoughts\":false}}"},
        {"gemini-3.1-pro-preview", "\"reasoning_effort\":\"medium\"",
         "{\"thinkingConfig\":{\"thinkingLevel\":\"HIGH\",\"includeThoughts\":true}}"},
        {"gemini-3.5-flash", "\"reasoning_effort\":\"bogus\"", "null"},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        char text[2048];
        json_t *b;
        json_t *gen;
        snprintf(text, sizeof(text), "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],%s}",
                 cases[i].params);
        b = encode(cases[i].model, text);
        gen = json_object_get(b, "generationConfig");
        if (strcmp(cases[i].want, "null") == 0) {
            if (gen != NULL)
                print_error("case %zu: unexpected generationConfig\n", i);
            assert_null(gen);
        } else {
            gw_test_assert_json(gen, cases[i].want);
        }
        json_decref(b);
    }
}

static void test_tool_choice(void **state)
{
    static const struct {
        const char *choice; /* tool_choice JSON, or NULL */
        const char *want;   /* toolConfig, or "null" */
    } cases[] = {
        {NULL, "null"},
        {"\"auto\"", "{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}"},
        {"\"none\"", "{\"functionCallingConfig\":{\"mode\":\"NONE\"}}"},
        {"\"required\"", "{\"functionCallingConfig\":{\"mode\":\"ANY\"}}"},
        {"{\"type\":\"function\",\"function\":{\"name\":\"f\"}}",
         "{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"f\"]}}"},
        {"{\"type\":\"allowed_tools\",\"allowed_tools\":{\"mode\":\"required\",\"tools\":"
         "[{\"type\":\"function\",\"function\":{\"name\":\"g\"}}]}}",
         "{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"g\"]}}"},
        {"\"sometimes\"", "null"},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        char text[1024];
        json_t *b;
        json_t *tc;
        snprintf(text, sizeof(text),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":["
                 "{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":"
                 "\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}}},"
                 "{\"type\":\"function\",\"function\":{\"name\":\"g\"}}],"
                 "\"response_format\":{\"type\":\"json_object\"}%s%s}",
                 cases[i].choice ? ",\"tool_choice\":" : "",
                 cases[i].choice ? cases[i].choice : "");
        b = encode("gemini-2.5-flash", text);
        tc = json_object_get(b, "toolConfig");
        if (strcmp(cases[i].want, "null") == 0)
            assert_null(tc);
        else
            gw_test_assert_json(tc, cases[i].want);
        /* JSON mode is dropped beside function tools (a 400 before Gemini 3). */
        assert_null(json_object_get(b, "generationConfig"));
        assert_int_equal(
            json_array_size(json_object_get(json_array_get(json_object_get(b, "tools"), 0),
                                            "functionDeclarations")),
            2);
        json_decref(b);
    }
    /* Gemini 3 takes JSON mode and function calling together. */
    {
        json_t *b = encode("gemini-3-flash-preview",
                           "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":"
                           "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                           "\"response_format\":{\"type\":\"json_object\"}}");
        gw_test_assert_json(json_object_get(b, "generationConfig"),
                    "{\"responseMimeType\":\"application/json\"}");
        gw_test_assert_json(json_object_get(b, "tools"), "[{\"functionDeclarations\":[{\"name\":\"f\"}]}]");
        json_decref(b);
    }
    /* Without function tools there is no tools array and no toolConfig. */
    {
        json_t *b = encode("gemini-2.5-flash",
                           "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":"
                           "[{\"type\":\"custom\",\"custom\":{\"name\":\"x\"}}],"
                           "\"tool_choice\":\"required\"}");
        assert_null(json_object_get(b, "tools"));
        assert_null(json_object_get(b, "toolConfig"));
        json_decref(b);
    }
}

static void test_vision_and_audio(void **state)
{
    json_t *b = encode(
        "gemini-2.5-flash",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\","
        "\"detail\":\"low\"}},{\"type\":\"text\",\"text\":\"and\"},"
        "{\"type\":\"image_url\",\"image_url\":\"data:image/svg+xml,%3Csvg%2F%3E\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:Image/JPG;base64,/9j/4A==\"}},"
        "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"SUQz\",\"format\":\"mp3\"}},"
        "{\"type\":\"file\",\"file\":{\"filename\":\"r.pdf\",\"file_data\":"
        "\"data:application/pdf;base64,JVBERi0x\"}}]}]}");
    (void)state;
    gw_test_assert_json(json_object_get(json_array_get(json_object_get(b, "contents"), 0), "parts"),
                "[{\"text\":\"What?\"},"
                " {\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}},"
                " {\"text\":\"and\"},"
                " {\"inlineData\":{\"mimeType\":\"image/svg+xml\",\"data\":\"PHN2Zy8+\"}},"
                " {\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"/9j/4A==\"}},"
                " {\"inlineData\":{\"mimeType\":\"audio/mp3\",\"data\":\"SUQz\"}},"
                " {\"inlineData\":{\"mimeType\":\"application/pdf\",\"data\":\"JVBERi0x\"}}]");
    json_decref(b);
}

static void test_bad_requests_are_400(void **state)
{
    static const char *const bad[] = {
        /* A remote URL that was not inlined by the gateway. */
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
        "{\"url\":\"https://example.com/cat.png\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":"
        "{\"url\":\"data:image/png;base64\"}}]}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"file\",\"file\":"
        "{\"file_id\":\"file-abc\"}}]}]}",
        "{\"messages\":[{\"role\":\"assistant\",\"content\":\"\"}]}",
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        gw_call_t c = {0};
        gw_err_t err = {0};
        gw_http_out_t out;
        c.model = model("gemini-2.5-flash");
        c.secret = "k";
        c.req = json_loads(bad[i], 0, NULL);
        assert_non_null(c.req);
        gw_http_out_init(&out);
        assert_int_equal(gw_dialect_gemini.chat_request(&c, &out, &err), GW_EINVAL);
        assert_int_equal(err.http_status, 400);
        assert_null(out.url);
        gw_http_out_dispose(&out);
        json_decref(c.req);
    }
}

/* ---- whole answers ------------------------------------------------------------------- */

static int decode(const char *model_id, json_t *body, const gw_sig_store_t *sigs, json_t **out,
                  gw_tokens_t *usage)
{
    gw_call_t c = {0};
    gw_err_t err = {0};

    c.model = model(model_id);
    c.sigs = sigs;
    return gw_dialect_gemini.chat_response(&c, body, out, usage, &err);
}

static void test_answer_text_reasoning_usage(void **state)
{
    json_t *body = fixture("generate_text.json");
    json_t *out = NULL;
    gw_tokens_t u = {0};
    (void)state;
    assert_int_equal(decode("gemini-2.5-flash", body, NULL, &out, &u), 0);
    json_object_del(out, "created");
    gw_test_assert_json(
        out, "{\"id\":\"chatcmpl-mFdzaK6dIbO3nvgPlbq0gQw\",\"object\":\"chat.completion\","
             "\"model\":\"gemini-2.5-flash\",\"choices\":[{\"index\":0,\"message\":{"
             "\"role\":\"assistant\",\"content\":\"A red bicycle leaning against a brick wall.\","
             "\"refusal\":null,\"reasoning_content\":\"**Looking at the picture**\\nA bicycle by a "
             "wall.\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{"
             "\"prompt_tokens\":271,\"completion_tokens\":58,\"total_tokens\":329,"
             "\"completion_tokens_details\":{\"reasoning_tokens\":48}}}");
    assert_true(u.known);
    assert_int_equal(u.prompt, 271);
    assert_int_equal(u.completion, 58);
    json_decref(out);
    json_decref(body);
}

static void test_answer_tool_calls_record_signatures(void **state)
{
    fake_sigs_t fs = {json_object(), 0};
    gw_sig_store_t sigs = {fake_get, fake_put, &fs};
    json_t *body = fixture("generate_tools_parallel.json");
    json_t *out = NULL;
    json_t *ch;
    json_t *msg;
    json_t *calls;
    const char *id0;
    const char *id1;
    gw_tokens_t u = {0};
    (void)state;
    assert_int_equal(decode("gemini-3-flash-preview", body, &sigs, &out, &u), 0);
    ch = json_array_get(json_object_get(out, "choices"), 0);
    msg = json_object_get(ch, "message");
    assert_string_equal(json_string_value(json_object_get(ch, "finish_reason")), "tool_calls");
    assert_string_equal(json_string_value(json_object_get(msg, "content")),
                        "Checking both cities.");
    calls = json_object_get(msg, "tool_calls");
    assert_int_equal(json_array_size(calls), 3);
    id0 = json_string_value(json_object_get(json_array_get(calls, 0), "id"));
    id1 = json_string_value(json_object_get(json_array_get(calls, 1), "id"));
    assert_true(strncmp(id0, "call_", 5) == 0 && strlen(id0) == 29);
    assert_string_not_equal(id0, id1);
    /* The signature is recorded for the first call only; nothing extra on the wire. */
    assert_int_equal(fs.puts, 1);
    assert_string_equal(json_string_value(json_object_get(fs.map, id0)),
                        "AY89a19YsnFp7FOSIejJDV9XuMU996D+ZaDJiD6L9EEi+Lh+VGTEGqM3Lip3DPI7QzY=");
    assert_null(json_object_get(fs.map, id1));
    assert_null(json_object_get(json_array_get(calls, 0), "thought_signature"));
    assert_null(json_object_get(json_array_get(calls, 0), "extra_content"));
    /* Arguments are JSON strings; "{}" when Gemini sent no args; its own id is kept. */
    json_object_del(json_array_get(calls, 0), "id");
    gw_test_assert_json(json_array_get(calls, 0),
                "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}");
    gw_test_assert_json(json_array_get(calls, 2),
                "{\"id\":\"function-call-42\",\"type\":\"function\",\"function\":{\"name\":"
                "\"get_time\",\"arguments\":\"{}\"}}");
    assert_int_equal(u.prompt, 60);
    assert_int_equal(u.completion, 30);
    json_decref(out);
    json_decref(body);
    json_decref(fs.map);
}

static void test_answer_finish_reasons(void **state)
{
    static const struct {
        const char *reason; /* Gemini finishReason, or NULL for none */
        int rc;
        const char *want; /* OpenAI finish_reason when rc is 0 */
    } cases[] = {
        {"STOP", 0, "stop"},
        {NULL, 0, "stop"},
        {"FINISH_REASON_UNSPECIFIED", 0, "stop"},
        {"MAX_TOKENS", 0, "length"},
        {"SAFETY", 0, "content_filter"},
        {"RECITATION", 0, "content_filter"},
        {"BLOCKLIST", 0, "content_filter"},
        {"PROHIBITED_CONTENT", 0, "content_filter"},
        {"SPII", 0, "content_filter"},
        {"IMAGE_SAFETY", 0, "content_filter"},
        {"OTHER", 0, "content_filter"},
        {"LANGUAGE", 0, "content_filter"},
        {"MALFORMED_FUNCTION_CALL", GW_DECLINED, NULL},
        {"UNEXPECTED_TOOL_CALL", GW_DECLINED, NULL},
        {"TOO_MANY_TOOL_CALLS", GW_DECLINED, NULL},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        json_t *body = json_pack("{s:[{s:{s:s,s:[{s:s}]}}]}", "candidates", "content", "role",
                                 "model", "parts", "text", "partial");
        json_t *out = NULL;
        gw_tokens_t u = {0};
        if (cases[i].reason != NULL)
            json_object_set_new(json_array_get(json_object_get(body, "candidates"), 0),
                                "finishReason", json_string(cases[i].reason));
        assert_int_equal(decode("gemini-2.5-flash", body, NULL, &out, &u), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_string_equal(
                json_string_value(json_object_get(
                    json_array_get(json_object_get(out, "choices"), 0), "finish_reason")),
                cases[i].want);
            assert_false(u.known); /* no usageMetadata: estimated */
            assert_int_equal(u.completion, 2);
        } else {
            assert_null(out);
        }
        json_decref(out);
        json_decref(body);
    }
}

static void test_answer_unusable_or_blocked(void **state)
{
    static const struct {
        const char *file;
        const char *inline_body;
        int rc;
    } cases[] = {
        {"generate_malformed_call.json", NULL, GW_DECLINED},
        {"generate_empty.json", NULL, GW_DECLINED},
        {NULL, "{\"error\":{\"code\":503,\"message\":\"overloaded\",\"status\":\"UNAVAILABLE\"}}",
         GW_DECLINED},
        {NULL, "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":3}}", GW_DECLINED},
        {NULL, "{\"modelVersion\":\"x\"}", GW_DECLINED},
        {"generate_blocked.json", NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        json_t *body =
            cases[i].file ? fixture(cases[i].file) : json_loads(cases[i].inline_body, 0, NULL);
        json_t *out = NULL;
        gw_tokens_t u = {0};
        assert_int_equal(decode("gemini-2.5-flash", body, NULL, &out, &u), cases[i].rc);
        if (cases[i].rc != 0) {
            assert_null(out);
        } else {
            /* A blocked prompt is an answer: content_filter, no content. */
            json_t *ch = json_array_get(json_object_get(out, "choices"), 0);
            assert_string_equal(json_string_value(json_object_get(ch, "finish_reason")),
                                "content_filter");
            assert_true(json_is_null(json_object_get(json_object_get(ch, "message"), "content")));
            assert_string_equal(json_string_value(json_object_get(out, "id")),
                                "chatcmpl-blocked-1");
            assert_true(u.known);
            assert_int_equal(u.prompt, 12);
            json_decref(out);
        }
        json_decref(body);
    }
}

/* ---- streams ------------------------------------------------------------------------ */

/* Feeds every event of an SSE fixture; returns the chunks. */
static json_t *feed_file(gw_call_t *c, gw_stream_state_t *st, const char *name)
{
    char *text = read_file(name);
    json_t *chunks = json_array();
    char *p = text;

    while (*p != '\0') {
        char *end = strstr(p, "\r\n\r\n");
        json_t *err = NULL;
        size_t sep = 4;
        if (end == NULL) {
            end = p + strlen(p);
            sep = 0;
        }
        if (strncmp(p, "data: ", 6) == 0) {
            gw_str_t data = {p + 6, (size_t)(end - p - 6)};
            gw_ev_t ev = gw_dialect_gemini.chat_event(c, st, data, chunks, &err);
            assert_true(ev == GW_EV_CHUNKS || ev == GW_EV_SKIP);
            assert_null(err);
        }
        p = end + sep;
    }
    free(text);
    return chunks;
}

static json_t *choice_of(json_t *chunks, size_t i)
{
    return json_array_get(json_object_get(json_array_get(chunks, i), "choices"), 0);
}

static void test_stream_text(void **state)
{
    gw_call_t c = {0};
    gw_stream_state_t st;
    json_t *chunks;
    (void)state;
    c.model = model("gemini-2.5-flash");
    gw_stream_state_init(&st);
    chunks = feed_file(&c, &st, "stream_text.sse");
    assert_int_equal(json_array_size(chunks), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *ch = json_array_get(chunks, i);
        assert_string_equal(json_string_value(json_object_get(ch, "id")), "chatcmpl-a1b2c3");
        assert_string_equal(json_string_value(json_object_get(ch, "object")),
                            "chat.completion.chunk");
        assert_string_equal(json_string_value(json_object_get(ch, "model")), "gemini-2.5-flash");
        assert_int_equal(json_integer_value(json_object_get(ch, "created")),
                         json_integer_value(json_object_get(json_array_get(chunks, 0), "created")));
        assert_null(json_object_get(ch, "usage")); /* the proxy sends usage itself */
    }
    gw_test_assert_json(json_object_get(choice_of(chunks, 0), "delta"),
                "{\"role\":\"assistant\",\"reasoning_content\":\"**Greeting**\\nThe user says "
                "hi.\"}");
    gw_test_assert_json(choice_of(chunks, 1),
                "{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"logprobs\":null,"
                "\"finish_reason\":null}");
    gw_test_assert_json(json_object_get(choice_of(chunks, 2), "delta"), "{\"content\":\"lo!\"}");
    gw_test_assert_json(choice_of(chunks, 3),
                "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}");
    assert_true(st.saw_finish);
    assert_false(st.saw_done);
    assert_false(st.saw_tool_calls);
    assert_true(st.usage.known);
    assert_int_equal(st.usage.prompt, 3);
    assert_int_equal(st.usage.completion, 60); /* last frame: 3 visible + 57 thinking */
    json_decref(chunks);
    gw_stream_state_dispose(&st);
}

static void test_stream_tool_calls_and_late_signature(void **state)
{
    fake_sigs_t fs = {json_object(), 0};
    gw_sig_store_t sigs = {fake_get, fake_put, &fs};
    gw_call_t c = {0};
    gw_stream_state_t st;
    json_t *chunks;
    json_t *tc;
    const char *paris;
    (void)state;
    c.model = model("gemini-3-flash-preview");
    c.sigs = &sigs;
    gw_stream_state_init(&st);
    chunks = feed_file(&c, &st, "stream_tools.sse");
    assert_int_equal(json_array_size(chunks), 4);
    gw_test_assert_json(json_object_get(choice_of(chunks, 0), "delta"),
                "{\"role\":\"assistant\",\"content\":\"Let me check.\"}");
    tc = json_object_get(json_object_get(choice_of(chunks, 1), "delta"), "tool_calls");
    assert_int_equal(json_array_size(tc), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tc, 0), "index")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tc, 1), "index")), 1);
    paris = json_string_value(json_object_get(json_array_get(tc, 0), "id"));
    gw_test_assert_json(json_object_get(json_array_get(tc, 1), "function"),
                "{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Tokyo\\\"}\"}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tc, 0), "type")),
                        "function");
    tc = json_object_get(json_object_get(choice_of(chunks, 2), "delta"), "tool_calls");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tc, 0), "index")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(tc, 0), "function"), "arguments")),
                        "{}");
    assert_string_equal(json_string_value(json_object_get(choice_of(chunks, 3), "finish_reason")),
                        "tool_calls");
    /* The bare signature frame belongs to the step's first call. */
    assert_int_equal(fs.puts, 1);
    assert_string_equal(json_string_value(json_object_get(fs.map, paris)),
                        "U2lnbmF0dXJlRm9yUGFyaXM=");
    assert_true(st.saw_tool_calls && st.saw_finish);
    assert_int_equal(json_array_size(st.tool_ids), 3);
    assert_int_equal(st.usage.completion, 124);
    json_decref(chunks);
    gw_stream_state_dispose(&st);
    json_decref(fs.map);
}

static void test_stream_edge_frames(void **state)
{
    static const struct {
        const char *frames[3];
        gw_ev_t last;   /* event of the last frame */
        size_t nchunks; /* chunks over all frames */
        bool saw_finish;
        const char *finish; /* finish_reason of the last chunk, or NULL */
    } cases[] = {
        /* In-band error (a 200 stream): the proxy fails over or ends the stream. */
        {{"{\"error\":{\"code\":429,\"message\":\"Resource exhausted\",\"status\":"
          "\"RESOURCE_EXHAUSTED\"}}"},
         GW_EV_ERROR,
         0,
         false,
         NULL},
        /* Malformed frames are skipped; the stream goes on. */
        {{"not json", "[1,2]",
          "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]},"
          "\"finishReason\":\"STOP\"}]}"},
         GW_EV_CHUNKS,
         2,
         true,
         "stop"},
        {{"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"so\"}]}}]}",
          "{\"candidates\":[{\"content\":{\"parts\":[]},\"finishReason\":"
          "\"MALFORMED_FUNCTION_CALL\"}]}"},
         GW_EV_ERROR,
         1,
         false,
         NULL},
        {{"{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":"
          "{\"promptTokenCount\":4}}"},
         GW_EV_CHUNKS,
         1,
         true,
         "content_filter"},
        /* A bare STOP with nothing before it: no chunk, no finish (empty stream). */
        {{"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":"
          "\"STOP\"}]}"},
         GW_EV_SKIP,
         0,
         false,
         NULL},
        {{"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":"
          "\"MAX_TOKENS\"}]}"},
         GW_EV_CHUNKS,
         1,
         true,
         "length"},
        /* Usage-only and post-finish frames. */
        {{"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"finishReason\":"
          "\"STOP\"}]}",
          "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"late\"}]}}]}",
          "{\"usageMetadata\":{\"promptTokenCount\":1}}"},
         GW_EV_SKIP,
         2,
         true,
         "stop"},
        {{"[DONE]"}, GW_EV_DONE, 0, false, NULL},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        gw_call_t c = {0};
        gw_stream_state_t st;
        json_t *chunks = json_array();
        json_t *err = NULL;
        gw_ev_t ev = GW_EV_SKIP;
        c.model = model("gemini-2.5-flash");
        gw_stream_state_init(&st);
        for (size_t k = 0; k < 3 && cases[i].frames[k] != NULL; k++) {
            json_decref(err);
            err = NULL;
            ev = gw_dialect_gemini.chat_event(&c, &st, gw_str_c(cases[i].frames[k]), chunks, &err);
        }
        if (ev != cases[i].last)
            print_error("case %zu: event %d\n", i, (int)ev);
        assert_int_equal(ev, cases[i].last);
        assert_int_equal(json_array_size(chunks), cases[i].nchunks);
        assert_int_equal(st.saw_finish, cases[i].saw_finish);
        if (ev == GW_EV_ERROR) {
            assert_true(json_is_object(json_object_get(err, "error")));
            assert_non_null(json_object_get(json_object_get(err, "error"), "message"));
        } else {
            assert_null(err);
        }
        if (cases[i].finish != NULL)
            assert_string_equal(
                json_string_value(json_object_get(choice_of(chunks, json_array_size(chunks) - 1),
                                                  "finish_reason")),
                cases[i].finish);
        json_decref(err);
        json_decref(chunks);
        gw_stream_state_dispose(&st);
    }
}

/* ---- key probe ------------------------------------------------------------------------ */

static void test_probe(void **state)
{
    gw_http_out_t out;
    const gw_provider_t *p = model("gemini-2.5-flash")->provider;
    (void)state;
    gw_http_out_init(&out);
    assert_int_equal(gw_dialect_gemini.probe_request(p, "AIza-k", NULL, &out), 0);
    assert_string_equal(out.url, "https://generativelanguage.googleapis.com/v1beta/models");
    assert_false(out.post);
    assert_true(gw_test_has_header(&out, "x-goog-api-key: AIza-k"));
    gw_http_out_dispose(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered_and_inline_images),
        cmocka_unit_test(test_url_and_headers),
        cmocka_unit_test(test_history_with_tools_and_signatures),
        cmocka_unit_test(test_signature_sources),
        cmocka_unit_test(test_gemma_folds_system_prompt),
        cmocka_unit_test(test_generation_config),
        cmocka_unit_test(test_tool_choice),
        cmocka_unit_test(test_vision_and_audio),
        cmocka_unit_test(test_bad_requests_are_400),
        cmocka_unit_test(test_answer_text_reasoning_usage),
        cmocka_unit_test(test_answer_tool_calls_record_signatures),
        cmocka_unit_test(test_answer_finish_reasons),
        cmocka_unit_test(test_answer_unusable_or_blocked),
        cmocka_unit_test(test_stream_text),
        cmocka_unit_test(test_stream_tool_calls_and_late_signature),
        cmocka_unit_test(test_stream_edge_frames),
        cmocka_unit_test(test_probe),
    };
    return cmocka_run_group_tests_name("providers/gemini", tests, setup, teardown);
}
