/*
 * The Gemini dialect: Google's Generative Language API, v1beta
 * `models/{id}:generateContent` and `:streamGenerateContent?alt=sse`.
 * Requests are rebuilt from the OpenAI chat request (messages -> contents and
 * systemInstruction, sampling -> generationConfig, tools -> functionDeclarations
 * with sanitized schemas); answers and SSE frames are decoded into OpenAI
 * chat.completion / chat.completion.chunk objects. Thought signatures of
 * function calls are remembered through the gateway's signature store and
 * restored on the next turn. Every mapping decision, with its source, is in
 * docs/gemini.md; the wire facts are docs/reference/wire-gemini.md.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/clock.h"
#include "providers/dialect.h"
#include "providers/media_ops.h"
#include "providers/gemini_schema.h"

/* Google's documented value for function calls whose real signature is
 * unknown (history from another model, or lost): validation is skipped. */
#define DUMMY_SIGNATURE "context_engineering_is_the_way_to_go"
#define MAX_TEXT (64u << 20)

/* ---- small helpers ------------------------------------------------------------ */

static const char *str_of(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool str_is(json_t *o, const char *key, const char *want)
{
    const char *s = str_of(o, key);
    return s != NULL && strcmp(s, want) == 0;
}

static void random_id(char *out, size_t size, const char *prefix)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[24];
    size_t n = strlen(prefix);

    gw_assert(size > n + sizeof(r));
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 7, sizeof(r));
    memcpy(out, prefix, n);
    for (size_t i = 0; i < sizeof(r); i++)
        out[n + i] = alnum[r[i] % (sizeof(alnum) - 1)];
    out[n + sizeof(r)] = '\0';
}

/* Text of a string content, or of its text parts joined by sep (refusal
 * parts count as text: an assistant's refusal is what it said). */
static void content_text(gw_buf_t *b, json_t *content, const char *sep)
{
    json_t *part;
    size_t i;
    bool first = true;

    if (json_is_string(content)) {
        gw_buf_append(b, json_string_value(content), json_string_length(content));
        return;
    }
    json_array_foreach(content, i, part) {
        const char *t = str_of(part, "text");
        if (t == NULL && str_is(part, "type", "refusal"))
            t = str_of(part, "refusal");
        if (t == NULL)
            continue;
        if (!first)
            gw_buf_appends(b, sep);
        gw_buf_appends(b, t);
        first = false;
    }
}

/* ---- model families -------------------------------------------------------------- */

typedef struct family {
    bool gemma; /* gemma-*: no systemInstruction, no thinking config, no signatures */
    int major;  /* gemini-2.5-flash: 2; gemini-3-pro-preview: 3; 0 when unknown */
    int minor;
    bool pro;
    bool lite;
} family_t;

static family_t model_family(const char *id)
{
    family_t f = {0};

    if (strncmp(id, "models/", 7) == 0)
        id += 7;
    f.gemma = strncmp(id, "gemma-", 6) == 0;
    if (strncmp(id, "gemini-", 7) == 0 && isdigit((unsigned char)id[7])) {
        char *end;
        f.major = (int)strtol(id + 7, &end, 10);
        if (*end == '.' && isdigit((unsigned char)end[1]))
            f.minor = (int)strtol(end + 1, NULL, 10);
    }
    f.pro = strstr(id, "-pro") != NULL;
    f.lite = strstr(id, "-lite") != NULL;
    return f;
}

/* ---- request: generationConfig ------------------------------------------------- */

/* reasoning_effort (or OpenRouter's reasoning.effort) as a rank:
 * none 0, minimal 1, low 2, medium 3, high 4, xhigh/max 5; -1 absent/unknown. */
static int effort_rank(json_t *req)
{
    static const char *const names[] = {"none", "minimal", "low", "medium", "high", "xhigh", "max"};
    const char *e = str_of(req, "reasoning_effort");

    if (e == NULL)
        e = str_of(json_object_get(req, "reasoning"), "effort");
    if (e == NULL)
        return -1;
    for (size_t i = 0; i < GW_ARRAY_LEN(names); i++)
        if (strcmp(e, names[i]) == 0)
            return i >= 5 ? 5 : (int)i;
    return -1;
}

/* Gemini 3 takes thinkingLevel (Pro: LOW/HIGH only, cannot switch thinking
 * off); 2.5 takes thinkingBudget in tokens (Pro: 128..32768, never 0; Flash
 * and Flash-Lite may be 0). Sending both is a 400. docs/reference/wire-gemini.md 1.6. */
static json_t *thinking_config(family_t f, int rank)
{
    static const char *const flash_levels[] = {"MINIMAL", "MINIMAL", "LOW",
                                               "MEDIUM",  "HIGH",    "HIGH"};
    static const int64_t pro_budget[] = {128, 128, 1024, 8192, 32768, 32768};
    static const int64_t flash_budget[] = {0, 0, 1024, 8192, 24576, 24576};
    bool thoughts = rank >= 2;

    if (rank < 0 || f.gemma || f.major < 2 || (f.major == 2 && f.minor < 5))
        return NULL;
    if (f.major >= 3) {
        const char *level = f.pro ? (rank <= 2 ? "LOW" : "HIGH") : flash_levels[rank];
        return json_pack("{s:s,s:b}", "thinkingLevel", level, "includeThoughts", thoughts);
    }
    return json_pack("{s:I,s:b}", "thinkingBudget",
                     (json_int_t)(f.pro ? pro_budget[rank] : flash_budget[rank]), "includeThoughts",
                     thoughts);
}

static bool usable(const gw_policy_t *pol, json_t *req, const char *param)
{
    json_t *v = json_object_get(req, param);
    return v != NULL && !json_is_null(v) && !gw_policy_drops(pol, param);
}

/* response_format: json_object -> JSON mode; json_schema -> JSON mode with the
 * schema as responseJsonSchema (real JSON Schema, Gemini 2.5 and later) or,
 * for other models, responseSchema through the sanitizer. */
