/*
 * Reading the delays upstreams state (see retry_delay.h).
 */
#include "router/retry_delay.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/gw.h"

/* Past this (about 31,000 years in ms) a parsed number means nothing, and converting
 * a larger double to int64_t is undefined; every parse refuses it before the cast. */
#define PARSED_MS_MAX 1e15

/* Digits with an optional fraction, locale-independent. */
static bool parse_number(const char **sp, double *out)
{
    const char *s = *sp;
    double v = 0;
    double scale = 1;
    bool digits = false;

    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s - '0');
        s++;
        digits = true;
    }
    if (*s == '.' && isdigit((unsigned char)s[1])) {
        s++;
        while (isdigit((unsigned char)*s)) {
            scale /= 10;
            v += (*s - '0') * scale;
            s++;
        }
        digits = true;
    }
    if (!digits)
        return false;
    *sp = s;
    *out = v;
    return true;
}

/* Milliseconds per unit word, or -1. */
static double unit_ms(const char *u, size_t n)
{
    static const struct {
        const char *name;
        double ms;
    } units[] = {
        {"ns", 1e-6},     {"us", 1e-3},      {"\xc2\xb5s", 1e-3}, {"ms", 1},
        {"msec", 1},      {"millisecond", 1}, {"milliseconds", 1}, {"s", 1000},
        {"sec", 1000},    {"secs", 1000},    {"second", 1000},    {"seconds", 1000},
        {"m", 60000},     {"min", 60000},    {"mins", 60000},     {"minute", 60000},
        {"minutes", 60000}, {"h", 3600000},  {"hr", 3600000},     {"hrs", 3600000},
        {"hour", 3600000}, {"hours", 3600000}, {"d", 86400000},   {"day", 86400000},
        {"days", 86400000},
    };

    for (size_t i = 0; i < GW_ARRAY_LEN(units); i++)
        if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0)
            return units[i].ms;
    return -1;
}

/*
 * A duration: Go/protobuf style "2m59.56s", "7.66s", "120ms", "34s", or with
 * loose set also prose "41 seconds", "1 minute 30 seconds". Returns ms
 * (rounded up) and sets *endp after it, or -1.
 */
int64_t gw_parse_duration(const char *s, bool loose, const char **endp)
{
    const char *p = s;
    double total = 0;
    bool any = false;

    for (;;) {
        const char *q = p;
        const char *u;
        double num;
        double mult;

        if (!parse_number(&q, &num))
            break;
        if (loose)
            while (*q == ' ')
                q++;
        u = q;
        if ((unsigned char)q[0] == 0xc2 && (unsigned char)q[1] == 0xb5)
            q += 2;
        while (isalpha((unsigned char)*q))
            q++;
        mult = unit_ms(u, (size_t)(q - u));
        if (mult < 0)
            break;
        total += num * mult;
        any = true;
        p = q;
        if (loose && p[0] == ' ' && isdigit((unsigned char)p[1]))
            p++;
        if (!isdigit((unsigned char)*p))
            break;
    }
    if (!any || total > PARSED_MS_MAX)
        return -1;
    *endp = p;
    return (int64_t)ceil(total);
}

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};

/* IMF-fixdate "Wed, 21 Oct 2015 07:28:00 GMT" (the weekday is optional). */
static int64_t parse_http_date(const char *v)
{
    struct tm tm;
    char mon[4] = "";
    int d, y, hh, mm, ss;
    const char *comma = strchr(v, ',');
    time_t t;

    if (comma != NULL)
        v = comma + 1;
    if (sscanf(v, " %d %3s %d %d:%d:%d", &d, mon, &y, &hh, &mm, &ss) != 6)
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcasecmp(mon, months[i]) == 0)
            tm.tm_mon = i;
    /* A year past 9999 would overflow the milliseconds below; no reset is that far. */
    if (tm.tm_mon < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return 0;
    tm.tm_mday = d;
    tm.tm_year = y - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return (int64_t)t * 1000;
}

int64_t gw_parse_reset_value(const char *v, int64_t now_ms)
{
    const char *s;
    const char *end;
    double num;
    size_t n;
    char buf[64];
    int64_t ms;

    if (v == NULL)
        return 0;
    while (isspace((unsigned char)*v))
        v++;
    n = strlen(v);
    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, v, n);
    buf[n] = '\0';

    s = buf;
    if (parse_number(&s, &num) && *s == '\0') {
        /* The project's convention for bare numbers (providers/README.md 0). */
        if (num > PARSED_MS_MAX)
            return 0;
        if (num > 1e12)
            return (int64_t)num;
        if (num > 1e9)
            return (int64_t)(num * 1000);
        return now_ms + (int64_t)ceil(num * 1000);
    }
    ms = gw_parse_duration(buf, false, &end);
    if (ms >= 0 && *end == '\0')
        return now_ms + ms;
    return parse_http_date(buf);
}

/* "Please try again in 7.66s", "Please wait 41 seconds before retrying." */
int64_t gw_prose_delay_ms(const char *msg)
{
    static const char *const leads[] = {"try again in", "retry in", "retry after", "wait",
                                        "resets in", "reset in"};

    if (msg == NULL)
        return -1;
    for (size_t i = 0; i < GW_ARRAY_LEN(leads); i++) {
        const char *at = msg;

        while ((at = strcasestr(at, leads[i])) != NULL) {
            const char *s = at + strlen(leads[i]);
            const char *end;
            int64_t ms;

            while (*s == ' ')
                s++;
            ms = gw_parse_duration(s, true, &end);
            if (ms >= 0)
                return ms;
            at += strlen(leads[i]);
        }
    }
    return -1;
}

int64_t gw_parse_ms_value(const char *v, int64_t now_ms)
{
    double ms;

    if (v == NULL)
        return 0;
    while (*v == ' ')
        v++;
    if (!parse_number(&v, &ms) || ms > PARSED_MS_MAX)
        return 0;
    return now_ms + (int64_t)ceil(ms);
}
