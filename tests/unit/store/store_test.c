/*
 * Unit tests for the store (db.c, keyring.c, keys.c, settings.c, usage.c,
 * health.c, reqlog.c, responses.c) on real databases in temp dirs: the encryption key
 * rules at open, sealed keys, the unified key, preferences, the chain, usage,
 * key health, the request log and change detection across connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/store_int.h"
#include "test_util.h"

static const char key_a[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
static const char key_b[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

typedef struct fixture {
    char dir[GW_TEST_DIR_MAX];
    char path[128]; /* scratch */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (gw_test_dir_make(f->dir, "store") != 0)
        return -1;
    unsetenv("ENCRYPTION_KEY");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_test_dir_remove(f->dir);
    unsetenv("ENCRYPTION_KEY");
    free(f);
    return 0;
}

static const char *fpath(fixture_t *f, const char *name)
{
    return gw_test_path(f->path, sizeof(f->path), f->dir, name);
}

static gw_store_t *open_ok(fixture_t *f)
{
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    int rc = gw_store_open(&st, f->dir, &err);

    if (rc != 0)
        fail_msg("gw_store_open: %s", err.msg);
    return st;
}

static int64_t add_key(gw_store_t *st, const char *provider, const char *secret)
{
    gw_err_t err = {0};
    int64_t id = 0;

    if (gw_store_key_add(st, provider, secret, "label", NULL, &id, &err) != 0)
        fail_msg("key_add: %s", err.msg);
    return id;
}

