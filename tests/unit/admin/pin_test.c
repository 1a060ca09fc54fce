/* The dashboard PIN: hashing, verification (tampered rows included) and the
 * wait after wrong PINs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "admin/pin.h"

static void test_valid(void **state)
{
    (void)state;
    assert_true(gw_pin_valid("1234"));
    assert_true(gw_pin_valid("correct horse battery staple"));
    assert_false(gw_pin_valid(NULL));
    assert_false(gw_pin_valid("123"));
    assert_false(gw_pin_valid("12\n34"));
    assert_false(gw_pin_valid("pin\xc3\xa9"));
    assert_false(gw_pin_valid("0123456789012345678901234567890123456789012345678901234567890123X"));
}

static void test_hash_and_verify(void **state)
{
    char a[GW_PIN_HASH_MAX];
    char b[GW_PIN_HASH_MAX];

    (void)state;
    assert_int_equal(gw_pin_hash("2468", a, sizeof(a)), 0);
    assert_int_equal(gw_pin_hash("2468", b, sizeof(b)), 0);
    assert_true(strncmp(a, "scrypt$", 7) == 0);
    assert_string_not_equal(a, b); /* salted */
    assert_null(strstr(a, "2468"));
    assert_true(gw_pin_verify("2468", a));
    assert_true(gw_pin_verify("2468", b));
    assert_false(gw_pin_verify("2469", a));
    assert_false(gw_pin_verify("", a));
    assert_false(gw_pin_verify(NULL, a));
    assert_int_not_equal(gw_pin_hash("12", a, sizeof(a)), 0); /* too short */
    assert_int_not_equal(gw_pin_hash("2468", a, 20), 0);      /* no room */
}

static void test_tampered_rows(void **state)
{
    char h[GW_PIN_HASH_MAX];
    char t[GW_PIN_HASH_MAX + 8];
    const char *salt_hash;

    (void)state;
    assert_int_equal(gw_pin_hash("2468", h, sizeof(h)), 0);
    salt_hash = strchr(strchr(strchr(strchr(h, '$') + 1, '$') + 1, '$') + 1, '$');
    /* Parameters that would cost gigabytes or nothing are refused, not run. */
    snprintf(t, sizeof(t), "scrypt$30$8$1%s", salt_hash);
    assert_false(gw_pin_verify("2468", t));
    snprintf(t, sizeof(t), "scrypt$14$8$99%s", salt_hash);
    assert_false(gw_pin_verify("2468", t));
    snprintf(t, sizeof(t), "scrypt$1$1$1%s", salt_hash);
    assert_false(gw_pin_verify("2468", t));
    snprintf(t, sizeof(t), "%s0", h);
    assert_false(gw_pin_verify("2468", t));
    assert_false(gw_pin_verify("2468", ""));
    assert_false(gw_pin_verify("2468", "plain:2468"));
}

static void test_wait(void **state)
{
    (void)state;
    for (int i = 0; i < GW_PIN_FREE_TRIES; i++)
        assert_int_equal(gw_pin_wait_ms(i), 0);
    assert_int_equal(gw_pin_wait_ms(5), 30000);
    assert_int_equal(gw_pin_wait_ms(6), 60000);
    assert_int_equal(gw_pin_wait_ms(7), 120000);
    assert_int_equal(gw_pin_wait_ms(12), 3600000);
    assert_int_equal(gw_pin_wait_ms(1000000), 3600000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_tampered_rows),
        cmocka_unit_test(test_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
