/* Clocks (see clock.h). */
#include "core/clock.h"

#include <time.h>

int64_t gw_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t gw_mono_ms(void)
{
    return gw_mono_us() / 1000;
}

int64_t gw_mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}
