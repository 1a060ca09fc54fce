/*
 * POST /v1/audio/speech: text in, audio bytes out in the format asked for
 * (mp3 by default, like OpenAI; opus, flac, wav, pcm). Providers hand back
 * raw PCM (Gemini) that is time-stretched for `speed` and encoded here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/media.h"
#include "media/audio.h"
#include "providers/media_ops.h"

#define MAX_SPEECH_INPUT 4096 /* OpenAI's limit, in characters */
#define PCM_RATE_DEFAULT 24000u

typedef struct speech_state {
    gw_audio_fmt_t fmt;
    double speed;
} speech_state_t;

/* Characters, not bytes: continuation bytes (10xxxxxx) are not counted. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    speech_state_t *st = job->state;
    int16_t *pcm = NULL;
    int16_t *fast = NULL;
    size_t n = 0;
    unsigned rate;
    int rc;

    (void)c;
    if (gw_audio_pcm_mime_rate(res->mime, PCM_RATE_DEFAULT, &rate) != 0) {
        /* Already encoded upstream: only usable as is, in the format asked for. */
        if (strcmp(res->mime, gw_audio_content_type(st->fmt)) != 0 || st->speed != 1.0) {
            gw_err_set(err, GW_DECLINED, 0, "upstream audio is %.40s, not what was asked",
                       res->mime);
            return GW_DECLINED;
        }
        snprintf(reply->content_type, sizeof(reply->content_type), "%s", res->mime);
        return gw_buf_append(&reply->body, res->bytes.ptr, res->bytes.len) == 0 ? 0 : GW_DECLINED;
    }
    if (res->bytes.len == 0) {
        gw_err_set(err, GW_DECLINED, 0, "upstream returned no audio");
        return GW_DECLINED;
    }
    if (gw_audio_samples_from_s16le(res->bytes.ptr, res->bytes.len, &pcm, &n, err) != 0)
        return GW_DECLINED;
    if (st->speed != 1.0) {
        size_t nf = 0;
        if (gw_audio_change_speed(pcm, n, rate, st->speed, &fast, &nf, err) != 0) {
            free(pcm);
            return GW_DECLINED;
        }
        free(pcm);
        pcm = fast;
        n = nf;
    }
    rc = gw_audio_encode(st->fmt, pcm, n, rate, &reply->body, err);
    free(pcm);
    if (rc != 0)
        return GW_DECLINED;
    snprintf(reply->content_type, sizeof(reply->content_type), "%s",
             gw_audio_content_type(st->fmt));
    return 0;
}

void api_audio_speech(gw_gateway_t *gw, gw_req_t *req)
{
    json_t *body = gw__media_json_body(req);
    gw_media_job_t *job = NULL;
    speech_state_t *st;
    const char *model;
    const char *input;
    const char *voice;
    const char *gvoice;
    const char *fmt;
    const char *instructions;
    const char *stream_format;
    json_t *speed;
    json_t *v;

    if (body == NULL)
        return;
    job = gw__media_job_new(gw, GW_OP_SPEECH);
    st = gw_xcalloc(1, sizeof(*st));
    job->state = st;
    job->state_free = free;
    job->render = render;
    job->render_off_loop = true; /* encoding takes up to ~10 ms per second of audio */
    st->fmt = GW_AUDIO_MP3;
    st->speed = 1.0;
    input = json_string_value(json_object_get(body, "input"));
    if (input == NULL || input[0] == '\0') {
        gw__media_missing(req, "input", "You must provide the text to speak in 'input'.");
        goto fail;
    }
    if (utf8_chars(input) > MAX_SPEECH_INPUT) {
        gw__media_bad(req, "input", "'input' is longer than %d characters.", MAX_SPEECH_INPUT);
        goto fail;
    }
    /* voice: a name, or {"id": name} in newer SDKs */
    v = json_object_get(body, "voice");
    voice = json_is_object(v) ? json_string_value(json_object_get(v, "id")) : json_string_value(v);
    if (voice == NULL || voice[0] == '\0') {
        gw__media_missing(req, "voice",
                          "You must provide a voice (e.g. \"alloy\", or a Gemini "
                          "voice such as \"Kore\").");
        goto fail;
    }
    gvoice = gw_gemini_voice(voice);
    if (gvoice == NULL) {
        gw__media_bad(req, "voice",
                      "Unsupported voice '%.60s'. Use an OpenAI voice (alloy, ash, "
                      "ballad, coral, echo, fable, onyx, nova, sage, shimmer, "
                      "verse, marin, cedar) or a Gemini voice name.",
                      voice);
        goto fail;
    }
    fmt = json_string_value(json_object_get(body, "response_format"));
    if (json_object_get(body, "response_format") != NULL &&
        !json_is_null(json_object_get(body, "response_format")) &&
        (fmt == NULL || gw_audio_format_parse(fmt, &st->fmt) != 0)) {
        gw__media_bad(req, "response_format",
                      "Unsupported response_format '%.20s': use mp3, "
                      "opus, flac, wav or pcm.",
                      fmt ? fmt : "?");
        goto fail;
    }
    speed = json_object_get(body, "speed");
    if (speed != NULL && !json_is_null(speed)) {
        double s = json_number_value(speed);
        if (!json_is_number(speed) || !(s >= GW_AUDIO_SPEED_MIN && s <= GW_AUDIO_SPEED_MAX)) {
            gw__media_bad(req, "speed", "'speed' must be a number from 0.25 to 4.0.");
            goto fail;
        }
        st->speed = s;
    }
    stream_format = json_string_value(json_object_get(body, "stream_format"));
    if (stream_format != NULL && strcmp(stream_format, "audio") != 0) {
        gw__media_bad(req, "stream_format", "Only stream_format \"audio\" is supported.");
        goto fail;
    }
    instructions = json_string_value(json_object_get(body, "instructions"));
    if (json_object_get(body, "model") == NULL || !json_is_string(json_object_get(body, "model"))) {
        gw__media_missing(req, "model",
                          "You must provide a model (a TTS model id, or \"auto\"; "
                          "tts-1 and gpt-4o-mini-tts pick any).");
        goto fail;
    }
    model = gw__media_model(gw, req, json_string_value(json_object_get(body, "model")), "tts",
                            "speech");
    if (model == NULL)
        goto fail;
    json_object_set_new(job->params, "input", json_string(input));
    json_object_set_new(job->params, "voice", json_string(gvoice));
    json_object_set_new(job->params, "openai_voice", json_string(voice));
    if (instructions != NULL && instructions[0] != '\0')
        json_object_set_new(job->params, "instructions", json_string(instructions));
    if (st->speed != 1.0)
        json_object_set_new(job->params, "speed", json_real(st->speed));
    gw__media_start(req, job, "/v1/audio/speech", model, "tts", GW_CAP_TTS,
                    (int64_t)strlen(input) / 4 + 1);
    json_decref(body);
    return;
fail:
    json_decref(body);
    gw__media_job_free(job);
}
