// Provider table and each provider's real error wire formats, for the mock
// upstream server (mock.mjs). No dependencies.
//
// Bodies follow the shapes the providers really send (see
// docs/reference/providers.md section 0, docs/reference/wire-openai.md section 11, and
// public bug reports quoting them). Messages are written in our own words
// where the exact text is not a documented contract; the fields a gateway
// classifies on (status, error.code / error.type, the phrases "per day",
// "free-models-per-day", "daily free allocation", "DEGRADED function",
// "requires a subscription", "RateLimitReached", headers) are kept.

import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The providers the mock serves, read from a catalog (catalog/catalog.json by
// default): its dialect ("gemini" has its own handler; every other dialect is
// served by the OpenAI-compatible one), whether it takes anonymous calls, and
// whether its URLs hold an account id. A provider added to a catalog is served
// like any OpenAI-compatible one, with no change here.
export function providersOf(catalog) {
  const providers = {};
  const basePaths = {};
  for (const p of catalog.providers || []) {
    providers[p.id] = { dialect: p.dialect === 'gemini' ? 'gemini' : 'openai', keyless: Boolean(p.keyless), accountInPath: Boolean(p.needs_account_id) };
    // The path each provider's real base URL has after the host; tests build
    // FREELLMAPI_<ID>_BASE_URL = http://127.0.0.1:<port>/<id><basePath>.
    basePaths[p.id] = new URL(p.base_url.replace('{account_id}', 'ACCOUNT_ID')).pathname.replace('ACCOUNT_ID', '{account_id}').replace(/\/$/, '');
  }
  return { providers, basePaths };
}

export const CATALOG_PATH = fileURLToPath(new URL('../../catalog/catalog.json', import.meta.url));
const BUILTIN = providersOf(JSON.parse(readFileSync(CATALOG_PATH, 'utf8')));
export const PROVIDERS = BUILTIN.providers;
export const BASE_PATHS = BUILTIN.basePaths;

export const ERROR_KINDS = [
  'rate_limit_minute', // per-minute (or short-window) 429
  'rate_limit_day', // daily / period quota spent (Cohere: monthly, Kilo/LLM7: hourly)
  'tokens_minute', // tokens-per-minute 429
  'auth', // 401 invalid key
  'forbidden', // 403
  'payment', // 402 / out of credit
  'server', // 500
  'bad_gateway', // 502
  'unavailable', // 503
  'timeout', // 504
  'bad_request', // 400 the request is wrong
  'validation', // 422 (Mistral) / 400 elsewhere
  'model_not_found', // 404
  'context_length', // prompt too long
  'degraded', // NVIDIA 400 DEGRADED function
  'subscription', // Ollama 403 model needs a subscription
  'tool_use_failed', // Groq 400 tool_use_failed
  'upstream_rate_limit', // OpenRouter 429 "Provider returned error" (upstream of OpenRouter)
  'unavailable_model', // GitHub 400 unavailable_model
  // Google's status names (Gemini); on other providers they alias the kinds above (KIND_ALIASES).
  'invalid_argument', // 400 INVALID_ARGUMENT "Request contains an invalid argument."
  'api_key_invalid', // 400 INVALID_ARGUMENT, ErrorInfo reason API_KEY_INVALID (= auth)
  'permission_denied', // 403 PERMISSION_DENIED, reason SERVICE_DISABLED (= forbidden)
  'leaked_key', // 403 PERMISSION_DENIED "Your API key was reported as leaked"
  'not_found', // 404 NOT_FOUND (= model_not_found)
  'internal', // 500 INTERNAL (= server)
  'deadline_exceeded', // 504 DEADLINE_EXCEEDED (= timeout)
  'failed_precondition', // 400 FAILED_PRECONDITION "User location is not supported for the API use."
  'missing_thought_signature', // 400 "Function call is missing a thought_signature in functionCall parts..."
  'corrupted_thought_signature', // 400 "Corrupted thought signature."
];

// A provider without its own preset for one of Google's kinds answers the
// closest generic kind instead.
export const KIND_ALIASES = {
  invalid_argument: 'bad_request',
  api_key_invalid: 'auth',
  permission_denied: 'forbidden',
  leaked_key: 'forbidden',
  not_found: 'model_not_found',
  internal: 'server',
  deadline_exceeded: 'timeout',
  failed_precondition: 'bad_request',
  missing_thought_signature: 'bad_request',
  corrupted_thought_signature: 'bad_request',
};

const rid = (n = 16) => randomBytes(n).toString('hex');
const secsToMidnightUTC = (now) => {
  const d = new Date(now);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - now) / 1000));
};
const nextMidnightUTCms = (now) => now + secsToMidnightUTC(now) * 1000;
// Go-style duration as Groq prints it: 2s, 1m26.4s, 7m12s.
export const goDuration = (secs) => {
  const s = Math.max(0, Number(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = +(s % 60).toFixed(3);
  let out = '';
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  out += `${rest}s`;
  return out;
};

function oaiErr(message, type, code = null, param = null) {
  return { error: { message, type, param, code } };
}

function cfEnvelope(code, message) {
  return { errors: [{ message, code }], success: false, result: null, messages: [] };
}

/**
 * The error a provider really answers for a kind.
 * ctx: { model, now, retryAfter (seconds, may be undefined), account }
 * Returns { status, headers, body } where body is an object (JSON) or a string.
 */
export function providerError(provider, kind, ctx = {}) {
  const model = ctx.model || 'unknown-model';
  const now = ctx.now || Date.now();
  const ra = ctx.retryAfter;
  const p = PRESETS[provider] || PRESETS._generic;
  const alias = KIND_ALIASES[kind];
  const make = p[kind] || PRESETS._generic[kind] || (alias && (p[alias] || PRESETS._generic[alias]));
  if (!make) {
    return { status: 500, headers: {}, body: oaiErr(`mock: unknown error kind ${kind}`, 'server_error') };
  }
  const e = make({ ...ctx, model, now, ra });
  return { status: e.status, headers: e.headers || {}, body: e.body };
}

/**
 * An error with a given status and message, in the provider's own body shape
 * (for request checks of the media surfaces: embeddings, images, audio).
 * opts: { param, code, type } where the shape has such fields.
 * Returns { status, headers, body }.
 */
export function providerMessage(provider, status, message, opts = {}) {
  const param = opts.param ?? null;
  const type = opts.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  const code = opts.code ?? null;
  switch (provider) {
    case 'google':
      return gErr(status, status === 404 ? 'NOT_FOUND' : status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT', message);
    case 'groq':
      return { status, headers: {}, body: { error: { message, type, ...(code ? { code } : {}), ...(param ? { param } : {}) } } };
    case 'cerebras':
      return { status, headers: {}, body: { message, type, param: param ?? '', code: code ?? 'wrong_api_format' } };
    case 'sambanova':
      return { status, headers: {}, body: { error: { code, message, param, type } } };
    case 'nvidia':
      return { status, headers: {}, body: { status, title: status === 413 ? 'Payload Too Large' : status === 404 ? 'Not Found' : 'Bad Request', detail: message } };
    case 'mistral':
      return { status, headers: {}, body: { object: 'error', message, type, param, code } };
    case 'openrouter':
    case 'kilo':
      return { status, headers: {}, body: { error: { message, code: status } } };
    case 'github':
      return { status, headers: {}, body: { error: { code: code ?? 'invalid_request_body', message, details: message } } };
    case 'cohere':
      return { status, headers: {}, body: { id: randomUUID(), message: `invalid request: ${message}` } };
    case 'cloudflare':
      return { status, headers: {}, body: cfEnvelope(opts.cfCode ?? 5006, message) };
    case 'zhipu':
      return { status, headers: {}, body: { error: { code: code ?? '1214', message } } };
    case 'ollama':
      return { status, headers: {}, body: { error: message } };
    case 'pollinations':
      return { status, headers: {}, body: { error: status === 413 ? 'Payload Too Large' : 'Bad Request', message, status } };
    case 'llm7':
      return { status, headers: {}, body: { error: { message, type, code: status } } };
    default:
      return { status, headers: {}, body: oaiErr(message, type, code, param) };
  }
}

// In-band error event a provider puts inside a 200 SSE stream.
export function inbandError(provider, model) {
  switch (provider) {
    case 'google':
      return { error: { code: 500, message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting', status: 'INTERNAL' } };
    case 'groq':
      return {
        error: {
          message: 'Failed to call a function. Please adjust your prompt. See \'failed_generation\' for more details.',
          type: 'invalid_request_error',
          code: 'tool_use_failed',
        },
      };
    case 'openrouter':
    case 'kilo':
      return {
        id: `gen-${Math.floor(Date.now() / 1000)}-${rid(10)}`,
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        provider: 'Chutes',
        error: { code: 502, message: 'Provider returned error', metadata: { provider_name: 'Chutes', raw: 'upstream connect error' } },
        choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' }],
      };
    default:
      return { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } };
  }
}

// ---- per-provider presets ---------------------------------------------------

const generic = {
  rate_limit_minute: ({ ra }) => ({
    status: 429,
    headers: ra === null ? {} : { 'retry-after': String(ra ?? 2) },
    body: oaiErr('Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded'),
  }),
  rate_limit_day: ({ now, ra }) => ({
    status: 429,
    headers: ra === null ? {} : { 'retry-after': String(ra ?? secsToMidnightUTC(now)) },
    body: oaiErr('Daily request limit reached (requests per day). Try again tomorrow.', 'requests', 'rate_limit_exceeded'),
  }),
  tokens_minute: ({ ra }) => ({
    status: 429,
    headers: ra === null ? {} : { 'retry-after': String(ra ?? 2) },
    body: oaiErr('Rate limit reached for tokens per minute.', 'tokens', 'rate_limit_exceeded'),
  }),
  auth: () => ({ status: 401, body: oaiErr('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key') }),
  forbidden: () => ({ status: 403, body: oaiErr('You do not have access to this resource.', 'permission_error', 'forbidden') }),
  payment: () => ({ status: 402, body: oaiErr('Insufficient credits.', 'insufficient_quota', 'insufficient_quota') }),
  server: () => ({ status: 500, body: oaiErr('The server had an error while processing your request.', 'server_error') }),
  bad_gateway: () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n' }),
  unavailable: () => ({ status: 503, body: oaiErr('The server is overloaded or not ready yet.', 'server_error', 'service_unavailable') }),
  timeout: () => ({ status: 504, headers: { 'content-type': 'text/html' }, body: '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>\n' }),
  bad_request: () => ({ status: 400, body: oaiErr('Invalid request.', 'invalid_request_error') }),
  validation: () => ({ status: 400, body: oaiErr('Invalid request: unsupported parameter.', 'invalid_request_error', 'invalid_value') }),
  model_not_found: ({ model }) => ({ status: 404, body: oaiErr(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found') }),
  context_length: () => ({ status: 400, body: oaiErr('This model\'s maximum context length was exceeded. Please reduce the length of the messages.', 'invalid_request_error', 'context_length_exceeded', 'messages') }),
};

const groqRateHeaders = (ra, { remainingReq = 986, limitReq = 1000, resetReq = '14m24s', remainingTok = 11820, resetTok = '900ms' } = {}) => ({
  ...(ra === null ? {} : { 'retry-after': String(ra) }),
  'x-ratelimit-limit-requests': String(limitReq),
  'x-ratelimit-limit-tokens': '12000',
  'x-ratelimit-remaining-requests': String(remainingReq),
  'x-ratelimit-remaining-tokens': String(remainingTok),
  'x-ratelimit-reset-requests': resetReq,
  'x-ratelimit-reset-tokens': resetTok,
  'x-groq-region': 'dls',
  'x-request-id': `req_${rid(13)}`,
});

const GROQ_ORG = 'org_01jmockmockmockmockmockmo';

const PRESETS = {
  _generic: generic,

  groq: {
    rate_limit_minute: ({ model, ra }) => {
      const s = ra ?? 2;
      return {
        status: 429,
        headers: groqRateHeaders(ra === null ? null : s),
        body: {
          error: {
            message: `Rate limit reached for model \`${model}\` in organization \`${GROQ_ORG}\` service tier \`on_demand\` on requests per minute (RPM): Limit 30, Used 30, Requested 1. Please try again in ${goDuration(s)}. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing`,
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
      };
    },
    rate_limit_day: ({ model, ra }) => {
      const s = ra ?? 86.4;
      return {
        status: 429,
        headers: groqRateHeaders(ra === null ? null : Math.ceil(s), { remainingReq: 0, resetReq: goDuration(s) }),
        body: {
          error: {
            message: `Rate limit reached for model \`${model}\` in organization \`${GROQ_ORG}\` service tier \`on_demand\` on requests per day (RPD): Limit 1000, Used 1000, Requested 1. Please try again in ${goDuration(s)}. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing`,
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
      };
    },
    tokens_minute: ({ model, ra }) => {
      const s = ra ?? 6.78;
      return {
        status: 429,
        headers: groqRateHeaders(ra === null ? null : Math.ceil(s), { remainingTok: 0, resetTok: goDuration(s) }),
        body: {
          error: {
            message: `Rate limit reached for model \`${model}\` in organization \`${GROQ_ORG}\` service tier \`on_demand\` on tokens per minute (TPM): Limit 12000, Used 11513, Requested 3166. Please try again in ${goDuration(s)}. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing`,
            type: 'tokens',
            code: 'rate_limit_exceeded',
          },
        },
      };
    },
    auth: () => ({ status: 401, body: { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } } }),
    forbidden: () => ({ status: 403, body: { error: { message: 'Forbidden', type: 'invalid_request_error', code: 'permission_denied' } } }),
    server: () => ({ status: 500, body: { error: { message: 'Internal Server Error', type: 'internal_server_error' } } }),
    unavailable: ({ model }) => ({
      status: 503,
      body: { error: { message: `${model} is currently over capacity. Please try again and back off exponentially. Visit https://groqstatus.com to see if there is an active incident.`, type: 'internal_server_error', code: 'service_unavailable' } },
    }),
    bad_request: () => ({ status: 400, body: { error: { message: '\'messages.0\' : for \'role:user\' the following must be satisfied[(\'messages.0.name\' : property \'name\' is unsupported)]', type: 'invalid_request_error' } } }),
    model_not_found: ({ model }) => ({ status: 404, body: { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } } }),
    context_length: () => ({ status: 400, body: { error: { message: 'Please reduce the length of the messages or completion.', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } }),
    tool_use_failed: () => ({
      status: 400,
      body: { error: { message: 'Failed to call a function. Please adjust your prompt. See \'failed_generation\' for more details.', type: 'invalid_request_error', code: 'tool_use_failed', failed_generation: '<function=get_weather>{"city": "Paris"}</function>' } },
    }),
  },

  cerebras: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: {
        ...(ra === null ? {} : { 'retry-after': String(ra ?? 2) }),
        'x-ratelimit-limit-requests-day': '14400',
        'x-ratelimit-remaining-requests-day': '14100',
        'x-ratelimit-reset-requests-day': '33011.5',
        'x-ratelimit-limit-tokens-minute': '60000',
        'x-ratelimit-remaining-tokens-minute': '0',
        'x-ratelimit-reset-tokens-minute': String(ra ?? 2),
      },
      body: { message: 'Requests per minute limit exceeded - too many requests sent.', type: 'too_many_requests_error', param: 'quota', code: 'request_quota_exceeded' },
    }),
    rate_limit_day: ({ now, ra }) => {
      const s = ra ?? secsToMidnightUTC(now);
      return {
        status: 429,
        headers: {
          ...(ra === null ? {} : { 'retry-after': String(s) }),
          'x-ratelimit-limit-requests-day': '14400',
          'x-ratelimit-remaining-requests-day': '0',
          'x-ratelimit-reset-requests-day': String(s),
          'x-ratelimit-limit-tokens-minute': '60000',
          'x-ratelimit-remaining-tokens-minute': '60000',
          'x-ratelimit-reset-tokens-minute': '59.0',
        },
        body: { message: 'Requests per day limit exceeded - too many requests sent.', type: 'too_many_requests_error', param: 'quota', code: 'request_quota_exceeded' },
      };
    },
    tokens_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null ? {} : { 'retry-after': String(ra ?? 2) },
      body: { message: 'Tokens per minute limit exceeded - too many tokens processed.', type: 'too_many_requests_error', param: 'quota', code: 'token_quota_exceeded' },
    }),
    auth: () => ({ status: 401, body: { message: 'Wrong API Key', type: 'invalid_request_error', param: 'api_key', code: 'wrong_api_key' } }),
    server: () => ({ status: 500, body: { message: 'Internal server error', type: 'internal_server_error', param: '', code: 'internal_error' } }),
    unavailable: () => ({ status: 503, body: { message: 'We\'re experiencing high traffic right now! Please try again soon.', type: 'too_many_requests_error', param: 'queue', code: 'queue_exceeded' } }),
    model_not_found: ({ model }) => ({ status: 404, body: { message: `Model ${model} does not exist or you do not have access to it.`, type: 'not_found_error', param: 'model', code: 'model_not_found' } }),
    bad_request: () => ({ status: 400, body: { message: 'Invalid request', type: 'invalid_request_error', param: '', code: 'wrong_api_format' } }),
  },

  sambanova: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null ? {} : { 'retry-after': String(ra ?? 2) },
      body: { error: { code: 'rate_limit_exceeded', message: 'Rate limit exceeded', param: null, type: 'rate_limit_exceeded' } },
    }),
    rate_limit_day: ({ now, ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? secsToMidnightUTC(now)) },
      body: { error: { code: 'rate_limit_exceeded', message: 'Rate limit exceeded: requests per day limit reached for this model', param: null, type: 'rate_limit_exceeded' } },
    }),
    payment: () => ({ status: 402, body: { error: { code: 'payment_required', message: 'Payment method required: your free trial credits have expired. Add a payment method to continue.', param: null, type: 'invalid_request_error' } } }),
    auth: () => ({ status: 401, body: { error: { code: 'invalid_api_key', message: 'Invalid API key', param: null, type: 'invalid_request_error' } } }),
  },

  nvidia: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { status: 429, title: 'Too Many Requests' },
    }),
    rate_limit_day: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { status: 429, title: 'Too Many Requests', detail: 'Daily request quota exceeded for this account' },
    }),
    auth: () => ({ status: 401, body: { status: 401, title: 'Unauthorized', detail: 'Authentication failed' } }),
    forbidden: () => ({ status: 403, body: { status: 403, title: 'Forbidden', detail: 'Authorization failed' } }),
    payment: () => ({ status: 402, body: { status: 402, title: 'Payment Required', detail: 'Account credits exhausted' } }),
    degraded: () => ({ status: 400, body: { status: 400, title: 'Bad Request', detail: `Function id '${randomUUID()}': DEGRADED function cannot be invoked` } }),
    model_not_found: () => ({ status: 404, body: { status: 404, title: 'Not Found', detail: `Function '${randomUUID()}': Not found for account 'mockAccount${rid(6)}'` } }),
    server: () => ({ status: 500, body: { status: 500, title: 'Internal Server Error', detail: 'Inference error' } }),
    unavailable: () => ({ status: 503, body: { status: 503, title: 'Service Unavailable', detail: 'Function is temporarily unavailable' } }),
    bad_request: () => ({ status: 400, body: { status: 400, title: 'Bad Request', detail: 'Invalid request body' } }),
  },

  mistral: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { object: 'error', message: 'Requests rate limit exceeded', type: 'rate_limited', param: null, code: '1300' },
    }),
    tokens_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { object: 'error', message: 'Tokens per minute rate limit exceeded', type: 'rate_limited', param: null, code: '1301' },
    }),
    rate_limit_day: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { object: 'error', message: 'Monthly token limit exceeded for the free tier', type: 'rate_limited', param: null, code: '1302' },
    }),
    auth: () => ({ status: 401, body: { message: 'Unauthorized', request_id: rid(16) } }),
    validation: ({ field = 'frequency_penalty', input = 0 } = {}) => ({
      status: 422,
      body: {
        object: 'error',
        message: { detail: [{ type: 'extra_forbidden', loc: ['body', field], msg: 'Extra inputs are not permitted', input }] },
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }),
    bad_request: () => ({ status: 400, body: { object: 'error', message: 'Invalid request', type: 'invalid_request_error', param: null, code: null } }),
    server: () => ({ status: 500, body: { object: 'error', message: 'Internal server error', type: 'internal_server_error', param: null, code: '1000' } }),
    unavailable: () => ({ status: 503, body: { object: 'error', message: 'Service unavailable.', type: 'service_unavailable', param: null, code: '1000' } }),
    model_not_found: ({ model }) => ({ status: 400, body: { object: 'error', message: `Invalid model: ${model}`, type: 'invalid_model', param: null, code: '1500' } }),
    context_length: () => ({ status: 400, body: { object: 'error', message: 'Prompt contains 300000 tokens and 0 draft tokens, too large for model with 262144 maximum context length', type: 'invalid_request_message_order', param: null, code: '3051' } }),
  },

  openrouter: {
    rate_limit_minute: ({ now, ra }) => {
      const reset = now + 1000 * (ra ?? 2);
      const h = { 'X-RateLimit-Limit': '20', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) };
      return {
        status: 429,
        headers: { ...h, ...(ra === null || ra === undefined ? {} : { 'retry-after': String(ra) }) },
        body: { error: { message: 'Rate limit exceeded: free-models-per-min. ', code: 429, metadata: { headers: h, provider_name: null } }, user_id: 'user_2mockmockmock' },
      };
    },
    rate_limit_day: ({ now }) => {
      const h = { 'X-RateLimit-Limit': '50', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(nextMidnightUTCms(now)) };
      return {
        status: 429,
        headers: h,
        body: { error: { message: 'Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day', code: 429, metadata: { headers: h, provider_name: null } }, user_id: 'user_2mockmockmock' },
      };
    },
    upstream_rate_limit: ({ model }) => ({
      status: 429,
      body: {
        error: {
          message: 'Provider returned error',
          code: 429,
          metadata: { raw: `${model} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations`, provider_name: 'Chutes' },
        },
        user_id: 'user_2mockmockmock',
      },
    }),
    payment: () => ({ status: 402, body: { error: { message: 'Insufficient credits. This account never purchased credits. Make sure your key is on the correct account or org, and if so, purchase more at https://openrouter.ai/settings/credits', code: 402 } } }),
    auth: () => ({ status: 401, body: { error: { message: 'User not found.', code: 401 } } }),
    forbidden: () => ({ status: 403, body: { error: { message: 'Your chosen model requires moderation and your input was flagged', code: 403, metadata: { reasons: ['violence'], flagged_input: '...', provider_name: 'OpenAI', model_slug: 'x' } } } }),
    server: () => ({ status: 500, body: { error: { message: 'Internal Server Error', code: 500 } } }),
    bad_gateway: () => ({ status: 502, body: { error: { message: 'Provider returned error', code: 502, metadata: { provider_name: 'Chutes', raw: 'upstream connect error or disconnect/reset before headers' } } } }),
    unavailable: () => ({ status: 503, body: { error: { message: 'No instances available', code: 503 } } }),
    model_not_found: ({ model }) => ({ status: 404, body: { error: { message: `No endpoints found for ${model}.`, code: 404 } } }),
    bad_request: () => ({ status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw: '{"error":"invalid request"}', provider_name: 'Chutes' } } } }),
    context_length: () => ({ status: 400, body: { error: { message: 'This endpoint\'s maximum context length is 131072 tokens. However, you requested about 300000 tokens. Please reduce the length of either one, or use the "middle-out" transform to compress your prompt automatically.', code: 400, metadata: { provider_name: null } } } }),
  },

  github: {
    rate_limit_minute: ({ ra }) => {
      const s = ra ?? 42;
      const msg = `Rate limit of 10 per 60s exceeded for UserByModelByMinute. Please wait ${s} seconds before retrying.`;
      return {
        status: 429,
        headers: { ...(ra === null ? {} : { 'retry-after': String(s) }), 'x-ratelimit-type': 'UserByModelByMinute', 'x-ms-rai-invoked': 'true' },
        body: { error: { code: 'RateLimitReached', message: msg, details: msg } },
      };
    },
    rate_limit_day: ({ ra }) => {
      const s = ra ?? 24367;
      const msg = `Rate limit of 50 per 86400s exceeded for UserByModelByDay. Please wait ${s} seconds before retrying.`;
      return {
        status: 429,
        headers: { ...(ra === null ? {} : { 'retry-after': String(s) }), 'x-ratelimit-type': 'UserByModelByDay' },
        body: { error: { code: 'RateLimitReached', message: msg, details: msg } },
      };
    },
    auth: () => ({ status: 401, body: { error: { code: 'unauthorized', message: 'Bad credentials', details: 'Bad credentials' } } }),
    forbidden: () => ({ status: 403, body: { error: { code: 'no_access', message: 'No access to model: the token lacks the models:read permission', details: 'No access to model' } } }),
    unavailable_model: ({ model }) => ({ status: 400, body: { error: { code: 'unavailable_model', message: `Unavailable model: ${model}`, details: `Unavailable model: ${model}` } } }),
    model_not_found: ({ model }) => ({ status: 400, body: { error: { code: 'unknown_model', message: `Unknown model: ${model}`, details: `Unknown model: ${model}` } } }),
    context_length: ({ model }) => ({ status: 413, body: { error: { code: 'tokens_limit_reached', message: `Request body too large for ${model} model. Max size: 8000 tokens.`, details: `Request body too large for ${model} model. Max size: 8000 tokens.` } } }),
    server: () => ({ status: 500, body: { error: { code: 'InternalServerError', message: 'The server had an error processing your request.', details: 'The server had an error processing your request.' } } }),
  },

  cohere: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { id: randomUUID(), message: 'You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at \'https://dashboard.cohere.com/api-keys\'. Contact us on \'https://discord.gg/XW44jPfYJu\' or email us at support@cohere.com with any questions' },
    }),
    rate_limit_day: () => ({
      status: 429,
      body: { id: randomUUID(), message: 'You are using a Trial key, which is limited to 1000 API calls / month. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at \'https://dashboard.cohere.com/api-keys\'. Contact us on \'https://discord.gg/XW44jPfYJu\' or email us at support@cohere.com with any questions' },
    }),
    auth: () => ({ status: 401, body: { id: randomUUID(), message: 'invalid api token' } }),
    bad_request: () => ({ status: 400, body: { id: randomUUID(), message: 'invalid request: message must be at least 1 token long or tool results must be specified.' } }),
    server: () => ({ status: 500, body: { id: randomUUID(), message: `internal server error, this has been reported to our developers. id ${randomUUID()}` } }),
    unavailable: () => ({ status: 503, body: { id: randomUUID(), message: 'service unavailable' } }),
    model_not_found: ({ model }) => ({ status: 404, body: { id: randomUUID(), message: `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.` } }),
  },

  cloudflare: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: cfEnvelope(3040, 'Capacity temporarily exceeded, please try again.'),
    }),
    rate_limit_day: () => ({
      status: 429,
      body: cfEnvelope(4006, 'you have used up your daily free allocation of 10,000 neurons, please upgrade to Cloudflare\'s Workers Paid plan if you would like to continue usage.'),
    }),
    auth: () => ({ status: 401, body: cfEnvelope(10000, 'Authentication error') }),
    forbidden: () => ({ status: 403, body: cfEnvelope(10000, 'Authentication error') }),
    bad_request: () => ({ status: 400, body: cfEnvelope(5006, 'AiError: Bad input: Error: oneOf at \'/\' not met, 0 matches') }),
    validation: () => ({ status: 400, body: cfEnvelope(5006, 'AiError: Bad input: Error: oneOf at \'/\' not met, 0 matches') }),
    server: () => ({ status: 500, body: cfEnvelope(3043, 'Internal server error') }),
    unavailable: () => ({ status: 503, body: cfEnvelope(3040, 'Capacity temporarily exceeded, please try again.') }),
    model_not_found: ({ model }) => ({ status: 400, body: cfEnvelope(5007, `No such model ${model} or task`) }),
    context_length: () => ({ status: 400, body: cfEnvelope(3030, 'AiError: Input prompt contains too many tokens') }),
  },

  zhipu: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { error: { code: '1302', message: 'Rate limit reached for requests' } },
    }),
    rate_limit_day: ({ now }) => ({
      status: 429,
      body: { error: { code: '1310', message: `Daily usage limit reached for this model. Your limit will reset at ${new Date(nextMidnightUTCms(now)).toISOString().replace('T', ' ').slice(0, 19)}` } },
    }),
    payment: () => ({ status: 429, body: { error: { code: '1113', message: 'Insufficient balance or no resource package. Please recharge.' } } }),
    auth: () => ({ status: 401, body: { error: { code: '1000', message: 'Authentication Failed' } } }),
    bad_request: () => ({ status: 400, body: { error: { code: '1214', message: 'Invalid messages parameter.' } } }),
    context_length: () => ({ status: 400, body: { error: { code: '1261', message: 'Prompt exceeds max length' } } }),
    model_not_found: ({ model }) => ({ status: 400, body: { error: { code: '1211', message: `Unknown Model, please check the model code: ${model}` } } }),
    server: () => ({ status: 500, body: { error: { code: '500', message: 'Internal Error' } } }),
    unavailable: () => ({ status: 503, body: { error: { code: '1305', message: 'The service may be temporarily overloaded, please try again later' } } }),
  },

  ollama: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: ra === null || ra === undefined ? {} : { 'retry-after': String(ra) },
      body: { error: 'too many concurrent requests, please wait and try again' },
    }),
    rate_limit_day: () => ({ status: 429, body: { error: 'you\'ve reached your weekly usage limit, please upgrade to continue' } }),
    subscription: () => ({ status: 403, body: { error: `this model requires a subscription, upgrade for access: https://ollama.com/upgrade (ref: ${randomUUID()})` } }),
    auth: () => ({ status: 401, body: { error: 'unauthorized' } }),
    model_not_found: ({ model }) => ({ status: 404, body: { error: `model "${model}" not found` } }),
    server: () => ({ status: 500, body: { error: 'internal server error' } }),
    unavailable: () => ({ status: 503, body: { error: 'server busy, please try again. maximum pending requests exceeded' } }),
  },

  kilo: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 60) },
      body: { error: { message: 'Rate limit exceeded: anonymous usage of free models is limited to 200 requests per hour. Sign in for higher limits.', code: 429 } },
    }),
    rate_limit_day: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 3600) },
      body: { error: { message: 'Rate limit exceeded: hourly free-model request limit reached (200 requests per hour).', code: 429 } },
    }),
    auth: () => ({ status: 401, body: { error: { message: 'Invalid API key', code: 401 } } }),
    bad_request: () => ({ status: 400, body: { error: { message: 'Provider returned error', code: 400 } } }),
    server: () => ({ status: 500, body: { error: { message: 'Internal Server Error', code: 500 } } }),
  },

  pollinations: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 5) },
      body: { error: 'Too Many Requests', message: 'Rate limit exceeded. Please wait before sending another request.', status: 429 },
    }),
    rate_limit_day: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 3600) },
      body: { error: 'Too Many Requests', message: 'Hourly pollen allowance used up for this IP.', status: 429 },
    }),
    payment: () => ({ status: 402, body: { error: 'Payment Required', message: 'Insufficient pollen balance.', status: 402 } }),
    auth: () => ({ status: 401, body: { error: 'Unauthorized', message: 'Invalid API key', status: 401 } }),
    bad_gateway: () => ({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html><body><h1>502 Bad Gateway</h1></body></html>\n' }),
    server: () => ({ status: 500, body: { error: 'Internal Server Error', message: 'Generation failed', status: 500 } }),
  },

  llm7: {
    rate_limit_minute: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 60) },
      body: { error: { message: 'Rate limit exceeded. Get a free token for higher limits.', type: 'rate_limit_error', code: 429 } },
    }),
    rate_limit_day: ({ ra }) => ({
      status: 429,
      headers: { 'retry-after': String(ra ?? 3600) },
      body: { error: { message: 'Hourly request limit reached (100 requests per hour).', type: 'rate_limit_error', code: 429 } },
    }),
    auth: () => ({ status: 401, body: { error: { message: 'Invalid token', type: 'authentication_error', code: 401 } } }),
    server: () => ({ status: 500, body: { error: { message: 'Internal server error', type: 'server_error', code: 500 } } }),
  },

  google: {
    // Gemini's google.rpc.Status errors (docs/reference/wire-gemini.md section 0.3). Google
    // sends no Retry-After header: the delay is RetryInfo.retryDelay in the body
    // (and "Please retry in N s." in the message); quotaId tells per-minute from
    // per-day. Real per-day 429s carry a short retryDelay too: a gateway must
    // bench on the quotaId, not on the delay.
    rate_limit_minute: ({ model, ra }) => googleQuota({ model, ra, scope: 'minute' }),
    rate_limit_day: ({ model, ra }) => googleQuota({ model, ra, scope: 'day' }),
    tokens_minute: ({ model, ra }) => googleQuota({ model, ra, scope: 'tokens' }),
    auth: () => googleKeyInvalid(),
    api_key_invalid: () => googleKeyInvalid(),
    forbidden: () => googleServiceDisabled(),
    permission_denied: () => googleServiceDisabled(),
    leaked_key: () => gErr(403, 'PERMISSION_DENIED', 'Your API key was reported as leaked. Please use another API key.'),
    bad_request: () => gErr(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'),
    invalid_argument: () => gErr(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'),
    validation: ({ field = 'temperatura', at = 'generation_config' } = {}) => googleUnknownFields([{ name: field, at }]),
    failed_precondition: () => gErr(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.'),
    missing_thought_signature: ({ fn = 'get_weather', position = 2 } = {}) => gErr(400, 'INVALID_ARGUMENT', missingSignatureMessage(fn, position)),
    corrupted_thought_signature: () => gErr(400, 'INVALID_ARGUMENT', 'Corrupted thought signature.'),
    model_not_found: ({ model }) => gErr(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`),
    not_found: ({ model }) => gErr(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`),
    context_length: () => gErr(400, 'INVALID_ARGUMENT', 'The input token count (1572864) exceeds the maximum number of tokens allowed (1048576).'),
    server: () => gErr(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'),
    internal: () => gErr(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'),
    unavailable: () => gErr(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
    timeout: () => gErr(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'),
    deadline_exceeded: () => gErr(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'),
  },
};

// ---- Google (Gemini) error helpers -------------------------------------------------

/** A google.rpc.Status error: {"error":{"code","message","status","details"?}}. */
export function gErr(code, status, message, details) {
  return {
    status: code,
    headers: { 'content-type': 'application/json; charset=UTF-8', server: 'scaffolding on HTTPServer2', vary: 'Origin, X-Origin, Referer' },
    body: { error: { code, message, status, ...(details ? { details } : {}) } },
  };
}

export const missingSignatureMessage = (fn, position) =>
  `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${fn}\` , position ${position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`;

function googleKeyInvalid() {
  return gErr(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
  ]);
}

function googleServiceDisabled() {
  const msg = 'Generative Language API has not been used in project 1234567890 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=1234567890 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.';
  return gErr(403, 'PERMISSION_DENIED', msg, [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com', consumer: 'projects/1234567890' } },
  ]);
}

/** 400 for unknown proto fields: [{name, at?}] -> Google's "Invalid JSON payload received" text and BadRequest details. */
export function googleUnknownFields(list) {
  const lines = list.map(({ name, at }) => `Invalid JSON payload received. Unknown name "${name}"${at ? ` at '${at}'` : ''}: Cannot find field.`);
  return gErr(400, 'INVALID_ARGUMENT', lines.join('\n'), [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: list.map(({ at }, i) => ({ ...(at ? { field: at } : {}), description: lines[i] })) },
  ]);
}

function googleQuota({ model, ra, scope }) {
  const q = {
    minute: { metric: 'generate_content_free_tier_requests', id: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', value: '10' },
    day: { metric: 'generate_content_free_tier_requests', id: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', value: '20' },
    tokens: { metric: 'generate_content_free_tier_input_token_count', id: 'GenerateContentInputTokensPerModelPerMinute-FreeTier', value: '250000' },
  }[scope];
  const delay = ra === null ? null : Number(ra ?? 37);
  let message = `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/${q.metric}, limit: ${q.value}, model: ${model}`;
  if (delay !== null) message += `\nPlease retry in ${(delay + 0.123456).toFixed(6)}s.`;
  const details = [
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [{ quotaMetric: `generativelanguage.googleapis.com/${q.metric}`, quotaId: q.id, quotaDimensions: { location: 'global', model }, quotaValue: q.value }],
    },
  ];
  if (delay !== null) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.floor(delay)}s` });
  return gErr(429, 'RESOURCE_EXHAUSTED', message, details);
}

// Mistral's tool-call id rule: exactly 9 characters [a-zA-Z0-9].
export const MISTRAL_TOOL_ID = /^[a-zA-Z0-9]{9}$/;

// Top-level body keys Mistral's chat schema accepts (anything else: 422).
export const MISTRAL_KEYS = new Set([
  'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed',
  'response_format', 'tools', 'tool_choice', 'presence_penalty', 'frequency_penalty', 'n',
  'prediction', 'parallel_tool_calls', 'safe_prompt', 'prompt_mode',
]);
