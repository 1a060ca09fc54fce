/* The open-file limit: raised to the hard limit, and the connections that
 * fit in it (two descriptors each after the process's reserve). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/resource.h>

#include "core/fdlimit.h"

static void test_connections_fit(void **state)
{
    (void)state;
    /* 1024: 128 kept, (1024 - 128) / 2 */
    assert_int_equal(gw_fdlimit_connections(1024), 448);
    /* 256: the reserve's floor of 32 */
    assert_int_equal(gw_fdlimit_connections(256), 112);
    /* large limits keep at most 256 */
    assert_int_equal(gw_fdlimit_connections(20000), 9872);
    /* tiny or absurd limits still allow one, and never overflow */
    assert_int_equal(gw_fdlimit_connections(0), 1);
    assert_int_equal(gw_fdlimit_connections(33), 1);
    assert_int_equal(gw_fdlimit_connections(UINT64_MAX), 1u << 20);
    for (uint64_t soft = 64; soft < 70000; soft += 97)
        assert_true(2 * (uint64_t)gw_fdlimit_connections(soft) < soft);
}

static void test_raise_to_hard(void **state)
{
    struct rlimit rl;
    struct rlimit low;
    gw_fdlimit_t fl;

    (void)state;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 128)
        skip();
    /* Lower only the soft limit, as a login default of 1024 would. */
    low.rlim_cur = 64;
    low.rlim_max = rl.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(gw_fdlimit_raise(&fl), 0);
    assert_int_equal(fl.soft_before, 64);
    assert_true(fl.soft > 64);
    assert_true(fl.soft <= fl.hard);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &low), 0);
    assert_int_equal(low.rlim_cur, fl.soft);
    /* Already at the hard limit: nothing changes. */
    assert_int_equal(gw_fdlimit_raise(&fl), 0);
    assert_int_equal(fl.soft_before, fl.soft);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connections_fit),
        cmocka_unit_test(test_raise_to_hard),
    };
    return cmocka_run_group_tests_name("core/fdlimit", tests, NULL, NULL);
}
