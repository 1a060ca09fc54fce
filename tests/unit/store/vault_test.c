/*
 * Unit tests for store/vault.c: AES-256-GCM round trips, tamper and context
 * detection (every byte of a sealed blob), key parsing and the key file
 * (created 0600, reused, never regenerated when asked not to).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "store/vault.h"
#include "test_util.h"

static const char key_a[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char key_b[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

static void vault_with(gw_vault_t *v, const char *hex)
{
    gw_err_t err = {0};
    memset(v, 0, sizeof(*v));
    assert_int_equal(gw_vault_key_from_hex(v, hex, strlen(hex), "test key", &err), 0);
}

static void test_round_trip(void **state)
{
    static const char secret[] = "gsk_0123456789abcdefSECRET";
    gw_vault_t v;
    gw_err_t err = {0};
    unsigned char *b1 = NULL;
    unsigned char *b2 = NULL;
    size_t l1 = 0;
    size_t l2 = 0;
    char *pt = NULL;
    size_t pt_len = 0;

    (void)state;
    vault_with(&v, key_a);
    assert_int_equal(gw_vault_seal(&v, secret, strlen(secret), "key|1|groq", &b1, &l1, &err), 0);
    assert_int_equal(l1, strlen(secret) + GW_VAULT_OVERHEAD);
    assert_int_equal(b1[0], GW_VAULT_VERSION);
    assert_null(memmem(b1, l1, secret, strlen(secret)));
    assert_int_equal(gw_vault_open(&v, b1, l1, "key|1|groq", &pt, &pt_len, &err), 0);
    assert_int_equal(pt_len, strlen(secret));
    assert_string_equal(pt, secret);
    gw_vault_free_plain(pt);

    /* A fresh nonce each time: the same plaintext never seals the same. */
    assert_int_equal(gw_vault_seal(&v, secret, strlen(secret), "key|1|groq", &b2, &l2, &err), 0);
    assert_int_equal(l1, l2);
    assert_memory_not_equal(b1 + 1, b2 + 1, GW_VAULT_NONCE_LEN);
    assert_memory_not_equal(b1, b2, l1);
    free(b1);
    free(b2);
    gw_vault_wipe(&v);
    assert_false(v.loaded);
}

static void test_empty_plaintext(void **state)
{
    gw_vault_t v;
    unsigned char *b = NULL;
    size_t l = 0;
    char *pt = NULL;

    (void)state;
    vault_with(&v, key_a);
    assert_int_equal(gw_vault_seal(&v, "", 0, "ctx", &b, &l, NULL), 0);
    assert_int_equal(l, GW_VAULT_OVERHEAD);
    assert_int_equal(gw_vault_open(&v, b, l, "ctx", &pt, NULL, NULL), 0);
    assert_string_equal(pt, "");
    gw_vault_free_plain(pt);
    free(b);
}

/* Flipping any single bit anywhere (version, nonce, ciphertext, tag) must
 * fail with GW_ECRYPTO and hand back no plaintext. */
