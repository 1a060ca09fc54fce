/*
 * The Test Lab's sweep (docs/admin-api.md): each chosen model gets the
 * cheapest request its kind allows, one at a time, through the gateway's own
 * /v1 on this machine (so the ledger, the cooldowns and the request log see it
 * like any client's), with X-FreeLLMAPI-No-Fallover so the answer is that
 * model's. A budget bounds the upstream requests; a model whose cap is
 * reached is skipped by the router itself (no attempt). A model found good
 * leaves its manual quarantine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "api/fallback.h"
#include "api/respond.h"
#include "core/clock.h"
#include "media/audio.h"
#include "upstream/client.h"

#define ANSWER_KEEP (64 * 1024) /* of an answer: enough for an error's JSON */
#define CALL_TIMEOUT_MS 120000

typedef enum { ITEM_PENDING, ITEM_OK, ITEM_FAILED, ITEM_SKIPPED } item_status_t;

typedef struct item {
    const gw_model_t *m;
    item_status_t status;
    char error_class[64];
    char message[300];
    int64_t latency_ms;
} item_t;

struct gw_admin_sweep {
    gw_admin_t *ad;
    unsigned id;
    bool running, cancelled;
    int64_t started_ms, finished_ms;
    int64_t budget, used;
    item_t *items;
    size_t n, pos;
    /* the call in flight */
    gw_xfer_t *xfer;
    int64_t t0_us;
    int status;
    int fallovers;
    bool routed; /* X-Routed-Via came: an upstream call was made */
    gw_buf_t answer;
    /* A multipart probe's bytes: curl reads them while it sends (the request
     * borrows them), so they live here until the next probe. */
    gw_buf_t upload;
    char upload_model[400];
};

static const char *const status_words[] = {"pending", "ok", "failed", "skipped"};

/* ---- the request of each kind ------------------------------------------------------ */

static void json_body(gw_http_out_t *out, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);

    gw_http_out_header(out, "Content-Type", "application/json");
    gw_buf_appends(&out->body, text != NULL ? text : "{}");
    free(text);
    json_decref(body);
}

/* The cheapest request for m's kind into out; false for a kind a single
 * request cannot test (a live session). */
static bool build_probe(gw_admin_sweep_t *sw, const gw_model_t *m, const char *name,
                        gw_http_out_t *out, const char **path)
{
    const char *kind = m->kind;

    if (strcmp(kind, "chat") == 0) {
        *path = "/v1/chat/completions";
        json_body(out, json_pack("{s:s,s:[{s:s,s:s}],s:i}", "model", name, "messages", "role",
                                 "user", "content", "Reply with OK.", "max_tokens", 5));
    } else if (strcmp(kind, "embedding") == 0) {
        *path = "/v1/embeddings";
        json_body(out, json_pack("{s:s,s:s}", "model", name, "input", "ok"));
    } else if (strcmp(kind, "moderation") == 0) {
        *path = "/v1/moderations";
        json_body(out, json_pack("{s:s,s:s}", "model", name, "input", "ok"));
    } else if (strcmp(kind, "tts") == 0) {
        *path = "/v1/audio/speech";
        json_body(out, json_pack("{s:s,s:s,s:s,s:s}", "model", name, "input", "OK", "voice",
                                 "alloy", "response_format", "wav"));
    } else if (strcmp(kind, "image") == 0) {
        *path = "/v1/images/generations";
        json_body(out, json_pack("{s:s,s:s,s:i,s:s,s:s}", "model", name, "prompt", "a dot", "n", 1,
                                 "size", "256x256", "response_format", "b64_json"));
    } else if (strcmp(kind, "stt") == 0) {
        static const int16_t silence[8000]; /* half a second at 16 kHz */
        gw_err_t err = {0};

        *path = "/v1/audio/transcriptions";
        gw_buf_reset(&sw->upload);
        if (gw_audio_encode(GW_AUDIO_WAV, silence, GW_ARRAY_LEN(silence), 16000, &sw->upload,
                            &err) != 0)
            return false;
        snprintf(sw->upload_model, sizeof(sw->upload_model), "%s", name);
        gw_http_out_part(out, "model", NULL, NULL, sw->upload_model, strlen(sw->upload_model));
        gw_http_out_part(out, "file", "probe.wav", "audio/wav", sw->upload.ptr, sw->upload.len);
    } else {
        return false;
    }
    return true;
}

