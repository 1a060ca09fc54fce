/*
 * POST /v1/images/generations (JSON), /v1/images/edits and
 * /v1/images/variations (multipart), and GET /v1/images/files/<name> for
 * response_format "url". Providers answer one image per call or several;
 * the job calls again until it has n. A variation is an edit with a fixed
 * instruction where no provider has a variations API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "media/image_store.h"
#include "api/handlers.h"
#include "api/media.h"
#include "core/base64.h"
#include "core/clock.h"

#define MAX_IMAGE_FILE (20u << 20) /* Gemini's inline request limit */
#define MAX_PROMPT 32000
#define MAX_N 10

typedef struct images_state {
    json_t *images; /* [{"b64","mime"}] collected so far */
    char *text;     /* the first caption, as revised_prompt */
    int n;
    bool url;       /* response_format "url" */
    char *base_url; /* the gateway's public URL (never the request's Host) */
} images_state_t;

static void images_state_free(void *p)
{
    images_state_t *st = p;

    if (st == NULL)
        return;
    json_decref(st->images);
    free(st->text);
    free(st->base_url);
    free(st);
}

static json_t *image_entry(images_state_t *st, json_t *img, bool with_text, gw_err_t *err,
                           gw_gateway_t *gw)
{
    const char *b64 = json_string_value(json_object_get(img, "b64"));
    const char *mime = json_string_value(json_object_get(img, "mime"));
    json_t *e;

    if (!st->url) {
        e = json_pack("{s:s}", "b64_json", b64);
    } else {
        gw_buf_t raw;
        char name[80];
        char url[400];

        gw_buf_init(&raw, (size_t)64 << 20);
        if (gw_b64_decode(b64, strlen(b64), &raw) != 0) {
            gw_buf_dispose(&raw);
            gw_err_set(err, GW_DECLINED, 0, "the image was not valid base64");
            return NULL;
        }
        if (gw->images == NULL)
            gw->images = gw_image_store_new(GW_IMAGE_STORE_BYTES, GW_IMAGE_TTL_MS);
        if (gw_image_store_put(gw->images, raw.ptr, raw.len, mime != NULL ? mime : "image/png",
                               gw_now_ms(), name) != 0) {
            gw_buf_dispose(&raw);
            gw_err_set(err, GW_DECLINED, 0, "the image could not be kept for a URL");
            return NULL;
        }
        gw_buf_dispose(&raw);
        snprintf(url, sizeof(url), "%s/v1/images/files/%s", st->base_url, name);
        e = json_pack("{s:s}", "url", url);
    }
    if (with_text && st->text != NULL)
        json_object_set_new(e, "revised_prompt", json_string(st->text));
    return e;
}

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    images_state_t *st = job->state;
    json_t *got = json_object_get(res->json, "images");
    const char *text = json_string_value(json_object_get(res->json, "text"));
    json_t *data;
    json_t *answer;

    (void)c;
    for (size_t i = 0; i < json_array_size(got); i++) {
        json_t *img = json_array_get(got, i);
        if ((int)json_array_size(st->images) < st->n && json_is_string(json_object_get(img, "b64")))
            json_array_append(st->images, img);
    }
    if (st->text == NULL && text != NULL && text[0] != '\0')
        st->text = gw_xstrdup(text);
    if (json_array_size(got) == 0) {
        gw_err_set(err, GW_DECLINED, 0, "upstream returned no image");
        return GW_DECLINED;
    }
    if ((int)json_array_size(st->images) < st->n)
        return GW_AGAIN;
    data = json_array();
    for (size_t i = 0; i < json_array_size(st->images); i++) {
        json_t *e = image_entry(st, json_array_get(st->images, i), true, err, job->gw);
        if (e == NULL) {
            json_decref(data);
            return GW_DECLINED;
        }
        json_array_append_new(data, e);
    }
    answer = json_pack("{s:I, s:o}", "created", (json_int_t)time(NULL), "data", data);
    if (res->prompt_tokens >= 0)
        json_object_set_new(answer, "usage",
                            json_pack("{s:I, s:I, s:I}", "input_tokens",
                                      (json_int_t)res->prompt_tokens, "output_tokens",
                                      (json_int_t)res->output_tokens, "total_tokens",
                                      (json_int_t)(res->prompt_tokens + res->output_tokens)));
    return gw__media_reply_json(reply, answer, err);
}

/* ---- parameters (JSON or form fields, as strings) ------------------------------ */

