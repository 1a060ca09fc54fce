/* stderr logger (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = GW_LOG_INFO;

void gw_log_init(void)
{
    const char *v = getenv("LOG_LEVEL");

    if (v == NULL)
        return;
    if (strcmp(v, "error") == 0)
        log_level = GW_LOG_ERROR;
    else if (strcmp(v, "warn") == 0)
        log_level = GW_LOG_WARN;
    else if (strcmp(v, "debug") == 0)
        log_level = GW_LOG_DEBUG;
    else
        log_level = GW_LOG_INFO;
}

void gw_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level > log_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so concurrent writers never interleave mid-line. */
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000, names[level], line);
}