static void test_tamper_every_byte(void **state)
{
    static const char secret[] = "sk-or-v1-abcdef0123456789";
    gw_vault_t v;
    unsigned char *b = NULL;
    size_t l = 0;
    size_t i;
    int bit;

    (void)state;
    vault_with(&v, key_a);
    assert_int_equal(gw_vault_seal(&v, secret, strlen(secret), "key|7|openrouter", &b, &l, NULL),
                     0);
    for (i = 0; i < l; i++) {
        for (bit = 0; bit < 8; bit += 3) {
            gw_err_t err = {0};
            char *pt = (char *)"sentinel";
            size_t pt_len = 99;

            b[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(gw_vault_open(&v, b, l, "key|7|openrouter", &pt, &pt_len, &err),
                             GW_ECRYPTO);
            assert_null(pt);
            assert_int_equal(pt_len, 0);
            assert_int_equal(err.code, GW_ECRYPTO);
            assert_null(strstr(err.msg, secret));
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    /* Untouched, it still opens. */
    {
        char *pt = NULL;
        assert_int_equal(gw_vault_open(&v, b, l, "key|7|openrouter", &pt, NULL, NULL), 0);
        assert_string_equal(pt, secret);
        gw_vault_free_plain(pt);
    }
    free(b);
}

static void test_truncated_and_extended(void **state)
{
    gw_vault_t v;
    unsigned char *b = NULL;
    unsigned char *longer;
    size_t l = 0;
    size_t i;
    char *pt = NULL;

    (void)state;
    vault_with(&v, key_a);
    assert_int_equal(gw_vault_seal(&v, "abc", 3, "ctx", &b, &l, NULL), 0);
    for (i = 0; i < l; i++)
        assert_int_equal(gw_vault_open(&v, b, i, "ctx", &pt, NULL, NULL), GW_ECRYPTO);
    assert_int_equal(gw_vault_open(&v, NULL, 0, "ctx", &pt, NULL, NULL), GW_ECRYPTO);
    longer = malloc(l + 1);
    memcpy(longer, b, l);
    longer[l] = 0;
    assert_int_equal(gw_vault_open(&v, longer, l + 1, "ctx", &pt, NULL, NULL), GW_ECRYPTO);
    assert_null(pt);
    free(longer);
    free(b);
}

/* A blob moved to another row, provider or purpose fails like tampering. */
static void test_context_bound(void **state)
{
    gw_vault_t v;
    char ctx1[64];
    char ctx2[64];
    char ctx3[64];
    unsigned char *b = NULL;
    size_t l = 0;
    char *pt = NULL;

    (void)state;
    vault_with(&v, key_a);
    gw_vault_key_context(ctx1, sizeof(ctx1), 1, "groq");
    gw_vault_key_context(ctx2, sizeof(ctx2), 2, "groq");
    gw_vault_key_context(ctx3, sizeof(ctx3), 1, "google");
    assert_string_equal(ctx1, "key|1|groq");
    assert_int_equal(gw_vault_seal(&v, "secret-1", 8, ctx1, &b, &l, NULL), 0);
    assert_int_equal(gw_vault_open(&v, b, l, ctx2, &pt, NULL, NULL), GW_ECRYPTO);
    assert_int_equal(gw_vault_open(&v, b, l, ctx3, &pt, NULL, NULL), GW_ECRYPTO);
    assert_int_equal(gw_vault_open(&v, b, l, "setting|unified_key", &pt, NULL, NULL), GW_ECRYPTO);
    assert_null(pt);
    free(b);
}

static void test_wrong_key(void **state)
{
    gw_vault_t a;
    gw_vault_t bkey;
    unsigned char *b = NULL;
    size_t l = 0;
    char *pt = NULL;

    (void)state;
    vault_with(&a, key_a);
    vault_with(&bkey, key_b);
    assert_int_equal(gw_vault_seal(&a, "hello", 5, "ctx", &b, &l, NULL), 0);
    assert_int_equal(gw_vault_open(&bkey, b, l, "ctx", &pt, NULL, NULL), GW_ECRYPTO);
    assert_null(pt);
    free(b);
}

static void test_key_from_hex(void **state)
{
    static const char *const bad[] = {
        "",
        "0011",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",   /* 63 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0", /* 65 */
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeegg",  /* not hex */
        " 0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    gw_vault_t v;
    size_t i;

    (void)state;
    for (i = 0; i < GW_ARRAY_LEN(bad); i++) {
        gw_err_t err = {0};
        memset(&v, 0, sizeof(v));
        assert_int_equal(gw_vault_key_from_hex(&v, bad[i], strlen(bad[i]), "ENCRYPTION_KEY", &err),
                         GW_EINVAL);
        assert_false(v.loaded);
        assert_non_null(strstr(err.msg, "ENCRYPTION_KEY"));
        assert_non_null(strstr(err.msg, "64 hex"));
        if (strlen(bad[i]) > 8)
            assert_null(strstr(err.msg, bad[i]));
    }
    /* Upper case is fine. */
    vault_with(&v, "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF");
    assert_int_equal(v.key[5], 0x55);
    assert_int_equal(v.key[31], 0xff);
}

static void test_key_file(void **state)
{
    char dir[GW_TEST_DIR_MAX];
    char path[256];
    char text[128];
    gw_vault_t v1;
    gw_vault_t v2;
    gw_err_t err = {0};
    struct stat sb;
    bool created = false;
    FILE *f;
    size_t n;
    size_t i;

    (void)state;
    assert_int_equal(gw_test_dir_make(dir, "vault"), 0);
    gw_test_path(path, sizeof(path), dir, GW_VAULT_KEY_FILE);
    memset(&v1, 0, sizeof(v1));
    memset(&v2, 0, sizeof(v2));

    /* Missing and not allowed to create: GW_ENOTFOUND, nothing written. */
    assert_int_equal(gw_vault_key_file_load(&v1, path, false, &created, &err), GW_ENOTFOUND);
    assert_false(created);
    assert_int_not_equal(stat(path, &sb), 0);

    /* Created with mode 0600: 64 hex chars and a newline. */
    umask(022);
    assert_int_equal(gw_vault_key_file_load(&v1, path, true, &created, &err), 0);
    assert_true(created);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_int_equal(n, 65);
    assert_int_equal(text[64], '\n');
    for (i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", text[i]));

    /* Loaded again: the same key, not a new one. */
    assert_int_equal(gw_vault_key_file_load(&v2, path, true, &created, &err), 0);
    assert_false(created);
    assert_memory_equal(v1.key, v2.key, GW_VAULT_KEY_LEN);

    /* No temp file left behind. */
    {
        char tmp[300];
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
        assert_int_not_equal(stat(tmp, &sb), 0);
    }

    /* Too open a mode is used (with a warning in the log), not refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(gw_vault_key_file_load(&v2, path, false, &created, &err), 0);
    assert_memory_equal(v1.key, v2.key, GW_VAULT_KEY_LEN);
    assert_int_equal(chmod(path, 0600), 0);

    /* Malformed content is refused, never silently replaced. */
    f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    assert_int_equal(gw_vault_key_file_load(&v2, path, true, &created, &err), GW_EINVAL);
    assert_false(created);
    assert_non_null(strstr(err.msg, "64 hex"));
    f = fopen(path, "r");
    n = fread(text, 1, sizeof(text), f);
    fclose(f);
    assert_int_equal(n, 10);
    gw_test_dir_remove(dir);
}

static void test_random_hex(void **state)
{
    char a[49];
    char b[49];

    (void)state;
    assert_int_equal(gw_vault_random_hex(a, 24, NULL), 0);
    assert_int_equal(gw_vault_random_hex(b, 24, NULL), 0);
    assert_int_equal(strlen(a), 48);
    assert_int_equal(strspn(a, "0123456789abcdef"), 48);
    assert_string_not_equal(a, b);
}

int main(void)
{
    /* Quiet the expected "generated a new encryption key" notes. */
    setenv("LOG_LEVEL", "error", 1);
    gw_log_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_plaintext),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_truncated_and_extended),
        cmocka_unit_test(test_context_bound),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_key_from_hex),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_random_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
