/*
 * Ollama's API on the gateway's port, for clients and integrations that speak
 * only it: /api/chat and /api/generate over the one chat path (ollama_in.c in,
 * front_ollama.c out, NDJSON streams by default), /api/tags and /api/show from
 * the catalog, /api/embed and /api/embeddings over the embeddings path,
 * /api/version and /api/ps. Errors are Ollama's {"error": "…"}.
 * Ollama clients send no key: routes.c lets them in without one only from a
 * loopback socket with no proxy headers.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "api/chat.h"
#include "api/chat_check.h"
#include "api/embeddings.h"
#include "api/front_ollama.h"
#include "api/handlers.h"
#include "api/json_body.h"
#include "api/ollama_in.h"
#include "api/respond.h"

/* The Ollama release whose API this follows (clients check a minimum). */
#define OLLAMA_API_VERSION "0.12.6"

static void bad(gw_req_t *req, const char *msg)
{
    gw_respond_error(req, 400, "invalid_request_error", "invalid_value", NULL, "%s", msg);
}

static void chat_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    gw_client_problem_t why;
    json_t *chat;

    if (!gw_api_json_object(req, body, jerr))
        return;
    chat = gw_ollama_chat_to_openai(body, &why);
    if (chat != NULL)
        gw_chat_start(gw, req, chat, "/api/chat",
                      gw_front_ollama(false, json_string_value(json_object_get(body, "model"))));
    else
        bad(req, why.msg);
    json_decref(body);
}

/* An empty prompt loads the model in Ollama: answered at once, done. */
static bool load_only(gw_req_t *req, json_t *body)
{
    json_t *prompt = json_object_get(body, "prompt");
    char now[48];

    if (prompt != NULL && !(json_is_string(prompt) && json_string_length(prompt) == 0))
        return false;
    if (json_array_size(json_object_get(body, "images")) > 0)
        return false;
    gw_ollama_now(now, sizeof(now));
    gw_respond_json(req, 200, json_pack("{s:O,s:s,s:s,s:b,s:s}", "model",
                                        json_object_get(body, "model"), "created_at", now,
                                        "response", "", "done", 1, "done_reason", "load"));
    return true;
}

static void generate_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                            const json_error_t *jerr)
{
    gw_client_problem_t why;
    json_t *chat;

    if (!gw_api_json_object(req, body, jerr))
        return;
    if (json_is_string(json_object_get(body, "model")) && load_only(req, body)) {
        json_decref(body);
        return;
    }
    chat = gw_ollama_generate_to_openai(body, &why);
    if (chat != NULL)
        gw_chat_start(gw, req, chat, "/api/generate",
                      gw_front_ollama(true, json_string_value(json_object_get(body, "model"))));
    else
        bad(req, why.msg);
    json_decref(body);
}

/* What a model can do, in Ollama's words. */
static json_t *capabilities(const gw_model_t *m)
{
    json_t *caps = json_array();

    if (m == NULL || (m->caps & GW_CAP_CHAT))
        json_array_append_new(caps, json_string("completion"));
    if (m == NULL || (m->caps & GW_CAP_TOOLS))
        json_array_append_new(caps, json_string("tools"));
    if (m == NULL || (m->caps & GW_CAP_VISION))
        json_array_append_new(caps, json_string("vision"));
    if (m != NULL && (m->caps & GW_CAP_EMBED))
        json_array_append_new(caps, json_string("embedding"));
    return caps;
}

static json_t *details(const gw_model_t *m)
{
    const char *family = m != NULL ? m->provider->id : "freellmapi";

    return json_pack("{s:s,s:s,s:s,s:[s],s:s,s:s}", "parent_model", "", "format", "api",
                     "family", family, "families", family, "parameter_size", "",
                     "quantization_level", "");
}

