// A stand-in for the gateway, enough to run the dashboard in a browser without the C server:
// serves web/dist the way the gateway does (index.html for the app's own pages, the same
// security headers) and answers the admin API of docs/admin-api.md from memory, with the same
// JSON shapes, errors and access rules (loopback only while no PIN is set, `X-FreeLLMAPI-Admin: 1`
// and a same-origin Origin on every change). Tests read and change its state directly:
//
//   const fake = await startFakeApi({ keys: [{ provider: 'groq', secret: 'gsk_x', label: 'main' }] });
//   fake.url; fake.state.keys; fake.addKey({...});  // as `freellmapi keys add` would
//   fake.failNext('GET', '/api/providers', 500, 'disk I/O error'); await fake.close();

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../../..');
export const WEB_DIST = path.join(REPO_ROOT, 'web/dist');

export const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const CAP_ORDER = ['chat', 'tools', 'vision', 'embeddings', 'image', 'image_edit', 'tts', 'stt', 'realtime'];
const BODY_MAX = 1 << 20;
const SECRET_MAX = 8192;
const LABEL_MAX = 200;
const PIN_FREE_TRIES = 5;

// ---- the catalog it serves: a few providers of each sort, and their models ----------------------

export const PROVIDERS = [
  {
    id: 'google', name: 'Google Gemini (AI Studio)', dialect: 'gemini', keyless: false, needs_account_id: false, enabled: true,
    key_url: 'https://aistudio.google.com/apikey', docs_url: 'https://ai.google.dev/gemini-api/docs', probe: true,
  },
  {
    id: 'groq', name: 'Groq', dialect: 'openai', keyless: false, needs_account_id: false, enabled: true,
    key_url: 'https://console.groq.com/keys', docs_url: 'https://console.groq.com/docs', probe: true,
  },
  {
    id: 'cerebras', name: 'Cerebras', dialect: 'openai', keyless: false, needs_account_id: false, enabled: true,
    key_url: 'https://cloud.cerebras.ai', docs_url: 'https://inference-docs.cerebras.ai', probe: true,
  },
  {
    id: 'cloudflare', name: 'Cloudflare Workers AI', dialect: 'cloudflare', keyless: false, needs_account_id: true, enabled: true,
    key_url: 'https://dash.cloudflare.com/profile/api-tokens', docs_url: 'https://developers.cloudflare.com/workers-ai/', probe: true,
  },
  {
    id: 'kilo', name: 'Kilo AI Gateway', dialect: 'openai', keyless: true, needs_account_id: false, enabled: true,
    key_url: 'https://app.kilo.ai', docs_url: 'https://kilo.ai/docs/gateway', probe: false,
  },
];

const chat = (provider, id, name, caps, context_window, limits = {}, extra = {}) =>
  ({ provider, id, name, kind: 'chat', capabilities: ['chat', ...caps], context_window, max_output_tokens: null, limits, enabled: true, ...extra });
const other = (provider, id, name, kind, capabilities) =>
  ({ provider, id, name, kind, capabilities, context_window: null, max_output_tokens: null, limits: {}, enabled: true });

