/* Client requests: the chat request's checks, the token estimate, and, for
 * a request that passes, each provider's request builder (OpenAI-style with
 * per-provider policies, Gemini, Cloudflare). The first byte picks the model. */
#include "api/chat_check.h"
#include "fuzz_common.h"
#include "providers/dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sel = fuzz_take_byte(&data, &size);
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    gw_chat_problem_t why;
    bool vision;

    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    if (gw_chat_check(body, &vision, &why)) {
        const gw_model_t *m = fuzz_model("chat", sel);
        gw_call_t c = {.model = m, .secret = "k", .account_id = "acc", .req = body,
                       .stream = (sel & 1) != 0};
        gw_http_out_t out;
        gw_err_t err = {0};

        (void)gw_chat_estimate_tokens(body);
        gw_http_out_init(&out);
        gw_dialect_for(m->provider)->chat_request(&c, &out, &err);
        gw_http_out_dispose(&out);
    }
    json_decref(body);
    return 0;
}