/* A stable digest per name (Ollama lists a sha256 of the weights). */
static void digest_of(const char *name, char out[65])
{
    unsigned char h[32];
    unsigned int n = sizeof(h);

    EVP_Digest(name, strlen(name), h, &n, EVP_sha256(), NULL);
    for (size_t i = 0; i < sizeof(h); i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static json_t *tag(const char *name, const gw_model_t *m)
{
    char digest[65];
    char when[48];

    digest_of(name, digest);
    gw_ollama_now(when, sizeof(when));
    return json_pack("{s:s,s:s,s:s,s:i,s:s,s:o}", "name", name, "model", name, "modified_at",
                     when, "size", 0, "digest", digest, "details", details(m));
}

/* The catalog models that can route now, chat and embedding, once each. */
void api_ollama_tags(gw_gateway_t *gw, gw_req_t *req)
{
    gw_router_t *r = &gw->router;
    json_t *models = json_array();
    json_t *seen = json_object();

    json_array_append_new(models, tag("auto", NULL));
    for (size_t i = 0; i < gw->cat.nmodels; i++) {
        const gw_model_t *m = &gw->cat.models[r->order[i]];

        if (!(m->caps & (GW_CAP_CHAT | GW_CAP_EMBED)) || !gw_router_model_usable(r, m) ||
            json_object_get(seen, m->id) != NULL)
            continue;
        json_object_set_new(seen, m->id, json_true());
        json_array_append_new(models, tag(m->id, m));
    }
    json_decref(seen);
    gw_respond_json(req, 200, json_pack("{s:o}", "models", models));
}

static const gw_model_t *model_named(gw_gateway_t *gw, const char *name)
{
    for (size_t i = 0; i < gw->cat.nmodels; i++)
        if (strcmp(gw->cat.models[i].id, name) == 0)
            return &gw->cat.models[i];
    return NULL;
}

static void show_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    json_t *given;
    const gw_model_t *m;
    json_t *info;
    char name[256];

    if (!gw_api_json_object(req, body, jerr))
        return;
    given = json_object_get(body, "model");
    if (!json_is_string(given))
        given = json_object_get(body, "name"); /* older clients */
    if (!json_is_string(given)) {
        bad(req, "model is required");
        goto out;
    }
    gw_ollama_model_name(json_string_value(given), name, sizeof(name));
    m = model_named(gw, name);
    if (strcmp(name, "auto") != 0 && m == NULL) {
        gw_respond_error(req, 404, "invalid_request_error", "model_not_found", NULL,
                         "model '%s' not found", name);
        goto out;
    }
    info = json_pack("{s:s}", "general.architecture", m != NULL ? m->provider->id : "freellmapi");
    if (m != NULL && m->context_window > 0) {
        char key[300];
        snprintf(key, sizeof(key), "%s.context_length", m->provider->id);
        json_object_set_new(info, key, json_integer(m->context_window));
    }
    gw_respond_json(req, 200, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "modelfile", "",
                                        "parameters", "", "template", "", "details", details(m),
                                        "model_info", info, "capabilities", capabilities(m)));
out:
    json_decref(body);
}

/* /api/embed {model, input, dimensions} and the older /api/embeddings
 * {model, prompt}: the embeddings path with Ollama's answer. */
static void embed_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body, bool legacy)
{
    json_t *model = json_object_get(body, "model");
    json_t *in = json_object_get(body, legacy ? "prompt" : "input");
    json_t *dims = json_object_get(body, "dimensions");
    json_t *openai;
    char name[256];

    if (!json_is_string(model) || (legacy ? !json_is_string(in) : in == NULL)) {
        bad(req, legacy ? "model and prompt are required" : "model and input are required");
        json_decref(body);
        return;
    }
    gw_ollama_model_name(json_string_value(model), name, sizeof(name));
    openai = json_pack("{s:s,s:O}", "model", name, "input", in);
    if (dims != NULL)
        json_object_set(openai, "dimensions", dims);
    json_decref(body);
    gw_embeddings_start(gw, req, openai, legacy ? GW_EMBED_OLLAMA_LEGACY : GW_EMBED_OLLAMA,
                        legacy ? "/api/embeddings" : "/api/embed");
}

static void embed_new_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                             const json_error_t *jerr)
{
    if (gw_api_json_object(req, body, jerr))
        embed_parsed(gw, req, body, false);
}

static void embed_legacy_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                                const json_error_t *jerr)
{
    if (gw_api_json_object(req, body, jerr))
        embed_parsed(gw, req, body, true);
}

void api_ollama_embed(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, embed_new_parsed);
}

void api_ollama_embeddings(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, embed_legacy_parsed);
}

void api_ollama_chat(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, chat_parsed);
}

void api_ollama_generate(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, generate_parsed);
}

void api_ollama_show(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, show_parsed);
}

void api_ollama_version(gw_gateway_t *gw, gw_req_t *req)
{
    (void)gw;
    gw_respond_json(req, 200, json_pack("{s:s}", "version", OLLAMA_API_VERSION));
}

void api_ollama_ps(gw_gateway_t *gw, gw_req_t *req)
{
    (void)gw;
    gw_respond_json(req, 200, json_pack("{s:[]}", "models"));
}