/* Whether a file contains the bytes of s. */
static bool file_contains(const char *path, const char *s)
{
    FILE *fp = fopen(path, "rb");
    static char buf[4 << 20];
    size_t n;

    if (fp == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    return memmem(buf, n, s, strlen(s)) != NULL;
}

/* ---- open ---------------------------------------------------------------- */

static void test_open_fresh(void **state)
{
    fixture_t *f = *state;
    struct stat sb;
    gw_store_t *st;
    char sub[128];

    st = open_ok(f);
    assert_int_equal(gw_store_schema_version(st), gw__store_latest_version());
    assert_true(gw_store_config_version(st) >= 0);
    gw_store_close(st);
    assert_int_equal(stat(fpath(f, "freellmapi.db"), &sb), 0);
    assert_int_equal(sb.st_mode & 077, 0);
    assert_int_equal(stat(fpath(f, "encryption.key"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* A data dir that does not exist yet, several levels deep. */
    snprintf(sub, sizeof(sub), "%s/a/b/c", f->dir);
    {
        gw_store_t *st2 = NULL;
        gw_err_t err = {0};
        assert_int_equal(gw_store_open(&st2, sub, &err), 0);
        gw_store_close(st2);
    }
    assert_int_equal(stat(sub, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
}

static void test_env_key_no_file(void **state)
{
    fixture_t *f = *state;
    struct stat sb;
    gw_store_t *st;

    setenv("ENCRYPTION_KEY", key_a, 1);
    st = open_ok(f);
    add_key(st, "groq", "gsk_abcdefghijklmnop");
    gw_store_close(st);
    /* With ENCRYPTION_KEY set, no key file is written. */
    assert_int_not_equal(stat(fpath(f, "encryption.key"), &sb), 0);
}

static void test_env_key_malformed(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    setenv("ENCRYPTION_KEY", "abc123", 1);
    assert_int_not_equal(gw_store_open(&st, f->dir, &err), 0);
    assert_null(st);
    assert_non_null(strstr(err.msg, "ENCRYPTION_KEY"));
    assert_non_null(strstr(err.msg, "64 hex"));
}

static void test_wrong_env_key(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    setenv("ENCRYPTION_KEY", key_a, 1);
    st = open_ok(f);
    add_key(st, "groq", "gsk_abcdefghijklmnop");
    gw_store_close(st);

    setenv("ENCRYPTION_KEY", key_b, 1);
    st = NULL;
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_ECRYPTO);
    assert_null(st);
    assert_non_null(strstr(err.msg, "does not match the one this database was created with"));
    assert_non_null(strstr(err.msg, "ENCRYPTION_KEY"));

    /* Even an empty database (no keys yet) remembers its key. */
    setenv("ENCRYPTION_KEY", key_a, 1);
    st = open_ok(f);
    gw_store_close(st);
}

static void test_env_key_vs_key_file(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};

    st = open_ok(f); /* generates encryption.key */
    gw_store_close(st);
    setenv("ENCRYPTION_KEY", key_b, 1);
    st = NULL;
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_ECRYPTO);
    assert_non_null(strstr(err.msg, "does not match"));
    unsetenv("ENCRYPTION_KEY");
    st = open_ok(f);
    gw_store_close(st);
}

static void test_missing_key_file(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    struct stat sb;

    st = open_ok(f);
    add_key(st, "groq", "gsk_abcdefghijklmnop");
    gw_store_close(st);
    assert_int_equal(unlink(fpath(f, "encryption.key")), 0);

    st = NULL;
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_ECRYPTO);
    assert_null(st);
    assert_non_null(strstr(err.msg, "encryption.key is missing"));
    assert_non_null(strstr(err.msg, "restore"));
    assert_non_null(strstr(err.msg, "ENCRYPTION_KEY"));
    /* ... and no new key was generated behind the user's back. */
    assert_int_not_equal(stat(fpath(f, "encryption.key"), &sb), 0);
}

static void test_replaced_key_file(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    FILE *fp;

    st = open_ok(f);
    gw_store_close(st);
    fp = fopen(fpath(f, "encryption.key"), "w");
    fprintf(fp, "%s\n", key_b);
    fclose(fp);
    st = NULL;
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_ECRYPTO);
    assert_non_null(strstr(err.msg, "does not match"));
    assert_non_null(strstr(err.msg, "encryption.key"));
}

static void test_not_a_database(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = NULL;
    gw_err_t err = {0};
    FILE *fp;

    fp = fopen(fpath(f, "freellmapi.db"), "w");
    fputs("this is not an sqlite database, not even close, it is plain text......\n", fp);
    fclose(fp);
    assert_int_equal(gw_store_open(&st, f->dir, &err), GW_EDB);
    assert_null(st);
    assert_true(strlen(err.msg) > 0);
}

/* ---- keys ---------------------------------------------------------------- */

static void test_keys_round_trip(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_key_rec_t *recs = NULL;
    gw_err_t err = {0};
    size_t n = 0;
    int64_t id1;
    int64_t id2;
    int64_t id3 = 0;
    int64_t t0 = gw_now_ms();

    id1 = add_key(st, "groq", "gsk_first_secret_0001");
    id2 = add_key(st, "groq", "gsk_second_secret_0002");
    assert_int_equal(gw_store_key_add(st, "cloudflare", "cf-token-xyz", NULL, "acct_123", &id3,
                                      &err),
                     0);
    assert_true(id1 < id2 && id2 < id3);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(recs[0].id, id1);
    assert_string_equal(recs[0].provider, "groq");
    assert_string_equal(recs[0].label, "label");
    assert_string_equal(recs[0].secret, "gsk_first_secret_0001");
    assert_null(recs[0].account_id);
    assert_true(recs[0].created_ms >= t0 - 1000);
    assert_string_equal(recs[1].secret, "gsk_second_secret_0002");
    assert_string_equal(recs[2].provider, "cloudflare");
    assert_string_equal(recs[2].label, "");
    assert_string_equal(recs[2].account_id, "acct_123");
    assert_string_equal(recs[2].secret, "cf-token-xyz");
    gw_key_recs_free(recs, n);

    assert_int_equal(gw_store_key_rm(st, id2, &err), 0);
    assert_int_equal(gw_store_key_rm(st, id2, &err), GW_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no key with id"));
    assert_int_equal(gw_store_key_rm(st, 424242, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 2);
    gw_key_recs_free(recs, n);
    gw_store_close(st);

    /* Reopened: still there, still decrypts. */
    st = open_ok(f);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(recs[0].secret, "gsk_first_secret_0001");
    gw_key_recs_free(recs, n);
    /* Ids are never reused (AUTOINCREMENT): a removed key's id stays dead. */
    assert_true(add_key(st, "groq", "gsk_third_secret_0003") > id3);
    gw_store_close(st);

    /* No plaintext secret anywhere in the database files. */
    assert_false(file_contains(fpath(f, "freellmapi.db"), "gsk_first_secret_0001"));
    assert_false(file_contains(fpath(f, "freellmapi.db-wal"), "gsk_first_secret_0001"));
    assert_false(file_contains(fpath(f, "freellmapi.db-wal"), "gsk_third_secret_0003"));
    assert_false(file_contains(fpath(f, "freellmapi.db-wal"), "cf-token-xyz"));
}

static void test_keys_empty(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_key_rec_t *recs = (gw_key_rec_t *)1;
    size_t n = 7;

    assert_int_equal(gw_store_keys_load(st, &recs, &n, NULL), 0);
    assert_null(recs);
    assert_int_equal(n, 0);
    gw_store_close(st);
}

static void test_key_validation(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    char *huge = malloc(5000);
    gw_err_t err = {0};
    int64_t id = 0;
    size_t n = 0;
    gw_key_rec_t *recs = NULL;

    memset(huge, 'a', 4097);
    huge[4097] = '\0';
    assert_int_equal(gw_store_key_add(st, "groq", "", NULL, NULL, &id, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(gw_store_key_add(st, "groq", "abc def", NULL, NULL, &id, &err), GW_EINVAL);
    assert_null(strstr(err.msg, "abc def"));
    assert_int_equal(gw_store_key_add(st, "groq", "abc\tdef", NULL, NULL, &id, &err), GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "groq", "abc\ndef", NULL, NULL, &id, &err), GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "groq", "abc\x7f", NULL, NULL, &id, &err), GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "groq", "caf\xc3\xa9", NULL, NULL, &id, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "groq", huge, NULL, NULL, &id, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
    huge[4096] = '\0'; /* exactly the limit is fine */
    assert_int_equal(gw_store_key_add(st, "groq", huge, NULL, NULL, &id, &err), 0);
    assert_int_equal(gw_store_key_add(st, "", "secret", NULL, NULL, &id, &err), GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "groq", "secret", "bad\nlabel", NULL, &id, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "cloudflare", "secret", NULL, "acct id", &id, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_key_add(st, "cloudflare", "secret", NULL, "", &id, &err),
                     GW_EINVAL);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(recs[0].secret), 4096);
    gw_key_recs_free(recs, n);
    free(huge);
    gw_store_close(st);
}

/* A ciphertext copied into another row fails to decrypt (the row id and
 * provider are authenticated), with a clear message and no plaintext. */
static void test_swapped_ciphertext(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_key_rec_t *recs = NULL;
    gw_err_t err = {0};
    size_t n = 0;
    sqlite3 *db = NULL;
    int64_t id1;
    int64_t id2;
    char sql[256];

    id1 = add_key(st, "groq", "gsk_victim_secret_1");
    id2 = add_key(st, "google", "AIza_attacker_key_2");
    gw_store_close(st);

    assert_int_equal(sqlite3_open(fpath(f, "freellmapi.db"), &db), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "UPDATE keys SET secret = (SELECT secret FROM keys WHERE id = %lld) WHERE id = %lld",
             (long long)id1, (long long)id2);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    st = open_ok(f);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), GW_ECRYPTO);
    assert_null(recs);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "cannot decrypt key"));
    assert_null(strstr(err.msg, "gsk_victim"));
    /* The damaged key can still be removed, after which loading works. */
    assert_int_equal(gw_store_key_rm(st, id2, &err), 0);
    assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].secret, "gsk_victim_secret_1");
    gw_key_recs_free(recs, n);
    gw_store_close(st);
}

