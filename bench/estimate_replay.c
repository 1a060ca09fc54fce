/*
 * Replays prompts through the gateway's own estimator (src/router/estimate.c)
 * for bench/sim/estimates.mjs: each stdin line "RAW MESSAGES REPORTED" is one
 * prompt (our count, its chat messages, what the model reported); for each
 * it prints "CHARGE MEAN" as estimated before that report is learned.
 *
 *   estimate_replay < rows
 */
#include <inttypes.h>
#include <stdio.h>

#include "router/estimate.h"

int main(void)
{
    gw_estimate_t e;
    int64_t raw, messages, reported;

    gw_estimate_init(&e);
    while (scanf("%" SCNd64 " %" SCNd64 " %" SCNd64, &raw, &messages, &reported) == 3) {
        printf("%" PRId64 " %.3f\n", gw_estimate_charge(&e, raw, messages),
               gw_estimate_mean(&e, raw, messages));
        gw_estimate_learn(&e, raw, messages, reported);
    }
    return 0;
}
