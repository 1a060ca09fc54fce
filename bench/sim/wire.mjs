// Each provider's wire format for rate-limit headers and error bodies, as the
// real services send them (docs/reference/providers.md, section 0 and per
// provider). Pure functions: the caps verdict in, {status, headers, body} out.

import { goDuration } from './util.mjs';

const ORG = 'org_sim';
const GROQ_UPSELL = 'Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing';

const secs = (ms) => Math.max(1, Math.ceil(ms / 1000));
const oaiErr = (message, type, code = null, param = null) => ({ error: { message, type, param, code } });

const GROQ_KIND = {
  rpm: ['requests per minute (RPM)', 'requests'],
  rpd: ['requests per day (RPD)', 'requests'],
  tpm: ['tokens per minute (TPM)', 'tokens'],
  tpd: ['tokens per day (TPD)', 'tokens'],
};

/**
 * Headers a provider puts on every chat answer (success and error) for a pair,
 * from the ledger's headerState. Only Groq and Cerebras send them always.
 */
export function everyResponseHeaders(provider, st) {
  if (provider === 'groq') {
    // unsuffixed: requests = per day, tokens = per minute
    return {
      'x-ratelimit-limit-requests': String(st.rpd ?? 14400),
      'x-ratelimit-limit-tokens': String(st.tpm ?? 1000000),
      'x-ratelimit-remaining-requests': String(st.rpdRemaining ?? 14400),
      'x-ratelimit-remaining-tokens': String(st.tpmRemaining ?? 1000000),
      'x-ratelimit-reset-requests': goDuration(st.rpdReset),
      'x-ratelimit-reset-tokens': goDuration(st.tpmReset),
    };
  }
  if (provider === 'cerebras') {
    return {
      'x-ratelimit-limit-requests-day': String(st.rpd ?? 14400),
      'x-ratelimit-remaining-requests-day': String(st.rpdRemaining ?? 14400),
      'x-ratelimit-reset-requests-day': st.rpdReset.toFixed(2),
      'x-ratelimit-limit-tokens-minute': String(st.tpm ?? 1000000),
      'x-ratelimit-remaining-tokens-minute': String(st.tpmRemaining ?? 1000000),
      'x-ratelimit-reset-tokens-minute': st.tpmReset.toFixed(2),
    };
  }
  return {};
}

/** 401 for an unknown key. */
export function unauthorized(provider) {
  switch (provider) {
    case 'groq':
      return { status: 401, body: { error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } } };
    case 'cerebras':
      return { status: 401, body: { message: 'Wrong API Key', type: 'invalid_request_error', param: 'api_key', code: 'wrong_api_key' } };
    case 'openrouter':
      return { status: 401, body: { error: { message: 'User not found.', code: 401 } } };
    case 'mistral':
      return { status: 401, body: { message: 'Unauthorized', request_id: 'sim' } };
    case 'nvidia':
      return { status: 401, body: { status: 401, title: 'Unauthorized', detail: 'Authentication failed' } };
    case 'ollama':
      return { status: 401, body: { error: 'unauthorized' } };
    case 'github':
      return { status: 401, body: { error: { code: 'unauthorized', message: 'Bad credentials', details: 'Bad credentials' } } };
    default:
      return { status: 401, body: oaiErr('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key') };
  }
}

/** 413: the request alone is larger than a whole minute's token budget. */
export function tooLarge(provider, model, v) {
  if (provider === 'groq') {
    return {
      status: 413,
      headers: {},
      body: {
        error: {
          message: `Request too large for model \`${model}\` in organization \`${ORG}\` service tier \`on_demand\` on tokens per minute (TPM): Limit ${v.limit}, Requested ${v.requested}, please reduce your message size and try again. ${GROQ_UPSELL}`,
          type: 'tokens',
          code: 'rate_limit_exceeded',
        },
      },
    };
  }
  if (provider === 'cerebras') {
    return { status: 413, headers: {}, body: { message: `Request too large: ${v.requested} tokens requested, limit is ${v.limit} tokens per minute.`, type: 'invalid_request_error', param: 'quota', code: 'request_too_large' } };
  }
  if (provider === 'github') {
    const msg = `Request body too large for ${model} model. Max size: ${v.limit} tokens.`;
    return { status: 413, headers: {}, body: { error: { code: 'tokens_limit_reached', message: msg, details: msg } } };
  }
  return { status: 413, headers: {}, body: oaiErr(`Request too large: ${v.requested} tokens requested, the limit is ${v.limit} tokens per minute.`, 'invalid_request_error', 'request_too_large') };
}

