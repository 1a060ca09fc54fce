/*
 * The OpenAI dialect: every provider that speaks OpenAI's chat API (and the
 * "cloudflare" dialect, which is the same wire format at an account-scoped
 * URL). Requests are rebuilt from an allow-list of parameters, then shaped
 * by the provider's policy (catalog data): dropped and renamed parameters,
 * flattened content, tool-schema keywords removed. Answers are normalised to
 * what the OpenAI SDKs and agent frameworks rely on (docs/reference/wire-openai.md,
 * sections 1.5-1.7).
 */
#include <ctype.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/json_buf.h"
#include "providers/dialect.h"
#include "providers/media_ops.h"

/* What we forward (never n, user, store, metadata, service_tier). */
static const char *const forward[] = {
    "temperature", "max_tokens", "top_p", "stop", "tools", "tool_choice", "parallel_tool_calls",
    "top_k", "min_p", "seed", "presence_penalty", "frequency_penalty", "repetition_penalty",
    "logit_bias", "logprobs", "top_logprobs", "response_format", "reasoning_effort",
};

/* ---- request ------------------------------------------------------------- */

static void strip_schema(json_t *schema, const gw_policy_t *pol)
{
    const char *k;
    json_t *v;
    void *tmp;
    size_t i;

    if (json_is_array(schema)) {
        json_array_foreach(schema, i, v) strip_schema(v, pol);
        return;
    }
    if (!json_is_object(schema))
        return;
    for (i = 0; i < pol->nstrip_schema_keys; i++)
        json_object_del(schema, pol->strip_schema_keys[i]);
    json_object_foreach_safe(schema, tmp, k, v) strip_schema(v, pol);
}

/* Joins text parts into one string; other parts are dropped. */
static json_t *flatten_parts(json_t *parts)
{
    gw_buf_t b;
    size_t i;
    json_t *part;
    json_t *s;

    gw_buf_init(&b, 64u << 20);
    json_array_foreach(parts, i, part) {
        const char *t = json_string_value(json_object_get(part, "text"));
        if (t == NULL)
            continue;
        if (b.len > 0)
            gw_buf_append(&b, "\n", 1);
        gw_buf_appends(&b, t);
    }
    s = json_stringn(b.ptr ? b.ptr : "", b.len);
    gw_buf_dispose(&b);
    return s;
}

/* Mistral accepts only 9-alphanumeric tool-call ids, so ids minted elsewhere
 * are mapped, the same way in the assistant's calls and the tool answers. */
static json_t *short_tool_id(const char *id)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char md[SHA256_DIGEST_LENGTH];
    char out[10];
    size_t n = strlen(id);
    bool ok = n == 9;

    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)id[i]);
    if (ok)
        return json_string(id);
    SHA256((const unsigned char *)id, n, md);
    for (size_t i = 0; i < 9; i++)
        out[i] = alnum[md[i] % (sizeof(alnum) - 1)];
    out[9] = '\0';
    return json_string(out);
}

static void shorten_tool_ids(json_t *m)
{
    json_t *call;
    size_t i;
    const char *id = json_string_value(json_object_get(m, "tool_call_id"));

    if (id != NULL)
        json_object_set_new(m, "tool_call_id", short_tool_id(id));
    json_array_foreach(json_object_get(m, "tool_calls"), i, call) {
        id = json_string_value(json_object_get(call, "id"));
        if (id != NULL)
            json_object_set_new(call, "id", short_tool_id(id));
    }
}

