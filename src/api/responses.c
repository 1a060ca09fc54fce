/*
 * OpenAI's Responses API: POST /v1/responses over the one chat path
 * (responses_in.c turns the request into a chat request, front_responses.c
 * shapes the answer and its event stream), and stored responses kept in
 * SQLite for RESPONSES_TTL_DAYS so a conversation continues by
 * previous_response_id: GET and DELETE /v1/responses/{id},
 * GET /v1/responses/{id}/input_items. Store work runs off the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "api/chat.h"
#include "api/front_responses.h"
#include "api/handlers.h"
#include "api/json_body.h"
#include "api/respond.h"
#include "api/responses_in.h"
#include "api/store_job.h"
#include "core/clock.h"
#include "core/log.h"

#define RESPONSES_TTL_DAYS 30
#define TTL_MS ((int64_t)RESPONSES_TTL_DAYS * 86400 * 1000)
#define ID_MAX 128

/* ---- a stored record: {"response", "input", "conversation"} ------------------ */

/* A read of an id whose save is still running waits for it: the response
 * went to the client before its save ended, and the client may ask for it at
 * once (GET, previous_response_id). */
typedef struct deferred {
    int (*work)(gw_store_t *st, void *ctx);
    void (*done)(void *ctx, int rc);
    void *ctx;
    struct deferred *next;
} deferred_t;

typedef struct save_job {
    char id[ID_MAX];
    char *record;
    gw_gateway_t *gw;
    deferred_t *waiting;
    struct save_job *next;
} save_job_t;

static save_job_t *saving; /* saves in flight; the loop thread's only */

/* gw_store_job, after the save of id when one is in flight. */
static int store_job_after_save(gw_gateway_t *gw, const char *id,
                                int (*work)(gw_store_t *st, void *ctx),
                                void (*done)(void *ctx, int rc), void *ctx)
{
    for (save_job_t *j = saving; j != NULL; j = j->next) {
        if (strcmp(j->id, id) == 0) {
            deferred_t *d = gw_xcalloc(1, sizeof(*d));

            d->work = work;
            d->done = done;
            d->ctx = ctx;
            d->next = j->waiting;
            j->waiting = d;
            return 0;
        }
    }
    return gw_store_job(gw, work, done, ctx);
}

static void unlink_save(save_job_t *j)
{
    save_job_t **pp = &saving;

    while (*pp != NULL && *pp != j)
        pp = &(*pp)->next;
    if (*pp == j)
        *pp = j->next;
}

static int save_work(gw_store_t *st, void *ctx)
{
    save_job_t *j = ctx;
    gw_err_t err = {0};
    int rc = gw_store_response_put(st, j->id, j->record, gw_now_ms(), TTL_MS, &err);

    if (rc != 0)
        gw_log_warn("response %s not stored: %s", j->id, err.msg);
    return rc;
}

static void save_done(void *ctx, int rc)
{
    save_job_t *j = ctx;

    (void)rc;
    unlink_save(j);
    while (j->waiting != NULL) {
        deferred_t *d = j->waiting;

        j->waiting = d->next;
        if (gw_store_job(j->gw, d->work, d->done, d->ctx) != 0)
            d->done(d->ctx, GW_ERR);
        free(d);
    }
    free(j->record);
    free(j);
}

/* What a finished response needs to be continued: this request's input and
 * the whole conversation so far (kept by the front until it completes). */
typedef struct save_ctx {
    gw_gateway_t *gw;
    char id[ID_MAX];
    json_t *input;
    json_t *conversation;
} save_ctx_t;

static void save_ctx_free(void *p)
{
    save_ctx_t *c = p;

    json_decref(c->input);
    json_decref(c->conversation);
    free(c);
}

static void on_completed(void *ctx, json_t *response)
{
    save_ctx_t *c = ctx;
    json_t *conv = json_copy(c->conversation);
    json_t *record;
    save_job_t *j;

    json_array_extend(conv, json_object_get(response, "output"));
    record = json_pack("{s:O,s:O,s:o}", "response", response, "input", c->input,
                       "conversation", conv);
    j = gw_xcalloc(1, sizeof(*j));
    snprintf(j->id, sizeof(j->id), "%s", c->id);
    j->gw = c->gw;
    j->record = json_dumps(record, JSON_COMPACT);
    json_decref(record);
    if (j->record == NULL || gw_store_job(c->gw, save_work, save_done, j) != 0) {
        gw_log_warn("response %s not stored: no store job", c->id);
        free(j->record);
        free(j);
        return;
    }
    j->next = saving;
    saving = j;
}

/* ---- POST /v1/responses ------------------------------------------------------ */

typedef struct create {
    gw_gateway_t *gw;
    gw_req_t *req;            /* NULL once the client left while the store worked */
    json_t *body;
    json_t *input;
    char id[ID_MAX];
    char prev[ID_MAX];
    char *record;             /* the previous response's, once loaded */
} create_t;

static void create_free(create_t *c)
{
    json_decref(c->body);
    json_decref(c->input);
    if (c->record != NULL)
        free(c->record);
    free(c);
}