// In catalog (routing) order.
export const MODELS = [
  chat('google', 'gemini-2.5-pro', 'Gemini 2.5 Pro', ['tools', 'vision'], 1048576, { rpm: 5, rpd: 100, tpm: 250000 }, { max_output_tokens: 65536 }),
  chat('groq', 'llama-3.3-70b-versatile', 'Llama 3.3 70B', ['tools'], 131072, { rpm: 30, rpd: 1000, tpm: 12000, tpd: 100000 }, { max_output_tokens: 32768 }),
  chat('cerebras', 'gpt-oss-120b', 'GPT-OSS 120B (Cerebras)', ['tools'], 131072, { rpm: 5, rpd: 2400, tpm: 30000, tpd: 1000000 }),
  chat('google', 'gemini-2.5-flash', 'Gemini 2.5 Flash', ['tools', 'vision'], 1048576, { rpm: 10, rpd: 250, tpm: 250000 }),
  chat('groq', 'openai/gpt-oss-120b', 'GPT-OSS 120B (Groq)', ['tools'], 131072, { rpm: 30, rpd: 1000, tpm: 8000, tpd: 200000 }),
  chat('cloudflare', '@cf/meta/llama-3.3-70b-instruct-fp8-fast', 'Llama 3.3 70B (CF)', ['tools'], 24000),
  chat('kilo', 'poolside/laguna-m.1:free', 'Poolside Laguna M.1 (Kilo)', [], 262144),
  chat('groq', 'meta-llama/llama-4-scout-17b-16e-instruct', 'Llama 4 Scout', ['tools', 'vision'], 131072, { rpm: 30, rpd: 1000, tpm: 30000 }, { enabled: false }),
  other('google', 'gemini-embedding-001', 'Gemini Embedding', 'embedding', ['embeddings']),
  other('cloudflare', '@cf/baai/bge-m3', 'BGE-M3 (CF)', 'embedding', ['embeddings']),
  other('google', 'gemini-2.5-flash-image', 'Gemini 2.5 Flash Image', 'image', ['image', 'image_edit']),
  other('cloudflare', '@cf/black-forest-labs/flux-1-schnell', 'FLUX.1 schnell (CF)', 'image', ['image']),
  other('google', 'gemini-2.5-flash-preview-tts', 'Gemini 2.5 Flash TTS', 'tts', ['tts']),
  other('groq', 'whisper-large-v3', 'Whisper Large v3 (Groq)', 'stt', ['stt']),
  other('cloudflare', '@cf/openai/whisper', 'Whisper (CF)', 'stt', ['stt']),
  other('google', 'gemini-live-2.5-flash-preview', 'Gemini Live 2.5 Flash', 'realtime', ['realtime']),
];

/** As the gateway masks: at most a quarter of the secret, and at most 4 characters, at each end. */
export function maskSecret(s) {
  const k = Math.min(4, Math.floor(s.length / 4));
  return s.length === 0 ? '' : `${s.slice(0, k)}…${s.slice(s.length - k)}`;
}

