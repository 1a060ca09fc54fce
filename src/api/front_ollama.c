/*
 * Ollama's chat and generate answers as a front (see front.h): a whole answer
 * is one JSON object with done:true and Ollama's counters; a stream is
 * newline-delimited JSON, one object per piece of text, the tool calls whole
 * in one object (Ollama never splits their arguments), then a last object
 * with done:true, done_reason and the counters. An upstream that breaks off
 * mid-stream ends it with {"error": …}, as Ollama does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/front_ollama.h"
#include "core/clock.h"

typedef struct ollama {
    bool generate;
    char model[256];
    int64_t start_ms;
    json_t *calls;            /* tool calls being streamed, by index: {name, args} */
    const char *done_reason;
} ollama_t;

void gw_ollama_now(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    char day[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%09ldZ", day, ts.tv_nsec);
}

static const char *done_reason(const char *finish)
{
    return finish != NULL && strcmp(finish, "length") == 0 ? "length" : "stop";
}

/* The start of every object: model and created_at. */
static json_t *head(ollama_t *o)
{
    char now[48];

    gw_ollama_now(now, sizeof(now));
    return json_pack("{s:s,s:s}", "model", o->model, "created_at", now);
}

/* The text (and tool calls) as /api/chat's message or /api/generate's response. */
static void set_text(ollama_t *o, json_t *obj, const char *text, json_t *calls /* taken */)
{
    if (o->generate) {
        json_object_set_new(obj, "response", json_string(text));
        json_decref(calls);
        return;
    }
    json_object_set_new(obj, "message", json_pack("{s:s,s:s}", "role", "assistant", "content",
                                                  text));
    if (json_array_size(calls) > 0)
        json_object_set(json_object_get(obj, "message"), "tool_calls", calls);
    json_decref(calls);
}

static void set_counters(ollama_t *o, json_t *obj, const gw_tokens_t *u)
{
    int64_t ns = (gw_now_ms() - o->start_ms) * 1000000;

    json_object_set_new(obj, "done", json_true());
    json_object_set_new(obj, "done_reason", json_string(o->done_reason != NULL ? o->done_reason
                                                                               : "stop"));
    json_object_set_new(obj, "total_duration", json_integer(ns));
    json_object_set_new(obj, "load_duration", json_integer(0));
    json_object_set_new(obj, "prompt_eval_count", json_integer(u->prompt));
    json_object_set_new(obj, "prompt_eval_duration", json_integer(0));
    json_object_set_new(obj, "eval_count", json_integer(u->completion));
    json_object_set_new(obj, "eval_duration", json_integer(ns));
}

/* One OpenAI tool call ({function:{name, arguments:"…"}}) as Ollama's
 * ({function:{name, arguments:{…}}}). */
static json_t *call_of(const char *name, const char *args)
{
    json_t *a = args != NULL ? json_loads(args, 0, NULL) : NULL;

    if (!json_is_object(a)) {
        json_decref(a);
        a = json_object();
    }
    return json_pack("{s:{s:s,s:o}}", "function", "name", name != NULL ? name : "", "arguments",
                     a);
}

static json_t *ollama_whole(void *ctx, json_t *completion, const gw_tokens_t *usage)
{
    ollama_t *o = ctx;
    json_t *choice = json_array_get(json_object_get(completion, "choices"), 0);
    json_t *msg = json_object_get(choice, "message");
    json_t *calls = json_array();
    json_t *obj = head(o);
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(msg, "tool_calls"), i, c) {
        json_t *fn = json_object_get(c, "function");
        json_array_append_new(calls, call_of(json_string_value(json_object_get(fn, "name")),
                                             json_string_value(json_object_get(fn, "arguments"))));
    }
    set_text(o, obj, json_is_string(json_object_get(msg, "content"))
                         ? json_string_value(json_object_get(msg, "content")) : "", calls);
    o->done_reason = done_reason(json_string_value(json_object_get(choice, "finish_reason")));
    set_counters(o, obj, usage);
    return obj;
}

static int ollama_chunk(void *ctx, json_t *chunk, gw_buf_t *out)
{
    ollama_t *o = ctx;
    json_t *choice = json_array_get(json_object_get(chunk, "choices"), 0);
    json_t *delta = json_object_get(choice, "delta");
    json_t *text = json_object_get(delta, "content");
    json_t *finish = json_object_get(choice, "finish_reason");
    json_t *tc;
    size_t i;
    int rc = 0;

    json_array_foreach(json_object_get(delta, "tool_calls"), i, tc) {
        char key[24];
        json_t *fn = json_object_get(tc, "function");
        json_t *acc;

        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(tc, "index")));
        if ((acc = json_object_get(o->calls, key)) == NULL) {
            if (json_object_size(o->calls) >= 128)
                continue;
            acc = json_pack("{s:s,s:s}", "name", "", "args", "");
            json_object_set_new(o->calls, key, acc);
        }
        if (json_is_string(json_object_get(fn, "name")))
            json_object_set(acc, "name", json_object_get(fn, "name"));
        if (json_is_string(json_object_get(fn, "arguments"))) {
            json_t *joined = json_sprintf("%s%s", json_string_value(json_object_get(acc, "args")),
                                          json_string_value(json_object_get(fn, "arguments")));
            if (joined != NULL)
                json_object_set_new(acc, "args", joined);
        }
    }
    if (json_is_string(finish))
        o->done_reason = done_reason(json_string_value(finish));
    if (json_is_string(text) && json_string_length(text) > 0) {
        json_t *obj = head(o);

        set_text(o, obj, json_string_value(text), NULL);
        json_object_set_new(obj, "done", json_false());
        rc = gw_front_put_line(out, obj);
        json_decref(obj);
    }
    return rc;
}

static void ollama_end(void *ctx, bool ok, json_t *last, const gw_tokens_t *usage,
                       const char *why, gw_buf_t *out)
{
    ollama_t *o = ctx;
    json_t *obj;

    (void)last;
    if (!ok) {
        obj = json_pack("{s:s}", "error", why);
        gw_front_put_line(out, obj);
        json_decref(obj);
        return;
    }
    if (json_object_size(o->calls) > 0 && !o->generate) {
        json_t *calls = json_array();
        const char *key;
        json_t *acc;

        json_object_foreach(o->calls, key, acc) {
            json_array_append_new(calls, call_of(json_string_value(json_object_get(acc, "name")),
                                                 json_string_value(json_object_get(acc, "args"))));
        }
        obj = head(o);
        set_text(o, obj, "", calls);
        json_object_set_new(obj, "done", json_false());
        gw_front_put_line(out, obj);
        json_decref(obj);
    }
    obj = head(o);
    set_text(o, obj, "", NULL);
    set_counters(o, obj, usage);
    gw_front_put_line(out, obj);
    json_decref(obj);
}

static void ollama_free(void *ctx)
{
    ollama_t *o = ctx;

    json_decref(o->calls);
    free(o);
}

static const gw_front_ops_t ollama_ops = {
    .stream_type = "application/x-ndjson",
    .whole = ollama_whole,
    .chunk = ollama_chunk,
    .end = ollama_end,
    .free = ollama_free,
};

gw_front_t gw_front_ollama(bool generate, const char *model)
{
    ollama_t *o = gw_xcalloc(1, sizeof(*o));

    o->generate = generate;
    snprintf(o->model, sizeof(o->model), "%s", model);
    o->start_ms = gw_now_ms();
    o->calls = json_object();
    return (gw_front_t){&ollama_ops, o};
}
