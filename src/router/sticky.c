/*
 * Sticky sessions (see sticky.h): digest -> model index for 30 minutes.
 *
 * A fixed pool of max_entries nodes allocated up front (nothing allocates
 * after gw_sticky_new), a chained hash over node indices, and an age list in
 * put order. Since every put sets expiry to now + TTL and moves the node to
 * the young end, the list is also in expiry order: expired entries are
 * always at the old end, and when the pool is full the oldest goes first.
 *
 * Neither the pool nor the hash heads are written at start (heads hold
 * index + 1, so zeroed memory is an empty table; nodes are handed out in
 * order before the free list is used): the pages of the 700 KB table cost
 * memory only once conversations fill them.
 */
#include "router/sticky.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define NIL (-1)

typedef struct snode {
    unsigned char digest[32];
    int model;
    int64_t expires_ms;
    int32_t hnext;       /* next node in the hash chain */
    int32_t older;       /* age list neighbours */
    int32_t younger;
} snode_t;

struct gw_sticky {
    snode_t *nodes;
    size_t max;
    int32_t *heads;      /* hash chains: first node index + 1, 0 when empty */
    size_t nheads;       /* power of two */
    int32_t oldest;
    int32_t youngest;
    int32_t free_list;   /* through hnext */
    int32_t unused;      /* nodes from here on were never handed out */
    size_t count;
};

gw_sticky_t *gw_sticky_new(size_t max_entries)
{
    gw_sticky_t *s = gw_xcalloc(1, sizeof(*s));

    gw_assert(max_entries > 0 && max_entries < INT32_MAX);
    s->max = max_entries;
    s->nodes = gw_xcalloc(max_entries, sizeof(*s->nodes));
    s->nheads = 16;
    while (s->nheads < max_entries)
        s->nheads *= 2;
    s->heads = gw_xcalloc(s->nheads, sizeof(*s->heads));
    s->free_list = NIL;
    s->unused = 0;
    s->oldest = NIL;
    s->youngest = NIL;
    return s;
}

void gw_sticky_free(gw_sticky_t *s)
{
    if (s == NULL)
        return;
    free(s->nodes);
    free(s->heads);
    free(s);
}

/* Hashed of each field: its length, its first and its last DIGEST_EDGE
 * bytes. Whole fields made a 30 MB prompt hold the loop for tens of
 * milliseconds; conversations that agree in length and in both ends are
 * the same conversation for routing purposes. */
#define DIGEST_EDGE (8 * 1024)

static int digest_field(EVP_MD_CTX *ctx, gw_str_t f)
{
    if (f.len <= 2 * DIGEST_EDGE)
        return f.len == 0 || EVP_DigestUpdate(ctx, f.ptr, f.len);
    return EVP_DigestUpdate(ctx, f.ptr, DIGEST_EDGE) &&
           EVP_DigestUpdate(ctx, f.ptr + f.len - DIGEST_EDGE, DIGEST_EDGE);
}

/* Length-prefixed fields under a domain tag, so ("ab","c") and ("a","bc")
 * differ and the digest cannot collide with other SHA-256 uses. */
void gw_sticky_digest(gw_str_t client, gw_str_t system, gw_str_t first_user,
                      unsigned char out[32])
{
    static const char tag[] = "freellmapi/sticky/v1";
    const gw_str_t parts[3] = {client, system, first_user};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok;

    gw_assert(ctx != NULL);
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    ok = ok && EVP_DigestUpdate(ctx, tag, sizeof(tag));
    for (size_t i = 0; i < 3; i++) {
        unsigned char len[8];
        uint64_t l = parts[i].len;

        for (int b = 7; b >= 0; b--) {
            len[b] = (unsigned char)(l & 0xff);
            l >>= 8;
        }
        ok = ok && EVP_DigestUpdate(ctx, len, sizeof(len));
        ok = ok && digest_field(ctx, parts[i]);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
    gw_assert(ok && n == 32);
}

static size_t head_of(const gw_sticky_t *s, const unsigned char d[32])
{
    uint64_t h;

    memcpy(&h, d, sizeof(h)); /* a SHA-256 prefix is already uniform */
    return (size_t)(h & (s->nheads - 1));
}

static int32_t find(const gw_sticky_t *s, const unsigned char d[32])
{
    for (int32_t i = s->heads[head_of(s, d)] - 1; i != NIL; i = s->nodes[i].hnext)
        if (memcmp(s->nodes[i].digest, d, 32) == 0)
            return i;
    return NIL;
}

static void age_unlink(gw_sticky_t *s, int32_t i)
{
    snode_t *n = &s->nodes[i];

    if (n->older != NIL)
        s->nodes[n->older].younger = n->younger;
    else
        s->oldest = n->younger;
    if (n->younger != NIL)
        s->nodes[n->younger].older = n->older;
    else
        s->youngest = n->older;
}

static void age_push_young(gw_sticky_t *s, int32_t i)
{
    snode_t *n = &s->nodes[i];

    n->older = s->youngest;
    n->younger = NIL;
    if (s->youngest != NIL)
        s->nodes[s->youngest].younger = i;
    else
        s->oldest = i;
    s->youngest = i;
}

static void drop(gw_sticky_t *s, int32_t i)
{
    int32_t *head = &s->heads[head_of(s, s->nodes[i].digest)];

    if (*head - 1 == i) {
        *head = s->nodes[i].hnext + 1;
    } else {
        int32_t *pp = &s->nodes[*head - 1].hnext;
        while (*pp != i)
            pp = &s->nodes[*pp].hnext;
        *pp = s->nodes[i].hnext;
    }
    age_unlink(s, i);
    s->nodes[i].hnext = s->free_list;
    s->free_list = i;
    s->count--;
}

int gw_sticky_get(gw_sticky_t *s, const unsigned char digest[32], int64_t now_ms)
{
    int32_t i = find(s, digest);

    if (i == NIL)
        return -1;
    if (s->nodes[i].expires_ms <= now_ms) {
        drop(s, i);
        return -1;
    }
    return s->nodes[i].model;
}

void gw_sticky_put(gw_sticky_t *s, const unsigned char digest[32], int model_index,
                   int64_t now_ms)
{
    int32_t i = find(s, digest);
    size_t h;

    if (i != NIL) {
        s->nodes[i].model = model_index;
        s->nodes[i].expires_ms = now_ms + GW_STICKY_TTL_MS;
        age_unlink(s, i);
        age_push_young(s, i);
        return;
    }
    while (s->oldest != NIL && s->nodes[s->oldest].expires_ms <= now_ms)
        drop(s, s->oldest);
    if (s->count == s->max)
        drop(s, s->oldest);
    if (s->free_list != NIL) {
        i = s->free_list;
        s->free_list = s->nodes[i].hnext;
    } else {
        i = s->unused++; /* count < max and no free node: one was never used */
    }
    memcpy(s->nodes[i].digest, digest, 32);
    s->nodes[i].model = model_index;
    s->nodes[i].expires_ms = now_ms + GW_STICKY_TTL_MS;
    h = head_of(s, digest);
    s->nodes[i].hnext = s->heads[h] - 1;
    s->heads[h] = i + 1;
    age_push_young(s, i);
    s->count++;
}
