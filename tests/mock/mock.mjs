#!/usr/bin/env node
// Mock upstream LLM providers for FreeLLMAPI's end-to-end tests.
//
// One HTTP server on 127.0.0.1 emulates every provider of the catalog, each
// under its own path prefix: /<provider id><the provider's base path>, e.g.
//   FREELLMAPI_GROQ_BASE_URL=http://127.0.0.1:<port>/groq/openai/v1
//   FREELLMAPI_CLOUDFLARE_BASE_URL=http://127.0.0.1:<port>/cloudflare/client/v4/accounts/{account_id}/ai/v1
// The provider is the first path segment; the gateway appends /chat/completions
// and /models as it does for the real hosts.
//
// Usage: node tests/mock/mock.mjs [--port N] [--catalog FILE] [--log] [--exit-with-stdin]
//        (env MOCK_PORT; 0 = any free port; MOCK_LOG=1 logs each request on stderr)
// Prints "MOCK_PORT=<n>" on stdout once listening. One npm dependency: ws (the Gemini Live
// WebSocket; `npm ci` in tests/mock; without it only the Live socket is unavailable).
//
// Control API (JSON), documented in tests/mock/README.md:
//   GET  /__mock/health                 {ok, port, seq}  (seq: number of the last recorded request)
//   POST /__mock/script                 queue rule(s): a rule, an array, or {rules:[...]}
//   GET  /__mock/script                 pending rules     DELETE /__mock/script  clear them
//   GET  /__mock/requests?provider=&model=&key=&endpoint=&since=&violations=1
//   DELETE /__mock/requests             forget recorded requests
//   POST /__mock/reset                  clear rules + requests ({"keys":true,"config":true} also resets those)
//   GET|POST /__mock/keys               accepted keys per provider: {"groq":["gsk_a"], "cloudflare":[{"key":"t","account":"acc"}]}
//   GET|POST /__mock/config             {"strict":true, "default_content":null, "latency_ms":0}
//   GET|DELETE /__mock/signatures       Gemini thought signatures the mock issued
//   GET|DELETE /__mock/tokens           Gemini Live ephemeral tokens the mock minted (POST /google/v1alpha/auth_tokens)
//   WS  /google/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=…
//                                       the Gemini Live session (surfaces/live.mjs), recorded as endpoint "live"
// Layout: this file holds the state, the rules, the request record and the
// dispatch; each surface is a module in surfaces/ (respond, openai_chat,
// openai_media, gemini, assets, control, live) made from one shared context; wire
// formats and errors are in providers.mjs, gemini.mjs and media.mjs, shared
// helpers and the OpenAI request checks in common.mjs. Media surfaces are
// documented in tests/mock/README.md; GET /assets/<file> serves images for
// image-URL tests (recorded as provider "assets").

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeResponders } from './surfaces/respond.mjs';
import { makeOpenaiChat } from './surfaces/openai_chat.mjs';
import { makeOpenaiMedia } from './surfaces/openai_media.mjs';
import { makeGemini } from './surfaces/gemini.mjs';
import { makeAssets } from './surfaces/assets.mjs';
import { makeControl } from './surfaces/control.mjs';
import { makeLive } from './surfaces/live.mjs';
import { ERROR_KINDS } from './providers.mjs';
import { parseMultipart, CF_WHISPER_MODELS } from './media.mjs';
import { MAX_BODY, MAX_RECORDS, loadCatalog, safeDecode, isObject, summarizeMultipart, validate } from './common.mjs';

