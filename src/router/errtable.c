/*
 * Classifying upstream failures (see errtable.h). A failure is parsed once
 * into a few text fields (error.code, error.type, Google's error.status, the
 * human message, Google quotaIds and ErrorInfo reasons), then matched against
 * the rules (errtable_rules.c) top to bottom: provider rows first, generic
 * rows after, the first match wins. The matched class picks its default
 * action (next step, cooldown scope and length, new key health, client
 * status); a rule may override parts of it. Delays come from the response
 * itself when it states one (Retry-After, retry-after-ms, RetryInfo, reset
 * headers, "try again in 7.66s"; read by retry_delay.c), else from the table.
 *
 * Pure: no I/O, no global state; allocation only while classifying (a
 * failure path).
 */
#include "router/errtable.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "router/cooldown.h"
#include "router/error_message.h"
#include "router/errtable_rules.h"
#include "router/reset.h"
#include "router/retry_delay.h"

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
        gw_buf_init(&p->text[f], GW_ERROR_TEXT_MAX);
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
            int64_t ms = rd ? gw_parse_duration(rd, false, &end) : -1;

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

static void parse_body(parsed_t *p, gw_str_t body)
{
    gw_str_t b = gw_error_body_trim(body);
    json_t *root = gw_error_body_json(b);

    if (root == NULL) {
        add_text(p, F_MESSAGE, b.ptr, GW_MIN(b.len, (size_t)1024));
        return;
    }
    walk_root(p, root, 0);
    json_decref(root);
}

/* ---- delays stated in the answer ------------------------------------------------ */

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
    if (v != NULL)
        at = gw_parse_ms_value(v, now_ms);
    if (at == 0) {
        v = find_header(h, n, p, "retry-after");
        if (v != NULL)
            at = gw_parse_reset_value(v, now_ms);
    }
    if (at == 0 && p->retry_info_ms >= 0)
        at = now_ms + p->retry_info_ms;
    if (at == 0) {
        int64_t ms = gw_prose_delay_ms(p->text[F_MESSAGE].ptr);

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

/* "Limit 6000" in a rate-limit message (Groq's TPM 429 and 413), or 0. */
static int64_t stated_limit(const parsed_t *p)
{
    const gw_buf_t *b = &p->text[F_MESSAGE];
    const char *hit = b->len > 0 ? strcasestr(b->ptr, "limit ") : NULL;

    for (; hit != NULL; hit = strcasestr(hit + 6, "limit ")) {
        char *end;
        long long v = strtoll(hit + 6, &end, 10);

        if (end != hit + 6 && v > 0 && v < (long long)1e12)
            return v;
    }
    return 0;
}

/* A 429 about the per-minute token window rather than the request count. */
static bool on_token_window(const parsed_t *p)
{
    const gw_buf_t *msg = &p->text[F_MESSAGE];
    const gw_buf_t *type = &p->text[F_TYPE];
    const gw_buf_t *code = &p->text[F_CODE];

    return (msg->len > 0 &&
            match_pattern(msg->ptr, msg->len, "tokens per minute|TPM|token rate limit")) ||
           (type->len > 0 && match_pattern(type->ptr, type->len, "tokens")) ||
           (code->len > 0 &&
            match_pattern(code->ptr, code->len, "token_quota_exceeded|tokens_per_minute"));
}

/* Fills the verdict from the class action, the rule's overrides and the delays. */
static void decide(const gw_provider_t *prov, const rule_t *r, gw_fail_t fail, int status,
                   const parsed_t *p, const gw_header_t *h, size_t n, int64_t now_ms,
                   gw_verdict_t *out)
{
    const action_t *a = &gw_errtable_actions[fail];
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
    if (fail == GW_FAIL_RATE_MINUTE && stated_used && until - now_ms > GW_COOLDOWN_MINUTE_CAP_MS) {
        out->fail = GW_FAIL_QUOTA_PERIOD;
        out->key_health = gw_errtable_actions[GW_FAIL_QUOTA_PERIOD].health;
        out->client_status = gw_errtable_actions[GW_FAIL_QUOTA_PERIOD].client_status;
    }
    if (until == 0)
        out->scope = GW_SCOPE_NONE;
    out->name = gw_fail_name(out->fail);
    if (p != NULL && status == 413) {
        out->too_large = true;
        out->stated_limit = stated_limit(p);
    } else if (p != NULL && out->fail == GW_FAIL_RATE_MINUTE && on_token_window(p)) {
        out->token_window = true;
        out->stated_limit = stated_limit(p);
    }
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
    for (size_t i = 0; i < gw_errtable_nrules; i++) {
        if (rule_matches(&gw_errtable_rules[i], prov_id, eff, &p)) {
            hit = &gw_errtable_rules[i];
            break;
        }
    }
    gw_assert(hit != NULL); /* the last row matches everything */
    decide(prov, hit, hit->fail, eff, &p, hdrs, nhdrs, now_ms, out);
    gw_log_debug("errtable: %s status %d -> %s (rule %zu)", prov_id, status, out->name,
                 (size_t)(hit - gw_errtable_rules));
    parsed_dispose(&p);
}

void gw_errtable_transport(const gw_provider_t *prov, gw_fail_t fail, int64_t now_ms,
                           gw_verdict_t *out)
{
    gw_assert(fail == GW_FAIL_TIMEOUT || fail == GW_FAIL_NETWORK || fail == GW_FAIL_SERVER);
    decide(prov, NULL, fail, 0, NULL, NULL, 0, now_ms, out);
}
