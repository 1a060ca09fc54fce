/*
 * POST /v1/moderations: text classified by a free tier's moderation model
 * (Mistral's classifier), answered in OpenAI's shape: per input, flagged,
 * categories and category_scores under OpenAI's category names
 * (providers/moderation_map.c), with fallover like every other call.
 * Image inputs are refused: no classifier here reads images.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/media.h"
#include "providers/moderation_map.h"

#define MAX_INPUTS 32
#define MAX_INPUT_BYTES (256u * 1024)
#define FLAG_AT 0.5 /* a category counts as present from this score on */

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    json_t *results = json_array();
    json_t *r;
    size_t i;
    unsigned char raw[12];
    char id[64] = "modr-";

    (void)job;
    if (RAND_bytes(raw, sizeof(raw)) == 1)
        for (size_t k = 0; k < sizeof(raw); k++)
            snprintf(id + 5 + 2 * k, 3, "%02x", raw[k]);
    json_array_foreach(json_object_get(res->json, "results"), i, r) {
        json_t *scores = json_object_get(r, "scores");
        json_t *cats = json_object();
        json_t *types = json_object();
        bool flagged = false;

        for (size_t k = 0; k < gw_moderation_ncategories; k++) {
            const char *name = gw_moderation_categories[k];
            bool on = json_number_value(json_object_get(scores, name)) >= FLAG_AT;

            flagged = flagged || on;
            json_object_set_new(cats, name, json_boolean(on));
            json_object_set_new(types, name, json_pack("[s]", "text"));
        }
        json_array_append_new(results, json_pack("{s:b,s:o,s:O,s:o}", "flagged", flagged,
                                                 "categories", cats, "category_scores", scores,
                                                 "category_applied_input_types", types));
    }
    return gw__media_reply_json(reply, json_pack("{s:s,s:s,s:o}", "id", id, "model",
                                                 c->model->id, "results", results),
                                err);
}

/* input: a string, strings, or OpenAI's multi-modal parts; as strings. */
static json_t *read_input(gw_req_t *req, json_t *in, int64_t *chars)
{
    json_t *out = json_array();
    json_t *v;
    size_t i;

    if (json_is_string(in)) {
        json_array_append(out, in);
        *chars = (int64_t)json_string_length(in);
        return out;
    }
    if (!json_is_array(in) || json_array_size(in) == 0 || json_array_size(in) > MAX_INPUTS) {
        json_decref(out);
        gw__media_bad(req, "input", "'input' must be a string or 1 to %d strings or text parts.",
                      MAX_INPUTS);
        return NULL;
    }
    json_array_foreach(in, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        json_t *text = json_is_string(v) ? v : json_object_get(v, "text");

        if (type != NULL && strcmp(type, "image_url") == 0) {
            json_decref(out);
            gw__media_bad(req, "input", "input[%zu]: images are not supported: no moderation "
                                        "model here reads images.", i);
            return NULL;
        }
        if (!json_is_string(text) || json_string_length(text) > MAX_INPUT_BYTES) {
            json_decref(out);
            gw__media_bad(req, "input", "input[%zu] must be a string or {\"type\": \"text\", "
                                        "\"text\": …} of at most %u bytes.", i, MAX_INPUT_BYTES);
            return NULL;
        }
        *chars += (int64_t)json_string_length(text);
        json_array_append(out, text);
    }
    return out;
}

void api_moderations(gw_gateway_t *gw, gw_req_t *req)
{
    json_t *body = gw__media_json_body(req);
    json_t *input;
    const char *model = "auto";
    gw_media_job_t *job;
    int64_t chars = 0;

    if (body == NULL)
        return;
    if (json_is_string(json_object_get(body, "model")))
        model = gw__media_model(gw, req, json_string_value(json_object_get(body, "model")),
                                "moderation", "moderations");
    if (model == NULL || (input = read_input(req, json_object_get(body, "input"), &chars)) == NULL) {
        json_decref(body);
        return;
    }
    job = gw__media_job_new(gw, GW_OP_MODERATE);
    json_object_set_new(job->params, "input", input);
    job->render = render;
    gw__media_start(req, job, "/v1/moderations", model, "moderation", GW_CAP_MODERATION,
                    chars / 4 + 1);
    json_decref(body);
}
