/* The Gemini dialect's media calls (providers/gemini_media.c): embeddings,
 * image generation and editing, speech, ephemeral Live tokens. Requests are
 * checked for URL, auth header and exact JSON bodies; answers are decoded
 * from shapes taken from docs/reference/wire-gemini.md (several images with thought
 * parts, PCM at 16 kHz, error objects, answers without media). Models come
 * from the built-in catalog with the Google base URL pointed at a mock-like
 * http://127.0.0.1 address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "providers/media_ops.h"
#include "test_wire.h"

#define BASE "http://127.0.0.1:8089/google"
#define KEY "AIza-test-key"

extern const gw_dialect_t gw_dialect_gemini;

static gw_catalog_t cat;

static void set_base(const char *url)
{
    gw_provider_t *p = gw_catalog_provider(&cat, "google");
    free(p->base_url);
    p->base_url = strdup(url);
}

static int setup(void **state)
{
    gw_err_t err = {0};
    (void)state;
    if (gw_catalog_load(&cat, NULL, &err) != 0)
        return -1;
    set_base(BASE);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_catalog_dispose(&cat);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static gw_model_t *model(const char *id)
{
    gw_model_t *m = gw_catalog_model(&cat, "google", id);
    assert_non_null(m);
    return m;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (j == NULL)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

/* A call on a Google model with params (JSON text, taken). */
static gw_media_call_t call(gw_op_t op, const char *model_id, const char *params)
{
    gw_media_call_t c;

    memset(&c, 0, sizeof(c));
    c.op = op;
    c.model = model(model_id);
    c.secret = KEY;
    c.params = parse(params);
    return c;
}

/* Encodes c and checks what every request shares: POST to BASE + path, JSON,
 * the key in x-goog-api-key only. Returns the body (caller frees). */
static json_t *encode(const gw_media_call_t *c, const char *path)
{
    gw_http_out_t out;
    gw_err_t err = {0};
    char want[512];
    json_t *body;

    gw_http_out_init(&out);
    if (gw_dialect_gemini.media_request(c, &out, &err) != 0)
        fail_msg("media_request failed: %s", err.msg);
    snprintf(want, sizeof(want), "%s%s", BASE, path);
    assert_string_equal(out.url, want);
    assert_true(out.post);
    assert_true(gw_test_has_header(&out, "x-goog-api-key: " KEY));
    assert_true(gw_test_has_header(&out, "Content-Type: application/json"));
    assert_null(strstr(out.url, KEY));
    assert_null(strstr(out.url, "key="));
    assert_null(strstr(out.body.ptr, KEY));
    body = json_loadb(out.body.ptr, out.body.len, 0, NULL);
    assert_non_null(body);
    gw_http_out_dispose(&out);
    return body;
}

/* media_request's return code; err filled; nothing leaks. */
static int encode_rc(const gw_media_call_t *c, gw_err_t *err)
{
    gw_http_out_t out;
    int rc;

    gw_http_out_init(&out);
    rc = gw_dialect_gemini.media_request(c, &out, err);
    gw_http_out_dispose(&out);
    return rc;
}

static int decode(const gw_media_call_t *c, const char *answer, gw_media_result_t *res,
                  gw_err_t *err)
{
    gw_media_result_init(res);
    return gw_dialect_gemini.media_response(c, "application/json", gw_str_c(answer), res, err);
}

/* ---- voices ----------------------------------------------------------------------- */

static void test_voices(void **state)
{
    static const char *const table[][2] = {
        {"alloy", "Schedar"},
        {"ash", "Charon"},
        {"ballad", "Enceladus"},
        {"coral", "Sulafat"},
        {"echo", "Iapetus"},
        {"fable", "Puck"},
        {"onyx", "Gacrux"},
        {"nova", "Zephyr"},
        {"sage", "Sadaltager"},
        {"shimmer", "Achernar"},
        {"verse", "Laomedeia"},
        {"marin", "Aoede"},
        {"cedar", "Kore"},
        {"Alloy", "Schedar"},
        {"kore", "Kore"},
        {"PUCK", "Puck"},
        {"zubenelgenubi", "Zubenelgenubi"},
        {"Sadachbia", "Sadachbia"},
        {"callirrhoe", "Callirrhoe"},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(table); i++) {
        const char *got = gw_gemini_voice(table[i][0]);
        assert_non_null(got);
        assert_string_equal(got, table[i][1]);
    }
    assert_null(gw_gemini_voice("bogus"));
    assert_null(gw_gemini_voice(""));
    assert_null(gw_gemini_voice("Kore "));
    assert_null(gw_gemini_voice(NULL));
}

/* ---- embeddings --------------------------------------------------------------------- */