static json_t *shape_message(json_t *in, const gw_policy_t *pol)
{
    json_t *m = json_object();
    const char *k;
    json_t *v;
    const char *role = json_string_value(json_object_get(in, "role"));

    json_object_foreach(in, k, v) {
        if (json_is_null(v) && strcmp(k, "content") != 0)
            continue;
        /* Reasoning echoed back by clients means nothing upstream. */
        if (strcmp(k, "reasoning_content") == 0 || strcmp(k, "reasoning") == 0)
            continue;
        if (strcmp(k, "name") == 0 && pol->strip_message_name)
            continue;
        json_object_set(m, k, v);
    }
    if (role != NULL && strcmp(role, "developer") == 0)
        json_object_set_new(m, "role", json_string("system"));
    v = json_object_get(m, "content");
    if (pol->flatten_content && json_is_array(v))
        json_object_set_new(m, "content", flatten_parts(v));
    if (pol->null_content_empty && (v == NULL || json_is_null(v)))
        json_object_set_new(m, "content", json_string(""));
    /* Fields other gateways put on tool calls (Gemini's thought signature) make
     * strict upstreams refuse the request. */
    if (json_is_array(json_object_get(m, "tool_calls"))) {
        json_t *calls = json_deep_copy(json_object_get(m, "tool_calls"));
        json_t *call;
        size_t i;
        json_array_foreach(calls, i, call) {
            json_object_del(call, "extra_content");
            json_object_del(call, "thought_signature");
        }
        json_object_set_new(m, "tool_calls", calls);
    }
    if (pol->short_tool_ids) {
        shorten_tool_ids(m); /* edits the copy made above, not the client's request */
    }
    return m;
}


/* POSTs body (taken) to the provider's path, as JSON, streamed or not. */
static int post_json(const gw_call_t *c, json_t *body, const char *path, gw_http_out_t *out,
                     gw_err_t *err)
{
    const gw_provider_t *p = c->model->provider;
    int rc = gw_dialect_body(out, body, c->defer_body, err);

    if (rc != 0)
        return rc;
    out->url = gw_dialect_url(p, c->account_id, path);
    out->post = true;
    gw_http_out_header(out, "Content-Type", "application/json");
    gw_http_out_header(out, "Accept", c->stream ? "text/event-stream" : "application/json");
    gw_dialect_policy_headers(p, out);
    gw_dialect_auth(p, c->secret, out);
    return 0;
}

static int openai_chat_request(const gw_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_provider_t *p = c->model->provider;
    const gw_policy_t *pol = &p->policy;
    json_t *body = json_object();
    json_t *msgs = json_array();
    json_t *v;
    size_t i;
    int64_t max_tokens = 0;

    json_object_set_new(body, "model", json_string(c->model->id));
    json_array_foreach(json_object_get(c->req, "messages"), i, v)
        json_array_append_new(msgs, shape_message(v, pol));
    json_object_set_new(body, "messages", msgs);
    for (i = 0; i < GW_ARRAY_LEN(forward); i++) {
        v = json_object_get(c->req, forward[i]);
        if (v != NULL && !json_is_null(v))
            json_object_set(body, forward[i], v);
    }
    /* max_completion_tokens is the newer spelling; max_tokens is understood widely. */
    v = json_object_get(c->req, "max_completion_tokens");
    if (json_is_integer(v))
        json_object_set(body, "max_tokens", v);
    v = json_object_get(body, "response_format");
    if (v != NULL && json_is_string(json_object_get(v, "type")) &&
        strcmp(json_string_value(json_object_get(v, "type")), "text") == 0)
        json_object_del(body, "response_format");
    for (i = 0; i < pol->ndrop; i++)
        json_object_del(body, pol->drop[i]);
    v = json_object_get(body, "reasoning_effort");
    if (pol->nreasoning_effort > 0 && json_is_string(v) &&
        !gw_strv_has(pol->reasoning_effort, pol->nreasoning_effort, json_string_value(v)))
        json_object_del(body, "reasoning_effort"); /* a value the provider refuses */
    if (pol->rename != NULL) {
        const char *from;
        json_t *to;
        json_object_foreach(pol->rename, from, to) {
            json_t *val = json_object_get(body, from);
            if (val != NULL && json_is_string(to)) {
                json_object_set(body, json_string_value(to), val);
                json_object_del(body, from);
            }
        }
    }
    if (pol->nstrip_schema_keys > 0)
        json_array_foreach(json_object_get(body, "tools"), i, v)
            strip_schema(json_object_get(json_object_get(v, "function"), "parameters"), pol);
    if (pol->serial_tools && json_array_size(json_object_get(body, "tools")) > 0)
        json_object_set_new(body, "parallel_tool_calls", json_false());
    if (json_is_integer(json_object_get(body, "max_tokens")))
        max_tokens = json_integer_value(json_object_get(body, "max_tokens"));
    if (max_tokens == 0 && pol->default_max_tokens > 0)
        max_tokens = pol->default_max_tokens;
    if (pol->max_tokens_cap > 0 && max_tokens > pol->max_tokens_cap)
        max_tokens = pol->max_tokens_cap;
    if (max_tokens > 0)
        json_object_set_new(body, "max_tokens", json_integer(max_tokens));
    if (c->stream) {
        json_object_set_new(body, "stream", json_true());
        /* Ask for usage even when the client did not: the ledger wants real
         * counts. The extra chunk is not forwarded unless the client asked. */
        if (!gw_policy_drops(pol, "stream_options"))
            json_object_set_new(body, "stream_options", json_pack("{s:b}", "include_usage", 1));
    }
    return post_json(c, body, "/chat/completions", out, err);
}

