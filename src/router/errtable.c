/*
 * The error taxonomy as data (see errtable.h). An upstream failure is parsed
 * once into a few text fields (error.code, error.type, Google's error.status,
 * the human message, Google quotaIds and ErrorInfo reasons), then matched
 * against `rules` top to bottom: provider rows first, generic rows after, the
 * first match wins. The matched class picks its row in `actions` (next step,
 * cooldown scope and length, new key health, client status); a rule may
 * override parts of it. Delays come from the response itself when it states
 * one (Retry-After, retry-after-ms, RetryInfo, reset headers, "try again in
 * 7.66s"), else from the table.
 *
 * Facts behind the rows: shared/providers/README.md (section 0 and each
 * provider), shared/wire/openai.md 1.8 and 11.x, shared/wire/gemini.md 0.3.
 * Every row is exercised by the corpus in tests/fixtures/errors/.
 *
 * Pure: no I/O, no global state; allocation only while classifying (a
 * failure path).
 */
#include "router/errtable.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "router/reset.h"

/* ---- the tables ------------------------------------------------------------------ */

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

#define R(prov, st, field, pat, fail) {prov, st, field, pat, fail, DEF, DEF, CD_DEFAULT, DEF, DEF}
#define RX(prov, st, field, pat, fail, next, scope, cd, cd_s)                                   \
    {prov, st, field, pat, fail, next, scope, cd, cd_s, DEF}
#define ST(lo, hi) lo, hi
#define ANY_ST ST(0, 999) /* any status, including in-band errors in a 200 */

/*
 * First match wins. Provider rows come first because providers reuse generic
 * words for specific things: every Gemini 429 says "check your plan and
 * billing details", Groq's per-minute 429 links to settings/billing, and
 * Cloudflare's daily allocation is account-wide, not per model.
 */
