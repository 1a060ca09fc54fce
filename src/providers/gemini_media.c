/*
 * The Gemini dialect's media calls (media.h): embeddings through
 * `batchEmbedContents`, image generation / editing and speech through
 * `generateContent` on image and TTS models, and ephemeral Live API tokens
 * through `v1alpha/auth_tokens`. Requests are built from the normalised
 * gw_media_call_t; answers are decoded into the canonical gw_media_result_t,
 * which the API layer renders in OpenAI's shapes. Transcription is not
 * offered (Gemini has no speech-to-text models in the catalog).
 *
 * Wire facts: docs/reference/wire-gemini.md sections 4 (embeddings), 5 (images),
 * 6 (TTS, voices), 8 (Live tokens); tool declarations reuse the chat
 * dialect's schema sanitizer (gemini_schema.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/base64.h"
#include "core/clock.h"
#include "providers/gemini_schema.h"
#include "providers/media_ops.h"

/* batchEmbedContents answers 400 "at most 100 requests can be in one batch". */
#define MAX_BATCH 100
#define MAX_TEXT (64u << 20)
/* auth_tokens: Google's defaults are 30 min and 60 s; both times must be
 * less than 20 h ahead (a minute of slack for clock skew). */
#define TTL_DEFAULT_S 1800
#define NEW_SESSION_TTL_DEFAULT_S 60
#define TTL_MAX_S (20 * 3600 - 60)
#define VARIATION_PROMPT                                                                           \
    "Create a variation of this image: same subject and style, different details."
#define LIVE_PATH                                                                                  \
    "/ws/google.ai.generativelanguage.v1alpha.GenerativeService."                                  \
    "BidiGenerateContentConstrained?access_token="

/* ---- small helpers ------------------------------------------------------------ */

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool str_is(json_t *o, const char *key, const char *want)
{
    const char *s = str_of(o, key);
    return s != NULL && strcmp(s, want) == 0;
}

/* A model id without the optional "models/" resource prefix. */
static const char *bare_model(const char *id)
{
    return strncmp(id, "models/", 7) == 0 ? id + 7 : id;
}

/* Appends s with everything but RFC 3986 unreserved characters
 * percent-encoded. */
static void append_encoded(gw_buf_t *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
            gw_buf_append(b, s, 1);
        else
            gw_buf_printf(b, "%%%02X", ch);
    }
}

/* {base}{path} (caller frees); a trailing slash of the base is not doubled. */
static char *api_url(const gw_media_call_t *c, const char *path)
{
    const char *base = c->model->provider->base_url;
    size_t n = strlen(base);

    if (n > 0 && base[n - 1] == '/' && path[0] == '/')
        path++;
    return gw_dialect_url(c->model->provider, c->account_id, path);
}

/* {base}/v1beta/models/{model}:{method}, the model id percent-encoded. */
static char *model_url(const gw_media_call_t *c, const char *method)
{
    gw_buf_t path;
    char *url;

    gw_buf_init(&path, 8192);
    gw_buf_appends(&path, "/v1beta/models/");
    append_encoded(&path, bare_model(c->model->id));
    gw_buf_printf(&path, ":%s", method);
    url = api_url(c, path.ptr);
    gw_buf_dispose(&path);
    return url;
}

/* Fills out with a JSON POST of body (taken) to url (taken). The key goes in
 * the provider's auth header (x-goog-api-key) only, never in the URL or the
 * body. 0, or GW_EINVAL / GW_ETOOBIG with err set. */
static int post_json(const gw_media_call_t *c, char *url, json_t *body, gw_http_out_t *out,
                     gw_err_t *err)
{
    int rc = gw_dialect_body(out, body, c->defer_body, err);

    if (rc != 0) {
        free(url);
        return rc;
    }
    out->url = url;
    out->post = true;
    gw_http_out_header(out, "Content-Type", "application/json");
    gw_http_out_header(out, "Accept", "application/json");
    gw_dialect_auth(c->model->provider, c->secret, out);
    return 0;
}

/* The answer as a JSON object (caller owns it), or NULL with GW_DECLINED in
 * err when it is not JSON or is a Google error object. Only the error's
 * status word is quoted: the caller classifies the failure from the body. */