/* Mistral's fill-in-the-middle (POST /fim/completions): prompt and suffix
 * instead of messages; answers shaped like chat completions. */
static int openai_fim_request(const gw_call_t *c, const char *suffix, gw_http_out_t *out,
                              gw_err_t *err)
{
    json_t *msgs = json_object_get(c->req, "messages");
    json_t *prompt = json_object_get(json_array_get(msgs, json_array_size(msgs) - 1), "content");
    static const char *const copied[] = {"max_tokens", "temperature", "top_p", "stop"};
    json_t *body;

    if (!(c->model->caps & GW_CAP_FIM) || !json_is_string(prompt)) {
        gw_err_set(err, GW_DECLINED, 0, "this model does no fill-in-the-middle");
        return GW_DECLINED;
    }
    body = json_pack("{s:s,s:O,s:s}", "model", c->model->id, "prompt", prompt, "suffix", suffix);
    for (size_t i = 0; i < GW_ARRAY_LEN(copied); i++)
        if (json_object_get(c->req, copied[i]) != NULL)
            json_object_set(body, copied[i], json_object_get(c->req, copied[i]));
    if (c->stream)
        json_object_set_new(body, "stream", json_true());
    return post_json(c, body, "/fim/completions", out, err);
}

/* ---- shared normalisation ------------------------------------------------ */


static void random_call_id(char out[32])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[24];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 7, sizeof(r));
    memcpy(out, "call_", 5);
    for (size_t i = 0; i < sizeof(r); i++)
        out[5 + i] = alnum[r[i] % (sizeof(alnum) - 1)];
    out[5 + sizeof(r)] = '\0';
}

/* reasoning (Ollama/OpenRouter style) becomes reasoning_content; Magistral's
 * content arrays become strings. */
static void normalise_text_fields(json_t *msg)
{
    json_t *r = json_object_get(msg, "reasoning");
    json_t *content = json_object_get(msg, "content");

    if (json_is_string(r) && json_object_get(msg, "reasoning_content") == NULL)
        json_object_set(msg, "reasoning_content", r);
    json_object_del(msg, "reasoning");
    if (json_is_array(content)) {
        gw_buf_t b;
        size_t i;
        json_t *part;
        gw_buf_init(&b, 64u << 20);
        json_array_foreach(content, i, part) {
            const char *t = json_string_value(json_object_get(part, "text"));
            const char *type = json_string_value(json_object_get(part, "type"));
            if (t != NULL && (type == NULL || strcmp(type, "text") == 0))
                gw_buf_appends(&b, t);
        }
        json_object_set_new(msg, "content", json_stringn(b.ptr ? b.ptr : "", b.len));
        gw_buf_dispose(&b);
    }
}

/* Known when a count is given and none is absurd (see gw_dialect_tokens). */
static void read_usage(json_t *u, gw_tokens_t *t)
{
    json_t *pt = json_object_get(u, "prompt_tokens");
    json_t *ct = json_object_get(u, "completion_tokens");
    bool ok = true;
    int64_t prompt = gw_dialect_tokens(pt, &ok);
    int64_t completion = gw_dialect_tokens(ct, &ok);

    if (!ok || (!json_is_integer(pt) && !json_is_integer(ct)))
        return;
    t->prompt = prompt;
    t->completion = completion;
    t->known = true;
}