static const rule_t rules[] = {
    /* ---- google: google.rpc.Status with typed details (wire/gemini.md 0.3) ---- */
    /* A PerDay quotaId waits for Pacific midnight; the RetryInfo next to it is the
     * minute bucket's delay and would have us retry all day, so it is ignored. */
    RX("google", ST(429, 429), F_QUOTA, "*PerDay*", GW_FAIL_QUOTA_PERIOD, DEF, DEF, CD_PERIOD, DEF),
    R("google", ST(429, 429), F_QUOTA, "*PerMinute*", GW_FAIL_RATE_MINUTE),
    R("google", ST(429, 429), F_HTTP, NULL, GW_FAIL_RATE_MINUTE),
    /* A bad Gemini key answers 400 INVALID_ARGUMENT with reason API_KEY_INVALID. */
    R("google", ST(400, 403), F_REASON, "API_KEY_INVALID|API_KEY_EXPIRED", GW_FAIL_AUTH),
    R("google", ST(400, 400), F_MESSAGE, "API key not valid|API key expired", GW_FAIL_AUTH),
    /* 403 (API disabled, key restricted) and FAILED_PRECONDITION (region, billing)
     * are "inconclusive" per gemini.md: bench the key, do not call it invalid. */
    {"google", ST(400, 403), F_GSTATUS, "PERMISSION_DENIED|FAILED_PRECONDITION", GW_FAIL_AUTH, DEF,
     DEF, CD_DEFAULT, DEF, GW_KEY_ERROR},

    /* ---- groq ---- */
    /* tool_use_failed (400, or in-band in a 200 stream): the model wrote a malformed
     * tool call. The client's request is fine (another model would likely cope) and
     * nothing upstream is unhealthy, so: server-side class, next model, no cooldown.
     * Returning 400 would blame a valid request; cooling the pair would bench a
     * healthy model because of one bad sample. */
    RX("groq", ANY_ST, F_CODE, "tool_use_failed", GW_FAIL_SERVER, GW_NEXT_MODEL, GW_SCOPE_NONE,
       CD_NONE, 0),
    R("groq", ST(498, 498), F_HTTP, NULL, GW_FAIL_SERVER), /* flex tier capacity exceeded */
    /* Gemini's MALFORMED_FUNCTION_CALL, surfaced by the dialect as an in-band error:
     * the same reasoning as Groq's tool_use_failed. */
    RX("google", ANY_ST, F_CODE, "malformed_function_call", GW_FAIL_SERVER, GW_NEXT_MODEL,
       GW_SCOPE_NONE, CD_NONE, 0),

    /* ---- nvidia ---- */
    /* 400 "DEGRADED function cannot be invoked": the model is unhealthy on NVIDIA's
     * side for everyone, not a client error (providers/README.md 5). */
    RX("nvidia", ST(400, 599), F_MESSAGE, "DEGRADED", GW_FAIL_MODEL_UNAVAILABLE, GW_NEXT_MODEL,
       GW_SCOPE_MODEL, CD_FIXED, 600),
    /* About 40 RPM per account, shared by all models: bench the whole key. */
    RX("nvidia", ST(429, 429), F_HTTP, NULL, GW_FAIL_RATE_MINUTE, DEF, GW_SCOPE_KEY, CD_DEFAULT,
       DEF),

    /* ---- ollama ---- */
    /* 403 "this model requires a subscription": not on the free plan for this key. */
    RX("ollama", ST(401, 403), F_MESSAGE, "requires a subscription|upgrade for access",
       GW_FAIL_MODEL_UNAVAILABLE, GW_NEXT_MODEL, GW_SCOPE_MODEL_KEY, CD_FIXED, 86400),
    /* GPU-time budgets: 5 h session windows and a weekly cap. */
    RX("ollama", ST(429, 429), F_MESSAGE, "weekly", GW_FAIL_QUOTA_ACCOUNT, DEF, DEF,
       CD_RETRY_OR_FIXED, 6 * 3600),
    RX("ollama", ST(429, 429), F_MESSAGE, "session|usage limit", GW_FAIL_QUOTA_ACCOUNT, DEF, DEF,
       CD_RETRY_OR_FIXED, 3600),

    /* ---- zhipu: business codes in error.code (docs.z.ai/api-reference/api-code) ---- */
    R("zhipu", ANY_ST, F_MESSAGE, "Prompt exceeds max length", GW_FAIL_CONTEXT),
    R("zhipu", ANY_ST, F_CODE, "1113", GW_FAIL_PAYMENT), /* account in arrears */
    R("zhipu", ANY_ST, F_CODE, "1000|1001|1002|1003|1004|1110|1111|1112|1121", GW_FAIL_AUTH),
    R("zhipu", ANY_ST, F_CODE, "1211|1221|1222", GW_FAIL_MODEL_UNAVAILABLE),
    R("zhipu", ANY_ST, F_CODE, "1302|1303", GW_FAIL_RATE_MINUTE), /* concurrency, frequency */
    RX("zhipu", ANY_ST, F_CODE, "1308|1309|1310", GW_FAIL_QUOTA_ACCOUNT, DEF, DEF,
       CD_RETRY_OR_FIXED, 3600), /* plan usage windows spent */
    R("zhipu", ANY_ST, F_CODE, "1230|1234|1305", GW_FAIL_SERVER),
    R("zhipu", ANY_ST, F_CODE, "1301", GW_FAIL_BAD_REQUEST), /* content filter on the prompt */

    /* ---- cloudflare: {"success":false,"errors":[{"code","message"}]} ---- */
    /* 10,000 neurons per day per account, shared by every model: the whole key
     * waits for 00:00 UTC. */
    R("cloudflare", ANY_ST, F_CODE, "4006", GW_FAIL_QUOTA_ACCOUNT),
    R("cloudflare", ANY_ST, F_MESSAGE, "daily free allocation|neurons", GW_FAIL_QUOTA_ACCOUNT),
    /* 3040 "Capacity temporarily exceeded": that model is busy for everyone. */
    RX("cloudflare", ANY_ST, F_CODE, "3040", GW_FAIL_SERVER, GW_NEXT_MODEL, DEF, CD_DEFAULT, DEF),
    R("cloudflare", ANY_ST, F_CODE, "10000|9109", GW_FAIL_AUTH),

    /* ---- openrouter: limits are account-wide across all :free models ---- */
    R("openrouter", ST(429, 429), F_MESSAGE, "free models per day", GW_FAIL_QUOTA_ACCOUNT),
    RX("openrouter", ST(429, 429), F_MESSAGE, "free models per min", GW_FAIL_RATE_MINUTE, DEF,
       GW_SCOPE_KEY, CD_DEFAULT, DEF),
    /* The upstream behind a free route is throttled for all OpenRouter users:
     * another key will not help, another model will. */
    RX("openrouter", ST(429, 429), F_MESSAGE, "rate limited upstream|temporarily rate limited",
       GW_FAIL_RATE_MINUTE, GW_NEXT_MODEL, GW_SCOPE_MODEL, CD_DEFAULT, DEF),

    /* ---- github: Azure-style {"error":{"code":"RateLimitReached",...}} ---- */
    R("github", ST(429, 429), F_ANY, "*ByDay", GW_FAIL_QUOTA_PERIOD), /* UserByModelByDay */
    R("github", ST(429, 429), F_CODE, "RateLimitReached", GW_FAIL_RATE_MINUTE),
    R("github", ANY_ST, F_ANY, "unavailable_model|unknown_model|Unknown model",
      GW_FAIL_MODEL_UNAVAILABLE),

    /* ---- cohere: trial keys get 1,000 calls per month across all endpoints ---- */
    R("cohere", ST(429, 429), F_MESSAGE, "month|monthly", GW_FAIL_QUOTA_ACCOUNT),

    /* ---- mistral ---- */
    /* 429 "Service tier capacity exceeded for this model" (code 3505) is load on
     * that model, not our usage. */
    RX("mistral", ST(429, 429), F_ANY, "capacity exceeded|service_tier_capacity_exceeded|3505",
       GW_FAIL_SERVER, GW_NEXT_MODEL, DEF, CD_DEFAULT, DEF),

    /* ---- hourly windows (kilo: 200/h per IP; llm7: ~100/h; pollinations) ---- */
    R("kilo", ST(429, 429), F_MESSAGE, "hour|hours|hourly", GW_FAIL_QUOTA_ACCOUNT),
    R("llm7", ST(429, 429), F_MESSAGE, "hour|hours|hourly", GW_FAIL_QUOTA_ACCOUNT),
    R("pollinations", ST(429, 429), F_MESSAGE, "hour|hours|hourly", GW_FAIL_QUOTA_ACCOUNT),

    /* ---- generic: payment ---- */
    /* Status 402 is decided by the status number only: a "402" inside a message
     * ("Requested 402", "used 14023") means nothing. */
    R("*", ST(402, 402), F_HTTP, NULL, GW_FAIL_PAYMENT),
    R("*", ANY_ST, F_ANY,
      "insufficient_quota|insufficient_credits|insufficient_balance|payment_required|"
      "billing_hard_limit_reached",
      GW_FAIL_PAYMENT),
    R("*", ANY_ST, F_MESSAGE,
      "insufficient credits|insufficient credit|insufficient balance|insufficient funds|"
      "payment required|payment method required|add a payment method|"
      "credit balance is too low|negative balance|out of credits|account is in arrears",
      GW_FAIL_PAYMENT),

    /* ---- generic: 403s that are about the model or a quota, not the key ---- */
    R("*", ST(403, 403), F_ANY,
      "model_not_found|unavailable_model|requires a subscription|not available on your plan|"
      "no access to model|do not have access to this model",
      GW_FAIL_MODEL_UNAVAILABLE),
    R("*", ST(403, 403), F_MESSAGE, "per day|daily|quota exceeded|quota exhausted",
      GW_FAIL_QUOTA_PERIOD),

    /* ---- generic: authentication ---- */
    R("*", ST(401, 401), F_HTTP, NULL, GW_FAIL_AUTH),
    R("*", ST(403, 403), F_HTTP, NULL, GW_FAIL_AUTH),
    R("*", ANY_ST, F_ANY,
      "invalid_api_key|authentication_error|organization_restricted|account_deactivated|"
      "invalid_authentication|API_KEY_INVALID",
      GW_FAIL_AUTH),
    R("*", ST(400, 400), F_MESSAGE,
      "invalid api key|incorrect api key|api key not valid|api key expired|"
      "invalid authentication",
      GW_FAIL_AUTH),

    /* ---- generic: prompt too long for this model (a bigger one may take it) ---- */
    R("*", ANY_ST, F_ANY, "context_length_exceeded|context_window_exceeded|tokens_limit_reached",
      GW_FAIL_CONTEXT),
    R("*", ST(400, 422), F_MESSAGE,
      "context length|context window|maximum context|prompt is too long|prompt too long|"
      "exceeds max length|exceeds the maximum number of tokens|input token count|"
      "too many input tokens|input is too long|reduce the length of the messages|"
      "sequence length",
      GW_FAIL_CONTEXT),
    /* 413: the body or its tokens are too big for this upstream, e.g. Groq's
     * "Request too large ... on tokens per minute": it can never fit this
     * model's window, so waiting does not help; another model may. */
    R("*", ST(413, 413), F_HTTP, NULL, GW_FAIL_CONTEXT),

    /* ---- generic: model gone or not served to this key ---- */
    RX("*", ANY_ST, F_ANY, "model_decommissioned|has been decommissioned",
       GW_FAIL_MODEL_UNAVAILABLE, DEF, GW_SCOPE_MODEL, CD_FIXED, 86400),
    R("*", ANY_ST, F_ANY,
      "model_not_found|unavailable_model|model_not_available|unknown_model|model_not_supported",
      GW_FAIL_MODEL_UNAVAILABLE),
    R("*", ST(400, 404), F_MESSAGE,
      "model not found|no such model|unknown model|model does not exist|"
      "does not exist or you do not have access|no endpoints found|not a valid model|invalid model|"
      "model is not available|model not available|model has been deprecated",
      GW_FAIL_MODEL_UNAVAILABLE),
    R("*", ST(404, 404), F_HTTP, NULL, GW_FAIL_MODEL_UNAVAILABLE),

    /* ---- generic: 429, daily (or longer) vs per-minute ---- */
    R("*", ST(429, 429), F_QUOTA, "*PerDay*", GW_FAIL_QUOTA_PERIOD),
    R("*", ST(429, 429), F_ANY,
      "per day|daily|RPD|TPD|day limit|*ByDay|quota for today", GW_FAIL_QUOTA_PERIOD),
    RX("*", ST(429, 429), F_MESSAGE, "per month|monthly|/ month|/month|month limit",
       GW_FAIL_QUOTA_ACCOUNT, DEF, DEF, CD_RETRY_OR_FIXED, 86400),
    R("*", ST(429, 429), F_HTTP, NULL, GW_FAIL_RATE_MINUTE),

    /* ---- generic: timeouts and server trouble ---- */
    R("*", ST(408, 408), F_HTTP, NULL, GW_FAIL_TIMEOUT),
    R("*", ST(504, 504), F_HTTP, NULL, GW_FAIL_TIMEOUT),
    R("*", ST(524, 524), F_HTTP, NULL, GW_FAIL_TIMEOUT), /* Cloudflare origin timeout */
    R("*", ANY_ST, F_GSTATUS, "DEADLINE_EXCEEDED", GW_FAIL_TIMEOUT),
    R("*", ST(409, 409), F_HTTP, NULL, GW_FAIL_SERVER),
    R("*", ST(500, 599), F_HTTP, NULL, GW_FAIL_SERVER),

    /* ---- everything else the upstream rejected is about the request ---- */
    R("*", ST(400, 499), F_HTTP, NULL, GW_FAIL_BAD_REQUEST),
    /* An in-band error in a 200 (stream) or an odd status: try elsewhere. */
    R("*", ANY_ST, F_HTTP, NULL, GW_FAIL_SERVER),
};