/** What a probe of this secret finds: the words in it decide, so tests can pick. */
function probe(secret) {
  if (/invalid/i.test(secret)) return ['invalid', 'The provider answered 401: the key is not valid.'];
  if (/limited/i.test(secret)) return ['rate_limited', 'The provider answered 429: over the free-tier limit until the next minute.'];
  if (/error/i.test(secret)) return ['error', 'The provider answered 503.'];
  return ['healthy', null];
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

class Refusal extends Error {
  constructor(status, code, message, param = null, headers = {}) {
    super(message);
    Object.assign(this, { status, code, param, headers });
  }
}

export async function startFakeApi({ distDir = WEB_DIST, keys = [], checkDelayMs = 150, unifiedKey, port: listenPort = 0 } = {}) {
  const state = {
    providers: PROVIDERS.map((p) => ({ ...p })),
    models: MODELS.map((m) => ({ ...m, limits: { ...m.limits } })),
    keys: [],
    nextKeyId: 1,
    chain: [], // the user's order ("provider/model"); [] is the catalog's
    unifiedKey: unifiedKey ?? `freellmapi-${randomBytes(20).toString('hex')}`,
    limited: new Set(), // "provider/model" at a limit now
    pin: null,
    sessions: new Set(),
    pinFails: 0,
    pinLockedUntil: 0,
    started: Date.now(),
    requests: [], // every /api request: { method, path, headers, body }
  };
  const failures = [];
  const timers = new Set();
  let port = 0;

  const provider = (id) => state.providers.find((p) => p.id === id);
  const modelName = (m) => `${m.provider}/${m.id}`;
  const findModel = (name) => state.models.find((m) => modelName(m) === name);

  function addKey({ provider: pid, secret, label = '', account_id = null, enabled = true, status, checked = true }) {
    const k = {
      id: state.nextKeyId++, provider: pid, label: label ?? '', secret, account_id: account_id ?? null, enabled,
      status: 'unknown', status_detail: null, checked_at: null,
    };
    state.keys.push(k);
    if (status) Object.assign(k, { status, checked_at: Date.now() });
    else if (checked) scheduleCheck(k);
    return k;
  }

  function scheduleCheck(k) {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!state.keys.includes(k)) return;
      const [status, detail] = probe(k.secret);
      Object.assign(k, { status, status_detail: detail, checked_at: Date.now() });
    }, checkDelayMs);
    timers.add(t);
  }

  const keyJson = (k) => ({
    id: k.id, provider: k.provider, label: k.label, masked: maskSecret(k.secret), status: k.status,
    status_detail: k.status_detail, checked_at: k.checked_at, account_id: k.account_id, enabled: k.enabled,
  });
  const routedKeys = (pid) => state.keys.filter((k) => k.provider === pid && k.enabled);

  function chainOrder() {
    const named = state.chain.filter((n) => findModel(n));
    const seen = new Set(named);
    return [...named, ...state.models.map(modelName).filter((n) => !seen.has(n))];
  }

  function usable(m) {
    const p = provider(m.provider);
    if (!m.enabled || !p.enabled) return false;
    return p.keyless || routedKeys(p.id).some((k) => k.status !== 'invalid');
  }

  function modelJson(m) {
    const ok = usable(m);
    return {
      provider: m.provider, id: m.id, name: m.name, kind: m.kind, capabilities: m.capabilities,
      context_window: m.context_window ?? 0, max_output_tokens: m.max_output_tokens ?? 0, limits: m.limits,
      usage: { rpm: 0, rpd: 0, tpm: 0, tpd: 0 }, enabled: m.enabled, usable: ok,
      limited: ok && state.limited.has(modelName(m)), chain_position: chainOrder().indexOf(modelName(m)) + 1,
    };
  }

  function providerJson(p) {
    const caps = new Set(state.models.filter((m) => m.provider === p.id).flatMap((m) => m.capabilities));
    const mine = routedKeys(p.id);
    return {
      id: p.id, name: p.name, dialect: p.dialect, keyless: p.keyless, needs_account_id: p.needs_account_id,
      enabled: p.enabled, key_url: p.key_url, docs_url: p.docs_url, capabilities: CAP_ORDER.filter((c) => caps.has(c)),
      keys: mine.length, healthy_keys: mine.filter((k) => k.status === 'healthy' || k.status === 'unknown').length,
    };
  }

  // ---- the admin API ------------------------------------------------------------------------

  const only = (method, allowed) => {
    if (method !== allowed) throw new Refusal(405, 'method_not_allowed', `${method} is not allowed here`, null, { Allow: allowed });
  };
  const objectBody = (body) => {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Refusal(400, 'invalid_json', 'The body must be a JSON object.');
    return body;
  };
  const isLocal = (req) => {
    const a = req.socket.remoteAddress ?? '';
    const loop = a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
    return loop && !req.headers.forwarded && !req.headers['x-forwarded-for'] && !req.headers['x-real-ip'];
  };
  const sessionOf = (req) => {
    const m = /(?:^|;\s*)freellmapi_session=([0-9a-f]+)/.exec(req.headers.cookie ?? '');
    return m && state.sessions.has(m[1]) ? m[1] : null;
  };
  const newSession = (res) => {
    const t = randomBytes(32).toString('hex');
    state.sessions.add(t);
    res.setHeader('Set-Cookie', `freellmapi_session=${t}; Path=/; HttpOnly; SameSite=Strict`);
  };

  function checkAccess(req) {
    if (!state.pin && !isLocal(req)) {
      throw new Refusal(403, 'admin_remote_forbidden',
        'The dashboard and /api answer only this machine until a PIN is set. Open it on the machine that runs FreeLLMAPI (a request through a proxy counts as remote).');
    }
  }

  function checkSameOrigin(req) {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    const origin = req.headers.origin;
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    if (req.headers['x-freellmapi-admin'] === '1' && (origin === undefined || own.includes(origin.toLowerCase()))) return;
    throw new Refusal(403, 'csrf_refused',
      "A change to the gateway must come from its own dashboard: send 'X-FreeLLMAPI-Admin: 1' from the gateway's own origin.");
  }

  function api(req, res, route, body) {
    const { method } = req;
    let m;
    if (route === '/status') {
      only(method, 'GET');
      return [200, {
        version: '0.0.0-fake', uptime_s: Math.floor((Date.now() - state.started) / 1000), providers: state.providers.length,
        keys: state.keys.filter((k) => k.enabled).length, models: state.models.length,
        models_enabled: state.models.filter((x) => x.enabled).length, pin_set: !!state.pin,
      }];
    }
    if (route === '/providers') {
      only(method, 'GET');
      return [200, { data: state.providers.map(providerJson) }];
    }
    if (route === '/keys') {
      if (method === 'GET') return [200, { data: state.keys.map(keyJson) }];
      only(method, 'POST');
      const b = objectBody(body);
      if (typeof b.provider !== 'string') {
        throw new Refusal(400, 'missing_required_parameter', "'provider' (a catalog id, see GET /api/providers) is required.", 'provider');
      }
      const p = provider(b.provider);
      if (!p) throw new Refusal(400, 'invalid_value', `Unknown provider '${b.provider.slice(0, 60)}'.`, 'provider');
      if (typeof b.secret !== 'string' || !b.secret || b.secret.length > SECRET_MAX || /[ \t\r\n]/.test(b.secret)) {
        throw new Refusal(400, 'invalid_value',
          `'secret' must be the key as the provider issued it (no spaces, at most ${SECRET_MAX} characters).`, 'secret');
      }
      if (b.label != null && (typeof b.label !== 'string' || b.label.length > LABEL_MAX)) {
        throw new Refusal(400, 'invalid_value', `'label' must be a string of at most ${LABEL_MAX} characters.`, 'label');
      }
      if (p.needs_account_id && (typeof b.account_id !== 'string' || !b.account_id)) {
        throw new Refusal(400, 'missing_required_parameter', `${p.name} keys need 'account_id' (its URLs hold the account id).`, 'account_id');
      }
      if (!p.needs_account_id && b.account_id != null) {
        throw new Refusal(400, 'invalid_value', `${p.name} keys take no account id.`, 'account_id');
      }
      const k = addKey({ provider: p.id, secret: b.secret, label: b.label ?? '', account_id: b.account_id ?? null });
      return [201, { key: keyJson(k) }];
    }
    if ((m = /^\/keys\/(.+)$/.exec(route))) {
      const check = /^(\d+)\/check$/.exec(m[1]);
      if (check) {
        only(method, 'POST');
        const k = state.keys.find((x) => x.id === Number(check[1]));
        if (!k || !k.enabled || !provider(k.provider).probe) {
          throw new Refusal(409, 'check_unavailable',
            'This key cannot be checked now: no such key in use, it is switched off, its provider has no probe, or probes are off (FREELLMAPI_PROBE_INTERVAL_S=0).');
        }
        scheduleCheck(k);
        return [202, { scheduled: true }];
      }
      const id = /^\d+$/.test(m[1]) ? Number(m[1]) : 0;
      if (!id) throw new Refusal(404, 'key_not_found', `No key has the id '${m[1].slice(0, 40)}'.`);
      const k = state.keys.find((x) => x.id === id);
      if (method === 'PATCH') {
        const b = objectBody(body);
        if (b.label === undefined && b.enabled === undefined) {
          throw new Refusal(400, 'missing_required_parameter', "Send 'label', 'enabled' or both.");
        }
        if (b.label !== undefined && (typeof b.label !== 'string' || b.label.length > LABEL_MAX)) {
          throw new Refusal(400, 'invalid_value', `'label' must be a string of at most ${LABEL_MAX} characters.`, 'label');
        }
        if (b.enabled !== undefined && typeof b.enabled !== 'boolean') {
          throw new Refusal(400, 'invalid_value', "'enabled' must be true or false.", 'enabled');
        }
        if (!k) throw new Refusal(404, 'key_not_found', `No key has the id ${id}.`);
        if (b.label !== undefined) k.label = b.label;
        if (b.enabled !== undefined) k.enabled = b.enabled;
        return [200, { data: state.keys.map(keyJson) }];
      }
      only(method, 'DELETE');
      if (!k) throw new Refusal(404, 'key_not_found', `No key has the id ${id}.`);
      state.keys.splice(state.keys.indexOf(k), 1);
      return [204, null];
    }
    if (route === '/unified-key') {
      only(method, 'GET');
      return [200, { masked: maskSecret(state.unifiedKey) }];
    }
    if (route === '/unified-key/reveal') {
      only(method, 'POST');
      return [200, { key: state.unifiedKey }];
    }
    if (route === '/unified-key/rotate') {
      only(method, 'POST');
      state.unifiedKey = `freellmapi-${randomBytes(20).toString('hex')}`;
      return [200, { key: state.unifiedKey }];
    }
    if (route === '/models') {
      only(method, 'GET');
      return [200, { data: state.models.map(modelJson) }];
    }
    if ((m = /^\/models\/(.+)$/.exec(route))) {
      only(method, 'PATCH');
      const model = m[1].includes('/') ? findModel(m[1]) : null;
      if (!model) throw new Refusal(404, 'model_not_found', `No catalog model is named '${m[1].slice(0, 200)}' (use provider/model).`);
      const b = objectBody(body);
      if (typeof b.enabled !== 'boolean') throw new Refusal(400, 'invalid_value', "'enabled' must be true or false.", 'enabled');
      model.enabled = b.enabled;
      return [200, { model: modelJson(model) }];
    }
    if (route === '/chain') {
      if (method === 'GET') return [200, { data: chainOrder() }];
      if (method === 'DELETE') {
        state.chain = [];
        return [200, { data: chainOrder() }];
      }
      only(method, 'PUT');
      const b = objectBody(body);
      if (!Array.isArray(b.order) || b.order.length > 4096) {
        throw new Refusal(400, 'invalid_value', "'order' must be an array of \"provider/model\" entries.", 'order');
      }
      const seen = new Set();
      b.order.forEach((e, i) => {
        if (typeof e !== 'string' || !e.includes('/') || !findModel(e)) {
          throw new Refusal(400, 'invalid_value', `Entry ${i} is not a catalog model ("provider/model").`, 'order');
        }
        if (seen.has(e)) throw new Refusal(400, 'invalid_value', `'${e}' appears twice in the order.`, 'order');
        seen.add(e);
      });
      state.chain = [...b.order];
      return [200, { data: chainOrder() }];
    }
    if (route === '/session') {
      if (method === 'GET') {
        return [200, { pin_set: !!state.pin, authenticated: state.pin ? !!sessionOf(req) : isLocal(req) }];
      }
      if (method === 'DELETE') {
        const t = sessionOf(req);
        if (t) state.sessions.delete(t);
        res.setHeader('Set-Cookie', 'freellmapi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
        return [200, { pin_set: !!state.pin, authenticated: false }];
      }
      only(method, 'POST');
      if (!state.pin) throw new Refusal(409, 'no_pin', 'No PIN is set: nothing to log in to.');
      const b = objectBody(body);
      if (typeof b.pin !== 'string') throw new Refusal(400, 'missing_required_parameter', "'pin' is required.", 'pin');
      const now = Date.now();
      if (now < state.pinLockedUntil) {
        const s = Math.ceil((state.pinLockedUntil - now) / 1000);
        throw new Refusal(429, 'pin_locked', `Too many wrong PINs. Try again in ${s} s.`, null, { 'Retry-After': String(s) });
      }
      if (b.pin === state.pin) {
        state.pinFails = 0;
        newSession(res);
        return [200, { pin_set: true, authenticated: true }];
      }
      state.pinFails++;
      if (state.pinFails >= PIN_FREE_TRIES) {
        const s = 30 * 2 ** (state.pinFails - PIN_FREE_TRIES);
        state.pinLockedUntil = now + s * 1000;
        throw new Refusal(429, 'pin_locked', `Wrong PIN, and too many of them. Try again in ${s} s.`, null, { 'Retry-After': String(s) });
      }
      const left = PIN_FREE_TRIES - state.pinFails;
      throw new Refusal(401, 'wrong_pin', `Wrong PIN (${left} more tr${left === 1 ? 'y' : 'ies'} before a wait).`, 'pin');
    }
    if (route === '/pin') {
      if (method === 'DELETE') {
        state.pin = null;
        state.sessions.clear();
        res.setHeader('Set-Cookie', 'freellmapi_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
        return [200, { pin_set: false, authenticated: true }];
      }
      only(method, 'PUT');
      const b = objectBody(body);
      if (typeof b.pin !== 'string') throw new Refusal(400, 'missing_required_parameter', "'pin' is required.", 'pin');
      if (!/^[\x20-\x7e]{4,64}$/.test(b.pin)) throw new Refusal(400, 'invalid_value', 'A PIN is 4 to 64 printable characters.', 'pin');
      state.pin = b.pin;
      state.sessions.clear(); // a new PIN ends every other session
      newSession(res);
      return [200, { pin_set: true, authenticated: true }];
    }
    throw new Refusal(404, 'not_found', `Unknown admin path: ${method} /api${route}`);
  }

  function sendJson(res, status, body, headers = {}) {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      ...headers,
    });
    res.end(body === null ? undefined : JSON.stringify(body));
  }

  const sendError = (res, e) =>
    sendJson(res, e.status, {
      error: { message: e.message, type: e.status >= 500 ? 'server_error' : 'invalid_request_error', param: e.param ?? null, code: e.code },
    }, e.headers);

  async function handleApi(req, res, pathname) {
    const route = pathname.slice('/api'.length);
    let raw = '';
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > BODY_MAX) return sendError(res, new Refusal(413, 'request_too_large', 'The request body is too large.'));
      raw += chunk;
    }
    let body;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch (e) {
      body = Symbol.for('invalid');
    }
    const entry = { method: req.method, path: pathname, headers: { ...req.headers }, body };
    state.requests.push(entry);
    try {
      if (req.method === 'OPTIONS') throw new Refusal(403, 'csrf_refused', 'The admin API allows no other origin.');
      checkAccess(req);
      checkSameOrigin(req);
      if (state.pin && route !== '/session' && !sessionOf(req)) {
        throw new Refusal(401, 'session_required', 'Enter the dashboard PIN first (POST /api/session).');
      }
      const i = failures.findIndex((f) => f.method === req.method && f.path === pathname);
      if (i >= 0) {
        const [f] = failures.splice(i, 1);
        throw new Refusal(f.status, f.code, f.message);
      }
      if (typeof body === 'symbol') {
        if (['POST', 'PUT', 'PATCH'].includes(req.method)) throw new Refusal(400, 'invalid_json', 'The body must be a JSON object.');
        body = undefined;
      }
      const [status, answer] = api(req, res, route, body);
      sendJson(res, status, answer);
    } catch (e) {
      if (e instanceof Refusal) sendError(res, e);
      else sendError(res, new Refusal(500, 'server_error', `The fake API failed: ${e.message}`));
    }
  }

  // ---- the dashboard's files ----------------------------------------------------------------

  function securityHeaders(res) {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
  }

  function serveFile(req, res, pathname) {
    securityHeaders(res);
    try {
      checkAccess(req);
    } catch (e) {
      return sendError(res, e);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, new Refusal(404, 'not_found', `Unknown path: ${req.method} ${pathname}`));
    }
    if (pathname === '/v1' || pathname.startsWith('/v1/')) {
      return sendError(res, new Refusal(404, 'not_found', 'The fake API serves no /v1.'));
    }
    const root = path.resolve(distDir);
    const file = path.resolve(root, `.${pathname}`);
    const inside = file === root || file.startsWith(root + path.sep);
    let target = null;
    if (inside && pathname !== '/' && fs.existsSync(file) && fs.statSync(file).isFile()) target = file;
    else if (pathname.startsWith('/assets/') || !inside) return sendError(res, new Refusal(404, 'not_found', 'No such file.'));
    else target = path.join(root, 'index.html');
    if (!fs.existsSync(target)) {
      return sendError(res, new Refusal(500, 'not_built', `${target} is missing: build the dashboard (cd web && npm run build).`));
    }
    const immutable = target !== path.join(root, 'index.html') && pathname.startsWith('/assets/');
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(target)] ?? 'application/octet-stream',
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : fs.readFileSync(target));
  }

  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return sendError(res, new Refusal(400, 'bad_path', 'The path is not valid.'));
    }
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      handleApi(req, res, pathname).catch((e) => {
        if (!res.headersSent) sendError(res, new Refusal(500, 'server_error', e.message));
      });
    } else {
      serveFile(req, res, pathname);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', resolve);
  });
  port = server.address().port;
  for (const k of keys) addKey({ checked: false, status: 'unknown', ...k });

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    state,
    addKey,
    /** The next `method path` request answers this error instead (path as the browser asks, /api/...). */
    failNext(method, p, status, message, code = status >= 500 ? 'store_failed' : 'refused') {
      failures.push({ method, path: p, status, message, code });
    },
    chainOrder,
    chatOrder: () => chainOrder().filter((n) => findModel(n).kind === 'chat'),
    modelJson: (name) => modelJson(findModel(name)),
    /** Requests to /api whose method and path match (path a string or RegExp). */
    requestsTo(method, p) {
      return state.requests.filter((r) => r.method === method && (typeof p === 'string' ? r.path === p : p.test(r.path)));
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// `node tests/browser/lib/fake-api.mjs [port]`: serves web/dist with the fake API, to look at
// the dashboard by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fake = await startFakeApi({
    port: Number(process.argv[2]) || 0,
    keys: [
      { provider: 'groq', secret: 'gsk_demo_groq_key_0001', label: 'groq-main', status: 'healthy' },
      { provider: 'google', secret: 'AIzaDemoGoogleKey000002', label: 'gemini', status: 'rate_limited' },
    ],
  });
  console.log(`fake FreeLLMAPI dashboard on ${fake.url}/`);
}
