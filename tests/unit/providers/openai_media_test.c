/* The OpenAI dialect's media calls (providers/openai_media.c): URLs, auth,
 * JSON and multipart bodies for each op and catalog "api", and the decoders
 * on realistic (redacted) answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "providers/dialect.h"
#include "providers/media_ops.h"
#include "test_wire.h"

/* A small catalog shaped like the real one, with local bases where the URL
 * rules matter (the pollinations root, a keyless provider). */
static const char test_catalog[] =
    "{\"providers\":["
    "{\"id\":\"groq\",\"base_url\":\"https://api.groq.com/openai/v1\",\"dialect\":\"openai\","
    " \"models\":[{\"id\":\"whisper-large-v3-turbo\",\"kind\":\"stt\","
    "  \"capabilities\":[\"stt\"]}]},"
    "{\"id\":\"cloudflare\",\"base_url\":\"https://api.cloudflare.com/client/v4/accounts/"
    "{account_id}/ai/v1\",\"dialect\":\"cloudflare\",\"needs_account_id\":true,\"models\":["
    " {\"id\":\"@cf/baai/bge-m3\",\"kind\":\"embedding\",\"embedding\":{\"space\":\"bge-m3\","
    "  \"dimensions\":1024}},"
    " {\"id\":\"@cf/black-forest-labs/flux-1-schnell\",\"kind\":\"image\","
    "  \"api\":\"cloudflare-run\"},"
    " {\"id\":\"@cf/stabilityai/stable-diffusion-xl-base-1.0\",\"kind\":\"image\","
    "  \"api\":\"cloudflare-run\"},"
    " {\"id\":\"@cf/openai/whisper\",\"kind\":\"stt\",\"api\":\"cloudflare-run\"},"
    " {\"id\":\"@cf/openai/whisper-large-v3-turbo\",\"kind\":\"stt\","
    "  \"api\":\"cloudflare-run\"},"
    " {\"id\":\"@cf/openai/whisper-tiny-en\",\"kind\":\"stt\",\"api\":\"none\"},"
    " {\"id\":\"@cf/deepgram/nova-3\",\"kind\":\"stt\",\"api\":\"cloudflare-run\"},"
    " {\"id\":\"@cf/black-forest-labs/flux-2-klein-4b\",\"kind\":\"image\",\"api\":\"none\"}]},"
    "{\"id\":\"pollinations\",\"base_url\":\"http://127.0.0.1:8123/pollinations/v1/\","
    " \"dialect\":\"openai\",\"keyless\":true,\"models\":["
    " {\"id\":\"flux\",\"kind\":\"image\",\"api\":\"pollinations-image\"},"
    " {\"id\":\"future\",\"kind\":\"image\",\"api\":\"some-new-api\"}]},"
    "{\"id\":\"nvidia\",\"base_url\":\"https://integrate.api.nvidia.com/v1\","
    " \"dialect\":\"openai\",\"policy\":{\"embedding_fields\":{\"input_type\":\"query\"}},"
    " \"models\":[{\"id\":\"nvidia/nv-embedqa-e5-v5\",\"kind\":\"embedding\","
    "  \"embedding\":{\"dimensions\":1024}}]},"
    "{\"id\":\"github\",\"base_url\":\"https://models.github.ai/inference\",\"dialect\":\"openai\","
    " \"models\":[{\"id\":\"openai/text-embedding-3-small\",\"kind\":\"embedding\","
    "  \"embedding\":{\"dimensions\":1536,\"flexible\":true}},"
    " {\"id\":\"openai/gpt-image-1\",\"kind\":\"image\"}]}"
    "]}";

static gw_catalog_t cat;

/* 1x1 PNG (docs/reference/wire-openai.md, section 5.1). */
static const char png_b64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYG"
                              "D4DwABBAEAHnOmNwAAAABJRU5ErkJggg==";
static const unsigned char jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',
                                          'F',  'I',  'F',  0x00, 0x01, 0x01, 0x00};

static int setup(void **state)
{
    gw_err_t err = {0};
    json_t *root = json_loads(test_catalog, 0, NULL);
    int rc;

    (void)state;
    if (root == NULL)
        return -1;
    rc = gw_catalog_load_json(&cat, root, &err);
    json_decref(root);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    gw_catalog_dispose(&cat);
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static gw_media_call_t call(gw_op_t op, const char *provider, const char *model,
                            const char *params, const char *secret, const char *account)
{
    gw_media_call_t c = {0};

    c.op = op;
    c.model = gw_catalog_model(&cat, provider, model);
    assert_non_null(c.model);
    c.secret = secret;
    c.account_id = account;
    c.params = json_loads(params, 0, NULL);
    assert_non_null(c.params);
    return c;
}

static bool has_header_named(const gw_http_out_t *o, const char *name)
{
    size_t n = strlen(name);

    for (struct curl_slist *l = o->headers; l != NULL; l = l->next)
        if (strncasecmp(l->data, name, n) == 0 && l->data[n] == ':')
            return true;
    return false;
}

/* Builds the request (expecting rc) and returns the parsed JSON body, if any. */
static json_t *request(const gw_media_call_t *c, gw_http_out_t *out, int want_rc)
{
    gw_err_t err = {0};
    int rc;

    gw_http_out_init(out);
    rc = gw_openai_media_request(c, out, &err);
    assert_int_equal(rc, want_rc);
    if (rc != 0 || out->body.len == 0 || out->nparts > 0)
        return NULL;
    return json_loadb(out->body.ptr, out->body.len, 0, NULL);
}

/* Decodes an answer; returns rc, result in res (caller disposes). */
static int answer(const gw_media_call_t *c, const char *ct, const void *body, size_t len,
                  gw_media_result_t *res)
{
    gw_err_t err = {0};
    gw_str_t b = {body, len};
    int rc;

    gw_media_result_init(res);
    rc = gw_openai_media_response(c, ct, b, res, &err);
    if (rc != 0) {
        assert_int_equal(rc, GW_DECLINED);
        assert_true(err.msg[0] != '\0');
        assert_null(res->json);
    }
    return rc;
}

static int answer_s(const gw_media_call_t *c, const char *ct, const char *body,
                    gw_media_result_t *res)
{
    return answer(c, ct, body, strlen(body), res);
}

/* Every one of these JSON answers is refused (the caller fails over). */
static void assert_all_declined(const gw_media_call_t *c, const char *const *bad, size_t n)
{
    gw_media_result_t res;

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(answer_s(c, "application/json", bad[i], &res), GW_DECLINED);
        gw_media_result_dispose(&res);
    }
}

