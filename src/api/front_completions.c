/*
 * OpenAI's legacy completions as a front (see front.h): "text_completion"
 * objects whose choices hold text, whole or streamed as chunks of text, with
 * the prompt echoed before a choice's text when asked.
 */
#include <stdlib.h>
#include <string.h>

#include "api/front_completions.h"

typedef struct completions {
    json_t *prompts;
    int n;                    /* choices per prompt */
    bool echo;
    bool include_usage;
    json_t *echoed;           /* stream: choice indexes whose prompt went out */
} completions_t;

static const char *prompt_of(completions_t *c, size_t index)
{
    return json_string_value(json_array_get(c->prompts, index / (size_t)c->n));
}

/* The chat id as a completion id (chatcmpl-x → cmpl-x). */
static json_t *id_of(json_t *from)
{
    const char *id = json_string_value(json_object_get(from, "id"));

    if (id != NULL && strncmp(id, "chatcmpl-", 9) == 0)
        return json_sprintf("cmpl-%s", id + 9);
    return json_string(id != NULL ? id : "cmpl-freellmapi");
}

static json_t *text_choice(completions_t *c, size_t index, const char *text, json_t *finish,
                           bool with_prompt)
{
    json_t *t = with_prompt && c->echo && prompt_of(c, index) != NULL
                    ? json_sprintf("%s%s", prompt_of(c, index), text)
                    : json_string(text);

    return json_pack("{s:o,s:I,s:n,s:O}", "text", t != NULL ? t : json_string(""), "index",
                     (json_int_t)index, "logprobs", "finish_reason",
                     finish != NULL ? finish : json_null());
}

static json_t *completions_whole(void *ctx, json_t *completion, const gw_tokens_t *usage)
{
    completions_t *c = ctx;
    json_t *choices = json_array();
    json_t *ch;
    size_t i;

    (void)usage;
    json_array_foreach(json_object_get(completion, "choices"), i, ch) {
        json_t *content = json_object_get(json_object_get(ch, "message"), "content");

        json_array_append_new(choices,
                              text_choice(c, (size_t)json_integer_value(json_object_get(ch, "index")),
                                          json_is_string(content) ? json_string_value(content) : "",
                                          json_object_get(ch, "finish_reason"), true));
    }
    return json_pack("{s:o,s:s,s:O?,s:O?,s:o,s:O?}", "id", id_of(completion), "object",
                     "text_completion", "created", json_object_get(completion, "created"),
                     "model", json_object_get(completion, "model"), "choices", choices, "usage",
                     json_object_get(completion, "usage"));
}

static json_t *chunk_like(json_t *from, json_t *choices)
{
    return json_pack("{s:o,s:s,s:O?,s:O?,s:o}", "id", id_of(from), "object", "text_completion",
                     "created", json_object_get(from, "created"), "model",
                     json_object_get(from, "model"), "choices", choices);
}

static int completions_chunk(void *ctx, json_t *chunk, gw_buf_t *out)
{
    completions_t *c = ctx;
    json_t *choices = json_array();
    json_t *ch, *obj;
    size_t i;
    int rc = 0;

    json_array_foreach(json_object_get(chunk, "choices"), i, ch) {
        json_t *content = json_object_get(json_object_get(ch, "delta"), "content");
        json_t *finish = json_object_get(ch, "finish_reason");
        size_t index = (size_t)json_integer_value(json_object_get(ch, "index"));
        char key[24];
        bool first;

        if (!(json_is_string(content) && json_string_length(content) > 0) && !json_is_string(finish))
            continue;
        snprintf(key, sizeof(key), "%zu", index);
        first = json_object_get(c->echoed, key) == NULL;
        json_object_set_new(c->echoed, key, json_true());
        json_array_append_new(choices, text_choice(c, index,
                                                   json_is_string(content)
                                                       ? json_string_value(content) : "",
                                                   json_is_string(finish) ? finish : NULL,
                                                   first));
    }
    if (json_array_size(choices) == 0) {
        json_decref(choices);
        return 0;
    }
    obj = chunk_like(chunk, choices);
    rc = gw_front_put_data(out, obj);
    json_decref(obj);
    return rc;
}

static void completions_end(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                            const char *why, gw_buf_t *out)
{
    completions_t *c = ctx;
    json_t *tail = chunk_like(last, json_array());

    gw_front_openai_end(ok, tail, c->include_usage, usage, why, out);
    json_decref(tail);
}

static void completions_free(void *ctx)
{
    completions_t *c = ctx;

    json_decref(c->prompts);
    json_decref(c->echoed);
    free(c);
}

static const gw_front_ops_t completions_ops = {
    .stream_type = "text/event-stream",
    .whole = completions_whole,
    .chunk = completions_chunk,
    .end = completions_end,
    .free = completions_free,
};

gw_front_t gw_front_completions(json_t *prompts, int n, bool echo, bool include_usage)
{
    completions_t *c = gw_xcalloc(1, sizeof(*c));

    c->prompts = prompts;
    c->n = n > 1 ? n : 1;
    c->echo = echo;
    c->include_usage = include_usage;
    c->echoed = json_object();
    return (gw_front_t){&completions_ops, c};
}