static void response_format(json_t *gen, json_t *rf, family_t f)
{
    const char *type = str_of(rf, "type");
    json_t *schema = json_object_get(json_object_get(rf, "json_schema"), "schema");

    if (type == NULL || (strcmp(type, "json_object") != 0 && strcmp(type, "json_schema") != 0))
        return;
    json_object_set_new(gen, "responseMimeType", json_string("application/json"));
    if (strcmp(type, "json_schema") != 0 || !json_is_object(schema))
        return;
    if (f.major >= 3 || (f.major == 2 && f.minor >= 5)) {
        json_object_set_new(gen, "responseJsonSchema", gw_gemini_schema_light(schema));
    } else {
        json_t *s = gw_gemini_schema_sanitize(schema);
        /* A free-form object says nothing JSON mode does not. */
        if (str_is(s, "type", "object") && gw_gemini_schema_is_empty(s))
            json_decref(s);
        else
            json_object_set_new(gen, "responseSchema", s);
    }
}

static json_t *generation_config(const gw_call_t *c, family_t f, bool function_tools)
{
    const gw_policy_t *pol = &c->model->provider->policy;
    json_t *req = c->req;
    json_t *gen = json_object();
    json_t *v;
    json_t *th;
    int64_t max_tokens = 0;

    if (usable(pol, req, "temperature") && json_is_number(json_object_get(req, "temperature")))
        json_object_set(gen, "temperature", json_object_get(req, "temperature"));
    if (usable(pol, req, "top_p") && json_is_number(json_object_get(req, "top_p")))
        json_object_set(gen, "topP", json_object_get(req, "top_p"));
    if (usable(pol, req, "top_k") && json_is_number(json_object_get(req, "top_k")))
        json_object_set_new(
            gen, "topK",
            json_integer((json_int_t)json_number_value(json_object_get(req, "top_k"))));
    /* max_completion_tokens is the newer spelling; it wins. */
    v = json_object_get(req, "max_completion_tokens");
    if (!json_is_integer(v))
        v = json_object_get(req, "max_tokens");
    if (json_is_integer(v) && !gw_policy_drops(pol, "max_tokens"))
        max_tokens = json_integer_value(v);
    if (max_tokens <= 0 && pol->default_max_tokens > 0)
        max_tokens = pol->default_max_tokens;
    if (pol->max_tokens_cap > 0 && max_tokens > pol->max_tokens_cap)
        max_tokens = pol->max_tokens_cap;
    if (max_tokens > 0)
        json_object_set_new(gen, "maxOutputTokens", json_integer(max_tokens));
    v = json_object_get(req, "n");
    if (json_is_integer(v) && json_integer_value(v) > 1)
        json_object_set_new(gen, "candidateCount", json_integer(json_integer_value(v)));
    if (usable(pol, req, "stop")) {
        json_t *stop = json_object_get(req, "stop");
        json_t *seqs = json_array();
        size_t i;
        if (json_is_string(stop) && json_string_length(stop) > 0)
            json_array_append(seqs, stop);
        /* Gemini takes at most 5 (OpenAI 4): extras are dropped, not a 400. */
        json_array_foreach(stop, i, v)
            if (json_is_string(v) && json_string_length(v) > 0 && json_array_size(seqs) < 5)
                json_array_append(seqs, v);
        if (json_array_size(seqs) > 0)
            json_object_set(gen, "stopSequences", seqs);
        json_decref(seqs);
    }
    if (usable(pol, req, "seed") && json_is_integer(json_object_get(req, "seed")))
        json_object_set(gen, "seed", json_object_get(req, "seed"));
    if (usable(pol, req, "presence_penalty") &&
        json_is_number(json_object_get(req, "presence_penalty")))
        json_object_set(gen, "presencePenalty", json_object_get(req, "presence_penalty"));
    if (usable(pol, req, "frequency_penalty") &&
        json_is_number(json_object_get(req, "frequency_penalty")))
        json_object_set(gen, "frequencyPenalty", json_object_get(req, "frequency_penalty"));
    /* JSON mode with function calling is a 400 before Gemini 3 ("Function
     * calling with a response mime type: 'application/json' is unsupported");
     * Gemini 3 takes both. */
    if (usable(pol, req, "response_format") && (!function_tools || f.major >= 3))
        response_format(gen, json_object_get(req, "response_format"), f);
    th = gw_policy_drops(pol, "reasoning_effort") ? NULL : thinking_config(f, effort_rank(req));
    if (th != NULL)
        json_object_set_new(gen, "thinkingConfig", th);
    if (json_object_size(gen) == 0) {
        json_decref(gen);
        return NULL;
    }
    return gen;
}

/* ---- request: tools -------------------------------------------------------------- */

static json_t *function_declarations(json_t *tools)
{
    json_t *decls = json_array();
    json_t *t;
    size_t i;

    json_array_foreach(tools, i, t) {
        json_t *fn = json_object_get(t, "function");
        json_t *params = json_object_get(fn, "parameters");
        json_t *d;
        if ((str_of(t, "type") != NULL && !str_is(t, "type", "function")) ||
            str_of(fn, "name") == NULL)
            continue; /* custom tools have no Gemini equivalent */
        d = gw_gemini_function_decl(str_of(fn, "name"), json_object_get(fn, "description"),
                                    params);
        json_array_append_new(decls, d);
    }
    return decls;
}

static json_t *allowed_names(json_t *tools)
{
    json_t *names = json_array();
    json_t *t;
    size_t i;

    json_array_foreach(tools, i, t) {
        json_t *n = json_object_get(json_object_get(t, "function"), "name");
        if (!json_is_string(n))
            n = json_object_get(t, "name");
        if (json_is_string(n))
            json_array_append(names, n);
    }
    return names;
}

/* tool_choice -> toolConfig.functionCallingConfig; NULL leaves the default
 * (AUTO). allowedFunctionNames is valid with mode ANY only. */
