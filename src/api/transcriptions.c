/*
 * POST /v1/audio/transcriptions and /v1/audio/translations: a multipart
 * upload (file up to 25 MB) to a speech-to-text model. Upstreams are always
 * asked for their verbose form (segments, words); every response_format is
 * rendered here from it, so srt and vtt work even where the provider has
 * neither (Groq).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "api/media.h"

#define MAX_AUDIO_FILE (25u << 20)

typedef enum { FMT_JSON, FMT_TEXT, FMT_SRT, FMT_VTT, FMT_VERBOSE } stt_format_t;

static const char *const format_names[] = {"json", "text", "srt", "vtt", "verbose_json"};

typedef struct stt_state {
    stt_format_t fmt;
    bool translate;
    bool words;
    bool segments;
} stt_state_t;

/* Extensions OpenAI accepts, with the type to send upstream. */
static const struct {
    const char *ext;
    const char *mime;
} audio_types[] = {
    {"flac", "audio/flac"}, {"mp3", "audio/mpeg"},  {"mp4", "audio/mp4"}, {"mpeg", "audio/mpeg"},
    {"mpga", "audio/mpeg"}, {"m4a", "audio/mp4"},   {"ogg", "audio/ogg"}, {"opus", "audio/ogg"},
    {"wav", "audio/wav"},   {"webm", "audio/webm"},
};

static const char *audio_type(const char *filename)
{
    const char *dot = filename != NULL ? strrchr(filename, '.') : NULL;

    if (dot == NULL)
        return NULL;
    for (size_t i = 0; i < GW_ARRAY_LEN(audio_types); i++)
        if (strcasecmp(dot + 1, audio_types[i].ext) == 0)
            return audio_types[i].mime;
    return NULL;
}

/* 00:01:02,345 (srt) or 00:01:02.345 (vtt); a provider's odd time (negative,
 * NaN, absurdly large) is held to 0 .. 99:59:59.999. */
static void put_time(gw_buf_t *b, double t, char sep)
{
    long long ms = t > 0 ? llround(GW_MIN(t, 359999.999) * 1000.0) : 0;

    gw_buf_printf(b, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                  sep, ms % 1000);
}

/* Subtitles from the segments; one cue over the whole text when there are none. */
static void render_cues(gw_buf_t *b, json_t *v, bool vtt)
{
    json_t *segs = json_object_get(v, "segments");
    size_t n = json_array_size(segs);
    json_t *whole = NULL;

    if (vtt)
        gw_buf_appends(b, "WEBVTT\n\n");
    if (n == 0) {
        whole = json_pack("[{s:f, s:f, s:s}]", "start", 0.0, "end",
                          json_number_value(json_object_get(v, "duration")), "text",
                          json_string_value(json_object_get(v, "text")) != NULL
                              ? json_string_value(json_object_get(v, "text"))
                              : "");
        segs = whole;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(segs, i);
        const char *text = json_string_value(json_object_get(s, "text"));
        if (text == NULL)
            text = "";
        while (*text == ' ')
            text++;
        if (!vtt)
            gw_buf_printf(b, "%zu\n", i + 1);
        put_time(b, json_number_value(json_object_get(s, "start")), vtt ? '.' : ',');
        gw_buf_appends(b, " --> ");
        put_time(b, json_number_value(json_object_get(s, "end")), vtt ? '.' : ',');
        gw_buf_printf(b, "\n%s\n\n", text);
    }
    json_decref(whole);
}

static int render(gw_media_job_t *job, const gw_cand_t *c, gw_media_result_t *res,
                  gw_reply_t *reply, gw_err_t *err)
{
    stt_state_t *st = job->state;
    json_t *v = res->json;
    const char *text = json_string_value(json_object_get(v, "text"));
    const char *lang = json_string_value(json_object_get(v, "language"));
    json_t *out = NULL;

    (void)c;
    if (text == NULL) {
        gw_err_set(err, GW_DECLINED, 0, "upstream returned no transcript");
        return GW_DECLINED;
    }
    switch (st->fmt) {
    case FMT_TEXT:
        snprintf(reply->content_type, sizeof(reply->content_type), "text/plain; charset=utf-8");
        gw_buf_printf(&reply->body, "%s\n", text);
        return 0;
    case FMT_SRT:
    case FMT_VTT:
        snprintf(reply->content_type, sizeof(reply->content_type), "%s; charset=utf-8",
                 st->fmt == FMT_SRT ? "application/x-subrip" : "text/vtt");
        render_cues(&reply->body, v, st->fmt == FMT_VTT);
        return 0;
    case FMT_JSON:
        out = json_pack("{s:s}", "text", text);
        break;
    case FMT_VERBOSE:
        out = json_pack("{s:s, s:s, s:f, s:s}", "task", st->translate ? "translate" : "transcribe",
                        "language", lang != NULL ? lang : "unknown", "duration",
                        json_number_value(json_object_get(v, "duration")), "text", text);
        if (st->segments)
            json_object_set_new(out, "segments",
                                json_object_get(v, "segments")
                                    ? json_incref(json_object_get(v, "segments"))
                                    : json_array());
        if (st->words)
            json_object_set_new(out, "words",
                                json_object_get(v, "words")
                                    ? json_incref(json_object_get(v, "words"))
                                    : json_array());
        break;
    }
    return gw__media_reply_json(reply, out, err);
}