static void test_embed_request(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "gemini-embedding-001",
                             "{\"input\":[\"first input\",\"second input\"],\"dimensions\":768}");
    json_t *body;
    (void)state;

    body = encode(&c, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    gw_test_assert_json(body,
                "{\"requests\":["
                "{\"model\":\"models/gemini-embedding-001\",\"content\":{\"parts\":[{\"text\":"
                "\"first input\"}]},\"outputDimensionality\":768},"
                "{\"model\":\"models/gemini-embedding-001\",\"content\":{\"parts\":[{\"text\":"
                "\"second input\"}]},\"outputDimensionality\":768}]}");
    json_decref(body);
    json_decref(c.params);

    c = call(GW_OP_EMBED, "gemini-embedding-001", "{\"input\":[\"only\"]}");
    body = encode(&c, "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    gw_test_assert_json(body, "{\"requests\":[{\"model\":\"models/gemini-embedding-001\",\"content\":{"
                      "\"parts\":[{\"text\":\"only\"}]}}]}");
    json_decref(body);
    json_decref(c.params);
}

static void test_embed_declines(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "gemini-embedding-001", "{\"input\":[[1,2,3],[4]]}");
    gw_err_t err = {0};
    json_t *many = json_array();
    (void)state;

    /* Token arrays: another model may take them; never a 400 (that would
     * refuse the request instead of failing over). */
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    assert_int_not_equal(err.http_status, 400);
    assert_non_null(strstr(err.msg, "token"));
    json_decref(c.params);

    for (int i = 0; i < 101; i++)
        json_array_append_new(many, json_string("x"));
    c = call(GW_OP_EMBED, "gemini-embedding-001", "{}");
    json_object_set(c.params, "input", many);
    memset(&err, 0, sizeof(err));
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    assert_int_not_equal(err.http_status, 400);
    assert_non_null(strstr(err.msg, "100"));

    /* Exactly 100 goes out. */
    json_array_remove(many, 0);
    json_decref(encode(&c, "/v1beta/models/gemini-embedding-001:batchEmbedContents"));
    json_decref(many);
    json_decref(c.params);

    /* Not an embedding model. */
    c = call(GW_OP_EMBED, "gemini-2.5-flash", "{\"input\":[\"a\"]}");
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    json_decref(c.params);
}