static json_t *tool_config(json_t *choice)
{
    const char *s = json_string_value(choice);
    const char *mode = NULL;
    json_t *names = NULL;
    json_t *cfg;

    if (s != NULL) {
        if (strcmp(s, "none") == 0)
            mode = "NONE";
        else if (strcmp(s, "auto") == 0)
            mode = "AUTO";
        else if (strcmp(s, "required") == 0 || strcmp(s, "any") == 0)
            mode = "ANY";
    } else if (str_is(choice, "type", "function")) {
        json_t *n = json_object_get(json_object_get(choice, "function"), "name");
        if (json_is_string(n)) {
            mode = "ANY";
            names = json_pack("[O]", n);
        }
    } else if (str_is(choice, "type", "allowed_tools")) {
        json_t *at = json_object_get(choice, "allowed_tools");
        if (str_is(at, "mode", "required")) {
            mode = "ANY";
            names = allowed_names(json_object_get(at, "tools"));
        } else {
            mode = "AUTO"; /* AUTO cannot restrict names: all tools stay allowed */
        }
    }
    if (mode == NULL) {
        json_decref(names);
        return NULL;
    }
    cfg = json_pack("{s:s}", "mode", mode);
    if (json_array_size(names) > 0)
        json_object_set(cfg, "allowedFunctionNames", names);
    json_decref(names);
    return json_pack("{s:o}", "functionCallingConfig", cfg);
}

/* ---- request: messages ------------------------------------------------------------ */

/* An inlineData part from a data: URL. http(s) URLs were fetched by the
 * gateway before this point (inline_images); one that is still here, or any
 * other scheme, is the client's error. */
static json_t *data_url_part(const char *url, gw_err_t *err)
{
    const char *comma;
    const char *semi;
    const char *payload;
    char mime[128];
    size_t mlen;
    bool b64;
    json_t *part;

    if (strncmp(url, "data:", 5) != 0) {
        gw_err_set(err, GW_EINVAL, 400,
                   "Gemini takes images inline only: use a data: URL "
                   "(or an http(s) URL the gateway can fetch)");
        return NULL;
    }
    comma = strchr(url, ',');
    if (comma == NULL) {
        gw_err_set(err, GW_EINVAL, 400, "malformed data: URL (no comma)");
        return NULL;
    }
    payload = comma + 1;
    b64 = comma - url >= 12 && strncmp(comma - 7, ";base64", 7) == 0;
    semi = memchr(url + 5, ';', (size_t)(comma - (url + 5)));
    mlen = (size_t)((semi != NULL ? semi : comma) - (url + 5));
    if (mlen == 0 || mlen >= sizeof(mime))
        snprintf(mime, sizeof(mime), "application/octet-stream");
    else
        snprintf(mime, sizeof(mime), "%.*s", (int)mlen, url + 5);
    /* MIME types are case-insensitive; Gemini knows JPEG only as image/jpeg
     * and answers 400 "Unsupported MIME type: image/jpg" to the common alias. */
    for (char *m = mime; *m != '\0'; m++)
        *m = (char)tolower((unsigned char)*m);
    if (strcmp(mime, "image/jpg") == 0 || strcmp(mime, "image/pjpeg") == 0)
        snprintf(mime, sizeof(mime), "image/jpeg");
    if (b64) {
        part = json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType", mime, "data", payload);
    } else {
        /* Percent-encoded payload: decode, then base64 for Gemini. */
        size_t n = strlen(payload);
        unsigned char *raw = gw_xmalloc(n + 1);
        unsigned char *enc;
        size_t r = 0;
        for (size_t i = 0; i < n; i++) {
            if (payload[i] == '%' && isxdigit((unsigned char)payload[i + 1]) &&
                isxdigit((unsigned char)payload[i + 2])) {
                char hex[3] = {payload[i + 1], payload[i + 2], '\0'};
                raw[r++] = (unsigned char)strtol(hex, NULL, 16);
                i += 2;
            } else {
                raw[r++] = (unsigned char)payload[i];
            }
        }
        enc = gw_xmalloc(4 * ((r + 2) / 3) + 1);
        EVP_EncodeBlock(enc, raw, (int)r);
        part = json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType", mime, "data", (char *)enc);
        free(raw);
        free(enc);
    }
    if (part == NULL) /* not UTF-8: cannot be base64 either */
        gw_err_set(err, GW_EINVAL, 400, "malformed data: URL");
    return part;
}

/* User content -> parts, in the client's order. Returns 0 or GW_EINVAL. */
static int user_parts(json_t *content, json_t *parts, gw_err_t *err)
{
    json_t *item;
    size_t i;

    if (json_is_string(content)) {
        json_array_append_new(parts, json_pack("{s:O}", "text", content));
        return 0;
    }
    json_array_foreach(content, i, item) {
        const char *type = str_of(item, "type");
        json_t *p = NULL;
        if (type == NULL)
            continue;
        if (strcmp(type, "text") == 0 && json_is_string(json_object_get(item, "text"))) {
            p = json_pack("{s:O}", "text", json_object_get(item, "text"));
        } else if (strcmp(type, "image_url") == 0) {
            json_t *iu = json_object_get(item, "image_url");
            const char *url = json_is_string(iu) ? json_string_value(iu) : str_of(iu, "url");
            if (url == NULL) {
                gw_err_set(err, GW_EINVAL, 400, "image_url part without a url");
                return GW_EINVAL;
            }
            p = data_url_part(url, err);
            if (p == NULL)
                return GW_EINVAL;
        } else if (strcmp(type, "input_audio") == 0) {
            json_t *ia = json_object_get(item, "input_audio");
            const char *data = str_of(ia, "data");
            const char *fmt = str_of(ia, "format");
            char mime[64];
            if (data == NULL) {
                gw_err_set(err, GW_EINVAL, 400, "input_audio part without data");
                return GW_EINVAL;
            }
            snprintf(mime, sizeof(mime), "audio/%s", fmt != NULL && strlen(fmt) < 16 ? fmt : "wav");
            p = json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType", mime, "data", data);
        } else if (strcmp(type, "file") == 0) {
            json_t *f = json_object_get(item, "file");
            const char *fd = str_of(f, "file_data");
            if (fd == NULL) {
                gw_err_set(err, GW_EINVAL, 400,
                           "file parts must carry file_data (uploaded "
                           "file ids cannot be sent to Gemini)");
                return GW_EINVAL;
            }
            if (strncmp(fd, "data:", 5) == 0) {
                p = data_url_part(fd, err);
                if (p == NULL)
                    return GW_EINVAL;
            } else {
                const char *name = str_of(f, "filename");
                size_t n = name != NULL ? strlen(name) : 0;
                bool pdf = n >= 4 && strcasecmp(name + n - 4, ".pdf") == 0;
                p = json_pack("{s:{s:s,s:s}}", "inlineData", "mimeType",
                              pdf ? "application/pdf" : "application/octet-stream", "data", fd);
            }
        }
        if (p != NULL)
            json_array_append_new(parts, p);
    }
    return 0;
}