typedef struct action {
    gw_next_t next;
    gw_scope_t scope;
    cd_kind_t cd;
    int cd_s;
    gw_key_health_t health;
    int client_status; /* what the client sees when this is the last word */
} action_t;

/* What each class does by default. */
static const action_t actions[GW_FAIL__COUNT] = {
    [GW_FAIL_NONE] = {GW_NEXT_RETURN, GW_SCOPE_NONE, CD_NONE, 0, GW_KEY_UNKNOWN, 502},
    /* 90 s is the first step; cooldowns escalate repeats (cooldown.c). */
    [GW_FAIL_RATE_MINUTE] = {GW_NEXT_KEY, GW_SCOPE_MODEL_KEY, CD_RETRY_OR_FIXED, 90,
                             GW_KEY_RATE_LIMITED, 429},
    [GW_FAIL_QUOTA_PERIOD] = {GW_NEXT_KEY, GW_SCOPE_MODEL_KEY, CD_RETRY_OR_PERIOD, 0,
                              GW_KEY_RATE_LIMITED, 429},
    [GW_FAIL_QUOTA_ACCOUNT] = {GW_NEXT_KEY, GW_SCOPE_KEY, CD_RETRY_OR_PERIOD, 0,
                               GW_KEY_RATE_LIMITED, 429},
    [GW_FAIL_PAYMENT] = {GW_NEXT_KEY, GW_SCOPE_KEY, CD_DAY, 86400, GW_KEY_ERROR, 502},
    /* The key is marked invalid; the hour of cooldown only matters if a user
     * resets its health without fixing it. */
    [GW_FAIL_AUTH] = {GW_NEXT_KEY, GW_SCOPE_KEY, CD_FIXED, 3600, GW_KEY_INVALID, 502},
    [GW_FAIL_MODEL_UNAVAILABLE] = {GW_NEXT_MODEL, GW_SCOPE_MODEL_KEY, CD_FIXED, 6 * 3600,
                                   GW_KEY_UNKNOWN, 502},
    [GW_FAIL_CONTEXT] = {GW_NEXT_MODEL, GW_SCOPE_NONE, CD_NONE, 0, GW_KEY_UNKNOWN, 400},
    /* A 503 that says when to come back (Retry-After) is taken at its word. */
    [GW_FAIL_SERVER] = {GW_NEXT_PROVIDER, GW_SCOPE_MODEL_KEY, CD_RETRY_OR_FIXED, 30,
                        GW_KEY_UNKNOWN, 502},
    [GW_FAIL_TIMEOUT] = {GW_NEXT_PROVIDER, GW_SCOPE_MODEL_KEY, CD_FIXED, 60, GW_KEY_UNKNOWN, 504},
    [GW_FAIL_NETWORK] = {GW_NEXT_PROVIDER, GW_SCOPE_KEY, CD_FIXED, 30, GW_KEY_UNKNOWN, 502},
    [GW_FAIL_BAD_REQUEST] = {GW_NEXT_RETURN, GW_SCOPE_NONE, CD_NONE, 0, GW_KEY_UNKNOWN, 400},
};

