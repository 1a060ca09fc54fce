/*
 * A chained hash table keyed by (provider id, model id, key id), shared by the
 * rate-limit ledger and the cooldowns. Intrusive: an entry struct embeds a
 * gw_pairmap_node_t as its FIRST member and is found back with
 * gw_container_of. The map allocates entries (zeroed, of the size given at
 * init), copies both ids into the node (so entries survive a catalog reload)
 * and frees ids and entry together, so an entry must own no other memory.
 * Loop-thread only, like its users; no locks.
 */
#ifndef GW_ROUTER_PAIRMAP_H
#define GW_ROUTER_PAIRMAP_H

#include "core/gw.h"

typedef struct gw_pairmap_node {
    struct gw_pairmap_node *_next; /* hash chain */
    uint64_t _hash;
    char *provider_id; /* owned by the map */
    char *model_id;    /* owned by the map; may be "" */
    int64_t key_id;
} gw_pairmap_node_t;

typedef struct gw_pairmap {
    gw_pairmap_node_t **_buckets;
    size_t _nbuckets;   /* power of two */
    size_t _entry_size; /* what gw_pairmap_get_or_add allocates */
    size_t count;       /* entries in the map */
} gw_pairmap_t;

/* entry_size: sizeof the user's entry struct, which starts with the node. */
void gw_pairmap_init(gw_pairmap_t *pm, size_t entry_size);
/* Frees every entry and the buckets; the map may be initialised again. */
void gw_pairmap_dispose(gw_pairmap_t *pm);

/* The entry of (provider_id, model_id, key_id), or NULL. Borrowed. */
gw_pairmap_node_t *gw_pairmap_find(const gw_pairmap_t *pm, const char *provider_id,
                                   const char *model_id, int64_t key_id);

/* The entry of (provider_id, model_id, key_id), added zeroed (ids copied) when
 * absent; *created (if not NULL) says which. Borrowed: the map owns it. */
gw_pairmap_node_t *gw_pairmap_get_or_add(gw_pairmap_t *pm, const char *provider_id,
                                         const char *model_id, int64_t key_id, bool *created);

/* Frees every entry for which pred(node, ctx) is true. */
typedef bool (*gw_pairmap_pred_cb)(const gw_pairmap_node_t *n, void *ctx);
void gw_pairmap_remove_if(gw_pairmap_t *pm, gw_pairmap_pred_cb pred, void *ctx);

/* Iteration in table order: gw_pairmap_next(pm, NULL) is the first entry,
 * NULL after the last. The map must not change during a walk (entries may). */
gw_pairmap_node_t *gw_pairmap_next(const gw_pairmap_t *pm, const gw_pairmap_node_t *n);

#endif
