/*
 * Unit tests for src/router/reset.c: period boundaries for UTC, Pacific (with
 * the US DST rule, checked around both switches and against the system tz
 * database when it is installed), hourly and monthly resets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "router/reset.h"

#define HOUR_MS (INT64_C(3600) * 1000)
#define DAY_MS (24 * HOUR_MS)

/* Epoch ms of a UTC civil time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

typedef struct reset_case {
    const char *what;
    gw_reset_t kind;
    int64_t now;
    int64_t start;
    int64_t next;
} reset_case_t;

static void run_cases(const reset_case_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t s = gw_reset_period_start(c[i].kind, c[i].now);
        int64_t x = gw_reset_next(c[i].kind, c[i].now);

        if (s != c[i].start || x != c[i].next)
            print_error("%s: start %lld next %lld, want %lld %lld\n", c[i].what, (long long)s,
                        (long long)x, (long long)c[i].start, (long long)c[i].next);
        assert_int_equal(s, c[i].start);
        assert_int_equal(x, c[i].next);
    }
}

static void test_utc_hourly_monthly(void **state)
{
    const reset_case_t cases[] = {
        {"utc midday", GW_RESET_UTC, utc(2026, 6, 15, 12, 0, 0), utc(2026, 6, 15, 0, 0, 0),
         utc(2026, 6, 16, 0, 0, 0)},
        {"utc at midnight", GW_RESET_UTC, utc(2026, 6, 16, 0, 0, 0), utc(2026, 6, 16, 0, 0, 0),
         utc(2026, 6, 17, 0, 0, 0)},
        {"utc 1 ms before midnight", GW_RESET_UTC, utc(2026, 6, 16, 0, 0, 0) - 1,
         utc(2026, 6, 15, 0, 0, 0), utc(2026, 6, 16, 0, 0, 0)},
        {"utc new year", GW_RESET_UTC, utc(2026, 12, 31, 23, 59, 59), utc(2026, 12, 31, 0, 0, 0),
         utc(2027, 1, 1, 0, 0, 0)},
        {"hourly", GW_RESET_HOURLY, utc(2026, 6, 15, 12, 34, 56) + 789, utc(2026, 6, 15, 12, 0, 0),
         utc(2026, 6, 15, 13, 0, 0)},
        {"hourly on the hour", GW_RESET_HOURLY, utc(2026, 6, 15, 23, 0, 0),
         utc(2026, 6, 15, 23, 0, 0), utc(2026, 6, 16, 0, 0, 0)},
        {"monthly mid", GW_RESET_MONTHLY, utc(2026, 6, 15, 12, 0, 0), utc(2026, 6, 1, 0, 0, 0),
         utc(2026, 7, 1, 0, 0, 0)},
        {"monthly december", GW_RESET_MONTHLY, utc(2026, 12, 31, 23, 0, 0),
         utc(2026, 12, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0)},
        {"monthly leap day", GW_RESET_MONTHLY, utc(2028, 2, 29, 10, 0, 0), utc(2028, 2, 1, 0, 0, 0),
         utc(2028, 3, 1, 0, 0, 0)},
        {"monthly on the 1st", GW_RESET_MONTHLY, utc(2026, 3, 1, 0, 0, 0), utc(2026, 3, 1, 0, 0, 0),
         utc(2026, 4, 1, 0, 0, 0)},
    };

    (void)state;
    run_cases(cases, GW_ARRAY_LEN(cases));
}

static void test_pacific(void **state)
{
    const reset_case_t cases[] = {
        /* Summer: PDT, midnight is 07:00Z. */
        {"pdt midday", GW_RESET_PACIFIC, utc(2026, 6, 15, 12, 0, 0), utc(2026, 6, 15, 7, 0, 0),
         utc(2026, 6, 16, 7, 0, 0)},
        {"pdt at midnight", GW_RESET_PACIFIC, utc(2026, 6, 15, 7, 0, 0), utc(2026, 6, 15, 7, 0, 0),
         utc(2026, 6, 16, 7, 0, 0)},
        {"pdt 1 ms before midnight", GW_RESET_PACIFIC, utc(2026, 6, 15, 7, 0, 0) - 1,
         utc(2026, 6, 14, 7, 0, 0), utc(2026, 6, 15, 7, 0, 0)},
        /* Winter: PST, midnight is 08:00Z. */
        {"pst", GW_RESET_PACIFIC, utc(2026, 1, 10, 20, 0, 0), utc(2026, 1, 10, 8, 0, 0),
         utc(2026, 1, 11, 8, 0, 0)},
        {"pst before utc midnight", GW_RESET_PACIFIC, utc(2026, 1, 1, 3, 0, 0),
         utc(2025, 12, 31, 8, 0, 0), utc(2026, 1, 1, 8, 0, 0)},
        /* 2026-03-08: DST starts at 02:00 PST (10:00Z); a 23-hour day. */
        {"eve of spring forward", GW_RESET_PACIFIC, utc(2026, 3, 8, 7, 59, 0),
         utc(2026, 3, 7, 8, 0, 0), utc(2026, 3, 8, 8, 0, 0)},
        {"spring forward 01:59 PST", GW_RESET_PACIFIC, utc(2026, 3, 8, 9, 59, 59),
         utc(2026, 3, 8, 8, 0, 0), utc(2026, 3, 9, 7, 0, 0)},
        {"spring forward 03:00 PDT", GW_RESET_PACIFIC, utc(2026, 3, 8, 10, 0, 0),
         utc(2026, 3, 8, 8, 0, 0), utc(2026, 3, 9, 7, 0, 0)},
        {"day after spring forward", GW_RESET_PACIFIC, utc(2026, 3, 9, 7, 0, 0),
         utc(2026, 3, 9, 7, 0, 0), utc(2026, 3, 10, 7, 0, 0)},
        /* 2026-11-01: DST ends at 02:00 PDT (09:00Z); a 25-hour day. */
        {"eve of fall back", GW_RESET_PACIFIC, utc(2026, 11, 1, 6, 30, 0),
         utc(2026, 10, 31, 7, 0, 0), utc(2026, 11, 1, 7, 0, 0)},
        {"fall back first 01:30 (PDT)", GW_RESET_PACIFIC, utc(2026, 11, 1, 8, 30, 0),
         utc(2026, 11, 1, 7, 0, 0), utc(2026, 11, 2, 8, 0, 0)},
        {"fall back second 01:30 (PST)", GW_RESET_PACIFIC, utc(2026, 11, 1, 9, 30, 0),
         utc(2026, 11, 1, 7, 0, 0), utc(2026, 11, 2, 8, 0, 0)},
        {"fall back late evening", GW_RESET_PACIFIC, utc(2026, 11, 2, 7, 59, 0),
         utc(2026, 11, 1, 7, 0, 0), utc(2026, 11, 2, 8, 0, 0)},
        /* Other years' switch dates (2nd Sunday of March, 1st of November). */
        {"2024 spring", GW_RESET_PACIFIC, utc(2024, 3, 10, 12, 0, 0), utc(2024, 3, 10, 8, 0, 0),
         utc(2024, 3, 11, 7, 0, 0)},
        {"2025 fall", GW_RESET_PACIFIC, utc(2025, 11, 2, 12, 0, 0), utc(2025, 11, 2, 7, 0, 0),
         utc(2025, 11, 3, 8, 0, 0)},
        {"2027 spring", GW_RESET_PACIFIC, utc(2027, 3, 14, 12, 0, 0), utc(2027, 3, 14, 8, 0, 0),
         utc(2027, 3, 15, 7, 0, 0)},
        {"2027 not yet", GW_RESET_PACIFIC, utc(2027, 3, 7, 12, 0, 0), utc(2027, 3, 7, 8, 0, 0),
         utc(2027, 3, 8, 8, 0, 0)},
    };

    (void)state;
    run_cases(cases, GW_ARRAY_LEN(cases));
}