/* A per-minute limit never waits longer than this; a stated delay beyond it
 * means the upstream is talking about a longer window (see classify). */
#define MINUTE_MAX_MS (15 * 60 * (int64_t)1000)
/* Stated delays are capped: a garbled header must not bench a key for a year. */
#define STATED_MAX_MS (32 * 86400 * (int64_t)1000)

/* ---- pattern matching ------------------------------------------------------------ */

static bool is_word(unsigned char c)
{
    return isalnum(c) != 0;
}

static bool is_sep(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '_';
}

/* Matches one alternative at text[i]; a space in the pattern matches a run of
 * spaces, '-' or '_' ("per day" = "per-day" = "per_day"). */
static bool match_at(const char *t, size_t tlen, size_t i, const char *p, size_t plen,
                     size_t *end)
{
    size_t j = i;

    for (size_t k = 0; k < plen; k++) {
        if (p[k] == ' ') {
            if (j >= tlen || !is_sep((unsigned char)t[j]))
                return false;
            while (j < tlen && is_sep((unsigned char)t[j]))
                j++;
            continue;
        }
        if (j >= tlen || tolower((unsigned char)t[j]) != tolower((unsigned char)p[k]))
            return false;
        j++;
    }
    *end = j;
    return true;
}

/* One alternative, case-insensitively, on word boundaries: an alphanumeric end
 * of the pattern must meet a non-alphanumeric neighbour in the text, so "402"
 * does not match inside "14023" and "daily" not inside "dailydialog". A '*' at
 * either end of the pattern drops that side's boundary (CamelCase quotaIds). */
static bool match_alt(const char *t, size_t tlen, const char *p, size_t plen)
{
    bool open_l = false;
    bool open_r = false;

    if (plen > 0 && p[0] == '*') {
        open_l = true;
        p++;
        plen--;
    }
    if (plen > 0 && p[plen - 1] == '*') {
        open_r = true;
        plen--;
    }
    if (plen == 0)
        return false;
    if (!is_word((unsigned char)p[0]))
        open_l = true;
    if (!is_word((unsigned char)p[plen - 1]))
        open_r = true;
    for (size_t i = 0; i < tlen; i++) {
        size_t end;

        if (!open_l && i > 0 && is_word((unsigned char)t[i - 1]))
            continue;
        if (!match_at(t, tlen, i, p, plen, &end))
            continue;
        if (open_r || end == tlen || !is_word((unsigned char)t[end]))
            return true;
    }
    return false;
}

static bool match_pattern(const char *t, size_t tlen, const char *pat)
{
    const char *a = pat;

    while (*a != '\0') {
        const char *bar = strchr(a, '|');
        size_t n = bar ? (size_t)(bar - a) : strlen(a);

        if (match_alt(t, tlen, a, n))
            return true;
        if (bar == NULL)
            break;
        a = bar + 1;
    }
    return false;
}

/* ---- parsing the body ------------------------------------------------------------ */

#define TEXT_MAX 4096
#define EXTRA_MAX 8
#define DEPTH_MAX 4

typedef struct parsed {
    gw_buf_t text[NTEXT];      /* per field; several values joined by '\n' */
    int64_t retry_info_ms;     /* Google RetryInfo.retryDelay; -1 if none */
    int inband_status;         /* an HTTP status stated inside the body; 0 if none */
    gw_header_t extra[EXTRA_MAX]; /* headers echoed in the body (OpenRouter metadata) */
    size_t nextra;
} parsed_t;

