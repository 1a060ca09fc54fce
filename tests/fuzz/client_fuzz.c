/* Client APIs beside OpenAI's chat: the Responses, Anthropic and Ollama
 * request translations (then the chat checks on what they made), and the
 * fronts shaping answers. The first byte picks what the rest is:
 *   sel % 3 == 0: a request body; 1: a chat.completion for a front's whole
 *   answer; 2: a JSON array of chunks streamed through a front, then its
 *   ending (bit 5: broken off).
 *   bits 3-4: the API (0 OpenAI chat, 1 Anthropic, 2 Responses, 3 Ollama;
 *   bit 7: Ollama's generate, bit 2: count_tokens, or with API 0 legacy
 *   completions' front, bit 6: include_usage). */
#include "api/anthropic_in.h"
#include "api/chat_check.h"
#include "api/front.h"
#include "api/front_anthropic.h"
#include "api/front_completions.h"
#include "api/front_ollama.h"
#include "api/front_responses.h"
#include "api/ollama_in.h"
#include "api/responses_in.h"
#include "fuzz_common.h"

static void on_done(void *ctx, json_t *response)
{
    (void)ctx;
    (void)json_object_size(response);
}

static gw_front_t front_for(unsigned sel)
{
    switch ((sel >> 3) & 3) {
    case 1: return gw_front_anthropic("req_0123", 42);
    case 2: return gw_front_responses("resp_0123", json_pack("{s:n}", "instructions"), on_done,
                                      NULL, NULL);
    case 3: return gw_front_ollama((sel & 128) != 0, "m:latest");
    default:
        if (sel & 4)
            return gw_front_completions(json_pack("[s,s]", "a", "b"), 1, (sel & 128) != 0,
                                        (sel & 64) != 0);
        return gw_front_openai((sel & 64) != 0);
    }
}

static json_t *translate(json_t *in, unsigned sel)
{
    gw_client_problem_t why;
    json_t *items, *chat;

    switch ((sel >> 3) & 3) {
    case 2:
        if ((items = gw_responses_input_items(in, "msg_x", &why)) == NULL)
            return NULL;
        chat = gw_responses_to_chat(in, items, &why);
        json_decref(items);
        return chat;
    case 3:
        return (sel & 128) ? gw_ollama_generate_to_openai(in, &why)
                           : gw_ollama_chat_to_openai(in, &why);
    default:
        return gw_anthropic_to_chat(in, (sel & 4) != 0, &why);
    }
}

static void release(gw_front_t f)
{
    if (f.ops->free != NULL)
        f.ops->free(f.ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sel = fuzz_take_byte(&data, &size);
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    gw_tokens_t usage = {.prompt = 3, .completion = 2, .known = true};

    if (in == NULL)
        return 0;
    if (sel % 3 == 0 && json_is_object(in)) {
        json_t *chat = translate(in, sel);
        gw_chat_problem_t cwhy;
        bool vision;

        if (chat != NULL) {
            (void)gw_chat_check(chat, &vision, &cwhy);
            (void)gw_chat_estimate_tokens(chat);
        }
        json_decref(chat);
    } else if (sel % 3 == 1 && json_is_object(in)) {
        gw_front_t f = front_for(sel);

        if (f.ops->whole != NULL)
            json_decref(f.ops->whole(f.ctx, in, &usage));
        release(f);
    } else if (sel % 3 == 2 && json_is_array(in)) {
        gw_front_t f = front_for(sel);
        json_t *last = json_pack("{s:s,s:[]}", "id", "c1", "choices");
        gw_buf_t out;
        size_t i;
        json_t *chunk;

        gw_buf_init(&out, 1u << 22);
        json_array_foreach(in, i, chunk) {
            if (json_is_object(chunk))
                f.ops->chunk(f.ctx, chunk, &out);
        }
        f.ops->end(f.ctx, (sel & 32) == 0, last, &usage, "broken", &out);
        gw_buf_dispose(&out);
        json_decref(last);
        release(f);
    }
    json_decref(in);
    return 0;
}
