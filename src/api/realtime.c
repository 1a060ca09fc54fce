/*
 * POST /v1/realtime/sessions: an OpenAI-style realtime session object whose
 * client_secret is a short-lived, single-use Gemini Live token minted with
 * the session set-up (model, instructions, voice, modalities,
 * transcription, tools) locked in. The browser connects to connect_url with
 * it; the long-lived provider key never leaves the gateway.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/media.h"
#include "providers/media_ops.h"

#define TOKEN_TTL_S 1800     /* the session may run this long */
#define NEW_SESSION_TTL_S 60 /* and must start within this */
#define MAX_TOOLS 128
#define GA_SECRET_TTL_S 600 /* client_secrets: OpenAI's default expiry */

static json_int_t secret_expiry(json_t *r)
{
    json_t *t = json_object_get(r, "new_session_expires_at");

    if (!json_is_integer(t))
        t = json_object_get(r, "expires_at");
    return json_integer_value(t);
}

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    json_t *session = json_object_get(job->params, "session");
    json_t *r = res->json;
    const char *token = json_string_value(json_object_get(r, "token"));
    json_t *answer = json_deep_copy(session);
    unsigned char rnd[12];
    char id[32];
    size_t off;

    if (token == NULL) {
        json_decref(answer);
        gw_err_set(err, GW_DECLINED, 0, "no token in the answer");
        return GW_DECLINED;
    }
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        json_decref(answer);
        gw_err_set(err, GW_DECLINED, 0, "no randomness for the session id");
        return GW_DECLINED;
    }
    off = (size_t)snprintf(id, sizeof(id), "sess_");
    for (size_t i = 0; i < sizeof(rnd); i++)
        off += (size_t)snprintf(id + off, sizeof(id) - off, "%02x", rnd[i]);
    json_object_set_new(answer, "id", json_string(id));
    json_object_set_new(answer, "object", json_string("realtime.session"));
    json_object_set_new(answer, "model", json_string(c->model->id));
    if (json_object_get(answer, "modalities") == NULL)
        json_object_set_new(answer, "modalities", json_pack("[ss]", "audio", "text"));
    if (json_object_get(answer, "tools") == NULL)
        json_object_set_new(answer, "tools", json_array());
    json_object_set_new(answer, "input_audio_format", json_string("pcm16"));
    json_object_set_new(answer, "output_audio_format", json_string("pcm16"));
    /* The secret expires for new sessions (what OpenAI's expires_at means);
     * a session opened in time may run until the token's own expiry. */
    json_object_set_new(answer, "client_secret",
                        json_pack("{s:O, s:I}", "value", json_object_get(r, "token"), "expires_at",
                                  secret_expiry(r)));
    json_object_set_new(answer, "connect_url",
                        json_incref(json_object_get(r, "connect_url")
                                        ? json_object_get(r, "connect_url")
                                        : json_null()));
    json_object_set_new(answer, "config",
                        json_pack("{s:s, s:s, s:O, s:o}", "provider", c->model->provider->id,
                                  "model", c->model->id, "voice",
                                  json_object_get(job->params, "voice")
                                      ? json_object_get(job->params, "voice")
                                      : json_null(),
                                  "tools",
                                  json_is_array(json_object_get(r, "tools"))
                                      ? json_incref(json_object_get(r, "tools"))
                                      : json_array()));
    return gw__media_reply_json(reply, answer, err);
}

/* The GA answer: {value, expires_at, session} with the session echoed in
 * its GA shape plus what the gateway adds (id, connect_url, config). */