static void parsed_init(parsed_t *p)
{
    memset(p, 0, sizeof(*p));
    for (int f = 0; f < NTEXT; f++)
        gw_buf_init(&p->text[f], TEXT_MAX);
    p->retry_info_ms = -1;
}

static void parsed_dispose(parsed_t *p)
{
    for (int f = 0; f < NTEXT; f++)
        gw_buf_dispose(&p->text[f]);
    for (size_t i = 0; i < p->nextra; i++) {
        free((char *)p->extra[i].name);
        free((char *)p->extra[i].value);
    }
}

/* Appends a value to a field, truncated to what is left of the field's ceiling. */
static void add_text(parsed_t *p, field_t f, const char *s, size_t n)
{
    gw_buf_t *b = &p->text[f];
    size_t room;

    if (n == 0)
        return;
    if (b->len + 2 >= b->max)
        return;
    if (b->len > 0)
        gw_buf_append(b, "\n", 1);
    room = b->max - b->len;
    gw_buf_append(b, s, GW_MIN(n, room));
}

static void add_str(parsed_t *p, field_t f, const char *s)
{
    add_text(p, f, s, strlen(s));
}

static void add_json_text(parsed_t *p, field_t f, json_t *v)
{
    char *dump;

    if (json_is_string(v)) {
        add_text(p, f, json_string_value(v), json_string_length(v));
        return;
    }
    if (json_is_null(v))
        return;
    dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump != NULL) {
        add_str(p, f, dump);
        free(dump);
    }
}

static void note_status(parsed_t *p, json_int_t v)
{
    if (p->inband_status == 0 && v >= 400 && v <= 599)
        p->inband_status = (int)v;
}

static int64_t parse_duration(const char *s, bool loose, const char **endp);

static void walk_root(parsed_t *p, json_t *v, int depth);

static void walk_details(parsed_t *p, json_t *details)
{
    size_t i;
    json_t *d;

    json_array_foreach(details, i, d) {
        const char *type = json_string_value(json_object_get(d, "@type"));
        json_t *viol;
        json_t *vi;
        size_t k;

        if (!json_is_object(d) || type == NULL)
            continue;
        if (strstr(type, "QuotaFailure") != NULL) {
            viol = json_object_get(d, "violations");
            json_array_foreach(viol, k, vi) {
                add_json_text(p, F_QUOTA, json_object_get(vi, "quotaId"));
                add_json_text(p, F_QUOTA, json_object_get(vi, "quotaMetric"));
            }
        } else if (strstr(type, "RetryInfo") != NULL) {
            const char *rd = json_string_value(json_object_get(d, "retryDelay"));
            const char *end;
            int64_t ms = rd ? parse_duration(rd, false, &end) : -1;

            if (ms >= 0 && *end == '\0' && p->retry_info_ms < 0)
                p->retry_info_ms = ms;
        } else if (strstr(type, "ErrorInfo") != NULL) {
            add_json_text(p, F_REASON, json_object_get(d, "reason"));
        }
    }
}

static void walk_metadata(parsed_t *p, json_t *meta, int depth)
{
    json_t *raw = json_object_get(meta, "raw");
    json_t *hdrs = json_object_get(meta, "headers");
    const char *name;
    json_t *val;

    if (json_is_string(raw)) {
        /* The upstream provider's own body, often JSON itself. */
        json_t *inner = json_loads(json_string_value(raw), JSON_DECODE_ANY, NULL);

        add_json_text(p, F_MESSAGE, raw);
        if (json_is_object(inner) || json_is_array(inner))
            walk_root(p, inner, depth + 1);
        json_decref(inner);
    } else if (json_is_object(raw)) {
        walk_root(p, raw, depth + 1);
    }
    json_object_foreach(hdrs, name, val) {
        if (!json_is_string(val) || p->nextra >= EXTRA_MAX)
            continue;
        p->extra[p->nextra].name = gw_xstrdup(name);
        p->extra[p->nextra].value = gw_xstrdup(json_string_value(val));
        p->nextra++;
    }
}

/* Fields of one error object (also used on top-level shapes: Cerebras, Cohere,
 * Mistral, NVIDIA problem+json, Zhipu's {"code","msg"}). */
static void walk_error(parsed_t *p, json_t *e, int depth)
{
    json_t *code = json_object_get(e, "code");
    json_t *status = json_object_get(e, "status");
    json_t *details = json_object_get(e, "details");
    json_t *meta = json_object_get(e, "metadata");

    if (json_is_integer(code)) {
        char num[32];

        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(code));
        add_str(p, F_CODE, num);
        note_status(p, json_integer_value(code));
    } else if (json_is_string(code)) {
        const char *c = json_string_value(code);
        char *end;
        long n = strtol(c, &end, 10);

        add_str(p, F_CODE, c);
        if (end != c && *end == '\0' && end - c == 3)
            note_status(p, n);
    }
    add_json_text(p, F_TYPE, json_object_get(e, "type"));
    if (json_is_string(status))
        add_json_text(p, F_GSTATUS, status);
    else if (json_is_integer(status))
        note_status(p, json_integer_value(status));
    add_json_text(p, F_MESSAGE, json_object_get(e, "message"));
    add_json_text(p, F_MESSAGE, json_object_get(e, "msg"));
    add_json_text(p, F_MESSAGE, json_object_get(e, "detail"));
    if (json_is_array(details))
        walk_details(p, details);
    else if (json_is_string(details))
        add_json_text(p, F_MESSAGE, details); /* GitHub repeats the message here */
    if (json_is_object(meta))
        walk_metadata(p, meta, depth);
    /* failed_generation (Groq) is model output that may echo the prompt: skipped. */
}

