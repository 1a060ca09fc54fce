/*
 * gw_buf_t: a growable byte buffer with a ceiling fixed at birth. Appending
 * past the ceiling fails with GW_ETOOBIG and leaves the buffer unchanged, so
 * an oversized body becomes a 413 or an upstream failure, never a huge malloc.
 * The content is always NUL-terminated (not counted in len).
 */
#ifndef GW_CORE_BUF_H
#define GW_CORE_BUF_H

#include "core/gw.h"

typedef struct gw_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
} gw_buf_t;

void gw_buf_init(gw_buf_t *b, size_t max);
void gw_buf_dispose(gw_buf_t *b);
void gw_buf_reset(gw_buf_t *b); /* len = 0, memory kept */
int gw_buf_append(gw_buf_t *b, const void *p, size_t n);
int gw_buf_appends(gw_buf_t *b, const char *s);
int gw_buf_printf(gw_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grows len by n and returns where those n (uninitialised) bytes start, or
 * NULL past the ceiling. For writers that fill the space themselves. */
char *gw_buf_extend(gw_buf_t *b, size_t n);
char *gw_buf_detach(gw_buf_t *b);           /* caller owns the bytes; b is reset */

#endif
