/*
 * Media calls: everything beyond chat that a dialect can carry (embeddings,
 * images, speech, transcription, realtime tokens). The API layer turns the
 * client's OpenAI request into a normalised gw_media_call_t; the dialect
 * encodes it for its provider and decodes the answer into a canonical
 * gw_media_result_t; the API layer renders that into OpenAI's exact shape
 * (base64 vectors, b64_json or url, mp3/opus/flac, srt/vtt...). So a
 * provider only ever deals with its own wire, and client-side formats are
 * written once.
 */
#ifndef GW_PROVIDERS_MEDIA_H
#define GW_PROVIDERS_MEDIA_H

#include <jansson.h>

#include "core/buf.h"
#include "providers/catalog.h"

typedef enum {
    GW_OP_EMBED = 0,
    GW_OP_IMAGE,       /* generate, edit or vary (params.mode) */
    GW_OP_SPEECH,
    GW_OP_TRANSCRIBE,  /* params.translate: to English */
    GW_OP_REALTIME,    /* mint a short-lived realtime session token */
    GW_OP_MODERATE     /* classify text against content policies */
} gw_op_t;

/* An uploaded file (borrowed from the request body). */
typedef struct gw_media_file {
    const char *field;        /* form field: "file", "image", "mask" */
    const char *filename;
    const char *content_type; /* as uploaded, or guessed from the name */
    const unsigned char *data;
    size_t len;
} gw_media_file_t;

/*
 * params (borrowed), by op; absent keys mean "not asked for":
 *   EMBED       {"input": [string...] | [[int...]...], "dimensions": int}
 *   IMAGE       {"mode": "generate"|"edit"|"variation", "prompt": string, "n": int,
 *                "size": "WxH", "aspect_ratio": "W:H", "width": int, "height": int}
 *               files: "image" (edit, variation; one or more), "mask"
 *   SPEECH      {"input": string, "voice": string (the provider's voice),
 *                "openai_voice": string, "instructions": string, "speed": number}
 *   TRANSCRIBE  {"translate": bool, "language": string, "prompt": string,
 *                "temperature": number, "words": bool, "segments": bool}
 *               files: "file"
 *   REALTIME    {"session": the client's OpenAI session object, "ttl_s": int,
 *                "new_session_ttl_s": int}
 *   MODERATE    {"input": [string...]}
 */
typedef struct gw_media_call {
    gw_op_t op;
    const gw_model_t *model;
    const char *secret;       /* NULL: anonymous */
    const char *account_id;
    json_t *params;
    const gw_media_file_t *files;
    size_t nfiles;
    bool defer_body;          /* leave a JSON body in out->json (see gw_call_t) */
} gw_media_call_t;

/*
 * What a dialect decodes from a 2xx answer, by op:
 *   EMBED       json {"vectors": [[number...]...]} in input order; usage if known
 *   IMAGE       json {"images": [{"b64": string, "mime": string}...], "text": string}
 *   SPEECH      bytes + mime: "audio/L16;rate=24000" for raw PCM s16le mono, or an
 *               encoded type ("audio/mpeg", "audio/wav", ...)
 *   TRANSCRIBE  json {"text", "language", "duration", "segments": [{id,start,end,text,...}],
 *               "words": [{word,start,end}]} (verbose_json's fields)
 *   REALTIME    json {"token": string, "expires_at": unix s, "connect_url": string,
 *               "tools": [names], "model": string}
 *   MODERATE    json {"results": [{"scores": {category: 0..1}}...]} in input order, the
 *               categories OpenAI's (moderation_map.h)
 */
typedef struct gw_media_result {
    json_t *json;
    gw_buf_t bytes;
    char mime[96];
    int64_t prompt_tokens;    /* -1 when the provider did not say */
    int64_t output_tokens;
} gw_media_result_t;

void gw_media_result_init(gw_media_result_t *r);
void gw_media_result_dispose(gw_media_result_t *r);

/* An image's type from its leading bytes: image/png, image/jpeg or
 * image/webp; NULL for anything else. */
const char *gw_media_sniff_image(const unsigned char *p, size_t n);
/* Appends {"b64", "mime"} to images for a provider's base64 image, once it
 * decodes to bytes that are an image (the type is taken from them). Else
 * GW_DECLINED with err: the answer is unusable. */
int gw_media_add_b64_image(json_t *images, json_t *b64, gw_err_t *err);

/* The first uploaded file of a field, or NULL. */
const gw_media_file_t *gw_media_file(const gw_media_call_t *c, const char *field);

#endif
