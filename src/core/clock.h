/* Wall-clock and monotonic time in milliseconds. */
#ifndef GW_CORE_CLOCK_H
#define GW_CORE_CLOCK_H

#include <stdint.h>

int64_t gw_now_ms(void);  /* Unix epoch milliseconds */
int64_t gw_mono_ms(void); /* monotonic, for durations */
int64_t gw_mono_us(void);

#endif