static bool read_options(gw_req_t *req, gw_media_job_t *job, stt_state_t *st)
{
    const gw_form_t *f = &job->form;
    const char *fmt = gw_form_value(f, "response_format");
    const char *temp = gw_form_value(f, "temperature");
    const char *lang = gw_form_value(f, "language");
    const char *prompt = gw_form_value(f, "prompt");
    const char *stream = gw_form_value(f, "stream");
    const gw_form_item_t *g;

    st->fmt = FMT_JSON;
    if (fmt != NULL) {
        size_t i;
        for (i = 0; i < GW_ARRAY_LEN(format_names); i++)
            if (strcmp(fmt, format_names[i]) == 0)
                break;
        if (i == GW_ARRAY_LEN(format_names)) {
            gw__media_bad(req, "response_format",
                          "'response_format' must be json, text, srt, "
                          "verbose_json or vtt.");
            return false;
        }
        st->fmt = (stt_format_t)i;
    }
    if (stream != NULL && strcmp(stream, "false") != 0) {
        gw__media_bad(req, "stream", "Streaming transcriptions are not supported.");
        return false;
    }
    if (temp != NULL) {
        char *end;
        double t = strtod(temp, &end);
        if (end == temp || *end != '\0' || !(t >= 0.0 && t <= 1.0)) {
            gw__media_bad(req, "temperature", "'temperature' must be a number from 0 to 1.");
            return false;
        }
        json_object_set_new(job->params, "temperature", json_real(t));
    }
    if (lang != NULL && lang[0] != '\0') {
        if (st->translate) {
            gw__media_bad(req, "language",
                          "Translations take no 'language' (the output is "
                          "English).");
            return false;
        }
        if (strlen(lang) > 16) {
            gw__media_bad(req, "language",
                          "'language' must be an ISO-639-1 code such as "
                          "\"en\".");
            return false;
        }
        json_object_set_new(job->params, "language", json_string(lang));
    }
    if (prompt != NULL && prompt[0] != '\0')
        json_object_set_new(job->params, "prompt", json_string(prompt));
    /* Segments by default; words only when asked (and then no segments unless asked too). */
    st->segments = true;
    for (size_t i = 0; (g = gw_form_item(f, "timestamp_granularities", i)) != NULL; i++) {
        const char *gv = g->data.ptr != NULL ? g->data.ptr : "";
        if (i == 0)
            st->segments = false;
        if (strcmp(gv, "word") == 0) {
            st->words = true;
        } else if (strcmp(gv, "segment") == 0) {
            st->segments = true;
        } else {
            gw__media_bad(req, "timestamp_granularities",
                          "'timestamp_granularities[]' values "
                          "must be \"word\" or \"segment\".");
            return false;
        }
    }
    json_object_set_new(job->params, "translate", json_boolean(st->translate));
    json_object_set_new(job->params, "words", json_boolean(st->words));
    json_object_set_new(job->params, "segments", json_boolean(st->segments));
    return true;
}

void api_audio_transcriptions(gw_gateway_t *gw, gw_req_t *req, bool translate)
{
    gw_media_job_t *job = gw__media_job_new(gw, GW_OP_TRANSCRIBE);
    stt_state_t *st = gw_xcalloc(1, sizeof(*st));
    gw_form_item_t *file;
    const char *model_name;
    const char *model;
    const char *mime;

    job->state = st;
    job->state_free = free;
    job->render = render;
    job->render_pure = true;
    st->translate = translate;
    if (!gw__media_form_body(req, &job->form, MAX_AUDIO_FILE))
        goto fail;
    file = (gw_form_item_t *)gw_form_item(&job->form, "file", 0);
    if (file == NULL || file->filename == NULL) {
        gw__media_missing(req, "file", "You must upload the audio as the 'file' field.");
        goto fail;
    }
    if (file->data.len == 0) {
        gw__media_bad(req, "file", "The uploaded audio file is empty.");
        goto fail;
    }
    mime = audio_type(file->filename);
    if (mime == NULL) {
        gw__media_bad(req, "file",
                      "Unsupported audio file '%.80s'. Supported formats: flac, "
                      "mp3, mp4, mpeg, mpga, m4a, ogg, opus, wav, webm.",
                      file->filename);
        goto fail;
    }
    if (file->content_type == NULL || strncmp(file->content_type, "audio/", 6) != 0) {
        free(file->content_type);
        file->content_type = gw_xstrdup(mime);
    }
    model_name = gw_form_value(&job->form, "model");
    if (model_name == NULL || model_name[0] == '\0') {
        gw__media_missing(req, "model",
                          "You must provide a model (e.g. \"whisper-1\" or a "
                          "catalog speech-to-text model).");
        goto fail;
    }
    if (!read_options(req, job, st))
        goto fail;
    model =
        gw__media_model(gw, req, model_name, "stt", translate ? "translations" : "transcriptions");
    if (model == NULL)
        goto fail;
    gw__media_job_file(job, "file", file);
    gw__media_start(req, job, translate ? "/v1/audio/translations" : "/v1/audio/transcriptions",
                    model, "stt", GW_CAP_STT, (int64_t)(file->data.len / 16000) + 1);
    return;
fail:
    gw__media_job_free(job);
}
