// The mock providers: one HTTP server on 127.0.0.1, a path prefix per provider
// id (/<id>/models, /<id>/chat/completions). Caps are enforced by a Ledger
// (caps.mjs) and refusals spoken in each provider's wire format (wire.mjs).
// Runs inside the sim's process so the sim can read the accounting directly.

import http from 'node:http';
import { Ledger } from './caps.mjs';

// timing slack of the room check (see Ledger.verdict)
export const SLACK_MS = 1000;
// the token counterpart: a request that fits a pair's room by fewer tokens
// than this is an exact fit, beyond what an estimate of another tokenizer can
// tell (0.5 %, at least 8 tokens)
export const estimateSlack = (tokens) => Math.max(8, Math.ceil(tokens * 0.005));
import { everyResponseHeaders, unauthorized, tooLarge, rateLimited } from './wire.mjs';
import { rng, between } from './util.mjs';

/** Text of one message's content (string or typed parts). */
function contentText(c) {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : (p?.text ?? ''))).join('');
  return c == null ? '' : JSON.stringify(c);
}

/**
 * Prompt tokens as a model with `ratio` characters per token counts them:
 * ceil(chars / ratio) + 4 per message, plus the tools' JSON.
 */
export function promptTokens(body, ratio) {
  let n = 0;
  for (const m of body.messages ?? []) {
    let text = contentText(m.content);
    if (m.tool_calls) text += JSON.stringify(m.tool_calls);
    n += Math.ceil(text.length / ratio) + 4;
  }
  if (body.tools) n += Math.ceil(JSON.stringify(body.tools).length / ratio);
  return n;
}

/** max_tokens / max_completion_tokens, or 0 when the request sets neither. */
export const maxTokensOf = (body) => Number(body.max_completion_tokens ?? body.max_tokens ?? 0) || 0;

/** The sim's request id, carried in the first user message as "[sim:ID]". */
function simId(body) {
  for (const m of body.messages ?? []) {
    const hit = /\[sim:([\w-]+)\]/.exec(contentText(m.content));
    if (hit) return hit[1];
  }
  return null;
}

