/* Latency histograms (see hist.h). */
#include "core/hist.h"

#include <string.h>

/* Upper bounds (exclusive) in ms; the last bucket takes everything above. */
static const int64_t upper[GW_HIST_BUCKETS] = {
    5,    10,   20,   35,   50,   75,   100,   150,   200,   300,   450,   650,
    1000, 1500, 2200, 3300, 5000, 7500, 11000, 16000, 24000, 40000, 90000, INT64_MAX,
};

int gw_hist_bucket(int64_t ms)
{
    if (ms < 0)
        return -1;
    for (int i = 0; i < GW_HIST_BUCKETS; i++)
        if (ms < upper[i])
            return i;
    return GW_HIST_BUCKETS - 1;
}

void gw_hist_add(gw_hist_t *h, int64_t ms)
{
    int b = gw_hist_bucket(ms);

    if (b >= 0)
        h->n[b]++;
}

void gw_hist_merge(gw_hist_t *into, const gw_hist_t *from)
{
    for (int i = 0; i < GW_HIST_BUCKETS; i++)
        into->n[i] += from->n[i];
}

uint64_t gw_hist_total(const gw_hist_t *h)
{
    uint64_t t = 0;

    for (int i = 0; i < GW_HIST_BUCKETS; i++)
        t += h->n[i];
    return t;
}

double gw_hist_quantile(const gw_hist_t *h, double q)
{
    uint64_t total = gw_hist_total(h);
    double rank;
    double seen = 0;

    if (total == 0)
        return -1;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    rank = q * (double)total;
    for (int i = 0; i < GW_HIST_BUCKETS; i++) {
        double lo = i == 0 ? 0 : (double)upper[i - 1];
        double hi = i == GW_HIST_BUCKETS - 1 ? lo * 2 : (double)upper[i];

        if (h->n[i] == 0)
            continue;
        if (seen + (double)h->n[i] >= rank)
            return lo + (hi - lo) * ((rank - seen) / (double)h->n[i]);
        seen += (double)h->n[i];
    }
    return (double)upper[GW_HIST_BUCKETS - 2]; /* not reached: rank <= total */
}

size_t gw_hist_encode(const gw_hist_t *h, unsigned char *out)
{
    size_t n = 0;

    for (int i = 0; i < GW_HIST_BUCKETS; i++) {
        uint64_t c = h->n[i];

        if (c == 0)
            continue;
        out[n++] = (unsigned char)i;
        do {
            unsigned char b = c & 0x7f;
            c >>= 7;
            out[n++] = c != 0 ? (unsigned char)(b | 0x80) : b;
        } while (c != 0);
    }
    return n;
}

bool gw_hist_decode_add(gw_hist_t *h, const unsigned char *p, size_t n)
{
    gw_hist_t add;
    size_t i = 0;

    memset(&add, 0, sizeof(add));
    while (i < n) {
        unsigned bucket = p[i++];
        uint64_t c = 0;
        unsigned shift = 0;
        bool more = true;

        if (bucket >= GW_HIST_BUCKETS)
            return false;
        while (more) {
            if (i >= n || shift > 63)
                return false;
            more = (p[i] & 0x80) != 0;
            c |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            i++;
        }
        add.n[bucket] += c;
    }
    gw_hist_merge(h, &add);
    return true;
}
