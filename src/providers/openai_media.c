/*
 * The OpenAI dialect's media calls (media.h): embeddings, image generation
 * and transcription for every OpenAI-compatible provider, plus the APIs of
 * that family that are not OpenAI-shaped: Cloudflare's native run endpoint
 * (images, Whisper) and Pollinations' GET image URL (the model's catalog
 * "api" says which). Answers are decoded into the canonical gw_media_result_t; the API
 * layer renders OpenAI's exact shapes from it (docs/reference/wire-openai.md,
 * sections 4, 5, 6.2 and 11).
 */
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "providers/media_ops.h"
#include "providers/moderation_map.h"

/* Decoded images and vectors stay under the media result's own ceiling. */
#define MAX_MEDIA_BYTES (64u << 20)

/* ---- shared helpers ------------------------------------------------------- */

/* A candidate that cannot do this op here: the caller skips it. */
static int decline(gw_err_t *err, const char *why)
{
    gw_err_set(err, GW_DECLINED, 0, "%s", why);
    return GW_DECLINED;
}

/* An answer we cannot use: the caller fails over. */
static int unusable(gw_err_t *err, const char *why)
{
    gw_err_set(err, GW_DECLINED, 502, "%s", why);
    return GW_DECLINED;
}

/* The request itself cannot be expressed: the client is told. */
static int bad_request(gw_err_t *err, const char *why)
{
    gw_err_set(err, GW_EINVAL, 400, "%s", why);
    return GW_EINVAL;
}

