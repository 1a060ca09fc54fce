/*
 * Store work for handlers, off the loop: run on the libuv thread pool with a
 * connection of its own, so a slow disk never holds the loop that carries
 * every other request and stream.
 */
#ifndef GW_API_STORE_JOB_H
#define GW_API_STORE_JOB_H

#include "api/gateway.h"

/* Runs work(st, ctx) on the pool, then done(ctx, rc) on the loop with work's
 * return (GW_EDB when no connection could be opened, GW_ERR when the job
 * could not run). 0, or GW_ERR when it could not be queued (done is not
 * called then). */
int gw_store_job(gw_gateway_t *gw, int (*work)(gw_store_t *st, void *ctx),
                 void (*done)(void *ctx, int rc), void *ctx);

#endif