static void test_mask_secret(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"gsk_abcdefghijklmnopqrstuvwxyz", "gsk_\xe2\x80\xa6wxyz"},
        {"sk-abcdefghijklmn", "sk-a\xe2\x80\xa6klmn"}, /* 17: 4 + 4 */
        {"0123456789ab", "012\xe2\x80\xa6" "9ab"},    /* 12: 3 + 3 */
        {"abcdefgh", "ab\xe2\x80\xa6gh"},
        {"abcd", "a\xe2\x80\xa6" "d"},
        {"abc", "\xe2\x80\xa6"},
        {"a", "\xe2\x80\xa6"},
        {"", ""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < GW_ARRAY_LEN(cases); i++) {
        char *m = gw_mask_secret(cases[i].in);
        assert_string_equal(m, cases[i].out);
        if (cases[i].in[0] != '\0')
            assert_null(strstr(m, cases[i].in));
        free(m);
    }
    /* Never the whole secret, whatever its length. */
    for (i = 1; i < 64; i++) {
        char s[65];
        char *m;
        size_t j;
        size_t shown = 0;

        for (j = 0; j < i; j++)
            s[j] = (char)('A' + j % 26);
        s[i] = '\0';
        m = gw_mask_secret(s);
        for (j = 0; m[j] != '\0'; j++)
            shown += ((unsigned char)m[j] & 0x80) == 0;
        assert_true(shown <= 8);
        assert_true(shown < i);
        free(m);
    }
}

