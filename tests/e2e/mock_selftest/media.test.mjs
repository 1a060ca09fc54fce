// Self-test of the mock's media surfaces (tests/mock), hitting them directly
// with fetch / FormData: Gemini embedContent / batchEmbedContents, image and
// TTS models on generateContent, v1alpha/auth_tokens; the OpenAI-dialect
// embeddings, images/generations and audio transcriptions/translations;
// Cloudflare's native runs of flux-1-schnell and the two Whisper models;
// Pollinations' image GET. Checks the
// shapes, each provider's error bodies, the PNG / PCM bytes (signature, CRCs,
// sizes), what is recorded, and scripted faults. Needs no gateway binary.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { BASE_PATHS, PROVIDER_IDS, sseData, sineWav } from '../lib/harness.mjs';
import { freshMockPerTest } from './fresh_mock.mjs';

const wav = sineWav;

let mock;
const T = { timeout: 20000 };
const GKEY = 'AIzaSyE2E-mock-media-0001';
const OPENAI_PROVIDERS = PROVIDER_IDS.filter((p) => p !== 'google');
const base = (id, account = 'acc123') => `${mock.url}/${id}${BASE_PATHS[id].replace('{account_id}', account)}`;
const gurl = (model, method) => `${mock.url}/google/v1beta/models/${model}:${method}`;
const sha = (b) => createHash('sha256').update(b).digest('hex');

async function call(url, { method = 'POST', body, headers = {}, form } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(10000) };
  if (form) init.body = form;
  else if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const r = await fetch(url, init);
  const buf = Buffer.from(await r.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    /* binary or text */
  }
  return { status: r.status, headers: r.headers, buf, text: buf.toString('utf8'), json };
}
const gpost = (model, method, body, headers = { 'x-goog-api-key': GKEY }) => call(gurl(model, method), { body, headers });
const opost = (provider, path, body, key = 'sk-test-media') => call(`${base(provider)}${path}`, { body, headers: key ? { authorization: `Bearer ${key}` } : {} });
const lastRec = async (filter) => (await mock.requests(filter)).at(-1);

// ---- independent checks of the binary answers ----

// Bitwise CRC-32 (no table), independent of the mock's implementation.
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Asserts a well-formed RGB8 PNG (signature, chunk CRCs, IHDR..IEND, IDAT inflates to the right size); returns {width, height}. */
function checkPng(buf) {
  assert.ok(Buffer.isBuffer(buf) && buf.length > 33, 'PNG too short');
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let pos = 8;
  const types = [];
  let ihdr = null;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    assert.equal(buf.readUInt32BE(pos + 8 + len), crc32(buf.subarray(pos + 4, pos + 8 + len)), `CRC of ${type}`);
    types.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  assert.equal(pos, buf.length, 'no trailing bytes');
  assert.equal(types[0], 'IHDR');
  assert.equal(types.at(-1), 'IEND');
  assert.ok(idat.length >= 1);
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.equal(ihdr[8], 8, 'bit depth');
  assert.equal(ihdr[9], 2, 'colour type RGB');
  assert.equal(zlib.inflateSync(Buffer.concat(idat)).length, (width * 3 + 1) * height, 'IDAT size');
  return { width, height };
}


function audioForm(file, { filename = 'speech.wav', type = 'audio/wav', fields = {} } = {}) {
  const fd = new FormData();
  if (file) fd.append('file', new Blob([file], { type }), filename);
  for (const [k, v] of Object.entries(fields)) for (const x of [].concat(v)) fd.append(k, x);
  return fd;
}
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const ttsBody = (text, voice = 'Kore', mods = ['AUDIO']) => ({ contents: [{ parts: [{ text }] }], generationConfig: { responseModalities: mods, speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: voice } } } } });