static json_t *load_answer(gw_str_t body, gw_err_t *err)
{
    json_t *j = json_loadb(body.ptr != NULL ? body.ptr : "", body.len, 0, NULL);
    json_t *e;

    if (!json_is_object(j)) {
        json_decref(j);
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered something that is not a JSON object");
        return NULL;
    }
    e = json_object_get(j, "error");
    if (e != NULL) {
        const char *st = str_of(e, "status");
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered an error (%.40s)",
                   st != NULL ? st : "no status");
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Parts of the first candidate (borrowed), or NULL. */
static json_t *answer_parts(json_t *ans)
{
    json_t *cand = json_array_get(json_object_get(ans, "candidates"), 0);
    return json_object_get(json_object_get(cand, "content"), "parts");
}

/* Why an answer holds no media: its finishReason, a prompt block, or a
 * placeholder. Borrowed from ans. */
static const char *no_media_reason(json_t *ans)
{
    json_t *cand = json_array_get(json_object_get(ans, "candidates"), 0);
    const char *r = str_of(cand, "finishReason");

    if (r == NULL)
        r = str_of(json_object_get(ans, "promptFeedback"), "blockReason");
    if (r == NULL)
        r = cand != NULL ? "no finishReason" : "no candidates";
    return r;
}

/* The answer's usageMetadata into the result; left alone when Gemini says nothing. */
static void read_usage(json_t *ans, gw_media_result_t *res)
{
    gw_tokens_t t = {0};

    gw_gemini_read_usage(json_object_get(ans, "usageMetadata"), &t);
    if (!t.known)
        return;
    res->prompt_tokens = t.prompt;
    res->output_tokens = t.completion;
}

static bool is_thought(json_t *part)
{
    return json_is_true(json_object_get(part, "thought"));
}

/* ---- voices --------------------------------------------------------------------- */

/* The 30 prebuilt voices (docs/reference/wire-gemini.md 6.2), as sent on the wire. */
static const char *const gemini_voices[] = {
    "Zephyr",    "Puck",          "Charon",       "Kore",      "Fenrir",     "Leda",
    "Orus",      "Aoede",         "Callirrhoe",   "Autonoe",   "Enceladus",  "Iapetus",
    "Umbriel",   "Algieba",       "Despina",      "Erinome",   "Algenib",    "Rasalgethi",
    "Laomedeia", "Achernar",      "Alnilam",      "Schedar",   "Gacrux",     "Pulcherrima",
    "Achird",    "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat",
};

/* OpenAI voice -> Gemini voice by style (docs/reference/wire-gemini.md 6.3). */
static const char *const openai_voices[][2] = {
    {"alloy", "Schedar"},   {"ash", "Charon"},       {"ballad", "Enceladus"}, {"coral", "Sulafat"},
    {"echo", "Iapetus"},    {"fable", "Puck"},       {"onyx", "Gacrux"},      {"nova", "Zephyr"},
    {"sage", "Sadaltager"}, {"shimmer", "Achernar"}, {"verse", "Laomedeia"},  {"marin", "Aoede"},
    {"cedar", "Kore"},
};

const char *gw_gemini_voice(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < GW_ARRAY_LEN(openai_voices); i++)
        if (strcasecmp(name, openai_voices[i][0]) == 0)
            return openai_voices[i][1];
    for (size_t i = 0; i < GW_ARRAY_LEN(gemini_voices); i++)
        if (strcasecmp(name, gemini_voices[i]) == 0)
            return gemini_voices[i];
    return NULL;
}

/* ---- embeddings ------------------------------------------------------------------ */

/* The strings to embed (borrowed from params). Token arrays cannot be sent
 * to Gemini (text only): GW_DECLINED, so the router tries a model that takes
 * them. A batch holds at most 100 requests and one call is one upstream
 * request, so larger inputs are declined too rather than split. Declines
 * carry no HTTP status: a 400 would make the proxy refuse the request
 * instead of trying the next candidate. */
static int embed_inputs(json_t *params, json_t **inputs, gw_err_t *err)
{
    json_t *input = json_object_get(params, "input");
    json_t *v;
    size_t i;

    *inputs = NULL;
    if (!json_is_array(input) || json_array_size(input) == 0) {
        gw_err_set(err, GW_EINVAL, 400, "input must be a non-empty array");
        return GW_EINVAL;
    }
    json_array_foreach(input, i, v) {
        if (!json_is_string(v)) {
            gw_err_set(err, GW_DECLINED, 0,
                       "Gemini embeds text only: token-array inputs cannot be sent to it");
            return GW_DECLINED;
        }
    }
    if (json_array_size(input) > MAX_BATCH) {
        gw_err_set(err, GW_DECLINED, 0,
                   "Gemini embeds at most %d inputs per request (got %zu): send smaller "
                   "batches",
                   MAX_BATCH, json_array_size(input));
        return GW_DECLINED;
    }
    *inputs = input;
    return 0;
}

static int embed_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    json_t *dims = json_object_get(c->params, "dimensions");
    json_t *inputs;
    json_t *reqs;
    json_t *v;
    gw_buf_t name;
    size_t i;
    int rc = embed_inputs(c->params, &inputs, err);

    if (rc != 0)
        return rc;
    gw_buf_init(&name, 8192);
    gw_buf_printf(&name, "models/%s", bare_model(c->model->id));
    reqs = json_array();
    json_array_foreach(inputs, i, v) {
        json_t *r =
            json_pack("{s:s,s:{s:[{s:O}]}}", "model", name.ptr, "content", "parts", "text", v);
        if (json_is_integer(dims) && json_integer_value(dims) > 0)
            json_object_set(r, "outputDimensionality", dims);
        json_array_append_new(reqs, r);
    }
    gw_buf_dispose(&name);
    return post_json(c, model_url(c, "batchEmbedContents"), json_pack("{s:o}", "requests", reqs),
                     out, err);
}

