/*
 * PIN hashing and the wrong-PIN wait (see pin.h).
 */
#include "admin/pin.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gw.h"

/* 2^14 x 8 x 128 B = 16 MiB and ~50 ms a try: slow for guessing, fine for a login. */
#define SCRYPT_LOG_N 14
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SCRYPT_MAXMEM (64u << 20)
#define SALT_LEN 16
#define HASH_LEN 32
#define WAIT_FIRST_MS 30000
#define WAIT_MAX_MS 3600000

bool gw_pin_valid(const char *pin)
{
    size_t n = pin != NULL ? strlen(pin) : 0;

    if (n < 4 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pin[i] < 0x20 || pin[i] > 0x7e)
            return false;
    return true;
}

static bool derive(const char *pin, const unsigned char *salt, size_t salt_len, int log_n, int r,
                   int p, unsigned char out[HASH_LEN])
{
    return EVP_PBE_scrypt(pin, strlen(pin), salt, salt_len, (uint64_t)1 << log_n, (uint64_t)r,
                          (uint64_t)p, SCRYPT_MAXMEM, out, HASH_LEN) == 1;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static bool unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
    if (len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (unsigned char)v;
    }
    return true;
}

int gw_pin_hash(const char *pin, char *out, size_t n)
{
    unsigned char salt[SALT_LEN];
    unsigned char h[HASH_LEN];
    char salt_hex[2 * SALT_LEN + 1];
    char h_hex[2 * HASH_LEN + 1];
    int w;

    if (!gw_pin_valid(pin) || RAND_bytes(salt, sizeof(salt)) != 1 ||
        !derive(pin, salt, sizeof(salt), SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, h))
        return GW_ERR;
    hex(salt, sizeof(salt), salt_hex);
    hex(h, sizeof(h), h_hex);
    OPENSSL_cleanse(h, sizeof(h));
    w = snprintf(out, n, "scrypt$%d$%d$%d$%s$%s", SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, salt_hex,
                 h_hex);
    return w > 0 && (size_t)w < n ? 0 : GW_ERR;
}

bool gw_pin_verify(const char *pin, const char *stored)
{
    int log_n, r, p, used = 0;
    char salt_hex[2 * SALT_LEN + 1];
    char h_hex[2 * HASH_LEN + 1];
    unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    bool ok;

    if (pin == NULL || stored == NULL ||
        sscanf(stored, "scrypt$%d$%d$%d$%32[0-9a-f]$%64[0-9a-f]%n", &log_n, &r, &p, salt_hex,
               h_hex, &used) != 5 || stored[used] != '\0')
        return false;
    /* Only parameters this code could have written: a tampered row must not
     * make a login cost gigabytes. */
    if (log_n < 10 || log_n > 20 || r < 1 || r > 16 || p < 1 || p > 4 ||
        !unhex(salt_hex, strlen(salt_hex), salt, sizeof(salt)) ||
        !unhex(h_hex, strlen(h_hex), want, sizeof(want)))
        return false;
    ok = derive(pin, salt, sizeof(salt), log_n, r, p, got) &&
         CRYPTO_memcmp(got, want, sizeof(got)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}

int64_t gw_pin_wait_ms(int fails)
{
    int64_t wait = WAIT_FIRST_MS;

    if (fails < GW_PIN_FREE_TRIES)
        return 0;
    for (int i = GW_PIN_FREE_TRIES; i < fails && wait < WAIT_MAX_MS; i++)
        wait *= 2;
    return wait < WAIT_MAX_MS ? wait : WAIT_MAX_MS;
}
