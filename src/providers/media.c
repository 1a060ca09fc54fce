#include "providers/media.h"

#include <string.h>

#include "core/base64.h"

#define MAX_MEDIA_BYTES (64u << 20)

void gw_media_result_init(gw_media_result_t *r)
{
    r->json = NULL;
    gw_buf_init(&r->bytes, MAX_MEDIA_BYTES);
    r->mime[0] = '\0';
    r->prompt_tokens = -1;
    r->output_tokens = 0;
}

void gw_media_result_dispose(gw_media_result_t *r)
{
    json_decref(r->json);
    r->json = NULL;
    gw_buf_dispose(&r->bytes);
}

const gw_media_file_t *gw_media_file(const gw_media_call_t *c, const char *field)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->files[i].field, field) == 0)
            return &c->files[i];
    return NULL;
}

const char *gw_media_sniff_image(const unsigned char *p, size_t n)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

int gw_media_add_b64_image(json_t *images, json_t *b64, gw_err_t *err)
{
    gw_buf_t raw;
    const char *mime;

    gw_buf_init(&raw, MAX_MEDIA_BYTES);
    if (!json_is_string(b64) || json_string_length(b64) == 0 ||
        gw_b64_decode(json_string_value(b64), json_string_length(b64), &raw) != 0) {
        gw_buf_dispose(&raw);
        gw_err_set(err, GW_DECLINED, 502, "upstream image is not valid base64");
        return GW_DECLINED;
    }
    mime = gw_media_sniff_image((const unsigned char *)raw.ptr, raw.len);
    gw_buf_dispose(&raw);
    if (mime == NULL) {
        gw_err_set(err, GW_DECLINED, 502, "upstream image is not a PNG, JPEG or WebP image");
        return GW_DECLINED;
    }
    json_array_append_new(images, json_pack("{s:O,s:s}", "b64", b64, "mime", mime));
    return 0;
}
