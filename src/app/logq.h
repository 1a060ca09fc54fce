/*
 * The request-log rows waiting for the background writer: a queue with a
 * ceiling. While SQLite is busy for long (a backup holding the lock, a slow
 * disk) the rows of a busy gateway would pile up without end; past the
 * ceiling the oldest are dropped and counted, so memory stays bounded and the
 * loss is reported. Usage counters never pass through here: they are
 * snapshots of the ledger, written whole.
 */
#ifndef GW_APP_LOGQ_H
#define GW_APP_LOGQ_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One queued row; its strings are owned copies. */
typedef struct gw_logrow {
    gw_reqlog_row_t row;
    char *endpoint, *provider, *model, *error_class;
    char *attempt_log, *content_prompt, *content_answer;
} gw_logrow_t;

typedef struct gw_logq {
    gw_logrow_t *v;      /* ring of cap slots */
    size_t cap, head, n;
    size_t max;          /* the ceiling */
    uint64_t dropped;    /* oldest rows dropped since the last take */
} gw_logq_t;

void gw_logq_init(gw_logq_t *q, size_t max);
/* Copies row in; when the queue is at its ceiling the oldest row goes. */
void gw_logq_push(gw_logq_t *q, const gw_reqlog_row_t *row);
/* Every queued row, oldest first (the caller frees them with gw_logrow_free
 * and the array with free); *dropped gets the count lost since the last
 * take. The queue is empty afterwards. NULL when there is nothing. */
gw_logrow_t *gw_logq_take(gw_logq_t *q, size_t *n, uint64_t *dropped);
void gw_logrow_free(gw_logrow_t *r);
void gw_logq_dispose(gw_logq_t *q);

#endif