static int render_ga(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                     gw_reply_t *reply, gw_err_t *err)
{
    gw_reply_t beta = {.content_type = ""};
    json_t *obj;
    json_t *answer;
    int rc;

    gw_buf_init(&beta.body, reply->body.max);
    rc = render(job, c, res, &beta, err);
    obj = rc == 0 ? json_loadb(beta.body.ptr, beta.body.len, 0, NULL) : NULL;
    gw_buf_dispose(&beta.body);
    if (obj == NULL) {
        gw_err_set(err, GW_DECLINED, 0, "could not build the session");
        return GW_DECLINED;
    }
    {
        json_t *secret = json_object_get(obj, "client_secret");
        /* The GA session, plus where to connect and what was locked in. */
        answer = json_pack("{s:O, s:O, s:{s:s, s:O, s:s, s:O, s:O, s:O, s:O}}", "value",
                           json_object_get(secret, "value"), "expires_at",
                           json_object_get(secret, "expires_at"), "session", "type", "realtime",
                           "id", json_object_get(obj, "id"), "object", "realtime.session",
                           "model", json_object_get(obj, "model"), "tools",
                           json_object_get(obj, "tools"), "connect_url",
                           json_object_get(obj, "connect_url"), "config",
                           json_object_get(obj, "config"));
    }
    json_decref(obj);
    if (answer == NULL) {
        gw_err_set(err, GW_DECLINED, 0, "could not build the session");
        return GW_DECLINED;
    }
    return gw__media_reply_json(reply, answer, err);
}

/* Flat Realtime tools and chat's nested form are both taken; each needs a name. */
static bool check_tools(gw_req_t *req, json_t *tools)
{
    char param[48];

    if (tools == NULL || json_is_null(tools))
        return true;
    if (!json_is_array(tools) || json_array_size(tools) > MAX_TOOLS) {
        gw__media_bad(req, "tools", "'tools' must be an array of at most %d function tools.",
                      MAX_TOOLS);
        return false;
    }
    for (size_t i = 0; i < json_array_size(tools); i++) {
        json_t *t = json_array_get(tools, i);
        json_t *fn = json_object_get(t, "function");
        const char *type = json_string_value(json_object_get(t, "type"));
        const char *name = json_string_value(json_object_get(json_is_object(fn) ? fn : t, "name"));
        json_t *params = json_object_get(json_is_object(fn) ? fn : t, "parameters");

        snprintf(param, sizeof(param), "tools[%zu]", i);
        if (!json_is_object(t) || type == NULL || strcmp(type, "function") != 0) {
            gw__media_bad(req, param, "%s must be a {\"type\": \"function\", ...} object.", param);
            return false;
        }
        if (name == NULL || name[0] == '\0') {
            gw__media_bad(req, param, "%s has no function name.", param);
            return false;
        }
        if (params != NULL && !json_is_null(params) && !json_is_object(params)) {
            gw__media_bad(req, param, "%s.parameters must be a JSON Schema object.", param);
            return false;
        }
    }
    return true;
}