static void bad(gw_req_t *req, const gw_client_problem_t *why)
{
    gw_respond_error(req, 400, "invalid_request_error", "invalid_value",
                     why->param[0] ? why->param : NULL, "%s", why->msg);
}

/* The request fields a response object repeats, with OpenAI's defaults. */
static json_t *echo_of(json_t *body)
{
    json_t *b = body;
    json_t *reasoning = json_object_get(b, "reasoning");
    json_t *effort = json_object_get(reasoning, "effort");

#define OR(field, dflt) (json_object_get(b, field) != NULL && !json_is_null(json_object_get(b, field)) \
                             ? json_incref(json_object_get(b, field)) : (dflt))
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:O?,s:n},s:s,s:o}",
                     "instructions", OR("instructions", json_null()),
                     "max_output_tokens", OR("max_output_tokens", json_null()),
                     "tools", OR("tools", json_array()),
                     "tool_choice", OR("tool_choice", json_string("auto")),
                     "text", OR("text", json_pack("{s:{s:s}}", "format", "type", "text")),
                     "temperature", OR("temperature", json_real(1.0)),
                     "top_p", OR("top_p", json_real(1.0)),
                     "parallel_tool_calls", OR("parallel_tool_calls", json_true()),
                     "previous_response_id", OR("previous_response_id", json_null()),
                     "store", OR("store", json_true()),
                     "metadata", OR("metadata", json_object()),
                     "reasoning", "effort", effort, "summary",
                     "truncation", "disabled",
                     "user", OR("user", json_null()));
#undef OR
}

/* The conversation is known (prior: the previous response's, or empty):
 * translate and run. */
static void run(create_t *c, json_t *prior)
{
    gw_client_problem_t why = {{0}, {0}};
    json_t *items = json_copy(prior);
    json_t *chat;
    bool store = !json_is_false(json_object_get(c->body, "store"));
    save_ctx_t *save = NULL;

    json_array_extend(items, c->input);
    chat = gw_responses_to_chat(c->body, items, &why);
    if (chat == NULL) {
        bad(c->req, &why);
        json_decref(items);
        return;
    }
    if (store) {
        save = gw_xcalloc(1, sizeof(*save));
        save->gw = c->gw;
        snprintf(save->id, sizeof(save->id), "%s", c->id);
        save->input = json_incref(c->input);
        save->conversation = items;
        items = NULL;
    }
    json_decref(items);
    gw_chat_start(c->gw, c->req, chat, "/v1/responses",
                  gw_front_responses(c->id, echo_of(c->body), store ? on_completed : NULL, save,
                                     store ? save_ctx_free : NULL));
}

static int load_work(gw_store_t *st, void *ctx)
{
    create_t *c = ctx;
    gw_err_t err = {0};

    return gw_store_response_get(st, c->prev, gw_now_ms(), &c->record, &err);
}

static void load_abandoned(void *ctx)
{
    ((create_t *)ctx)->req = NULL;
}

static void load_done(void *ctx, int rc)
{
    create_t *c = ctx;
    json_t *record;

    if (c->req == NULL) { /* the client left */
        create_free(c);
        return;
    }
    gw_req_set_handler(c->req, NULL, NULL, NULL);
    record = rc == 0 ? json_loads(c->record, 0, NULL) : NULL;
    if (rc == GW_ENOTFOUND)
        gw_respond_error(c->req, 404, "invalid_request_error", "previous_response_not_found",
                         "previous_response_id",
                         "Previous response with id '%s' not found (responses are kept %d days, "
                         "only with store: true, and only while the conversation is under 1 MB).",
                         c->prev, RESPONSES_TTL_DAYS);
    else if (!json_is_array(json_object_get(record, "conversation")))
        gw_respond_error(c->req, 500, "server_error", "store_failed", NULL,
                         "The previous response could not be read.");
    else
        run(c, json_object_get(record, "conversation"));
    json_decref(record);
    create_free(c);
}

