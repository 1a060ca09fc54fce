/*
 * The vault: AES-256-GCM sealing of secrets (provider keys, the unified client
 * key) with OpenSSL EVP, and loading of the 32-byte encryption key from
 * ENCRYPTION_KEY or the data dir's key file. Internal to store/ (and its
 * tests); no SQLite here.
 *
 * Sealed blob layout (stored as a BLOB):
 *
 *   version (1 byte, 0x01) | nonce (12 bytes, fresh from the CSPRNG) |
 *   ciphertext (same length as the plaintext) | GCM tag (16 bytes)
 *
 * The version byte and a caller-chosen context string ("key|42|groq") are
 * authenticated as AAD, so a blob copied to another row, another provider or
 * another purpose fails to open exactly like a tampered one.
 */
#ifndef GW_STORE_VAULT_H
#define GW_STORE_VAULT_H

#include "core/gw.h"

#define GW_VAULT_KEY_LEN 32
#define GW_VAULT_KEY_HEX_LEN 64
#define GW_VAULT_VERSION 1
#define GW_VAULT_NONCE_LEN 12
#define GW_VAULT_TAG_LEN 16
#define GW_VAULT_OVERHEAD (1 + GW_VAULT_NONCE_LEN + GW_VAULT_TAG_LEN)
#define GW_VAULT_MAX_PLAINTEXT (1024 * 1024)
#define GW_VAULT_KEY_FILE "encryption.key"

typedef struct gw_vault {
    unsigned char key[GW_VAULT_KEY_LEN];
    bool loaded;
} gw_vault_t;

/* Parses exactly 64 hex characters into the key. GW_EINVAL otherwise; the
 * message names `what` ("ENCRYPTION_KEY") and never echoes the input. */
int gw_vault_key_from_hex(gw_vault_t *v, const char *hex, size_t len, const char *what,
                          gw_err_t *err);

/* Loads the key from the file at path. When the file does not exist and
 * may_create is true, generates a fresh random key and writes it atomically
 * (O_CREAT|O_EXCL temp file, mode 0600, then link(2)), setting *created; when
 * may_create is false, returns GW_ENOTFOUND. A file readable by group or
 * others is used but logged as a warning. GW_EINVAL for malformed content,
 * GW_EIO for I/O failures. */
int gw_vault_key_file_load(gw_vault_t *v, const char *path, bool may_create, bool *created,
                           gw_err_t *err);

/* Erases the key. */
void gw_vault_wipe(gw_vault_t *v);

/* Seals len bytes of plaintext under the key with context as AAD. On success
 * *out (caller frees) holds len + GW_VAULT_OVERHEAD bytes. GW_ECRYPTO if
 * OpenSSL fails, GW_ETOOBIG above GW_VAULT_MAX_PLAINTEXT. */
int gw_vault_seal(const gw_vault_t *v, const void *pt, size_t len, const char *context,
                  unsigned char **out, size_t *out_len, gw_err_t *err);

/* Opens a sealed blob. On success *out is the NUL-terminated plaintext
 * (caller wipes it with OPENSSL_cleanse, or gw_vault_free_plain, before
 * freeing) and *out_len its length. GW_ECRYPTO when the blob is malformed,
 * tampered, sealed under another key or for another context: *out is then
 * NULL and no plaintext byte survives in memory. */
int gw_vault_open(const gw_vault_t *v, const void *blob, size_t len, const char *context,
                  char **out, size_t *out_len, gw_err_t *err);

/* Wipes and frees a NUL-terminated plaintext from gw_vault_open (NULL ok). */
void gw_vault_free_plain(char *p);

/* n random bytes from the CSPRNG written as 2n lowercase hex chars plus NUL
 * into hex (size >= 2n + 1). GW_ECRYPTO when the CSPRNG fails. */
int gw_vault_random_hex(char *hex, size_t n, gw_err_t *err);

/* The AAD context of a provider key row: "key|<id>|<provider>". */
void gw_vault_key_context(char *buf, size_t size, int64_t id, const char *provider);

#endif
