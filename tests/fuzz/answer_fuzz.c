/* Whole upstream answers: each provider's chat answer reader (OpenAI-style,
 * Gemini, Cloudflare's policies), and the media answer readers (embeddings,
 * images, speech, transcripts, realtime tokens) with the content type the
 * input names. Input: a selector byte, a content-type line, then the body. */
#include "fuzz_common.h"
#include "providers/dialect.h"

static const struct {
    const char *kind;
    gw_op_t op;
} media_kinds[] = {
    {"embedding", GW_OP_EMBED},   {"image", GW_OP_IMAGE}, {"tts", GW_OP_SPEECH},
    {"stt", GW_OP_TRANSCRIBE},    {"realtime", GW_OP_REALTIME},
};

static void chat_answer(unsigned sel, const uint8_t *data, size_t size)
{
    const gw_model_t *m = fuzz_model("chat", sel);
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    json_t *req = json_pack("{s:s,s:[{s:s,s:s}]}", "model", "auto", "messages", "role", "user",
                            "content", "hi");
    gw_call_t c = {.model = m, .secret = "k", .req = req};
    gw_tokens_t usage = {0};
    gw_err_t err = {0};
    json_t *out = NULL;

    if (m != NULL && body != NULL &&
        gw_dialect_for(m->provider)->chat_response(&c, body, &out, &usage, &err) == 0) {
        char *text = json_dumps(out, JSON_COMPACT);
        free(text);
    }
    json_decref(out);
    json_decref(body);
    json_decref(req);
}

static void media_answer(unsigned sel, const uint8_t *data, size_t size)
{
    size_t k = sel % GW_ARRAY_LEN(media_kinds);
    const gw_model_t *m = fuzz_model(media_kinds[k].kind, sel / GW_ARRAY_LEN(media_kinds));
    const uint8_t *nl = memchr(data, '\n', size);
    char ctype[128] = "application/json";
    json_t *params = json_pack("{s:s,s:s,s:s}", "input", "hi", "prompt", "a kite",
                               "response_format", (sel & 64) ? "verbose_json" : "json");
    gw_media_call_t c = {.op = media_kinds[k].op, .model = m, .secret = "k", .params = params};
    const gw_dialect_t *d;
    gw_media_result_t res;
    gw_err_t err = {0};

    if (nl != NULL && (size_t)(nl - data) < sizeof(ctype)) {
        memcpy(ctype, data, (size_t)(nl - data));
        ctype[nl - data] = '\0';
        size -= (size_t)(nl - data) + 1;
        data = nl + 1;
    }
    d = m != NULL ? gw_dialect_for(m->provider) : NULL;
    gw_media_result_init(&res);
    if (d != NULL && d->media_response != NULL)
        d->media_response(&c, ctype, (gw_str_t){(const char *)data, size}, &res, &err);
    gw_media_result_dispose(&res);
    json_decref(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sel = fuzz_take_byte(&data, &size);

    if (sel & 128)
        media_answer(sel & 127, data, size);
    else
        chat_answer(sel, data, size);
    return 0;
}