static void create_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body, const json_error_t *jerr)
{
    gw_client_problem_t why = {{0}, {0}};
    json_t *prev;
    create_t *c;
    char prefix[ID_MAX];
    const char *hex = gw_req_id(req) + 4; /* req_<hex> */

    if (!gw_api_json_object(req, body, jerr))
        return;
    if (json_is_true(json_object_get(body, "background")) ||
        json_object_get(body, "conversation") != NULL) {
        gw_respond_error(req, 400, "invalid_request_error", "unsupported_parameter",
                         json_is_true(json_object_get(body, "background")) ? "background"
                                                                          : "conversation",
                         "Background responses and conversation objects are not supported: use "
                         "previous_response_id to continue a conversation.");
        json_decref(body);
        return;
    }
    prev = json_object_get(body, "previous_response_id");
    if (prev != NULL && !json_is_null(prev) &&
        (!json_is_string(prev) || json_string_length(prev) == 0 ||
         json_string_length(prev) >= ID_MAX)) {
        gw_respond_error(req, 400, "invalid_request_error", "invalid_value",
                         "previous_response_id", "'previous_response_id' must be a response id.");
        json_decref(body);
        return;
    }
    c = gw_xcalloc(1, sizeof(*c));
    c->gw = gw;
    c->req = req;
    c->body = body;
    snprintf(c->id, sizeof(c->id), "resp_%s", hex);
    snprintf(prefix, sizeof(prefix), "msg_%s_in", hex);
    c->input = gw_responses_input_items(body, prefix, &why);
    if (c->input == NULL) {
        bad(req, &why);
        create_free(c);
        return;
    }
    if (!json_is_string(prev)) {
        json_t *none = json_array();

        run(c, none);
        json_decref(none);
        create_free(c);
        return;
    }
    snprintf(c->prev, sizeof(c->prev), "%s", json_string_value(prev));
    gw_req_set_handler(req, c, load_abandoned, NULL);
    if (store_job_after_save(gw, c->prev, load_work, load_done, c) != 0) {
        gw_req_set_handler(req, NULL, NULL, NULL);
        gw_respond_error(req, 503, "service_unavailable", "store_unavailable", NULL,
                         "Stored responses cannot be read now; try again.");
        create_free(c);
    }
}

void api_responses_create(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, create_parsed);
}

/* ---- GET / DELETE /v1/responses/{id}[/input_items] --------------------------- */

typedef struct lookup {
    gw_req_t *req;
    char id[ID_MAX];
    bool del;
    bool input_items;
    char *record;
} lookup_t;

static int lookup_work(gw_store_t *st, void *ctx)
{
    lookup_t *l = ctx;
    gw_err_t err = {0};

    if (l->del)
        return gw_store_response_delete(st, l->id, &err);
    return gw_store_response_get(st, l->id, gw_now_ms(), &l->record, &err);
}

static void lookup_abandoned(void *ctx)
{
    ((lookup_t *)ctx)->req = NULL;
}

static void lookup_done(void *ctx, int rc)
{
    lookup_t *l = ctx;
    json_t *record = NULL;

    if (l->req == NULL)
        goto out;
    gw_req_set_handler(l->req, NULL, NULL, NULL);
    if (rc == GW_ENOTFOUND) {
        gw_respond_error(l->req, 404, "invalid_request_error", "not_found", NULL,
                         "Response with id '%s' not found.", l->id);
    } else if (rc != 0) {
        gw_respond_error(l->req, 500, "server_error", "store_failed", NULL,
                         "Stored responses cannot be read now.");
    } else if (l->del) {
        gw_respond_json(l->req, 200, json_pack("{s:s,s:s,s:b}", "id", l->id, "object",
                                               "response.deleted", "deleted", 1));
    } else if ((record = json_loads(l->record, 0, NULL)) == NULL) {
        gw_respond_error(l->req, 500, "server_error", "store_failed", NULL,
                         "The stored response could not be read.");
    } else if (l->input_items) {
        json_t *items = json_object_get(record, "input");
        size_t n = json_array_size(items);

        gw_respond_json(l->req, 200,
                        json_pack("{s:s,s:O,s:O?,s:O?,s:b}", "object", "list", "data", items,
                                  "first_id", json_object_get(json_array_get(items, 0), "id"),
                                  "last_id", json_object_get(json_array_get(items, n - 1), "id"),
                                  "has_more", 0));
    } else {
        gw_respond_json(l->req, 200, json_incref(json_object_get(record, "response")));
    }
out:
    json_decref(record);
    if (l->record != NULL)
        free(l->record);
    free(l);
}

void api_responses_item(gw_gateway_t *gw, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);
    const char *slash = strchr(rest, '/');
    size_t idlen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    bool items = slash != NULL && strcmp(slash, "/input_items") == 0;
    lookup_t *l;

    if (idlen == 0 || idlen >= ID_MAX || (slash != NULL && !items)) {
        gw_respond_error(req, 404, "invalid_request_error", "unknown_url", NULL,
                         "Unknown request URL: %s %s", method, gw_req_path(req));
        return;
    }
    if (!(strcmp(method, "GET") == 0 || (strcmp(method, "DELETE") == 0 && !items))) {
        gw_req_add_header(req, "Allow", items ? "GET" : "GET, DELETE");
        gw_respond_error(req, 405, "invalid_request_error", "method_not_allowed", NULL,
                         "%s is not allowed on %s", method, gw_req_path(req));
        return;
    }
    l = gw_xcalloc(1, sizeof(*l));
    l->req = req;
    memcpy(l->id, rest, idlen);
    l->del = strcmp(method, "DELETE") == 0;
    l->input_items = items;
    gw_req_set_handler(req, l, lookup_abandoned, NULL);
    if (store_job_after_save(gw, l->id, lookup_work, lookup_done, l) != 0) {
        gw_req_set_handler(req, NULL, NULL, NULL);
        gw_respond_error(req, 503, "service_unavailable", "store_unavailable", NULL,
                         "Stored responses cannot be read now; try again.");
        free(l);
    }
}
