#include "media/image_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct stored_image {
    char name[80];
    char mime[64];
    unsigned char *data;
    size_t len;
    int64_t expires_ms;
    struct stored_image *next; /* oldest first */
} stored_image_t;

struct gw_image_store {
    stored_image_t *head, *tail;
    size_t bytes;
    size_t max_bytes;
    int64_t ttl_ms;
};

gw_image_store_t *gw_image_store_new(size_t max_bytes, int64_t ttl_ms)
{
    gw_image_store_t *s = gw_xcalloc(1, sizeof(*s));

    s->max_bytes = max_bytes;
    s->ttl_ms = ttl_ms;
    return s;
}

static void drop_oldest(gw_image_store_t *s)
{
    stored_image_t *im = s->head;

    s->head = im->next;
    if (s->head == NULL)
        s->tail = NULL;
    s->bytes -= im->len;
    free(im->data);
    free(im);
}

void gw_image_store_free(gw_image_store_t *s)
{
    if (s == NULL)
        return;
    while (s->head != NULL)
        drop_oldest(s);
    free(s);
}

static const char *extension(const char *mime)
{
    if (strcmp(mime, "image/jpeg") == 0)
        return "jpg";
    if (strcmp(mime, "image/webp") == 0)
        return "webp";
    return "png";
}

int gw_image_store_put(gw_image_store_t *s, const void *data, size_t len, const char *mime,
                       int64_t now_ms, char name[80])
{
    unsigned char rnd[32];
    stored_image_t *im;
    size_t off = 0;

    if (len > s->max_bytes)
        return GW_ETOOBIG;
    /* Expired ones and, past the budget, the oldest make room. */
    while (s->head != NULL && (s->head->expires_ms <= now_ms || s->bytes + len > s->max_bytes))
        drop_oldest(s);
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return GW_ECRYPTO;
    im = gw_xcalloc(1, sizeof(*im));
    for (size_t i = 0; i < sizeof(rnd); i++)
        off += (size_t)snprintf(im->name + off, sizeof(im->name) - off, "%02x", rnd[i]);
    snprintf(im->name + off, sizeof(im->name) - off, ".%s", extension(mime));
    snprintf(im->mime, sizeof(im->mime), "%s", mime);
    im->data = gw_xmalloc(len > 0 ? len : 1);
    memcpy(im->data, data, len);
    im->len = len;
    im->expires_ms = now_ms + s->ttl_ms;
    if (s->tail != NULL)
        s->tail->next = im;
    else
        s->head = im;
    s->tail = im;
    s->bytes += len;
    memcpy(name, im->name, sizeof(im->name));
    return 0;
}

int gw_image_store_get(gw_image_store_t *s, const char *name, int64_t now_ms, gw_buf_t *out,
                       char mime[64])
{
    size_t n = strlen(name);

    if (s == NULL)
        return GW_ENOTFOUND;
    for (stored_image_t *im = s->head; im != NULL; im = im->next) {
        /* Constant-time compare: the name is the only thing guarding the image. */
        if (strlen(im->name) != n || CRYPTO_memcmp(im->name, name, n) != 0)
            continue;
        if (im->expires_ms <= now_ms)
            return GW_ENOTFOUND;
        if (gw_buf_append(out, im->data, im->len) != 0)
            return GW_ETOOBIG;
        snprintf(mime, 64, "%s", im->mime);
        return 0;
    }
    return GW_ENOTFOUND;
}