/* Whether a Content-Type (parameters ignored, any case) is the given type. */
static bool ct_is(const char *ct, const char *type)
{
    size_t n = strlen(type);

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* application/json, or a structured +json type (application/problem+json). */
static bool ct_is_json(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    n = strcspn(ct, "; ");
    return (n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}


/* Parses a JSON answer; NULL (err set) when it is unreadable or an error object. */
static json_t *load_answer(gw_str_t body, gw_err_t *err)
{
    json_t *root = json_loadb(body.ptr != NULL ? body.ptr : "", body.len, 0, NULL);
    json_t *e;

    if (!json_is_object(root)) {
        json_decref(root);
        unusable(err, "upstream answer is not a JSON object");
        return NULL;
    }
    e = json_object_get(root, "error");
    if (e != NULL && !json_is_null(e)) {
        json_decref(root);
        unusable(err, "upstream answered an error object");
        return NULL;
    }
    return root;
}

/* The provider's base URL (account id filled in) without a trailing "/v1":
 * the root that native, non-OpenAI paths hang off. Caller frees. */
static char *base_root(const gw_media_call_t *c)
{
    char *base = gw_dialect_url(c->model->provider, c->account_id, "");
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(base + n - 3, "/v1", 3) == 0)
        n -= 3;
    base[n] = '\0';
    return base;
}

/* Puts a JSON body on out; the body is consumed. */
static int set_json_body(const gw_media_call_t *c, gw_http_out_t *out, json_t *body,
                         gw_err_t *err)
{
    int rc = gw_dialect_body(out, body, c->defer_body, err);

    if (rc != 0)
        return rc;
    out->post = true;
    gw_http_out_header(out, "Content-Type", "application/json");
    return 0;
}

/* ---- embeddings ------------------------------------------------------------ */

static int embed_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_model_t *m = c->model;
    json_t *input = json_object_get(c->params, "input");
    json_t *dims = json_object_get(c->params, "dimensions");
    json_t *body;
    int rc;

    if (m->api != NULL)
        return decline(err, "embeddings are not served by this model's API");
    if (input == NULL || json_is_null(input))
        return bad_request(err, "embedding input missing");
    body = json_pack("{s:s,s:O,s:s}", "model", m->id, "input", input, "encoding_format", "float");
    if (json_is_integer(dims)) {
        json_int_t want = json_integer_value(dims);
        /* A fixed-size model asked for its own size needs no parameter (some
         * reject it); asked for another size (or a flexible one for more
         * than it makes) it cannot serve this call. */
        if (!gw_model_makes_size(m, want)) {
            json_decref(body);
            return decline(err, "model cannot produce the requested dimensions");
        }
        if (m->flexible_dims || m->dimensions == 0)
            json_object_set(body, "dimensions", dims);
    }
    /* Fields a provider requires on every call (NVIDIA's asymmetric retrievers
     * refuse one without input_type: "query" also suits symmetric use). */
    if (m->provider->policy.embedding_fields != NULL)
        json_object_update_missing(body, m->provider->policy.embedding_fields);
    rc = set_json_body(c, out, body, err);
    if (rc != 0)
        return rc;
    out->url = gw_dialect_url(m->provider, c->account_id, "/embeddings");
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

static size_t count_inputs(json_t *input)
{
    if (json_is_string(input))
        return 1;
    if (json_is_array(input) && json_is_integer(json_array_get(input, 0)))
        return 1; /* one pre-tokenised input */
    return json_array_size(input);
}

/* One vector from a JSON number array or base64 little-endian float32. */
static json_t *read_vector(json_t *e)
{
    json_t *vec;

    if (json_is_array(e)) {
        size_t i;
        json_t *v;
        vec = json_array();
        json_array_foreach(e, i, v) {
            if (!json_is_number(v)) {
                json_decref(vec);
                return NULL;
            }
            json_array_append_new(vec, json_real(json_number_value(v)));
        }
        return vec;
    }
    if (json_is_string(e)) {
        gw_buf_t raw;
        gw_buf_init(&raw, MAX_MEDIA_BYTES);
        if (gw_b64_decode(json_string_value(e), json_string_length(e), &raw) != 0 ||
            raw.len % 4 != 0) {
            gw_buf_dispose(&raw);
            return NULL;
        }
        vec = json_array();
        for (size_t i = 0; i < raw.len; i += 4) {
            const unsigned char *b = (const unsigned char *)raw.ptr + i;
            uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                            (uint32_t)b[3] << 24;
            float f;
            memcpy(&f, &bits, sizeof(f));
            /* json_real refuses NaN and infinities: such a vector is unusable */
            if (json_array_append_new(vec, json_real((double)f)) != 0) {
                json_decref(vec);
                vec = NULL;
                break;
            }
        }
        gw_buf_dispose(&raw);
        return vec;
    }
    return NULL;
}

/* usage.prompt_tokens (else total_tokens: an embedding's input is all of it),
 * when it is a sane count. */
static void read_prompt_tokens(json_t *u, gw_media_result_t *res)
{
    json_t *n = json_object_get(u, "prompt_tokens");
    bool ok = true;
    int64_t v;

    if (!json_is_integer(n))
        n = json_object_get(u, "total_tokens");
    v = gw_dialect_tokens(n, &ok);
    if (ok && json_is_integer(n))
        res->prompt_tokens = v;
}

static int embed_response(const gw_media_call_t *c, gw_str_t body, gw_media_result_t *res,
                          gw_err_t *err)
{
    json_t *root = load_answer(body, err);
    json_t *data;
    json_t *vectors = NULL;
    json_t *item;
    int64_t want = gw_dialect_embedding_size(c->model, c->params);
    size_t n = count_inputs(json_object_get(c->params, "input"));
    size_t i;
    size_t width = 0;
    int rc = GW_DECLINED;

    if (root == NULL)
        return GW_DECLINED;
    data = json_object_get(root, "data");
    if (!json_is_array(data) || json_array_size(data) != n || n == 0) {
        unusable(err, "upstream returned a different number of embeddings than inputs");
        goto out;
    }
    /* Slots by index, so an answer out of order still lines up with the inputs. */
    vectors = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(vectors, json_null());
    json_array_foreach(data, i, item) {
        json_t *idx = json_object_get(item, "index");
        size_t at = i;
        json_t *vec;
        if (json_is_integer(idx)) {
            if (json_integer_value(idx) < 0 || (size_t)json_integer_value(idx) >= n) {
                unusable(err, "upstream returned an embedding index out of range");
                goto out;
            }
            at = (size_t)json_integer_value(idx);
        }
        if (!json_is_null(json_array_get(vectors, at))) {
            unusable(err, "upstream returned one embedding index twice");
            goto out;
        }
        vec = read_vector(json_object_get(item, "embedding"));
        if (vec == NULL || json_array_size(vec) == 0 ||
            (width != 0 && json_array_size(vec) != width)) {
            json_decref(vec);
            unusable(err, "upstream returned a malformed embedding");
            goto out;
        }
        width = json_array_size(vec);
        json_array_set_new(vectors, at, vec);
    }
    if (want > 0 && (int64_t)width != want) {
        unusable(err, "upstream returned vectors of another size than the model's");
        goto out;
    }
    res->json = json_pack("{s:O}", "vectors", vectors);
    read_prompt_tokens(json_object_get(root, "usage"), res);
    rc = 0;
out:
    json_decref(vectors);
    json_decref(root);
    return rc;
}

/* ---- images ------------------------------------------------------------------ */

/* The requested width and height: explicit params first, else "size" as WxH.
 * Zero when not asked for. */
static void image_dims(json_t *params, long long *w, long long *h)
{
    const char *size = json_string_value(json_object_get(params, "size"));
    json_t *jw = json_object_get(params, "width");
    json_t *jh = json_object_get(params, "height");

    *w = 0;
    *h = 0;
    if (json_is_integer(jw) && json_is_integer(jh) && json_integer_value(jw) > 0 &&
        json_integer_value(jh) > 0) {
        *w = json_integer_value(jw);
        *h = json_integer_value(jh);
        return;
    }
    if (size != NULL) {
        char *end;
        long long pw = strtoll(size, &end, 10);
        if (end != size && (*end == 'x' || *end == 'X')) {
            const char *hs = end + 1;
            long long ph = strtoll(hs, &end, 10);
            if (end != hs && *end == '\0' && pw > 0 && ph > 0) {
                *w = pw;
                *h = ph;
            }
        }
    }
}

/* The image op's common checks: generation only, with a prompt. The native
 * APIs below make one image per call whatever n says; the API layer calls
 * again until it has n. */
static int image_checks(const gw_media_call_t *c, gw_err_t *err)
{
    const char *mode = json_string_value(json_object_get(c->params, "mode"));

    if (mode != NULL && strcmp(mode, "generate") != 0)
        return decline(err, "image edits and variations are not served by this model's API");
    if (!json_is_string(json_object_get(c->params, "prompt")))
        return bad_request(err, "image prompt missing");
    return 0;
}

static int image_request_openai(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_model_t *m = c->model;
    json_t *n = json_object_get(c->params, "n");
    json_t *size = json_object_get(c->params, "size");
    json_t *body;
    int rc = image_checks(c, err);

    if (rc != 0)
        return rc;
    body = json_pack("{s:s,s:O,s:I}", "model", m->id, "prompt",
                     json_object_get(c->params, "prompt"), "n",
                     (json_int_t)(json_is_integer(n) ? json_integer_value(n) : 1));
    if (json_is_string(size))
        json_object_set(body, "size", size);
    /* Always bytes: we do not fetch provider URLs (they expire and are not ours). */
    json_object_set_new(body, "response_format", json_string("b64_json"));
    rc = set_json_body(c, out, body, err);
    if (rc != 0)
        return rc;
    out->url = gw_dialect_url(m->provider, c->account_id, "/images/generations");
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

/* Cloudflare's native endpoint: POST {root}/run/{model id}, a model-specific
 * body; prompt (plus width/height) is what the text-to-image models share. */
static int image_request_cloudflare(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_model_t *m = c->model;
    long long w;
    long long h;
    json_t *body;
    gw_buf_t url;
    char *root;
    int rc = image_checks(c, err);

    if (rc != 0)
        return rc;
    body = json_pack("{s:O}", "prompt", json_object_get(c->params, "prompt"));
    image_dims(c->params, &w, &h);
    if (w > 0) {
        json_object_set_new(body, "width", json_integer(w));
        json_object_set_new(body, "height", json_integer(h));
    }
    rc = set_json_body(c, out, body, err);
    if (rc != 0)
        return rc;
    root = base_root(c);
    gw_buf_init(&url, 8192);
    gw_buf_printf(&url, "%s/run/%s", root, m->id);
    free(root);
    out->url = gw_buf_detach(&url);
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

/* Pollinations: GET {root}/image/{prompt}?model=..., answered with raw bytes.
 * Keyless unless a key is configured. */
static int image_request_pollinations(const gw_media_call_t *c, gw_http_out_t *out,
                                      gw_err_t *err)
{
    const gw_model_t *m = c->model;
    json_t *prompt = json_object_get(c->params, "prompt");
    long long w;
    long long h;
    char *root;
    char *eprompt;
    char *emodel;
    gw_buf_t url;
    int rc = image_checks(c, err);

    if (rc != 0)
        return rc;
    if (json_string_length(prompt) > INT_MAX / 3)
        return bad_request(err, "image prompt too long");
    /* curl ignores the handle argument here (since 7.82). */
    eprompt = curl_easy_escape(NULL, json_string_value(prompt), (int)json_string_length(prompt));
    emodel = curl_easy_escape(NULL, m->id, 0);
    if (eprompt == NULL || emodel == NULL) {
        curl_free(eprompt);
        curl_free(emodel);
        return bad_request(err, "image prompt could not be encoded");
    }
    image_dims(c->params, &w, &h);
    root = base_root(c);
    gw_buf_init(&url, 64u << 10);
    rc = gw_buf_printf(&url, "%s/image/%s?model=%s", root, eprompt, emodel);
    if (rc == 0 && w > 0)
        rc = gw_buf_printf(&url, "&width=%lld&height=%lld", w, h);
    if (rc == 0)
        rc = gw_buf_appends(&url, "&nologo=true");
    free(root);
    curl_free(eprompt);
    curl_free(emodel);
    if (rc != 0) {
        gw_buf_dispose(&url);
        return bad_request(err, "image prompt too long for a URL");
    }
    out->url = gw_buf_detach(&url);
    out->post = false;
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

static int image_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const char *api = c->model->api;

    if (api == NULL)
        return image_request_openai(c, out, err);
    if (strcmp(api, "cloudflare-run") == 0)
        return image_request_cloudflare(c, out, err);
    if (strcmp(api, "pollinations-image") == 0)
        return image_request_pollinations(c, out, err);
    return decline(err, "images are not served by this model's API");
}

/* Appends {"b64","mime"} for raw image bytes, which must look like an image. */
static int add_raw_image(json_t *images, gw_str_t body, gw_err_t *err)
{
    const char *mime = gw_media_sniff_image((const unsigned char *)body.ptr, body.len);
    gw_buf_t b64;

    if (mime == NULL)
        return unusable(err, "upstream answer is not an image");
    gw_buf_init(&b64, MAX_MEDIA_BYTES / 3 * 4 + 4);
    if (gw_b64_encode(body.ptr, body.len, &b64) != 0) {
        gw_buf_dispose(&b64);
        return unusable(err, "upstream image too large");
    }
    json_array_append_new(images, json_pack("{s:s%,s:s}", "b64", b64.ptr, b64.len, "mime", mime));
    gw_buf_dispose(&b64);
    return 0;
}

static int image_response_openai(json_t *root, gw_media_result_t *res, gw_err_t *err)
{
    json_t *data = json_object_get(root, "data");
    json_t *images;
    json_t *item;
    json_t *u = json_object_get(root, "usage");
    const char *text = NULL;
    size_t i;

    if (!json_is_array(data) || json_array_size(data) == 0)
        return unusable(err, "upstream answered without images");
    images = json_array();
    json_array_foreach(data, i, item) {
        json_t *b64 = json_object_get(item, "b64_json");
        const char *rp = json_string_value(json_object_get(item, "revised_prompt"));
        if (!json_is_string(b64)) {
            json_decref(images);
            /* A url-only answer: we do not fetch provider URLs. */
            return unusable(err, "upstream answered an image without bytes");
        }
        if (gw_media_add_b64_image(images, b64, err) != 0) {
            json_decref(images);
            return GW_DECLINED;
        }
        if (text == NULL && rp != NULL && rp[0] != '\0')
            text = rp;
    }
    res->json = json_pack("{s:o}", "images", images);
    if (text != NULL)
        json_object_set_new(res->json, "text", json_string(text));
    if (json_is_integer(json_object_get(u, "input_tokens"))) {
        res->prompt_tokens = json_integer_value(json_object_get(u, "input_tokens"));
        if (json_is_integer(json_object_get(u, "output_tokens")))
            res->output_tokens = json_integer_value(json_object_get(u, "output_tokens"));
    }
    return 0;
}

/* Cloudflare answers JSON {"result":{"image":b64},"success":true} (FLUX) or
 * the raw image (SDXL, Content-Type image/png); the content type decides. */
static int image_response_cloudflare(const char *ct, gw_str_t body, gw_media_result_t *res,
                                     gw_err_t *err)
{
    json_t *root;
    json_t *images;
    json_t *b64;
    json_t *errs;
    bool json_answer = ct_is_json(ct);
    int rc;

    /* Without a content type, the bytes say which. */
    if (ct == NULL && gw_media_sniff_image((const unsigned char *)body.ptr, body.len) == NULL)
        json_answer = true;
    images = json_array();
    if (!json_answer) {
        if (add_raw_image(images, body, err) != 0) {
            json_decref(images);
            return GW_DECLINED;
        }
        res->json = json_pack("{s:o}", "images", images);
        return 0;
    }
    root = load_answer(body, err);
    if (root == NULL) {
        json_decref(images);
        return GW_DECLINED;
    }
    errs = json_object_get(root, "errors");
    b64 = json_object_get(json_object_get(root, "result"), "image");
    if (json_is_false(json_object_get(root, "success")) ||
        (json_is_array(errs) && json_array_size(errs) > 0))
        rc = unusable(err, "upstream answered success:false");
    else if (!json_is_string(b64))
        rc = unusable(err, "upstream answered no image");
    else
        rc = gw_media_add_b64_image(images, b64, err);
    json_decref(root);
    if (rc != 0) {
        json_decref(images);
        return GW_DECLINED;
    }
    res->json = json_pack("{s:o}", "images", images);
    return 0;
}

static int image_response(const gw_media_call_t *c, const char *ct, gw_str_t body,
                          gw_media_result_t *res, gw_err_t *err)
{
    const char *api = c->model->api;
    json_t *root;
    json_t *images;
    int rc;

    if (api != NULL && strcmp(api, "cloudflare-run") == 0)
        return image_response_cloudflare(ct, body, res, err);
    if (api != NULL && strcmp(api, "pollinations-image") == 0) {
        images = json_array();
        if (add_raw_image(images, body, err) != 0) {
            json_decref(images);
            return GW_DECLINED;
        }
        res->json = json_pack("{s:o}", "images", images);
        return 0;
    }
    if (api != NULL)
        return unusable(err, "images are not served by this model's API");
    root = load_answer(body, err);
    if (root == NULL)
        return GW_DECLINED;
    rc = image_response_openai(root, res, err);
    json_decref(root);
    return rc;
}

/* ---- transcription ------------------------------------------------------------ */

static void add_text_part(gw_http_out_t *out, const char *name, json_t *v)
{
    if (json_is_string(v))
        gw_http_out_part(out, name, NULL, NULL, json_string_value(v), json_string_length(v));
}

static int transcribe_request_openai(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_model_t *m = c->model;
    const gw_media_file_t *f = gw_media_file(c, "file");
    bool translate = json_is_true(json_object_get(c->params, "translate"));
    json_t *temp = json_object_get(c->params, "temperature");
    size_t temp_from = out->body.len;

    if (f == NULL)
        return bad_request(err, "audio file missing");
    /* Part data is borrowed until the transfer starts; a multipart upload
     * does not send out->body, so the one formatted value lives there. */
    if (json_is_number(temp) && gw_buf_printf(&out->body, "%g", json_number_value(temp)) != 0)
        return bad_request(err, "temperature could not be encoded");
    out->url = gw_dialect_url(m->provider, c->account_id,
                              translate ? "/audio/translations" : "/audio/transcriptions");
    gw_http_out_part(out, "file", f->filename != NULL ? f->filename : "audio", f->content_type,
                     f->data, f->len);
    gw_http_out_part(out, "model", NULL, NULL, m->id, strlen(m->id));
    /* Always the verbose form: the API layer renders json/text/srt/vtt from it,
     * and Groq has no srt/vtt of its own. */
    gw_http_out_part(out, "response_format", NULL, NULL, "verbose_json", strlen("verbose_json"));
    if (!translate) /* translations take neither a language nor granularities */
        add_text_part(out, "language", json_object_get(c->params, "language"));
    add_text_part(out, "prompt", json_object_get(c->params, "prompt"));
    if (json_is_number(temp))
        gw_http_out_part(out, "temperature", NULL, NULL, out->body.ptr + temp_from,
                         out->body.len - temp_from);
    if (!translate && json_is_true(json_object_get(c->params, "segments")))
        gw_http_out_part(out, "timestamp_granularities[]", NULL, NULL, "segment", 7);
    if (!translate && json_is_true(json_object_get(c->params, "words")))
        gw_http_out_part(out, "timestamp_granularities[]", NULL, NULL, "word", 4);
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

static int transcribe_response_openai(const char *ct, gw_str_t body, gw_media_result_t *res,
                                      gw_err_t *err)
{
    json_t *root;
    json_t *text;
    json_t *v;

    if (ct_is(ct, "text/plain")) {
        size_t n = body.len;
        while (n > 0 && (body.ptr[n - 1] == '\n' || body.ptr[n - 1] == '\r'))
            n--;
        text = json_stringn(n > 0 ? body.ptr : "", n);
        if (text == NULL)
            return unusable(err, "upstream transcript is not UTF-8");
        res->json = json_pack("{s:o}", "text", text);
        return 0;
    }
    root = load_answer(body, err);
    if (root == NULL)
        return GW_DECLINED;
    text = json_object_get(root, "text");
    if (!json_is_string(text)) {
        json_decref(root);
        return unusable(err, "upstream answered without a transcript");
    }
    res->json = json_pack("{s:O}", "text", text);
    v = json_object_get(root, "language");
    if (json_is_string(v))
        json_object_set(res->json, "language", v);
    v = json_object_get(root, "duration");
    if (json_is_number(v))
        json_object_set(res->json, "duration", v);
    v = json_object_get(root, "segments");
    if (json_is_array(v))
        json_object_set(res->json, "segments", v);
    v = json_object_get(root, "words");
    if (json_is_array(v))
        json_object_set(res->json, "words", v);
    json_decref(root);
    return 0;
}

/* ---- transcription: Cloudflare's Whisper models on the run endpoint -------------- */

/*
 * Cloudflare serves Whisper on its native run endpoint only
 * (docs/reference/wire-openai.md 11.3), in two shapes: @cf/openai/whisper-large-v3-turbo takes
 * JSON with the audio as base64 and can translate; @cf/openai/whisper takes
 * the raw bytes as the body, transcribes only and ignores every option. Both
 * answer {"result": {...}, "success": true}, decoded below into the same
 * canonical transcript as Groq's verbose_json.
 */
#define CF_WHISPER "@cf/openai/whisper"
#define CF_WHISPER_TURBO "@cf/openai/whisper-large-v3-turbo"

/* The turbo model's body: the small fields as JSON, then the audio last,
 * base64-encoded straight into the body so a 25 MB upload (33 MB of base64)
 * is not copied again through a JSON string. Cloudflare has no temperature
 * and always answers segments with word timings. */
static int whisper_turbo_body(const gw_media_call_t *c, const gw_media_file_t *f,
                              bool translate, gw_buf_t *body, gw_err_t *err)
{
    json_t *lang = json_object_get(c->params, "language");
    json_t *prompt = json_object_get(c->params, "prompt");
    json_t *head = json_pack("{s:s}", "task", translate ? "translate" : "transcribe");
    char *text;
    int rc;

    if (!translate && json_is_string(lang))
        json_object_set(head, "language", lang);
    if (json_is_string(prompt))
        json_object_set(head, "initial_prompt", prompt);
    text = json_dumps(head, JSON_COMPACT);
    json_decref(head);
    if (text == NULL)
        return bad_request(err, "request could not be encoded");
    /* text is an object with at least "task": drop its closing brace */
    rc = gw_buf_append(body, text, strlen(text) - 1);
    free(text);
    if (rc == 0)
        rc = gw_buf_appends(body, ",\"audio\":\"");
    if (rc == 0)
        rc = gw_b64_encode(f->data, f->len, body);
    if (rc == 0)
        rc = gw_buf_appends(body, "\"}");
    if (rc != 0)
        return decline(err, "audio too large for this model's request body");
    return 0;
}

static int transcribe_request_cloudflare(const gw_media_call_t *c, gw_http_out_t *out,
                                         gw_err_t *err)
{
    const gw_model_t *m = c->model;
    const gw_media_file_t *f = gw_media_file(c, "file");
    bool translate = json_is_true(json_object_get(c->params, "translate"));
    bool raw = strcmp(m->id, CF_WHISPER) == 0;
    gw_buf_t url;
    char *root;
    int rc;

    if (!raw && strcmp(m->id, CF_WHISPER_TURBO) != 0)
        return decline(err, "transcription is not served by this model's API");
    if (raw && translate)
        return decline(err, "this Whisper model cannot translate");
    if (f == NULL)
        return bad_request(err, "audio file missing");
    if (raw) {
        if (gw_buf_append(&out->body, f->data, f->len) != 0)
            return decline(err, "audio too large for this model's request body");
        gw_http_out_header(out, "Content-Type", "application/octet-stream");
    } else {
        rc = whisper_turbo_body(c, f, translate, &out->body, err);
        if (rc != 0)
            return rc;
        gw_http_out_header(out, "Content-Type", "application/json");
    }
    out->post = true;
    root = base_root(c);
    gw_buf_init(&url, 8192);
    gw_buf_printf(&url, "%s/run/%s", root, m->id);
    free(root);
    out->url = gw_buf_detach(&url);
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

/* Whisper's language codes and the names OpenAI's verbose_json reports
 * (openai/whisper tokenizer.py). */
static const char *const whisper_languages[][2] = {
    {"en", "english"},        {"zh", "chinese"},        {"de", "german"},
    {"es", "spanish"},        {"ru", "russian"},        {"ko", "korean"},
    {"fr", "french"},         {"ja", "japanese"},       {"pt", "portuguese"},
    {"tr", "turkish"},        {"pl", "polish"},         {"ca", "catalan"},
    {"nl", "dutch"},          {"ar", "arabic"},         {"sv", "swedish"},
    {"it", "italian"},        {"id", "indonesian"},     {"hi", "hindi"},
    {"fi", "finnish"},        {"vi", "vietnamese"},     {"he", "hebrew"},
    {"uk", "ukrainian"},      {"el", "greek"},          {"ms", "malay"},
    {"cs", "czech"},          {"ro", "romanian"},       {"da", "danish"},
    {"hu", "hungarian"},      {"ta", "tamil"},          {"no", "norwegian"},
    {"th", "thai"},           {"ur", "urdu"},           {"hr", "croatian"},
    {"bg", "bulgarian"},      {"lt", "lithuanian"},     {"la", "latin"},
    {"mi", "maori"},          {"ml", "malayalam"},      {"cy", "welsh"},
    {"sk", "slovak"},         {"te", "telugu"},         {"fa", "persian"},
    {"lv", "latvian"},        {"bn", "bengali"},        {"sr", "serbian"},
    {"az", "azerbaijani"},    {"sl", "slovenian"},      {"kn", "kannada"},
    {"et", "estonian"},       {"mk", "macedonian"},     {"br", "breton"},
    {"eu", "basque"},         {"is", "icelandic"},      {"hy", "armenian"},
    {"ne", "nepali"},         {"mn", "mongolian"},      {"bs", "bosnian"},
    {"kk", "kazakh"},         {"sq", "albanian"},       {"sw", "swahili"},
    {"gl", "galician"},       {"mr", "marathi"},        {"pa", "punjabi"},
    {"si", "sinhala"},        {"km", "khmer"},          {"sn", "shona"},
    {"yo", "yoruba"},         {"so", "somali"},         {"af", "afrikaans"},
    {"oc", "occitan"},        {"ka", "georgian"},       {"be", "belarusian"},
    {"tg", "tajik"},          {"sd", "sindhi"},         {"gu", "gujarati"},
    {"am", "amharic"},        {"yi", "yiddish"},        {"lo", "lao"},
    {"uz", "uzbek"},          {"fo", "faroese"},        {"ht", "haitian creole"},
    {"ps", "pashto"},         {"tk", "turkmen"},        {"nn", "nynorsk"},
    {"mt", "maltese"},        {"sa", "sanskrit"},       {"lb", "luxembourgish"},
    {"my", "myanmar"},        {"bo", "tibetan"},        {"tl", "tagalog"},
    {"mg", "malagasy"},       {"as", "assamese"},       {"tt", "tatar"},
    {"haw", "hawaiian"},      {"ln", "lingala"},        {"ha", "hausa"},
    {"ba", "bashkir"},        {"jw", "javanese"},       {"su", "sundanese"},
    {"yue", "cantonese"},
};

/* The language name for a code Cloudflare reports ("en" -> "english");
 * anything else as given. */
static const char *whisper_language_name(const char *code)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(whisper_languages); i++)
        if (strcasecmp(code, whisper_languages[i][0]) == 0)
            return whisper_languages[i][1];
    return code;
}

/* Appends Cloudflare's {word,start,end} entries as OpenAI words (trimmed;
 * entries without a word are skipped); *end grows to the latest end seen. */
static void add_cf_words(json_t *words, json_t *from, double *end)
{
    size_t i;
    json_t *w;

    json_array_foreach(from, i, w) {
        const char *s = json_string_value(json_object_get(w, "word"));
        size_t n;
        if (s == NULL)
            continue;
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
            n--;
        json_array_append_new(words,
                              json_pack("{s:s%,s:f,s:f}", "word", s, n, "start",
                                        json_number_value(json_object_get(w, "start")), "end",
                                        json_number_value(json_object_get(w, "end"))));
        if (json_number_value(json_object_get(w, "end")) > *end)
            *end = json_number_value(json_object_get(w, "end"));
    }
}

/* Cloudflare segments as OpenAI verbose_json segments (Cloudflare has no
 * ids, seeks or tokens); their words go to words, *end grows to the latest end. */
static json_t *cf_segments(json_t *from, json_t *words, double *end)
{
    json_t *segs = json_array();
    json_t *s;
    size_t i;

    json_array_foreach(from, i, s) {
        const char *text = json_string_value(json_object_get(s, "text"));
        if (!json_is_object(s))
            continue;
        json_array_append_new(
            segs, json_pack("{s:I,s:i,s:f,s:f,s:s,s:[],s:f,s:f,s:f,s:f}", "id",
                            (json_int_t)json_array_size(segs), "seek", 0, "start",
                            json_number_value(json_object_get(s, "start")), "end",
                            json_number_value(json_object_get(s, "end")), "text",
                            text != NULL ? text : "", "tokens", "temperature",
                            json_number_value(json_object_get(s, "temperature")), "avg_logprob",
                            json_number_value(json_object_get(s, "avg_logprob")),
                            "compression_ratio",
                            json_number_value(json_object_get(s, "compression_ratio")),
                            "no_speech_prob",
                            json_number_value(json_object_get(s, "no_speech_prob"))));
        if (json_number_value(json_object_get(s, "end")) > *end)
            *end = json_number_value(json_object_get(s, "end"));
        add_cf_words(words, json_object_get(s, "words"), end);
    }
    return segs;
}

/* A translation is English whatever language Cloudflare detected in the
 * audio; a transcript's language is the detected one, by name as OpenAI
 * reports it. The duration is the audio's, else where the last word or
 * segment ends. */
static int transcribe_response_cloudflare(const gw_media_call_t *c, gw_str_t body,
                                          gw_media_result_t *res, gw_err_t *err)
{
    json_t *root = load_answer(body, err);
    json_t *r;
    json_t *errs;
    json_t *text;
    json_t *info;
    json_t *words;
    json_t *v;
    const char *lang;
    double end = -1;
    int rc = GW_DECLINED;

    if (root == NULL)
        return GW_DECLINED;
    r = json_object_get(root, "result");
    errs = json_object_get(root, "errors");
    text = json_object_get(r, "text");
    if (json_is_false(json_object_get(root, "success")) ||
        (json_is_array(errs) && json_array_size(errs) > 0)) {
        unusable(err, "upstream answered success:false");
        goto out;
    }
    if (!json_is_string(text)) {
        unusable(err, "upstream answered without a transcript");
        goto out;
    }
    res->json = json_pack("{s:O}", "text", text);
    info = json_object_get(r, "transcription_info");
    lang = json_string_value(json_object_get(info, "language"));
    if (json_is_true(json_object_get(c->params, "translate")))
        json_object_set_new(res->json, "language", json_string("english"));
    else if (lang != NULL && lang[0] != '\0')
        json_object_set_new(res->json, "language", json_string(whisper_language_name(lang)));
    words = json_array();
    v = json_object_get(r, "segments");
    if (json_is_array(v))
        json_object_set_new(res->json, "segments", cf_segments(v, words, &end));
    v = json_object_get(r, "words");
    if (json_is_array(v))
        add_cf_words(words, v, &end);
    if (json_is_array(v) || json_is_array(json_object_get(r, "segments")))
        json_object_set(res->json, "words", words);
    json_decref(words);
    v = json_object_get(info, "duration");
    if (json_is_number(v))
        json_object_set_new(res->json, "duration", json_real(json_number_value(v)));
    else if (end >= 0)
        json_object_set_new(res->json, "duration", json_real(end));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static int transcribe_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const char *api = c->model->api;

    if (api == NULL)
        return transcribe_request_openai(c, out, err);
    if (strcmp(api, "cloudflare-run") == 0)
        return transcribe_request_cloudflare(c, out, err);
    return decline(err, "transcription is not served by this model's API");
}

static int transcribe_response(const gw_media_call_t *c, const char *ct, gw_str_t body,
                               gw_media_result_t *res, gw_err_t *err)
{
    const char *api = c->model->api;

    if (api == NULL)
        return transcribe_response_openai(ct, body, res, err);
    if (strcmp(api, "cloudflare-run") == 0)
        return transcribe_response_cloudflare(c, body, res, err);
    return unusable(err, "transcription is not served by this model's API");
}

/* ---- moderation (Mistral's classifier) -------------------------------------------- */

static int moderate_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_model_t *m = c->model;
    json_t *body;
    int rc;

    if (m->api == NULL || strcmp(m->api, "mistral-moderation") != 0)
        return decline(err, "moderation is not served by this model's API");
    body = json_pack("{s:s,s:O}", "model", m->id, "input", json_object_get(c->params, "input"));
    rc = set_json_body(c, out, body, err);
    if (rc != 0)
        return rc;
    out->url = gw_dialect_url(m->provider, c->account_id, "/moderations");
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(m->provider, c->secret, out);
    return 0;
}

/* {"results": [{"categories": {…}, "category_scores": {…}}…]}, one per input. */
static int moderate_response(const gw_media_call_t *c, gw_str_t body, gw_media_result_t *res,
                             gw_err_t *err)
{
    json_t *root = load_answer(body, err);
    json_t *results = json_object_get(root, "results");
    json_t *out, *r;
    size_t i;

    if (root == NULL)
        return GW_DECLINED;
    if (!json_is_array(results) ||
        json_array_size(results) != json_array_size(json_object_get(c->params, "input"))) {
        json_decref(root);
        return unusable(err, "upstream returned a different number of results than inputs");
    }
    out = json_array();
    json_array_foreach(results, i, r) {
        json_t *scores = json_object_get(r, "category_scores");

        if (!json_is_object(scores)) {
            json_decref(out);
            json_decref(root);
            return unusable(err, "upstream result without category_scores");
        }
        json_array_append_new(out, json_pack("{s:o}", "scores", gw_moderation_from_mistral(scores)));
    }
    res->json = json_pack("{s:o}", "results", out);
    if (json_is_integer(json_object_get(json_object_get(root, "usage"), "prompt_tokens")))
        res->prompt_tokens = json_integer_value(json_object_get(json_object_get(root, "usage"),
                                                                "prompt_tokens"));
    json_decref(root);
    return 0;
}

/* ---- entry points ---------------------------------------------------------------- */

int gw_openai_media_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    switch (c->op) {
    case GW_OP_EMBED:
        return embed_request(c, out, err);
    case GW_OP_IMAGE:
        return image_request(c, out, err);
    case GW_OP_TRANSCRIBE:
        return transcribe_request(c, out, err);
    case GW_OP_SPEECH:
        /* No OpenAI-dialect TTS route is enabled: Groq's /audio/speech models
         * are not in the catalog, Pollinations speaks through chat with an
         * audio modality and Cloudflare's MeloTTS through its run endpoint,
         * both marked api "none" until someone writes them. */
        return decline(err, "speech is not served by this model's API");
    case GW_OP_MODERATE:
        return moderate_request(c, out, err);
    case GW_OP_REALTIME:
        break;
    }
    return decline(err, "realtime sessions are not served by this dialect");
}

int gw_openai_media_response(const gw_media_call_t *c, const char *content_type, gw_str_t body,
                             gw_media_result_t *res, gw_err_t *err)
{
    switch (c->op) {
    case GW_OP_EMBED:
        return embed_response(c, body, res, err);
    case GW_OP_IMAGE:
        return image_response(c, content_type, body, res, err);
    case GW_OP_TRANSCRIBE:
        return transcribe_response(c, content_type, body, res, err);
    case GW_OP_MODERATE:
        return moderate_response(c, body, res, err);
    case GW_OP_SPEECH:
    case GW_OP_REALTIME:
        break;
    }
    return unusable(err, "this answer is not one this dialect decodes");
}