export async function startMock({ port = 0, catalogPath, log = false } = {}) {
  const loaded = loadCatalog(catalogPath);
  const state = {
    seq: 0,
    ruleSeq: 0,
    requests: [],
    rules: [],
    keys: {},
    config: { strict: true, default_content: null, latency_ms: 0, live_text_frames: false },
    catalog: loaded.models, // provider id -> models
    providers: loaded.providers, // provider id -> { dialect, keyless, accountInPath }
    basePaths: loaded.basePaths,
    signatures: new Map(), // Gemini thoughtSignature -> {model, calls: [{name, args}], at}
    tokens: new Map(), // Gemini Live ephemeral token name -> {name, uses, expireTime, newSessionExpireTime, setup, field_mask, key, seq, at}
    generated: new Map(), // id -> PNG served at /assets/generated/<id>.png (images answered with response_format "url")
  };
  const sockets = new Set();
  const timers = new Set();
  const wait = (ms, req) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(true);
      }, ms);
      timers.add(t);
      req?.once?.('close', () => {
        /* the caller checks aborted() */
      });
    });

  function record(rec) {
    rec.seq = ++state.seq;
    state.requests.push(rec);
    if (state.requests.length > MAX_RECORDS) state.requests.splice(0, state.requests.length - MAX_RECORDS);
    return rec;
  }

  function ruleMatches(r, ctx) {
    if (r.remaining === 0) return false;
    if (r.provider && r.provider !== ctx.provider) return false;
    if (r.model && r.model !== ctx.model) return false;
    if (r.key && r.key !== ctx.key) return false;
    if (r.account && r.account !== ctx.account) return false;
    if (r.endpoint && r.endpoint !== ctx.endpoint) return false;
    if (r.stream !== undefined && r.stream !== null && Boolean(r.stream) !== Boolean(ctx.stream)) return false;
    return true;
  }

  function takeRule(ctx) {
    for (const r of state.rules) {
      if (ruleMatches(r, ctx)) {
        if (r.remaining > 0) r.remaining--;
        r.used++;
        return r;
      }
    }
    return null;
  }

  function addRule(raw) {
    const r = { ...(raw.match || {}), ...raw };
    delete r.match;
    const times = r.times ?? r.count ?? 1;
    r.remaining = times === 0 || times === -1 || times === null || times === Infinity ? -1 : Number(times);
    r.used = 0;
    r.id = ++state.ruleSeq;
    if (typeof r.error === 'string' && !ERROR_KINDS.includes(r.error)) throw new Error(`unknown error kind "${r.error}" (one of ${ERROR_KINDS.join(', ')})`);
    if (r.provider && !state.providers[r.provider]) throw new Error(`unknown provider "${r.provider}"`);
    state.rules.push(r);
    return r.id;
  }

  function keyAccepted(provider, key, account) {
    const list = state.keys[provider];
    if (!list) return true; // not configured: any key is accepted
    return list.some((e) => (typeof e === 'string' ? e === key : e.key === key && (!e.account || !account || e.account === account)));
  }

  // One context for every surface: the state and core helpers above, then each
  // surface's functions, added in order (a surface sees those made before it).
  const m = { state, log, sockets, timers, wait, record, takeRule, addRule, keyAccepted, server: null };
  Object.assign(m, makeResponders(m));
  Object.assign(m, makeOpenaiChat(m));
  Object.assign(m, makeOpenaiMedia(m));
  Object.assign(m, makeGemini(m));
  Object.assign(m, makeAssets(m));
  Object.assign(m, makeControl(m));
  Object.assign(m, makeLive(m));
  const { sendJson, sendProviderError, handleChat, handleModels, cloudflareRun, pollinationsImage, MEDIA_HANDLERS, handleGemini, handleAsset, control } = m;

  // ---- dispatch ----

  async function handle(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const chunks = [];
    let size = 0;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY) {
        sendJson(res, 413, { error: { message: 'Request Entity Too Large', type: 'invalid_request_error', param: null, code: 'request_too_large' } });
        return;
      }
      chunks.push(c);
    }
    const rawBody = Buffer.concat(chunks);
    if (url.pathname.startsWith('/__mock/') || url.pathname === '/__mock') return control(req, res, url, rawBody);

    const segs = url.pathname.split('/');
    if (segs[1] === 'assets') return handleAsset(req, res, url);
    const provider = segs[1];
    if (!state.providers[provider]) return sendJson(res, 404, { error: { message: `mock: unknown provider "${provider}" (path ${url.pathname})`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    const sub = '/' + segs.slice(2).join('/');

    let body = null;
    let parseError = null;
    // multipart/form-data (audio uploads): the parts, kept out of the record
    // (only their summaries are recorded, never the bytes).
    let multipart = null;
    // A Cloudflare run body that is not JSON is the model's raw input (Whisper
    // audio; Cloudflare goes by the bytes, not the Content-Type, so curl's
    // --data-binary works): kept out of the record like uploads.
    let binary = null;
    const cfRun = provider === 'cloudflare' ? sub.match(/^\/client\/v4\/accounts\/[^/]+\/ai\/run\/(.+)$/) : null;
    const ctype = req.headers['content-type'] || '';
    if (/^multipart\/form-data/i.test(ctype)) {
      try {
        multipart = summarizeMultipart(parseMultipart(rawBody, ctype));
        body = multipart.body;
      } catch (e) {
        parseError = `multipart/form-data: ${e.message}`;
        body = rawBody.toString('latin1').slice(0, 4096);
      }
    } else if (rawBody.length) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch (e) {
        if (cfRun) binary = rawBody;
        else {
          parseError = String(e.message);
          body = rawBody.toString('utf8').slice(0, 4096);
        }
      }
    }
    const headers = { ...req.headers };
    const auth = headers.authorization || '';
    const key = provider === 'google' ? headers['x-goog-api-key'] || url.searchParams.get('key') || null : /^Bearer\s+/i.test(auth) ? auth.replace(/^Bearer\s+/i, '') : null;
    let account = null;
    const acc = sub.match(/^\/client\/v4\/accounts\/([^/]+)\//);
    if (acc) account = decodeURIComponent(acc[1]);

    let endpoint = 'other';
    let modelId = null;
    if (/\/chat\/completions$/.test(sub)) endpoint = 'chat';
    else if (/\/embeddings$/.test(sub)) endpoint = 'embed';
    else if (/\/moderations$/.test(sub)) endpoint = 'moderation';
    else if (provider === 'mistral' && /\/fim\/completions$/.test(sub)) endpoint = 'fim';
    else if (/\/images\/generations$/.test(sub)) endpoint = 'image';
    else if (/\/audio\/transcriptions$/.test(sub)) endpoint = 'transcription';
    else if (/\/audio\/translations$/.test(sub)) endpoint = 'translation';
    else if (cfRun) {
      modelId = safeDecode(cfRun[1]);
      if (CF_WHISPER_MODELS[modelId]) endpoint = modelId.endsWith('-turbo') && isObject(body) && body.task === 'translate' ? 'translation' : 'transcription';
      else endpoint = /flux|stable-diffusion|dreamshaper|lucid|phoenix|img2img|inpainting/i.test(modelId) ? 'image' : 'run';
    } else if (provider === 'pollinations' && /^\/(image|prompt)\/./.test(sub)) {
      endpoint = 'image';
      modelId = url.searchParams.get('model') || 'flux';
    } else if (/\/models$/.test(sub)) endpoint = 'models';
    else if (/\/models\/.+/.test(sub) && req.method === 'GET') {
      endpoint = 'models';
      modelId = decodeURIComponent(sub.replace(/^.*?\/models\//, ''));
    }
    if (provider === 'google') endpoint = /:(stream)?generateContent$/i.test(sub) ? 'chat' : /\/models$/.test(sub) ? 'models' : 'other';
    const gm = provider === 'google' ? sub.match(/\/models\/([^/:]+)(?::(\w+))?$/) : null;

    const rec = record({
      at: Date.now(),
      provider,
      method: req.method,
      path: url.pathname,
      sub,
      query: Object.fromEntries(url.searchParams),
      endpoint,
      account_id: account,
      headers,
      key,
      body,
      parse_error: parseError,
      model: gm ? decodeURIComponent(gm[1]) : cfRun || (provider === 'pollinations' && endpoint === 'image' && modelId) ? modelId : body && typeof body === 'object' && typeof body.model === 'string' ? body.model : modelId,
      stream: gm ? gm[2] === 'streamGenerateContent' : Boolean(body && typeof body === 'object' && body.stream),
      status: null,
      outcome: null,
      rule: null,
      violation: null,
      client_closed: false,
      closed_at: null,
      closed_early_ms: null,
      ...(multipart ? { form: multipart.form, files: multipart.files, upload: multipart.upload } : {}),
    });
    // The other side (the gateway) closed the connection before the mock
    // finished its answer: a cancelled upstream transfer. Not set when the
    // mock itself cut or dropped the connection (drop, cut_after).
    res.once('close', () => {
      if (res.writableFinished || rec.outcome === 'cut' || rec.outcome === 'dropped') return;
      rec.client_closed = true;
      rec.closed_at = Date.now();
      rec.closed_early_ms = rec.closed_at - rec.at;
    });
    if (log) process.stderr.write(`[mock] #${rec.seq} ${req.method} ${url.pathname} model=${rec.model} key=${key ? key.slice(0, 6) + '…' : '-'}\n`);

    if (state.config.latency_ms) await wait(state.config.latency_ms);

    if (state.providers[provider].dialect === 'gemini') return handleGemini(req, res, rec, url);

    // The unified client key must never reach an upstream.
    if (/freellmapi-/i.test(JSON.stringify(headers))) {
      rec.violation = 'the gateway\'s unified freellmapi- key was sent upstream';
      return sendProviderError(res, rec, provider, 'auth');
    }
    // Missing key: only keyless providers (and Pollinations' public /models) allow it.
    const publicModels = provider === 'pollinations' && endpoint === 'models';
    if (!key && !state.providers[provider].keyless && !publicModels) {
      if (provider === 'openrouter') {
        rec.status = 401;
        return sendJson(res, 401, { error: { message: 'No auth credentials found', code: 401 } });
      }
      return sendProviderError(res, rec, provider, 'auth');
    }
    if (key && !publicModels && !keyAccepted(provider, key, account)) return sendProviderError(res, rec, provider, 'auth');
    if (state.providers[provider].accountInPath && !account) {
      return sendProviderError(res, rec, provider, { status: 404, body: { success: false, errors: [{ code: 7003, message: 'Could not route to this path, perhaps your object identifier is invalid?' }], messages: [], result: null } });
    }

    if (endpoint === 'models' && req.method === 'GET') {
      const rule = takeRule({ provider, model: modelId, key, account, endpoint, stream: false });
      if (rule) {
        rec.rule = rule.id;
        if (rule.delay_ms) await wait(rule.delay_ms);
        if (rule.error) return sendProviderError(res, rec, provider, rule.error, rule);
      }
      return handleModels(req, res, rec, { provider, modelId });
    }
    const pollinationsGet = provider === 'pollinations' && /^\/(image|prompt)\/./.test(sub);
    if (pollinationsGet ? req.method === 'GET' || req.method === 'HEAD' : MEDIA_HANDLERS[endpoint] && req.method === 'POST') {
      const h = pollinationsGet ? pollinationsImage : cfRun ? cloudflareRun : MEDIA_HANDLERS[endpoint];
      return h(req, res, rec, { provider, url, multipart, binary, sub });
    }
    // Mistral's fill-in-the-middle: prompt and suffix in, a chat-shaped answer out. Served by the
    // chat surface on the prompt as a user turn; the request keeps its own body for inspection.
    let chatBody = body;
    if (endpoint === 'fim' && req.method === 'POST' && isObject(body)) {
      if (typeof body.prompt !== 'string' || 'messages' in body || (body.suffix !== undefined && typeof body.suffix !== 'string')) {
        rec.violation = 'fim/completions needs a prompt string (and a suffix string), no messages';
        return sendProviderError(res, rec, provider, 'bad_request');
      }
      chatBody = { ...body, messages: [{ role: 'user', content: body.prompt }] };
    }
    if ((endpoint !== 'chat' && endpoint !== 'fim') || req.method !== 'POST') {
      return sendProviderError(res, rec, provider, { status: 404, body: { error: { message: `Unknown request URL: ${req.method} ${sub}. Please check the URL for typos.`, type: 'invalid_request_error', param: null, code: 'unknown_url' } } });
    }
    if (parseError) {
      rec.violation = `body is not JSON: ${parseError}`;
      return sendProviderError(res, rec, provider, 'bad_request');
    }

    const rule = takeRule({ provider, model: rec.model, key, account, endpoint, stream: rec.stream });
    if (rule) rec.rule = rule.id;
    if (rule?.delay_ms) {
      await wait(rule.delay_ms);
      if (res.destroyed || req.socket?.destroyed) {
        rec.outcome = 'client_gone';
        return;
      }
    }
    if (!rule?.error && !rule?.drop && state.config.strict && endpoint === 'chat') {
      const v = validate(provider, body);
      if (v) {
        rec.violation = v.why;
        if (v.override) return sendProviderError(res, rec, provider, v.override);
        return sendProviderError(res, rec, provider, v.kind, { ctx: v.ctx });
      }
    }
    return handleChat(req, res, rec, { provider, rule, body: chatBody });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      process.stderr.write(`[mock] handler error: ${e.stack || e}\n`);
      try {
        if (!res.headersSent) sendJson(res, 500, { error: { message: `mock internal error: ${e.message}`, type: 'server_error', param: null, code: null } });
        else res.destroy();
      } catch {
        /* ignore */
      }
    });
  });
  m.server = server;
  // WebSocket upgrades: the Gemini Live socket (surfaces/live.mjs); other paths get a 404.
  server.on('upgrade', (req, socket, head) => {
    try {
      m.handleUpgrade(req, socket, head);
    } catch (e) {
      process.stderr.write(`[mock] upgrade error: ${e.stack || e}\n`);
      socket.destroy();
    }
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    state,
    server,
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        m.closeLive();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- CLI ----------------------------------------------------------------------

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = process.argv.slice(2);
  let port = process.env.MOCK_PORT ?? '0';
  let catalogPath;
  let log = Boolean(process.env.MOCK_LOG);
  let exitWithStdin = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = args[++i];
    else if (args[i].startsWith('--port=')) port = args[i].slice(7);
    else if (args[i] === '--catalog') catalogPath = args[++i];
    else if (args[i] === '--log') log = true;
    else if (args[i] === '--exit-with-stdin') exitWithStdin = true;
    else if (/^\d+$/.test(args[i])) port = args[i];
    else {
      process.stderr.write(`usage: mock.mjs [--port N] [--catalog FILE] [--log] [--exit-with-stdin]\n`);
      process.exit(2);
    }
  }
  const m = await startMock({ port: Number(port), catalogPath, log });
  process.stdout.write(`MOCK_PORT=${m.port}\n`);
  const stop = () => m.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // --exit-with-stdin: the test harness keeps a pipe open; if it dies, do not linger.
  if (exitWithStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}