/* ---- unified key ----------------------------------------------------------- */

static void test_unified_key(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    char *k1 = NULL;
    char *k2 = NULL;
    char *k3 = NULL;

    assert_int_equal(gw_store_unified_key(st, false, &k1, &err), 0);
    assert_int_equal(strlen(k1), strlen("freellmapi-") + 48);
    assert_int_equal(strncmp(k1, "freellmapi-", 11), 0);
    assert_int_equal(strspn(k1 + 11, "0123456789abcdef"), 48);
    assert_int_equal(gw_store_unified_key(st, false, &k2, &err), 0);
    assert_string_equal(k1, k2);
    free(k2);
    gw_store_close(st);
    assert_false(file_contains(fpath(f, "freellmapi.db"), k1 + 11));
    assert_false(file_contains(fpath(f, "freellmapi.db-wal"), k1 + 11));

    st = open_ok(f);
    assert_int_equal(gw_store_unified_key(st, false, &k2, &err), 0);
    assert_string_equal(k1, k2);
    assert_true(gw_store_token_eq(k2, k1));
    assert_int_equal(gw_store_unified_key(st, true, &k3, &err), 0);
    assert_string_not_equal(k1, k3);
    assert_false(gw_store_token_eq(k1, k3));
    assert_false(gw_store_token_eq("freellmapi-", k3));
    assert_false(gw_store_token_eq(NULL, k3));
    free(k2);
    assert_int_equal(gw_store_unified_key(st, false, &k2, &err), 0);
    assert_string_equal(k2, k3);
    free(k1);
    free(k2);
    free(k3);
    gw_store_close(st);
}

/* ---- settings, preferences, chain ------------------------------------------------ */

static void test_settings(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    char *v = NULL;

    assert_int_equal(gw_store_setting_get(st, "theme", &v, &err), GW_ENOTFOUND);
    assert_null(v);
    assert_int_equal(gw_store_setting_set(st, "theme", "dark", &err), 0);
    assert_int_equal(gw_store_setting_set(st, "theme", "light", &err), 0);
    assert_int_equal(gw_store_setting_get(st, "theme", &v, &err), 0);
    assert_string_equal(v, "light");
    free(v);
    assert_int_equal(gw_store_setting_get(st, "unified_key", &v, &err), GW_EINVAL);
    assert_int_equal(gw_store_setting_set(st, "unified_key", "x", &err), GW_EINVAL);
    gw_store_close(st);
}

typedef struct pref_seen {
    char line[16][160];
    size_t n;
} pref_seen_t;

static void on_pref(void *ctx, const char *provider, const char *model, bool enabled)
{
    pref_seen_t *s = ctx;
    if (s->n < 16)
        snprintf(s->line[s->n++], sizeof(s->line[0]), "%s/%s=%d", provider, model, enabled);
}

static void test_model_prefs(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    pref_seen_t seen = {0};

    assert_int_equal(gw_store_model_enabled_set(st, "groq", "openai/gpt-oss-120b", false, &err),
                     0);
    assert_int_equal(gw_store_model_enabled_set(st, "cerebras", "gpt-oss-120b", true, &err), 0);
    assert_int_equal(gw_store_model_enabled_set(st, "groq", "openai/gpt-oss-120b", true, &err), 0);
    assert_int_equal(gw_store_model_enabled_set(st, "", "x", true, &err), GW_EINVAL);
    gw_store_close(st);
    st = open_ok(f);
    assert_int_equal(gw_store_model_prefs_load(st, on_pref, &seen, &err), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.line[0], "cerebras/gpt-oss-120b=1");
    assert_string_equal(seen.line[1], "groq/openai/gpt-oss-120b=1");
    gw_store_close(st);
}