/* {"embeddings":[{"values":[...]}...]} -> {"vectors":[[...]...]}, one per
 * input in order. Gemini reports no token usage (prompt_tokens stays -1). */
static int embed_response(const gw_media_call_t *c, json_t *ans, gw_media_result_t *res,
                          gw_err_t *err)
{
    json_t *embs = json_object_get(ans, "embeddings");
    int64_t size = gw_dialect_embedding_size(c->model, c->params);
    json_t *vectors;
    json_t *inputs;
    json_t *e;
    size_t i;
    gw_err_t ignored;

    if (embed_inputs(c->params, &inputs, &ignored) != 0 ||
        json_array_size(embs) != json_array_size(inputs)) {
        gw_err_set(err, GW_DECLINED, 502, "wrong number of vectors");
        return GW_DECLINED;
    }
    vectors = json_array();
    json_array_foreach(embs, i, e) {
        json_t *vals = json_object_get(e, "values");
        json_t *x;
        size_t k;
        bool ok = json_array_size(vals) > 0;
        json_array_foreach(vals, k, x)
            ok = ok && json_is_number(x);
        if (ok && size > 0)
            ok = json_array_size(vals) == (size_t)size;
        if (!ok) {
            json_decref(vectors);
            gw_err_set(err, GW_DECLINED, 502, "Gemini answered an unusable vector (#%zu)", i);
            return GW_DECLINED;
        }
        json_array_append(vectors, vals);
    }
    res->json = json_pack("{s:o}", "vectors", vectors);
    return 0;
}

/* ---- images -------------------------------------------------------------------- */

/* The MIME type Gemini is told for an uploaded image: the declared type when
 * it is PNG, JPEG or WebP (parameters and case ignored, image/jpg taken as
 * JPEG), else what the bytes say; NULL when neither is one of those. */
static const char *image_mime(const gw_media_file_t *f)
{
    static const char *const known[][2] = {
        {"image/png", "image/png"},    {"image/jpeg", "image/jpeg"}, {"image/jpg", "image/jpeg"},
        {"image/pjpeg", "image/jpeg"}, {"image/webp", "image/webp"},
    };
    const char *ct = f->content_type != NULL ? f->content_type : "";
    size_t n = strcspn(ct, "; \t");

    for (size_t i = 0; i < GW_ARRAY_LEN(known); i++)
        if (n == strlen(known[i][0]) && strncasecmp(ct, known[i][0], n) == 0)
            return known[i][1];
    /* Browsers and curl often upload as application/octet-stream. */
    return gw_media_sniff_image(f->data, f->len);
}

static int image_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const char *mode = str_of(c->params, "mode");
    const char *prompt = str_of(c->params, "prompt");
    const char *ratio = str_of(c->params, "aspect_ratio");
    bool edit = mode != NULL && strcmp(mode, "edit") == 0;
    bool variation = mode != NULL && strcmp(mode, "variation") == 0;
    json_t *parts = json_array();
    json_t *gen;
    size_t nimages = 0;

    if (prompt == NULL || prompt[0] == '\0') {
        if (!variation) {
            json_decref(parts);
            gw_err_set(err, GW_EINVAL, 400, "prompt is required");
            return GW_EINVAL;
        }
        prompt = VARIATION_PROMPT;
    }
    json_array_append_new(parts, json_pack("{s:s}", "text", prompt));
    /* A "mask" upload has no Gemini equivalent: it is ignored, and the prompt
     * alone says what to change (docs/reference/wire-gemini.md 5.2). */
    for (size_t i = 0; (edit || variation) && i < c->nfiles; i++) {
        const gw_media_file_t *f = &c->files[i];
        const char *mime;
        gw_buf_t b64;

        if (strcmp(f->field, "image") != 0 && strcmp(f->field, "image[]") != 0)
            continue;
        mime = image_mime(f);
        if (mime == NULL) {
            json_decref(parts);
            gw_err_set(err, GW_EINVAL, 400,
                       "unsupported image type (image #%zu): Gemini takes PNG, JPEG or WebP",
                       nimages + 1);
            return GW_EINVAL;
        }
        gw_buf_init(&b64, MAX_TEXT);
        if (gw_b64_encode(f->data, f->len, &b64) != 0) {
            gw_buf_dispose(&b64);
            json_decref(parts);
            gw_err_set(err, GW_ETOOBIG, 413, "image too large for Gemini");
            return GW_ETOOBIG;
        }
        json_array_append_new(parts, json_pack("{s:{s:s,s:s%}}", "inlineData", "mimeType", mime,
                                               "data", b64.ptr != NULL ? b64.ptr : "", b64.len));
        gw_buf_dispose(&b64);
        nimages++;
    }
    if ((edit || variation) && nimages == 0) {
        json_decref(parts);
        gw_err_set(err, GW_EINVAL, 400, "an image to %s is required", edit ? "edit" : "vary");
        return GW_EINVAL;
    }
    gen = json_pack("{s:[s,s]}", "responseModalities", "TEXT", "IMAGE");
    if (ratio != NULL && ratio[0] != '\0')
        json_object_set_new(gen, "imageConfig", json_pack("{s:s}", "aspectRatio", ratio));
    return post_json(c, model_url(c, "generateContent"),
                     json_pack("{s:[{s:s,s:o}],s:o}", "contents", "role", "user", "parts", parts,
                               "generationConfig", gen),
                     out, err);
}