/* Whether tools (either OpenAI form) declares a function of this name. */
static bool tool_declared(json_t *tools, const char *name)
{
    for (size_t i = 0; i < json_array_size(tools); i++) {
        json_t *t = json_array_get(tools, i);
        json_t *fn = json_object_get(t, "function");
        const char *n = json_string_value(json_object_get(json_is_object(fn) ? fn : t, "name"));

        if (n != NULL && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static bool check_session(gw_req_t *req, json_t *s)
{
    json_t *mods = json_object_get(s, "modalities");
    json_t *temp = json_object_get(s, "temperature");
    json_t *tc = json_object_get(s, "tool_choice");
    const char *fmt;

    if (mods != NULL && !json_is_null(mods)) {
        if (!json_is_array(mods) || json_array_size(mods) == 0) {
            gw__media_bad(req, "modalities",
                          "'modalities' must be a non-empty array of \"audio\" "
                          "and \"text\".");
            return false;
        }
        for (size_t i = 0; i < json_array_size(mods); i++) {
            const char *m = json_string_value(json_array_get(mods, i));
            if (m == NULL || (strcmp(m, "audio") != 0 && strcmp(m, "text") != 0)) {
                gw__media_bad(req, "modalities",
                              "'modalities' may hold only \"audio\" and "
                              "\"text\".");
                return false;
            }
        }
    }
    if (json_object_get(s, "instructions") != NULL &&
        !json_is_null(json_object_get(s, "instructions")) &&
        !json_is_string(json_object_get(s, "instructions"))) {
        gw__media_bad(req, "instructions", "'instructions' must be a string.");
        return false;
    }
    if (temp != NULL && !json_is_null(temp) && !json_is_number(temp)) {
        gw__media_bad(req, "temperature", "'temperature' must be a number.");
        return false;
    }
    if (tc != NULL && !json_is_null(tc) && !json_is_string(tc) && !json_is_object(tc)) {
        gw__media_bad(req, "tool_choice",
                      "'tool_choice' must be \"auto\", \"none\", "
                      "\"required\" or a function object.");
        return false;
    }
    for (size_t i = 0; i < 2; i++) {
        const char *field = i == 0 ? "input_audio_transcription" : "output_audio_transcription";
        json_t *v = json_object_get(s, field);

        if (v != NULL && !json_is_null(v) && !json_is_object(v) && !json_is_boolean(v)) {
            gw__media_bad(req, field, "'%s' must be an object, true, false or null.", field);
            return false;
        }
    }
    if (json_is_object(tc) &&
        (!json_is_string(json_object_get(tc, "type")) ||
         strcmp(json_string_value(json_object_get(tc, "type")), "function") != 0 ||
         !json_is_string(json_object_get(tc, "name")))) {
        gw__media_bad(req, "tool_choice",
                      "A 'tool_choice' object is {\"type\": \"function\", \"name\": …}.");
        return false;
    }
    if (json_is_object(tc) && !tool_declared(json_object_get(s, "tools"),
                                             json_string_value(json_object_get(tc, "name")))) {
        gw__media_bad(req, "tool_choice", "'tool_choice' names the function '%.64s', which "
                                          "'tools' does not declare.",
                      json_string_value(json_object_get(tc, "name")));
        return false;
    }
    if (json_is_string(tc) && strcmp(json_string_value(tc), "auto") != 0 &&
        strcmp(json_string_value(tc), "none") != 0 &&
        strcmp(json_string_value(tc), "required") != 0) {
        gw__media_bad(req, "tool_choice",
                      "'tool_choice' must be \"auto\", \"none\", "
                      "\"required\" or a function object.");
        return false;
    }
    fmt = json_string_value(json_object_get(s, "input_audio_format"));
    if (fmt != NULL && strcmp(fmt, "pcm16") != 0) {
        gw__media_bad(req, "input_audio_format",
                      "Only \"pcm16\" audio is supported (Gemini Live "
                      "takes 16-bit PCM).");
        return false;
    }
    fmt = json_string_value(json_object_get(s, "output_audio_format"));
    if (fmt != NULL && strcmp(fmt, "pcm16") != 0) {
        gw__media_bad(req, "output_audio_format", "Only \"pcm16\" audio is supported.");
        return false;
    }
    return check_tools(req, json_object_get(s, "tools"));
}

/* Validates a beta-shaped session and starts minting; body is taken. ga
 * selects the answer's shape (client_secrets) over the beta session object. */
static void start_session(gw_gateway_t *gw, gw_req_t *req, json_t *body, bool ga,
                          int64_t new_session_ttl_s, const char *endpoint)
{
    gw_media_job_t *job = gw__media_job_new(gw, GW_OP_REALTIME);
    const char *model;
    json_t *v = json_object_get(body, "voice");

    job->render = ga ? render_ga : render;
    if (!check_session(req, body))
        goto fail;
    if (v != NULL && !json_is_null(v)) {
        const char *g = json_is_string(v) ? gw_gemini_voice(json_string_value(v)) : NULL;
        if (g == NULL) {
            gw__media_bad(req, "voice",
                          "Unsupported voice: use an OpenAI voice (alloy, ash, "
                          "ballad, coral, echo, sage, shimmer, verse, marin, cedar...) "
                          "or a Gemini voice name.");
            goto fail;
        }
        json_object_set_new(job->params, "voice", json_string(g));
    }
    model = gw__media_model(gw, req, json_string_value(json_object_get(body, "model")), "realtime",
                            "realtime sessions");
    if (model == NULL)
        goto fail;
    json_object_set(job->params, "session", body);
    json_object_set_new(job->params, "ttl_s", json_integer(TOKEN_TTL_S));
    json_object_set_new(job->params, "new_session_ttl_s", json_integer(new_session_ttl_s));
    json_decref(body);
    gw__media_start(req, job, endpoint, model, "realtime", GW_CAP_REALTIME, 1);
    return;
fail:
    json_decref(body);
    gw__media_job_free(job);
}

void api_realtime_sessions(gw_gateway_t *gw, gw_req_t *req)
{
    /* An empty body is a session with every default. */
    json_t *body = gw_req_body(req).len == 0 ? json_object() : gw__media_json_body(req);

    if (body != NULL)
        start_session(gw, req, body, false, NEW_SESSION_TTL_S, "/v1/realtime/sessions");
}

/* The GA session shape (audio.input / audio.output, output_modalities) in
 * the beta names the rest of this file checks and the dialect reads. */
static json_t *beta_session(gw_req_t *req, json_t *ga)
{
    static const char *const same[] = {"model", "instructions", "tools", "tool_choice",
                                       "temperature"};
    json_t *in = json_object_get(json_object_get(ga, "audio"), "input");
    json_t *out = json_object_get(json_object_get(ga, "audio"), "output");
    json_t *mods = json_object_get(ga, "output_modalities");
    json_t *fmt = json_object_get(in, "format");
    json_t *b = json_object();
    json_t *v;

    for (size_t i = 0; i < GW_ARRAY_LEN(same); i++)
        if ((v = json_object_get(ga, same[i])) != NULL)
            json_object_set(b, same[i], v);
    if (json_is_integer(json_object_get(ga, "max_output_tokens")))
        json_object_set(b, "max_response_output_tokens", json_object_get(ga, "max_output_tokens"));
    if (json_is_array(mods)) {
        bool audio = false;
        for (size_t i = 0; i < json_array_size(mods); i++)
            audio = audio || (json_is_string(json_array_get(mods, i)) &&
                              strcmp(json_string_value(json_array_get(mods, i)), "audio") == 0);
        json_object_set_new(b, "modalities",
                            audio ? json_pack("[ss]", "audio", "text") : json_pack("[s]", "text"));
    }
    if ((v = json_object_get(out, "voice")) != NULL)
        json_object_set(b, "voice", v);
    if (json_is_object(json_object_get(in, "transcription")))
        json_object_set(b, "input_audio_transcription", json_object_get(in, "transcription"));
    if (json_is_object(json_object_get(in, "turn_detection")) ||
        json_is_null(json_object_get(in, "turn_detection")))
        json_object_set(b, "turn_detection", json_object_get(in, "turn_detection"));
    if (fmt != NULL && !json_is_null(fmt)) {
        const char *t = json_string_value(json_object_get(fmt, "type"));
        if (t == NULL || strcmp(t, "audio/pcm") != 0) {
            json_decref(b);
            gw__media_bad(req, "session.audio.input.format",
                          "Only {\"type\": \"audio/pcm\"} input is supported (Gemini Live "
                          "takes 16-bit PCM).");
            return NULL;
        }
    }
    return b;
}

/* POST /v1/realtime/client_secrets (the GA form of the same minting). */
void api_realtime_client_secrets(gw_gateway_t *gw, gw_req_t *req)
{
    json_t *body = gw_req_body(req).len == 0 ? json_object() : gw__media_json_body(req);
    json_t *session;
    json_t *after;
    json_t *secs;
    const char *type;
    json_t *beta;
    int64_t ttl = GA_SECRET_TTL_S;

    if (body == NULL)
        return;
    session = json_object_get(body, "session");
    after = json_object_get(body, "expires_after");
    secs = json_object_get(after, "seconds");
    type = json_string_value(json_object_get(session, "type"));
    if (session != NULL && !json_is_object(session)) {
        gw__media_bad(req, "session", "'session' must be an object.");
        goto out;
    }
    if (type != NULL && strcmp(type, "realtime") != 0) {
        gw__media_bad(req, "session.type",
                      "Only realtime sessions are supported (not transcription sessions).");
        goto out;
    }
    if (secs != NULL && (!json_is_integer(secs) || json_integer_value(secs) < 10 ||
                         json_integer_value(secs) > 7200)) {
        gw__media_bad(req, "expires_after.seconds",
                      "'expires_after.seconds' must be an integer from 10 to 7200.");
        goto out;
    }
    if (json_is_integer(secs))
        ttl = json_integer_value(secs);
    beta = beta_session(req, session);
    if (beta != NULL)
        start_session(gw, req, beta, true, ttl, "/v1/realtime/client_secrets");
out:
    json_decref(body);
}