/* A signature the client sent back on the tool call itself: Google's own
 * OpenAI surface spells it extra_content.google.thought_signature; some
 * gateways use a bare thought_signature. */
static char *client_signature(json_t *tc)
{
    const char *s = str_of(json_object_get(json_object_get(tc, "extra_content"), "google"),
                           "thought_signature");

    if (s == NULL)
        s = str_of(tc, "thought_signature");
    return s != NULL && s[0] != '\0' ? gw_xstrdup(s) : NULL;
}

/* One assistant message (one model "step") -> model parts. Each functionCall
 * gets the signature it was answered with: the client's copy, else the
 * store's; when the step has none at all, the documented dummy goes on its
 * first call (Gemini 3 rejects a step without one; 2.5 ignores it). */
static void assistant_parts(const gw_call_t *c, family_t f, json_t *m, json_t *parts)
{
    json_t *calls = json_object_get(m, "tool_calls");
    json_t *tc;
    size_t i;
    gw_buf_t text;
    bool any_sig = false;
    size_t first_call = json_array_size(parts);
    bool have_first = false;

    gw_buf_init(&text, MAX_TEXT);
    content_text(&text, json_object_get(m, "content"), "");
    if (text.len > 0)
        json_array_append_new(parts, json_pack("{s:s%}", "text", text.ptr, text.len));
    gw_buf_dispose(&text);
    json_array_foreach(calls, i, tc) {
        json_t *fn = json_object_get(tc, "function");
        const char *name = str_of(fn, "name");
        const char *id = str_of(tc, "id");
        json_t *argv = json_object_get(fn, "arguments");
        json_t *args = NULL;
        json_t *call;
        json_t *part;
        char *sig = NULL;

        if (name == NULL)
            continue;
        if (json_is_object(argv)) {
            args = json_incref(argv);
        } else if (json_is_string(argv) && json_string_length(argv) > 0) {
            args = json_loadb(json_string_value(argv), json_string_length(argv), 0, NULL);
            if (!json_is_object(args)) {
                /* Not a JSON object: keep what the model said, visibly raw. */
                json_decref(args);
                args = json_pack("{s:O}", "_raw", argv);
            }
        } else {
            args = json_object();
        }
        call = json_pack("{s:s,s:o}", "name", name, "args", args);
        if (id != NULL && id[0] != '\0')
            json_object_set_new(call, "id", json_string(id));
        part = json_pack("{s:o}", "functionCall", call);
        if (!f.gemma) {
            sig = client_signature(tc);
            if (sig == NULL && id != NULL && c->sigs != NULL && c->sigs->get != NULL)
                sig = c->sigs->get(c->sigs->ctx, id);
        }
        if (sig != NULL && json_object_set_new(part, "thoughtSignature", json_string(sig)) == 0)
            any_sig = true;
        free(sig);
        if (!have_first) {
            first_call = json_array_size(parts);
            have_first = true;
        }
        json_array_append_new(parts, part);
    }
    if (have_first && !any_sig && !f.gemma)
        json_object_set_new(json_array_get(parts, first_call), "thoughtSignature",
                            json_string(DUMMY_SIGNATURE));
}

/* A tool message -> a functionResponse part. Gemini needs the function's
 * name, which OpenAI tool messages lack: it comes from the assistant call
 * with the same id. response must be an object: a JSON-object result is sent
 * as is, anything else as {"result": <JSON value or the text>}. */
static json_t *tool_part(json_t *m, json_t *names)
{
    const char *id = str_of(m, "tool_call_id");
    const char *name = id != NULL ? str_of(names, id) : NULL;
    json_t *content = json_object_get(m, "content");
    json_t *resp;
    json_t *fr;
    gw_buf_t text;

    if (name == NULL)
        name = str_of(m, "name");
    if (name == NULL)
        name = "tool";
    gw_buf_init(&text, MAX_TEXT);
    content_text(&text, content, "\n");
    resp = json_loadb(text.ptr ? text.ptr : "", text.len, JSON_DECODE_ANY, NULL);
    if (resp == NULL)
        resp = json_stringn(text.ptr ? text.ptr : "", text.len);
    if (!json_is_object(resp))
        resp = json_pack("{s:o}", "result", resp);
    gw_buf_dispose(&text);
    fr = json_pack("{s:s,s:o}", "name", name, "response", resp);
    if (id != NULL)
        json_object_set_new(fr, "id", json_string(id));
    return json_pack("{s:o}", "functionResponse", fr);
}

/* Appends parts (taken) as a turn of role; consecutive turns of one role are
 * merged (one content per step; parallel tool results in one user turn). */
static void push_turn(json_t *contents, const char *role, json_t *parts)
{
    json_t *last = json_array_get(contents, json_array_size(contents) - 1);

    if (json_array_size(parts) == 0) {
        json_decref(parts);
        return;
    }
    if (last != NULL && str_is(last, "role", role)) {
        json_array_extend(json_object_get(last, "parts"), parts);
        json_decref(parts);
        return;
    }
    json_array_append_new(contents, json_pack("{s:s,s:o}", "role", role, "parts", parts));
}