static const struct {
    int w, h;
    const char *ratio;
} ratios[] = {
    {1, 1, "1:1"}, {2, 3, "2:3"}, {3, 2, "3:2"},   {3, 4, "3:4"},   {4, 3, "4:3"},
    {4, 5, "4:5"}, {5, 4, "5:4"}, {9, 16, "9:16"}, {16, 9, "16:9"}, {21, 9, "21:9"},
};

/* size "WxH" (or "auto"/absent) into width, height and the closest ratio. */
static bool read_size(gw_req_t *req, const char *size, json_t *params)
{
    int w = 0;
    int h = 0;
    char tail = 0;
    size_t best = 0;
    double best_d = 1e9;

    if (size == NULL || strcmp(size, "auto") == 0)
        return true;
    if (sscanf(size, "%dx%d%c", &w, &h, &tail) != 2 || w < 64 || h < 64 || w > 4096 || h > 4096) {
        gw__media_bad(req, "size",
                      "'size' must be \"auto\" or WIDTHxHEIGHT (64 to 4096 each), "
                      "e.g. \"1024x1024\".");
        return false;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(ratios); i++) {
        double d = (double)w / h - (double)ratios[i].w / ratios[i].h;
        if (d < 0)
            d = -d;
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    json_object_set_new(params, "size", json_string(size));
    json_object_set_new(params, "width", json_integer(w));
    json_object_set_new(params, "height", json_integer(h));
    json_object_set_new(params, "aspect_ratio", json_string(ratios[best].ratio));
    return true;
}

static bool read_n(gw_req_t *req, json_t *v, const char *text, int *n)
{
    long long x = 1;
    char tail = 0;

    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v)) {
            gw__media_bad(req, "n", "'n' must be an integer from 1 to %d.", MAX_N);
            return false;
        }
        x = json_integer_value(v);
    } else if (text != NULL && sscanf(text, "%lld%c", &x, &tail) != 1) {
        gw__media_bad(req, "n", "'n' must be an integer from 1 to %d.", MAX_N);
        return false;
    }
    if (x < 1 || x > MAX_N) {
        gw__media_bad(req, "n", "'n' must be an integer from 1 to %d.", MAX_N);
        return false;
    }
    *n = (int)x;
    return true;
}

/* OpenAI's gpt-image models always answer base64 (they take no
 * response_format); dall-e answers URLs unless asked. */
static bool gpt_image(const char *model)
{
    return model != NULL && (strncmp(model, "gpt-image", 9) == 0 ||
                             strncmp(model, "chatgpt-image", 13) == 0);
}

static bool read_format(gw_req_t *req, const char *fmt, const char *model, bool *url)
{
    if (fmt == NULL && gpt_image(model)) {
        *url = false;
        return true;
    }
    if (fmt == NULL || strcmp(fmt, "url") == 0) {
        *url = true;
        return true;
    }
    if (strcmp(fmt, "b64_json") == 0) {
        *url = false;
        return true;
    }
    gw__media_bad(req, "response_format", "'response_format' must be \"url\" or \"b64_json\".");
    return false;
}

static bool read_prompt(gw_req_t *req, const char *prompt, bool required, json_t *params)
{
    if (prompt == NULL || prompt[0] == '\0') {
        if (!required)
            return true;
        gw__media_missing(req, "prompt", "You must provide a prompt.");
        return false;
    }
    if (strlen(prompt) > MAX_PROMPT) {
        gw__media_bad(req, "prompt", "'prompt' is longer than %d characters.", MAX_PROMPT);
        return false;
    }
    json_object_set_new(params, "prompt", json_string(prompt));
    return true;
}

/* An uploaded image: present, not empty, PNG, JPEG or WebP by its bytes. */
static bool take_image(gw_req_t *req, gw_media_job_t *job, const char *field, gw_form_item_t *it)
{
    const char *mime;

    if (it == NULL || it->filename == NULL) {
        gw__media_missing(req, field, "You must upload the image as a file (PNG, JPEG or WebP).");
        return false;
    }
    if (it->data.len == 0) {
        gw__media_bad(req, field, "The uploaded '%s' file is empty.", field);
        return false;
    }
    mime = gw_media_sniff_image((const unsigned char *)it->data.ptr, it->data.len);
    if (mime == NULL) {
        gw__media_bad(req, field, "The uploaded '%s' file is not a PNG, JPEG or WebP image.",
                      field);
        return false;
    }
    free(it->content_type);
    it->content_type = gw_xstrdup(mime);
    if (!gw__media_job_file(job, field, it)) {
        gw__media_bad(req, field, "Too many files.");
        return false;
    }
    return true;
}

