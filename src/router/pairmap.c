/*
 * The (provider, model, key) hash table of the ledger and the cooldowns (see
 * pairmap.h): FNV-1a over both ids (with their NULs, so "ab"+"c" and "a"+"bc"
 * differ) and the key id, chains in a power-of-two bucket array that doubles
 * once the load passes 3/4. Lookups do not allocate.
 */
#include "router/pairmap.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t key_hash(const char *pid, const char *mid, int64_t key_id)
{
    uint64_t h = 14695981039346656037ULL;

    h = fnv(h, pid, strlen(pid) + 1);
    h = fnv(h, mid, strlen(mid) + 1);
    return fnv(h, &key_id, sizeof(key_id));
}

static void node_free(gw_pairmap_node_t *n)
{
    free(n->provider_id);
    free(n->model_id);
    free(n); /* the whole entry: the node is its first member */
}

static void grow(gw_pairmap_t *pm)
{
    size_t n = pm->_nbuckets * 2;
    gw_pairmap_node_t **b = gw_xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < pm->_nbuckets; i++) {
        gw_pairmap_node_t *e = pm->_buckets[i];

        while (e != NULL) {
            gw_pairmap_node_t *next = e->_next;

            e->_next = b[e->_hash & (n - 1)];
            b[e->_hash & (n - 1)] = e;
            e = next;
        }
    }
    free(pm->_buckets);
    pm->_buckets = b;
    pm->_nbuckets = n;
}

void gw_pairmap_init(gw_pairmap_t *pm, size_t entry_size)
{
    gw_assert(entry_size >= sizeof(gw_pairmap_node_t));
    pm->_nbuckets = INITIAL_BUCKETS;
    pm->_buckets = gw_xcalloc(pm->_nbuckets, sizeof(*pm->_buckets));
    pm->_entry_size = entry_size;
    pm->count = 0;
}

void gw_pairmap_dispose(gw_pairmap_t *pm)
{
    for (size_t i = 0; i < pm->_nbuckets; i++) {
        gw_pairmap_node_t *e = pm->_buckets[i];

        while (e != NULL) {
            gw_pairmap_node_t *next = e->_next;

            node_free(e);
            e = next;
        }
    }
    free(pm->_buckets);
    pm->_buckets = NULL;
    pm->_nbuckets = 0;
    pm->count = 0;
}

gw_pairmap_node_t *gw_pairmap_find(const gw_pairmap_t *pm, const char *provider_id,
                                   const char *model_id, int64_t key_id)
{
    uint64_t h = key_hash(provider_id, model_id, key_id);
    gw_pairmap_node_t *e = pm->_buckets[h & (pm->_nbuckets - 1)];

    for (; e != NULL; e = e->_next)
        if (e->_hash == h && e->key_id == key_id && strcmp(e->model_id, model_id) == 0 &&
            strcmp(e->provider_id, provider_id) == 0)
            return e;
    return NULL;
}

gw_pairmap_node_t *gw_pairmap_get_or_add(gw_pairmap_t *pm, const char *provider_id,
                                         const char *model_id, int64_t key_id, bool *created)
{
    gw_pairmap_node_t *e = gw_pairmap_find(pm, provider_id, model_id, key_id);
    size_t slot;

    if (created != NULL)
        *created = e == NULL;
    if (e != NULL)
        return e;
    if (pm->count + 1 > pm->_nbuckets / 4 * 3)
        grow(pm);
    e = gw_xcalloc(1, pm->_entry_size);
    e->_hash = key_hash(provider_id, model_id, key_id);
    e->provider_id = gw_xstrdup(provider_id);
    e->model_id = gw_xstrdup(model_id);
    e->key_id = key_id;
    slot = e->_hash & (pm->_nbuckets - 1);
    e->_next = pm->_buckets[slot];
    pm->_buckets[slot] = e;
    pm->count++;
    return e;
}

void gw_pairmap_remove_if(gw_pairmap_t *pm, gw_pairmap_pred_cb pred, void *ctx)
{
    for (size_t i = 0; i < pm->_nbuckets; i++) {
        gw_pairmap_node_t **pp = &pm->_buckets[i];

        while (*pp != NULL) {
            gw_pairmap_node_t *e = *pp;

            if (pred(e, ctx)) {
                *pp = e->_next;
                node_free(e);
                pm->count--;
            } else {
                pp = &e->_next;
            }
        }
    }
}

gw_pairmap_node_t *gw_pairmap_next(const gw_pairmap_t *pm, const gw_pairmap_node_t *n)
{
    size_t i = 0;

    if (n != NULL) {
        if (n->_next != NULL)
            return n->_next;
        i = (n->_hash & (pm->_nbuckets - 1)) + 1;
    }
    for (; i < pm->_nbuckets; i++)
        if (pm->_buckets[i] != NULL)
            return pm->_buckets[i];
    return NULL;
}
