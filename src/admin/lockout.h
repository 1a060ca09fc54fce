/*
 * Wrong-PIN accounting, as pure functions over the record the store keeps
 * (setting GW_PIN_LOCKOUT_SETTING), so a lockout survives a restart:
 *   {"addrs": {"<address>": {"fails": n, "at": ms}}, "recent": [ms, …]}
 * After GW_PIN_FREE_TRIES wrong PINs in a row an address waits
 * (gw_pin_wait_ms); past GW_LOCKOUT_GLOBAL_MAX wrong PINs from anywhere in
 * GW_LOCKOUT_GLOBAL_WINDOW_MS every address waits for the window to pass.
 */
#ifndef GW_ADMIN_LOCKOUT_H
#define GW_ADMIN_LOCKOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_LOCKOUT_GLOBAL_MAX 50
#define GW_LOCKOUT_GLOBAL_WINDOW_MS (10 * 60 * (int64_t)1000)
/* Bounds on what is kept: addresses quiet for a day are forgotten, and at
 * most this many are remembered (the oldest go first). */
#define GW_LOCKOUT_FORGET_MS (24 * 3600 * (int64_t)1000)
#define GW_LOCKOUT_ADDRS_MAX 1024

/* The record from its stored text; a fresh one for NULL or anything else. */
json_t *gw_lockout_parse(const char *text);
/* When addr may try again: 0 now, else the time in ms; *why says which cap. */
int64_t gw_lockout_until(json_t *l, const char *addr, int64_t now, const char **why);
/* Records a wrong PIN from addr; returns when it may try again (0: now) and
 * sets *tries_left before the first wait (0 once waiting). */
int64_t gw_lockout_failed(json_t *l, const char *addr, int64_t now, int *tries_left);
/* The right PIN from addr: its count is forgotten. True when the record changed. */
bool gw_lockout_passed(json_t *l, const char *addr);

#endif