/* Non-thought inlineData images -> {"images":[{b64, mime}...], "text"}; thought
 * parts may hold draft images (Gemini 3) and are skipped. */
static int image_response(json_t *ans, gw_media_result_t *res, gw_err_t *err)
{
    json_t *images = json_array();
    json_t *part;
    size_t i;
    gw_buf_t text;

    gw_buf_init(&text, MAX_TEXT);
    json_array_foreach(answer_parts(ans), i, part) {
        json_t *inl = json_object_get(part, "inlineData");
        json_t *data = json_object_get(inl, "data");
        json_t *t = json_object_get(part, "text");
        const char *mime = str_of(inl, "mimeType");

        if (is_thought(part))
            continue;
        if (json_is_string(data) && (mime == NULL || strncasecmp(mime, "image/", 6) == 0)) {
            if (gw_media_add_b64_image(images, data, err) != 0) {
                json_decref(images);
                gw_buf_dispose(&text);
                return GW_DECLINED;
            }
        } else if (json_is_string(t))
            gw_buf_append(&text, json_string_value(t), json_string_length(t));
    }
    if (json_array_size(images) == 0) {
        gw_err_set(err, GW_DECLINED, 502, "upstream returned no image (%.40s)",
                   no_media_reason(ans));
        json_decref(images);
        gw_buf_dispose(&text);
        return GW_DECLINED;
    }
    res->json = json_pack("{s:o,s:s%}", "images", images, "text", text.ptr != NULL ? text.ptr : "",
                          text.len);
    gw_buf_dispose(&text);
    read_usage(ans, res);
    return 0;
}

/* ---- speech ------------------------------------------------------------------ */

/* Style goes into the text, as Gemini TTS is steered by natural language:
 * "<instructions>: <input>". params.speed is not phrased into the prompt:
 * the API layer time-stretches the audio, and both together would apply
 * the speed twice. */
static int speech_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const char *input = str_of(c->params, "input");
    const char *instr = str_of(c->params, "instructions");
    const char *asked = str_of(c->params, "voice");
    const char *voice = asked != NULL ? gw_gemini_voice(asked) : "Kore";
    json_t *body;
    gw_buf_t text;

    if (c->model->kind != NULL && strcmp(c->model->kind, "realtime") == 0) {
        /* Native-audio Live models speak over the WebSocket only. */
        gw_err_set(err, GW_DECLINED, 0, "Live-only model: no REST speech");
        return GW_DECLINED;
    }
    if (input == NULL || input[0] == '\0') {
        gw_err_set(err, GW_EINVAL, 400, "input is required");
        return GW_EINVAL;
    }
    if (voice == NULL) {
        gw_err_set(err, GW_EINVAL, 400, "unsupported voice");
        return GW_EINVAL;
    }
    gw_buf_init(&text, MAX_TEXT);
    if (instr != NULL && instr[0] != '\0')
        gw_buf_printf(&text, "%s: ", instr);
    if (gw_buf_appends(&text, input) != 0) {
        gw_buf_dispose(&text);
        gw_err_set(err, GW_ETOOBIG, 413, "input too large");
        return GW_ETOOBIG;
    }
    body = json_pack("{s:[{s:s,s:[{s:s%}]}],s:{s:[s],s:{s:{s:{s:s}}}}}", "contents", "role", "user",
                     "parts", "text", text.ptr, text.len, "generationConfig", "responseModalities",
                     "AUDIO", "speechConfig", "voiceConfig", "prebuiltVoiceConfig", "voiceName",
                     voice);
    gw_buf_dispose(&text);
    return post_json(c, model_url(c, "generateContent"), body, out, err);
}

