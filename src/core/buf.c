/* Bounded growable buffers (see buf.h). */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_buf_init(gw_buf_t *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gw_buf_dispose(gw_buf_t *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void gw_buf_reset(gw_buf_t *b)
{
    b->len = 0;
    if (b->ptr != NULL)
        b->ptr[0] = '\0';
}

static int reserve(gw_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;

    if (extra > b->max || b->len + extra > b->max)
        return GW_ETOOBIG;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->ptr = gw_xrealloc(b->ptr, cap);
    b->cap = cap;
    return 0;
}

int gw_buf_append(gw_buf_t *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

char *gw_buf_extend(gw_buf_t *b, size_t n)
{
    char *at;

    if (reserve(b, n) != 0)
        return NULL;
    at = b->ptr + b->len;
    b->len += n;
    b->ptr[b->len] = '\0';
    return at;
}

int gw_buf_appends(gw_buf_t *b, const char *s)
{
    return gw_buf_append(b, s, strlen(s));
}

int gw_buf_printf(gw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GW_EINVAL;
    rc = reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *gw_buf_detach(gw_buf_t *b)
{
    char *p = b->ptr;
    if (p == NULL)
        p = gw_xstrdup("");
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
