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
// Prints "MOCK_PORT=<n>" on stdout once listening. No npm dependencies.
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
// Media surfaces (embeddings, images, audio transcription, Gemini image/TTS
// models, auth tokens) are documented in tests/mock/README.md; helpers in media.mjs.
// Gemini (provider google) lives in gemini.mjs; GET /assets/<file> serves images
// for image-URL tests (recorded as provider "assets").

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { providersOf, ERROR_KINDS, providerError, providerMessage, inbandError, gErr, MISTRAL_KEYS, MISTRAL_TOOL_ID } from './providers.mjs';
import {
  validateGemini, buildGeminiAnswer, responseObject, streamChunks, modelObjects,
  isImageModel, isTtsModel, checkGeminiMedia, buildGeminiMediaAnswer, checkGeminiEmbed, geminiEmbedAnswer, checkAuthToken, mintAuthToken,
} from './gemini.mjs';
import {
  makePng, pngSize, fitTo64, sha256, embedVector, packFloat32, defaultDims, supportsDimensions, parseMultipart, wavDuration,
  AUDIO_EXTENSIONS, LANGUAGE_NAMES, CF_WHISPER_MODELS, webVtt,
} from './media.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GONE = Symbol('client gone');
const MAX_BODY = 64 * 1024 * 1024;
const MAX_RECORDS = 5000;

const alnum = (n) => {
  const cs = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += cs[b[i] % cs.length];
  return s;
};
const nowSec = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The catalog the mock serves: models per provider, and the providers themselves.
function loadCatalog(p) {
  const candidates = [p, process.env.MOCK_CATALOG, process.env.FREELLMAPI_CATALOG, path.join(HERE, '../../catalog/catalog.json')];
  for (const c of candidates) {
    if (!c) continue;
    try {
      const j = JSON.parse(fs.readFileSync(c, 'utf8'));
      const models = {};
      for (const prov of j.providers || []) models[prov.id] = prov.models || [];
      return { models, ...providersOf(j) };
    } catch {
      /* try the next one */
    }
  }
  return { models: {}, providers: {}, basePaths: {} };
}

function toolCallId(provider) {
  return provider === 'mistral' ? alnum(9) : `call_${alnum(24)}`;
}

function completionId(provider) {
  switch (provider) {
    case 'openrouter':
    case 'kilo':
      return `gen-${nowSec()}-${alnum(20)}`;
    case 'mistral':
      return randomBytes(16).toString('hex');
    case 'cloudflare':
      return `id-${Date.now()}`;
    default:
      return `chatcmpl-${alnum(29)}`;
  }
}

// The text of the last user message (string content or its text parts), for `echo` rules.
function lastUserText(messages) {
  for (let i = (messages || []).length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((p) => p && p.type === 'text').map((p) => p.text).join(' ');
    return '';
  }
  return '';
}

const safeDecode = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Record-friendly view of multipart parts: form (text fields; a name ending in
 * [] or sent twice becomes an array), files ([{name, filename, content_type,
 * bytes, sha256}]), upload (the part named "file"), body (form plus file
 * summaries under their field names), parts (with the bytes; not recorded).
 */
function summarizeMultipart(parts) {
  const form = {};
  const files = [];
  for (const p of parts) {
    p.name ??= '';
    if (p.filename !== null && p.filename !== undefined) {
      files.push({ name: p.name, filename: p.filename, content_type: p.contentType, bytes: p.data.length, sha256: sha256(p.data) });
      continue;
    }
    const v = p.data.toString('utf8');
    if (p.name.endsWith('[]')) (form[p.name] ||= []).push(v);
    else if (p.name in form) form[p.name] = [].concat(form[p.name], v);
    else form[p.name] = v;
  }
  const body = { ...form };
  for (const f of files) body[f.name] = { filename: f.filename, content_type: f.content_type, bytes: f.bytes, sha256: f.sha256 };
  return { form, files, upload: files.find((f) => f.name === 'file') ?? null, body, parts };
}