/* The value of a "name=" parameter of a MIME type, or def. */
static long mime_param(const char *mime, const char *name, long def)
{
    size_t n = strlen(name);

    for (const char *p = strchr(mime, ';'); p != NULL; p = strchr(p + 1, ';')) {
        const char *q = p + 1;
        char *end;
        long v;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncasecmp(q, name, n) != 0 || q[n] != '=')
            continue;
        v = strtol(q + n + 1, &end, 10);
        if (end != q + n + 1 && v > 0 && v <= 384000)
            return v;
    }
    return def;
}

/* Raw PCM as Gemini labels it: audio/L16 or audio/pcm (any parameters). */
static bool is_pcm(const char *mime)
{
    size_t n = strcspn(mime, "; \t");
    return (n == 9 && strncasecmp(mime, "audio/L16", 9) == 0) ||
           (n == 9 && strncasecmp(mime, "audio/pcm", 9) == 0);
}

/* Audio parts (non-thought, mimeType audio/...) are decoded and joined; the
 * first one fixes the format and parts of another type are skipped (one
 * answer carries one stream). PCM -> "audio/L16;rate=R" (default 24000);
 * anything else keeps its type ("audio/wav"). */
static int speech_response(json_t *ans, gw_media_result_t *res, gw_err_t *err)
{
    json_t *part;
    size_t i;
    char first[96] = "";

    json_array_foreach(answer_parts(ans), i, part) {
        json_t *inl = json_object_get(part, "inlineData");
        json_t *data = json_object_get(inl, "data");
        const char *mime = str_of(inl, "mimeType");
        int rc;

        if (is_thought(part) || mime == NULL || strncasecmp(mime, "audio/", 6) != 0 ||
            !json_is_string(data))
            continue;
        if (first[0] == '\0')
            snprintf(first, sizeof(first), "%s", mime);
        else if (strcasecmp(first, mime) != 0)
            continue;
        rc = gw_b64_decode(json_string_value(data), json_string_length(data), &res->bytes);
        if (rc != 0) {
            gw_err_set(err, GW_DECLINED, 502, "Gemini answered %s audio",
                       rc == GW_ETOOBIG ? "too much" : "undecodable");
            return GW_DECLINED;
        }
    }
    if (res->bytes.len == 0) {
        gw_err_set(err, GW_DECLINED, 502, "upstream returned no audio (%.40s)",
                   no_media_reason(ans));
        return GW_DECLINED;
    }
    if (is_pcm(first))
        snprintf(res->mime, sizeof(res->mime), "audio/L16;rate=%ld",
                 mime_param(first, "rate", 24000));
    else
        snprintf(res->mime, sizeof(res->mime), "%s", first);
    read_usage(ans, res);
    return 0;
}

/* ---- realtime: ephemeral Live tokens ------------------------------------------- */