/* ---- running --------------------------------------------------------------------- */

static void step(gw_admin_sweep_t *s);

static void finish(gw_admin_sweep_t *s)
{
    s->running = false;
    s->finished_ms = gw_now_ms();
    for (size_t i = s->pos; i < s->n; i++) {
        if (s->items[i].status == ITEM_PENDING) {
            s->items[i].status = ITEM_SKIPPED;
            snprintf(s->items[i].message, sizeof(s->items[i].message), "%s",
                     s->cancelled ? "the sweep was cancelled" : "the probe budget ran out");
        }
    }
}

static int on_headers(void *ctx, int status, const gw_header_t *hdrs, size_t n)
{
    gw_admin_sweep_t *s = ctx;

    s->status = status;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(hdrs[i].name, "x-fallback-attempts") == 0)
            s->fallovers = (int)strtol(hdrs[i].value, NULL, 10);
        if (strcmp(hdrs[i].name, "x-routed-via") == 0)
            s->routed = true;
    }
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    gw_admin_sweep_t *s = ctx;

    if (s->answer.len < ANSWER_KEEP)
        (void)gw_buf_append(&s->answer, p, GW_MIN(n, ANSWER_KEEP - s->answer.len));
    return 0;
}

/* The gateway's error answer: its code and message (any client API's shape). */
static void read_error(item_t *it, const gw_buf_t *answer, int status)
{
    json_t *j = json_loadb(answer->ptr != NULL ? answer->ptr : "", answer->len, 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));

    snprintf(it->error_class, sizeof(it->error_class), "%s",
             code != NULL  ? code
             : status == 0 ? "network"
                           : "http_error");
    snprintf(it->message, sizeof(it->message), "%s",
             msg != NULL   ? msg
             : status == 0 ? "the gateway did not answer"
                           : "no message");
    json_decref(j);
}

static void on_done(void *ctx, gw_xfer_outcome_t outcome, int status)
{
    gw_admin_sweep_t *s = ctx;
    item_t *it = &s->items[s->pos];

    s->xfer = NULL;
    it->latency_ms = (gw_mono_us() - s->t0_us) / 1000;
    /* What reached a provider counts against the budget (every attempt). */
    if (s->routed)
        s->used += 1 + s->fallovers;
    if (outcome == GW_XFER_OK && status >= 200 && status < 300) {
        it->status = ITEM_OK;
        if (s->ad->gw->router.quarantined[it->m->index])
            gw__admin_quarantine_clear(s->ad, it->m); /* re-tested good */
    } else {
        read_error(it, &s->answer, outcome == GW_XFER_OK ? status : 0);
        /* A 429 with no call made: every key of the model is over a cap or
         * cooling down, and the router kept it that way. */
        it->status = status == 429 && !s->routed ? ITEM_SKIPPED : ITEM_FAILED;
    }
    s->pos++;
    step(s);
}

static const gw_xfer_cbs_t cbs = {on_headers, on_data, on_done};

