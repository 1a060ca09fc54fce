/*
 * Reading the delays upstreams state: header values (Retry-After and the
 * x-ratelimit-reset-* family), Go/protobuf durations (Google's RetryInfo) and
 * prose in error messages ("Please try again in 7.66s"). Pure functions.
 */
#ifndef GW_ROUTER_RETRY_DELAY_H
#define GW_ROUTER_RETRY_DELAY_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a delay header value: seconds ("30", "1.5"), an HTTP date, a Go-style
 * duration ("2m59.56s", "120ms"), or an epoch (>1e12 ms, >1e9 s). Returns the
 * absolute epoch ms, or 0 if unparseable or absurd. */
int64_t gw_parse_reset_value(const char *v, int64_t now_ms);

/* A retry-after-ms value (milliseconds, OpenAI's): the absolute epoch ms, or
 * 0 if unparseable or absurd. */
int64_t gw_parse_ms_value(const char *v, int64_t now_ms);

/* A duration: Go/protobuf style "2m59.56s", "7.66s", "120ms", "34s", or with
 * loose set also prose "41 seconds", "1 minute 30 seconds". Returns ms
 * (rounded up) and sets *endp after it, or -1. */
int64_t gw_parse_duration(const char *s, bool loose, const char **endp);

/* The delay an error message states ("try again in 7.66s", "wait 41
 * seconds"), in ms, or -1. */
int64_t gw_prose_delay_ms(const char *msg);

#endif
