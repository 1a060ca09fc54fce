/*
 * Provider period boundaries (see reset.h): when a provider's daily, hourly or
 * monthly counters start over. Used by the ledger (period counters) and the
 * error table (a spent daily quota cools down until the next boundary).
 *
 * Pure arithmetic on epoch milliseconds, no tz database: Pacific time is
 * UTC-8, or UTC-7 from the second Sunday of March 02:00 local to the first
 * Sunday of November 02:00 local (the US rule since 2007). Civil-date
 * conversion uses Howard Hinnant's days_from_civil / civil_from_days.
 */
#include "router/reset.h"

#define MS_HOUR (3600 * (int64_t)1000)
#define MS_DAY (24 * MS_HOUR)

/* Floor division: epoch values before 1970 must still round down. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(((days % 7) + 7 + 4) % 7);
}

/* Day number (since epoch) of the n-th Sunday of a month. */
static int64_t nth_sunday(int64_t y, int m, int n)
{
    int64_t first = days_from_civil(y, m, 1);
    int to_sunday = (7 - weekday(first)) % 7;
    return first + to_sunday + 7 * (n - 1);
}

/* Pacific daylight time is in effect at local midnight of day `days` (a local
 * civil day). Both switches happen at 02:00 local, so midnight of the March
 * switch day is still standard time and midnight of the November switch day
 * is still daylight time. */
static bool pdt_at_local_midnight(int64_t days)
{
    int64_t y;
    int m, d;

    civil_from_days(days, &y, &m, &d);
    return days > nth_sunday(y, 3, 2) && days <= nth_sunday(y, 11, 1);
}

/* Pacific daylight time is in effect at the instant now_ms. */
static bool pdt_at(int64_t now_ms)
{
    int64_t y;
    int m, d;
    int64_t start, end;

    civil_from_days(floor_div(now_ms, MS_DAY), &y, &m, &d);
    /* 02:00 PST = 10:00 UTC; 02:00 PDT = 09:00 UTC. */
    start = nth_sunday(y, 3, 2) * MS_DAY + 10 * MS_HOUR;
    end = nth_sunday(y, 11, 1) * MS_DAY + 9 * MS_HOUR;
    return now_ms >= start && now_ms < end;
}

/* Epoch ms of 00:00 Pacific on local civil day `days`. */
static int64_t pacific_midnight(int64_t days)
{
    return days * MS_DAY + (pdt_at_local_midnight(days) ? 7 : 8) * MS_HOUR;
}

/* The local (Pacific) civil day containing now_ms. */
static int64_t pacific_day(int64_t now_ms)
{
    int64_t offset = (pdt_at(now_ms) ? -7 : -8) * MS_HOUR;
    return floor_div(now_ms + offset, MS_DAY);
}

static int64_t month_start(int64_t now_ms, int add)
{
    int64_t y;
    int m, d;

    civil_from_days(floor_div(now_ms, MS_DAY), &y, &m, &d);
    m += add;
    if (m > 12) {
        m -= 12;
        y++;
    }
    return days_from_civil(y, m, 1) * MS_DAY;
}

/* Start of the period containing now_ms (epoch ms, <= now_ms). */
int64_t gw_reset_period_start(gw_reset_t r, int64_t now_ms)
{
    switch (r) {
    case GW_RESET_PACIFIC:
        return pacific_midnight(pacific_day(now_ms));
    case GW_RESET_HOURLY:
        return floor_div(now_ms, MS_HOUR) * MS_HOUR;
    case GW_RESET_MONTHLY:
        return month_start(now_ms, 0);
    case GW_RESET_UTC:
    default:
        return floor_div(now_ms, MS_DAY) * MS_DAY;
    }
}

/* Start of the next period (epoch ms, > now_ms). */
int64_t gw_reset_next(gw_reset_t r, int64_t now_ms)
{
    switch (r) {
    case GW_RESET_PACIFIC:
        return pacific_midnight(pacific_day(now_ms) + 1);
    case GW_RESET_HOURLY:
        return (floor_div(now_ms, MS_HOUR) + 1) * MS_HOUR;
    case GW_RESET_MONTHLY:
        return month_start(now_ms, 1);
    case GW_RESET_UTC:
    default:
        return (floor_div(now_ms, MS_DAY) + 1) * MS_DAY;
    }
}