void api_images(gw_gateway_t *gw, gw_req_t *req, const char *mode)
{
    bool generate = strcmp(mode, "generate") == 0;
    gw_media_job_t *job = gw__media_job_new(gw, GW_OP_IMAGE);
    images_state_t *st = gw_xcalloc(1, sizeof(*st));
    json_t *body = NULL;
    const char *model_name;
    const char *model;
    const char *prompt;
    const char *size;
    const char *fmt;
    json_t *n_json = NULL;
    const char *n_text = NULL;

    job->state = st;
    job->state_free = images_state_free;
    job->render = render;
    st->images = json_array();
    if (generate) {
        body = gw__media_json_body(req);
        if (body == NULL)
            goto fail;
        model_name = json_string_value(json_object_get(body, "model"));
        prompt = json_string_value(json_object_get(body, "prompt"));
        if (json_object_get(body, "prompt") != NULL && prompt == NULL) {
            gw__media_bad(req, "prompt", "'prompt' must be a string.");
            goto fail;
        }
        size = json_string_value(json_object_get(body, "size"));
        fmt = json_string_value(json_object_get(body, "response_format"));
        if (json_object_get(body, "response_format") != NULL &&
            !json_is_null(json_object_get(body, "response_format")) && fmt == NULL)
            fmt = "";
        n_json = json_object_get(body, "n");
    } else {
        if (!gw__media_form_body(req, &job->form, MAX_IMAGE_FILE))
            goto fail;
        model_name = gw_form_value(&job->form, "model");
        prompt = gw_form_value(&job->form, "prompt");
        size = gw_form_value(&job->form, "size");
        fmt = gw_form_value(&job->form, "response_format");
        n_text = gw_form_value(&job->form, "n");
    }
    if (!read_prompt(req, prompt, strcmp(mode, "variation") != 0, job->params) ||
        !read_size(req, size, job->params) || !read_n(req, n_json, n_text, &st->n) ||
        !read_format(req, fmt, model_name, &st->url))
        goto fail;
    if (!generate) {
        size_t k;
        gw_form_item_t *it;
        for (k = 0; (it = (gw_form_item_t *)gw_form_item(&job->form, "image", k)) != NULL; k++) {
            if (k == 4) {
                gw__media_bad(req, "image", "At most 4 images.");
                goto fail;
            }
            if (!take_image(req, job, "image", it))
                goto fail;
        }
        if (k == 0 && !take_image(req, job, "image", NULL))
            goto fail;
        if (strcmp(mode, "variation") == 0 && k > 1) {
            gw__media_bad(req, "image", "A variation takes one image.");
            goto fail;
        }
        it = (gw_form_item_t *)gw_form_item(&job->form, "mask", 0);
        if (it != NULL && !take_image(req, job, "mask", it))
            goto fail;
    }
    json_object_set_new(job->params, "mode", json_string(mode));
    json_object_set_new(job->params, "n", json_integer(st->n));
    model = gw__media_model(gw, req, model_name, "image", "images");
    if (model == NULL)
        goto fail;
    st->base_url = gw_xstrdup(gw->public_url);
    gw__media_start(req, job,
                    generate                    ? "/v1/images/generations"
                    : strcmp(mode, "edit") == 0 ? "/v1/images/edits"
                                                : "/v1/images/variations",
                    model, "image", generate ? GW_CAP_IMAGE : GW_CAP_IMAGE_EDIT,
                    prompt != NULL ? (int64_t)strlen(prompt) / 4 + 1 : 1);
    json_decref(body);
    return;
fail:
    json_decref(body);
    gw__media_job_free(job);
}

void api_image_file(gw_gateway_t *gw, gw_req_t *req, const char *name)
{
    gw_buf_t body;
    char mime[64];

    gw_buf_init(&body, (size_t)64 << 20);
    if (gw_image_store_get(gw->images, name, gw_now_ms(), &body, mime) != 0) {
        gw_buf_dispose(&body);
        gw_respond_error(req, 404, "invalid_request_error", "not_found", NULL,
                             "No such image (images are kept for %d minutes).",
                             GW_IMAGE_TTL_MS / 60000);
        return;
    }
    gw_req_add_header(req, "Cache-Control", "private, max-age=3600");
    gw_req_respond(req, 200, mime, &body);
}
