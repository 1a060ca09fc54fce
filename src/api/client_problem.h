/*
 * Why a client API's request cannot be served, from the pure translations
 * (responses_in.c, anthropic_in.c, ollama_in.c): the field and a message for
 * the error in the API's own shape.
 */
#ifndef GW_API_CLIENT_PROBLEM_H
#define GW_API_CLIENT_PROBLEM_H

#include <jansson.h>

typedef struct gw_client_problem {
    char param[64];           /* "" when no one field is at fault */
    char msg[256];
} gw_client_problem_t;

/* Fills *why; returns NULL, for `return gw_client_problem(...)` in functions
 * that return the translated request. */
json_t *gw_client_problem(gw_client_problem_t *why, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
