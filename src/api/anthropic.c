/*
 * POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API
 * over the same chat path as OpenAI's (anthropic_in.c turns the request into
 * a chat request, front_anthropic.c shapes the answer). Claude model names
 * route to a tier of the chain (catalog model_names): the caller asked for a
 * capable model, not a provider.
 */
#include <string.h>

#include "api/anthropic_in.h"
#include "api/chat.h"
#include "api/chat_check.h"
#include "api/front_anthropic.h"
#include "api/handlers.h"
#include "api/json_body.h"
#include "api/respond.h"

/* The chat request for body, or NULL when the answer (a 400) has been sent. */
static json_t *chat_of(gw_req_t *req, json_t *body, bool for_count)
{
    gw_client_problem_t why;
    json_t *chat = gw_anthropic_to_chat(body, for_count, &why);

    json_decref(body);
    if (chat == NULL) {
        gw_respond_error(req, 400, "invalid_request_error", "invalid_value", why.param, "%s",
                         why.msg);
        return NULL;
    }
    return chat;
}

static void messages_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                            const json_error_t *jerr)
{
    json_t *chat;

    if (!gw_api_json_object(req, body, jerr) || (chat = chat_of(req, body, false)) == NULL)
        return;
    gw_chat_start(gw, req, chat, "/v1/messages",
                  gw_front_anthropic(gw_req_id(req), gw_chat_estimate_tokens(chat)));
}

static void count_parsed(gw_gateway_t *gw, gw_req_t *req, json_t *body,
                         const json_error_t *jerr)
{
    json_t *chat;

    if (!gw_api_json_object(req, body, jerr) || (chat = chat_of(req, body, true)) == NULL)
        return;
    gw_respond_json(req, 200, json_pack("{s:I}", "input_tokens",
                                        (json_int_t)gw_chat_estimate_tokens(chat)));
    json_decref(chat);
}

void api_messages(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, messages_parsed);
}

void api_messages_count_tokens(gw_gateway_t *gw, gw_req_t *req)
{
    gw_api_parse_json(gw, req, count_parsed);
}