static json_t *usage_json(const gw_tokens_t *t)
{
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)t->prompt,
                     "completion_tokens", (json_int_t)t->completion, "total_tokens",
                     (json_int_t)(t->prompt + t->completion));
}

/* ---- whole answers -------------------------------------------------------- */

/* A tool call's id (one of ours when the provider gave none) and type. */
static void name_call(json_t *call)
{
    if (!json_is_string(json_object_get(call, "id")) ||
        json_string_length(json_object_get(call, "id")) == 0) {
        char id[32];
        random_call_id(id);
        json_object_set_new(call, "id", json_string(id));
    }
    json_object_set_new(call, "type", json_string("function"));
}

/* Puts an answer's message in the shape OpenAI clients rely on: role
 * "assistant", content a string or null, each tool call an object with an id,
 * type "function", a named function and string arguments (objects and other
 * values encoded as JSON). False when that cannot be done (content of another
 * type, a tool call without a function name): the answer is unusable. */
static bool normal_message(json_t *msg, json_t *calls)
{
    json_t *content = json_object_get(msg, "content");
    json_t *call;
    size_t k;

    if (content != NULL && !json_is_string(content) && !json_is_null(content))
        return false;
    if (content == NULL)
        json_object_set_new(msg, "content", json_null());
    json_object_set_new(msg, "role", json_string("assistant"));
    if (calls == NULL)
        return true;
    if (!json_is_array(calls))
        return false;
    json_array_foreach(calls, k, call) {
        json_t *fn = json_object_get(call, "function");
        json_t *args = json_object_get(fn, "arguments");
        const char *name = json_string_value(json_object_get(fn, "name"));

        if (name == NULL || name[0] == '\0')
            return false;
        name_call(call);
        if (args == NULL || json_is_null(args) ||
            (json_is_string(args) && json_string_length(args) == 0)) {
            json_object_set_new(fn, "arguments", json_string("{}"));
        } else if (!json_is_string(args)) {
            char *s = json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
            json_object_set_new(fn, "arguments", json_string(s != NULL ? s : "{}"));
            free(s);
        }
    }
    return true;
}

static int openai_chat_response(const gw_call_t *c, json_t *body, json_t **out,
                                gw_tokens_t *usage, gw_err_t *err)
{
    json_t *choices = json_object_get(body, "choices");
    json_t *ch;
    size_t i;
    int64_t out_chars = 0;

    if (json_object_get(body, "error") != NULL || !json_is_array(choices) ||
        json_array_size(choices) == 0) {
        gw_err_set(err, GW_DECLINED, 502, "upstream answered without choices");
        return GW_DECLINED;
    }
    json_array_foreach(choices, i, ch) {
        json_t *msg = json_object_get(ch, "message");
        json_t *calls = json_object_get(msg, "tool_calls");
        json_t *content;
        if (!json_is_object(msg)) {
            gw_err_set(err, GW_DECLINED, 502, "upstream answered a choice without a message");
            return GW_DECLINED;
        }
        normalise_text_fields(msg);
        if (json_is_null(calls) || (json_is_array(calls) && json_array_size(calls) == 0)) {
            json_object_del(msg, "tool_calls");
            calls = NULL;
        }
        if (!normal_message(msg, calls)) {
            gw_err_set(err, GW_DECLINED, 502, "upstream answered a message of the wrong shape");
            return GW_DECLINED;
        }
        json_object_set_new(ch, "index", json_integer((json_int_t)i));
        if (calls != NULL)
            json_object_set_new(ch, "finish_reason", json_string("tool_calls"));
        content = json_object_get(msg, "content");
        if (json_is_string(content))
            out_chars += (int64_t)json_string_length(content);
        /* Some free relays (Kilo) answer a bare content-filter verdict instead. */
        if (calls == NULL && json_is_string(content) &&
            gw_strv_has(c->model->provider->policy.declined_answers,
                        c->model->provider->policy.ndeclined_answers, json_string_value(content))) {
            gw_err_set(err, GW_DECLINED, 502, "upstream answered a bare filter verdict");
            return GW_DECLINED;
        }
        if (!json_is_string(json_object_get(msg, "refusal")))
            json_object_set_new(msg, "refusal", json_null());
        if (json_object_get(ch, "logprobs") == NULL)
            json_object_set_new(ch, "logprobs", json_null());
        if (!json_is_string(json_object_get(ch, "finish_reason")))
            json_object_set_new(ch, "finish_reason", json_string("stop"));
    }
    read_usage(json_object_get(body, "usage"), usage);
    if (!usage->known)
        usage->completion = (out_chars + 3) / 4;
    if (!usage->known || !json_is_object(json_object_get(body, "usage"))) {
        json_object_set_new(body, "usage", usage_json(usage));
    } else { /* the provider's, with its details, but the counts are the ones read */
        json_t *u = json_object_get(body, "usage");
        json_object_set_new(u, "prompt_tokens", json_integer(usage->prompt));
        json_object_set_new(u, "completion_tokens", json_integer(usage->completion));
        json_object_set_new(u, "total_tokens", json_integer(usage->prompt + usage->completion));
    }
    json_object_set_new(body, "object", json_string("chat.completion"));
    if (!json_is_string(json_object_get(body, "id")))
        json_object_set_new(body, "id", json_string("chatcmpl-freellmapi"));
    if (!json_is_integer(json_object_get(body, "created")))
        json_object_set_new(body, "created", json_integer(gw_now_ms() / 1000));
    if (!json_is_string(json_object_get(body, "model")))
        json_object_set_new(body, "model", json_string(c->model->id));
    *out = json_incref(body);
    return 0;
}

