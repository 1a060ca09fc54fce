/*
 * A client request's problem (see client_problem.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "api/client_problem.h"

json_t *gw_client_problem(gw_client_problem_t *why, const char *param, const char *fmt, ...)
{
    va_list ap;

    snprintf(why->param, sizeof(why->param), "%s", param != NULL ? param : "");
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
    va_end(ap);
    return NULL;
}