static void walk_root(parsed_t *p, json_t *v, int depth)
{
    size_t i;
    json_t *item;
    json_t *err;
    json_t *errors;

    if (depth > DEPTH_MAX)
        return;
    if (json_is_string(v)) {
        add_json_text(p, F_MESSAGE, v);
        return;
    }
    if (json_is_array(v)) {
        /* Gemini's non-SSE stream answers a JSON array; take a few elements. */
        json_array_foreach(v, i, item) {
            if (i >= 4)
                break;
            walk_root(p, item, depth + 1);
        }
        return;
    }
    if (!json_is_object(v))
        return;
    err = json_object_get(v, "error");
    if (json_is_object(err))
        walk_error(p, err, depth);
    else if (json_is_string(err))
        add_json_text(p, F_MESSAGE, err); /* {"error":"..."}: Ollama, Pollinations */
    errors = json_object_get(v, "errors");
    json_array_foreach(errors, i, item) {
        if (i >= 4)
            break;
        if (json_is_object(item))
            walk_error(p, item, depth);
        else
            add_json_text(p, F_MESSAGE, item);
    }
    walk_error(p, v, depth);
}

/* Skips leading white space and an SSE "data:" prefix (in-band stream errors). */
static gw_str_t trim_body(gw_str_t b)
{
    while (b.len > 0 && isspace((unsigned char)b.ptr[0])) {
        b.ptr++;
        b.len--;
    }
    if (b.len >= 5 && strncmp(b.ptr, "data:", 5) == 0) {
        b.ptr += 5;
        b.len -= 5;
        while (b.len > 0 && isspace((unsigned char)b.ptr[0])) {
            b.ptr++;
            b.len--;
        }
    }
    return b;
}

/* Parses a JSON value from the body; NULL if it is not an object, array or string. */
static json_t *load_body(gw_str_t body)
{
    json_t *root;

    if (body.len == 0)
        return NULL;
    /* EOF check off: an SSE frame may be followed by more frames. */
    root = json_loadb(body.ptr, body.len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    if (root != NULL && !json_is_object(root) && !json_is_array(root) && !json_is_string(root)) {
        json_decref(root); /* "429 Too Many Requests" is text, not the number 429 */
        root = NULL;
    }
    return root;
}

static void parse_body(parsed_t *p, gw_str_t body)
{
    gw_str_t b = trim_body(body);
    json_t *root = load_body(b);

    if (root == NULL) {
        add_text(p, F_MESSAGE, b.ptr, GW_MIN(b.len, (size_t)1024));
        return;
    }
    walk_root(p, root, 0);
    json_decref(root);
}

/* ---- delays ---------------------------------------------------------------------- */

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
static int64_t parse_duration(const char *s, bool loose, const char **endp)
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
    if (tm.tm_mon < 0 || d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 || ss > 60)
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
    ms = parse_duration(buf, false, &end);
    if (ms >= 0 && *end == '\0')
        return now_ms + ms;
    return parse_http_date(buf);
}

static const char *find_header(const gw_header_t *h, size_t n, const parsed_t *p,
                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && h[i].value != NULL && strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    for (size_t i = 0; p != NULL && i < p->nextra; i++)
        if (strcasecmp(p->extra[i].name, name) == 0)
            return p->extra[i].value;
    return NULL;
}

/* "Please try again in 7.66s", "Please wait 41 seconds before retrying." */
static int64_t prose_delay_ms(const char *msg)
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
            ms = parse_duration(s, true, &end);
            if (ms >= 0)
                return ms;
            at += strlen(leads[i]);
        }
    }
    return -1;
}

/* Reset headers of the OpenAI family; one is used only when its own
 * x-ratelimit-remaining-* counterpart says that bucket is empty, so a 429 on
 * the per-minute token bucket is not mistaken for the daily request bucket
 * (Groq's -requests headers are per day). */
static const char *const reset_headers[] = {
    "x-ratelimit-reset-requests",     "x-ratelimit-reset-tokens",
    "x-ratelimit-reset-requests-day", "x-ratelimit-reset-tokens-day",
    "x-ratelimit-reset-requests-minute", "x-ratelimit-reset-tokens-minute",
    "x-ratelimit-reset",
};

static int64_t reset_header_until(const gw_header_t *h, size_t n, const parsed_t *p,
                                  int64_t now_ms)
{
    static const char reset_prefix[] = "x-ratelimit-reset";
    int64_t best = 0;

    for (size_t i = 0; i < GW_ARRAY_LEN(reset_headers); i++) {
        char rem_name[64];
        const char *rem;
        const char *val;
        char *end;
        long long left;
        int64_t at;

        val = find_header(h, n, p, reset_headers[i]);
        if (val == NULL)
            continue;
        snprintf(rem_name, sizeof(rem_name), "x-ratelimit-remaining%s",
                 reset_headers[i] + sizeof(reset_prefix) - 1);
        rem = find_header(h, n, p, rem_name);
        if (rem == NULL)
            continue;
        left = strtoll(rem, &end, 10);
        if (end == rem || left > 0)
            continue;
        at = gw_parse_reset_value(val, now_ms);
        if (at > best)
            best = at;
    }
    return best;
}

