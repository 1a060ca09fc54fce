/*
 * POST /v1/embeddings: strings or token arrays in, vectors out as float
 * arrays or base64 (little-endian float32, what the official SDKs ask for by
 * default). Fallover stays within one vector space (media.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/embeddings.h"
#include "api/handlers.h"
#include "api/media.h"
#include "core/base64.h"

#define MAX_INPUTS 2048
#define MAX_INPUT_BYTES (1u << 20)

typedef struct embed_state {
    bool base64;
    size_t ninputs;
    gw_embed_shape_t shape;
    char *model;              /* as the client named it (Ollama echoes it) */
} embed_state_t;

static void state_free(void *p)
{
    embed_state_t *st = p;

    free(st->model);
    free(st);
}

static json_t *vector_b64(json_t *vec)
{
    size_t n = json_array_size(vec);
    unsigned char *raw = gw_xmalloc(n * 4 + 1);
    gw_buf_t out;
    json_t *s;

    for (size_t i = 0; i < n; i++) {
        float f = (float)json_number_value(json_array_get(vec, i));
        uint32_t u;
        memcpy(&u, &f, 4);
        raw[i * 4] = (unsigned char)u;
        raw[i * 4 + 1] = (unsigned char)(u >> 8);
        raw[i * 4 + 2] = (unsigned char)(u >> 16);
        raw[i * 4 + 3] = (unsigned char)(u >> 24);
    }
    gw_buf_init(&out, n * 8 + 16);
    gw_b64_encode(raw, n * 4, &out);
    s = json_stringn(out.ptr != NULL ? out.ptr : "", out.len);
    gw_buf_dispose(&out);
    free(raw);
    return s;
}

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    embed_state_t *st = job->state;
    json_t *vectors = json_object_get(res->json, "vectors");
    json_t *data = json_array();
    json_t *answer;
    int64_t tokens = res->prompt_tokens >= 0 ? res->prompt_tokens : 0;

    if (json_array_size(vectors) != st->ninputs) {
        json_decref(data);
        gw_err_set(err, GW_DECLINED, 0, "wrong number of vectors");
        return GW_DECLINED;
    }
    if (st->shape == GW_EMBED_OLLAMA) { /* /api/embed */
        json_decref(data);
        return gw__media_reply_json(reply,
                                    json_pack("{s:s,s:O,s:i,s:i,s:I}", "model", st->model,
                                              "embeddings", vectors, "total_duration", 0,
                                              "load_duration", 0, "prompt_eval_count",
                                              (json_int_t)tokens),
                                    err);
    }
    if (st->shape == GW_EMBED_OLLAMA_LEGACY) { /* /api/embeddings: one prompt, one vector */
        json_decref(data);
        return gw__media_reply_json(reply,
                                    json_pack("{s:O}", "embedding", json_array_get(vectors, 0)),
                                    err);
    }
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        json_t *vec = json_array_get(vectors, i);
        json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding",
                                              st->base64 ? vector_b64(vec) : json_incref(vec)));
    }
    answer = json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data, "model",
                       c->model->id, "usage", "prompt_tokens", (json_int_t)tokens, "total_tokens",
                       (json_int_t)tokens);
    return gw__media_reply_json(reply, answer, err);
}

/* input: a string, an array of strings, an array of token ids, or an array
 * of such arrays; normalised to an array of strings or of token arrays. */