static void test_embed_response(void **state)
{
    /* Three values each: the size asked for (a vector of another size than the
     * one asked for, or than the model's own, is another space's). */
    gw_media_call_t c = call(GW_OP_EMBED, "gemini-embedding-001",
                             "{\"input\":[\"a\",\"b\"],\"dimensions\":3}");
    gw_media_call_t native = call(GW_OP_EMBED, "gemini-embedding-001", "{\"input\":[\"a\"]}");
    gw_media_result_t res;
    gw_err_t err = {0};
    (void)state;

    assert_int_equal(decode(&native, "{\"embeddings\":[{\"values\":[0.011,-0.022,0.033]}]}",
                            &res, &err),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(native.params);
    assert_int_equal(decode(&c,
                            "{\"embeddings\":[{\"values\":[0.011,-0.022,0.033]},"
                            "{\"values\":[0.044,0.055,-0.066]}]}",
                            &res, &err),
                     0);
    gw_test_assert_json(res.json, "{\"vectors\":[[0.011,-0.022,0.033],[0.044,0.055,-0.066]]}");
    assert_int_equal(res.prompt_tokens, -1);
    gw_media_result_dispose(&res);

    assert_int_equal(decode(&c, "{\"embeddings\":[{\"values\":[0.1]}]}", &res, &err), GW_DECLINED);
    assert_string_equal(err.msg, "wrong number of vectors");
    gw_media_result_dispose(&res);

    assert_int_equal(
        decode(&c, "{\"embeddings\":[{\"values\":[0.1]},{\"values\":[\"x\"]}]}", &res, &err),
        GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);

    /* A vector of another size than asked for. */
    c = call(GW_OP_EMBED, "gemini-embedding-001", "{\"input\":[\"a\"],\"dimensions\":2}");
    assert_int_equal(decode(&c, "{\"embeddings\":[{\"values\":[0.1,0.2,0.3]}]}", &res, &err),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_error_and_garbage_answers(void **state)
{
    static const gw_op_t ops[] = {GW_OP_EMBED, GW_OP_IMAGE, GW_OP_SPEECH, GW_OP_REALTIME};
    static const char *const models[] = {"gemini-embedding-001", "gemini-2.5-flash-image",
                                         "gemini-2.5-flash-preview-tts",
                                         "gemini-live-2.5-flash-preview"};
    static const char *const bodies[] = {
        "{\"error\":{\"code\":429,\"message\":\"You exceeded your current quota\","
        "\"status\":\"RESOURCE_EXHAUSTED\"}}",
        "{\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass a valid API key.\","
        "\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"reason\":\"API_KEY_INVALID\"}]}}",
        "<html>502 Bad Gateway</html>",
        "",
        "[1,2]",
    };
    (void)state;

    for (size_t i = 0; i < GW_ARRAY_LEN(ops); i++) {
        for (size_t k = 0; k < GW_ARRAY_LEN(bodies); k++) {
            gw_media_call_t c = call(ops[i], models[i], "{\"input\":[\"a\"],\"prompt\":\"p\"}");
            gw_media_result_t res;
            gw_err_t err = {0};
            assert_int_equal(decode(&c, bodies[k], &res, &err), GW_DECLINED);
            assert_true(err.msg[0] != '\0');
            assert_null(strstr(err.msg, "quota")); /* upstream prose is not copied */
            assert_null(res.json);
            assert_int_equal(res.bytes.len, 0);
            gw_media_result_dispose(&res);
            json_decref(c.params);
        }
    }
}

/* ---- images ------------------------------------------------------------------------ */

static void test_image_generate_request(void **state)
{
    gw_media_call_t c =
        call(GW_OP_IMAGE, "gemini-2.5-flash-image",
             "{\"mode\":\"generate\",\"prompt\":\"A watercolor fox reading a "
             "newspaper\",\"n\":3,\"size\":\"1792x1024\",\"aspect_ratio\":\"16:9\"}");
    json_t *body;
    gw_err_t err = {0};
    (void)state;

    body = encode(&c, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    gw_test_assert_json(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"A watercolor fox "
                      "reading a newspaper\"}]}],\"generationConfig\":{\"responseModalities\":["
                      "\"TEXT\",\"IMAGE\"],\"imageConfig\":{\"aspectRatio\":\"16:9\"}}}");
    json_decref(body);
    json_decref(c.params);

    c = call(GW_OP_IMAGE, "gemini-2.5-flash-image", "{\"mode\":\"generate\",\"prompt\":\"x\"}");
    body = encode(&c, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    gw_test_assert_json(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],"
                      "\"generationConfig\":{\"responseModalities\":[\"TEXT\",\"IMAGE\"]}}");
    json_decref(body);
    json_decref(c.params);

    c = call(GW_OP_IMAGE, "gemini-2.5-flash-image", "{\"mode\":\"generate\"}");
    assert_int_equal(encode_rc(&c, &err), GW_EINVAL);
    assert_int_equal(err.http_status, 400);
    json_decref(c.params);

    /* A chat model cannot draw. */
    c = call(GW_OP_IMAGE, "gemini-2.5-flash", "{\"mode\":\"generate\",\"prompt\":\"x\"}");
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    json_decref(c.params);
}

static void test_image_edit_and_variation_request(void **state)
{
    static const unsigned char png[] = "\x89PNG\r\n\x1a\nIHDR";
    static const unsigned char jpeg[] = "\xff\xd8\xff\xe0JFIF";
    static const unsigned char gif[] = "GIF89a";
    gw_media_file_t files[] = {
        {"image", "a.png", "image/png", png, sizeof(png) - 1},
        {"mask", "m.png", "image/png", png, sizeof(png) - 1},
        /* Declared as octet-stream: the bytes say JPEG. */
        {"image", "b.bin", "application/octet-stream", jpeg, sizeof(jpeg) - 1},
    };
    gw_media_file_t jpg_alias[] = {{"image", "c.jpg", "IMAGE/JPG; q=1", jpeg, sizeof(jpeg) - 1}};
    gw_media_file_t bad[] = {{"image", "d.gif", "image/gif", gif, sizeof(gif) - 1}};
    gw_media_call_t c = call(GW_OP_IMAGE, "gemini-2.5-flash-image",
                             "{\"mode\":\"edit\",\"prompt\":\"Make the sky purple\"}");
    gw_err_t err = {0};
    json_t *body;
    (void)state;

    c.files = files;
    c.nfiles = GW_ARRAY_LEN(files);
    body = encode(&c, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    /* The mask has no Gemini equivalent and is not sent. */
    gw_test_assert_json(body, "{\"contents\":[{\"role\":\"user\",\"parts\":["
                      "{\"text\":\"Make the sky purple\"},"
                      "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgpJSERS\"}},"
                      "{\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"/9j/4EpGSUY=\"}}]}],"
                      "\"generationConfig\":{\"responseModalities\":[\"TEXT\",\"IMAGE\"]}}");
    json_decref(body);

    c.files = jpg_alias;
    c.nfiles = 1;
    body = encode(&c, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(
                json_array_get(
                    json_object_get(json_array_get(json_object_get(body, "contents"), 0), "parts"),
                    1),
                "inlineData"),
            "mimeType")),
        "image/jpeg");
    json_decref(body);

    c.files = bad;
    assert_int_equal(encode_rc(&c, &err), GW_EINVAL);
    assert_int_equal(err.http_status, 400);
    assert_non_null(strstr(err.msg, "unsupported image type"));

    /* Edit without an image. */
    c.files = &files[1];
    memset(&err, 0, sizeof(err));
    assert_int_equal(encode_rc(&c, &err), GW_EINVAL);
    assert_int_equal(err.http_status, 400);
    json_decref(c.params);

    /* Variation: no prompt, the standard instruction. */
    c = call(GW_OP_IMAGE, "gemini-2.5-flash-image", "{\"mode\":\"variation\"}");
    c.files = files;
    c.nfiles = 1;
    body = encode(&c, "/v1beta/models/gemini-2.5-flash-image:generateContent");
    gw_test_assert_json(body,
                "{\"contents\":[{\"role\":\"user\",\"parts\":["
                "{\"text\":\"Create a variation of this image: same subject and style, "
                "different details.\"},"
                "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgpJSERS\"}}]}],"
                "\"generationConfig\":{\"responseModalities\":[\"TEXT\",\"IMAGE\"]}}");
    json_decref(body);
    json_decref(c.params);
}

static void test_image_response(void **state)
{
    gw_media_call_t c =
        call(GW_OP_IMAGE, "gemini-2.5-flash-image", "{\"mode\":\"generate\",\"prompt\":\"fox\"}");
    gw_media_result_t res;
    gw_err_t err = {0};
    (void)state;

    /* Gemini 3 style: a thought with a draft image, then the answer. */
    assert_int_equal(
        decode(&c,
               "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":["
               "{\"text\":\"Planning the composition\",\"thought\":true},"
               "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"RFJBRlQ=\"},"
               "\"thought\":true},"
               "{\"text\":\"Here is a watercolor fox \"},"
               "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw0KGgo=\"},"
               "\"thoughtSignature\":\"c2ln\"},"
               "{\"text\":\"reading the morning paper.\"},"
               "{\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"/9j/4AAQ\"}}]},"
               "\"finishReason\":\"STOP\",\"index\":0}],"
               "\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":1300,"
               "\"thoughtsTokenCount\":20,\"totalTokenCount\":1329}}",
               &res, &err),
        0);
    gw_test_assert_json(res.json, "{\"images\":[{\"b64\":\"iVBORw0KGgo=\",\"mime\":\"image/png\"},"
                          "{\"b64\":\"/9j/4AAQ\",\"mime\":\"image/jpeg\"}],"
                          "\"text\":\"Here is a watercolor fox reading the morning paper.\"}");
    assert_int_equal(res.prompt_tokens, 9);
    assert_int_equal(res.output_tokens, 1320);
    gw_media_result_dispose(&res);

    /* No image: finishReason in the message, failover. */
    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[]},"
                            "\"finishReason\":\"NO_IMAGE\"}]}",
                            &res, &err),
                     GW_DECLINED);
    assert_string_equal(err.msg, "upstream returned no image (NO_IMAGE)");
    gw_media_result_dispose(&res);

    assert_int_equal(
        decode(&c, "{\"candidates\":[{\"finishReason\":\"IMAGE_SAFETY\"}]}", &res, &err),
        GW_DECLINED);
    assert_string_equal(err.msg, "upstream returned no image (IMAGE_SAFETY)");
    gw_media_result_dispose(&res);

    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"I cannot draw "
                            "that.\"}]},\"finishReason\":\"STOP\"}]}",
                            &res, &err),
                     GW_DECLINED);
    assert_string_equal(err.msg, "upstream returned no image (STOP)");
    gw_media_result_dispose(&res);

    /* Only a draft image in a thought: still no image. */
    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{"
                            "\"mimeType\":\"image/png\",\"data\":\"RFJBRlQ=\"},\"thought\":true}]},"
                            "\"finishReason\":\"STOP\"}]}",
                            &res, &err),
                     GW_DECLINED);
    gw_media_result_dispose(&res);

    assert_int_equal(decode(&c, "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}", &res, &err),
                     GW_DECLINED);
    assert_string_equal(err.msg, "upstream returned no image (SAFETY)");
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