/* ---- streams --------------------------------------------------------------- */

static void normalise_tool_deltas(gw_stream_state_t *st, json_t *delta)
{
    json_t *calls = json_object_get(delta, "tool_calls");
    json_t *kept;
    json_t *call;
    size_t i;

    if (calls == NULL)
        return;
    if (!json_is_array(calls) || json_array_size(calls) == 0) {
        json_object_del(delta, "tool_calls");
        return;
    }
    kept = json_array(); /* the fragments a client can use, in order */
    json_array_foreach(calls, i, call) {
        json_t *idx = json_object_get(call, "index");
        json_t *fn = json_object_get(call, "function");
        json_int_t n;
        bool first;

        if (!json_is_object(call) || (fn != NULL && !json_is_object(fn)))
            continue;
        /* Some upstreams send each call whole without an index. */
        if (!json_is_integer(idx)) {
            json_object_set_new(call, "index", json_integer((json_int_t)
                                json_array_size(st->tool_ids)));
            idx = json_object_get(call, "index");
        }
        n = json_integer_value(idx);
        if (n < 0 || n > 1024)
            continue;
        while (json_array_size(st->tool_ids) <= (size_t)n)
            json_array_append_new(st->tool_ids, json_false());
        first = !json_is_true(json_array_get(st->tool_ids, (size_t)n));
        if (first) {
            /* A call starts with its function's name, or the client cannot use it. */
            if (!json_is_string(json_object_get(fn, "name")))
                continue;
            json_array_set_new(st->tool_ids, (size_t)n, json_true());
            name_call(call);
            if (json_object_get(fn, "arguments") == NULL)
                json_object_set_new(fn, "arguments", json_string(""));
        } else {
            /* id, type and name appear once per call, in its first fragment. */
            json_object_del(call, "id");
            json_object_del(call, "type");
            json_object_del(fn, "name");
        }
        if (json_object_get(fn, "arguments") != NULL &&
            !json_is_string(json_object_get(fn, "arguments"))) {
            char *s = json_dumps(json_object_get(fn, "arguments"), JSON_COMPACT | JSON_ENCODE_ANY);
            json_object_set_new(fn, "arguments", json_string(s ? s : "{}"));
            free(s);
        }
        json_array_append(kept, call);
    }
    if (json_array_size(kept) > 0) {
        st->saw_tool_calls = true;
        json_object_set_new(delta, "tool_calls", kept);
    } else {
        json_decref(kept);
        json_object_del(delta, "tool_calls");
    }
}

