// What every surface of the mock shares: ids, the catalog, request checks of the OpenAI dialect.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { providersOf, MISTRAL_KEYS, MISTRAL_TOOL_ID } from './providers.mjs';
import { sha256 } from './media.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const GONE = Symbol('client gone');
export const MAX_BODY = 64 * 1024 * 1024;
export const MAX_RECORDS = 5000;

export const alnum = (n) => {
  const cs = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += cs[b[i] % cs.length];
  return s;
};
export const nowSec = () => Math.floor(Date.now() / 1000);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The catalog the mock serves: models per provider, and the providers themselves.
export function loadCatalog(p) {
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

export function toolCallId(provider) {
  return provider === 'mistral' ? alnum(9) : `call_${alnum(24)}`;
}

export function completionId(provider) {
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
export function lastUserText(messages) {
  for (let i = (messages || []).length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) return m.content.filter((p) => p && p.type === 'text').map((p) => p.text).join(' ');
    return '';
  }
  return '';
}

export const safeDecode = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Record-friendly view of multipart parts: form (text fields; a name ending in
 * [] or sent twice becomes an array), files ([{name, filename, content_type,
 * bytes, sha256}]), upload (the part named "file"), body (form plus file
 * summaries under their field names), parts (with the bytes; not recorded).
 */
export function summarizeMultipart(parts) {
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

export const estTokens = (s) => Math.max(1, Math.ceil(String(s ?? '').length / 4));

export function imageCount(messages) {
  let n = 0;
  for (const m of messages || []) {
    if (Array.isArray(m.content)) for (const p of m.content) if (p && p.type === 'image_url') n++;
  }
  return n;
}

// ---- strict per-provider request validation (the real providers' quirks) ----

export function hasArrayContent(messages) {
  return (messages || []).some((m) => Array.isArray(m?.content));
}
export function schemaHasKeys(obj, keys) {
  if (!obj || typeof obj !== 'object') return null;
  for (const [k, v] of Object.entries(obj)) {
    if (keys.includes(k)) return k;
    const sub = schemaHasKeys(v, keys);
    if (sub) return sub;
  }
  return null;
}

/** Returns null when the body is acceptable, else {kind, ctx?, override?, why}. */
export function validate(provider, body) {
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