static const gw_form_part_t *part(const gw_http_out_t *o, const char *name, size_t nth)
{
    for (size_t i = 0; i < o->nparts; i++)
        if (strcmp(o->parts[i].name, name) == 0 && nth-- == 0)
            return &o->parts[i];
    return NULL;
}

static void assert_part_text(const gw_http_out_t *o, const char *name, size_t nth,
                             const char *want)
{
    const gw_form_part_t *p = part(o, name, nth);

    assert_non_null(p);
    assert_null(p->filename);
    assert_int_equal(p->len, strlen(want));
    assert_memory_equal(p->data, want, p->len);
}

static double vec_at(json_t *res_json, size_t v, size_t i)
{
    return json_real_value(json_array_get(json_array_get(json_object_get(res_json, "vectors"), v),
                                          i));
}

/* ---- embeddings ----------------------------------------------------------------- */

static void test_embed_request_cloudflare(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "cloudflare", "@cf/baai/bge-m3",
                             "{\"input\":[\"hello\",\"world\"],\"dimensions\":1024}", "cf-token",
                             "acc123");
    gw_http_out_t out;
    json_t *b = request(&c, &out, 0);

    (void)state;
    assert_string_equal(out.url,
                        "https://api.cloudflare.com/client/v4/accounts/acc123/ai/v1/embeddings");
    assert_true(out.post);
    assert_true(gw_test_has_header(&out, "Authorization: Bearer cf-token"));
    assert_true(gw_test_has_header(&out, "Content-Type: application/json"));
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "@cf/baai/bge-m3");
    assert_true(json_equal(json_object_get(b, "input"), json_object_get(c.params, "input")));
    assert_string_equal(json_string_value(json_object_get(b, "encoding_format")), "float");
    /* a fixed-size model asked for its own size gets no dimensions parameter */
    assert_null(json_object_get(b, "dimensions"));
    assert_null(json_object_get(b, "input_type"));
    json_decref(b);
    json_decref(c.params);
    gw_http_out_dispose(&out);
}

static void test_embed_request_flexible_dims_and_tokens(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "github", "openai/text-embedding-3-small",
                             "{\"input\":[[9906,1917],[15339]],\"dimensions\":256}", "ghp_x",
                             NULL);
    gw_http_out_t out;
    json_t *b = request(&c, &out, 0);

    (void)state;
    assert_string_equal(out.url, "https://models.github.ai/inference/embeddings");
    assert_true(gw_test_has_header(&out, "Authorization: Bearer ghp_x"));
    assert_int_equal(json_integer_value(json_object_get(b, "dimensions")), 256);
    assert_true(json_equal(json_object_get(b, "input"), json_object_get(c.params, "input")));
    json_decref(b);
    json_decref(c.params);
    gw_http_out_dispose(&out);
}

static void test_embed_request_nvidia(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "nvidia", "nvidia/nv-embedqa-e5-v5",
                             "{\"input\":[\"q\"]}", "nvapi-x", NULL);
    gw_http_out_t out;
    json_t *b = request(&c, &out, 0);

    (void)state;
    assert_string_equal(out.url, "https://integrate.api.nvidia.com/v1/embeddings");
    assert_string_equal(json_string_value(json_object_get(b, "input_type")), "query");
    assert_null(json_object_get(b, "dimensions"));
    json_decref(b);
    gw_http_out_dispose(&out);
    /* another size than its own: this candidate cannot serve the call */
    json_object_set_new(c.params, "dimensions", json_integer(256));
    assert_null(request(&c, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_embed_response_out_of_order(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "github", "openai/text-embedding-3-small",
                             "{\"input\":[\"a\",\"b\",\"c\"],\"dimensions\":2}", "k", NULL);
    gw_media_result_t res;

    (void)state;
    assert_int_equal(
        answer_s(&c, "application/json",
                 "{\"object\":\"list\",\"data\":["
                 "{\"object\":\"embedding\",\"index\":2,\"embedding\":[0.5,-0.5]},"
                 "{\"object\":\"embedding\",\"index\":0,\"embedding\":[1,2]},"
                 "{\"object\":\"embedding\",\"index\":1,\"embedding\":[0.25,0.75]}],"
                 "\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":3,"
                 "\"total_tokens\":3}}",
                 &res),
        0);
    assert_int_equal(json_array_size(json_object_get(res.json, "vectors")), 3);
    assert_true(vec_at(res.json, 0, 0) == 1.0);
    assert_true(vec_at(res.json, 0, 1) == 2.0);
    assert_true(vec_at(res.json, 1, 0) == 0.25);
    assert_true(vec_at(res.json, 2, 1) == -0.5);
    assert_int_equal(res.prompt_tokens, 3);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_embed_response_base64(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "cloudflare", "@cf/baai/bge-m3",
                             "{\"input\":[\"x\"],\"dimensions\":3}", "k", "acc");
    gw_media_result_t res;

    (void)state;
    /* "AACAPwAAAEAAAEBA" is float32 LE 1.0, 2.0, 3.0 (docs/reference/wire-openai.md section 4) */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAAAEAAAEBA\"}]}",
                              &res),
                     0);
    assert_int_equal(json_array_size(json_array_get(json_object_get(res.json, "vectors"), 0)), 3);
    assert_true(vec_at(res.json, 0, 0) == 1.0);
    assert_true(vec_at(res.json, 0, 1) == 2.0);
    assert_true(vec_at(res.json, 0, 2) == 3.0);
    assert_int_equal(res.prompt_tokens, -1); /* not reported */
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_embed_response_unusable(void **state)
{
    gw_media_call_t c = call(GW_OP_EMBED, "github", "openai/text-embedding-3-small",
                             "{\"input\":[\"a\",\"b\"],\"dimensions\":2}", "k", NULL);
    static const char *const bad[] = {
        /* fewer vectors than inputs */
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}",
        /* one index twice */
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":0,\"embedding\":[1,2]}]}",
        /* index out of range */
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":5,\"embedding\":[1,2]}]}",
        /* another size than asked */
        "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]},{\"index\":1,\"embedding\":[1,2,3]}]}",
        /* ragged */
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1]}]}",
        /* not numbers, bad base64 */
        "{\"data\":[{\"index\":0,\"embedding\":[\"a\",2]},{\"index\":1,\"embedding\":[1,2]}]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"A!==\"},{\"index\":1,\"embedding\":[1,2]}]}",
        /* float32 NaN (0x7fc00000) and a length that is no whole float */
        "{\"data\":[{\"index\":0,\"embedding\":\"AADAfwAAgD8=\"},{\"index\":1,"
        "\"embedding\":[1,2]}]}",
        "{\"data\":[{\"index\":0,\"embedding\":\"AACAPwAA\"},{\"index\":1,"
        "\"embedding\":[1,2]}]}",
        /* in-band error (even beside data), unreadable */
        "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit_error\"}}",
        "{\"data\":[{\"index\":0,\"embedding\":[1,2]},{\"index\":1,\"embedding\":[1,2]}],"
        "\"error\":{\"message\":\"partial failure\"}}",
        "<html>502 Bad Gateway</html>",
        "",
    };

    (void)state;
    assert_all_declined(&c, bad, sizeof(bad) / sizeof(bad[0]));
    json_decref(c.params);
}

