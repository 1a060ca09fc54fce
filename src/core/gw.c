/* Error records, string views and checked allocation (see gw.h). */
#include "core/gw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_err_set(gw_err_t *err, int code, int http_status, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    err->code = code;
    err->http_status = http_status;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

gw_str_t gw_str_c(const char *s)
{
    gw_str_t v = {s ? s : "", s ? strlen(s) : 0};
    return v;
}

bool gw_str_ieq(gw_str_t a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && strncasecmp(a.ptr, b, n) == 0;
}

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "freellmapi: out of memory allocating %zu bytes\n", n);
    abort();
}

void *gw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *gw_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *gw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *gw_xstrdup(const char *s)
{
    return gw_xstrndup(s, strlen(s));
}

char *gw_xstrndup(const char *s, size_t n)
{
    char *p = gw_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

_Noreturn void gw__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "freellmapi: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