static void test_chain(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    char *set1[] = {"groq/openai/gpt-oss-120b", "google/gemini-2.5-flash", "cerebras/x"};
    char *dup[] = {"groq/a", "groq/a"};
    char *bad1[] = {"noslash"};
    char *bad2[] = {"/model"};
    char *bad3[] = {"provider/"};
    char **v = NULL;
    size_t n = 0;

    assert_int_equal(gw_store_chain_load(st, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    gw_strv_free(v, n);
    assert_int_equal(gw_store_chain_set(st, set1, 3, &err), 0);
    assert_int_equal(gw_store_chain_set(st, dup, 2, &err), GW_EINVAL);
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(gw_store_chain_set(st, bad1, 1, &err), GW_EINVAL);
    assert_int_equal(gw_store_chain_set(st, bad2, 1, &err), GW_EINVAL);
    assert_int_equal(gw_store_chain_set(st, bad3, 1, &err), GW_EINVAL);
    gw_store_close(st);

    st = open_ok(f);
    assert_int_equal(gw_store_chain_load(st, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "groq/openai/gpt-oss-120b");
    assert_string_equal(v[1], "google/gemini-2.5-flash");
    assert_string_equal(v[2], "cerebras/x");
    gw_strv_free(v, n);
    /* Set replaces; the old order is gone. */
    assert_int_equal(gw_store_chain_set(st, set1 + 1, 1, &err), 0);
    assert_int_equal(gw_store_chain_load(st, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "google/gemini-2.5-flash");
    gw_strv_free(v, n);
    assert_int_equal(gw_store_chain_set(st, NULL, 0, &err), 0);
    assert_int_equal(gw_store_chain_load(st, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    gw_strv_free(v, n);
    gw_store_close(st);
}

/* ---- usage ---------------------------------------------------------------- */

typedef struct usage_seen {
    gw_usage_row_t rows[8];
    char strs[8][2][64];
    size_t n;
} usage_seen_t;

static void on_usage(void *ctx, const gw_usage_row_t *row)
{
    usage_seen_t *s = ctx;

    if (s->n >= 8)
        return;
    s->rows[s->n] = *row;
    snprintf(s->strs[s->n][0], 64, "%s", row->provider);
    snprintf(s->strs[s->n][1], 64, "%s", row->model);
    s->rows[s->n].provider = s->strs[s->n][0];
    s->rows[s->n].model = s->strs[s->n][1];
    s->n++;
}

static void test_usage(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    usage_seen_t seen = {0};
    int64_t kid = add_key(st, "groq", "gsk_usage_key_1234");
    gw_usage_row_t rows[] = {
        {"groq", "llama", kid, 1000, 3, 300},
        {"groq", "", kid, 1000, 5, 500},
        {"pollinations", "openai-fast", 0, 1000, 1, 10},
    };

    assert_int_equal(gw_store_usage_save(st, rows, 3, &err), 0);
    rows[0].requests = 4; /* replaces, not adds */
    rows[0].tokens = 450;
    assert_int_equal(gw_store_usage_save(st, rows, 1, &err), 0);
    rows[0].period_start_ms = 2000;
    rows[0].requests = 1;
    assert_int_equal(gw_store_usage_save(st, rows, 1, &err), 0);
    assert_int_equal(gw_store_usage_save(st, rows, 0, &err), 0);
    gw_store_close(st);

    st = open_ok(f);
    assert_int_equal(gw_store_usage_load(st, on_usage, &seen, &err), 0);
    assert_int_equal(seen.n, 4);
    /* Ordered by provider, model, key, period. */
    assert_string_equal(seen.rows[0].provider, "groq");
    assert_string_equal(seen.rows[0].model, "");
    assert_int_equal(seen.rows[0].requests, 5);
    assert_string_equal(seen.rows[1].model, "llama");
    assert_int_equal(seen.rows[1].period_start_ms, 1000);
    assert_int_equal(seen.rows[1].requests, 4);
    assert_int_equal(seen.rows[1].tokens, 450);
    assert_int_equal(seen.rows[1].key_id, kid);
    assert_int_equal(seen.rows[2].period_start_ms, 2000);
    assert_int_equal(seen.rows[2].requests, 1);
    assert_string_equal(seen.rows[3].provider, "pollinations");
    assert_int_equal(seen.rows[3].key_id, 0);

    assert_int_equal(gw_store_usage_prune(st, 1500, &err), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_usage_load(st, on_usage, &seen, &err), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.rows[0].period_start_ms, 2000);

    /* Removing a key removes its usage rows. */
    assert_int_equal(gw_store_key_rm(st, kid, &err), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_usage_load(st, on_usage, &seen, &err), 0);
    assert_int_equal(seen.n, 0);
    gw_store_close(st);
}

/* ---- key health ------------------------------------------------------------- */

typedef struct health_seen {
    int64_t id[8];
    char health[8][32];
    char detail[8][64];
    int64_t at[8];
    size_t n;
} health_seen_t;

static void on_health(void *ctx, int64_t key_id, const char *health, const char *detail,
                      int64_t at_ms)
{
    health_seen_t *s = ctx;

    if (s->n >= 8)
        return;
    s->id[s->n] = key_id;
    snprintf(s->health[s->n], 32, "%s", health);
    snprintf(s->detail[s->n], 64, "%s", detail);
    s->at[s->n] = at_ms;
    s->n++;
}

static void test_key_health(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    health_seen_t seen = {0};
    int64_t k1 = add_key(st, "groq", "gsk_health_key_1");
    int64_t k2 = add_key(st, "groq", "gsk_health_key_2");

    assert_int_equal(gw_store_key_health_set(st, k1, "ok", NULL, 100, &err), 0);
    assert_int_equal(gw_store_key_health_set(st, k2, "rate_limited", "429 from upstream", 200,
                                             &err),
                     0);
    assert_int_equal(gw_store_key_health_set(st, k1, "invalid", "401", 300, &err), 0);
    assert_int_equal(gw_store_key_health_set(st, 9999, "ok", NULL, 1, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_key_health_set(st, k1, "", NULL, 1, &err), GW_EINVAL);
    assert_int_equal(gw_store_key_health_load(st, on_health, &seen, &err), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.id[0], k1);
    assert_string_equal(seen.health[0], "invalid");
    assert_string_equal(seen.detail[0], "401");
    assert_int_equal(seen.at[0], 300);
    assert_string_equal(seen.health[1], "rate_limited");

    /* Health goes with its key. */
    assert_int_equal(gw_store_key_rm(st, k1, &err), 0);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_key_health_load(st, on_health, &seen, &err), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.id[0], k2);
    gw_store_close(st);
}

/* ---- request log ------------------------------------------------------------ */

typedef struct log_seen {
    int64_t id[64];
    int64_t at[64];
    int status[64];
    int64_t ttfb[64];
    int attempts[64];
    char error_class[64][32];
    char provider[64][32];
    bool stream[64];
    size_t n;
} log_seen_t;

static void on_log(void *ctx, int64_t id, const gw_reqlog_row_t *r)
{
    log_seen_t *s = ctx;

    if (s->n >= 64)
        return;
    s->id[s->n] = id;
    s->at[s->n] = r->at_ms;
    s->status[s->n] = r->status;
    s->ttfb[s->n] = r->ttfb_ms;
    s->attempts[s->n] = r->attempts;
    snprintf(s->error_class[s->n], 32, "%s", r->error_class ? r->error_class : "(null)");
    snprintf(s->provider[s->n], 32, "%s", r->provider ? r->provider : "(null)");
    s->stream[s->n] = r->stream;
    s->n++;
}

static void test_reqlog(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    gw_reqlog_row_t rows[20];
    log_seen_t seen;
    size_t i;

    assert_int_equal(gw_store_reqlog_count(st), 0);
    for (i = 0; i < 20; i++) {
        gw_reqlog_row_t r = {
            .at_ms = 1000 + (int64_t)i * 100,
            .endpoint = "/v1/chat/completions",
            .provider = i % 5 == 0 ? NULL : "groq",
            .model = i % 5 == 0 ? NULL : "llama",
            .key_id = (int64_t)i % 3,
            .status = i % 4 == 0 ? 429 : 200,
            .latency_ms = 50 + (int64_t)i,
            .ttfb_ms = i % 2 ? 20 : -1,
            .tokens_in = 10,
            .tokens_out = 20,
            .attempts = 1 + (int)(i % 3),
            .error_class = i % 4 == 0 ? "rate_limited" : NULL,
            .stream = i % 2 == 1,
        };
        rows[i] = r;
    }
    assert_int_equal(gw_store_reqlog_append(st, rows, 20, &err), 0);
    assert_int_equal(gw_store_reqlog_append(st, rows, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 20);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_reqlog_recent(st, 0, 5, on_log, &seen, &err), 0);
    assert_int_equal(seen.n, 5);
    assert_int_equal(seen.at[0], 1000 + 19 * 100); /* newest first */
    assert_int_equal(seen.ttfb[0], 20);
    assert_true(seen.stream[0]);
    assert_int_equal(seen.attempts[0], 1 + 19 % 3);
    assert_true(seen.id[0] > seen.id[1]);
    /* Paging. */
    {
        int64_t last = seen.id[4];
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(gw_store_reqlog_recent(st, last, 100, on_log, &seen, &err), 0);
        assert_int_equal(seen.n, 15);
        assert_int_equal(seen.at[14], 1000);
        assert_int_equal(seen.status[14], 429);
        assert_string_equal(seen.error_class[14], "rate_limited");
        assert_string_equal(seen.provider[14], "(null)");
        assert_string_equal(seen.error_class[13], "(null)");
    }

    /* Prune by age: rows before 1500 go (5 rows: 1000..1400). */
    assert_int_equal(gw_store_reqlog_prune(st, 1500, -1, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 15);
    /* Prune by count: keep the 4 newest. */
    assert_int_equal(gw_store_reqlog_prune(st, 0, 4, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 4);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(gw_store_reqlog_recent(st, 0, 100, on_log, &seen, &err), 0);
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.at[3], 1000 + 16 * 100);
    /* More rows allowed than exist, or no limits at all: nothing changes. */
    assert_int_equal(gw_store_reqlog_prune(st, 0, 100, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_prune(st, 0, -1, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 4);
    /* Both at once. */
    assert_int_equal(gw_store_reqlog_prune(st, 1000 + 18 * 100, 1, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 1);
    assert_int_equal(gw_store_reqlog_prune(st, 0, 0, 0, &err), 0);
    assert_int_equal(gw_store_reqlog_count(st), 0);
    gw_store_close(st);
}

/* ---- two connections -------------------------------------------------------- */

static void test_config_version_two_handles(void **state)
{
    fixture_t *f = *state;
    gw_store_t *server = open_ok(f);
    gw_store_t *cli = open_ok(f);
    gw_key_rec_t *recs = NULL;
    gw_err_t err = {0};
    size_t n = 0;
    int64_t v0;
    int64_t v1;
    int64_t v2;

    v0 = gw_store_config_version(server);
    /* The server's own bookkeeping is not configuration. */
    {
        gw_reqlog_row_t r = {.at_ms = 1, .endpoint = "/v1/x", .status = 200, .attempts = 1};
        assert_int_equal(gw_store_reqlog_append(cli, &r, 1, &err), 0);
        assert_int_equal(gw_store_sig_put(cli, "call_1", "sig", 1000, &err), 0);
    }
    assert_int_equal(gw_store_config_version(server), v0);
    add_key(cli, "groq", "gsk_from_the_cli_123");
    v1 = gw_store_config_version(server);
    assert_true(v1 != v0);
    assert_int_equal(gw_store_keys_load(server, &recs, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(recs[0].secret, "gsk_from_the_cli_123");
    assert_int_equal(gw_store_key_health_set(server, recs[0].id, "ok", "", 5, &err), 0);
    gw_key_recs_free(recs, n);
    assert_int_equal(gw_store_config_version(server), v1);
    /* Settings count, whichever handle writes them. */
    assert_int_equal(gw_store_setting_set(server, "x", "1", &err), 0);
    v2 = gw_store_config_version(cli);
    assert_true(v2 != v1);
    assert_int_equal(gw_store_config_version(server), v2);

    /* Interleaved writers on both handles: WAL + BEGIN IMMEDIATE. */
    for (int i = 0; i < 20; i++) {
        gw_reqlog_row_t r = {.at_ms = i, .endpoint = "/v1/x", .status = 200, .attempts = 1};
        assert_int_equal(gw_store_reqlog_append(i % 2 ? server : cli, &r, 1, &err), 0);
    }
    assert_int_equal(gw_store_reqlog_count(server), 21);
    assert_int_equal(gw_store_config_version(server), v2);
    gw_store_close(cli);
    gw_store_close(server);
}

/* A write waits for another connection's write transaction instead of
 * failing: the busy timeout covers BEGIN IMMEDIATE. The lock holder is a
 * thread with its own connection (connections must not cross fork()). */
typedef struct locker {
    const char *path;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool locked;
} locker_t;

static void *hold_write_lock(void *arg)
{
    locker_t *l = arg;
    sqlite3 *db = NULL;

    sqlite3_open(l->path, &db);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    pthread_mutex_lock(&l->mu);
    l->locked = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    usleep(300 * 1000);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return NULL;
}

static void test_busy_wait(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    locker_t l = {.path = fpath(f, "freellmapi.db"), .locked = false};
    gw_err_t err = {0};
    pthread_t th;
    int64_t t0;

    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    assert_int_equal(pthread_create(&th, NULL, hold_write_lock, &l), 0);
    pthread_mutex_lock(&l.mu);
    while (!l.locked)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    t0 = gw_now_ms();
    assert_int_equal(gw_store_setting_set(st, "busy", "waited", &err), 0);
    assert_int_equal(gw_store_reqlog_append(st, &(gw_reqlog_row_t){.endpoint = "/x"}, 1, &err),
                     0);
    assert_true(gw_now_ms() - t0 >= 200);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&l.mu);
    pthread_cond_destroy(&l.cv);
    gw_store_close(st);
}

/* Stored responses: kept sealed (the text is not in the file), read back
 * until they expire, replaced by id, deleted once; expired rows go when a
 * new one is put. */
static void test_responses(void **state)
{
    fixture_t *f = *state;
    gw_store_t *st = open_ok(f);
    gw_err_t err = {0};
    char *rec = NULL;
    const int64_t now = 1800000000000;
    const char *secret_text = "{\"conversation\":\"the-plain-text-marker\"}";
    FILE *db;
    char buf[1 << 16];
    size_t n;
    bool found = false;

    assert_int_equal(gw_store_response_put(st, "resp_a", secret_text, now, 1000, &err), 0);
    assert_int_equal(gw_store_response_get(st, "resp_a", now + 999, &rec, &err), 0);
    assert_string_equal(rec, secret_text);
    free(rec);
    assert_int_equal(gw_store_response_get(st, "resp_a", now + 1000, &rec, &err), GW_ENOTFOUND);
    assert_null(rec);
    assert_int_equal(gw_store_response_get(st, "resp_zz", now, &rec, &err), GW_ENOTFOUND);
    /* Sealed at rest. */
    gw_store_close(st);
    db = fopen(fpath(f, "freellmapi.db"), "rb");
    assert_non_null(db);
    while ((n = fread(buf, 1, sizeof(buf), db)) > 0)
        if (memmem(buf, n, "plain-text-marker", 17) != NULL)
            found = true;
    fclose(db);
    assert_false(found);
    st = open_ok(f);
    /* A new put drops the expired one; replace keeps one row per id. */
    assert_int_equal(gw_store_response_put(st, "resp_b", "{\"v\":1}", now + 5000, 1000, &err), 0);
    assert_int_equal(gw_store_response_put(st, "resp_b", "{\"v\":2}", now + 5000, 1000, &err), 0);
    assert_int_equal(gw_store_response_get(st, "resp_b", now + 5001, &rec, &err), 0);
    assert_string_equal(rec, "{\"v\":2}");
    free(rec);
    assert_int_equal(gw_store_response_delete(st, "resp_a", &err), GW_ENOTFOUND); /* pruned */
    assert_int_equal(gw_store_response_delete(st, "resp_b", &err), 0);
    assert_int_equal(gw_store_response_delete(st, "resp_b", &err), GW_ENOTFOUND);
    gw_store_close(st);
}

int main(void)
{
    gw_test_log_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_key_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_key_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_env_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_key_vs_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swapped_ciphertext, setup, teardown),
        cmocka_unit_test(test_mask_secret),
        cmocka_unit_test_setup_teardown(test_unified_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_prefs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reqlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_version_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_responses, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