static json_t *read_input(gw_req_t *req, json_t *in, int64_t *chars)
{
    json_t *out;

    if (json_is_string(in)) {
        if (json_string_length(in) == 0) {
            gw__media_bad(req, "input", "'input' must not be empty.");
            return NULL;
        }
        *chars = (int64_t)json_string_length(in);
        return json_pack("[O]", in);
    }
    if (!json_is_array(in) || json_array_size(in) == 0) {
        gw__media_bad(req, "input",
                      "'input' must be a non-empty string or array (of strings, "
                      "or of token arrays).");
        return NULL;
    }
    if (json_array_size(in) > MAX_INPUTS) {
        gw__media_bad(req, "input", "At most %d inputs per request.", MAX_INPUTS);
        return NULL;
    }
    if (json_is_integer(json_array_get(in, 0))) /* one token array */
        in = json_pack("[O]", in);
    else
        json_incref(in);
    out = in;
    for (size_t i = 0; i < json_array_size(out); i++) {
        json_t *v = json_array_get(out, i);
        if (json_is_string(v) && json_string_length(v) > 0 &&
            json_string_length(v) <= MAX_INPUT_BYTES) {
            *chars += (int64_t)json_string_length(v);
            continue;
        }
        if (json_is_array(v) && json_array_size(v) > 0) {
            size_t k;
            for (k = 0; k < json_array_size(v); k++)
                if (!json_is_integer(json_array_get(v, k)) ||
                    json_integer_value(json_array_get(v, k)) < 0)
                    break;
            if (k == json_array_size(v)) {
                *chars += (int64_t)k * 4;
                continue;
            }
        }
        json_decref(out);
        gw__media_bad(req, "input",
                      "input[%zu] must be a non-empty string (at most %u bytes) "
                      "or a non-empty array of token ids, all of one kind.",
                      i, MAX_INPUT_BYTES);
        return NULL;
    }
    /* Strings and token arrays may not mix: upstreams take one kind per call. */
    for (size_t i = 1; i < json_array_size(out); i++)
        if (json_typeof(json_array_get(out, i)) != json_typeof(json_array_get(out, 0))) {
            json_decref(out);
            gw__media_bad(req, "input", "'input' mixes strings and token arrays.");
            return NULL;
        }
    return out;
}

/* OpenAI's embedding models answer their own size without `dimensions`: the
 * same size is asked of the model here (a flexible one makes it). */
static const struct {
    const char *name;
    int64_t size;
    bool fixed;               /* takes no dimensions parameter */
} openai_models[] = {
    {"text-embedding-3-small", 1536, false},
    {"text-embedding-3-large", 3072, false},
    {"text-embedding-ada-002", 1536, true},
};

/* Can a usable embedding model make vectors of this size? */
static bool size_available(gw_gateway_t *gw, int64_t size)
{
    for (size_t i = 0; i < gw->cat.nmodels; i++) {
        const gw_model_t *m = &gw->cat.models[i];

        if ((m->caps & GW_CAP_EMBED) && gw_router_model_usable(&gw->router, m) &&
            gw_model_makes_size(m, size))
            return true;
    }
    return false;
}

/* A usable model of the very vector space the name stands for (GitHub Models
 * serves OpenAI's text-embedding-3 weights): asked first, so the vectors are
 * OpenAI's own; NULL when none has a key. */
static const char *own_space(gw_gateway_t *gw, const char *name, int64_t size)
{
    for (size_t i = 0; i < gw->cat.nmodels; i++) {
        const gw_model_t *m = &gw->cat.models[i];

        if ((m->caps & GW_CAP_EMBED) && m->space != NULL && strcmp(m->space, name) == 0 &&
            gw_model_makes_size(m, size) && gw_router_model_usable(&gw->router, m))
            return m->id;
    }
    return NULL;
}

/* For OpenAI's names: *dims (a reference, maybe NULL) becomes the model's own
 * size when the client gave none; a size OpenAI's model would refuse (ada-002
 * takes only its own, text-embedding-3 at most its own) is refused the same
 * way; a size no usable model makes is refused now, clearly. *route becomes
 * a model of the name's own vector space when one is usable. False after
 * answering. */
