/*
 * The error taxonomy as data (see errtable_rules.h, errtable.c).
 *
 * Facts behind the rows: docs/reference/providers.md (section 0 and each
 * provider), docs/reference/wire-openai.md 1.8 and 11.x, wire-gemini.md 0.3.
 * Every row is exercised by the corpus in tests/fixtures/errors/.
 */
#include "router/errtable_rules.h"

#include "core/gw.h"
#include "router/cooldown.h"

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
const rule_t gw_errtable_rules[] = {
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

const size_t gw_errtable_nrules = GW_ARRAY_LEN(gw_errtable_rules);

const action_t gw_errtable_actions[GW_FAIL__COUNT] = {
    [GW_FAIL_NONE] = {GW_NEXT_RETURN, GW_SCOPE_NONE, CD_NONE, 0, GW_KEY_UNKNOWN, 502},
    /* The first step; cooldowns escalate repeats (cooldown.c). */
    [GW_FAIL_RATE_MINUTE] = {GW_NEXT_KEY, GW_SCOPE_MODEL_KEY, CD_RETRY_OR_FIXED,
                             (int)(GW_COOLDOWN_MINUTE_FIRST_MS / 1000),
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