/* ---- images: OpenAI-shaped ------------------------------------------------------ */

static void test_image_request_default(void **state)
{
    gw_media_call_t c = call(GW_OP_IMAGE, "github", "openai/gpt-image-1",
                             "{\"mode\":\"generate\",\"prompt\":\"a fox\",\"n\":2,"
                             "\"size\":\"1024x1536\",\"width\":1024,\"height\":1536}",
                             "k", NULL);
    gw_http_out_t out;
    json_t *b = request(&c, &out, 0);

    (void)state;
    assert_string_equal(out.url, "https://models.github.ai/inference/images/generations");
    assert_true(out.post);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "openai/gpt-image-1");
    assert_string_equal(json_string_value(json_object_get(b, "prompt")), "a fox");
    assert_int_equal(json_integer_value(json_object_get(b, "n")), 2);
    assert_string_equal(json_string_value(json_object_get(b, "size")), "1024x1536");
    assert_string_equal(json_string_value(json_object_get(b, "response_format")), "b64_json");
    assert_null(json_object_get(b, "width"));
    json_decref(b);
    gw_http_out_dispose(&out);
    /* edits and variations are not this API's */
    json_object_set_new(c.params, "mode", json_string("edit"));
    assert_null(request(&c, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    json_object_set_new(c.params, "mode", json_string("variation"));
    assert_null(request(&c, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_image_response_default(void **state)
{
    gw_media_call_t c = call(GW_OP_IMAGE, "github", "openai/gpt-image-1",
                             "{\"prompt\":\"p\"}", "k", NULL);
    gw_media_result_t res;
    gw_buf_t jpeg;
    json_t *body;
    json_t *img;
    char *text;

    (void)state;
    gw_buf_init(&jpeg, 1024);
    assert_int_equal(gw_b64_encode(jpeg_head, sizeof(jpeg_head), &jpeg), 0);
    body = json_pack("{s:i,s:[{s:s},{s:s,s:s}],s:{s:i,s:i}}", "created", 1767225600, "data",
                     "b64_json", png_b64, "b64_json", jpeg.ptr, "revised_prompt",
                     "A watercolor fox", "usage", "input_tokens", 50, "output_tokens", 1056);
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(answer_s(&c, "application/json", text, &res), 0);
    img = json_array_get(json_object_get(res.json, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(img, "b64")), png_b64);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/png");
    img = json_array_get(json_object_get(res.json, "images"), 1);
    assert_string_equal(json_string_value(json_object_get(img, "b64")), jpeg.ptr);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/jpeg");
    assert_string_equal(json_string_value(json_object_get(res.json, "text")), "A watercolor fox");
    assert_int_equal(res.prompt_tokens, 50);
    assert_int_equal(res.output_tokens, 1056);
    gw_media_result_dispose(&res);
    free(text);
    json_decref(body);
    gw_buf_dispose(&jpeg);

    /* URL answers are not fetched; errors and junk fail over */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"created\":1,\"data\":[{\"url\":\"https://x.example/a.png\"}]}",
                              &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&c, "application/json", "{\"created\":1,\"data\":[]}", &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"error\":{\"message\":\"content policy\",\"code\":\"x\"}}", &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"data\":[{\"b64_json\":\"not base64!\"}]}", &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

/* ---- images: Cloudflare's run endpoint ------------------------------------------- */

static void test_image_request_cloudflare_run(void **state)
{
    gw_media_call_t c = call(GW_OP_IMAGE, "cloudflare", "@cf/black-forest-labs/flux-1-schnell",
                             "{\"mode\":\"generate\",\"prompt\":\"a fox\",\"n\":1,"
                             "\"width\":768,\"height\":512}",
                             "cf-token", "acc123");
    gw_http_out_t out;
    json_t *b = request(&c, &out, 0);

    (void)state;
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run/"
                                 "@cf/black-forest-labs/flux-1-schnell");
    assert_true(out.post);
    assert_true(gw_test_has_header(&out, "Authorization: Bearer cf-token"));
    assert_true(gw_test_has_header(&out, "Content-Type: application/json"));
    assert_string_equal(json_string_value(json_object_get(b, "prompt")), "a fox");
    assert_int_equal(json_integer_value(json_object_get(b, "width")), 768);
    assert_int_equal(json_integer_value(json_object_get(b, "height")), 512);
    assert_null(json_object_get(b, "model"));
    assert_null(json_object_get(b, "n"));
    assert_int_equal(json_object_size(b), 3);
    json_decref(b);
    gw_http_out_dispose(&out);

    /* no size asked: prompt only */
    json_object_del(c.params, "width");
    json_object_del(c.params, "height");
    b = request(&c, &out, 0);
    assert_int_equal(json_object_size(b), 1);
    json_decref(b);
    gw_http_out_dispose(&out);

    /* "size" alone is read as WxH */
    json_object_set_new(c.params, "size", json_string("512x512"));
    b = request(&c, &out, 0);
    assert_int_equal(json_integer_value(json_object_get(b, "width")), 512);
    assert_int_equal(json_integer_value(json_object_get(b, "height")), 512);
    json_decref(b);
    gw_http_out_dispose(&out);

    json_object_set_new(c.params, "mode", json_string("variation"));
    assert_null(request(&c, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_image_response_cloudflare(void **state)
{
    gw_media_call_t flux = call(GW_OP_IMAGE, "cloudflare", "@cf/black-forest-labs/flux-1-schnell",
                                "{\"prompt\":\"p\"}", "k", "acc");
    gw_media_call_t sdxl = call(GW_OP_IMAGE, "cloudflare",
                                "@cf/stabilityai/stable-diffusion-xl-base-1.0",
                                "{\"prompt\":\"p\"}", "k", "acc");
    gw_media_result_t res;
    gw_buf_t jpeg;
    gw_buf_t png;
    json_t *img;
    char *text;

    (void)state;
    /* FLUX: JSON-wrapped base64 JPEG */
    gw_buf_init(&jpeg, 1024);
    assert_int_equal(gw_b64_encode(jpeg_head, sizeof(jpeg_head), &jpeg), 0);
    text = NULL;
    {
        json_t *b = json_pack("{s:{s:s},s:b,s:[],s:[]}", "result", "image", jpeg.ptr, "success",
                              1, "errors", "messages");
        text = json_dumps(b, JSON_COMPACT);
        json_decref(b);
    }
    assert_int_equal(answer_s(&flux, "application/json; charset=utf-8", text, &res), 0);
    img = json_array_get(json_object_get(res.json, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(img, "b64")), jpeg.ptr);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/jpeg");
    assert_int_equal(json_array_size(json_object_get(res.json, "images")), 1);
    gw_media_result_dispose(&res);
    free(text);

    /* SDXL: raw PNG bytes */
    gw_buf_init(&png, 1024);
    assert_int_equal(gw_b64_decode(png_b64, strlen(png_b64), &png), 0);
    assert_int_equal(answer(&sdxl, "image/png", png.ptr, png.len, &res), 0);
    img = json_array_get(json_object_get(res.json, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(img, "b64")), png_b64);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/png");
    gw_media_result_dispose(&res);
    /* no content type: the bytes decide */
    assert_int_equal(answer(&sdxl, NULL, png.ptr, png.len, &res), 0);
    gw_media_result_dispose(&res);

    /* Cloudflare errors and bytes that are no image */
    assert_int_equal(answer_s(&flux, "application/json",
                              "{\"result\":null,\"success\":false,\"errors\":[{\"code\":3030,"
                              "\"message\":\"AiError: Input prompt contains NSFW content.\"}],"
                              "\"messages\":[]}",
                              &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&flux, "application/json", "{\"result\":{},\"success\":true}", &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&sdxl, "image/png", "definitely not a png", &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&sdxl, "application/json", "{\"success\":", &res), GW_DECLINED);
    gw_media_result_dispose(&res);

    gw_buf_dispose(&png);
    gw_buf_dispose(&jpeg);
    json_decref(flux.params);
    json_decref(sdxl.params);
}

/* ---- images: Pollinations ------------------------------------------------------------ */

static void test_image_request_pollinations(void **state)
{
    gw_media_call_t c = call(GW_OP_IMAGE, "pollinations", "flux",
                             "{\"mode\":\"generate\",\"prompt\":\"a red fox & snow/ice? 100% "
                             "\\u00e9t\\u00e9\",\"n\":1,\"width\":512,\"height\":768}",
                             NULL, NULL);
    gw_http_out_t out;

    (void)state;
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "http://127.0.0.1:8123/pollinations/image/"
                                 "a%20red%20fox%20%26%20snow%2Fice%3F%20100%25%20%C3%A9t%C3%A9"
                                 "?model=flux&width=512&height=768&nologo=true");
    assert_false(out.post);
    assert_int_equal(out.body.len, 0);
    assert_false(has_header_named(&out, "Authorization")); /* keyless */
    gw_http_out_dispose(&out);

    /* with a key configured it is sent; without a size none is asked */
    c.secret = "sk_pollen";
    json_object_del(c.params, "width");
    json_object_del(c.params, "height");
    json_object_set_new(c.params, "prompt", json_string("cat"));
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url,
                        "http://127.0.0.1:8123/pollinations/image/cat?model=flux&nologo=true");
    assert_true(gw_test_has_header(&out, "Authorization: Bearer sk_pollen"));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_image_response_pollinations(void **state)
{
    gw_media_call_t c = call(GW_OP_IMAGE, "pollinations", "flux", "{\"prompt\":\"p\"}", NULL,
                             NULL);
    gw_media_result_t res;
    gw_buf_t b64;
    json_t *img;

    (void)state;
    assert_int_equal(answer(&c, "image/jpeg", jpeg_head, sizeof(jpeg_head), &res), 0);
    img = json_array_get(json_object_get(res.json, "images"), 0);
    gw_buf_init(&b64, 1024);
    assert_int_equal(gw_b64_encode(jpeg_head, sizeof(jpeg_head), &b64), 0);
    assert_string_equal(json_string_value(json_object_get(img, "b64")), b64.ptr);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/jpeg");
    gw_media_result_dispose(&res);
    gw_buf_dispose(&b64);
    /* a WebP by its magic, whatever the header says */
    assert_int_equal(answer(&c, "application/octet-stream", "RIFF\x10\0\0\0WEBPVP8 ", 16, &res),
                     0);
    img = json_array_get(json_object_get(res.json, "images"), 0);
    assert_string_equal(json_string_value(json_object_get(img, "mime")), "image/webp");
    gw_media_result_dispose(&res);
    /* an error page is not an image */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"error\":\"Too Many Requests\",\"status\":429}", &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_image_api_none_or_unknown(void **state)
{
    gw_media_call_t none = call(GW_OP_IMAGE, "cloudflare", "@cf/black-forest-labs/flux-2-klein-4b",
                                "{\"prompt\":\"p\"}", "k", "acc");
    gw_media_call_t future = call(GW_OP_IMAGE, "pollinations", "future", "{\"prompt\":\"p\"}",
                                  NULL, NULL);
    gw_http_out_t out;
    gw_media_result_t res;

    (void)state;
    assert_null(request(&none, &out, GW_DECLINED));
    assert_null(out.url);
    gw_http_out_dispose(&out);
    assert_null(request(&future, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    assert_int_equal(answer(&future, "image/png", jpeg_head, sizeof(jpeg_head), &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(none.params);
    json_decref(future.params);
}

/* ---- transcription ------------------------------------------------------------------- */

static const unsigned char wav[] = "RIFF\x24\0\0\0WAVEfmt ";
static const gw_media_file_t wav_file = {"file", "clip.wav", "audio/wav", wav, sizeof(wav) - 1};

static void test_transcribe_request(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "groq", "whisper-large-v3-turbo",
                             "{\"language\":\"de\",\"prompt\":\"FreeLLMAPI, Groq\","
                             "\"temperature\":0.2,\"segments\":true,\"words\":true}",
                             "gsk_x", NULL);
    gw_http_out_t out;
    const gw_form_part_t *f;

    (void)state;
    c.files = &wav_file;
    c.nfiles = 1;
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.groq.com/openai/v1/audio/transcriptions");
    assert_true(out.post);
    assert_true(gw_test_has_header(&out, "Authorization: Bearer gsk_x"));
    /* curl sets the multipart Content-Type with its boundary */
    assert_false(has_header_named(&out, "Content-Type"));
    f = part(&out, "file", 0);
    assert_non_null(f);
    assert_string_equal(f->filename, "clip.wav");
    assert_string_equal(f->content_type, "audio/wav");
    assert_int_equal(f->len, sizeof(wav) - 1);
    assert_memory_equal(f->data, wav, f->len);
    assert_part_text(&out, "model", 0, "whisper-large-v3-turbo");
    assert_part_text(&out, "response_format", 0, "verbose_json");
    assert_part_text(&out, "language", 0, "de");
    assert_part_text(&out, "prompt", 0, "FreeLLMAPI, Groq");
    assert_part_text(&out, "temperature", 0, "0.2");
    assert_part_text(&out, "timestamp_granularities[]", 0, "segment");
    assert_part_text(&out, "timestamp_granularities[]", 1, "word");
    assert_int_equal(out.nparts, 8);
    gw_http_out_dispose(&out);

    /* words only; nothing optional */
    json_decref(c.params);
    c.params = json_loads("{\"words\":true}", 0, NULL);
    assert_null(request(&c, &out, 0));
    assert_part_text(&out, "timestamp_granularities[]", 0, "word");
    assert_null(part(&out, "timestamp_granularities[]", 1));
    assert_null(part(&out, "language", 0));
    assert_null(part(&out, "temperature", 0));
    assert_int_equal(out.nparts, 4);
    gw_http_out_dispose(&out);

    /* no file: the request cannot be expressed */
    c.nfiles = 0;
    assert_null(request(&c, &out, GW_EINVAL));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_translate_request(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "groq", "whisper-large-v3-turbo",
                             "{\"translate\":true,\"language\":\"de\",\"prompt\":\"p\","
                             "\"temperature\":0,\"segments\":true,\"words\":true}",
                             "gsk_x", NULL);
    gw_http_out_t out;

    (void)state;
    c.files = &wav_file;
    c.nfiles = 1;
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.groq.com/openai/v1/audio/translations");
    assert_part_text(&out, "response_format", 0, "verbose_json");
    assert_part_text(&out, "prompt", 0, "p");
    assert_part_text(&out, "temperature", 0, "0");
    assert_null(part(&out, "language", 0));
    assert_null(part(&out, "timestamp_granularities[]", 0));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_transcribe_api_none(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper-tiny-en", "{}",
                             "k", "acc");
    gw_http_out_t out;
    gw_media_result_t res;

    (void)state;
    c.files = &wav_file;
    c.nfiles = 1;
    assert_null(request(&c, &out, GW_DECLINED));
    assert_int_equal(out.nparts, 0);
    gw_http_out_dispose(&out);
    assert_int_equal(answer_s(&c, "application/json", "{\"text\":\"hi\"}", &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_transcribe_response(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "groq", "whisper-large-v3-turbo", "{}", "k",
                             NULL);
    gw_media_result_t res;
    json_t *seg;

    (void)state;
    /* Groq verbose_json with word timestamps (and its x_groq extra) */
    assert_int_equal(
        answer_s(&c, "application/json",
                 "{\"task\":\"transcribe\",\"language\":\"English\",\"duration\":3.9,"
                 "\"text\":\" Hello, this is a short test recording.\",\"words\":["
                 "{\"word\":\"Hello\",\"start\":0,\"end\":0.42},"
                 "{\"word\":\"this\",\"start\":0.6,\"end\":0.8}],"
                 "\"segments\":[{\"id\":0,\"seek\":0,\"start\":0,\"end\":2.48,\"text\":"
                 "\" Hello, this is a short\",\"tokens\":[50364,2425],\"temperature\":0,"
                 "\"avg_logprob\":-0.21,\"compression_ratio\":0.9,\"no_speech_prob\":0.01},"
                 "{\"id\":1,\"seek\":0,\"start\":2.48,\"end\":3.9,\"text\":\" test recording.\","
                 "\"tokens\":[1500],\"temperature\":0,\"avg_logprob\":-0.25,"
                 "\"compression_ratio\":0.9,\"no_speech_prob\":0.01}],"
                 "\"x_groq\":{\"id\":\"req_01\"}}",
                 &res),
        0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")),
                        " Hello, this is a short test recording.");
    assert_string_equal(json_string_value(json_object_get(res.json, "language")), "English");
    assert_true(json_number_value(json_object_get(res.json, "duration")) == 3.9);
    assert_int_equal(json_array_size(json_object_get(res.json, "segments")), 2);
    seg = json_array_get(json_object_get(res.json, "segments"), 1);
    assert_true(json_number_value(json_object_get(seg, "end")) == 3.9);
    assert_non_null(json_object_get(seg, "avg_logprob")); /* segments as given */
    assert_int_equal(json_array_size(json_object_get(res.json, "words")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(res.json, "words"), 0), "word")),
                        "Hello");
    assert_null(json_object_get(res.json, "x_groq"));
    assert_null(json_object_get(res.json, "task"));
    gw_media_result_dispose(&res);

    /* json-only answer: text and nothing else (a null error is no error) */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"text\":\"hi there\",\"error\":null,\"usage\":{\"type\":"
                              "\"duration\",\"seconds\":2}}",
                              &res),
                     0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")), "hi there");
    assert_int_equal(json_object_size(res.json), 1);
    gw_media_result_dispose(&res);

    /* plain text */
    assert_int_equal(answer_s(&c, "text/plain; charset=utf-8", "hi there\n", &res), 0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")), "hi there");
    assert_int_equal(json_object_size(res.json), 1);
    gw_media_result_dispose(&res);

    /* errors and junk */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"error\":{\"message\":\"file must be one of ...\","
                              "\"type\":\"invalid_request_error\"}}",
                              &res),
                     GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&c, "application/json", "{\"segments\":[]}", &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer_s(&c, "application/json", "not json", &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    assert_int_equal(answer(&c, "text/plain", "\xff\xfe", 2, &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

/* ---- transcription: Cloudflare's Whisper on the run endpoint ---------------------- */

static void test_transcribe_request_cloudflare_turbo(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper-large-v3-turbo",
                             "{\"language\":\"de\",\"prompt\":\"FreeLLMAPI, \\\"Cloudflare\\\"\","
                             "\"temperature\":0.2,\"segments\":true,\"words\":true,"
                             "\"translate\":false}",
                             "cf-token", "acc123");
    gw_http_out_t out;
    gw_buf_t audio;
    json_t *b;

    (void)state;
    c.files = &wav_file;
    c.nfiles = 1;
    b = request(&c, &out, 0);
    assert_non_null(b);
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run/"
                                 "@cf/openai/whisper-large-v3-turbo");
    assert_true(out.post);
    assert_int_equal(out.nparts, 0);
    assert_true(gw_test_has_header(&out, "Authorization: Bearer cf-token"));
    assert_true(gw_test_has_header(&out, "Content-Type: application/json"));
    assert_true(gw_test_has_header(&out, "Accept: application/json"));
    assert_string_equal(json_string_value(json_object_get(b, "task")), "transcribe");
    assert_string_equal(json_string_value(json_object_get(b, "language")), "de");
    assert_string_equal(json_string_value(json_object_get(b, "initial_prompt")),
                        "FreeLLMAPI, \"Cloudflare\"");
    /* the upload, base64: exactly the bytes */
    gw_buf_init(&audio, 1024);
    assert_int_equal(gw_b64_decode(json_string_value(json_object_get(b, "audio")),
                                   json_string_length(json_object_get(b, "audio")), &audio),
                     0);
    assert_int_equal(audio.len, sizeof(wav) - 1);
    assert_memory_equal(audio.ptr, wav, audio.len);
    gw_buf_dispose(&audio);
    /* no OpenAI fields: Cloudflare has no model, format or temperature here */
    assert_int_equal(json_object_size(b), 4);
    json_decref(b);
    gw_http_out_dispose(&out);

    /* a translation: task translate, never a language */
    json_object_set_new(c.params, "translate", json_true());
    b = request(&c, &out, 0);
    assert_string_equal(json_string_value(json_object_get(b, "task")), "translate");
    assert_null(json_object_get(b, "language"));
    assert_non_null(json_object_get(b, "initial_prompt"));
    assert_int_equal(json_object_size(b), 3);
    json_decref(b);
    gw_http_out_dispose(&out);

    /* nothing optional: task and audio */
    json_decref(c.params);
    c.params = json_loads("{}", 0, NULL);
    b = request(&c, &out, 0);
    assert_string_equal(out.body.ptr + out.body.len - 2, "\"}");
    assert_int_equal(json_object_size(b), 2);
    assert_string_equal(json_string_value(json_object_get(b, "task")), "transcribe");
    json_decref(b);
    gw_http_out_dispose(&out);

    /* no file: the request cannot be expressed */
    c.nfiles = 0;
    assert_null(request(&c, &out, GW_EINVAL));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

static void test_transcribe_request_cloudflare_raw(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper",
                             "{\"language\":\"de\",\"prompt\":\"p\",\"temperature\":0.2,"
                             "\"words\":true}",
                             "cf-token", "acc123");
    gw_media_call_t other = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/deepgram/nova-3", "{}",
                                 "cf-token", "acc123");
    gw_http_out_t out;

    (void)state;
    c.files = &wav_file;
    c.nfiles = 1;
    /* the raw bytes as the body (not JSON, not multipart); options ignored */
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/acc123/ai/run/"
                                 "@cf/openai/whisper");
    assert_true(out.post);
    assert_int_equal(out.nparts, 0);
    assert_int_equal(out.body.len, sizeof(wav) - 1);
    assert_memory_equal(out.body.ptr, wav, out.body.len);
    assert_true(gw_test_has_header(&out, "Content-Type: application/octet-stream"));
    assert_true(gw_test_has_header(&out, "Authorization: Bearer cf-token"));
    assert_true(gw_test_has_header(&out, "Accept: application/json"));
    gw_http_out_dispose(&out);

    /* it cannot translate: the candidate is skipped, nothing is built */
    json_object_set_new(c.params, "translate", json_true());
    assert_null(request(&c, &out, GW_DECLINED));
    assert_null(out.url);
    assert_int_equal(out.body.len, 0);
    gw_http_out_dispose(&out);

    json_object_set_new(c.params, "translate", json_false());
    c.nfiles = 0;
    assert_null(request(&c, &out, GW_EINVAL));
    gw_http_out_dispose(&out);

    /* another run model: no adapter for its wire */
    other.files = &wav_file;
    other.nfiles = 1;
    assert_null(request(&other, &out, GW_DECLINED));
    assert_null(out.url);
    gw_http_out_dispose(&out);
    json_decref(c.params);
    json_decref(other.params);
}

/* A turbo answer as Cloudflare sends it (redacted). */
static const char cf_turbo_answer[] =
    "{\"result\":{\"transcription_info\":{\"language\":\"en\",\"language_probability\":0.98,"
    "\"duration\":3.904,\"duration_after_vad\":3.904},"
    "\"text\":\"Hello, this is a short test recording.\",\"word_count\":7,"
    "\"segments\":[{\"start\":0,\"end\":2.48,\"text\":\"Hello, this is a short\","
    "\"temperature\":0,\"avg_logprob\":-0.21,\"compression_ratio\":0.9,"
    "\"no_speech_prob\":0.01,\"words\":[{\"word\":\" Hello,\",\"start\":0,\"end\":0.42},"
    "{\"word\":\" this\",\"start\":0.6,\"end\":0.8}]},"
    "{\"start\":2.48,\"end\":3.9,\"text\":\" test recording.\",\"temperature\":0.2,"
    "\"avg_logprob\":-0.25,\"compression_ratio\":0.8,\"no_speech_prob\":0.02,"
    "\"words\":[{\"word\":\"test\",\"start\":2.48,\"end\":3},"
    "{\"word\":\"recording.\",\"start\":3,\"end\":3.9}]}],"
    "\"vtt\":\"WEBVTT\\n\\n00:00.000 --> 00:02.480\\nHello, this is a short\\n\\n\"},"
    "\"success\":true,\"errors\":[],\"messages\":[]}";

static void test_transcribe_response_cloudflare_turbo(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper-large-v3-turbo",
                             "{}", "k", "acc");
    gw_media_result_t res;
    json_t *segs;
    json_t *seg;
    json_t *words;

    (void)state;
    assert_int_equal(answer_s(&c, "application/json", cf_turbo_answer, &res), 0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")),
                        "Hello, this is a short test recording.");
    assert_string_equal(json_string_value(json_object_get(res.json, "language")), "english");
    assert_true(json_number_value(json_object_get(res.json, "duration")) == 3.904);
    segs = json_object_get(res.json, "segments");
    assert_int_equal(json_array_size(segs), 2);
    seg = json_array_get(segs, 1);
    /* OpenAI's segment fields, Cloudflare's values, no nested words */
    assert_int_equal(json_integer_value(json_object_get(seg, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(seg, "seek")), 0);
    assert_true(json_number_value(json_object_get(seg, "start")) == 2.48);
    assert_true(json_number_value(json_object_get(seg, "end")) == 3.9);
    assert_string_equal(json_string_value(json_object_get(seg, "text")), " test recording.");
    assert_true(json_is_array(json_object_get(seg, "tokens")));
    assert_int_equal(json_array_size(json_object_get(seg, "tokens")), 0);
    assert_true(json_number_value(json_object_get(seg, "temperature")) == 0.2);
    assert_true(json_number_value(json_object_get(seg, "avg_logprob")) == -0.25);
    assert_true(json_number_value(json_object_get(seg, "compression_ratio")) == 0.8);
    assert_true(json_number_value(json_object_get(seg, "no_speech_prob")) == 0.02);
    assert_null(json_object_get(seg, "words"));
    assert_int_equal(json_object_size(seg), 10);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(segs, 0), "id")), 0);
    /* the segments' words, flattened and trimmed */
    words = json_object_get(res.json, "words");
    assert_int_equal(json_array_size(words), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(words, 0), "word")),
                        "Hello,");
    assert_string_equal(json_string_value(json_object_get(json_array_get(words, 3), "word")),
                        "recording.");
    assert_true(json_number_value(json_object_get(json_array_get(words, 3), "start")) == 3);
    assert_true(json_number_value(json_object_get(json_array_get(words, 3), "end")) == 3.9);
    assert_null(json_object_get(res.json, "vtt"));
    assert_null(json_object_get(res.json, "word_count"));
    assert_int_equal(json_object_size(res.json), 5);
    gw_media_result_dispose(&res);

    /* a translation is English whatever was spoken */
    json_object_set_new(c.params, "translate", json_true());
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"result\":{\"transcription_info\":{\"language\":\"fr\","
                              "\"duration\":1.5},\"text\":\"Good morning.\",\"segments\":[]},"
                              "\"success\":true,\"errors\":[],\"messages\":[]}",
                              &res),
                     0);
    assert_string_equal(json_string_value(json_object_get(res.json, "language")), "english");
    assert_int_equal(json_array_size(json_object_get(res.json, "segments")), 0);
    assert_int_equal(json_array_size(json_object_get(res.json, "words")), 0);
    gw_media_result_dispose(&res);
    json_object_set_new(c.params, "translate", json_false());

    /* a language Whisper's table lacks is kept as given; no info: the
     * duration is where the last segment ends */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"result\":{\"transcription_info\":{\"language\":\"xx\"},"
                              "\"text\":\"a b\",\"segments\":[{\"start\":0,\"end\":1.25,"
                              "\"text\":\"a b\"},\"junk\"]},\"success\":true}",
                              &res),
                     0);
    assert_string_equal(json_string_value(json_object_get(res.json, "language")), "xx");
    assert_true(json_number_value(json_object_get(res.json, "duration")) == 1.25);
    seg = json_array_get(json_object_get(res.json, "segments"), 0);
    assert_int_equal(json_array_size(json_object_get(res.json, "segments")), 1);
    assert_true(json_number_value(json_object_get(seg, "avg_logprob")) == 0);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_transcribe_response_cloudflare_whisper(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper", "{}", "k",
                             "acc");
    gw_media_result_t res;
    json_t *words;

    (void)state;
    assert_int_equal(
        answer_s(&c, "application/json",
                 "{\"result\":{\"text\":\"Hello world, again.\",\"word_count\":3,\"words\":["
                 "{\"word\":\"Hello\",\"start\":0.1,\"end\":0.5},"
                 "{\"word\":\"world,\",\"start\":0.5,\"end\":1.02},"
                 "{\"word\":\"again.\",\"start\":1.2,\"end\":1.75}],"
                 "\"vtt\":\"WEBVTT\\n\\n00.100 --> 00.500\\nHello\\n\\n\"},"
                 "\"success\":true,\"errors\":[],\"messages\":[]}",
                 &res),
        0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")),
                        "Hello world, again.");
    /* no language, no segments; the duration is where the last word ends */
    assert_null(json_object_get(res.json, "language"));
    assert_null(json_object_get(res.json, "segments"));
    assert_true(json_number_value(json_object_get(res.json, "duration")) == 1.75);
    words = json_object_get(res.json, "words");
    assert_int_equal(json_array_size(words), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(words, 1), "word")),
                        "world,");
    assert_true(json_number_value(json_object_get(json_array_get(words, 1), "start")) == 0.5);
    assert_int_equal(json_object_size(json_array_get(words, 1)), 3);
    assert_int_equal(json_object_size(res.json), 3);
    gw_media_result_dispose(&res);

    /* text only */
    assert_int_equal(answer_s(&c, "application/json",
                              "{\"result\":{\"text\":\"\"},\"success\":true}", &res),
                     0);
    assert_string_equal(json_string_value(json_object_get(res.json, "text")), "");
    assert_int_equal(json_object_size(res.json), 1);
    gw_media_result_dispose(&res);
    json_decref(c.params);
}

