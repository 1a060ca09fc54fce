/* Thought signatures: sealed at rest, expiring, bound to their call id,
 * surviving a reopen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/gw-sigs-XXXXXX");
    unsetenv("ENCRYPTION_KEY");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_round_trip_expiry_and_reopen(void **state)
{
    gw_store_t *st;
    gw_err_t err = {0};
    char *out = NULL;
    (void)state;

    assert_int_equal(gw_store_open(&st, dir, &err), 0);
    assert_int_equal(gw_store_sig_put(st, "call_a", "c2lnLWE=", 2000, &err), 0);
    assert_int_equal(gw_store_sig_put(st, "call_b", "old", 2000, &err), 0);
    assert_int_equal(gw_store_sig_put(st, "call_b", "c2lnLWI=", 2000, &err), 0);
    assert_int_equal(gw_store_sig_get(st, "call_a", 1000, &out, &err), 0);
    assert_string_equal(out, "c2lnLWE=");
    free(out);
    assert_int_equal(gw_store_sig_get(st, "call_b", 1000, &out, &err), 0);
    assert_string_equal(out, "c2lnLWI=");
    free(out);
    assert_int_equal(gw_store_sig_get(st, "call_a", 2000, &out, &err), GW_ENOTFOUND);
    assert_int_equal(gw_store_sig_get(st, "nope", 1000, &out, &err), GW_ENOTFOUND);
    gw_store_close(st);

    /* A restart keeps them; pruning drops the expired ones. */
    assert_int_equal(gw_store_open(&st, dir, &err), 0);
    assert_int_equal(gw_store_sig_get(st, "call_a", 1500, &out, &err), 0);
    free(out);
    assert_int_equal(gw_store_sig_prune(st, 2500, &err), 0);
    assert_int_equal(gw_store_sig_get(st, "call_a", 1500, &out, &err), GW_ENOTFOUND);
    gw_store_close(st);
}

static void test_sealed_and_bound_to_call_id(void **state)
{
    gw_store_t *st;
    gw_err_t err = {0};
    char *out = NULL;
    (void)state;

    assert_int_equal(gw_store_open(&st, dir, &err), 0);
    assert_int_equal(gw_store_sig_put(st, "call_x", "PLAINTEXT-SIGNATURE", 9000, &err), 0);
    /* Not stored in the clear. */
    {
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM thought_signatures "
                                                    "WHERE instr(sealed, 'PLAINTEXT') > 0",
                                            -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), 0);
        sqlite3_finalize(s);
    }
    /* A sealed value moved under another call id does not open. */
    assert_int_equal(sqlite3_exec(st->db, "INSERT INTO thought_signatures SELECT 'call_y', "
                                          "sealed, expires_ms FROM thought_signatures WHERE "
                                          "call_id = 'call_x'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(gw_store_sig_get(st, "call_y", 1000, &out, &err), GW_ECRYPTO);
    assert_null(out);
    gw_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_expiry_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_and_bound_to_call_id, setup, teardown),
    };
    return cmocka_run_group_tests_name("store/sigs", tests, NULL, NULL);
}
