#include "core/json_buf.h"

#include <string.h>

/* One serialising pass: the first 4 KiB go to the stack, so a small value is
 * copied into b once at its exact size; a larger one spills into b as it is
 * written. (Sizing first with json_dumpb would serialise a large value twice.) */
typedef struct {
    gw_buf_t *b;
    char tmp[4096];
    size_t n;     /* bytes in tmp */
    bool spilled; /* tmp went to b; the rest is appended there */
    int rc;
} sink_t;

static int spill(sink_t *s)
{
    s->spilled = true;
    s->rc = gw_buf_append(s->b, s->tmp, s->n);
    return s->rc;
}

static int write_part(const char *p, size_t len, void *data)
{
    sink_t *s = data;

    if (!s->spilled && s->n + len <= sizeof(s->tmp)) {
        memcpy(s->tmp + s->n, p, len);
        s->n += len;
        return 0;
    }
    if (!s->spilled && spill(s) != 0)
        return -1;
    s->rc = gw_buf_append(s->b, p, len);
    return s->rc != 0 ? -1 : 0;
}

int gw_json_append(gw_buf_t *b, json_t *j)
{
    sink_t s = {.b = b};
    size_t start = b->len;

    if (json_dump_callback(j, write_part, &s, JSON_COMPACT) != 0) {
        if (b->len > start) {
            b->len = start;
            b->ptr[start] = '\0';
        }
        return s.rc != 0 ? s.rc : GW_EINVAL;
    }
    if (!s.spilled && spill(&s) != 0)
        return s.rc;
    return 0;
}
