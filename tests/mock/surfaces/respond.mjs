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

  // An error preset's x-ratelimit-* headers with the figures made true for the
  // test catalog (successHeaders), keeping the window the error says is spent
  // (remaining 0, and its reset).
  function truthfulLimits(provider, rec, h) {
    if (provider !== 'groq' && provider !== 'cerebras') return h;
    const out = {};
    for (const [k, v] of Object.entries(h)) if (!k.startsWith('x-ratelimit-')) out[k] = v;
    const truth = successHeaders(provider, rec);
    for (const [k, v] of Object.entries(truth)) if (k.startsWith('x-ratelimit-')) out[k] = v;
    for (const [k, v] of Object.entries(h)) {
      const w = k.match(/^x-ratelimit-remaining-(.+)$/)?.[1];
      if (!w || String(v) !== '0') continue;
      out[k] = '0';
      if (h[`x-ratelimit-reset-${w}`] !== undefined) out[`x-ratelimit-reset-${w}`] = h[`x-ratelimit-reset-${w}`];
    }
    return out;
  }

  function sendProviderError(res, rec, provider, kindOrRaw, extra = {}) {
    let e;
    if (typeof kindOrRaw === 'string') {
      e = providerError(provider, kindOrRaw, { model: rec.model, retryAfter: extra.retry_after, account: rec.account_id, ...(extra.ctx || {}) });
    } else {
      e = { status: kindOrRaw.status ?? 500, headers: kindOrRaw.headers || {}, body: kindOrRaw.body ?? '' };
    }
    const headers = { 'x-request-id': `req_${alnum(26)}`, ...truthfulLimits(provider, rec, lower(e.headers)), ...lower(extra.headers) };
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

  // The rate-limit headers of a 200, in each provider's own names, telling the
  // truth about the caps the test catalog gives the model and what this mock
  // answered that (model, key) in the window: a request's tokens are its usage.
  // A cap the catalog does not give is not spoken of.
  function successHeaders(provider, rec, usage) {
    const h = { 'x-request-id': `req_${alnum(26)}` };
    if (provider === 'groq') h['x-groq-region'] = 'dls';
    if (!rec || (provider !== 'groq' && provider !== 'cerebras')) return h;
    if (usage) rec.tokens = usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0);
    const lim = (m.state.catalog?.[provider] || []).find((x) => x.id === rec.model)?.limits || {};
    const now = Date.now();
    const day0 = now - (now % 86400000);
    const mine = m.state.requests.filter((r) => r.provider === provider && r.model === rec.model && r.key === rec.key && (r === rec || r.status === 200));
    const minute = mine.filter((r) => r.at > now - 60000);
    const secs = (ms) => `${(Math.max(ms, 0) / 1000).toFixed(2)}s`;
    const names = provider === 'groq'
      ? { req: 'requests', tok: 'tokens', reqReset: (ms) => secs(ms), tokReset: (ms) => secs(ms) }
      : { req: 'requests-day', tok: 'tokens-minute', reqReset: (ms) => (ms / 1000).toFixed(1), tokReset: (ms) => (ms / 1000).toFixed(1) };
    if (lim.rpd) {
      const used = mine.filter((r) => r.at >= day0).length;
      h[`x-ratelimit-limit-${names.req}`] = String(lim.rpd);
      h[`x-ratelimit-remaining-${names.req}`] = String(Math.max(lim.rpd - used, 0));
      h[`x-ratelimit-reset-${names.req}`] = names.reqReset(day0 + 86400000 - now);
    }
    if (lim.tpm) {
      const used = minute.reduce((n, r) => n + (r.tokens ?? 0), 0);
      const oldest = minute.reduce((t, r) => Math.min(t, r.at), now);
      h[`x-ratelimit-limit-${names.tok}`] = String(lim.tpm);
      h[`x-ratelimit-remaining-${names.tok}`] = String(Math.max(lim.tpm - used, 0));
      h[`x-ratelimit-reset-${names.tok}`] = names.tokReset(oldest + 60000 - now);
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