/* ---- speech --------------------------------------------------------------------------- */

static void test_speech_request(void **state)
{
    gw_media_call_t c = call(GW_OP_SPEECH, "gemini-2.5-flash-preview-tts",
                             "{\"input\":\"Have a wonderful day!\",\"voice\":\"Kore\","
                             "\"openai_voice\":\"cedar\",\"instructions\":\"Say cheerfully\","
                             "\"speed\":1.5}");
    gw_err_t err = {0};
    json_t *body;
    (void)state;

    body = encode(&c, "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent");
    /* No pace hint: the API layer time-stretches. */
    gw_test_assert_json(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Say cheerfully: "
                      "Have a wonderful day!\"}]}],\"generationConfig\":{\"responseModalities\":["
                      "\"AUDIO\"],\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":{"
                      "\"voiceName\":\"Kore\"}}}}}");
    json_decref(body);
    json_decref(c.params);

    c = call(GW_OP_SPEECH, "gemini-2.5-flash-preview-tts",
             "{\"input\":\"Hello\",\"voice\":\"puck\"}");
    body = encode(&c, "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent");
    gw_test_assert_json(body, "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello\"}]}],"
                      "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],\"speechConfig\":"
                      "{\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":\"Puck\"}}}}}");
    json_decref(body);
    json_decref(c.params);

    c = call(GW_OP_SPEECH, "gemini-2.5-flash-preview-tts",
             "{\"input\":\"Hello\",\"voice\":\"robot\"}");
    assert_int_equal(encode_rc(&c, &err), GW_EINVAL);
    assert_int_equal(err.http_status, 400);
    assert_string_equal(err.msg, "unsupported voice");
    json_decref(c.params);

    /* Live-only models speak over the socket only. */
    c = call(GW_OP_SPEECH, "gemini-live-2.5-flash-preview",
             "{\"input\":\"Hello\",\"voice\":\"Kore\"}");
    memset(&err, 0, sizeof(err));
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    assert_int_not_equal(err.http_status, 400);
    json_decref(c.params);
}

static void test_speech_response(void **state)
{
    gw_media_call_t c =
        call(GW_OP_SPEECH, "gemini-2.5-flash-preview-tts", "{\"input\":\"hi\",\"voice\":\"Kore\"}");
    gw_media_result_t res;
    gw_err_t err = {0};
    static const unsigned char pcm[] = {1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0};
    (void)state;

    assert_int_equal(
        decode(&c,
               "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":["
               "{\"text\":\"thinking about tone\",\"thought\":true},"
               "{\"inlineData\":{\"mimeType\":\"audio/L16;codec=pcm;rate=16000\",\"data\":"
               "\"/////w==\"},\"thought\":true},"
               "{\"inlineData\":{\"mimeType\":\"audio/L16;codec=pcm;rate=16000\",\"data\":"
               "\"AQACAAMABAA=\"}},"
               "{\"inlineData\":{\"mimeType\":\"audio/L16;codec=pcm;rate=16000\",\"data\":"
               "\"BQAGAA==\"}}]},\"finishReason\":\"STOP\",\"index\":0}],"
               "\"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":70,"
               "\"totalTokenCount\":79}}",
               &res, &err),
        0);
    assert_int_equal(res.bytes.len, sizeof(pcm));
    assert_memory_equal(res.bytes.ptr, pcm, sizeof(pcm));
    assert_string_equal(res.mime, "audio/L16;rate=16000");
    assert_int_equal(res.prompt_tokens, 9);
    assert_int_equal(res.output_tokens, 70);
    assert_null(res.json);
    gw_media_result_dispose(&res);

    /* No rate parameter: 24 kHz. audio/pcm is PCM too. */
    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{"
                            "\"mimeType\":\"audio/pcm\",\"data\":\"AQACAA==\"}}]}}]}",
                            &res, &err),
                     0);
    assert_string_equal(res.mime, "audio/L16;rate=24000");
    assert_int_equal(res.bytes.len, 4);
    assert_int_equal(res.prompt_tokens, -1);
    gw_media_result_dispose(&res);

    /* An encoded type is kept as given. */
    assert_int_equal(
        decode(&c,
               "{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{"
               "\"mimeType\":\"audio/wav\",\"data\":\"UklGRnh4eHhXQVZFZm10IA==\"}}]}}]}",
               &res, &err),
        0);
    assert_string_equal(res.mime, "audio/wav");
    assert_int_equal(res.bytes.len, 16);
    assert_memory_equal(res.bytes.ptr, "RIFFxxxxWAVEfmt ", 16);
    gw_media_result_dispose(&res);

    /* No audio at all. */
    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"no\"}]},"
                            "\"finishReason\":\"OTHER\"}]}",
                            &res, &err),
                     GW_DECLINED);
    assert_non_null(strstr(err.msg, "no audio"));
    assert_non_null(strstr(err.msg, "OTHER"));
    gw_media_result_dispose(&res);

    /* Undecodable base64. */
    assert_int_equal(decode(&c,
                            "{\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{"
                            "\"mimeType\":\"audio/L16;rate=24000\",\"data\":\"AQ$C\"}}]}}]}",
                            &res, &err),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

/* ---- realtime ------------------------------------------------------------------------ */

static int64_t parse_time(const char *s)
{
    struct tm tm;
    const char *end;

    assert_non_null(s);
    assert_int_equal(strlen(s), 20);
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    return (int64_t)timegm(&tm);
}

static const char *const full_session =
    "{\"session\":{\"model\":\"gpt-4o-realtime-preview\",\"modalities\":[\"audio\",\"text\"],"
    "\"instructions\":\"You are a helpful voice assistant.\",\"voice\":\"alloy\","
    "\"input_audio_format\":\"pcm16\",\"input_audio_transcription\":{\"model\":\"whisper-1\"},"
    "\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5,\"prefix_padding_ms\":300,"
    "\"silence_duration_ms\":500},"
    "\"tools\":["
    "{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"Weather for a city\","
    "\"parameters\":{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
    "\"properties\":{\"city\":{\"type\":\"string\"},\"unit\":{\"type\":[\"string\",\"null\"],"
    "\"enum\":[\"c\",\"f\",null]}},\"required\":[\"city\"],\"additionalProperties\":false}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"end_call\",\"description\":\"Hang up\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"lookup.v2\",\"parameters\":{\"type\":"
    "[\"object\",\"null\"],\"properties\":{\"q\":{\"type\":\"string\",\"exclusiveMinimum\":1}}}}}],"
    "\"tool_choice\":\"required\",\"temperature\":0.8,\"max_response_output_tokens\":\"inf\"}}";

static void test_realtime_request(void **state)
{
    gw_media_call_t c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview", full_session);
    int64_t now = gw_now_ms() / 1000;
    int64_t exp;
    int64_t new_exp;
    json_t *body;
    (void)state;

    body = encode(&c, "/v1alpha/auth_tokens");
    assert_int_equal(json_integer_value(json_object_get(body, "uses")), 1);
    exp = parse_time(json_string_value(json_object_get(body, "expireTime")));
    new_exp = parse_time(json_string_value(json_object_get(body, "newSessionExpireTime")));
    assert_true(exp > now && exp >= now + 1800 - 2 && exp <= now + 1800 + 2);
    assert_true(new_exp > now && new_exp >= now + 60 - 2 && new_exp <= now + 60 + 2);
    assert_null(json_object_get(body, "fieldMask"));
    /* tool_choice "required" cannot be expressed (no toolConfig in a Live
     * setup): the tools are declared, nothing else. */
    gw_test_assert_json(json_object_get(body, "bidiGenerateContentSetup"),
                "{\"model\":\"models/gemini-live-2.5-flash-preview\","
                "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],\"temperature\":0.8,"
                "\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":"
                "\"Schedar\"}}}},"
                "\"systemInstruction\":{\"parts\":[{\"text\":\"You are a helpful voice "
                "assistant.\"}]},"
                "\"tools\":[{\"functionDeclarations\":["
                "{\"name\":\"get_weather\",\"description\":\"Weather for a city\",\"parameters\":"
                "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"unit\":{"
                "\"type\":\"string\",\"enum\":[\"c\",\"f\"],\"nullable\":true}},\"required\":["
                "\"city\"]}},"
                "{\"name\":\"end_call\",\"description\":\"Hang up\"},"
                "{\"name\":\"lookup.v2\",\"parameters\":{\"type\":\"object\",\"properties\":{"
                "\"q\":{\"type\":\"string\"}}}}]}],"
                "\"inputAudioTranscription\":{},\"outputAudioTranscription\":{},"
                "\"realtimeInputConfig\":{\"automaticActivityDetection\":{\"silenceDurationMs\":"
                "500,\"prefixPaddingMs\":300}}}");
    json_decref(body);
    json_decref(c.params);
}

static void test_realtime_request_variants(void **state)
{
    gw_media_call_t c;
    json_t *body;
    int64_t now = gw_now_ms() / 1000;
    (void)state;

    /* Text only, tools refused with "none", manual turns, own lifetimes. */
    c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview",
             "{\"ttl_s\":600,\"new_session_ttl_s\":30,\"session\":{\"modalities\":[\"text\"],"
             "\"voice\":\"alloy\",\"turn_detection\":null,\"max_response_output_tokens\":512,"
             "\"tools\":[{\"type\":\"function\",\"name\":\"f\"}],\"tool_choice\":\"none\"}}");
    body = encode(&c, "/v1alpha/auth_tokens");
    assert_true(parse_time(json_string_value(json_object_get(body, "expireTime"))) <= now + 602);
    assert_true(parse_time(json_string_value(json_object_get(body, "expireTime"))) >= now + 598);
    assert_true(parse_time(json_string_value(json_object_get(body, "newSessionExpireTime"))) <=
                now + 32);
    gw_test_assert_json(json_object_get(body, "bidiGenerateContentSetup"),
                "{\"model\":\"models/gemini-live-2.5-flash-preview\","
                "\"generationConfig\":{\"responseModalities\":[\"TEXT\"],\"maxOutputTokens\":512},"
                "\"realtimeInputConfig\":{\"automaticActivityDetection\":{\"disabled\":true}}}");
    json_decref(body);
    json_decref(c.params);

    /* No session at all: audio (OpenAI's default), nothing else. */
    c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview", "{}");
    body = encode(&c, "/v1alpha/auth_tokens");
    gw_test_assert_json(json_object_get(body, "bidiGenerateContentSetup"),
                "{\"model\":\"models/gemini-live-2.5-flash-preview\","
                "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"]},"
                "\"outputAudioTranscription\":{}}");
    json_decref(body);
    json_decref(c.params);

    /* Native-audio models answer in audio only, whatever the client asked. */
    c = call(GW_OP_REALTIME, "gemini-2.5-flash-native-audio-preview-12-2025",
             "{\"session\":{\"modalities\":[\"text\"]}}");
    body = encode(&c, "/v1alpha/auth_tokens");
    gw_test_assert_json(json_object_get(body, "bidiGenerateContentSetup"),
                "{\"model\":\"models/gemini-2.5-flash-native-audio-preview-12-2025\","
                "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"]},"
                "\"outputAudioTranscription\":{}}");
    json_decref(body);
    json_decref(c.params);
}

