/*
 * The one piece of HTTP/1.1 head parsing the benchmark tools share: a
 * case-insensitive header lookup. The tools speak a deliberately small
 * subset of HTTP (they must cost less than the gateway they measure); the
 * gateway itself parses HTTP with libmicrohttpd and libcurl only.
 */
#ifndef BENCH_HTTPHEAD_H
#define BENCH_HTTPHEAD_H

#include <string.h>
#include <strings.h>

/* The value of header `name` in head[0..len) (a view), or NULL. */
static inline const char *bench_header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', len);
    const char *end = head + len;

    while (p != NULL && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end - line));

        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            const char *ve = eol;

            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

#endif