static bool openai_sizes(gw_gateway_t *gw, gw_req_t *req, const char *model, json_t **dims,
                         const char **route)
{
    bool given = *dims != NULL && !json_is_null(*dims);
    int64_t size;
    const char *own;
    size_t i = 0;

    while (model != NULL && i < GW_ARRAY_LEN(openai_models) &&
           strcmp(model, openai_models[i].name) != 0)
        i++;
    if (model == NULL || i == GW_ARRAY_LEN(openai_models))
        return true;
    size = openai_models[i].size;
    if (given && openai_models[i].fixed && json_integer_value(*dims) != size) {
        gw__media_bad(req, "dimensions", "%s does not take 'dimensions': its vectors have %lld "
                                         "numbers.", model, (long long)size);
        json_decref(*dims);
        return false;
    }
    if (given && json_integer_value(*dims) > size) {
        gw__media_bad(req, "dimensions", "Invalid value for 'dimensions' = %lld: %s makes at "
                                         "most %lld numbers.",
                      (long long)json_integer_value(*dims), model, (long long)size);
        json_decref(*dims);
        return false;
    }
    if (!given) {
        json_decref(*dims);
        *dims = json_integer(size);
    }
    if (!size_available(gw, json_integer_value(*dims))) {
        gw_respond_error(req, 400, "invalid_request_error", "dimensions_unavailable",
                         "dimensions",
                         "No embedding model with a usable key here makes %lld-dimensional "
                         "vectors (what %s answers). Add a key for one that does (Gemini's "
                         "gemini-embedding-001, GitHub Models' text-embedding-3 models), or "
                         "name a model of GET /v1/models and its size.",
                         (long long)json_integer_value(*dims), model);
        json_decref(*dims);
        return false;
    }
    own = own_space(gw, model, json_integer_value(*dims));
    if (own != NULL && strcmp(*route, "auto") == 0)
        *route = own;
    return true;
}

void gw_embeddings_start(gw_gateway_t *gw, gw_req_t *req, json_t *body, gw_embed_shape_t shape,
                         const char *endpoint)
{
    gw_media_job_t *job = NULL;
    embed_state_t *st;
    const char *model;
    const char *enc;
    json_t *input;
    json_t *dims;
    int64_t chars = 0;

    if (!json_is_string(json_object_get(body, "model"))) {
        gw__media_missing(req, "model",
                          "You must provide a model parameter (an embedding model "
                          "id, or \"auto\").");
        goto out;
    }
    model = gw__media_model(gw, req, json_string_value(json_object_get(body, "model")),
                            "embedding", "embeddings");
    if (model == NULL)
        goto out;
    enc = json_string_value(json_object_get(body, "encoding_format"));
    if (json_object_get(body, "encoding_format") != NULL &&
        !json_is_null(json_object_get(body, "encoding_format")) &&
        (enc == NULL || (strcmp(enc, "float") != 0 && strcmp(enc, "base64") != 0))) {
        gw__media_bad(req, "encoding_format",
                      "'encoding_format' must be \"float\" or "
                      "\"base64\".");
        goto out;
    }
    dims = json_incref(json_object_get(body, "dimensions"));
    if (dims != NULL && !json_is_null(dims) &&
        (!json_is_integer(dims) || json_integer_value(dims) < 1 ||
         json_integer_value(dims) > 65536)) {
        gw__media_bad(req, "dimensions", "'dimensions' must be a positive integer.");
        json_decref(dims);
        goto out;
    }
    if (!openai_sizes(gw, req, json_string_value(json_object_get(body, "model")), &dims, &model))
        goto out;
    input = read_input(req, json_object_get(body, "input"), &chars);
    if (input == NULL) {
        json_decref(dims);
        goto out;
    }
    job = gw__media_job_new(gw, GW_OP_EMBED);
    json_object_set_new(job->params, "input", input);
    if (json_is_integer(dims))
        json_object_set(job->params, "dimensions", dims);
    json_decref(dims);
    st = gw_xcalloc(1, sizeof(*st));
    st->base64 = enc != NULL && strcmp(enc, "base64") == 0;
    st->ninputs = json_array_size(input);
    st->shape = shape;
    st->model = gw_xstrdup(json_string_value(json_object_get(body, "model")));
    job->state = st;
    job->state_free = state_free;
    job->render = render;
    job->render_pure = true; /* a batch answer is megabytes of numbers */
    gw__media_start(req, job, endpoint, model, "embedding", GW_CAP_EMBED, chars / 4 + 1);
out:
    json_decref(body);
}

/* A batch of documents to embed can be megabytes: parsed on the pool. */
static void embeddings_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                              const json_error_t *jerr)
{
    if (gw_api_json_object(req, body, jerr))
        gw_embeddings_start(gw, req, body, GW_EMBED_OPENAI, "/v1/embeddings");
}

void api_embeddings(gw_gateway_t *gw, gw_req_t *req)
{
    if (gw__media_json_content_type(req))
        gw_api_parse_json(gw, req, embeddings_parsed);
}