/* Gemma rejects systemInstruction: the system text opens the first user turn. */
static void fold_system(json_t *contents, const char *sys, size_t len)
{
    json_t *first = json_array_get(contents, 0);
    json_t *part = json_pack("{s:s%}", "text", sys, len);

    if (first != NULL && str_is(first, "role", "user")) {
        json_array_insert_new(json_object_get(first, "parts"), 0, part);
        return;
    }
    json_array_insert_new(contents, 0, json_pack("{s:s,s:[o]}", "role", "user", "parts", part));
}

/* id -> function name over every assistant tool call of the request. */
static json_t *call_names(json_t *msgs)
{
    json_t *names = json_object();
    json_t *m;
    json_t *tc;
    size_t i;
    size_t k;

    json_array_foreach(msgs, i, m) {
        json_array_foreach(json_object_get(m, "tool_calls"), k, tc) {
            const char *id = str_of(tc, "id");
            json_t *name = json_object_get(json_object_get(tc, "function"), "name");
            if (id != NULL && json_is_string(name))
                json_object_set(names, id, name);
        }
    }
    return names;
}

static int build_contents(const gw_call_t *c, family_t f, json_t *body, gw_err_t *err)
{
    json_t *msgs = json_object_get(c->req, "messages");
    json_t *contents = json_array();
    json_t *names = call_names(msgs);
    json_t *m;
    size_t i;
    gw_buf_t sys;
    int rc = 0;

    gw_buf_init(&sys, MAX_TEXT);
    json_array_foreach(msgs, i, m) {
        const char *role = str_of(m, "role");
        json_t *parts = json_array();
        if (role == NULL) {
            json_decref(parts);
            continue;
        }
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            json_decref(parts);
            if (sys.len > 0)
                gw_buf_appends(&sys, "\n\n");
            content_text(&sys, json_object_get(m, "content"), "\n");
        } else if (strcmp(role, "user") == 0) {
            rc = user_parts(json_object_get(m, "content"), parts, err);
            if (rc != 0) {
                json_decref(parts);
                break;
            }
            if (json_array_size(parts) == 0) /* Gemini rejects empty parts */
                json_array_append_new(parts, json_pack("{s:s}", "text", ""));
            push_turn(contents, "user", parts);
        } else if (strcmp(role, "assistant") == 0) {
            assistant_parts(c, f, m, parts);
            push_turn(contents, "model", parts); /* nothing said: dropped */
        } else if ((strcmp(role, "tool") == 0 && str_of(m, "tool_call_id") != NULL) ||
                   (strcmp(role, "function") == 0 && str_of(m, "name") != NULL)) {
            json_array_append_new(parts, tool_part(m, names));
            push_turn(contents, "user", parts);
        } else {
            json_decref(parts);
        }
    }
    if (rc == 0 && sys.len > 0) {
        if (f.gemma || json_array_size(contents) == 0)
            fold_system(contents, sys.ptr, sys.len);
        else
            json_object_set_new(body, "systemInstruction",
                                json_pack("{s:[{s:s%}]}", "parts", "text", sys.ptr, sys.len));
    }
    if (rc == 0 && json_array_size(contents) == 0) {
        gw_err_set(err, GW_EINVAL, 400,
                   "nothing to send: the request has no messages Gemini "
                   "can take");
        rc = GW_EINVAL;
    }
    json_object_set_new(body, "contents", contents);
    gw_buf_dispose(&sys);
    json_decref(names);
    return rc;
}

/* {base}/v1beta/models/{model}{suffix}; the model id is percent-encoded
 * (catalog data) and a trailing slash of the base is ignored. */
static char *model_url(const gw_provider_t *p, const char *model, const char *suffix)
{
    gw_buf_t b;
    size_t n = strlen(p->base_url);

    if (model != NULL && strncmp(model, "models/", 7) == 0)
        model += 7;
    while (n > 0 && p->base_url[n - 1] == '/')
        n--;
    gw_buf_init(&b, 8192);
    gw_buf_append(&b, p->base_url, n);
    gw_buf_appends(&b, "/v1beta/models");
    if (model != NULL) {
        gw_buf_appends(&b, "/");
        for (const char *s = model; *s != '\0'; s++) {
            unsigned char ch = (unsigned char)*s;
            if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_')
                gw_buf_append(&b, s, 1);
            else
                gw_buf_printf(&b, "%%%02X", ch);
        }
    }
    gw_buf_appends(&b, suffix);
    return gw_buf_detach(&b);
}