static void test_realtime_bad_tools(void **state)
{
    static const struct {
        const char *session;
        const char *want; /* in err.msg */
    } rows[] = {
        {"{\"tools\":[{\"type\":\"function\",\"name\":\"ok\"},{\"type\":\"function\"}]}",
         "tools[1]"},
        {"{\"tools\":[{\"type\":\"function\",\"name\":\"9lives\"}]}", "tools[0]"},
        {"{\"tools\":[{\"type\":\"function\",\"name\":\"has space\"}]}", "tools[0]"},
        {"{\"tools\":[{\"type\":\"function\",\"name\":\"a:b\"}]}", "tools[0]"},
        {"{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]}", "tools[0]"},
        {"{\"tools\":[{\"type\":\"function\",\"name\":"
         "\"a1234567890123456789012345678901234567890123456789012345678901234\"}]}",
         "tools[0]"},
        {"{\"tools\":[{\"type\":\"function\",\"name\":\"x\"},{\"type\":\"function\",\"name\":"
         "\"y\"},{\"type\":\"function\",\"function\":{\"name\":\"x\"}}]}",
         "tools[2]"},
        {"{\"tools\":[{\"type\":\"mcp\",\"server_label\":\"s\"}]}", "tools[0]"},
        {"{\"tools\":{\"name\":\"x\"}}", "tools"},
        {"{\"voice\":\"robot\"}", "voice"},
    };
    (void)state;

    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        gw_media_call_t c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview", "{}");
        gw_err_t err = {0};
        json_object_set_new(c.params, "session", parse(rows[i].session));
        assert_int_equal(encode_rc(&c, &err), GW_EINVAL);
        assert_int_equal(err.http_status, 400);
        if (strstr(err.msg, rows[i].want) == NULL)
            fail_msg("row %zu: %s", i, err.msg);
        json_decref(c.params);
    }
    /* 64 characters is the longest name allowed. */
    {
        gw_media_call_t c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview",
                                 "{\"session\":{\"tools\":[{\"type\":\"function\",\"name\":"
                                 "\"a12345678901234567890123456789012345678901234567890123456789"
                                 "0123\"}]}}");
        json_decref(encode(&c, "/v1alpha/auth_tokens"));
        json_decref(c.params);
    }
}