static bool valid_tool_name(const char *s)
{
    size_t n;

    if (s == NULL || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (n = 1; s[n] != '\0'; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (!(isalnum(ch) || ch == '_' || ch == '.' || ch == '-') || n >= 64)
            return false;
    }
    return true;
}

/* session.tools -> functionDeclarations (new array in *decls) and their
 * names in order (new array in *names). Takes the Realtime API's flat form
 * {"type":"function","name",...} and chat's nested {"function":{...}};
 * parameters go through the chat dialect's schema sanitizer. Invalid tools
 * are the client's error: GW_EINVAL, err->http_status 400 naming the index. */
static int live_tools(json_t *tools, json_t **decls, json_t **names, gw_err_t *err)
{
    json_t *t;
    size_t i;

    *decls = json_array();
    *names = json_array();
    if (tools != NULL && !json_is_null(tools) && !json_is_array(tools)) {
        gw_err_set(err, GW_EINVAL, 400, "session.tools must be an array");
        return GW_EINVAL;
    }
    json_array_foreach(tools, i, t) {
        json_t *fn =
            json_is_object(json_object_get(t, "function")) ? json_object_get(t, "function") : t;
        const char *type = str_of(t, "type");
        const char *name = str_of(fn, "name");
        json_t *params = json_object_get(fn, "parameters");
        json_t *desc = json_object_get(fn, "description");
        json_t *d;
        size_t k;
        json_t *seen;

        if (!json_is_object(t) || (type != NULL && strcmp(type, "function") != 0)) {
            gw_err_set(err, GW_EINVAL, 400,
                       "session.tools[%zu]: only function tools can be sent to Gemini Live", i);
            return GW_EINVAL;
        }
        if (!valid_tool_name(name)) {
            gw_err_set(err, GW_EINVAL, 400,
                       "session.tools[%zu]: missing or invalid name (letters, digits, _ . -; "
                       "starting with a letter or _; at most 64)",
                       i);
            return GW_EINVAL;
        }
        json_array_foreach(*names, k, seen) {
            if (strcmp(json_string_value(seen), name) == 0) {
                gw_err_set(err, GW_EINVAL, 400, "session.tools[%zu]: duplicate name", i);
                return GW_EINVAL;
            }
        }
        d = gw_gemini_function_decl(name, desc, params);
        json_array_append_new(*decls, d);
        json_array_append_new(*names, json_string(name));
    }
    return 0;
}

/* The tools a session declares (see live_setup for tool_choice). */
static int live_declared(json_t *session, json_t **decls, json_t **names, gw_err_t *err)
{
    json_t *tc = json_object_get(session, "tool_choice");
    const char *only = json_is_object(tc) ? str_of(tc, "name") : NULL;
    int rc = live_tools(json_object_get(session, "tools"), decls, names, err);
    json_t *n;
    size_t i;

    if (rc == 0 && str_is(session, "tool_choice", "none")) {
        json_array_clear(*decls);
        json_array_clear(*names);
    }
    if (rc != 0 || only == NULL)
        return rc;
    json_array_foreach(*names, i, n) {
        if (strcmp(json_string_value(n), only) == 0) {
            json_t *d = json_incref(json_array_get(*decls, i));

            json_array_clear(*decls);
            json_array_clear(*names);
            json_array_append_new(*decls, d);
            json_array_append_new(*names, json_string(only));
            return 0;
        }
    }
    gw_err_set(err, GW_EINVAL, 400, "session.tool_choice: no such function in session.tools");
    return GW_EINVAL;
}

/* The OpenAI realtime session -> a Live `setup` (docs/reference/wire-gemini.md 8.4),
 * new reference in *setup. A session takes one response modality: AUDIO
 * when the client wants audio at all (and always on native-audio models),
 * else TEXT.
 *
 * tool_choice: the Live setup has no toolConfig (8.4; the mock rejects
 * unknown setup fields like the API), so "required" cannot be enforced and
 * behaves as "auto"; "none" declares no tools, which has the same effect; a
 * named function is declared alone, so it is the only one the model can
 * call (whether it calls it stays the model's choice). */
static int live_setup(const gw_media_call_t *c, json_t *session, json_t **setup, gw_err_t *err)
{
    json_t *mods = json_object_get(session, "modalities");
    json_t *temp = json_object_get(session, "temperature");
    json_t *maxtok = json_object_get(session, "max_response_output_tokens");
    json_t *td = json_object_get(session, "turn_detection");
    const char *instr = str_of(session, "instructions");
    const char *asked = str_of(session, "voice");
    json_t *gen = json_object();
    json_t *s;
    json_t *decls;
    json_t *names;
    json_t *m;
    size_t i;
    gw_buf_t model;
    bool audio = !json_is_array(mods) || json_array_size(mods) == 0;
    int rc;

    json_array_foreach(mods, i, m)
        if (json_is_string(m) && strcmp(json_string_value(m), "audio") == 0)
            audio = true;
    if (strstr(c->model->id, "native-audio") != NULL)
        audio = true;
    rc = live_declared(session, &decls, &names, err);
    json_decref(names);
    if (rc == 0 && asked != NULL && audio && gw_gemini_voice(asked) == NULL) {
        gw_err_set(err, GW_EINVAL, 400, "unsupported voice");
        rc = GW_EINVAL;
    }
    if (rc != 0) {
        json_decref(decls);
        json_decref(gen);
        return rc;
    }
    json_object_set_new(gen, "responseModalities", json_pack("[s]", audio ? "AUDIO" : "TEXT"));
    if (json_is_number(temp))
        json_object_set(gen, "temperature", temp);
    if (json_is_integer(maxtok) && json_integer_value(maxtok) > 0) /* "inf": no cap */
        json_object_set(gen, "maxOutputTokens", maxtok);
    if (audio && asked != NULL)
        json_object_set_new(gen, "speechConfig",
                            json_pack("{s:{s:{s:s}}}", "voiceConfig", "prebuiltVoiceConfig",
                                      "voiceName", gw_gemini_voice(asked)));
    gw_buf_init(&model, 8192);
    gw_buf_printf(&model, "models/%s", bare_model(c->model->id));
    s = json_pack("{s:s,s:o}", "model", model.ptr, "generationConfig", gen);
    gw_buf_dispose(&model);
    if (instr != NULL && instr[0] != '\0')
        json_object_set_new(s, "systemInstruction",
                            json_pack("{s:[{s:s}]}", "parts", "text", instr));
    if (json_array_size(decls) > 0)
        json_object_set_new(s, "tools", json_pack("[{s:O}]", "functionDeclarations", decls));
    json_decref(decls);
    /* Transcription settings come as objects (OpenAI's) or booleans (what the
     * original product's own example sends). Input: off unless asked for;
     * output: on for audio (text-reading clients want it) unless false. */
    if (json_is_object(json_object_get(session, "input_audio_transcription")) ||
        json_is_true(json_object_get(session, "input_audio_transcription")))
        json_object_set_new(s, "inputAudioTranscription", json_object());
    if (audio && !json_is_false(json_object_get(session, "output_audio_transcription")))
        json_object_set_new(s, "outputAudioTranscription", json_object());
    /* turn_detection: null is manual turns (the client commits); server VAD
     * timings carry over. semantic_vad and threshold have no equivalent. */
    if (td != NULL && json_is_null(td)) {
        json_object_set_new(s, "realtimeInputConfig",
                            json_pack("{s:{s:b}}", "automaticActivityDetection", "disabled", 1));
    } else if (str_is(td, "type", "server_vad")) {
        json_t *aad = json_object();
        json_t *sil = json_object_get(td, "silence_duration_ms");
        json_t *pad = json_object_get(td, "prefix_padding_ms");
        if (json_is_integer(sil) && json_integer_value(sil) >= 0)
            json_object_set(aad, "silenceDurationMs", sil);
        if (json_is_integer(pad) && json_integer_value(pad) >= 0)
            json_object_set(aad, "prefixPaddingMs", pad);
        if (json_object_size(aad) > 0)
            json_object_set_new(s, "realtimeInputConfig",
                                json_pack("{s:o}", "automaticActivityDetection", aad));
        else
            json_decref(aad);
    }
    *setup = s;
    return 0;
}

/* A lifetime parameter in seconds: def when absent or not positive, capped
 * below Google's 20-hour limit. */
static int64_t ttl_param(json_t *params, const char *key, int64_t def)
{
    json_t *v = json_object_get(params, key);
    int64_t s = json_is_integer(v) ? json_integer_value(v) : 0;

    if (s <= 0)
        s = def;
    return s > TTL_MAX_S ? TTL_MAX_S : s;
}

/* RFC 3339 UTC, whole seconds: "2026-05-01T12:30:00Z". */
static void rfc3339(char out[32], int64_t unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parses an RFC 3339 timestamp (fraction ignored, Z or +hh:mm) into Unix
 * seconds; false when s is not one. */
static bool parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm;
    int used = 0;
    int oh;
    int om;
    int64_t off = 0;
    const char *p;

    if (s == NULL)
        return false;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6 ||
        used != 19)
        return false;
    p = s + used;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &used) == 2 &&
               used == 5 && p[6] == '\0') {
        off = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
    } else {
        return false;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm) - off;
    return true;
}