/* The time the upstream said to come back, or 0 when it said nothing usable. */
static int64_t stated_until(const gw_header_t *h, size_t n, const parsed_t *p, int64_t now_ms)
{
    const char *v;
    int64_t at = 0;

    v = find_header(h, n, p, "retry-after-ms");
    if (v != NULL) {
        const char *s = v;
        double ms;

        while (*s == ' ')
            s++;
        if (parse_number(&s, &ms) && ms <= PARSED_MS_MAX)
            at = now_ms + (int64_t)ceil(ms);
    }
    if (at == 0) {
        v = find_header(h, n, p, "retry-after");
        if (v != NULL)
            at = gw_parse_reset_value(v, now_ms);
    }
    if (at == 0 && p->retry_info_ms >= 0)
        at = now_ms + p->retry_info_ms;
    if (at == 0) {
        int64_t ms = prose_delay_ms(p->text[F_MESSAGE].ptr);

        if (ms >= 0)
            at = now_ms + ms;
    }
    if (at == 0)
        at = reset_header_until(h, n, p, now_ms);
    if (at == 0)
        return 0;
    /* "Retry-After: 0" still moves us off the pair for a moment. */
    return GW_MAX(GW_MIN(at, now_ms + STATED_MAX_MS), now_ms + 1000);
}

/* ---- classification -------------------------------------------------------------- */

static bool rule_matches(const rule_t *r, const char *prov_id, int status, const parsed_t *p)
{
    static const field_t any_fields[] = {F_CODE, F_TYPE, F_GSTATUS, F_MESSAGE, F_REASON};

    if (strcmp(r->provider, "*") != 0 && strcmp(r->provider, prov_id) != 0)
        return false;
    if (status < r->lo || status > r->hi)
        return false;
    if (r->field == F_HTTP)
        return true;
    if (r->field == F_ANY) {
        for (size_t i = 0; i < GW_ARRAY_LEN(any_fields); i++) {
            const gw_buf_t *b = &p->text[any_fields[i]];

            if (b->len > 0 && match_pattern(b->ptr, b->len, r->pattern))
                return true;
        }
        return false;
    }
    return p->text[r->field].len > 0 &&
           match_pattern(p->text[r->field].ptr, p->text[r->field].len, r->pattern);
}

/* Fills the verdict from the class action, the rule's overrides and the delays. */
static void decide(const gw_provider_t *prov, const rule_t *r, gw_fail_t fail,
                   const parsed_t *p, const gw_header_t *h, size_t n, int64_t now_ms,
                   gw_verdict_t *out)
{
    const action_t *a = &actions[fail];
    gw_reset_t reset = prov != NULL ? prov->reset : GW_RESET_UTC;
    cd_kind_t cd = a->cd;
    int64_t cd_ms = (int64_t)a->cd_s * 1000;
    int64_t stated = 0;
    int64_t until = 0;
    bool stated_used = false;

    if (r != NULL && r->cd != CD_DEFAULT)
        cd = r->cd;
    if (r != NULL && r->cd_s != DEF)
        cd_ms = (int64_t)r->cd_s * 1000;
    if (cd == CD_RETRY_OR_FIXED || cd == CD_RETRY_OR_PERIOD)
        stated = p != NULL ? stated_until(h, n, p, now_ms) : 0;

    switch (cd) {
    case CD_FIXED:
        until = now_ms + cd_ms;
        break;
    case CD_DAY:
        until = now_ms + 86400 * (int64_t)1000;
        break;
    case CD_RETRY_OR_FIXED:
        stated_used = stated > 0;
        until = stated_used ? stated : now_ms + cd_ms;
        break;
    case CD_PERIOD:
        until = gw_reset_next(reset, now_ms);
        break;
    case CD_RETRY_OR_PERIOD:
        stated_used = stated > 0;
        until = stated_used ? stated : gw_reset_next(reset, now_ms);
        break;
    case CD_NONE:
    case CD_DEFAULT:
    default:
        until = 0;
        break;
    }

    memset(out, 0, sizeof(*out));
    out->fail = fail;
    out->next = (r != NULL && r->next != DEF) ? (gw_next_t)r->next : a->next;
    out->scope = (r != NULL && r->scope != DEF) ? (gw_scope_t)r->scope : a->scope;
    out->key_health = (r != NULL && r->health != DEF) ? (gw_key_health_t)r->health : a->health;
    out->client_status = a->client_status;
    out->cooldown_until_ms = until;
    out->explicit_delay = stated_used;

    /* A "per-minute" 429 whose upstream asks for more than 15 minutes is really a
     * longer window (an hourly or rolling daily budget): keep the stated time and
     * report it as a period quota so it is not escalated or shown as transient. */
    if (fail == GW_FAIL_RATE_MINUTE && stated_used && until - now_ms > MINUTE_MAX_MS) {
        out->fail = GW_FAIL_QUOTA_PERIOD;
        out->key_health = actions[GW_FAIL_QUOTA_PERIOD].health;
        out->client_status = actions[GW_FAIL_QUOTA_PERIOD].client_status;
    }
    if (until == 0)
        out->scope = GW_SCOPE_NONE;
    out->name = gw_fail_name(out->fail);
}

void gw_errtable_classify(const gw_provider_t *prov, int status, gw_str_t body,
                          const gw_header_t *hdrs, size_t nhdrs, int64_t now_ms,
                          gw_verdict_t *out)
{
    const char *prov_id = (prov != NULL && prov->id != NULL) ? prov->id : "";
    const rule_t *hit = NULL;
    parsed_t p;
    int eff = status;

    parsed_init(&p);
    if (body.ptr != NULL)
        parse_body(&p, body);
    /* An error inside a 200 (a stream frame) that names its own status is
     * judged by that status: OpenRouter {"error":{"code":429,...}}. */
    if (eff < 400 && p.inband_status != 0)
        eff = p.inband_status;
    for (size_t i = 0; i < GW_ARRAY_LEN(rules); i++) {
        if (rule_matches(&rules[i], prov_id, eff, &p)) {
            hit = &rules[i];
            break;
        }
    }
    gw_assert(hit != NULL); /* the last row matches everything */
    decide(prov, hit, hit->fail, &p, hdrs, nhdrs, now_ms, out);
    gw_log_debug("errtable: %s status %d -> %s (rule %zu)", prov_id, status, out->name,
                 (size_t)(hit - rules));
    parsed_dispose(&p);
}