static void step(gw_admin_sweep_t *s)
{
    gw_gateway_t *gw = s->ad->gw;

    while (s->running && s->pos < s->n) {
        item_t *it = &s->items[s->pos];
        gw_http_out_t out;
        gw_upstream_opts_t opts = {0};
        const char *path = NULL;
        char name[400], url[600], auth[300];

        if (s->used >= s->budget || s->cancelled || gw->stopping || gw->unified_key == NULL) {
            finish(s);
            return;
        }
        snprintf(name, sizeof(name), "%s/%s", it->m->provider->id, it->m->id);
        gw_http_out_init(&out);
        if (!build_probe(s, it->m, name, &out, &path)) {
            gw_http_out_dispose(&out);
            it->status = ITEM_SKIPPED;
            snprintf(it->message, sizeof(it->message),
                     "a %s model is a live session: try it in the Playground", it->m->kind);
            s->pos++;
            continue;
        }
        snprintf(url, sizeof(url), "%s%s", gw->self_url, path);
        snprintf(auth, sizeof(auth), "Bearer %s", gw->unified_key);
        out.url = gw_xstrdup(url);
        out.post = true;
        gw_http_out_header(&out, "Authorization", auth);
        gw_http_out_header(&out, GW_HEADER_NO_FALLOVER, "1");
        gw_buf_reset(&s->answer);
        s->status = 0;
        s->fallovers = 0;
        s->routed = false;
        s->t0_us = gw_mono_us();
        opts.first_byte_ms = CALL_TIMEOUT_MS;
        opts.idle_ms = CALL_TIMEOUT_MS;
        s->xfer = gw_upstream_start(gw->up, &out, &opts, &cbs, s);
        gw_http_out_dispose(&out);
        if (s->xfer == NULL) {
            it->status = ITEM_FAILED;
            snprintf(it->error_class, sizeof(it->error_class), "network");
            snprintf(it->message, sizeof(it->message), "the request could not start");
            s->pos++;
            continue;
        }
        return; /* on_done goes on */
    }
    if (s->running)
        finish(s);
}

/* ---- the API ---------------------------------------------------------------------- */

json_t *gw__admin_sweep_json(const gw_admin_sweep_t *s)
{
    json_t *results = json_array();
    size_t done = 0;
    const gw_router_t *r = &s->ad->gw->router;

    for (size_t i = 0; i < s->n; i++) {
        const item_t *it = &s->items[i];

        done += it->status != ITEM_PENDING;
        json_array_append_new(
            results,
            json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:o,s:b}", "provider", it->m->provider->id,
                      "model", it->m->id, "kind", it->m->kind, "status", status_words[it->status],
                      "error_class", it->error_class[0] ? it->error_class : NULL, "message",
                      it->message[0] ? it->message : NULL, "latency_ms",
                      it->status == ITEM_OK || it->status == ITEM_FAILED
                          ? json_integer(it->latency_ms)
                          : json_null(),
                      "quarantined", r->quarantined[it->m->index]));
    }
    char id[32];

    snprintf(id, sizeof(id), "sweep_%u", s->id);
    return json_pack("{s:s,s:s,s:I,s:o,s:I,s:I,s:I,s:I,s:o}", "id", id, "state",
                     s->running     ? "running"
                     : s->cancelled ? "cancelled"
                                    : "done",
                     "started_ms", (json_int_t)s->started_ms, "finished_ms",
                     s->finished_ms > 0 ? json_integer(s->finished_ms) : json_null(), "budget",
                     (json_int_t)s->budget, "used", (json_int_t)s->used, "total", (json_int_t)s->n,
                     "done", (json_int_t)done, "results", results);
}

void gw__admin_sweep_stop(gw_admin_sweep_t *s)
{
    if (s == NULL || !s->running)
        return;
    s->cancelled = true;
    gw_upstream_cancel(s->xfer);
    s->xfer = NULL;
    finish(s);
}

void gw__admin_sweep_free(gw_admin_sweep_t *s)
{
    if (s == NULL)
        return;
    gw_upstream_cancel(s->xfer);
    gw_buf_dispose(&s->answer);
    gw_buf_dispose(&s->upload);
    free(s->items);
    free(s);
}

/* Every enabled model of a provider with a key (and not a live-session kind). */
static bool default_pick(gw_router_t *r, const gw_model_t *m)
{
    return r->enabled[m->index] && m->provider->enabled &&
           (gw_router_model_usable(r, m) || r->quarantined[m->index]);
}