/* POST {base}/v1alpha/auth_tokens (tokens are v1alpha-only): one use, the
 * session's setup locked whole (no fieldMask: every field it sets is fixed,
 * the client's own setup cannot change them). */
static int realtime_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    json_t *session = json_object_get(c->params, "session");
    int64_t now = gw_now_ms() / 1000;
    int64_t ttl = ttl_param(c->params, "ttl_s", TTL_DEFAULT_S);
    int64_t new_ttl = ttl_param(c->params, "new_session_ttl_s", NEW_SESSION_TTL_DEFAULT_S);
    char expire[32];
    char new_expire[32];
    json_t *setup;
    int rc;

    if (session != NULL && !json_is_null(session) && !json_is_object(session)) {
        gw_err_set(err, GW_EINVAL, 400, "session must be an object");
        return GW_EINVAL;
    }
    rc = live_setup(c, session, &setup, err);
    if (rc != 0)
        return rc;
    rfc3339(expire, now + ttl);
    rfc3339(new_expire, now + GW_MIN(new_ttl, ttl));
    return post_json(c, api_url(c, "/v1alpha/auth_tokens"),
                     json_pack("{s:i,s:s,s:s,s:o}", "uses", 1, "expireTime", expire,
                               "newSessionExpireTime", new_expire, "bidiGenerateContentSetup",
                               setup),
                     out, err);
}

/* The constrained Live socket of the provider (caller frees): the base URL
 * with ws(s) for http(s), so a path-prefixed base (a proxy, the test mock
 * under /google) keeps its prefix; the token is URL-encoded. */
static char *live_url(const gw_provider_t *p, const char *token)
{
    const char *base = p->base_url;
    const char *rest = strstr(base, "://");
    size_t n;
    gw_buf_t b;

    gw_buf_init(&b, 16384);
    if (strncasecmp(base, "http://", 7) == 0)
        gw_buf_appends(&b, "ws://");
    else
        gw_buf_appends(&b, "wss://");
    rest = rest != NULL ? rest + 3 : base;
    n = strlen(rest);
    while (n > 0 && rest[n - 1] == '/')
        n--;
    gw_buf_append(&b, rest, n);
    gw_buf_appends(&b, LIVE_PATH);
    append_encoded(&b, token);
    return gw_buf_detach(&b);
}

/* {"name":"auth_tokens/..."} -> {token, expires_at, new_session_expires_at,
 * connect_url, tools, model}. The times are those asked for: echoed by
 * Gemini when it does (then exact), else recomputed from the parameters
 * (later than asked by the round trip at most). */