void gw_errtable_transport(const gw_provider_t *prov, gw_fail_t fail, int64_t now_ms,
                           gw_verdict_t *out)
{
    gw_assert(fail == GW_FAIL_TIMEOUT || fail == GW_FAIL_NETWORK || fail == GW_FAIL_SERVER);
    decide(prov, NULL, fail, NULL, NULL, 0, now_ms, out);
}

/* ---- the message for the client -------------------------------------------------- */

static bool is_token_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.' || c == '*';
}

/* Credential-looking tokens: a known key prefix, or a long mixed-case
 * alphanumeric run with few dashes (model ids have many, keys few). */
static bool looks_secret(const char *t, size_t n)
{
    static const char *const prefixes[] = {
        "sk-", "sk_", "pk_", "gsk_", "csk-", "nvapi-", "AIza", "ghp_", "gho_", "ghu_",
        "ghs_", "github_pat_", "hf_", "xai-", "r8_", "freellmapi-",
    };
    bool digit = false, lower = false, upper = false;
    int dashes = 0;

    for (size_t i = 0; i < GW_ARRAY_LEN(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);

        if (n > pl && strncmp(t, prefixes[i], pl) == 0)
            return true;
    }
    if (n < 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];

        digit |= isdigit(c) != 0;
        lower |= islower(c) != 0;
        upper |= isupper(c) != 0;
        dashes += c == '-';
    }
    return digit && lower && upper && dashes <= 2;
}

static void append_redacted(gw_buf_t *out, const char *s, size_t n)
{
    size_t i = 0;
    bool after_bearer = false;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];

        if (!is_token_char(c)) {
            /* Control characters become spaces: the text goes into JSON and logs. */
            char ch = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;

            gw_buf_append(out, &ch, 1);
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_token_char((unsigned char)s[j]))
            j++;
        if (after_bearer || looks_secret(s + i, j - i))
            gw_buf_appends(out, "[redacted]");
        else
            gw_buf_append(out, s + i, j - i);
        after_bearer = (j - i == 6 && strncasecmp(s + i, "Bearer", 6) == 0);
        i = j;
    }
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* Replaces bytes that are not valid UTF-8 with '?', in place: the message goes
 * into a JSON string, which must be valid UTF-8. */
static void sanitize_utf8(char *s)
{
    unsigned char *p = (unsigned char *)s;

    while (*p != '\0') {
        size_t n = utf8_seq(p);

        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

size_t gw_errtable_message(gw_str_t body, char *out, size_t outsz)
{
    gw_buf_t msg;
    gw_buf_t red;
    gw_str_t b;
    json_t *root;
    json_t *e;
    json_t *m = NULL;
    size_t n = 0;

    if (outsz == 0)
        return 0;
    b = trim_body(body);
    root = body.ptr != NULL ? load_body(b) : NULL;
    e = root;
    gw_buf_init(&msg, TEXT_MAX);
    gw_buf_init(&red, TEXT_MAX * 2);
    if (json_is_array(e))
        e = json_array_get(e, 0);
    if (json_is_object(e)) {
        json_t *err = json_object_get(e, "error");
        json_t *errors = json_object_get(e, "errors");

        if (json_is_object(err))
            m = json_object_get(err, "message");
        else if (json_is_string(err))
            m = err;
        if (m == NULL && json_is_array(errors))
            m = json_object_get(json_array_get(errors, 0), "message");
        if (m == NULL)
            m = json_object_get(e, "message");
        if (m == NULL)
            m = json_object_get(e, "detail");
        if (m == NULL)
            m = json_object_get(e, "msg");
        if (json_is_string(m)) {
            gw_buf_append(&msg, json_string_value(m), json_string_length(m));
        } else if (m != NULL && !json_is_null(m)) {
            char *dump = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);

            if (dump != NULL)
                gw_buf_append(&msg, dump, GW_MIN(strlen(dump), (size_t)TEXT_MAX));
            free(dump);
        }
        /* OpenRouter's "Provider returned error" says little; the raw upstream text more. */
        if (json_is_object(err)) {
            json_t *raw = json_object_get(json_object_get(err, "metadata"), "raw");

            if (json_is_string(raw) && msg.len + 2 + json_string_length(raw) < TEXT_MAX) {
                gw_buf_appends(&msg, msg.len > 0 ? ": " : "");
                gw_buf_append(&msg, json_string_value(raw), json_string_length(raw));
            }
        }
    } else if (json_is_string(e)) {
        gw_buf_append(&msg, json_string_value(e), GW_MIN(json_string_length(e), (size_t)TEXT_MAX));
    } else if (root == NULL && b.len > 0) {
        gw_buf_append(&msg, b.ptr, GW_MIN(b.len, (size_t)1024));
    }
    if (msg.len > 0)
        append_redacted(&red, msg.ptr, msg.len);
    if (red.len > 0) {
        n = GW_MIN(red.len, outsz - 1);
        /* Never cut a UTF-8 sequence in half: back up to its first byte. */
        while (n > 0 && n < red.len && ((unsigned char)red.ptr[n] & 0xc0) == 0x80)
            n--;
        memcpy(out, red.ptr, n);
    }
    out[n] = '\0';
    sanitize_utf8(out);
    json_decref(root);
    gw_buf_dispose(&msg);
    gw_buf_dispose(&red);
    return n;
}