static gw_admin_sweep_t *sweep_new(gw_admin_t *ad, json_t *models, int64_t budget, gw_req_t *req)
{
    gw_router_t *r = &ad->gw->router;
    gw_admin_sweep_t *s = gw_xcalloc(1, sizeof(*s));
    size_t cap = models != NULL ? json_array_size(models) : r->cat->nmodels;

    s->ad = ad;
    s->items = gw_xcalloc(cap + 1, sizeof(*s->items));
    if (models != NULL) {
        size_t i;
        json_t *v;

        json_array_foreach (models, i, v) {
            const char *name = json_string_value(v);
            const gw_model_t *m =
                name != NULL && strchr(name, '/') != NULL ? gw_router_find_model(r, name) : NULL;
            if (m == NULL) {
                gw__admin_error(req, 400, "invalid_value", "models",
                                "Entry %zu of 'models' is not a catalog model "
                                "(\"provider/model\").",
                                i);
                gw__admin_sweep_free(s);
                return NULL;
            }
            s->items[s->n++].m = m;
        }
    } else {
        for (size_t i = 0; i < r->cat->nmodels; i++) {
            const gw_model_t *m = &r->cat->models[r->order[i]];
            if (default_pick(r, m))
                s->items[s->n++].m = m;
        }
    }
    s->budget = budget > 0 ? budget : (int64_t)GW_MAX(s->n, 1);
    gw_buf_init(&s->answer, ANSWER_KEEP + 1);
    gw_buf_init(&s->upload, 1 << 20);
    return s;
}

void gw__admin_sweeps(gw_admin_t *ad, gw_req_t *req, const char *rest)
{
    const char *method = gw_req_method(req);
    gw_admin_sweep_t *s = ad->sweep;
    json_t *in, *models, *budget;

    if (strcmp(rest, "current") == 0) {
        if (strcmp(method, "GET") != 0 && !gw__admin_only(req, "DELETE"))
            return;
        if (s == NULL && strcmp(method, "GET") == 0) {
            gw_buf_t none;

            gw_buf_init(&none, 0); /* nothing ran: not an error (a page asks on load) */
            gw_req_respond(req, 204, NULL, &none);
            return;
        }
        if (s == NULL) {
            gw__admin_error(req, 404, "not_found", NULL, "No sweep has run since the start.");
            return;
        }
        if (strcmp(method, "DELETE") == 0)
            gw__admin_sweep_stop(s);
        gw_respond_json(req, 200, gw__admin_sweep_json(s));
        return;
    }
    if (rest[0] != '\0') {
        gw__admin_error(req, 404, "not_found", NULL, "Unknown admin path: %s %s", method,
                        gw_req_path(req));
        return;
    }
    if (!gw__admin_only(req, "POST") || (in = gw__admin_body(req)) == NULL)
        return;
    if (s != NULL && s->running) {
        json_decref(in);
        gw__admin_error(req, 409, "sweep_running", NULL,
                        "A sweep is running; cancel it (DELETE /api/sweeps/current) or wait.");
        return;
    }
    models = json_object_get(in, "models");
    budget = json_object_get(in, "budget");
    if ((models != NULL && (!json_is_array(models) || json_array_size(models) > 4096)) ||
        (budget != NULL && (!json_is_integer(budget) || json_integer_value(budget) < 1 ||
                            json_integer_value(budget) > 1000))) {
        json_decref(in);
        gw__admin_error(req, 400, "invalid_value",
                        models != NULL && !json_is_array(models) ? "models" : "budget",
                        "'models' must be an array of \"provider/model\"; 'budget' a whole "
                        "number from 1 to 1000.");
        return;
    }
    s = sweep_new(ad, models, json_integer_value(budget), req);
    json_decref(in);
    if (s == NULL)
        return;
    gw__admin_sweep_free(ad->sweep);
    ad->sweep = s;
    s->id = ++ad->sweeps_started;
    s->running = true;
    s->started_ms = gw_now_ms();
    gw_respond_json(req, 202, gw__admin_sweep_json(s));
    step(s); /* after the answer is queued: the first call starts now */
}
