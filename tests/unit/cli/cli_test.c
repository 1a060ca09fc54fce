/*
 * End-to-end tests of the CLI commands (keys, unified-key, models, chain):
 * each runs through gw__cli_* against a temp data dir and the built-in
 * catalog, with stdout/stderr captured, checking exit codes, messages and
 * that no full secret is ever printed.
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

#include "cli/cli_int.h"
#include "test_util.h"

typedef struct fixture {
    char dir[GW_TEST_DIR_MAX];
    char out[16384];
    char err[16384];
    FILE *in;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));

    if (gw_test_dir_make(f->dir, "cli") != 0)
        return -1;
    unsetenv("ENCRYPTION_KEY");
    unsetenv("FREELLMAPI_CATALOG"); /* the built-in catalog */
    unsetenv("FREELLMAPI_DATA_DIR");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    gw_test_dir_remove(f->dir);
    if (f->in != NULL)
        fclose(f->in);
    free(f);
    return 0;
}

static void slurp(FILE *fp, char *buf, size_t size)
{
    size_t n;

    rewind(fp);
    n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

typedef int (*cmd_fn)(int, char **, const char *, const gw__cli_io_t *);

/* Runs a command with a NULL-terminated argument list; captures its output. */
static int run(fixture_t *f, cmd_fn fn, const char *data_dir, ...)
{
    char *argv[32];
    int argc = 0;
    gw__cli_io_t io = {tmpfile(), tmpfile(), f->in != NULL ? f->in : stdin};
    va_list ap;
    const char *a;
    int rc;

    va_start(ap, data_dir);
    for (a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    rc = fn(argc, argv, data_dir, &io);
    slurp(io.out, f->out, sizeof(f->out));
    slurp(io.err, f->err, sizeof(f->err));
    return rc;
}

#define KEYS(...) run(f, gw__cli_keys, f->dir, __VA_ARGS__, NULL)
#define UNIFIED(...) run(f, gw__cli_unified_key, f->dir, __VA_ARGS__, NULL)
#define MODELS(...) run(f, gw__cli_models, f->dir, __VA_ARGS__, NULL)
#define CHAIN(...) run(f, gw__cli_chain, f->dir, __VA_ARGS__, NULL)

static void assert_has(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
    if (strstr(hay, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, hay);
}

/* ---- keys ----------------------------------------------------------------- */

static void test_keys_add_list_rm(void **state)
{
    fixture_t *f = *state;
    static const char s1[] = "gsk_FIRSTsecretVALUE0123456789";
    static const char s2[] = "AIzaSECONDsecretVALUE987654321";

    assert_int_equal(KEYS("list"), 0);
    assert_has(f->out, "no keys yet");

    assert_int_equal(KEYS("add", "groq", s1, "--label", "personal"), 0);
    assert_has(f->out, "added key 1 for groq: gsk_");
    assert_has(f->out, "6789");
    assert_lacks(f->out, s1);
    assert_lacks(f->err, s1);
    assert_int_equal(KEYS("add", "--label=work", "google", s2), 0);
    assert_has(f->out, "added key 2 for google");

    assert_int_equal(KEYS("list"), 0);
    assert_has(f->out, "ID");
    assert_has(f->out, "PROVIDER");
    assert_has(f->out, "groq");
    assert_has(f->out, "personal");
    assert_has(f->out, "google");
    assert_has(f->out, "work");
    assert_has(f->out, "gsk_\xe2\x80\xa6" "6789");
    assert_has(f->out, "UTC");
    assert_lacks(f->out, s1);
    assert_lacks(f->out, s2);
    assert_lacks(f->out, "FIRSTsecret");

    assert_int_equal(KEYS("rm", "1"), 0);
    assert_has(f->out, "removed key 1");
    assert_int_equal(KEYS("rm", "1"), 1);
    assert_has(f->err, "no key with id 1");
    assert_int_equal(KEYS("rm", "99"), 1);
    assert_has(f->err, "no key with id 99");
    assert_int_equal(KEYS("rm", "abc"), 1);
    assert_has(f->err, "not a key id");
    assert_int_equal(KEYS("rm", "0"), 1);
    assert_int_equal(KEYS("rm", "12x"), 1);
    assert_int_equal(KEYS("list"), 0);
    assert_lacks(f->out, "personal");
    assert_has(f->out, "work");
}

static void test_keys_add_errors(void **state)
{
    fixture_t *f = *state;
    char huge[5000];

    assert_int_equal(KEYS("add", "nosuchprovider", "secret123"), 1);
    assert_has(f->err, "unknown provider 'nosuchprovider'");
    assert_has(f->err, "groq");
    assert_int_equal(KEYS("add", "groq", "has space"), 1);
    assert_has(f->err, "whitespace");
    assert_lacks(f->err, "has space");
    assert_int_equal(KEYS("add", "groq", ""), 1);
    assert_has(f->err, "empty");
    memset(huge, 'x', 4200);
    huge[4200] = '\0';
    assert_int_equal(KEYS("add", "groq", huge), 1);
    assert_has(f->err, "too long");
    assert_int_equal(KEYS("add", "groq", "gsk_abcdefgh12345678", "--account-id", "abc"), 1);
    assert_has(f->err, "takes no account id");
    /* Nothing was stored by any of these. */
    assert_int_equal(KEYS("list"), 0);
    assert_has(f->out, "no keys yet");
}

static void test_keys_cloudflare(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(KEYS("add", "cloudflare", "cf_token_abcdefgh1234"), 1);
    assert_has(f->err, "account id");
    assert_has(f->err, "--account-id");
    assert_int_equal(KEYS("add", "cloudflare", "cf_token_abcdefgh1234", "--account-id",
                          "0123abcd"),
                     0);
    assert_has(f->out, "added key 1 for cloudflare");
    /* ACCOUNT_ID:TOKEN, split on the first colon. */
    assert_int_equal(KEYS("add", "cloudflare", "acct9876:cf_token_zyxwvuts9876"), 0);
    assert_has(f->out, "added key 2 for cloudflare: cf_t");
    assert_lacks(f->out, "acct9876");
    assert_int_equal(KEYS("add", "cloudflare", ":tokenonly"), 1);
    assert_int_equal(KEYS("add", "cloudflare", "acct:"), 1);
    assert_int_equal(KEYS("add", "cloudflare", "tok", "--account-id", "bad id"), 1);

    {
        gw_store_t *st = NULL;
        gw_key_rec_t *recs = NULL;
        size_t n = 0;
        gw_err_t err = {0};

        assert_int_equal(gw_store_open(&st, f->dir, &err), 0);
        assert_int_equal(gw_store_keys_load(st, &recs, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(recs[0].account_id, "0123abcd");
        assert_string_equal(recs[0].secret, "cf_token_abcdefgh1234");
        assert_string_equal(recs[1].account_id, "acct9876");
        assert_string_equal(recs[1].secret, "cf_token_zyxwvuts9876");
        gw_key_recs_free(recs, n);
        gw_store_close(st);
    }
}

static void test_keys_secret_from_stdin(void **state)
{
    fixture_t *f = *state;

    f->in = tmpfile();
    fputs("gsk_FROMstdinSECRET_5555\n", f->in);
    rewind(f->in);
    assert_int_equal(KEYS("add", "groq", "-"), 0);
    assert_has(f->out, "added key 1 for groq: gsk_");
    assert_lacks(f->out, "FROMstdin");
    fclose(f->in);
    f->in = tmpfile(); /* empty */
    assert_int_equal(KEYS("add", "groq", "-"), 1);
    assert_has(f->err, "no secret on stdin");
}

static void test_keys_usage(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(run(f, gw__cli_keys, f->dir, NULL), 2);
    assert_has(f->err, "usage: freellmapi keys add PROVIDER SECRET");
    assert_int_equal(KEYS("frobnicate"), 2);
    assert_has(f->err, "unknown keys subcommand 'frobnicate'");
    assert_int_equal(KEYS("add", "groq"), 2);
    assert_int_equal(KEYS("add", "groq", "a", "b"), 2);
    assert_int_equal(KEYS("rm"), 2);
    assert_int_equal(KEYS("list", "extra"), 2);
    assert_int_equal(KEYS("list", "--bogus"), 2);
    assert_has(f->err, "unknown option --bogus");
    assert_int_equal(KEYS("add", "groq", "s", "--label"), 2);
    assert_has(f->err, "--label needs a value");
    assert_int_equal(KEYS("--help"), 0);
    assert_has(f->out, "usage: freellmapi keys");
    assert_int_equal(KEYS("add", "-h"), 0);
    assert_has(f->out, "keys rm ID");
}

/* --data-dir anywhere in argv wins over the caller's data dir. */
static void test_data_dir_option(void **state)
{
    fixture_t *f = *state;
    char other[128];
    struct stat sb;

    snprintf(other, sizeof(other), "%s/other", f->dir);
    assert_int_equal(run(f, gw__cli_keys, "/nonexistent/should/not/be/used", "add", "groq",
                         "gsk_datadir_secret_1", "--data-dir", other, NULL),
                     0);
    assert_int_equal(stat(other, &sb), 0);
    assert_int_equal(run(f, gw__cli_keys, NULL, "list", "--data-dir=", NULL), 2);
    assert_has(f->err, "--data-dir needs a value");
    assert_int_equal(run(f, gw__cli_keys, NULL, "list", "--data-dir", "", NULL), 2);
    assert_int_equal(run(f, gw__cli_keys, NULL, "--data-dir", other, "list", NULL), 0);
    assert_has(f->out, "groq");
    /* FREELLMAPI_DATA_DIR is the fallback when nothing else says. */
    setenv("FREELLMAPI_DATA_DIR", other, 1);
    assert_int_equal(run(f, gw__cli_keys, NULL, "list", NULL), 0);
    assert_has(f->out, "groq");
    unsetenv("FREELLMAPI_DATA_DIR");
    /* The fixture's own data dir has no keys. */
    assert_int_equal(KEYS("list"), 0);
    assert_has(f->out, "no keys yet");
}

static void test_wrong_key_message(void **state)
{
    fixture_t *f = *state;

    assert_int_equal(KEYS("add", "groq", "gsk_wrongkey_secret_1"), 0);
    setenv("ENCRYPTION_KEY", "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
           1);
    assert_int_equal(KEYS("list"), 1);
    assert_has(f->err, "does not match the one this database was created with");
    assert_lacks(f->out, "gsk_");
    unsetenv("ENCRYPTION_KEY");
}

/* ---- unified key ------------------------------------------------------------ */

static void test_unified_key(void **state)
{
    fixture_t *f = *state;
    char first[sizeof(((fixture_t *)0)->out)];

    assert_int_equal(run(f, gw__cli_unified_key, f->dir, NULL), 0);
    assert_int_equal(strlen(f->out), strlen("freellmapi-") + 48 + 1);
    assert_int_equal(strncmp(f->out, "freellmapi-", 11), 0);
    assert_int_equal(strspn(f->out + 11, "0123456789abcdef"), 48);
    snprintf(first, sizeof(first), "%s", f->out);
    assert_int_equal(run(f, gw__cli_unified_key, f->dir, NULL), 0);
    assert_string_equal(f->out, first);
    assert_int_equal(UNIFIED("--rotate"), 0);
    assert_string_not_equal(f->out, first);
    assert_has(f->err, "rotated");
    snprintf(first, sizeof(first), "%s", f->out);
    assert_int_equal(run(f, gw__cli_unified_key, f->dir, NULL), 0);
    assert_string_equal(f->out, first);
    assert_int_equal(UNIFIED("extra"), 2);
    assert_int_equal(UNIFIED("--rotate=yes"), 2);
    assert_int_equal(UNIFIED("--help"), 0);
    assert_has(f->out, "usage: freellmapi unified-key");
}

/* ---- models ----------------------------------------------------------------- */

/* Picks from the built-in catalog a model id served by exactly one enabled
 * provider and one served by several. */
static void pick_models(char *unique, size_t usize, char *ambiguous, size_t asize)
{
    gw_catalog_t cat = {0};
    gw_err_t err = {0};
    size_t i;
    size_t j;

    unique[0] = '\0';
    ambiguous[0] = '\0';
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    for (i = 0; i < cat.nmodels; i++) {
        size_t same = 0;

        for (j = 0; j < cat.nmodels; j++)
            same += strcmp(cat.models[i].id, cat.models[j].id) == 0;
        /* The last such model: tests use the first ones for other things. */
        if (same == 1 && i > 1 && cat.models[i].provider->enabled &&
            strchr(cat.models[i].id, '/') == NULL)
            snprintf(unique, usize, "%s", cat.models[i].id);
        if (same > 1 && ambiguous[0] == '\0')
            snprintf(ambiguous, asize, "%s", cat.models[i].id);
    }
    gw_catalog_dispose(&cat);
    assert_true(unique[0] != '\0');
}

static void test_models(void **state)
{
    fixture_t *f = *state;
    char unique[256];
    char ambiguous[256];
    char full[300];

    pick_models(unique, sizeof(unique), ambiguous, sizeof(ambiguous));
    assert_int_equal(MODELS("list"), 0);
    assert_has(f->out, "PROVIDER");
    assert_has(f->out, "STATE");
    assert_has(f->out, unique);
    assert_int_equal(MODELS("list", "groq"), 0);
    assert_has(f->out, "groq");
    assert_lacks(f->out, "\ngoogle ");
    assert_int_equal(MODELS("list", "nosuch"), 1);

    assert_int_equal(MODELS("disable", unique), 0);
    assert_has(f->out, "disabled ");
    assert_has(f->out, unique);
    assert_int_equal(MODELS("list"), 0);
    assert_has(f->out, "disabled (user)");
    assert_int_equal(MODELS("enable", unique), 0);
    assert_has(f->out, "enabled ");
    assert_int_equal(MODELS("list"), 0);
    assert_has(f->out, "enabled (user)");
    assert_lacks(f->out, "disabled (user)");

    assert_int_equal(MODELS("disable", "no-such-model-anywhere"), 1);
    assert_has(f->err, "unknown model");
    if (ambiguous[0] != '\0') {
        assert_int_equal(MODELS("disable", ambiguous), 1);
        assert_has(f->err, "ambiguous");
        assert_has(f->err, "PROVIDER/MODEL");
    }
    /* provider/model always works. */
    assert_int_equal(MODELS("list"), 0);
    {
        gw_catalog_t cat = {0};
        gw_err_t err = {0};
        assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
        snprintf(full, sizeof(full), "%s/%s", cat.models[0].provider->id, cat.models[0].id);
        gw_catalog_dispose(&cat);
    }
    assert_int_equal(MODELS("disable", full), 0);
    assert_has(f->out, full);

    assert_int_equal(MODELS("enable"), 2);
    assert_int_equal(run(f, gw__cli_models, f->dir, NULL), 2);
    assert_int_equal(MODELS("--help"), 0);
    assert_has(f->out, "models enable ID");
}

/* ---- chain ------------------------------------------------------------------- */

static void test_chain(void **state)
{
    fixture_t *f = *state;
    char unique[256];
    char ambiguous[256];
    char e1[300];
    char e2[300];
    gw_catalog_t cat = {0};
    gw_err_t err = {0};

    pick_models(unique, sizeof(unique), ambiguous, sizeof(ambiguous));
    assert_int_equal(gw_catalog_load(&cat, NULL, &err), 0);
    snprintf(e1, sizeof(e1), "%s/%s", cat.models[1].provider->id, cat.models[1].id);
    snprintf(e2, sizeof(e2), "%s/%s", cat.models[0].provider->id, cat.models[0].id);
    gw_catalog_dispose(&cat);

    assert_int_equal(CHAIN("show"), 0);
    assert_has(f->out, "no custom chain");
    assert_int_equal(CHAIN("set", e1, e2, unique), 0);
    assert_has(f->out, "1. ");
    assert_has(f->out, e1);
    assert_has(f->out, "3. ");
    assert_has(f->out, "then every other enabled model");
    assert_int_equal(CHAIN("show"), 0);
    assert_true(strstr(f->out, e1) < strstr(f->out, e2));
    /* A disabled model is shown as skipped. */
    assert_int_equal(MODELS("disable", e2), 0);
    assert_int_equal(CHAIN("show"), 0);
    assert_has(f->out, "(disabled: skipped)");

    /* Errors leave the chain as it was. */
    assert_int_equal(CHAIN("set", e1, "nosuch/model"), 1);
    assert_has(f->err, "unknown model");
    assert_int_equal(CHAIN("set", e1, e1), 1);
    assert_has(f->err, "twice");
    assert_int_equal(CHAIN("show"), 0);
    assert_has(f->out, "3. ");

    assert_int_equal(CHAIN("reset"), 0);
    assert_has(f->out, "no custom chain");
    assert_int_equal(CHAIN("show"), 0);
    assert_has(f->out, "no custom chain");

    assert_int_equal(CHAIN("set"), 2);
    assert_int_equal(CHAIN("show", "x"), 2);
    assert_int_equal(CHAIN("bogus"), 2);
    assert_int_equal(CHAIN("--help"), 0);
    assert_has(f->out, "chain set PROVIDER/MODEL");
}

int main(void)
{
    gw_test_log_quiet();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_add_list_rm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_add_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_cloudflare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_secret_from_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_dir_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_key_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unified_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