static int realtime_response(const gw_media_call_t *c, json_t *ans, gw_media_result_t *res,
                             gw_err_t *err)
{
    const char *name = str_of(ans, "name");
    json_t *session = json_object_get(c->params, "session");
    int64_t now = gw_now_ms() / 1000;
    int64_t ttl = ttl_param(c->params, "ttl_s", TTL_DEFAULT_S);
    int64_t new_ttl =
        GW_MIN(ttl_param(c->params, "new_session_ttl_s", NEW_SESSION_TTL_DEFAULT_S), ttl);
    int64_t exp;
    int64_t new_exp;
    json_t *decls;
    json_t *names;
    char *url;
    gw_err_t ignored;

    if (name == NULL || name[0] == '\0') {
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered no token name");
        return GW_DECLINED;
    }
    if (!parse_rfc3339(str_of(ans, "expireTime"), &exp))
        exp = now + ttl;
    if (!parse_rfc3339(str_of(ans, "newSessionExpireTime"), &new_exp))
        new_exp = now + new_ttl;
    if (live_declared(session, &decls, &names, &ignored) != 0) {
        json_decref(decls);
        json_decref(names);
        gw_err_set(err, GW_DECLINED, 502, "session tools changed");
        return GW_DECLINED;
    }
    json_decref(decls);
    url = live_url(c->model->provider, name);
    res->json = json_pack("{s:s,s:I,s:I,s:s,s:o,s:s}", "token", name, "expires_at", (json_int_t)exp,
                          "new_session_expires_at", (json_int_t)new_exp, "connect_url", url,
                          "tools", names, "model", c->model->id);
    free(url);
    return 0;
}

/* ---- entry points ----------------------------------------------------------------- */

/* Whether the model can serve the op at all (catalog capabilities). */
static bool model_can(const gw_media_call_t *c)
{
    unsigned caps = c->model->caps;
    const char *mode = str_of(c->params, "mode");

    switch (c->op) {
    case GW_OP_EMBED:
        return (caps & GW_CAP_EMBED) != 0;
    case GW_OP_IMAGE:
        if (mode != NULL && strcmp(mode, "generate") != 0)
            return (caps & GW_CAP_IMAGE_EDIT) != 0;
        return (caps & GW_CAP_IMAGE) != 0;
    case GW_OP_SPEECH:
        return (caps & GW_CAP_TTS) != 0;
    case GW_OP_REALTIME:
        return (caps & GW_CAP_REALTIME) != 0;
    case GW_OP_TRANSCRIBE:
    case GW_OP_MODERATE:
        break;
    }
    return false;
}

int gw_gemini_media_request(const gw_media_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    if (c->op == GW_OP_TRANSCRIBE) {
        /* Audio understanding (docs/reference/wire-gemini.md 7) could stand in, but
         * gives no timings; the catalog has no Gemini stt models for it. */
        gw_err_set(err, GW_DECLINED, 0, "Gemini does no transcription here");
        return GW_DECLINED;
    }
    if (!model_can(c)) {
        gw_err_set(err, GW_DECLINED, 0, "model cannot serve this call");
        return GW_DECLINED;
    }
    switch (c->op) {
    case GW_OP_EMBED:
        return embed_request(c, out, err);
    case GW_OP_IMAGE:
        return image_request(c, out, err);
    case GW_OP_SPEECH:
        return speech_request(c, out, err);
    case GW_OP_REALTIME:
        return realtime_request(c, out, err);
    case GW_OP_TRANSCRIBE:
    case GW_OP_MODERATE:
        break;
    }
    gw_err_set(err, GW_DECLINED, 0, "unknown media call");
    return GW_DECLINED;
}

int gw_gemini_media_response(const gw_media_call_t *c, const char *content_type, gw_str_t body,
                             gw_media_result_t *res, gw_err_t *err)
{
    json_t *ans;
    int rc = GW_DECLINED;

    (void)content_type; /* Google answers JSON; the body says what it is */
    if (c->op == GW_OP_TRANSCRIBE) {
        gw_err_set(err, GW_DECLINED, 502, "Gemini does no transcription here");
        return GW_DECLINED;
    }
    ans = load_answer(body, err);
    if (ans == NULL)
        return GW_DECLINED;
    switch (c->op) {
    case GW_OP_EMBED:
        rc = embed_response(c, ans, res, err);
        break;
    case GW_OP_IMAGE:
        rc = image_response(ans, res, err);
        break;
    case GW_OP_SPEECH:
        rc = speech_response(ans, res, err);
        break;
    case GW_OP_REALTIME:
        rc = realtime_response(c, ans, res, err);
        break;
    case GW_OP_TRANSCRIBE:
    case GW_OP_MODERATE:
        break;
    }
    json_decref(ans);
    return rc;
}