static gw_ev_t openai_chat_event(const gw_call_t *c, gw_stream_state_t *st, gw_str_t data,
                                 json_t *out_chunks, json_t **err_body)
{
    json_t *chunk;
    json_t *choices;
    json_t *ch;
    json_t *u;
    size_t i;
    gw_ev_t ev;

    ev = gw_dialect_frame(st, data, &chunk, err_body);
    if (ev != GW_EV_CHUNKS)
        return ev;
    u = json_object_get(chunk, "usage");
    if (json_is_object(u))
        read_usage(u, &st->usage);
    else
        read_usage(json_object_get(json_object_get(chunk, "x_groq"), "usage"), &st->usage);
    json_object_del(chunk, "usage");
    json_object_del(chunk, "x_groq");
    choices = json_object_get(chunk, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        json_decref(chunk); /* the usage-only chunk: we send our own at the end */
        return GW_EV_SKIP;
    }
    json_array_foreach(choices, i, ch)
        if (!json_is_object(ch)) { /* not a chunk we can read: skipped like a broken frame */
            json_decref(chunk);
            return GW_EV_SKIP;
        }
    json_array_foreach(choices, i, ch) {
        json_t *delta = json_object_get(ch, "delta");
        json_t *fr = json_object_get(ch, "finish_reason");
        if (!json_is_object(delta)) {
            delta = json_object();
            json_object_set_new(ch, "delta", delta);
        }
        if (!json_is_integer(json_object_get(ch, "index")))
            json_object_set_new(ch, "index", json_integer((json_int_t)i));
        normalise_text_fields(delta);
        /* Text is text: another type in its place is dropped, not passed on. */
        if (json_object_get(delta, "content") != NULL &&
            !json_is_string(json_object_get(delta, "content")))
            json_object_del(delta, "content");
        if (json_object_get(delta, "reasoning_content") != NULL &&
            !json_is_string(json_object_get(delta, "reasoning_content")))
            json_object_del(delta, "reasoning_content");
        normalise_tool_deltas(st, delta);
        if (!st->sent_role) {
            json_object_set_new(delta, "role", json_string("assistant"));
            st->sent_role = true;
        }
        if (json_is_string(fr)) {
            st->saw_finish = true;
            if (st->saw_tool_calls && strcmp(json_string_value(fr), "stop") == 0)
                json_object_set_new(ch, "finish_reason", json_string("tool_calls"));
        } else {
            json_object_set_new(ch, "finish_reason", json_null());
        }
        if (json_object_get(ch, "logprobs") == NULL)
            json_object_set_new(ch, "logprobs", json_null());
    }
    json_object_set_new(chunk, "object", json_string("chat.completion.chunk"));
    if (!json_is_string(json_object_get(chunk, "id")))
        json_object_set_new(chunk, "id", json_string("chatcmpl-freellmapi"));
    if (!json_is_integer(json_object_get(chunk, "created")))
        json_object_set_new(chunk, "created", json_integer(gw_now_ms() / 1000));
    if (!json_is_string(json_object_get(chunk, "model")))
        json_object_set_new(chunk, "model", json_string(c->model->id));
    st->chunks++;
    json_array_append_new(out_chunks, chunk);
    return GW_EV_CHUNKS;
}

static int openai_probe_request(const gw_provider_t *p, const char *secret,
                                const char *account_id, gw_http_out_t *out)
{
    if (strcmp(p->probe, "models") != 0)
        return GW_DECLINED;
    out->url = gw_dialect_url(p, account_id, "/models");
    out->post = false;
    gw_dialect_auth(p, secret, out);
    return 0;
}

const gw_dialect_t gw_dialect_openai = {
    .name = "openai",
    .chat_request = openai_chat_request,
    .fim_request = openai_fim_request,
    .chat_response = openai_chat_response,
    .chat_event = openai_chat_event,
    .probe_request = openai_probe_request,
    .media_request = gw_openai_media_request,
    .media_response = gw_openai_media_response,
};