static int gemini_chat_request(const gw_call_t *c, gw_http_out_t *out, gw_err_t *err)
{
    const gw_provider_t *p = c->model->provider;
    family_t f = model_family(c->model->id);
    json_t *body = json_object();
    json_t *tools = json_object_get(c->req, "tools");
    json_t *decls = function_declarations(tools);
    bool function_tools = json_array_size(decls) > 0;
    json_t *gen;
    int rc;

    rc = build_contents(c, f, body, err);
    if (rc != 0)
        goto out;
    if (function_tools) {
        json_t *tc = tool_config(json_object_get(c->req, "tool_choice"));
        json_object_set_new(body, "tools", json_pack("[{s:O}]", "functionDeclarations", decls));
        if (tc != NULL)
            json_object_set_new(body, "toolConfig", tc);
    }
    gen = generation_config(c, f, function_tools);
    if (gen != NULL)
        json_object_set_new(body, "generationConfig", gen);
    rc = gw_dialect_body(out, json_incref(body), c->defer_body, err);
    if (rc != 0)
        goto out;
    out->url = model_url(p, c->model->id,
                         c->stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    out->post = true;
    gw_http_out_header(out, "Content-Type", "application/json");
    gw_http_out_header(out, "Accept", c->stream ? "text/event-stream" : "application/json");
    /* The key goes in this header only, never in the URL (access logs). */
    if (c->secret != NULL)
        gw_http_out_header(out, "x-goog-api-key", c->secret);
out:
    json_decref(decls);
    json_decref(body);
    return rc;
}

/* ---- answers: shared decoding ---------------------------------------------------- */

/* Decoding state of one answer (one model step): the chunk identity and the
 * thought-signature bookkeeping. Streams keep it in st->dialect_state. */
typedef struct gstate {
    char *id; /* "chatcmpl-" + responseId, or random */
    int64_t created;
    bool emitted; /* a content, reasoning or tool-call delta went out */
    bool finished;
    bool have_sig;       /* a call of this step has its signature */
    char *unsigned_call; /* first call seen without one, while none had one */
    char *pending_sig;   /* a bare signature part seen before any call */
    json_t *seen;        /* Gemini-given call ids already emitted */
} gstate_t;

static void gstate_init(gstate_t *g, json_t *frame)
{
    const char *rid = str_of(frame, "responseId");
    char buf[64];

    memset(g, 0, sizeof(*g));
    if (rid != NULL && rid[0] != '\0' && strlen(rid) < 200) {
        gw_buf_t b;
        gw_buf_init(&b, 256);
        gw_buf_printf(&b, "chatcmpl-%s", rid);
        g->id = gw_buf_detach(&b);
    } else {
        random_id(buf, sizeof(buf), "chatcmpl-");
        g->id = gw_xstrdup(buf);
    }
    g->created = gw_now_ms() / 1000;
    g->seen = json_object();
}

static void gstate_dispose(gstate_t *g)
{
    free(g->id);
    free(g->unsigned_call);
    free(g->pending_sig);
    json_decref(g->seen);
}

static void gstate_free(void *p)
{
    gstate_dispose(p);
    free(p);
}

static void sig_put(const gw_call_t *c, const char *id, const char *sig)
{
    if (c->sigs != NULL && c->sigs->put != NULL)
        c->sigs->put(c->sigs->ctx, id, sig);
}

/* A functionCall part, with or without its own signature. For parallel calls
 * Gemini signs only the first; a signature may also come on a separate
 * empty-text part (Gemini 3 streams): it belongs to the step's first call. */
static void sig_call(const gw_call_t *c, gstate_t *g, const char *id, const char *sig)
{
    if (sig != NULL && sig[0] != '\0') {
        sig_put(c, id, sig);
        g->have_sig = true;
    } else if (!g->have_sig && g->pending_sig != NULL) {
        sig_put(c, id, g->pending_sig);
        g->have_sig = true;
        free(g->pending_sig);
        g->pending_sig = NULL;
    } else if (!g->have_sig && g->unsigned_call == NULL) {
        g->unsigned_call = gw_xstrdup(id);
    }
}

static void sig_bare(const gw_call_t *c, gstate_t *g, const char *sig)
{
    if (g->have_sig || sig == NULL || sig[0] == '\0')
        return;
    if (g->unsigned_call != NULL) {
        sig_put(c, g->unsigned_call, sig);
        g->have_sig = true;
        return;
    }
    free(g->pending_sig);
    g->pending_sig = gw_xstrdup(sig);
}

/* Parts of one candidate: visible text, thought text, tool calls (OpenAI
 * shape). In streams (tool_ids not NULL) each call gets the next stream-wide
 * index and its id is appended to tool_ids. */
static void read_parts(const gw_call_t *c, gstate_t *g, json_t *parts, gw_buf_t *text,
                       gw_buf_t *reason, json_t *calls, json_t *tool_ids)
{
    json_t *part;
    size_t i;

    json_array_foreach(parts, i, part) {
        json_t *fc = json_object_get(part, "functionCall");
        const char *sig = str_of(part, "thoughtSignature");
        json_t *t = json_object_get(part, "text");

        if (json_is_object(fc)) {
            const char *name = str_of(fc, "name");
            const char *gid = str_of(fc, "id");
            json_t *args = json_object_get(fc, "args");
            char idbuf[64];
            const char *id;
            char *argstr;
            json_t *call;

            if (name == NULL)
                continue;
            if (gid != NULL && gid[0] != '\0') {
                if (json_object_get(g->seen, gid) != NULL)
                    continue; /* a repeated part: emitted already */
                json_object_set_new(g->seen, gid, json_true());
                id = gid;
            } else {
                random_id(idbuf, sizeof(idbuf), "call_");
                id = idbuf;
            }
            argstr = json_is_object(args) ? json_dumps(args, JSON_COMPACT) : NULL;
            call = json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", id, "type", "function", "function",
                             "name", name, "arguments", argstr != NULL ? argstr : "{}");
            free(argstr);
            if (tool_ids != NULL) {
                json_object_set_new(call, "index",
                                    json_integer((json_int_t)json_array_size(tool_ids)));
                json_array_append_new(tool_ids, json_string(id));
            }
            json_array_append_new(calls, call);
            sig_call(c, g, id, sig);
        } else if (json_is_string(t)) {
            if (json_string_length(t) == 0)
                sig_bare(c, g, sig);
            else if (json_is_true(json_object_get(part, "thought")))
                gw_buf_append(reason, json_string_value(t), json_string_length(t));
            else
                gw_buf_append(text, json_string_value(t), json_string_length(t));
        } else if (sig != NULL) {
            sig_bare(c, g, sig);
        }
    }
}

typedef enum { FIN_NONE, FIN_STOP, FIN_LENGTH, FIN_FILTER, FIN_BROKEN } fin_t;

/* finishReason -> kind (docs/reference/wire-gemini.md 1.7). LANGUAGE and OTHER are
 * Google refusing to continue: content_filter, as LiteLLM maps them. A broken
 * function call is an upstream failure: the proxy tries elsewhere. */
static fin_t map_finish(const char *r)
{
    static const char *const filter[] = {"SAFETY",
                                         "RECITATION",
                                         "BLOCKLIST",
                                         "PROHIBITED_CONTENT",
                                         "SPII",
                                         "IMAGE_SAFETY",
                                         "IMAGE_PROHIBITED_CONTENT",
                                         "IMAGE_RECITATION",
                                         "LANGUAGE",
                                         "OTHER"};
    static const char *const broken[] = {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL",
                                         "TOO_MANY_TOOL_CALLS"};

    if (r == NULL)
        return FIN_NONE;
    if (strcmp(r, "MAX_TOKENS") == 0)
        return FIN_LENGTH;
    for (size_t i = 0; i < GW_ARRAY_LEN(filter); i++)
        if (strcmp(r, filter[i]) == 0)
            return FIN_FILTER;
    for (size_t i = 0; i < GW_ARRAY_LEN(broken); i++)
        if (strcmp(r, broken[i]) == 0)
            return FIN_BROKEN;
    return FIN_STOP; /* STOP, FINISH_REASON_UNSPECIFIED, NO_IMAGE, unknown */
}