function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function readBody(req, limit = 8 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > limit) reject(new Error('body too large'));
      else parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export class MockProviders {
  /**
   * cfg: {
   *   seed,
   *   models: [{provider, id, ratio, enforce: {rpm, tpm, rpd, tpd}}],
   *   keys: {provider: [secret, ...]},
   *   accounts: {provider: {rpm, tpm, rpd, tpd}},   enforced per key across models
   *   concurrent: {provider: n},                    in flight per key
   *   latencyMs: [lo, hi]
   * }
   */
  constructor(cfg) {
    this.cfg = cfg;
    this.models = new Map(cfg.models.map((m) => [`${m.provider}/${m.id}`, m]));
    this.keys = new Map(Object.entries(cfg.keys).map(([p, ks]) => [p, new Set(ks)]));
    this.ledger = new Ledger({
      models: Object.fromEntries(cfg.models.map((m) => [`${m.provider}/${m.id}`, m.enforce ?? {}])),
      accounts: cfg.accounts ?? {},
      concurrent: cfg.concurrent ?? {},
    });
    this.latency = cfg.latencyMs ?? [150, 400];
    this.attempts = []; // every chat request: {t, provider, model, key, status, kind, scope, simId, ms}
    this.probes = 0;
    this.outside = []; // usage injected by outsideUse(): {t, provider, model, key, tokens}
    this.server = null;
    this.port = null;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `mock error: ${e.message}`, type: 'server_error' } }));
        } else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 30000;
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(() => r()));
    this.server = null;
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://x');
    const [, provider, ...rest] = url.pathname.split('/');
    const tail = rest.join('/');
    const auth = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const send = (status, headers, body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    if (!this.keys.has(provider)) return send(404, {}, { error: { message: `no provider ${provider}`, type: 'not_found' } });

    if (req.method === 'GET' && tail === 'models') {
      // health probes: never counted against caps
      this.probes++;
      if (!this.keys.get(provider).has(auth)) {
        const u = unauthorized(provider);
        return send(u.status, {}, u.body);
      }
      const data = this.cfg.models.filter((m) => m.provider === provider).map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: provider }));
      return send(200, {}, { object: 'list', data });
    }
    if (req.method !== 'POST' || tail !== 'chat/completions') return send(404, {}, { error: { message: `no route ${req.method} ${url.pathname}`, type: 'not_found' } });

    const raw = await readBody(req);
    const t0 = Date.now();
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(400, {}, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
    }
    const model = String(body.model ?? '');
    const rec = { t: t0, provider, model, key: auth, status: 0, kind: null, scope: null, simId: simId(body), ms: 0 };
    this.attempts.push(rec);
    const done = (status) => {
      rec.status = status;
      rec.ms = Date.now() - t0;
    };

    if (!this.keys.get(provider).has(auth)) {
      const u = unauthorized(provider);
      done(u.status);
      return send(u.status, {}, u.body);
    }
    const m = this.models.get(`${provider}/${model}`);
    if (!m) {
      done(404);
      return send(404, {}, { error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' } });
    }

    const prompt = promptTokens(body, m.ratio);
    const maxTok = maxTokensOf(body);
    const v = this.ledger.verdict(provider, model, auth, prompt, maxTok, t0);
    if (v) {
      rec.kind = v.kind;
      rec.scope = v.scope;
      rec.retryMs = v.retryMs;
      const always = everyResponseHeaders(provider, this.ledger.headerState(provider, model, auth, t0));
      const w = v.status === 413 ? tooLarge(provider, model, v) : rateLimited(provider, model, v, this.ledger.accountState(provider, auth, t0), t0);
      done(w.status);
      return send(w.status, { ...always, ...w.headers }, w.body);
    }

    // admitted: counts now with prompt + max_tokens; holds prompt + completion once answered
    const lease = this.ledger.admit(provider, model, auth, prompt + maxTok, t0);
    const r = rng(hash32(`${this.cfg.seed}|${rec.simId ?? t0}|${provider}/${model}`));
    let completion = between(r, 20, 200);
    if (maxTok > 0) completion = Math.min(completion, maxTok);
    const delay = between(r, this.latency[0], this.latency[1]);
    let closed = false;
    res.on('close', () => {
      closed = true;
      this.ledger.finish(lease, prompt + completion); // a client that hangs up still used the tokens
    });
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (closed) return done(499);

    const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const text = 'ok '.repeat(Math.max(1, Math.round((completion * m.ratio) / 3))).trim();
    const id = `chatcmpl-sim${rec.simId ?? t0}`;
    const created = Math.floor(t0 / 1000);
    if (!body.stream) {
      this.ledger.finish(lease, prompt + completion);
      const hdr = everyResponseHeaders(provider, this.ledger.headerState(provider, model, auth, Date.now()));
      done(200);
      return send(200, hdr, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage,
      });
    }

    const hdr = everyResponseHeaders(provider, this.ledger.headerState(provider, model, auth, Date.now()));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...hdr });
    const chunk = (choices, extra = {}) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    const pieces = 4;
    const size = Math.ceil(text.length / pieces);
    res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    for (let i = 0; i < pieces; i++) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      if (closed) return done(499);
      res.write(chunk([{ index: 0, delta: { content: text.slice(i * size, (i + 1) * size) }, finish_reason: null }]));
    }
    if (body.stream_options?.include_usage) {
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      res.write(chunk([], { usage }));
    } else {
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { usage }));
    }
    this.ledger.finish(lease, prompt + completion);
    res.end('data: [DONE]\n\n');
    done(200);
  }

  /**
   * Outside usage: another consumer of the same key (not the gateway) spends
   * `tokens` on a pair now. It lands whether or not it fits (the other
   * application got there first), so the window can end up over its cap.
   */
  outsideUse(provider, model, key, tokens, now = Date.now()) {
    this.ledger.finish(this.ledger.admit(provider, model, key, tokens, now), tokens);
    this.outside.push({ t: now, provider, model, key, tokens });
  }

  /**
   * Could any of `pairs` ([{provider, model, key}]) serve this exact request
   * now? With a second of slack for timing: window events of the last 61 s
   * count, and requests answered in the last second count as still in flight.
   * Returns the first pair with room (with the request's tokens as that model
   * counts them and the pair's use), or null. A pair with room only within
   * the estimate's precision (estimateSlack) is returned only when no pair has
   * more, marked `exact`: no gateway counts a provider's tokenizer exactly
   * before sending, so such a fit is told apart from a plain refusal.
   */
  roomFor(body, pairs, now = Date.now()) {
    const maxTok = maxTokensOf(body);
    let exact = null;
    for (const p of pairs) {
      const m = this.models.get(`${p.provider}/${p.model}`);
      if (!m || !this.keys.get(p.provider)?.has(p.key)) continue;
      const prompt = promptTokens(body, m.ratio);
      if (m.contextWindow && prompt + maxTok > m.contextWindow) continue;
      if (this.ledger.verdict(p.provider, p.model, p.key, prompt, maxTok, now, SLACK_MS)) continue;
      const room = { ...p, prompt, maxTok, use: this.ledger.describe(p.provider, p.model, p.key, now, SLACK_MS) };
      if (!this.ledger.verdict(p.provider, p.model, p.key, prompt + estimateSlack(prompt), maxTok, now, SLACK_MS)) return room;
      exact ??= { ...room, exact: true };
    }
    return exact;
  }
}
