/*
 * A latency histogram small enough to keep per rollup cell: 24 log-scale
 * buckets from 0 to 10 minutes, counts only. Quantiles interpolate linearly
 * inside a bucket, so p50/p95 are good to a bucket's width (~25-40 %), which
 * is what a dashboard needs and what a million rows can afford.
 *
 * Stored as a compact blob (gw_hist_encode): (bucket byte, LEB128 count) for
 * each non-empty bucket, so a cell that saw one latency class costs 2-4 bytes.
 */
#ifndef GW_CORE_HIST_H
#define GW_CORE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_HIST_BUCKETS 24
/* The longest encoding: every bucket with a 10-byte count. */
#define GW_HIST_BLOB_MAX (GW_HIST_BUCKETS * 11)

typedef struct gw_hist {
    uint64_t n[GW_HIST_BUCKETS];
} gw_hist_t;

/* The bucket of a value in ms (negative: -1, not counted). */
int gw_hist_bucket(int64_t ms);
void gw_hist_add(gw_hist_t *h, int64_t ms);
void gw_hist_merge(gw_hist_t *into, const gw_hist_t *from);
uint64_t gw_hist_total(const gw_hist_t *h);
/* The q-quantile (0..1) in ms; -1 when the histogram is empty. */
double gw_hist_quantile(const gw_hist_t *h, double q);

/* Writes the blob into out (GW_HIST_BLOB_MAX bytes); returns its length. */
size_t gw_hist_encode(const gw_hist_t *h, unsigned char *out);
/* Adds a blob's counts to h; false (h unchanged) when the blob is malformed. */
bool gw_hist_decode_add(gw_hist_t *h, const unsigned char *p, size_t n);

#endif