/** 429 for a cap that is full now; v from Ledger.verdict, acct from Ledger.accountState. */
export function rateLimited(provider, model, v, acct, now) {
  const s = v.retryMs / 1000;
  const ra = { 'retry-after': String(secs(v.retryMs)) };
  switch (provider) {
    case 'groq': {
      const [what, type] = GROQ_KIND[v.kind] ?? GROQ_KIND.rpm;
      return {
        status: 429,
        headers: ra,
        body: {
          error: {
            message: `Rate limit reached for model \`${model}\` in organization \`${ORG}\` service tier \`on_demand\` on ${what}: Limit ${v.limit}, Used ${v.used}, Requested ${v.requested}. Please try again in ${goDuration(s)}. ${GROQ_UPSELL}`,
            type,
            code: 'rate_limit_exceeded',
          },
        },
      };
    }
    case 'cerebras': {
      const body = {
        rpm: ['Requests per minute limit exceeded - too many requests sent.', 'request_quota_exceeded'],
        rpd: ['Requests per day limit exceeded - too many requests sent.', 'request_quota_exceeded'],
        tpm: ['Tokens per minute limit exceeded - too many tokens processed.', 'token_quota_exceeded'],
        tpd: ['Tokens per day limit exceeded - too many tokens processed.', 'token_quota_exceeded'],
      }[v.kind] ?? ['Too many requests.', 'request_quota_exceeded'];
      return { status: 429, headers: ra, body: { message: body[0], type: 'too_many_requests_error', param: 'quota', code: body[1] } };
    }
    case 'openrouter': {
      if (v.scope === 'account') {
        const daily = v.kind === 'rpd' || v.kind === 'tpd';
        const h = { 'X-RateLimit-Limit': String(v.limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(now + v.retryMs)) };
        return {
          status: 429,
          headers: { ...h, ...ra },
          body: { error: { message: `Rate limit exceeded: free-models-per-${daily ? 'day' : 'min'}. `, code: 429, metadata: { headers: h, provider_name: null } }, user_id: 'user_sim' },
        };
      }
      return {
        status: 429,
        headers: ra,
        body: {
          error: { message: 'Provider returned error', code: 429, metadata: { raw: `${model} is temporarily rate-limited upstream. Please retry shortly, or add your own key to accumulate your rate limits: https://openrouter.ai/settings/integrations`, provider_name: 'Chutes' } },
          user_id: 'user_sim',
        },
      };
    }
    case 'mistral': {
      const tok = v.kind === 'tpm' || v.kind === 'tpd';
      return { status: 429, headers: ra, body: { object: 'error', message: tok ? 'Tokens per minute rate limit exceeded' : 'Requests rate limit exceeded', type: 'rate_limited', param: null, code: tok ? '1301' : '1300' } };
    }
    case 'sambanova':
      return { status: 429, headers: ra, body: { error: { code: 'rate_limit_exceeded', message: v.kind === 'rpd' ? 'Rate limit exceeded: requests per day limit reached for this model' : 'Rate limit exceeded', param: null, type: 'rate_limit_exceeded' } } };
    case 'github': {
      const type = { rpm: 'UserByModelByMinute', rpd: 'UserByModelByDay', tpm: 'UserByModelByMinuteTokens', tpd: 'UserByModelByDayTokens', concurrent: 'UserConcurrentRequests' }[v.kind] ?? 'UserByModelByMinute';
      const period = v.kind === 'rpd' || v.kind === 'tpd' ? 86400 : 60;
      const msg = `Rate limit of ${v.limit} per ${period}s exceeded for ${type}. Please wait ${secs(v.retryMs)} seconds before retrying.`;
      return { status: 429, headers: { ...ra, 'x-ratelimit-type': type }, body: { error: { code: 'RateLimitReached', message: msg, details: msg } } };
    }
    case 'nvidia':
      return { status: 429, headers: ra, body: { status: 429, title: 'Too Many Requests' } };
    case 'ollama': {
      const msg = v.kind === 'concurrent' ? 'too many concurrent requests, please wait and try again' : v.kind === 'rpd' || v.kind === 'tpd' ? "you've reached your session usage limit, please wait or upgrade to continue" : 'too many requests, please wait and try again';
      return { status: 429, headers: ra, body: { error: msg } };
    }
    default:
      return { status: 429, headers: ra, body: oaiErr('Rate limit exceeded.', 'rate_limit_exceeded', 'rate_limit_exceeded') };
  }
}
