#include "providers/media.h"

#include <string.h>

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
