/* Latency histogram blobs as the rollup tables hold them: any bytes decode or are refused
 * whole; what decodes encodes back to itself, and its quantiles stay within the buckets. */
#include "core/hist.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_hist_t h, back;
    unsigned char blob[GW_HIST_BLOB_MAX];
    size_t n;

    memset(&h, 0, sizeof(h));
    if (!gw_hist_decode_add(&h, data, size)) {
        for (int i = 0; i < GW_HIST_BUCKETS; i++)
            if (h.n[i] != 0)
                __builtin_trap(); /* a refused blob adds nothing */
        return 0;
    }
    n = gw_hist_encode(&h, blob);
    memset(&back, 0, sizeof(back));
    if (!gw_hist_decode_add(&back, blob, n) || memcmp(&back, &h, sizeof(h)) != 0)
        __builtin_trap();
    for (int q = 0; q <= 100; q += 5) {
        double v = gw_hist_quantile(&h, q / 100.0);
        if (gw_hist_total(&h) == 0 ? v != -1 : !(v >= 0 && v <= 1e12))
            __builtin_trap();
    }
    return 0;
}
