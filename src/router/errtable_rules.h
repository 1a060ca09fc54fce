/*
 * The error taxonomy's data (router-internal; errtable.c reads it): the rules
 * an upstream failure is matched against, top to bottom, and what each
 * failure class does by default. errtable.c explains the matching.
 */
#ifndef GW_ROUTER_ERRTABLE_RULES_H
#define GW_ROUTER_ERRTABLE_RULES_H

#include <stddef.h>

#include "router/verdict.h"

/* Which parsed field a rule looks at. */
typedef enum {
    F_HTTP = 0, /* status range only */
    F_CODE,     /* error.code (numbers as decimal text), Cloudflare errors[].code */
    F_TYPE,     /* error.type */
    F_GSTATUS,  /* Google error.status: RESOURCE_EXHAUSTED, INVALID_ARGUMENT, ... */
    F_MESSAGE,  /* error.message, detail, msg, OpenRouter metadata.raw, non-JSON text */
    F_QUOTA,    /* Google QuotaFailure violations[].quotaId / quotaMetric */
    F_REASON,   /* Google ErrorInfo.reason */
    F_ANY       /* code, type, status, message or reason */
} field_t;

#define NTEXT (F_REASON + 1)

typedef enum {
    CD_DEFAULT = 0,     /* in a rule: the class default */
    CD_NONE,            /* no cooldown */
    CD_FIXED,           /* cd_s seconds */
    CD_RETRY_OR_FIXED,  /* the upstream's stated delay, else cd_s seconds */
    CD_PERIOD,          /* until the provider's next period boundary (reset.h) */
    CD_RETRY_OR_PERIOD, /* the upstream's stated delay, else the next boundary */
    CD_DAY              /* 24 hours */
} cd_kind_t;

#define DEF (-1)      /* in a rule: keep the class default */

typedef struct rule {
    const char *provider; /* catalog id or "*" */
    int lo, hi;           /* effective status range, inclusive */
    field_t field;
    const char *pattern;  /* '|' alternatives; see match_pattern() */
    gw_fail_t fail;
    int next;             /* gw_next_t or DEF */
    int scope;            /* gw_scope_t or DEF */
    cd_kind_t cd;
    int cd_s;             /* seconds or DEF */
    int health;           /* gw_key_health_t or DEF */
} rule_t;

typedef struct action {
    gw_next_t next;
    gw_scope_t scope;
    cd_kind_t cd;
    int cd_s;
    gw_key_health_t health;
    int client_status; /* what the client sees when this is the last word */
} action_t;

extern const rule_t gw_errtable_rules[];
extern const size_t gw_errtable_nrules;
/* What each class does by default. */
extern const action_t gw_errtable_actions[GW_FAIL__COUNT];

#endif
