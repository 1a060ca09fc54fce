// How the mock answers: JSON, provider-shaped errors, success headers, whole bodies.
import { providerError } from '../providers.mjs';
import { alnum, sleep } from '../common.mjs';


export function makeResponders(m) {
  const { wait } = m;

  // ---- responses ----

  function sendJson(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const h = { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...lower(headers) };
    h['content-length'] = Buffer.byteLength(text);
    if (!res.headersSent) res.writeHead(status, h);
    res.end(text);
  }

  function lower(h) {
    const o = {};
    for (const [k, v] of Object.entries(h || {})) o[k.toLowerCase()] = v;
    return o;
  }

  function sendProviderError(res, rec, provider, kindOrRaw, extra = {}) {
    let e;
    if (typeof kindOrRaw === 'string') {
      e = providerError(provider, kindOrRaw, { model: rec.model, retryAfter: extra.retry_after, account: rec.account_id, ...(extra.ctx || {}) });
    } else {
      e = { status: kindOrRaw.status ?? 500, headers: kindOrRaw.headers || {}, body: kindOrRaw.body ?? '' };
    }
    const headers = { 'x-request-id': `req_${alnum(26)}`, ...lower(e.headers), ...lower(extra.headers) };
    rec.status = e.status;
    if (typeof e.body === 'string') {
      const ct = headers['content-type'] || 'text/plain; charset=utf-8';
      headers['content-type'] = ct;
      headers['content-length'] = Buffer.byteLength(e.body);
      res.writeHead(e.status, headers);
      res.end(e.body);
    } else {
      sendJson(res, e.status, e.body, headers);
    }
  }

  function successHeaders(provider) {
    const h = { 'x-request-id': `req_${alnum(26)}` };
    if (provider === 'groq') {
      Object.assign(h, {
        'x-ratelimit-limit-requests': '1000',
        'x-ratelimit-limit-tokens': '12000',
        'x-ratelimit-remaining-requests': '999',
        'x-ratelimit-remaining-tokens': '11900',
        'x-ratelimit-reset-requests': '1m26.4s',
        'x-ratelimit-reset-tokens': '500ms',
        'x-groq-region': 'dls',
      });
    } else if (provider === 'cerebras') {
      Object.assign(h, {
        'x-ratelimit-limit-requests-day': '14400',
        'x-ratelimit-remaining-requests-day': '14399',
        'x-ratelimit-reset-requests-day': '33011.5',
        'x-ratelimit-limit-tokens-minute': '60000',
        'x-ratelimit-remaining-tokens-minute': '59900',
        'x-ratelimit-reset-tokens-minute': '59.0',
      });
    }
    return h;
  }

  const write = (res, data) => new Promise((resolve) => (res.destroyed ? resolve() : res.write(data, () => resolve())));

  // A whole (non-streamed) 200 answer, with the scripted faults that apply to it:
  // a stall after the headers, or a body cut in half.
  async function sendWhole(res, rec, rule, aborted, text, headers, contentType) {
    res.writeHead(200, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
    if (rule?.stall_after_headers_ms) {
      res.flushHeaders();
      await wait(rule.stall_after_headers_ms);
      if (aborted()) return;
    }
    if (rule?.cut_after !== undefined && rule?.cut_after !== null) {
      await write(res, text.slice(0, Math.floor(text.length / 2)));
      rec.outcome = 'cut';
      await sleep(20);
      res.socket?.destroy();
      return;
    }
    res.end(text);
    rec.outcome = 'ok';
  }

  return { sendJson, lower, sendProviderError, successHeaders, write, sendWhole };
}