// Files served under /assets/ (see handleAsset).
export const ASSETS = {
  png: { type: 'image/png', bytes: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==', 'base64') },
  jpg: { type: 'image/jpeg', bytes: Buffer.from('/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAA//EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AN//Z', 'base64') },
  webp: { type: 'image/webp', bytes: Buffer.from('UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAwA0JaQAA3AA/vuUAAA=', 'base64') },
  html: { type: 'text/html; charset=utf-8', bytes: Buffer.from('<html><body>not an image</body></html>\n') },
  txt: { type: 'text/plain', bytes: Buffer.from('not an image\n') },
};

const estTokens = (s) => Math.max(1, Math.ceil(String(s ?? '').length / 4));

function imageCount(messages) {
  let n = 0;
  for (const m of messages || []) {
    if (Array.isArray(m.content)) for (const p of m.content) if (p && p.type === 'image_url') n++;
  }
  return n;
}

// ---- strict per-provider request validation (the real providers' quirks) ----

function hasArrayContent(messages) {
  return (messages || []).some((m) => Array.isArray(m?.content));
}
function schemaHasKeys(obj, keys) {
  if (!obj || typeof obj !== 'object') return null;
  for (const [k, v] of Object.entries(obj)) {
    if (keys.includes(k)) return k;
    const sub = schemaHasKeys(v, keys);
    if (sub) return sub;
  }
  return null;
}

/** Returns null when the body is acceptable, else {kind, ctx?, override?, why}. */
function validate(provider, body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { kind: 'bad_request', why: 'body is not a JSON object' };
  if (typeof body.model !== 'string' || !body.model) return { kind: 'bad_request', why: 'missing model' };
  if (!Array.isArray(body.messages) || body.messages.length === 0) return { kind: 'bad_request', why: 'missing messages' };
  if (body.stream_options !== undefined && body.stream !== true && provider !== 'mistral') {
    return {
      override: { status: 400, body: { error: { message: 'The \'stream_options\' parameter is only allowed when \'stream\' is enabled.', type: 'invalid_request_error', param: 'stream_options', code: null } } },
      why: 'stream_options without stream',
    };
  }
  switch (provider) {
    case 'groq': {
      for (const k of ['logprobs', 'top_logprobs', 'logit_bias']) {
        if (body[k] !== undefined && body[k] !== null && body[k] !== false) return { override: { status: 400, body: { error: { message: `\`${k}\` is not supported with this model`, type: 'invalid_request_error' } } }, why: `groq: ${k}` };
      }
      if (body.n !== undefined && body.n !== null && body.n !== 1) return { override: { status: 400, body: { error: { message: '\'n\' : number must be at most 1', type: 'invalid_request_error' } } }, why: 'groq: n != 1' };
      const i = body.messages.findIndex((m) => m && m.name !== undefined);
      if (i >= 0) return { override: { status: 400, body: { error: { message: `'messages.${i}' : for 'role:${body.messages[i].role}' the following must be satisfied[('messages.${i}.name' : property 'name' is unsupported)]`, type: 'invalid_request_error' } } }, why: 'groq: messages[].name' };
      return null;
    }
    case 'mistral': {
      for (const [k, v] of Object.entries(body)) {
        if (!MISTRAL_KEYS.has(k)) return { kind: 'validation', ctx: { field: k, input: v }, why: `mistral: extra key ${k}` };
        if (v === null) {
          return {
            override: { status: 422, body: { object: 'error', message: { detail: [{ type: 'value_error', loc: ['body', k], msg: 'Input should not be null', input: null }] }, type: 'invalid_request_error', param: null, code: null } },
            why: `mistral: null ${k}`,
          };
        }
      }
      for (const m of body.messages) {
        const ids = [];
        if (m?.role === 'assistant' && Array.isArray(m.tool_calls)) for (const tc of m.tool_calls) ids.push(tc?.id);
        if (m?.role === 'tool') ids.push(m.tool_call_id);
        for (const id of ids) {
          if (!MISTRAL_TOOL_ID.test(String(id))) {
            return {
              override: { status: 400, body: { object: 'error', message: `Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`, type: 'invalid_request_error', param: null, code: null } },
              why: `mistral: tool call id ${id}`,
            };
          }
        }
      }
      return null;
    }
    case 'cloudflare': {
      if (hasArrayContent(body.messages)) return { kind: 'validation', why: 'cloudflare: array content' };
      if (body.messages.some((m) => m?.role === 'assistant' && m.content === null)) return { kind: 'validation', why: 'cloudflare: null assistant content' };
      return null;
    }
    case 'cohere': {
      if (hasArrayContent(body.messages)) {
        return { override: { status: 400, body: { id: alnum(8), message: 'invalid request: messages content must be a string for this model.' } }, why: 'cohere: array content' };
      }
      const bad = schemaHasKeys(body.tools, ['additionalProperties', '$schema']);
      if (bad) return { override: { status: 400, body: { id: alnum(8), message: `invalid request: tool parameter schema: unsupported keyword "${bad}"` } }, why: `cohere: schema keyword ${bad}` };
      return null;
    }
    case 'kilo':
      if (body.response_format !== undefined) return { kind: 'bad_request', why: 'kilo: response_format' };
      return null;
    case 'nvidia':
      if (Array.isArray(body.tools) && body.tools.length && body.parallel_tool_calls !== false) {
        return { override: { status: 400, body: { status: 400, title: 'Bad Request', detail: 'This model only supports single tool-calls at once!' } }, why: 'nvidia: parallel tool calls' };
      }
      return null;
    case 'github':
      for (const k of ['top_k', 'min_p', 'repetition_penalty']) {
        if (body[k] !== undefined) return { override: { status: 400, body: { error: { code: 'invalid_request_body', message: `Unrecognized request argument supplied: ${k}`, details: `Unrecognized request argument supplied: ${k}` } } }, why: `github: ${k}` };
      }
      return null;
    default:
      return null;
  }
}

// ---- the mock ----------------------------------------------------------------

export async function startMock({ port = 0, catalogPath, log = false } = {}) {
  const loaded = loadCatalog(catalogPath);
  const state = {
    seq: 0,
    ruleSeq: 0,
    requests: [],
    rules: [],
    keys: {},
    config: { strict: true, default_content: null, latency_ms: 0 },
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

  function buildAnswer(provider, body, rule) {
    const model = rule?.model_echo ?? body.model;
    const imgs = imageCount(body.messages);
    let content = rule?.content ?? (rule?.echo ? `echo: ${lastUserText(body.messages)}` : null) ?? state.config.default_content ?? `Hello from ${provider}/${body.model}.${imgs ? ` I see ${imgs} image${imgs > 1 ? 's' : ''}.` : ''}`;
    let toolCalls = null;
    if (rule?.tool_calls) {
      toolCalls = rule.tool_calls.map((tc) => ({
        id: tc.id ?? toolCallId(provider),
        type: 'function',
        function: { name: tc.name ?? tc.function?.name, arguments: typeof (tc.arguments ?? tc.function?.arguments) === 'string' ? tc.arguments ?? tc.function.arguments : JSON.stringify(tc.arguments ?? tc.function?.arguments ?? {}) },
      }));
      if (rule.content === undefined) content = null;
    }
    const finish = rule?.finish_reason ?? (toolCalls ? 'tool_calls' : 'stop');
    const prompt = estTokens(JSON.stringify(body.messages));
    const completion = estTokens((content ?? '') + (toolCalls ? JSON.stringify(toolCalls) : ''));
    const usage = rule?.usage ?? { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const reasoningField = provider === 'ollama' ? 'reasoning' : 'reasoning_content';
    return { model, content, toolCalls, finish, usage, reasoning: rule?.reasoning, reasoningField };
  }

  function completionObject(provider, a) {
    const message = { role: 'assistant', content: a.content };
    if (a.reasoning) message[a.reasoningField] = a.reasoning;
    if (a.toolCalls) message.tool_calls = a.toolCalls;
    const obj = {
      id: completionId(provider),
      object: 'chat.completion',
      created: nowSec(),
      model: a.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
      usage: a.usage,
    };
    if (provider === 'groq') {
      obj.system_fingerprint = 'fp_mock00001';
      obj.usage = { queue_time: 0.01, prompt_time: 0.002, completion_time: 0.01, total_time: 0.012, ...a.usage };
      obj.x_groq = { id: `req_${alnum(26)}` };
    } else if (provider === 'openrouter' || provider === 'kilo') {
      obj.provider = 'Chutes';
      obj.choices[0].native_finish_reason = a.finish;
    }
    return obj;
  }

  function streamEvents(provider, body, a) {
    const id = completionId(provider);
    const created = nowSec();
    const includeUsage = Boolean(body.stream_options && body.stream_options.include_usage);
    const base = (choices, extra = {}) => {
      const o = { id, object: 'chat.completion.chunk', created, model: a.model, ...(provider === 'groq' ? { system_fingerprint: 'fp_mock00001' } : {}), choices, ...extra };
      if (includeUsage && provider !== 'mistral' && !('usage' in extra)) o.usage = null;
      return o;
    };
    const ch = (delta, finish = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
    const evs = [];
    const first = base([ch({ role: 'assistant', content: a.toolCalls && a.content === null ? null : '' })]);
    if (provider === 'groq') first.x_groq = { id: `req_${alnum(26)}` };
    evs.push(first);
    if (a.reasoning) {
      for (const piece of a.reasoning.match(/\S+\s*/g) || [a.reasoning]) evs.push(base([ch({ [a.reasoningField]: piece })]));
    }
    if (a.content) {
      const pieces = a.chunks || a.content.match(/\S+\s*/g) || [a.content];
      for (const piece of pieces) evs.push(base([ch({ content: piece })]));
    }
    if (a.toolCalls) {
      a.toolCalls.forEach((tc, index) => {
        evs.push(base([ch({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] })]));
        const args = tc.function.arguments;
        const third = Math.max(1, Math.ceil(args.length / 3));
        for (let i = 0; i < args.length; i += third) evs.push(base([ch({ tool_calls: [{ index, function: { arguments: args.slice(i, i + third) } }] })]));
      });
    }
    const fin = base([ch({}, a.finish)]);
    if (provider === 'mistral') fin.usage = a.usage; // Mistral always puts usage on its last chunk
    if (provider === 'groq') fin.x_groq = { id: `req_${alnum(26)}`, usage: { queue_time: 0.01, ...a.usage } };
    evs.push(fin);
    if (includeUsage && provider !== 'mistral') evs.push(base([], { usage: a.usage }));
    return evs;
  }

  // Resolves once the bytes are handed to the kernel, so a cut right after
  // them really delivers them first.
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

  async function handleChat(req, res, rec, ctx) {
    const { provider } = ctx;
    const body = rec.body;
    const rule = ctx.rule;
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;

    if (rule?.drop) {
      rec.status = 0;
      rec.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (rule?.error) {
      sendProviderError(res, rec, provider, rule.error, rule);
      rec.outcome = 'error';
      return;
    }
    if (rule?.raw_body !== undefined) {
      rec.status = rule.status ?? 200;
      const h = { 'content-type': rule.content_type ?? 'application/json', ...lower(rule.headers) };
      res.writeHead(rec.status, h);
      res.end(typeof rule.raw_body === 'string' ? rule.raw_body : JSON.stringify(rule.raw_body));
      rec.outcome = 'raw';
      return;
    }

    const a = buildAnswer(provider, body, rule);
    if (rule?.chunks) a.chunks = rule.chunks;
    const headers = { ...successHeaders(provider), ...lower(rule?.headers) };
    rec.status = 200;

    if (!body.stream) {
      return sendWhole(res, rec, rule, aborted, JSON.stringify(completionObject(provider, a)), headers, 'application/json');
    }

    // streaming
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    if (rule?.stall_after_headers_ms) {
      await wait(rule.stall_after_headers_ms);
      if (aborted()) return;
    }
    if (provider === 'openrouter') await write(res, ': OPENROUTER PROCESSING\n\n');
    const evs = streamEvents(provider, body, a);
    const delay = rule?.chunk_delay_ms ?? 0;
    let sent = 0;
    for (let i = 0; i <= evs.length; i++) {
      if (aborted()) return;
      if (rule?.cut_after === sent) {
        rec.outcome = 'cut';
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (rule?.inband_error_after === sent) {
        const ev = typeof rule.inband_error === 'object' && rule.inband_error ? rule.inband_error : inbandError(provider, a.model);
        await write(res, `data: ${JSON.stringify(ev)}\n\n`);
        res.end('data: [DONE]\n\n');
        rec.outcome = 'inband_error';
        return;
      }
      if (rule?.malformed_after === sent) {
        await write(res, rule.malformed_frame ?? `data: {"id":"${completionId(provider)}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"broken\n\n`);
      }
      if (i === evs.length) break;
      if (delay && i > 0) {
        await wait(delay);
        if (aborted()) return;
      }
      await write(res, `data: ${JSON.stringify(evs[i])}\n\n`);
      sent++;
    }
    res.end('data: [DONE]\n\n');
    rec.outcome = 'ok';
  }

  function handleModels(req, res, rec, ctx) {
    const models = state.catalog[ctx.provider] || [];
    const data = models.map((m) => {
      const o = { id: m.id, object: 'model', created: 1735689600, owned_by: ctx.provider };
      if (m.context_window) o.context_length = m.context_window;
      return o;
    });
    if (!data.length) data.push({ id: `${ctx.provider}-mock-model`, object: 'model', created: 1735689600, owned_by: ctx.provider });
    rec.status = 200;
    if (ctx.modelId) {
      const one = data.find((m) => m.id === ctx.modelId);
      if (!one) return sendProviderError(res, rec, ctx.provider, 'model_not_found');
      return sendJson(res, 200, one, successHeaders(ctx.provider));
    }
    sendJson(res, 200, { object: 'list', data }, successHeaders(ctx.provider));
  }

  // ---- media surfaces ---------------------------------------------------------------
  // Embeddings, images, audio transcription/translation (OpenAI dialect),
  // Cloudflare's native run, Pollinations' image GET, and on Gemini the
  // embedding, image and TTS models and auth tokens. Each goes through
  // runMedia: scripted rule (matched on provider, model, key, account and
  // endpoint), then the request check, then one whole answer.

  /**
   * check(): null | {error: {status, headers, body}, why, hard}. A problem is
   * recorded as the request's violation; it is answered when strict mode is on
   * or it is hard (the mock cannot answer it at all).
   * answer(rule): {body: object | string | Buffer, contentType?, headers?}.
   */
  async function runMedia(req, res, rec, provider, check, answer) {
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;
    const rule = await takeRuleAndWait(req, res, rec, { provider, model: rec.model, key: rec.key, account: rec.account_id, endpoint: rec.endpoint, stream: false });
    if (rule === GONE) return;
    if (answerByRule(req, res, rec, provider, rule)) return;
    const v = check ? check() : null;
    if (v) {
      rec.violation = v.why;
      if (v.hard || state.config.strict) {
        rec.outcome = 'error';
        return sendProviderError(res, rec, provider, v.error);
      }
    }
    const out = answer(rule);
    rec.status = 200;
    const raw = Buffer.isBuffer(out.body) || typeof out.body === 'string';
    const ct = out.contentType ?? (raw ? 'text/plain; charset=utf-8' : provider === 'google' ? 'application/json; charset=UTF-8' : 'application/json');
    const base = provider === 'google' ? { 'x-request-id': `req_${alnum(26)}`, server: 'scaffolding on HTTPServer2', vary: 'Origin, X-Origin, Referer' } : successHeaders(provider);
    return sendWhole(res, rec, rule, aborted, raw ? out.body : JSON.stringify(out.body), { ...base, ...lower(out.headers), ...lower(rule?.headers) }, ct);
  }

  // POST {base}/embeddings: input string | string[] | number[] | number[][].
  function openaiEmbeddings(req, res, rec, { provider }) {
    const b = rec.body;
    const err = (msg, o = {}) => providerMessage(provider, o.status ?? 400, msg, o);
    let items = [];
    const check = () => {
      if (rec.parse_error || !isObject(b)) return { error: err('Invalid request: the body must be a JSON object.'), why: `body is not a JSON object${rec.parse_error ? `: ${rec.parse_error}` : ''}`, hard: true };
      if (typeof b.model !== 'string' || !b.model) return { error: err('you must provide a model parameter', { param: 'model' }), why: 'embeddings without model', hard: true };
      const inp = b.input;
      const isInt = (x) => Number.isInteger(x);
      if (typeof inp === 'string') items = [{ text: inp, tokens: estTokens(inp) }];
      else if (Array.isArray(inp) && inp.length && inp.every((x) => typeof x === 'string')) items = inp.map((t) => ({ text: t, tokens: estTokens(t) }));
      else if (Array.isArray(inp) && inp.length && inp.every(isInt)) items = [{ text: `tokens:${inp.join(',')}`, tokens: inp.length }];
      else if (Array.isArray(inp) && inp.length && inp.every((a) => Array.isArray(a) && a.length && a.every(isInt))) items = inp.map((a) => ({ text: `tokens:${a.join(',')}`, tokens: a.length }));
      else return { error: err('\'$.input\' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.', { param: 'input' }), why: `embeddings input is not a string, string[], number[] or number[][] (${JSON.stringify(inp ?? null).slice(0, 80)})`, hard: true };
      rec.texts = items.map((i) => i.text);
      const enc = b.encoding_format;
      if (enc !== undefined && enc !== null && enc !== 'float' && enc !== 'base64') return { error: err(`Invalid value for 'encoding_format': ${JSON.stringify(enc)}. Supported values are: 'float' and 'base64'.`, { param: 'encoding_format' }), why: `encoding_format ${JSON.stringify(enc)}` };
      if (b.dimensions !== undefined && b.dimensions !== null) {
        if (!supportsDimensions(b.model)) {
          const e = provider === 'mistral' ? providerError('mistral', 'validation', { field: 'dimensions', input: b.dimensions }) : err('This model does not support specifying dimensions.', { param: 'dimensions' });
          return { error: e, why: `dimensions sent to ${b.model}, which does not take it` };
        }
        const max = defaultDims(b.model);
        if (!Number.isInteger(b.dimensions) || b.dimensions < 1 || b.dimensions > max) return { error: err(`Invalid value for 'dimensions' = ${JSON.stringify(b.dimensions)}. Must be an integer between 1 and ${max}.`, { param: 'dimensions' }), why: `dimensions ${JSON.stringify(b.dimensions)} outside 1..${max}` };
      }
      if (provider === 'nvidia' && b.input_type !== 'query' && b.input_type !== 'passage') {
        return { error: err('\'input_type\' parameter is required for asymmetric models; use \'query\' or \'passage\''), why: `nvidia embeddings without input_type query|passage (got ${JSON.stringify(b.input_type ?? null)})` };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const dims = supportsDimensions(b.model) && Number.isInteger(b.dimensions) && b.dimensions > 0 ? b.dimensions : defaultDims(b.model);
      const enc = b.encoding_format === 'base64' ? 'base64' : 'float';
      rec.dimensions = dims;
      rec.encoding_format = enc;
      const data = items.map((it, index) => {
        const v = embedVector(b.model, it.text, dims);
        return { object: 'embedding', index, embedding: enc === 'base64' ? packFloat32(v) : v };
      });
      const tokens = items.reduce((n, it) => n + it.tokens, 0);
      const out = { object: 'list', data, model: rule?.model_echo ?? b.model, usage: rule?.usage ?? { prompt_tokens: tokens, total_tokens: tokens } };
      if (provider === 'mistral') out.id = randomBytes(16).toString('hex');
      return { body: out };
    });
  }

  // A generated image: PNG bytes, recorded in rec.outputs; `url` answers are served from /assets/generated/.
  function generatedImage(req, rec, png, asUrl) {
    rec.outputs.push({ mimeType: 'image/png', ...pngSize(png), bytes: png.length, sha256: sha256(png) });
    if (!asUrl) return { b64_json: png.toString('base64') };
    const id = alnum(20);
    state.generated.set(id, png);
    if (state.generated.size > 200) state.generated.delete(state.generated.keys().next().value);
    return { url: `http://${req.headers.host || `127.0.0.1:${server.address().port}`}/assets/generated/${id}.png` };
  }

  // POST {base}/images/generations: {model, prompt, n, size, response_format} -> {created, data: [{b64_json} | {url}]}.
  function openaiImages(req, res, rec, { provider }) {
    const b = rec.body;
    const err = (msg, o = {}) => providerMessage(provider, 400, msg, o);
    const check = () => {
      if (rec.parse_error || !isObject(b)) return { error: err('Invalid request: the body must be a JSON object.'), why: 'body is not a JSON object', hard: true };
      if (typeof b.prompt !== 'string' || !b.prompt.trim()) return { error: err('\'prompt\' is a required property', { param: 'prompt' }), why: 'images/generations without prompt', hard: true };
      rec.prompt = b.prompt;
      if (b.n !== undefined && b.n !== null && (!Number.isInteger(b.n) || b.n < 1 || b.n > 10)) return { error: err(`Invalid value for 'n' = ${JSON.stringify(b.n)}. Must be an integer between 1 and 10.`, { param: 'n' }), why: `n ${JSON.stringify(b.n)}` };
      if (b.size !== undefined && b.size !== null && b.size !== 'auto') {
        const m = /^(\d{1,4})x(\d{1,4})$/.exec(String(b.size));
        if (!m || !Number(m[1]) || !Number(m[2])) return { error: err(`Invalid value for 'size': ${JSON.stringify(b.size)}. Expected WIDTHxHEIGHT or 'auto'.`, { param: 'size' }), why: `size ${JSON.stringify(b.size)}` };
      }
      if (b.response_format !== undefined && b.response_format !== null && b.response_format !== 'url' && b.response_format !== 'b64_json') return { error: err(`Invalid value for 'response_format': ${JSON.stringify(b.response_format)}. Supported values are: 'url' and 'b64_json'.`, { param: 'response_format' }), why: `response_format ${JSON.stringify(b.response_format)}` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      const m = /^(\d+)x(\d+)$/.exec(String(b.size ?? ''));
      const { width, height } = m && Number(m[1]) && Number(m[2]) ? fitTo64(Number(m[1]), Number(m[2])) : { width: 64, height: 64 };
      const n = Number.isInteger(b.n) && b.n > 0 ? Math.min(b.n, 10) : 1;
      rec.outputs = [];
      const data = [];
      for (let i = 0; i < n; i++) data.push(generatedImage(req, rec, makePng(width, height, `${provider}\u0000${b.model ?? ''}\u0000${b.prompt}\u0000${i}`), b.response_format === 'url'));
      return { body: { created: nowSec(), data } };
    });
  }

  // The matching rule (recorded on rec), after its delay_ms; GONE when the client left meanwhile.
  async function takeRuleAndWait(req, res, rec, match) {
    const rule = takeRule(match);
    if (rule) rec.rule = rule.id;
    if (rule?.delay_ms) {
      await wait(rule.delay_ms);
      if (res.destroyed || req.socket?.destroyed) {
        rec.outcome = 'client_gone';
        return GONE;
      }
    }
    return rule;
  }

  // A rule that answers by itself (drop, provider error, raw body): true when it did.
  function answerByRule(req, res, rec, provider, rule) {
    if (rule?.drop) {
      rec.status = 0;
      rec.outcome = 'dropped';
      req.socket.destroy();
      return true;
    }
    if (rule?.error) {
      sendProviderError(res, rec, provider, rule.error, { ...rule, ctx: { model: rec.model, ...(rule.ctx || {}) } });
      rec.outcome = 'error';
      return true;
    }
    if (rule?.raw_body !== undefined) {
      rec.status = rule.status ?? 200;
      res.writeHead(rec.status, { 'content-type': rule.content_type ?? 'application/json', ...lower(rule.headers) });
      res.end(typeof rule.raw_body === 'string' ? rule.raw_body : JSON.stringify(rule.raw_body));
      rec.outcome = 'raw';
      return true;
    }
    return false;
  }

  // POST {base}/audio/transcriptions | /audio/translations (multipart), answered like Groq's Whisper.
  function openaiAudio(req, res, rec, { provider, multipart }) {
    const translate = rec.endpoint === 'translation';
    const err = (msg, o = {}) => providerMessage(provider, o.status ?? 400, msg, o);
    const form = multipart?.form || {};
    const filePart = multipart?.parts.find((p) => p.name === 'file' && p.filename !== null) ?? null;
    const first = (v) => (Array.isArray(v) ? v[0] : v);
    const fmt = first(form.response_format) || 'json';
    const grans = [].concat(form['timestamp_granularities[]'] ?? form.timestamp_granularities ?? []);
    const check = () => {
      if (!multipart) {
        return { error: err(rec.parse_error ? `invalid multipart/form-data body: ${rec.parse_error.replace(/^multipart\/form-data: /, '')}` : 'request Content-Type isn\'t multipart/form-data'), why: rec.parse_error || `audio request with Content-Type ${JSON.stringify(req.headers['content-type'] ?? null)}`, hard: true };
      }
      if (!filePart) return { error: err(form.url ? 'mock: the url field is not supported, upload a file' : 'either file or url must be provided'), why: 'audio request without a file part', hard: true };
      if (filePart.data.length > 25 * 1024 * 1024) return { error: err('Request Entity Too Large', { status: 413, code: 'request_too_large' }), why: `file of ${filePart.data.length} bytes (over 25 MB)`, hard: true };
      if (fmt === 'srt' || fmt === 'vtt' || !['json', 'text', 'verbose_json'].includes(fmt)) return { error: err(`response_format must be one of [json text verbose_json], got ${fmt}`, { param: 'response_format' }), why: `response_format ${fmt} (Groq: json, text, verbose_json only)`, hard: true };
      const ext = String(filePart.filename).toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
      if (!AUDIO_EXTENSIONS.includes(ext)) return { error: err(`file must be one of the following types: [${AUDIO_EXTENSIONS.join(' ')}]`), why: `file name ${JSON.stringify(filePart.filename)} has no audio extension` };
      if (!first(form.model)) return { error: err('model is required', { param: 'model' }), why: 'audio request without model' };
      const prompt = first(form.prompt);
      if (typeof prompt === 'string' && prompt.length > 896) return { error: err(`prompt length must be 896 characters or fewer, but provided prompt contains ${prompt.length} characters`), why: `prompt of ${prompt.length} characters` };
      const t = first(form.temperature);
      if (t !== undefined && (t === '' || !Number.isFinite(Number(t)) || Number(t) < 0 || Number(t) > 1)) return { error: err(`temperature must be between 0 and 1, got ${t}`, { param: 'temperature' }), why: `temperature ${t}` };
      const badGran = grans.find((g) => g !== 'word' && g !== 'segment');
      if (badGran !== undefined) return { error: err(`timestamp_granularities must be one of [word segment], got ${badGran}`, { param: 'timestamp_granularities' }), why: `timestamp_granularities[] ${badGran}` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const data = filePart?.data ?? Buffer.alloc(0);
      const ct = filePart?.contentType || 'no content-type';
      const text = rule?.content ?? `Received ${data.length} bytes of ${filePart?.filename ?? '-'} (${ct}) sha256 ${sha256(data).slice(0, 16)}.`;
      const duration = Math.round((wavDuration(data) ?? data.length / 32000) * 1e6) / 1e6;
      rec.transcript = text;
      rec.duration = duration;
      const xg = { id: `req_${alnum(26)}` };
      if (fmt === 'text') return { body: text, contentType: 'text/plain; charset=utf-8' };
      if (fmt !== 'verbose_json') return { body: { text, x_groq: xg } };
      const words = text.split(/\s+/).filter(Boolean);
      const half = Math.max(1, Math.ceil(words.length / 2));
      const at = (i) => Math.round(((duration * i) / Math.max(1, words.length)) * 1000) / 1000;
      const temperature = Number(first(form.temperature) ?? 0) || 0;
      const seg = (id, from, to) => ({
        id,
        seek: 0,
        start: at(from),
        end: at(to),
        text: ` ${words.slice(from, to).join(' ')}`,
        tokens: words.slice(from, to).map((w) => 1000 + (parseInt(sha256(w).slice(0, 4), 16) % 49000)),
        temperature,
        avg_logprob: -0.21,
        compression_ratio: 1.05,
        no_speech_prob: 0.01,
      });
      const segments = words.length > 1 ? [seg(0, 0, half), seg(1, half, words.length)] : [seg(0, 0, words.length)];
      const lang = first(form.language);
      const out = { task: translate ? 'translate' : 'transcribe', language: translate ? 'english' : LANGUAGE_NAMES[String(lang || 'en').toLowerCase()] ?? String(lang).toLowerCase(), duration, text, segments };
      if (!translate && grans.includes('word')) out.words = words.map((w, i) => ({ word: w.replace(/[.,!?;:]+$/, ''), start: at(i), end: at(i + 1) }));
      out.x_groq = xg;
      return { body: out };
    });
  }

  // Cloudflare native run: POST .../ai/run/@cf/black-forest-labs/flux-1-schnell {prompt, steps?};
  // the Whisper models go to cloudflareWhisper.
  function cloudflareRun(req, res, rec, opts) {
    const { provider } = opts;
    const b = rec.body;
    const FLUX = '@cf/black-forest-labs/flux-1-schnell';
    const err = (msg, cfCode = 5006, status = 400) => providerMessage('cloudflare', status, msg, { cfCode });
    if (CF_WHISPER_MODELS[rec.model]) return cloudflareWhisper(req, res, rec, opts);
    const check = () => {
      if (rec.model !== FLUX) return { error: err(`No such model ${rec.model} or task`, 5007), why: `run model ${rec.model} is not emulated (only ${FLUX} and ${Object.keys(CF_WHISPER_MODELS).join(', ')})`, hard: true };
      if (rec.parse_error || !isObject(b)) return { error: err('AiError: Bad input: Error: must be object'), why: 'run body is not a JSON object', hard: true };
      if (typeof b.prompt !== 'string' || !b.prompt.length) return { error: err('AiError: Bad input: Error: must have required property \'prompt\''), why: 'flux-1-schnell without prompt', hard: true };
      rec.prompt = b.prompt;
      if (b.prompt.length > 2048) return { error: err('AiError: Bad input: Error: /prompt must NOT have more than 2048 characters'), why: `prompt of ${b.prompt.length} characters` };
      if (b.steps !== undefined && (!Number.isInteger(b.steps) || b.steps < 1)) return { error: err('AiError: Bad input: Error: /steps must be integer'), why: `steps ${JSON.stringify(b.steps)}` };
      if (b.steps > 8) return { error: err('AiError: Bad input: Error: /steps must be <= 8'), why: `steps ${b.steps} > 8` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      rec.outputs = [];
      const img = generatedImage(req, rec, makePng(64, 64, `${FLUX}\u0000${b.prompt}\u0000${b.steps ?? 4}`), false);
      return { body: { result: { image: img.b64_json }, success: true, errors: [], messages: [] } };
    });
  }

  // Cloudflare Whisper on the run route (endpoint transcription, or translation
  // for the turbo model's task "translate"):
  //   @cf/openai/whisper-large-v3-turbo  JSON {audio: base64, task?, language?, initial_prompt?, …}
  //     -> {result: {transcription_info, text, word_count, segments: [{…, words}], vtt}}
  //   @cf/openai/whisper                 the raw bytes (any Content-Type) or JSON {audio: [0..255]}
  //     -> {result: {text, word_count, words, vtt}}
  // wrapped in {result, success: true, errors: [], messages: []}; bad input is a
  // 400 {success: false, errors: [{code: 5006, message: "AiError: Bad input: …"}]}.
  function cloudflareWhisper(req, res, rec, { provider, binary }) {
    const turbo = rec.model.endsWith('-turbo');
    const spec = CF_WHISPER_MODELS[rec.model];
    const b = rec.body;
    const bad = (msg, why) => ({ error: providerMessage('cloudflare', 400, `AiError: Bad input: Error: ${msg}`, { cfCode: 5006 }), why, hard: true });
    const typeOf = (v) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
    // The audio first (even when a rule answers, the record says what arrived).
    let audio = null;
    let how = null;
    let inputError = null;
    if (binary) {
      // Cloudflare maps a raw body onto the schema's audio as bytes.
      if (spec.audio === 'array') {
        audio = binary;
        how = req.headers['content-type'] || 'no content-type';
      } else inputError = bad("Type mismatch of '/audio', 'array' not in 'string'", `raw ${binary.length}-byte body to ${rec.model}, which takes JSON with base64 audio`);
    } else if (!isObject(b)) inputError = bad('must be object', 'run body is not a JSON object');
    else if (b.audio === undefined || b.audio === null) inputError = bad("must have required property 'audio'", `${rec.model} without audio`);
    else if (typeOf(b.audio) !== spec.audio) inputError = bad(`Type mismatch of '/audio', '${typeOf(b.audio)}' not in '${spec.audio}'`, `audio is ${typeOf(b.audio)}, ${rec.model} takes ${spec.audio === 'string' ? 'a base64 string' : 'an array of bytes'}`);
    else if (spec.audio === 'string') {
      if (!b.audio.length) inputError = bad('/audio must NOT have fewer than 1 characters', 'empty audio');
      else if (b.audio.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.audio)) inputError = bad('/audio must be a base64 encoded string', 'audio is not padded standard base64');
      else {
        audio = Buffer.from(b.audio, 'base64');
        how = 'base64';
      }
    } else {
      const i = b.audio.findIndex((x) => !Number.isInteger(x) || x < 0 || x > 255);
      if (!b.audio.length) inputError = bad('/audio must NOT have fewer than 1 items', 'empty audio');
      else if (i >= 0) inputError = bad(`/audio/${i} must be integer <= 255 and >= 0`, `audio[${i}] = ${JSON.stringify(b.audio[i])}`);
      else {
        audio = Buffer.from(b.audio);
        how = 'array';
      }
    }
    if (audio) rec.upload = { bytes: audio.length, sha256: sha256(audio) };
    // Never the bytes in the record: the audio field becomes its summary.
    if (isObject(b) && b.audio !== undefined) rec.body = { ...b, audio: audio ? { ...rec.upload } : `<${typeOf(b.audio)}>` };
    const check = () => {
      if (inputError) return inputError;
      if (!isObject(b)) return null; // raw bytes: no options
      const extra = Object.keys(b).find((k) => !spec.keys.includes(k));
      if (extra !== undefined) return { ...bad('must NOT have additional properties'), why: `${rec.model} has no input "${extra}"`, hard: false };
      if (b.task !== undefined && b.task !== 'transcribe' && b.task !== 'translate') return { ...bad('/task must be equal to one of the allowed values'), why: `task ${JSON.stringify(b.task)}`, hard: false };
      for (const k of ['task', 'language', 'initial_prompt', 'prefix']) {
        if (b[k] !== undefined && typeof b[k] !== 'string') return { ...bad(`Type mismatch of '/${k}', '${typeOf(b[k])}' not in 'string'`), why: `${k} is ${typeOf(b[k])}`, hard: false };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const text = rule?.content ?? `Received ${audio.length} bytes of audio (${how}) sha256 ${sha256(audio).slice(0, 16)}.`;
      const duration = Math.round((wavDuration(audio) ?? audio.length / 32000) * 1e6) / 1e6;
      rec.transcript = text;
      rec.duration = duration;
      const words = text.split(/\s+/).filter(Boolean);
      const at = (i) => Math.round(((duration * i) / Math.max(1, words.length)) * 1000) / 1000;
      const envelope = (result) => ({ body: { result, success: true, errors: [], messages: [] } });
      if (!turbo) {
        const ws = words.map((w, i) => ({ word: w, start: at(i), end: at(i + 1) }));
        return envelope({ text, word_count: words.length, words: ws, vtt: webVtt(ws.map((w) => ({ ...w, text: w.word }))) });
      }
      // faster-whisper's shapes: segment texts and words start with a space.
      const half = Math.max(1, Math.ceil(words.length / 2));
      const seg = (from, to) => ({
        start: at(from),
        end: at(to),
        text: ` ${words.slice(from, to).join(' ')}`,
        temperature: 0,
        avg_logprob: -0.21,
        compression_ratio: 1.05,
        no_speech_prob: 0.01,
        words: words.slice(from, to).map((w, i) => ({ word: ` ${w}`, start: at(from + i), end: at(from + i + 1) })),
      });
      const segments = words.length > 1 ? [seg(0, half), seg(half, words.length)] : [seg(0, words.length)];
      const language = typeof b?.language === 'string' && b.language ? b.language.toLowerCase() : 'en';
      return envelope({
        transcription_info: { language, language_probability: b?.language ? 1 : 0.97, duration, duration_after_vad: duration },
        text,
        word_count: words.length,
        segments,
        vtt: webVtt(segments),
      });
    });
  }

  // Pollinations: GET /pollinations/image/{urlencoded prompt}?model=flux|turbo&width=&height=&seed=&nologo=true -> raw PNG.
  function pollinationsImage(req, res, rec, { provider, url, sub }) {
    const q = url.searchParams;
    const rawPrompt = sub.replace(/^\/(image|prompt)\//, '');
    const err = (msg) => providerMessage('pollinations', 400, msg);
    const models = new Set(['flux', 'turbo', ...(state.catalog.pollinations || []).filter((m) => m.kind === 'image').map((m) => m.id)]);
    let prompt = null;
    const check = () => {
      try {
        prompt = decodeURIComponent(rawPrompt);
      } catch {
        return { error: err('Invalid prompt encoding'), why: `prompt path ${rawPrompt.slice(0, 60)} is not valid percent-encoding`, hard: true };
      }
      rec.prompt = prompt;
      if (!prompt.trim()) return { error: err('A prompt is required'), why: 'empty prompt', hard: true };
      if (!models.has(rec.model)) return { error: err(`Invalid model: ${rec.model}. Available image models: ${[...models].join(', ')}`), why: `image model ${rec.model}` };
      for (const k of ['width', 'height', 'seed']) {
        const v = q.get(k);
        if (v !== null && !/^-?\d+$/.test(v)) return { error: err(`Invalid ${k}: ${v}`), why: `${k}=${v} is not an integer` };
      }
      for (const k of ['width', 'height']) {
        const v = q.get(k);
        if (v !== null && (Number(v) < 16 || Number(v) > 4096)) return { error: err(`Invalid ${k}: ${v} (16..4096)`), why: `${k}=${v} outside 16..4096` };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      const { width, height } = fitTo64(Number(q.get('width')) || 1024, Number(q.get('height')) || 1024);
      const png = makePng(width, height, `pollinations\u0000${rec.model}\u0000${prompt ?? rawPrompt}\u0000${q.get('seed') ?? ''}`);
      rec.outputs = [];
      generatedImage(req, rec, png, false);
      return { body: png, contentType: 'image/png', headers: { 'cache-control': 'public, max-age=31536000, immutable' } };
    });
  }

  const MEDIA_HANDLERS = { embed: openaiEmbeddings, image: openaiImages, transcription: openaiAudio, translation: openaiAudio, run: cloudflareRun };

  // Gemini dialect (google): tests/mock/gemini.mjs has the wire format, the
  // validation and the answers; this part does auth, rules and the transport.
  //   POST /v1beta/models/{model}:generateContent            (x-goog-api-key)
  //   POST /v1beta/models/{model}:streamGenerateContent?alt=sse
  //   GET  /v1beta/models  and  /v1beta/models/{model}
  //   POST /v1alpha/auth_tokens
  function sendGoogle(res, rec, e, extraHeaders = {}) {
    rec.status = e.status;
    sendJson(res, e.status, e.body, { 'x-request-id': `req_${alnum(26)}`, ...e.headers, ...lower(extraHeaders) });
  }

  async function handleGemini(req, res, rec, url) {
    const provider = 'google';
    const sub = rec.sub;
    const strict = state.config.strict;
    const headerKey = req.headers['x-goog-api-key'] || null;
    const queryKey = url.searchParams.get('key');
    rec.key = headerKey || queryKey || null;
    rec.alt = url.searchParams.get('alt');
    const chat = sub.match(/^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/);
    const emb = sub.match(/^\/(v1beta|v1)\/models\/([^/:]+):(embedContent|batchEmbedContents)$/);
    const one = !chat && sub.match(/^\/(v1beta|v1)\/models\/([^/:]+)$/);
    if (chat) {
      rec.model = decodeURIComponent(chat[2]);
      // image and TTS models answer generateContent with media: endpoints "image" / "speech"
      rec.endpoint = isTtsModel(rec.model) ? 'speech' : isImageModel(rec.model) ? 'image' : 'chat';
      rec.stream = chat[3] === 'streamGenerateContent';
    } else if (emb) {
      rec.endpoint = 'embed';
      rec.model = decodeURIComponent(emb[2]);
      rec.stream = false;
    } else if (/^\/(v1beta|v1)\/models\/?$/.test(sub)) {
      rec.endpoint = 'models';
      rec.model = null;
      rec.stream = false;
    } else if (one) {
      rec.endpoint = 'models';
      rec.model = decodeURIComponent(one[2]);
      rec.stream = false;
    } else {
      rec.endpoint = sub === '/v1alpha/auth_tokens' ? 'auth_token' : 'other';
      rec.model = null;
      rec.stream = false;
    }

    // The unified client key must never reach an upstream.
    if (/freellmapi-/i.test(JSON.stringify(req.headers) + req.url)) {
      rec.violation = 'the gateway\'s unified freellmapi- key was sent upstream';
      return sendProviderError(res, rec, provider, 'auth');
    }
    if (queryKey !== null) {
      rec.violation = 'API key sent in the URL (?key=): use the x-goog-api-key header';
      if (strict) return sendGoogle(res, rec, gErr(400, 'INVALID_ARGUMENT', 'mock: API keys in the URL query (?key=) are refused; send the x-goog-api-key header.'));
    }
    if (req.headers.authorization) {
      rec.violation = 'Authorization header sent to Gemini (it takes x-goog-api-key; a Bearer token is read as OAuth)';
      return sendGoogle(
        res,
        rec,
        gErr(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com', method: 'google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent' } },
        ]),
      );
    }
    if (!rec.key) {
      return sendGoogle(res, rec, gErr(403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.'));
    }
    if (!keyAccepted(provider, rec.key, null)) return sendProviderError(res, rec, provider, 'auth');

    if (rec.endpoint === 'models') {
      if (req.method !== 'GET') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const rule = takeRule({ provider, model: rec.model, key: rec.key, account: null, endpoint: 'models', stream: false });
      if (rule) {
        rec.rule = rule.id;
        if (rule.delay_ms) await wait(rule.delay_ms);
        if (rule.error) return sendProviderError(res, rec, provider, rule.error, rule);
      }
      const models = modelObjects(state.catalog.google || []);
      if (rec.model) {
        const m = models.find((x) => x.name === `models/${rec.model}`);
        if (!m) return sendProviderError(res, rec, provider, 'model_not_found', { ctx: { model: rec.model } });
        rec.status = 200;
        return sendJson(res, 200, m, { 'content-type': 'application/json; charset=UTF-8' });
      }
      const size = Math.min(1000, Math.max(1, Number(url.searchParams.get('pageSize')) || 50));
      const start = Number(Buffer.from(url.searchParams.get('pageToken') || '', 'base64').toString() || 0) || 0;
      const page = models.slice(start, start + size);
      const out = { models: page };
      if (start + size < models.length) out.nextPageToken = Buffer.from(String(start + size)).toString('base64');
      rec.status = 200;
      return sendJson(res, 200, out, { 'content-type': 'application/json; charset=UTF-8' });
    }
    if (rec.endpoint === 'auth_token') {
      if (req.method !== 'POST') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const check = () => {
        if (rec.parse_error) return { error: gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`), why: `body is not JSON: ${rec.parse_error}`, hard: true };
        return checkAuthToken(rec.body);
      };
      return runMedia(req, res, rec, provider, check, () => {
        const tok = mintAuthToken(rec.body);
        const b = rec.body && typeof rec.body === 'object' ? rec.body : {};
        rec.token = tok.name;
        state.tokens.set(tok.name, { ...tok, setup: b.bidiGenerateContentSetup ?? b.bidi_generate_content_setup ?? null, field_mask: b.fieldMask ?? b.field_mask ?? null, key: rec.key, seq: rec.seq, at: Date.now() });
        return { body: tok };
      });
    }
    if (rec.endpoint === 'embed') {
      if (req.method !== 'POST') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const method = emb[3];
      let items = [];
      const check = () => {
        if (rec.parse_error) return { error: gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`), why: `body is not JSON: ${rec.parse_error}`, hard: true };
        const r = checkGeminiEmbed(rec.model, method, rec.body);
        items = r.items;
        rec.texts = items.map((i) => i.text);
        return r.problem;
      };
      return runMedia(req, res, rec, provider, check, () => {
        rec.dimensions = items.map((i) => i.dims);
        return { body: geminiEmbedAnswer(rec.model, method, items) };
      });
    }
    if (!['chat', 'image', 'speech'].includes(rec.endpoint) || req.method !== 'POST') {
      return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `mock: no such Gemini method: ${req.method} ${sub}`));
    }
    if (rec.parse_error) {
      rec.violation = `body is not JSON: ${rec.parse_error}`;
      return sendGoogle(res, rec, gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`));
    }
    if (rec.stream && rec.alt !== 'sse') (rec.warnings ||= []).push('streamGenerateContent without alt=sse: the answer is one JSON array, not SSE');

    const rule = await takeRuleAndWait(req, res, rec, { provider, model: rec.model, key: rec.key, account: null, endpoint: rec.endpoint, stream: rec.stream });
    if (rule === GONE) return;
    // Validation always runs (it records sig_checks and inline_data); strict mode enforces it.
    let v = validateGemini(rec.model, rec.body, rec, state.signatures, { strict });
    if (!v && rec.endpoint !== 'chat') {
      // image / TTS models: modalities, voice, aspect ratio
      v = checkGeminiMedia(rec.endpoint, rec.model, rec.body);
      if (v && !rule?.error && !rule?.drop) rec.violation = v.why;
    }
    if (v && strict && !rule?.error && !rule?.drop) {
      rec.violation = v.why;
      rec.outcome = 'error';
      return sendGoogle(res, rec, v.error);
    }
    return geminiAnswer(req, res, rec, rule);
  }

  async function geminiAnswer(req, res, rec, rule) {
    const provider = 'google';
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;
    if (answerByRule(req, res, rec, provider, rule)) return;
    const a = rec.endpoint === 'image' || rec.endpoint === 'speech' ? buildGeminiMediaAnswer(rec.endpoint, rec.model, rec.body || {}, rule, state, rec) : buildGeminiAnswer(rec.model, rec.body || {}, rule, state);
    rec.issued = a.issued;
    const headers = { 'x-request-id': `req_${alnum(26)}`, server: 'scaffolding on HTTPServer2', 'server-timing': 'gfet4t7; dur=412', vary: 'Origin, X-Origin, Referer', ...lower(rule?.headers) };
    rec.status = 200;

    if (!rec.stream) {
      return sendWhole(res, rec, rule, aborted, JSON.stringify(responseObject(a)), headers, 'application/json; charset=UTF-8');
    }

    const sse = rec.alt === 'sse';
    res.writeHead(200, { ...headers, 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8', 'content-disposition': 'attachment', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (rule?.stall_after_headers_ms) {
      await wait(rule.stall_after_headers_ms);
      if (aborted()) return;
    }
    const evs = streamChunks(a);
    const frame = (obj, i) => (sse ? `data: ${JSON.stringify(obj)}\r\n\r\n` : `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(obj)}`);
    const delay = rule?.chunk_delay_ms ?? 0;
    let sent = 0;
    for (let i = 0; i <= evs.length; i++) {
      if (aborted()) return;
      if (rule?.cut_after === sent) {
        rec.outcome = 'cut';
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (rule?.inband_error_after === sent) {
        const ev = typeof rule.inband_error === 'object' && rule.inband_error ? rule.inband_error : inbandError(provider, rec.model);
        res.end(frame(ev, sent) + (sse ? '' : ']'));
        rec.outcome = 'inband_error';
        return;
      }
      if (rule?.malformed_after === sent) await write(res, rule.malformed_frame ?? 'data: {"candidates": [{"content": {"parts": [{"text": "bro\r\n\r\n');
      if (i === evs.length) break;
      if (delay && i > 0) {
        await wait(delay);
        if (aborted()) return;
      }
      await write(res, frame(evs[i], i));
      sent++;
    }
    res.end(sse ? '' : ']');
    rec.outcome = 'ok';
  }

  // Static files for image-URL tests: GET /assets/<name>.png|.jpg|.webp (a tiny
  // real image), .html / .txt (not an image), /assets/redirect?to=URL (302).
  // Every fetch is recorded as provider "assets", endpoint "asset", so a test
  // can prove the gateway fetched (or did not fetch) a URL.
  function handleAsset(req, res, url) {
    const name = url.pathname.slice('/assets/'.length);
    const rec = record({ at: Date.now(), provider: 'assets', method: req.method, path: url.pathname, sub: `/${name}`, query: Object.fromEntries(url.searchParams), endpoint: 'asset', headers: { ...req.headers }, key: null, body: null, model: null, stream: false, status: null, outcome: 'ok', violation: null });
    if (log) process.stderr.write(`[mock] #${rec.seq} ${req.method} ${url.pathname} (asset)\n`);
    if (name === 'redirect') {
      rec.status = 302;
      res.writeHead(302, { location: url.searchParams.get('to') || '/assets/pixel.png', 'content-length': 0 });
      return res.end();
    }
    const gen = name.match(/^generated\/([\w-]+)\.png$/);
    if (gen) {
      const png = state.generated.get(gen[1]);
      if (!png) {
        rec.status = 404;
        return sendJson(res, 404, 'not found');
      }
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'cache-control': 'no-store' });
      return res.end(req.method === 'HEAD' ? undefined : png);
    }
    const ext = (name.match(/\.(\w+)$/) || [])[1];
    const a = ASSETS[ext];
    if (!a) {
      rec.status = 404;
      return sendJson(res, 404, 'not found');
    }
    rec.status = 200;
    res.writeHead(200, { 'content-type': a.type, 'content-length': a.bytes.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : a.bytes);
  }

  // ---- control API ----

  function filterRequests(q) {
    let out = state.requests;
    const f = (name, fn) => {
      const v = q.get(name);
      if (v !== null && v !== '') out = out.filter((r) => fn(r, v));
    };
    f('provider', (r, v) => r.provider === v);
    f('model', (r, v) => r.model === v);
    f('key', (r, v) => r.key === v);
    f('endpoint', (r, v) => r.endpoint === v);
    f('since', (r, v) => r.seq > Number(v));
    f('violations', (r, v) => (v === '1' || v === 'true' ? Boolean(r.violation) : true));
    return out;
  }

  async function control(req, res, url, rawBody) {
    const p = url.pathname.replace(/^\/__mock/, '');
    let body = {};
    if (rawBody.length) {
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'control body is not JSON' });
      }
    }
    try {
      if (p === '/health') return sendJson(res, 200, { ok: true, port: server.address().port, seq: state.seq });
      if (p === '/providers') return sendJson(res, 200, { providers: state.providers, base_paths: state.basePaths, error_kinds: ERROR_KINDS });
      if (p === '/script') {
        if (req.method === 'GET') return sendJson(res, 200, { rules: state.rules });
        if (req.method === 'DELETE') {
          state.rules = [];
          return sendJson(res, 200, { ok: true });
        }
        const list = Array.isArray(body) ? body : Array.isArray(body.rules) ? body.rules : [body];
        const ids = list.map(addRule);
        return sendJson(res, 200, { ids });
      }
      if (p === '/requests') {
        if (req.method === 'DELETE') {
          state.requests = [];
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { requests: filterRequests(url.searchParams) });
      }
      if (p === '/reset') {
        state.rules = [];
        state.requests = [];
        state.signatures.clear();
        state.tokens.clear();
        state.generated.clear();
        if (body.keys) state.keys = {};
        if (body.config) state.config = { strict: true, default_content: null, latency_ms: 0 };
        return sendJson(res, 200, { ok: true });
      }
      if (p === '/keys') {
        if (req.method === 'POST') {
          for (const [prov, list] of Object.entries(body)) {
            if (!state.providers[prov]) throw new Error(`unknown provider "${prov}"`);
            if (list === null) delete state.keys[prov];
            else state.keys[prov] = list;
          }
        }
        return sendJson(res, 200, { keys: state.keys });
      }
      if (p === '/signatures') {
        if (req.method === 'DELETE') {
          state.signatures.clear();
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { signatures: [...state.signatures].map(([signature, v]) => ({ signature, ...v })) });
      }
      if (p === '/tokens') {
        if (req.method === 'DELETE') {
          state.tokens.clear();
          return sendJson(res, 200, { ok: true });
        }
        return sendJson(res, 200, { tokens: [...state.tokens.values()] });
      }
      if (p === '/config') {
        if (req.method === 'POST') Object.assign(state.config, body);
        return sendJson(res, 200, { config: state.config });
      }
      return sendJson(res, 404, { error: `unknown control path ${p}` });
    } catch (e) {
      return sendJson(res, 400, { error: String(e.message || e) });
    }
  }

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
    if (endpoint !== 'chat' || req.method !== 'POST') {
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
    if (!rule?.error && !rule?.drop && state.config.strict) {
      const v = validate(provider, body);
      if (v) {
        rec.violation = v.why;
        if (v.override) return sendProviderError(res, rec, provider, v.override);
        return sendProviderError(res, rec, provider, v.kind, { ctx: v.ctx });
      }
    }
    return handleChat(req, res, rec, { provider, rule });
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
