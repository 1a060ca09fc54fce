/*
 * The dashboard PIN: its slow salted hash (OpenSSL's scrypt), and how long a
 * client waits after wrong PINs. Pure functions, shared by the admin API and
 * `freellmapi pin`.
 */
#ifndef GW_ADMIN_PIN_H
#define GW_ADMIN_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PIN_SETTING "admin_pin"          /* the hash, in the settings table */
#define GW_PIN_LOCKOUT_SETTING "admin_lockout" /* wrong-PIN counts, JSON */
#define GW_PIN_HASH_MAX 256
#define GW_PIN_FREE_TRIES 5                 /* wrong PINs before any wait */

/* A PIN is 4 to 64 printable ASCII characters. */
bool gw_pin_valid(const char *pin);
/* "scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>" into out; 0, or GW_ERR. */
int gw_pin_hash(const char *pin, char *out, size_t n);
/* Constant-time check of pin against a stored hash; false for a malformed one. */
bool gw_pin_verify(const char *pin, const char *stored);

/* The wait after `fails` wrong PINs in a row from one address: none for the
 * first GW_PIN_FREE_TRIES, then 30 s doubling per further one, at most an hour. */
int64_t gw_pin_wait_ms(int fails);

#endif
