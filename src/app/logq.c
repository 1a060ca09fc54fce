/* The request-log queue with a ceiling (see logq.h). */
#include "app/logq.h"

#include <stdlib.h>
#include <string.h>

void gw_logq_init(gw_logq_t *q, size_t max)
{
    memset(q, 0, sizeof(*q));
    q->max = max > 0 ? max : 1;
}

void gw_logrow_free(gw_logrow_t *r)
{
    free(r->endpoint);
    free(r->provider);
    free(r->model);
    free(r->error_class);
    free(r->attempt_log);
    free(r->content_prompt);
    free(r->content_answer);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? gw_xstrdup(s) : NULL;
}

/* Grows the ring (doubling, up to the ceiling), laying it out from slot 0. */
static void grow(gw_logq_t *q)
{
    size_t cap = q->cap ? q->cap * 2 : 64;
    gw_logrow_t *v;

    if (cap > q->max)
        cap = q->max;
    v = gw_xcalloc(cap, sizeof(*v));
    for (size_t i = 0; i < q->n; i++)
        v[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
}

void gw_logq_push(gw_logq_t *q, const gw_reqlog_row_t *row)
{
    gw_logrow_t *r;

    if (q->n == q->cap && q->cap < q->max)
        grow(q);
    if (q->n == q->cap) { /* at the ceiling: the oldest makes room */
        gw_logrow_free(&q->v[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->dropped++;
    }
    r = &q->v[(q->head + q->n) % q->cap];
    q->n++;
    r->row = *row;
    r->endpoint = dup_or_null(row->endpoint);
    r->provider = dup_or_null(row->provider);
    r->model = dup_or_null(row->model);
    r->error_class = dup_or_null(row->error_class);
    r->attempt_log = dup_or_null(row->attempt_log);
    r->content_prompt = dup_or_null(row->content_prompt);
    r->content_answer = dup_or_null(row->content_answer);
    r->row.endpoint = r->endpoint;
    r->row.provider = r->provider;
    r->row.model = r->model;
    r->row.error_class = r->error_class;
    r->row.attempt_log = r->attempt_log;
    r->row.content_prompt = r->content_prompt;
    r->row.content_answer = r->content_answer;
}

gw_logrow_t *gw_logq_take(gw_logq_t *q, size_t *n, uint64_t *dropped)
{
    gw_logrow_t *out = NULL;

    *n = q->n;
    *dropped = q->dropped;
    q->dropped = 0;
    if (q->n > 0 && q->head == 0) {
        out = q->v; /* already in order: handed over whole */
    } else if (q->n > 0) {
        out = gw_xcalloc(q->n, sizeof(*out));
        for (size_t i = 0; i < q->n; i++)
            out[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
    } else {
        free(q->v);
    }
    q->v = NULL;
    q->cap = q->head = q->n = 0;
    return out;
}

void gw_logq_dispose(gw_logq_t *q)
{
    for (size_t i = 0; i < q->n; i++)
        gw_logrow_free(&q->v[(q->head + i) % q->cap]);
    free(q->v);
    memset(q, 0, sizeof(*q));
}