static void test_realtime_response(void **state)
{
    gw_media_call_t c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview", full_session);
    gw_media_result_t res;
    gw_err_t err = {0};
    int64_t now = gw_now_ms() / 1000;
    (void)state;

    /* Times echoed: those are the ones asked for. */
    assert_int_equal(decode(&c,
                            "{\"name\":\"auth_tokens/6f0b0a1e3c2d4e5f8a9b\",\"expireTime\":"
                            "\"2026-05-01T12:30:00Z\",\"newSessionExpireTime\":"
                            "\"2026-05-01T12:01:00.123456Z\",\"uses\":1}",
                            &res, &err),
                     0);
    gw_test_assert_json(res.json,
                "{\"token\":\"auth_tokens/6f0b0a1e3c2d4e5f8a9b\",\"expires_at\":1777638600,"
                "\"new_session_expires_at\":1777636860,"
                "\"connect_url\":\"ws://127.0.0.1:8089/google/ws/"
                "google.ai.generativelanguage.v1alpha.GenerativeService."
                "BidiGenerateContentConstrained?access_token=auth_tokens%2F6f0b0a1e3c2d4e5f8a9b\","
                "\"tools\":[\"get_weather\",\"end_call\",\"lookup.v2\"],"
                "\"model\":\"gemini-live-2.5-flash-preview\"}");
    gw_media_result_dispose(&res);

    /* Only the name: the times are recomputed from the lifetimes. */
    assert_int_equal(decode(&c, "{\"name\":\"auth_tokens/abc\"}", &res, &err), 0);
    {
        int64_t exp = json_integer_value(json_object_get(res.json, "expires_at"));
        int64_t new_exp = json_integer_value(json_object_get(res.json, "new_session_expires_at"));
        assert_true(exp >= now + 1800 && exp <= now + 1802);
        assert_true(new_exp >= now + 60 && new_exp <= now + 62);
    }
    gw_media_result_dispose(&res);

    assert_int_equal(decode(&c, "{\"uses\":1}", &res, &err), GW_DECLINED);
    assert_null(res.json);
    gw_media_result_dispose(&res);
    assert_int_equal(decode(&c, "{\"name\":\"\"}", &res, &err), GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);

    /* The real host: wss, no path prefix, trailing slash ignored. */
    set_base("https://generativelanguage.googleapis.com/");
    c = call(GW_OP_REALTIME, "gemini-live-2.5-flash-preview",
             "{\"session\":{\"tool_choice\":\"none\",\"tools\":[{\"type\":\"function\","
             "\"name\":\"f\"}]}}");
    assert_int_equal(decode(&c, "{\"name\":\"auth_tokens/a+b=\"}", &res, &err), 0);
    assert_string_equal(json_string_value(json_object_get(res.json, "connect_url")),
                        "wss://generativelanguage.googleapis.com/ws/"
                        "google.ai.generativelanguage.v1alpha.GenerativeService."
                        "BidiGenerateContentConstrained?access_token=auth_tokens%2Fa%2Bb%3D");
    gw_test_assert_json(json_object_get(res.json, "tools"), "[]");
    gw_media_result_dispose(&res);
    {
        gw_http_out_t out;
        gw_http_out_init(&out);
        assert_int_equal(gw_dialect_gemini.media_request(&c, &out, &err), 0);
        assert_string_equal(out.url,
                            "https://generativelanguage.googleapis.com/v1alpha/auth_tokens");
        gw_http_out_dispose(&out);
    }
    json_decref(c.params);
    set_base(BASE);

    /* A chat model mints no Live tokens. */
    c = call(GW_OP_REALTIME, "gemini-2.5-flash", "{}");
    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    json_decref(c.params);
}