static void test_transcribe_response_cloudflare_errors(void **state)
{
    gw_media_call_t c = call(GW_OP_TRANSCRIBE, "cloudflare", "@cf/openai/whisper-large-v3-turbo",
                             "{}", "k", "acc");
    static const char *const bad[] = {
        /* Cloudflare's error envelope */
        "{\"errors\":[{\"message\":\"AiError: Bad input: Error: Type mismatch of '/audio', "
        "'array' not in 'string'\",\"code\":5006}],\"success\":false,\"result\":{},"
        "\"messages\":[]}",
        /* success false alone; errors beside a result */
        "{\"success\":false,\"result\":{\"text\":\"hi\"}}",
        "{\"success\":true,\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily "
        "exceeded\"}],\"result\":{\"text\":\"hi\"}}",
        /* no transcript, not unwrapped */
        "{\"result\":{\"word_count\":0},\"success\":true,\"errors\":[]}",
        "{\"result\":null,\"success\":true}",
        "{\"text\":\"hi\"}",
        /* an OpenAI error object, junk */
        "{\"error\":{\"message\":\"nope\"}}",
        "<html>502 Bad Gateway</html>",
        "",
    };

    (void)state;
    assert_all_declined(&c, bad, sizeof(bad) / sizeof(bad[0]));
    json_decref(c.params);
}