static const char *finish_name(fin_t f, bool calls)
{
    if (calls)
        return "tool_calls";
    if (f == FIN_LENGTH)
        return "length";
    if (f == FIN_FILTER)
        return "content_filter";
    return "stop";
}

/* candidatesTokenCount excludes thinking, hence the sum. */
void gw_gemini_read_usage(json_t *um, gw_tokens_t *t)
{
    json_t *p = json_object_get(um, "promptTokenCount");
    json_t *tu = json_object_get(um, "toolUsePromptTokenCount");
    json_t *cand = json_object_get(um, "candidatesTokenCount");
    json_t *th = json_object_get(um, "thoughtsTokenCount");
    bool ok = true;
    int64_t prompt, completion;

    if (!json_is_integer(p) && !json_is_integer(cand) && !json_is_integer(th))
        return;
    /* Gemini leaves out the counts that are zero. */
    prompt = gw_dialect_tokens(p, &ok) + gw_dialect_tokens(tu, &ok);
    completion = gw_dialect_tokens(cand, &ok) + gw_dialect_tokens(th, &ok);
    if (!ok)
        return;
    t->prompt = prompt;
    t->completion = completion;
    t->known = true;
}

static json_t *usage_json(const gw_tokens_t *t, json_t *um)
{
    json_t *u = json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)t->prompt,
                          "completion_tokens", (json_int_t)t->completion, "total_tokens",
                          (json_int_t)(t->prompt + t->completion));
    json_t *th = json_object_get(um, "thoughtsTokenCount");
    json_t *cached = json_object_get(um, "cachedContentTokenCount");
    bool th_ok = json_is_integer(th), cached_ok = json_is_integer(cached);

    gw_dialect_tokens(th, &th_ok);
    gw_dialect_tokens(cached, &cached_ok);
    if (th_ok)
        json_object_set_new(u, "completion_tokens_details",
                            json_pack("{s:O}", "reasoning_tokens", th));
    if (cached_ok)
        json_object_set_new(u, "prompt_tokens_details",
                            json_pack("{s:O}", "cached_tokens", cached));
    return u;
}

static json_t *error_body(const char *msg, const char *code)
{
    return json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message", msg, "type", "server_error",
                     "param", "code", code);
}

/* ---- whole answers ------------------------------------------------------------------ */

/* One candidate as a chat choice (index i), or NULL (err set) when it is
 * unusable. */
static json_t *candidate_choice(const gw_call_t *c, gstate_t *g, json_t *cand, size_t i,
                                gw_buf_t *text, gw_buf_t *reason, gw_err_t *err)
{
    json_t *calls = json_array();
    json_t *msg, *choice = NULL;
    fin_t fin;
    const char *fr;

    gw_buf_reset(text);
    gw_buf_reset(reason);
    /* A blocked prompt has no candidates, only promptFeedback.blockReason: an
     * answer (the filter's verdict), not a failure of this upstream. */
    fin = json_is_object(cand) ? map_finish(str_of(cand, "finishReason")) : FIN_FILTER;
    if (fin == FIN_BROKEN) {
        gw_err_set(err, GW_DECLINED, 502, "Gemini produced an unusable function call (%.40s)",
                   str_of(cand, "finishReason"));
        goto out;
    }
    read_parts(c, g, json_object_get(json_object_get(cand, "content"), "parts"), text, reason,
               calls, NULL);
    if (text->len == 0 && reason->len == 0 && json_array_size(calls) == 0 &&
        (fin == FIN_STOP || fin == FIN_NONE)) {
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered an empty candidate");
        goto out;
    }
    fr = finish_name(fin, json_array_size(calls) > 0);
    msg = json_pack("{s:s,s:n}", "role", "assistant", "refusal");
    if (text->len > 0)
        json_object_set_new(msg, "content", json_stringn(text->ptr, text->len));
    else if (json_array_size(calls) > 0 || fin == FIN_FILTER)
        json_object_set_new(msg, "content", json_null());
    else
        json_object_set_new(msg, "content", json_string(""));
    if (reason->len > 0)
        json_object_set_new(msg, "reasoning_content", json_stringn(reason->ptr, reason->len));
    if (json_array_size(calls) > 0)
        json_object_set(msg, "tool_calls", calls);
    choice = json_pack("{s:I,s:o,s:n,s:s}", "index", (json_int_t)i, "message", msg, "logprobs",
                       "finish_reason", fr);
out:
    json_decref(calls);
    return choice;
}

static int gemini_chat_response(const gw_call_t *c, json_t *body, json_t **out, gw_tokens_t *usage,
                                gw_err_t *err)
{
    json_t *cands = json_object_get(body, "candidates");
    json_t *um = json_object_get(body, "usageMetadata");
    const char *block = str_of(json_object_get(body, "promptFeedback"), "blockReason");
    json_t *choices = json_array();
    gw_buf_t text;
    gw_buf_t reason;
    gstate_t g;
    size_t i, chars = 0;
    int rc = GW_DECLINED;

    gstate_init(&g, body);
    gw_buf_init(&text, MAX_TEXT);
    gw_buf_init(&reason, MAX_TEXT);
    if (json_object_get(body, "error") != NULL) {
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered an error");
        goto out;
    }
    if (!json_is_object(json_array_get(cands, 0)) && block == NULL) {
        gw_err_set(err, GW_DECLINED, 502, "Gemini answered without candidates");
        goto out;
    }
    /* candidateCount > 1: every candidate is a choice, by its own index. */
    for (i = 0; i == 0 || i < json_array_size(cands); i++) {
        json_t *cand = json_array_get(cands, i);
        json_t *idx = json_object_get(cand, "index");
        json_t *choice = candidate_choice(c, &g, cand,
                                          json_is_integer(idx) ? (size_t)json_integer_value(idx) : i,
                                          &text, &reason, err);

        if (choice == NULL)
            goto out;
        chars += text.len + reason.len;
        json_array_append_new(choices, choice);
    }
    gw_gemini_read_usage(um, usage);
    if (!usage->known)
        usage->completion = (int64_t)(chars + 3) / 4;
    *out = json_pack("{s:s,s:s,s:I,s:s,s:O,s:o}", "id", g.id, "object", "chat.completion",
                     "created", (json_int_t)g.created, "model", c->model->id, "choices", choices,
                     "usage", usage_json(usage, um));
    rc = 0;
out:
    json_decref(choices);
    gw_buf_dispose(&text);
    gw_buf_dispose(&reason);
    gstate_dispose(&g);
    return rc;
}