/* Invariants over many instants: start <= now < next, start is a boundary,
 * and the period after next starts where this one ends. */
static void test_invariants(void **state)
{
    static const gw_reset_t kinds[] = {GW_RESET_UTC, GW_RESET_PACIFIC, GW_RESET_HOURLY,
                                       GW_RESET_MONTHLY};
    uint64_t seed = 12345;
    int64_t lo = utc(2020, 1, 1, 0, 0, 0);
    int64_t span = utc(2036, 1, 1, 0, 0, 0) - lo;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        int64_t now;

        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        now = lo + (int64_t)((seed >> 11) % (uint64_t)span);
        for (size_t k = 0; k < GW_ARRAY_LEN(kinds); k++) {
            int64_t s = gw_reset_period_start(kinds[k], now);
            int64_t x = gw_reset_next(kinds[k], now);

            assert_true(s <= now);
            assert_true(now < x);
            assert_int_equal(gw_reset_period_start(kinds[k], s), s);
            assert_int_equal(gw_reset_period_start(kinds[k], x), x);
            assert_int_equal(gw_reset_next(kinds[k], x - 1), x);
            if (kinds[k] == GW_RESET_PACIFIC)
                assert_true(x - s == 23 * HOUR_MS || x - s == 24 * HOUR_MS ||
                            x - s == 25 * HOUR_MS);
        }
    }
}

/* The system tz database as an oracle: every Pacific period start is local
 * midnight in America/Los_Angeles. Skipped when tzdata is not installed. */
static void test_against_tzdata(void **state)
{
    int64_t t = utc(2020, 1, 1, 0, 0, 0);
    int64_t end = utc(2031, 1, 1, 0, 0, 0);
    int days = 0;

    (void)state;
    if (access("/usr/share/zoneinfo/America/Los_Angeles", R_OK) != 0)
        skip();
    setenv("TZ", "America/Los_Angeles", 1);
    tzset();
    while (t < end) {
        int64_t s = gw_reset_period_start(GW_RESET_PACIFIC, t);
        time_t secs = (time_t)(s / 1000);
        struct tm lt;

        localtime_r(&secs, &lt);
        if (lt.tm_hour != 0 || lt.tm_min != 0 || lt.tm_sec != 0)
            print_error("start %lld is %02d:%02d local\n", (long long)s, lt.tm_hour, lt.tm_min);
        assert_int_equal(lt.tm_hour, 0);
        assert_int_equal(lt.tm_min, 0);
        assert_int_equal(lt.tm_sec, 0);
        /* Probe every 5 hours so each day is hit at several local times. */
        t += 5 * HOUR_MS + 17 * 60 * 1000;
        days++;
    }
    unsetenv("TZ");
    tzset();
    assert_true(days > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utc_hourly_monthly),
        cmocka_unit_test(test_pacific),
        cmocka_unit_test(test_invariants),
        cmocka_unit_test(test_against_tzdata),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