/* ---- the rest ------------------------------------------------------------------------- */

static void test_speech_and_realtime_declined(void **state)
{
    gw_media_call_t c = call(GW_OP_SPEECH, "groq", "whisper-large-v3-turbo",
                             "{\"input\":\"hello\",\"voice\":\"alloy\"}", "k", NULL);
    gw_http_out_t out;
    gw_media_result_t res;

    (void)state;
    assert_null(request(&c, &out, GW_DECLINED));
    assert_null(out.url);
    gw_http_out_dispose(&out);
    assert_int_equal(answer(&c, "audio/mpeg", "ID3", 3, &res), GW_DECLINED);
    gw_media_result_dispose(&res);
    c.op = GW_OP_REALTIME;
    assert_null(request(&c, &out, GW_DECLINED));
    gw_http_out_dispose(&out);
    json_decref(c.params);
}

/* The shipped catalog's Cloudflare and Pollinations rows build the URLs the
 * providers document. */
static void test_builtin_catalog_urls(void **state)
{
    gw_catalog_t real;
    gw_err_t err = {0};
    gw_media_call_t c = {0};
    gw_http_out_t out;

    (void)state;
    assert_int_equal(gw_catalog_load(&real, NULL, &err), 0);
    c.op = GW_OP_IMAGE;
    c.params = json_loads("{\"prompt\":\"a b\",\"width\":1024,\"height\":1024}", 0, NULL);
    c.secret = "t";
    c.account_id = "0123abcd";
    c.model = gw_catalog_model(&real, "cloudflare", "@cf/stabilityai/stable-diffusion-xl-base-1.0");
    assert_non_null(c.model);
    json_decref(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/run/"
                                 "@cf/stabilityai/stable-diffusion-xl-base-1.0");
    gw_http_out_dispose(&out);
    c.model = gw_catalog_model(&real, "pollinations", "turbo");
    assert_non_null(c.model);
    c.secret = NULL;
    c.account_id = NULL;
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "https://gen.pollinations.ai/image/a%20b?model=turbo"
                                 "&width=1024&height=1024&nologo=true");
    gw_http_out_dispose(&out);
    json_decref(c.params);

    /* both Cloudflare Whisper models are routed through the run endpoint */
    c.op = GW_OP_TRANSCRIBE;
    c.params = json_loads("{}", 0, NULL);
    c.secret = "t";
    c.account_id = "0123abcd";
    c.files = &wav_file;
    c.nfiles = 1;
    c.model = gw_catalog_model(&real, "cloudflare", "@cf/openai/whisper");
    assert_non_null(c.model);
    assert_null(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/run/"
                                 "@cf/openai/whisper");
    gw_http_out_dispose(&out);
    c.model = gw_catalog_model(&real, "cloudflare", "@cf/openai/whisper-large-v3-turbo");
    assert_non_null(c.model);
    json_decref(request(&c, &out, 0));
    assert_string_equal(out.url, "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/run/"
                                 "@cf/openai/whisper-large-v3-turbo");
    gw_http_out_dispose(&out);
    json_decref(c.params);
    gw_catalog_dispose(&real);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embed_request_cloudflare),
        cmocka_unit_test(test_embed_request_flexible_dims_and_tokens),
        cmocka_unit_test(test_embed_request_nvidia),
        cmocka_unit_test(test_embed_response_out_of_order),
        cmocka_unit_test(test_embed_response_base64),
        cmocka_unit_test(test_embed_response_unusable),
        cmocka_unit_test(test_image_request_default),
        cmocka_unit_test(test_image_response_default),
        cmocka_unit_test(test_image_request_cloudflare_run),
        cmocka_unit_test(test_image_response_cloudflare),
        cmocka_unit_test(test_image_request_pollinations),
        cmocka_unit_test(test_image_response_pollinations),
        cmocka_unit_test(test_image_api_none_or_unknown),
        cmocka_unit_test(test_transcribe_request),
        cmocka_unit_test(test_translate_request),
        cmocka_unit_test(test_transcribe_api_none),
        cmocka_unit_test(test_transcribe_response),
        cmocka_unit_test(test_transcribe_request_cloudflare_turbo),
        cmocka_unit_test(test_transcribe_request_cloudflare_raw),
        cmocka_unit_test(test_transcribe_response_cloudflare_turbo),
        cmocka_unit_test(test_transcribe_response_cloudflare_whisper),
        cmocka_unit_test(test_transcribe_response_cloudflare_errors),
        cmocka_unit_test(test_speech_and_realtime_declined),
        cmocka_unit_test(test_builtin_catalog_urls),
    };

    /* the built-in catalog's URLs, not a developer's overrides */
    unsetenv("FREELLMAPI_CLOUDFLARE_BASE_URL");
    unsetenv("FREELLMAPI_POLLINATIONS_BASE_URL");
    return cmocka_run_group_tests_name("providers/openai_media", tests, setup, teardown);
}