describe('mock media surfaces (direct)', () => {
  freshMockPerTest(T, (m) => {
    mock = m;
  });

  // ---- Gemini ------------------------------------------------------------------------------

  test('Gemini embedContent: deterministic unit vector, default 3072, outputDimensionality; recorded as endpoint embed', T, async () => {
    const body = { content: { parts: [{ text: 'The quick brown fox' }] }, taskType: 'RETRIEVAL_DOCUMENT', title: 'Fox' };
    const a = await gpost('gemini-embedding-001', 'embedContent', body);
    assert.equal(a.status, 200, a.text);
    const v = a.json.embedding.values;
    assert.equal(v.length, 3072);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
    const b = await gpost('gemini-embedding-001', 'embedContent', body);
    assert.deepEqual(b.json.embedding.values, v, 'same text -> same vector');
    const c = await gpost('gemini-embedding-001', 'embedContent', { content: { parts: [{ text: 'another text' }] } });
    assert.notDeepEqual(c.json.embedding.values.slice(0, 8), v.slice(0, 8));
    const d = await gpost('gemini-embedding-001', 'embedContent', { ...body, outputDimensionality: 768 });
    assert.equal(d.json.embedding.values.length, 768);
    assert.ok(Math.abs(norm(d.json.embedding.values) - 1) < 1e-5);
    const rec = await lastRec({ provider: 'google', endpoint: 'embed' });
    assert.equal(rec.model, 'gemini-embedding-001');
    assert.deepEqual(rec.texts, ['The quick brown fox']);
    assert.deepEqual(rec.dimensions, [768]);
    // auth as on every Gemini call
    const nokey = await gpost('gemini-embedding-001', 'embedContent', body, {});
    assert.equal(nokey.status, 403);
    assert.equal(nokey.json.error.status, 'PERMISSION_DENIED');
    await mock.setKeys({ google: ['AIza-good'] });
    const badkey = await gpost('gemini-embedding-001', 'embedContent', body);
    assert.equal(badkey.status, 400);
    assert.equal(badkey.json.error.details[0].reason, 'API_KEY_INVALID');
  });

  test('Gemini batchEmbedContents: order kept; requests[].model must be models/{URL model}; 100 max; no token arrays; non-embedding model 404', T, async () => {
    const req = (text, model = 'models/gemini-embedding-001') => ({ model, content: { parts: [{ text }] }, outputDimensionality: 16 });
    const ok = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: [req('first'), req('second')] });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.embeddings.length, 2);
    const single = await gpost('gemini-embedding-001', 'embedContent', { content: { parts: [{ text: 'second' }] }, outputDimensionality: 16 });
    assert.deepEqual(ok.json.embeddings[1].values, single.json.embedding.values, 'batch item = single call');
    assert.deepEqual((await lastRec({ endpoint: 'embed' })).texts, ['second']);

    const mismatch = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: [req('x', 'models/text-embedding-004')] });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.error.status, 'INVALID_ARGUMENT');
    assert.match((await lastRec({ endpoint: 'embed' })).violation, /does not match the URL model/);
    const bare = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: [req('x', 'gemini-embedding-001')] });
    assert.equal(bare.status, 400);
    assert.match(bare.json.error.message, /requests\[0\]\.model: unexpected model name format/);

    const many = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: Array.from({ length: 101 }, (_, i) => req(`t${i}`)) });
    assert.equal(many.status, 400);
    assert.equal(many.json.error.message, '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n');
    const hundred = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: Array.from({ length: 100 }, (_, i) => req(`t${i}`)) });
    assert.equal(hundred.status, 200);

    const tokens = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: [9906, 1917] }] } }] });
    assert.equal(tokens.status, 400);
    assert.match(tokens.json.error.message, /Proto field is not repeating/);
    const unknown = await gpost('gemini-embedding-001', 'embedContent', { input: 'hi' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error.message, /Unknown name "input"/);

    const chatModel = await gpost('gemini-2.5-flash', 'embedContent', { content: { parts: [{ text: 'x' }] } });
    assert.equal(chatModel.status, 404);
    assert.match(chatModel.json.error.message, /models\/gemini-2.5-flash is not found for API version v1beta, or is not supported for embedContent/);

    // strict off: a mismatched model is answered, the violation still recorded
    await mock.config({ strict: false });
    const lax = await gpost('gemini-embedding-001', 'batchEmbedContents', { requests: [req('x', 'models/other-embedding')] });
    assert.equal(lax.status, 200);
    assert.match((await lastRec({ endpoint: 'embed' })).violation, /does not match/);
  });

  test('Gemini image model: text + real PNG sized by aspectRatio, colours by prompt; text only without IMAGE modality', T, async () => {
    const body = (prompt, ar = '16:9', mods = ['TEXT', 'IMAGE']) => ({ contents: [{ role: 'user', parts: [{ text: prompt }] }], generationConfig: { responseModalities: mods, imageConfig: { aspectRatio: ar } } });
    const r = await gpost('gemini-2.5-flash-image', 'generateContent', body('A watercolor fox'));
    assert.equal(r.status, 200, r.text);
    const parts = r.json.candidates[0].content.parts;
    assert.equal(typeof parts[0].text, 'string');
    assert.equal(parts[1].inlineData.mimeType, 'image/png');
    const png = Buffer.from(parts[1].inlineData.data, 'base64');
    assert.deepEqual(checkPng(png), { width: 64, height: 36 });
    assert.equal(r.json.candidates[0].finishReason, 'STOP');
    assert.ok(r.json.usageMetadata.candidatesTokensDetails.some((d) => d.modality === 'IMAGE'));
    const rec = await lastRec({ provider: 'google' });
    assert.equal(rec.endpoint, 'image');
    assert.equal(rec.prompt, 'A watercolor fox');
    assert.deepEqual(rec.outputs, [{ mimeType: 'image/png', width: 64, height: 36, bytes: png.length, sha256: sha(png) }]);

    const square = await gpost('gemini-2.5-flash-image', 'generateContent', body('A watercolor fox', '1:1'));
    assert.deepEqual(checkPng(Buffer.from(square.json.candidates[0].content.parts[1].inlineData.data, 'base64')), { width: 64, height: 64 });
    const tall = await gpost('gemini-2.5-flash-image', 'generateContent', body('A watercolor fox', '9:16'));
    assert.deepEqual(checkPng(Buffer.from(tall.json.candidates[0].content.parts[1].inlineData.data, 'base64')), { width: 36, height: 64 });
    const again = await gpost('gemini-2.5-flash-image', 'generateContent', body('A watercolor fox'));
    assert.equal(again.json.candidates[0].content.parts[1].inlineData.data, parts[1].inlineData.data, 'same prompt -> same bytes');
    const other = await gpost('gemini-2.5-flash-image', 'generateContent', body('A neon city at night'));
    assert.notEqual(other.json.candidates[0].content.parts[1].inlineData.data, parts[1].inlineData.data, 'other prompt -> other bytes');

    // no IMAGE in responseModalities (or none at all): text only, like the real API
    const textOnly = await gpost('gemini-2.5-flash-image', 'generateContent', { contents: [{ role: 'user', parts: [{ text: 'A fox' }] }] });
    assert.equal(textOnly.status, 200);
    assert.ok(textOnly.json.candidates[0].content.parts.every((p) => !p.inlineData));
    // bad aspect ratio, AUDIO modality: Google's 400
    const badAr = await gpost('gemini-2.5-flash-image', 'generateContent', body('x', '7:5'));
    assert.equal(badAr.status, 400);
    assert.match((await lastRec({ provider: 'google' })).violation, /aspectRatio/);
    const audio = await gpost('gemini-2.5-flash-image', 'generateContent', body('x', '1:1', ['AUDIO']));
    assert.equal(audio.status, 400);
    assert.match(audio.json.error.message, /response modalities/);
    // a non-STOP finish reason withholds the image (the gateway's "no image" path)
    await mock.script({ provider: 'google', endpoint: 'image', finish_reason: 'IMAGE_SAFETY' });
    const safety = await gpost('gemini-2.5-flash-image', 'generateContent', body('x'));
    assert.equal(safety.json.candidates[0].finishReason, 'IMAGE_SAFETY');
    assert.ok(!(safety.json.candidates[0].content?.parts || []).some((p) => p.inlineData));
    // streamed: the image arrives in a chunk of its own
    const s = await call(`${gurl('gemini-2.5-flash-image', 'streamGenerateContent')}?alt=sse`, { body: body('A fox'), headers: { 'x-goog-api-key': GKEY } });
    const evs = sseData(s.text).map((d) => JSON.parse(d));
    const img = evs.flatMap((e) => e.candidates[0].content?.parts || []).find((p) => p.inlineData);
    checkPng(Buffer.from(img.inlineData.data, 'base64'));
  });

  test('Gemini image edit: input inlineData images are recorded (mime, bytes, sha256) and change the output', T, async () => {
    const input = Buffer.from((await call(`${base('groq')}/images/generations`, { body: { model: 'm', prompt: 'seed image' }, headers: { authorization: 'Bearer k' } })).json.data[0].b64_json, 'base64');
    const body = (img) => ({ contents: [{ role: 'user', parts: [{ text: 'Make the sky purple' }, { inlineData: { mimeType: 'image/png', data: img.toString('base64') } }] }], generationConfig: { responseModalities: ['TEXT', 'IMAGE'] } });
    const r = await gpost('gemini-2.5-flash-image', 'generateContent', body(input));
    assert.equal(r.status, 200, r.text);
    const rec = await lastRec({ provider: 'google', endpoint: 'image' });
    assert.deepEqual(rec.inline_data, [{ content: 0, part: 1, mimeType: 'image/png', bytes: input.length, sha256: sha(input) }]);
    const out = Buffer.from(r.json.candidates[0].content.parts.find((p) => p.inlineData).inlineData.data, 'base64');
    checkPng(out);
    const other = Buffer.concat([input.subarray(0, input.length - 1), Buffer.from([input.at(-1) ^ 1])]);
    const r2 = await gpost('gemini-2.5-flash-image', 'generateContent', body(other));
    const out2 = Buffer.from(r2.json.candidates[0].content.parts.find((p) => p.inlineData).inlineData.data, 'base64');
    assert.notEqual(sha(out2), sha(out));
  });

  test('Gemini TTS: AUDIO modality + one of the 30 voices (case-sensitive) -> base64 PCM s16le 24 kHz, 60 ms per character', T, async () => {
    const text = 'Have a wonderful day!';
    const r = await gpost('gemini-2.5-flash-preview-tts', 'generateContent', ttsBody(text, 'Puck'));
    assert.equal(r.status, 200, r.text);
    const part = r.json.candidates[0].content.parts[0];
    assert.equal(part.inlineData.mimeType, 'audio/L16;codec=pcm;rate=24000');
    const pcm = Buffer.from(part.inlineData.data, 'base64');
    assert.equal(pcm.length % 2, 0, 'whole 16-bit samples');
    assert.equal(pcm.length / 2, Math.round(Math.max(0.3, text.length * 0.06) * 24000));
    assert.ok(pcm.readInt16LE(200) !== 0, 'not silence');
    const rec = await lastRec({ provider: 'google' });
    assert.equal(rec.endpoint, 'speech');
    assert.equal(rec.voice, 'Puck');
    assert.equal(rec.text, text);
    assert.equal(rec.outputs[0].bytes, pcm.length);
    // short text: at least 0.3 s; long text: at most 10 s
    const short = Buffer.from((await gpost('gemini-2.5-flash-preview-tts', 'generateContent', ttsBody('Hi'))).json.candidates[0].content.parts[0].inlineData.data, 'base64');
    assert.equal(short.length, 0.3 * 24000 * 2);
    const long = Buffer.from((await gpost('gemini-2.5-flash-preview-tts', 'generateContent', ttsBody('x'.repeat(400)))).json.candidates[0].content.parts[0].inlineData.data, 'base64');
    assert.equal(long.length, 10 * 24000 * 2);

    for (const [body, why] of [
      [ttsBody(text, 'kore'), /case-sensitive/],
      [ttsBody(text, 'alloy'), /not one of the 30/],
      [{ contents: [{ parts: [{ text }] }], generationConfig: { responseModalities: ['AUDIO'] } }, /without speechConfig/],
      [ttsBody(text, 'Kore', ['TEXT']), /responseModalities/],
    ]) {
      const e = await gpost('gemini-2.5-flash-preview-tts', 'generateContent', body);
      assert.equal(e.status, 400, JSON.stringify(body));
      assert.equal(e.json.error.status, 'INVALID_ARGUMENT');
      assert.match((await lastRec({ provider: 'google' })).violation, why);
    }
    const noAudio = await gpost('gemini-2.5-flash-preview-tts', 'generateContent', ttsBody(text, 'Kore', ['TEXT']));
    assert.match(noAudio.json.error.message, /The requested combination of response modalities \(TEXT\) is not supported by the model/);
  });

  test('Gemini auth_tokens: body checks with Google 400s; minted tokens listed by /__mock/tokens, cleared by reset', T, async () => {
    const post = (body) => call(`${mock.url}/google/v1alpha/auth_tokens`, { body, headers: { 'x-goog-api-key': GKEY } });
    const soon = (min) => new Date(Date.now() + min * 60e3).toISOString();
    const setup = { model: 'models/gemini-live-2.5-flash-preview', generationConfig: { responseModalities: ['AUDIO'] }, tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] }] };
    const body = { uses: 1, expireTime: soon(30), newSessionExpireTime: soon(1), bidiGenerateContentSetup: setup };
    const r = await post(body);
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.name, /^auth_tokens\/\w{20,}$/);
    assert.equal(r.json.uses, 1);
    assert.equal(r.json.expireTime, body.expireTime);
    assert.equal(r.json.newSessionExpireTime, body.newSessionExpireTime);
    const rec = await lastRec({ endpoint: 'auth_token' });
    assert.deepEqual(rec.body, body);
    assert.equal(rec.token, r.json.name);
    const { tokens } = await mock.call('GET', '/tokens');
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0].name, r.json.name);
    assert.deepEqual(tokens[0].setup, setup);
    // defaults: uses 1, expireTime ~30 min, newSessionExpireTime ~60 s
    const d = await post({});
    assert.equal(d.json.uses, 1);
    assert.ok(Math.abs(Date.parse(d.json.expireTime) - Date.now() - 30 * 60e3) < 10e3);
    assert.ok(Math.abs(Date.parse(d.json.newSessionExpireTime) - Date.now() - 60e3) < 10e3);

    for (const [bad, re] of [
      [{ expireTime: '2026-05-01 12:30' }, /Invalid value at 'expire_time' \(type.googleapis.com\/google.protobuf.Timestamp\)/],
      [{ newSessionExpireTime: soon(21 * 60) }, /less than 20 hours/],
      [{ uses: 1.5 }, /Invalid value at 'uses' \(TYPE_INT32\), 1.5/],
      [{ bidiGenerateContentSetup: { ...setup, model: 'gemini-live-2.5-flash-preview' } }, /unexpected model name format/],
      [{ bidiGenerateContentSetup: { ...setup, tools: [{ functionDeclarations: [{ name: 'get weather!' }] }] } }, /Invalid function name/],
      [{ liveConnectConstraints: { model: 'x' } }, /Unknown name "liveConnectConstraints"/],
      [{ bidiGenerateContentSetup: { model: 'models/x', config: {} } }, /Unknown name "config" at 'bidi_generate_content_setup'/],
    ]) {
      const e = await post(bad);
      assert.equal(e.status, 400, JSON.stringify(bad));
      assert.equal(e.json.error.status, 'INVALID_ARGUMENT');
      assert.match(e.json.error.message, re);
    }
    assert.equal((await mock.call('GET', '/tokens')).tokens.length, 2, 'refused bodies mint nothing');
    await mock.reset();
    assert.deepEqual((await mock.call('GET', '/tokens')).tokens, []);
    // rules target endpoint auth_token
    await mock.script({ provider: 'google', endpoint: 'auth_token', error: 'rate_limit_minute' });
    const limited = await post({});
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.status, 'RESOURCE_EXHAUSTED');
  });

  // ---- OpenAI dialect ------------------------------------------------------------------------

  test('embeddings on every OpenAI-dialect provider: list shape, index order, usage; same text -> same vector', T, async () => {
    for (const p of OPENAI_PROVIDERS) {
      const body = { model: 'text-embedding-3-small', input: ['alpha', 'beta'], ...(p === 'nvidia' ? { input_type: 'query' } : {}) };
      const r = await opost(p, '/embeddings', body);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.equal(r.json.object, 'list');
      assert.equal(r.json.model, 'text-embedding-3-small');
      assert.deepEqual(r.json.data.map((d) => [d.object, d.index, d.embedding.length]), [['embedding', 0, 1536], ['embedding', 1, 1536]], p);
      assert.ok(r.json.usage.prompt_tokens > 0 && r.json.usage.prompt_tokens === r.json.usage.total_tokens);
      const rec = await lastRec({ provider: p, endpoint: 'embed' });
      assert.deepEqual(rec.texts, ['alpha', 'beta'], p);
      assert.equal(rec.model, 'text-embedding-3-small');
    }
    const cf = await lastRec({ provider: 'cloudflare', endpoint: 'embed' });
    assert.equal(cf.path, '/cloudflare/client/v4/accounts/acc123/ai/v1/embeddings');
    assert.equal(cf.account_id, 'acc123');
    const a = await opost('groq', '/embeddings', { model: 'text-embedding-3-small', input: 'beta' });
    const b = await opost('mistral', '/embeddings', { model: 'text-embedding-3-small', input: ['x', 'beta'] });
    assert.deepEqual(a.json.data[0].embedding, b.json.data[1].embedding, 'same model + text -> same vector');
    assert.ok(Math.abs(norm(a.json.data[0].embedding) - 1) < 1e-5);
  });

  test('embeddings: input kinds, base64 = little-endian float32, per-model dimensions, dimensions only on text-embedding-3', T, async () => {
    const dims = { 'mistral-embed': 1024, 'text-embedding-3-large': 3072, '@cf/baai/bge-m3': 1024, '@cf/google/embeddinggemma-300m': 768, '@cf/qwen/qwen3-embedding-0.6b': 1024, 'embed-v4.0': 1536, 'openai/text-embedding-3-small': 1536, 'some-other-embed': 768 };
    for (const [model, n] of Object.entries(dims)) {
      const r = await opost('openrouter', '/embeddings', { model, input: 'x' });
      assert.equal(r.json.data[0].embedding.length, n, model);
    }
    for (const [model, n] of Object.entries({ 'nvidia/nv-embedqa-e5-v5': 1024, 'nvidia/llama-nemotron-embed-1b-v2': 2048, 'nvidia/llama-nemotron-embed-vl-1b-v2': 2048 })) {
      const r = await opost('nvidia', '/embeddings', { model, input: 'x', input_type: 'passage' });
      assert.equal(r.json.data[0].embedding.length, n, model);
    }
    // number[] is one pre-tokenised input, number[][] several
    const t1 = await opost('groq', '/embeddings', { model: 'mistral-embed', input: [9906, 1917] });
    assert.equal(t1.json.data.length, 1);
    assert.equal(t1.json.usage.prompt_tokens, 2);
    const t2 = await opost('groq', '/embeddings', { model: 'mistral-embed', input: [[9906, 1917], [1, 2, 3]] });
    assert.equal(t2.json.data.length, 2);
    assert.deepEqual(t2.json.data[0].embedding, t1.json.data[0].embedding);
    assert.deepEqual((await lastRec({ endpoint: 'embed' })).texts, ['tokens:9906,1917', 'tokens:1,2,3']);
    const mixed = await opost('groq', '/embeddings', { model: 'mistral-embed', input: ['a', 1] });
    assert.equal(mixed.status, 400);

    // base64 decodes to the float answer
    const f = await opost('cohere', '/embeddings', { model: 'embed-v4.0', input: ['one', 'two'] });
    const b = await opost('cohere', '/embeddings', { model: 'embed-v4.0', input: ['one', 'two'], encoding_format: 'base64' });
    assert.equal(b.status, 200);
    for (const i of [0, 1]) {
      assert.equal(typeof b.json.data[i].embedding, 'string');
      const raw = Buffer.from(b.json.data[i].embedding, 'base64');
      assert.equal(raw.length, 4 * 1536);
      const vals = Array.from({ length: 1536 }, (_, k) => raw.readFloatLE(k * 4));
      assert.deepEqual(vals, f.json.data[i].embedding);
    }
    assert.equal((await lastRec({ endpoint: 'embed' })).encoding_format, 'base64');
    const badEnc = await opost('groq', '/embeddings', { model: 'mistral-embed', input: 'x', encoding_format: 'int8' });
    assert.equal(badEnc.status, 400);

    // dimensions honoured by text-embedding-3-* (a prefix, renormalised) ...
    const d = await opost('github', '/embeddings', { model: 'openai/text-embedding-3-small', input: 'x', dimensions: 256 });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.json.data[0].embedding.length, 256);
    assert.ok(Math.abs(norm(d.json.data[0].embedding) - 1) < 1e-5);
    assert.equal((await lastRec({ endpoint: 'embed' })).dimensions, 256);
    // ... and refused elsewhere in the provider's own error shape
    const mis = await opost('mistral', '/embeddings', { model: 'mistral-embed', input: 'x', dimensions: 256 });
    assert.equal(mis.status, 422);
    assert.deepEqual(mis.json.message.detail[0].loc, ['body', 'dimensions']);
    const cf = await opost('cloudflare', '/embeddings', { model: '@cf/baai/bge-m3', input: 'x', dimensions: 256 });
    assert.equal(cf.status, 400);
    assert.equal(cf.json.success, false);
    assert.equal(typeof cf.json.errors[0].code, 'number');
    const gh = await opost('github', '/embeddings', { model: 'cohere/embed-v3', input: 'x', dimensions: 256 });
    assert.equal(gh.status, 400);
    assert.equal(gh.json.error.message, 'This model does not support specifying dimensions.');
    const nv = await opost('nvidia', '/embeddings', { model: 'nvidia/nv-embedqa-e5-v5', input: 'x' });
    assert.equal(nv.status, 400);
    assert.match(nv.json.detail, /input_type/);
    assert.match((await lastRec({ provider: 'nvidia' })).violation, /input_type/);
  });

  test('embeddings: key checks, scripted 429 on the first call by endpoint/provider/model, latency, request filter', T, async () => {
    await mock.setKeys({ groq: ['gsk_good'], cloudflare: [{ key: 'cf_tok', account: 'acc123' }] });
    const bad = await opost('groq', '/embeddings', { model: 'm', input: 'x' }, 'gsk_bad');
    assert.equal(bad.status, 401);
    assert.equal(bad.json.error.message, 'Invalid API Key');
    const none = await opost('groq', '/embeddings', { model: 'm', input: 'x' }, null);
    assert.equal(none.status, 401);
    const cfBad = await opost('cloudflare', '/embeddings', { model: '@cf/baai/bge-m3', input: 'x' }, 'nope');
    assert.equal(cfBad.status, 401);
    assert.equal(cfBad.json.errors[0].code, 10000);
    const fresh = await call(`${base('groq')}/embeddings`, { body: { model: 'm', input: 'x' }, headers: { authorization: 'Bearer freellmapi-abc' } });
    assert.equal(fresh.status, 401);

    await mock.script({ provider: 'groq', endpoint: 'embed', model: 'mistral-embed', error: 'rate_limit_minute', retry_after: 3 });
    await mock.script({ provider: 'groq', endpoint: 'chat', error: 'server', times: 0 }); // chat rules never touch embeddings
    const first = await opost('groq', '/embeddings', { model: 'mistral-embed', input: 'x' }, 'gsk_good');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '3');
    assert.equal(first.json.error.code, 'rate_limit_exceeded');
    const second = await opost('groq', '/embeddings', { model: 'mistral-embed', input: 'x' }, 'gsk_good');
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-ratelimit-limit-requests'), null, 'no cap in the catalog for this model: none stated');
    const recs = await mock.requests({ provider: 'groq', endpoint: 'embed', key: 'gsk_good' });
    assert.deepEqual(recs.map((r) => r.status), [429, 200]);
    assert.equal(typeof recs[0].rule, 'number');

    await mock.config({ latency_ms: 250 });
    const t0 = Date.now();
    await opost('groq', '/embeddings', { model: 'mistral-embed', input: 'x' }, 'gsk_good');
    assert.ok(Date.now() - t0 >= 240);
  });

  test('images/generations: real PNGs, size downscaled to 64 px, n, url answers served by the mock, provider errors', T, async () => {
    const r = await opost('groq', '/images/generations', { model: 'flux', prompt: 'A red fox', n: 2, size: '1792x1024', response_format: 'b64_json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(typeof r.json.created, 'number');
    assert.equal(r.json.data.length, 2);
    const pngs = r.json.data.map((d) => Buffer.from(d.b64_json, 'base64'));
    for (const p of pngs) assert.deepEqual(checkPng(p), { width: 64, height: 37 });
    assert.notEqual(sha(pngs[0]), sha(pngs[1]));
    const rec = await lastRec({ endpoint: 'image' });
    assert.equal(rec.prompt, 'A red fox');
    assert.deepEqual(rec.outputs.map((o) => o.sha256), pngs.map(sha));
    const small = await opost('cloudflare', '/images/generations', { model: 'x', prompt: 'A red fox', size: '32x16' });
    assert.deepEqual(checkPng(Buffer.from(small.json.data[0].b64_json, 'base64')), { width: 32, height: 16 });
    const other = await opost('groq', '/images/generations', { model: 'flux', prompt: 'A blue whale', n: 2, size: '1792x1024', response_format: 'b64_json' });
    assert.notEqual(other.json.data[0].b64_json, r.json.data[0].b64_json);

    const u = await opost('openrouter', '/images/generations', { model: 'flux', prompt: 'A red fox', response_format: 'url' });
    assert.match(u.json.data[0].url, /^http:\/\/127\.0\.0\.1:\d+\/assets\/generated\/\w+\.png$/);
    const got = await call(u.json.data[0].url, { method: 'GET' });
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.equal(sha(got.buf), (await lastRec({ endpoint: 'image' })).outputs[0].sha256);
    checkPng(got.buf);

    const noPrompt = await opost('mistral', '/images/generations', { model: 'flux' });
    assert.equal(noPrompt.status, 400);
    assert.equal(noPrompt.json.object, 'error');
    const badN = await opost('nvidia', '/images/generations', { model: 'flux', prompt: 'x', n: 11 });
    assert.equal(badN.status, 400);
    assert.equal(badN.json.title, 'Bad Request');
  });

  test('audio transcriptions (Groq behaviour): json, text, verbose_json with WAV duration, segments and words; the exact bytes are accounted for', T, async () => {
    const audio = wav(1.5);
    const expected = `Received ${audio.length} bytes of speech.wav (audio/wav) sha256 ${sha(audio).slice(0, 16)}.`;
    const url = `${base('groq')}/audio/transcriptions`;
    const auth = { authorization: 'Bearer gsk_test' };
    const j = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(j.status, 200, j.text);
    assert.equal(j.json.text, expected);
    assert.match(j.json.x_groq.id, /^req_/);
    const rec = await lastRec({ provider: 'groq', endpoint: 'transcription' });
    assert.deepEqual(rec.upload, { name: 'file', filename: 'speech.wav', content_type: 'audio/wav', bytes: audio.length, sha256: sha(audio) });
    assert.equal(rec.model, 'whisper-large-v3');
    assert.deepEqual(rec.body.file, { filename: 'speech.wav', content_type: 'audio/wav', bytes: audio.length, sha256: sha(audio) });

    const t = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', response_format: 'text' } }), headers: auth });
    assert.match(t.headers.get('content-type'), /^text\/plain/);
    assert.equal(t.text, expected);

    const fields = { model: 'whisper-large-v3-turbo', response_format: 'verbose_json', language: 'de', prompt: 'Fox, FreeLLMAPI', temperature: '0.2', 'timestamp_granularities[]': ['word', 'segment'] };
    const v = await call(url, { form: audioForm(audio, { fields }), headers: auth });
    assert.equal(v.status, 200, v.text);
    assert.equal(v.json.task, 'transcribe');
    assert.equal(v.json.language, 'german');
    assert.equal(v.json.duration, 1.5);
    assert.equal(v.json.text, expected);
    assert.equal(v.json.segments.length, 2);
    assert.equal(v.json.segments.map((s) => s.text).join('').trim(), expected);
    assert.equal(v.json.segments[0].start, 0);
    assert.equal(v.json.segments[1].end, 1.5);
    assert.equal(v.json.segments[0].end, v.json.segments[1].start);
    for (const s of v.json.segments) for (const k of ['id', 'seek', 'start', 'end', 'text', 'tokens', 'temperature', 'avg_logprob', 'compression_ratio', 'no_speech_prob']) assert.ok(k in s, k);
    assert.equal(v.json.segments[0].temperature, 0.2);
    assert.ok(v.json.words.length >= 5 && v.json.words.every((w) => typeof w.word === 'string' && w.end >= w.start));
    assert.ok(v.json.x_groq.id);
    const vr = await lastRec({ endpoint: 'transcription' });
    assert.deepEqual(vr.form, { model: 'whisper-large-v3-turbo', response_format: 'verbose_json', language: 'de', prompt: 'Fox, FreeLLMAPI', temperature: '0.2', 'timestamp_granularities[]': ['word', 'segment'] });
    // no word granularity: no words
    const noWords = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', response_format: 'verbose_json' } }), headers: auth });
    assert.equal(noWords.json.words, undefined);
    // not WAV: duration = bytes / 32000
    const mp3 = Buffer.alloc(64000, 7);
    const m = await call(url, { form: audioForm(mp3, { filename: 'clip.mp3', type: 'audio/mpeg', fields: { model: 'whisper-large-v3', response_format: 'verbose_json' } }), headers: auth });
    assert.equal(m.json.duration, 2);
    assert.match(m.json.text, /^Received 64000 bytes of clip\.mp3 \(audio\/mpeg\) sha256 [0-9a-f]{16}\.$/);
  });

  test('audio translations and the Groq errors: srt/vtt, missing file, over 25 MB (413), file type, non-multipart', T, async () => {
    const audio = wav(0.5);
    const auth = { authorization: 'Bearer gsk_test' };
    const tr = await call(`${base('groq')}/audio/translations`, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', response_format: 'verbose_json', 'timestamp_granularities[]': 'word' } }), headers: auth });
    assert.equal(tr.status, 200, tr.text);
    assert.equal(tr.json.task, 'translate');
    assert.equal(tr.json.language, 'english');
    assert.equal(tr.json.words, undefined);
    assert.equal((await lastRec({ provider: 'groq' })).endpoint, 'translation');

    const url = `${base('groq')}/audio/transcriptions`;
    for (const fmt of ['srt', 'vtt']) {
      const e = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', response_format: fmt } }), headers: auth });
      assert.equal(e.status, 400);
      assert.equal(e.json.error.type, 'invalid_request_error');
      assert.match(e.json.error.message, /response_format/);
    }
    const noFile = await call(url, { form: audioForm(null, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(noFile.status, 400);
    assert.equal(noFile.json.error.message, 'either file or url must be provided');
    const big = Buffer.alloc(25 * 1024 * 1024 + 1);
    const tooBig = await call(url, { form: audioForm(big, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(tooBig.status, 413);
    assert.deepEqual(tooBig.json, { error: { message: 'Request Entity Too Large', type: 'invalid_request_error', code: 'request_too_large' } });
    assert.equal((await lastRec({ provider: 'groq' })).upload.bytes, big.length);
    const noExt = await call(url, { form: audioForm(audio, { filename: 'audio', fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(noExt.status, 400);
    assert.equal(noExt.json.error.message, 'file must be one of the following types: [flac mp3 mp4 mpeg mpga m4a ogg opus wav webm]');
    const longPrompt = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', prompt: 'p'.repeat(900) } }), headers: auth });
    assert.equal(longPrompt.status, 400);
    assert.match(longPrompt.json.error.message, /prompt length must be 896 characters or fewer/);
    const asJson = await call(url, { body: { model: 'whisper-large-v3', file: 'x' }, headers: auth });
    assert.equal(asJson.status, 400);
    assert.match(asJson.json.error.message, /multipart\/form-data/);
    // another provider answers in its own error shape
    const cf = await call(`${base('cloudflare')}/audio/transcriptions`, { form: audioForm(audio, { fields: { model: 'whisper', response_format: 'srt' } }), headers: auth });
    assert.equal(cf.status, 400);
    assert.equal(cf.json.success, false);
    // strict off: a soft problem (no extension) is answered; hard ones still are not
    await mock.config({ strict: false });
    const lax = await call(url, { form: audioForm(audio, { filename: 'audio', fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(lax.status, 200);
    assert.match((await lastRec({ provider: 'groq' })).violation, /no audio extension/);
    const stillNoFile = await call(url, { form: audioForm(null, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(stillNoFile.status, 400);
  });

  test('audio: scripted faults by endpoint (429 on transcription only, drop, cut_after on text)', T, async () => {
    const audio = wav(0.5);
    const auth = { authorization: 'Bearer gsk_test' };
    const url = `${base('groq')}/audio/transcriptions`;
    await mock.script([{ provider: 'groq', endpoint: 'transcription', error: 'rate_limit_day' }]);
    const tr = await call(`${base('groq')}/audio/translations`, { form: audioForm(audio, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(tr.status, 200, 'the rule targets transcriptions only');
    const limited = await call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3' } }), headers: auth });
    assert.equal(limited.status, 429);
    assert.match(limited.json.error.message, /requests per day/);
    await mock.script({ provider: 'groq', endpoint: 'transcription', drop: true });
    await assert.rejects(call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3' } }), headers: auth }));
    await mock.script({ provider: 'groq', endpoint: 'transcription', cut_after: 0 });
    await assert.rejects(call(url, { form: audioForm(audio, { fields: { model: 'whisper-large-v3', response_format: 'text' } }), headers: auth }));
    const outcomes = (await mock.requests({ endpoint: 'transcription' })).map((r) => r.outcome);
    assert.deepEqual(outcomes, ['error', 'dropped', 'cut']);
  });

  // ---- Cloudflare run, Pollinations ----------------------------------------------------------

  test('Cloudflare run flux-1-schnell: {result:{image}} envelope with a PNG; Cloudflare error envelopes', T, async () => {
    const run = (model, body, key = 'cf_tok') => call(`${mock.url}/cloudflare/client/v4/accounts/acc123/ai/run/${model}`, { body, headers: { authorization: `Bearer ${key}` } });
    const r = await run('@cf/black-forest-labs/flux-1-schnell', { prompt: 'A lighthouse at dawn', steps: 4 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.success, true);
    assert.deepEqual(r.json.errors, []);
    assert.deepEqual(r.json.messages, []);
    assert.deepEqual(checkPng(Buffer.from(r.json.result.image, 'base64')), { width: 64, height: 64 });
    const rec = await lastRec({ provider: 'cloudflare' });
    assert.equal(rec.endpoint, 'image');
    assert.equal(rec.model, '@cf/black-forest-labs/flux-1-schnell');
    assert.equal(rec.account_id, 'acc123');
    assert.equal(rec.prompt, 'A lighthouse at dawn');

    const noPrompt = await run('@cf/black-forest-labs/flux-1-schnell', { steps: 4 });
    assert.equal(noPrompt.status, 400);
    assert.equal(noPrompt.json.success, false);
    assert.equal(noPrompt.json.errors[0].code, 5006);
    assert.match(noPrompt.json.errors[0].message, /required property 'prompt'/);
    const steps = await run('@cf/black-forest-labs/flux-1-schnell', { prompt: 'x', steps: 9 });
    assert.equal(steps.status, 400);
    const unknown = await run('@cf/nope/model', { prompt: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.errors[0].code, 5007);
    await mock.setKeys({ cloudflare: [{ key: 'cf_tok', account: 'acc123' }] });
    const badKey = await run('@cf/black-forest-labs/flux-1-schnell', { prompt: 'x' }, 'wrong');
    assert.equal(badKey.status, 401);
    assert.equal(badKey.json.errors[0].code, 10000);
    await mock.script({ provider: 'cloudflare', endpoint: 'image', error: 'rate_limit_day' });
    const spent = await run('@cf/black-forest-labs/flux-1-schnell', { prompt: 'x' });
    assert.equal(spent.status, 429);
    assert.equal(spent.json.errors[0].code, 4006);
  });

  test('Cloudflare run Whisper: turbo base64 JSON (transcribe/translate), whisper raw bytes or byte array; {result} envelopes with word timings; recorded as transcription/translation', T, async () => {
    const TURBO = '@cf/openai/whisper-large-v3-turbo';
    const WHISPER = '@cf/openai/whisper';
    const runUrl = (model) => `${mock.url}/cloudflare/client/v4/accounts/acc123/ai/run/${model}`;
    const auth = { authorization: 'Bearer cf_tok' };
    const run = (model, body) => call(runUrl(model), { body, headers: auth });
    const runRaw = async (model, bytes, type = 'application/octet-stream') => {
      const r = await fetch(runUrl(model), { method: 'POST', headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, body: bytes, signal: AbortSignal.timeout(10000) });
      const text = await r.text();
      return { status: r.status, text, json: JSON.parse(text) };
    };
    const audio = wav(1.5);
    const digest = sha(audio).slice(0, 16);

    // turbo: base64 in JSON, faster-whisper's segments with words, transcription_info
    const t = await run(TURBO, { audio: audio.toString('base64'), task: 'transcribe', language: 'de', initial_prompt: 'FreeLLMAPI' });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.success, true);
    assert.deepEqual(t.json.errors, []);
    assert.deepEqual(t.json.messages, []);
    const r = t.json.result;
    assert.equal(r.text, `Received ${audio.length} bytes of audio (base64) sha256 ${digest}.`);
    assert.deepEqual(r.transcription_info, { language: 'de', language_probability: 1, duration: 1.5, duration_after_vad: 1.5 });
    assert.equal(r.word_count, r.text.split(' ').length);
    assert.equal(r.segments.length, 2);
    assert.equal(r.segments.map((s) => s.text).join('').trim(), r.text);
    assert.equal(r.segments[0].start, 0);
    assert.equal(r.segments[1].end, 1.5);
    for (const s of r.segments) {
      for (const k of ['start', 'end', 'text', 'temperature', 'avg_logprob', 'compression_ratio', 'no_speech_prob', 'words']) assert.ok(k in s, k);
      assert.ok(s.words.every((w) => w.word.startsWith(' ') && w.end >= w.start && w.start >= s.start && w.end <= s.end));
    }
    assert.equal(r.segments.flatMap((s) => s.words).length, r.word_count);
    assert.match(r.vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:00\.\d{3}\nReceived /);
    let rec = await lastRec({ provider: 'cloudflare' });
    assert.equal(rec.endpoint, 'transcription');
    assert.equal(rec.model, TURBO);
    assert.equal(rec.account_id, 'acc123');
    assert.deepEqual(rec.upload, { bytes: audio.length, sha256: sha(audio) });
    assert.deepEqual(rec.body, { audio: { bytes: audio.length, sha256: sha(audio) }, task: 'transcribe', language: 'de', initial_prompt: 'FreeLLMAPI' });
    assert.equal(rec.transcript, r.text);
    assert.equal(rec.duration, 1.5);

    // turbo translate: endpoint translation; no language hint: detected "en"
    const tr = await run(TURBO, { audio: audio.toString('base64'), task: 'translate' });
    assert.equal(tr.status, 200, tr.text);
    assert.equal(tr.json.result.transcription_info.language, 'en');
    rec = await lastRec({ provider: 'cloudflare' });
    assert.equal(rec.endpoint, 'translation');

    // whisper: the raw bytes, whatever the Content-Type (curl --data-binary sends a form type)
    const w = await runRaw(WHISPER, audio);
    assert.equal(w.status, 200, w.text);
    assert.equal(w.json.success, true);
    assert.equal(w.json.result.text, `Received ${audio.length} bytes of audio (application/octet-stream) sha256 ${digest}.`);
    assert.equal(w.json.result.word_count, w.json.result.words.length);
    assert.equal(w.json.result.words[0].start, 0);
    assert.equal(w.json.result.words.at(-1).end, 1.5);
    assert.ok(w.json.result.words.every((x) => !x.word.startsWith(' ')));
    assert.equal(w.json.result.segments, undefined);
    assert.equal(w.json.result.transcription_info, undefined);
    assert.match(w.json.result.vtt, /^WEBVTT\n\n/);
    rec = await lastRec({ provider: 'cloudflare' });
    assert.equal(rec.endpoint, 'transcription');
    assert.equal(rec.model, WHISPER);
    assert.deepEqual(rec.upload, { bytes: audio.length, sha256: sha(audio) });
    assert.equal(rec.body, null);
    assert.equal(rec.parse_error, null);
    assert.match((await runRaw(WHISPER, audio, 'application/x-www-form-urlencoded')).json.result.text, /\(application\/x-www-form-urlencoded\)/);
    // ... or its documented JSON form, an array of bytes
    const small = audio.subarray(0, 600);
    const arr = await run(WHISPER, { audio: [...small] });
    assert.equal(arr.status, 200, arr.text);
    assert.equal(arr.json.result.text, `Received 600 bytes of audio (array) sha256 ${sha(small).slice(0, 16)}.`);
    assert.deepEqual((await lastRec({ provider: 'cloudflare' })).body, { audio: { bytes: 600, sha256: sha(small) } });
    const none = await mock.requests({ provider: 'cloudflare', endpoint: 'run' });
    assert.deepEqual(none, []);
  });

  test('Cloudflare run Whisper: 5006 errors for missing or mistyped audio and unknown inputs; strict off; scripted faults by endpoint', T, async () => {
    const TURBO = '@cf/openai/whisper-large-v3-turbo';
    const WHISPER = '@cf/openai/whisper';
    const runUrl = (model) => `${mock.url}/cloudflare/client/v4/accounts/acc123/ai/run/${model}`;
    const auth = { authorization: 'Bearer cf_tok' };
    const run = (model, body) => call(runUrl(model), { body, headers: auth });
    const audio = wav(0.5);
    const b64 = audio.toString('base64');
    const cfError = (r, re) => {
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.success, false);
      assert.equal(r.json.errors[0].code, 5006);
      assert.match(r.json.errors[0].message, re);
    };
    cfError(await run(WHISPER, { audio: b64 }), /^AiError: Bad input: Error: Type mismatch of '\/audio', 'string' not in 'array'$/);
    cfError(await run(TURBO, { audio: [1, 2, 3] }), /Type mismatch of '\/audio', 'array' not in 'string'/);
    cfError(await run(TURBO, { task: 'transcribe' }), /must have required property 'audio'/);
    cfError(await run(WHISPER, {}), /must have required property 'audio'/);
    cfError(await run(TURBO, { audio: '' }), /fewer than 1 characters/);
    cfError(await run(TURBO, { audio: 'not base64!' }), /base64/);
    cfError(await run(WHISPER, { audio: [1, 256] }), /\/audio\/1 must be integer/);
    const rawTurbo = await fetch(runUrl(TURBO), { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: audio });
    cfError({ status: rawTurbo.status, text: '', json: await rawTurbo.json() }, /'array' not in 'string'/);
    // strict: OpenAI fields and bad options
    const strict = await run(TURBO, { audio: b64, temperature: 0.2 });
    cfError(strict, /must NOT have additional properties/);
    assert.match((await lastRec({ provider: 'cloudflare' })).violation, /no input "temperature"/);
    cfError(await run(TURBO, { audio: b64, task: 'summarise' }), /\/task must be equal to one of the allowed values/);
    cfError(await run(TURBO, { audio: b64, language: 7 }), /Type mismatch of '\/language', 'number' not in 'string'/);
    cfError(await run(WHISPER, { audio: [...audio.subarray(0, 10)], task: 'translate' }), /additional properties/);
    assert.equal((await lastRec({ provider: 'cloudflare' })).endpoint, 'transcription', 'whisper has no task');
    await mock.config({ strict: false });
    const lax = await run(TURBO, { audio: b64, temperature: 0.2 });
    assert.equal(lax.status, 200, lax.text);
    assert.match((await lastRec({ provider: 'cloudflare' })).violation, /temperature/);
    cfError(await run(TURBO, { audio: [1] }), /'array' not in 'string'/);
    await mock.config({ strict: true });

    // rules match on endpoint and model; the upload is recorded even then
    await mock.setKeys({ cloudflare: [{ key: 'cf_tok', account: 'acc123' }] });
    await mock.script({ provider: 'cloudflare', endpoint: 'transcription', model: TURBO, error: 'server' });
    const tr = await run(TURBO, { audio: b64, task: 'translate' });
    assert.equal(tr.status, 200, 'the rule targets transcriptions only');
    const raw = await fetch(runUrl(WHISPER), { method: 'POST', headers: auth, body: audio });
    assert.equal(raw.status, 200, 'and the turbo model only');
    const failed = await run(TURBO, { audio: b64 });
    assert.equal(failed.status, 500);
    assert.equal(failed.json.success, false);
    assert.equal(failed.json.errors[0].code, 3043);
    const rec = await lastRec({ provider: 'cloudflare', endpoint: 'transcription', model: TURBO });
    assert.equal(rec.outcome, 'error');
    assert.deepEqual(rec.upload, { bytes: audio.length, sha256: sha(audio) });
    const bad = await call(runUrl(WHISPER), { body: { audio: [1] }, headers: { authorization: 'Bearer wrong' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.json.errors[0].code, 10000);
  });

  test('Pollinations image GET: raw PNG, keyless, width/height/seed/model; errors in its shape; scriptable', T, async () => {
    const get = (prompt, q = '', headers = {}) => call(`${mock.url}/pollinations/image/${encodeURIComponent(prompt)}${q}`, { method: 'GET', headers });
    const r = await get('A cat in a hat / with a bow', '?model=flux&width=512&height=256&nologo=true&seed=42');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.deepEqual(checkPng(r.buf), { width: 64, height: 32 });
    const rec = await lastRec({ provider: 'pollinations', endpoint: 'image' });
    assert.equal(rec.prompt, 'A cat in a hat / with a bow');
    assert.equal(rec.model, 'flux');
    assert.equal(rec.key, null);
    assert.equal(rec.query.seed, '42');
    assert.equal(rec.outputs[0].sha256, sha(r.buf));
    const same = await get('A cat in a hat / with a bow', '?model=flux&width=512&height=256&nologo=true&seed=42', { authorization: 'Bearer sk_optional' });
    assert.equal(sha(same.buf), sha(r.buf), 'same prompt and seed -> same bytes; a Bearer key is optional');
    assert.equal((await lastRec({ provider: 'pollinations' })).key, 'sk_optional');
    const seed = await get('A cat in a hat / with a bow', '?model=turbo&width=512&height=256&seed=43');
    assert.notEqual(sha(seed.buf), sha(r.buf));
    assert.deepEqual(checkPng((await get('default size')).buf), { width: 64, height: 64 });

    const badModel = await get('x', '?model=dalle');
    assert.equal(badModel.status, 400);
    assert.equal(badModel.json.status, 400);
    const badW = await get('x', '?width=abc');
    assert.equal(badW.status, 400);
    await mock.script({ provider: 'pollinations', endpoint: 'image', error: 'rate_limit_minute', retry_after: 5 });
    const limited = await get('x');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '5');
    await mock.script({ provider: 'pollinations', endpoint: 'image', delay_ms: 300 });
    const t0 = Date.now();
    assert.equal((await get('slow')).status, 200);
    assert.ok(Date.now() - t0 >= 290);
    const imgs = await mock.requests({ provider: 'pollinations', endpoint: 'image' });
    assert.equal(imgs.length, 8);
  });
});
