/* Streamed answers: the SSE reader feeding each provider's stream-event
 * reader, as the proxy does, for a chat model the first byte picks. */
#include "fuzz_common.h"
#include "providers/dialect.h"
#include "stream/sse.h"

typedef struct run {
    const gw_dialect_t *d;
    gw_call_t c;
    gw_stream_state_t st;
} run_t;

static int on_event(void *ctx, const char *event, gw_str_t data)
{
    run_t *r = ctx;
    json_t *chunks = json_array();
    json_t *err = NULL;
    gw_ev_t ev;

    (void)event;
    ev = r->d->chat_event(&r->c, &r->st, data, chunks, &err);
    json_decref(chunks);
    json_decref(err);
    return ev == GW_EV_ERROR ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const gw_model_t *m = fuzz_model("chat", fuzz_take_byte(&data, &size));
    json_t *req = json_pack("{s:s,s:b,s:[{s:s,s:s}]}", "model", "auto", "stream", 1,
                            "messages", "role", "user", "content", "hi");
    run_t r = {.c = {.model = m, .secret = "k", .req = req, .stream = true}};
    gw_sse_decoder_t dec;

    if (m == NULL)
        abort(); /* the built-in catalog has chat models */
    r.d = gw_dialect_for(m->provider);
    gw_stream_state_init(&r.st);
    gw_sse_decoder_init(&dec, 1 << 20, on_event, &r);
    if (gw_sse_feed(&dec, (const char *)data, size) == 0)
        gw_sse_finish(&dec);
    gw_sse_decoder_dispose(&dec);
    gw_stream_state_dispose(&r.st);
    json_decref(req);
    return 0;
}