/* ---- streams --------------------------------------------------------------------------- */

static json_t *chunk_new(const gw_call_t *c, const gstate_t *g, gw_stream_state_t *st,
                         json_t *delta, const char *finish)
{
    if (!st->sent_role) {
        json_object_set_new(delta, "role", json_string("assistant"));
        st->sent_role = true;
    }
    st->chunks++;
    return json_pack("{s:s,s:s,s:I,s:s,s:[{s:i,s:o,s:n,s:s?}]}", "id", g->id, "object",
                     "chat.completion.chunk", "created", (json_int_t)g->created, "model",
                     c->model->id, "choices", "index", 0, "delta", delta, "logprobs",
                     "finish_reason", finish);
}

static gw_ev_t gemini_chat_event(const gw_call_t *c, gw_stream_state_t *st, gw_str_t data,
                                 json_t *out_chunks, json_t **err_body)
{
    json_t *frame;
    json_t *cand;
    json_t *calls;
    json_t *delta;
    gstate_t *g;
    gw_buf_t text;
    gw_buf_t reason;
    const char *block;
    size_t before = json_array_size(out_chunks);
    fin_t fin;

    /* Gemini sends no [DONE]; tolerated all the same. */
    gw_ev_t ev = gw_dialect_frame(st, data, &frame, err_body);
    if (ev != GW_EV_CHUNKS)
        return ev;
    g = st->dialect_state;
    if (g == NULL) {
        g = gw_xmalloc(sizeof(*g));
        gstate_init(g, frame);
        st->dialect_state = g;
        st->dialect_free = gstate_free;
    }
    /* Cumulative on every frame: the last one wins. */
    gw_gemini_read_usage(json_object_get(frame, "usageMetadata"), &st->usage);
    cand = json_array_get(json_object_get(frame, "candidates"), 0);
    block = str_of(json_object_get(frame, "promptFeedback"), "blockReason");
    if (g->finished || (!json_is_object(cand) && block == NULL)) {
        json_decref(frame);
        return GW_EV_SKIP;
    }
    if (!json_is_object(cand)) {
        json_array_append_new(out_chunks, chunk_new(c, g, st, json_object(), "content_filter"));
        st->saw_finish = true;
        g->finished = true;
        json_decref(frame);
        return GW_EV_CHUNKS;
    }
    fin = map_finish(str_of(cand, "finishReason"));
    if (fin == FIN_BROKEN) {
        *err_body =
            error_body("Gemini produced an unusable function call", "malformed_function_call");
        json_decref(frame);
        return GW_EV_ERROR;
    }
    gw_buf_init(&text, MAX_TEXT);
    gw_buf_init(&reason, MAX_TEXT);
    calls = json_array();
    read_parts(c, g, json_object_get(json_object_get(cand, "content"), "parts"), &text, &reason,
               calls, st->tool_ids);
    delta = json_object();
    if (reason.len > 0)
        json_object_set_new(delta, "reasoning_content", json_stringn(reason.ptr, reason.len));
    if (text.len > 0)
        json_object_set_new(delta, "content", json_stringn(text.ptr, text.len));
    if (json_array_size(calls) > 0) {
        json_object_set(delta, "tool_calls", calls);
        st->saw_tool_calls = true;
    }
    if (json_object_size(delta) > 0) {
        json_array_append_new(out_chunks, chunk_new(c, g, st, delta, NULL));
        g->emitted = true;
    } else {
        json_decref(delta);
    }
    if (fin != FIN_NONE) {
        g->finished = true;
        /* A bare STOP with nothing before it is no answer: no chunk, no finish,
         * so the proxy sees an empty stream and tries elsewhere. */
        if (g->emitted || fin != FIN_STOP) {
            json_array_append_new(out_chunks, chunk_new(c, g, st, json_object(),
                                                        finish_name(fin, st->saw_tool_calls)));
            st->saw_finish = true;
        }
    }
    json_decref(calls);
    gw_buf_dispose(&text);
    gw_buf_dispose(&reason);
    json_decref(frame);
    return json_array_size(out_chunks) > before ? GW_EV_CHUNKS : GW_EV_SKIP;
}

/* ---- key check ----------------------------------------------------------------------- */

/* GET {base}/v1beta/models: an unmetered listing that answers 400
 * API_KEY_INVALID for a bad key. */
static int gemini_probe_request(const gw_provider_t *p, const char *secret, const char *account_id,
                                gw_http_out_t *out)
{
    (void)account_id;
    if (strcmp(p->probe, "models") != 0)
        return GW_DECLINED;
    out->url = model_url(p, NULL, "");
    out->post = false;
    if (secret != NULL)
        gw_http_out_header(out, "x-goog-api-key", secret);
    return 0;
}

const gw_dialect_t gw_dialect_gemini = {
    .name = "gemini",
    .inline_images = true,
    .eof_ends_stream = true,
    .several_choices = true, /* candidateCount */
    .chat_request = gemini_chat_request,
    .chat_response = gemini_chat_response,
    .chat_event = gemini_chat_event,
    .probe_request = gemini_probe_request,
    .media_request = gw_gemini_media_request,
    .media_response = gw_gemini_media_response,
};