/* ---- transcription ------------------------------------------------------------------ */

static void test_transcribe_declined(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "gemini-live-2.5-flash-preview", "{}");
    gw_media_result_t res;
    gw_err_t err = {0};
    (void)state;

    assert_int_equal(encode_rc(&c, &err), GW_DECLINED);
    assert_int_not_equal(err.http_status, 400);
    assert_int_equal(decode(&c, "{\"candidates\":[]}", &res, &err), GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_wired_into_dialect(void **state)
{
    (void)state;
    assert_ptr_equal(gw_dialect_for(model("gemini-embedding-001")->provider), &gw_dialect_gemini);
    assert_ptr_equal(gw_dialect_gemini.media_request, gw_gemini_media_request);
    assert_ptr_equal(gw_dialect_gemini.media_response, gw_gemini_media_response);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wired_into_dialect),
        cmocka_unit_test(test_voices),
        cmocka_unit_test(test_embed_request),
        cmocka_unit_test(test_embed_declines),
        cmocka_unit_test(test_embed_response),
        cmocka_unit_test(test_error_and_garbage_answers),
        cmocka_unit_test(test_image_generate_request),
        cmocka_unit_test(test_image_edit_and_variation_request),
        cmocka_unit_test(test_image_response),
        cmocka_unit_test(test_speech_request),
        cmocka_unit_test(test_speech_response),
        cmocka_unit_test(test_realtime_request),
        cmocka_unit_test(test_realtime_request_variants),
        cmocka_unit_test(test_realtime_bad_tools),
        cmocka_unit_test(test_realtime_response),
        cmocka_unit_test(test_transcribe_declined),
    };
    return cmocka_run_group_tests_name("providers/gemini_media", tests, setup, teardown);
}
