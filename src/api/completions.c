/*
 * POST /v1/completions, OpenAI's legacy text completions (still used by
 * autocomplete tools and older libraries): each prompt becomes a user turn on
 * the one chat path, n choices per prompt, answered as text_completion
 * objects (front_completions.c), whole or streamed. With a suffix, each is
 * fill-in-the-middle on a model that does it (Mistral's Codestral). Token-id
 * prompts, logprobs and best_of > 1 are refused with the field named.
 */
#include <string.h>

#include "api/chat.h"
#include "api/chat_check.h"
#include "api/front_completions.h"
#include "api/handlers.h"
#include "api/json_body.h"
#include "api/respond.h"

#define MAX_PROMPTS 8
#define LEGACY_DEFAULT_MAX_TOKENS 16 /* OpenAI's default on this endpoint */

static void refuse(gw_req_t *req, const char *param, const char *msg)
{
    gw_respond_error(req, 400, "invalid_request_error", "invalid_value", param, "%s", msg);
}

/* The prompts as an array of strings, or NULL (answered). */
static json_t *prompts_of(gw_req_t *req, json_t *prompt)
{
    json_t *v;
    size_t i;

    if (json_is_string(prompt))
        return json_pack("[O]", prompt);
    if (!json_is_array(prompt) || json_array_size(prompt) == 0) {
        refuse(req, "prompt", "'prompt' must be a string or a non-empty array of strings.");
        return NULL;
    }
    json_array_foreach(prompt, i, v) {
        if (!json_is_string(v)) {
            refuse(req, "prompt", "'prompt' must be text: token-id prompts are not supported "
                                  "(the models here take text).");
            return NULL;
        }
    }
    return json_incref(prompt);
}

/* Does a model with a usable key do fill-in-the-middle? */
static bool fim_available(gw_gateway_t *gw)
{
    for (size_t i = 0; i < gw->cat.nmodels; i++)
        if ((gw->cat.models[i].caps & GW_CAP_FIM) &&
            gw_router_model_usable(&gw->router, &gw->cat.models[i]))
            return true;
    return false;
}

static void completions_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                               const json_error_t *jerr)
{
    static const char *const copied[] = {"model", "temperature", "top_p", "stop", "seed",
                                         "presence_penalty", "frequency_penalty", "user",
                                         "max_tokens", "n", "stream", "stream_options"};
    json_t *prompts, *chat;
    json_t *n = NULL;
    bool include_usage;
    size_t total;

    if (!gw_api_json_object(req, body, jerr))
        return;
    if (json_object_get(body, "logprobs") != NULL && !json_is_null(json_object_get(body, "logprobs"))) {
        refuse(req, "logprobs", "'logprobs' is not supported: the free tiers here do not return "
                                "token log-probabilities.");
        goto out;
    }
    if (json_integer_value(json_object_get(body, "best_of")) > 1) {
        refuse(req, "best_of", "'best_of' above 1 is not supported.");
        goto out;
    }
    if (json_object_get(body, "suffix") != NULL && !json_is_null(json_object_get(body, "suffix")) &&
        !json_is_string(json_object_get(body, "suffix"))) {
        refuse(req, "suffix", "'suffix' must be a string.");
        goto out;
    }
    if (json_string_length(json_object_get(body, "suffix")) > 0 && !fim_available(gw)) {
        refuse(req, "suffix", "No model with a usable key here fills in the middle between a "
                              "prompt and a suffix (Mistral's codestral-latest does: add a "
                              "Mistral key).");
        goto out;
    }
    if (json_object_get(body, "echo") != NULL && !json_is_boolean(json_object_get(body, "echo"))) {
        refuse(req, "echo", "'echo' must be true or false.");
        goto out;
    }
    if ((prompts = prompts_of(req, json_object_get(body, "prompt"))) == NULL)
        goto out;
    n = json_object_get(body, "n");
    total = json_array_size(prompts) * (size_t)(json_is_integer(n) && json_integer_value(n) > 1
                                                    ? json_integer_value(n) : 1);
    if (json_array_size(prompts) > MAX_PROMPTS || total > GW_CHAT_MAX_N) {
        json_decref(prompts);
        gw_respond_error(req, 400, "invalid_request_error", "invalid_value", "prompt",
                         "At most %d choices per request here (prompts × n): each is a call on "
                         "a free tier.", GW_CHAT_MAX_N);
        goto out;
    }
    chat = json_pack("{s:[{s:s,s:O}]}", "messages", "role", "user", "content",
                     json_array_get(prompts, 0));
    for (size_t i = 0; i < GW_ARRAY_LEN(copied); i++)
        if (json_object_get(body, copied[i]) != NULL)
            json_object_set(chat, copied[i], json_object_get(body, copied[i]));
    if (json_object_get(chat, "max_tokens") == NULL)
        json_object_set_new(chat, "max_tokens", json_integer(LEGACY_DEFAULT_MAX_TOKENS));
    if (json_array_size(prompts) > 1) /* the relay makes every choice a call */
        json_object_set_new(chat, "n", json_integer((json_int_t)(total / json_array_size(prompts))));
    include_usage = json_is_true(json_object_get(body, "stream")) &&
                    json_is_true(json_object_get(json_object_get(body, "stream_options"),
                                                 "include_usage"));
    gw_chat_start_prompts(gw, req, chat, "/v1/completions",
                          gw_front_completions(json_incref(prompts),
                                               (int)(total / json_array_size(prompts)),
                                               json_is_true(json_object_get(body, "echo")),
                                               include_usage),
                          json_array_size(prompts) > 1 ? prompts : NULL,
                          json_string_length(json_object_get(body, "suffix")) > 0
                              ? json_string_value(json_object_get(body, "suffix")) : NULL);
    json_decref(prompts);
out:
    json_decref(body);
}

void api_completions(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, completions_parsed);
}
