// The media endpoints end to end with the official openai SDK: embeddings (float and the
// SDK's default base64), images (generate, edit, variation; b64_json and url), speech
// (mp3, opus, flac, wav, pcm), transcriptions and translations (json, text, srt, vtt,
// verbose_json) and realtime sessions (Gemini Live tokens). Each test checks what the
// client got (real bytes: PNG, RIFF sizes, MP3 frame sync, OggS/OpusHead, fLaC) and what
// the mock provider received, plus fallover and routing headers like chat.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { toFile } from 'openai';
import { startStack, routedVia, assertErrorShape, sineWav } from './lib/harness.mjs';

const wav = sineWav;
const via = (h) => routedVia(h)?.raw ?? null;

const T = { timeout: 60000 };
const sha = (b) => createHash('sha256').update(b).digest('hex');

const EMBED_G = { provider: 'google', id: 'gemini-embedding-001' };
const EMBED_GH = { provider: 'github', id: 'openai/text-embedding-3-small' };
const EMBED_MI = { provider: 'mistral', id: 'mistral-embed' };
const IMAGE_G = { provider: 'google', id: 'gemini-2.5-flash-image' };
const IMAGE_CF = { provider: 'cloudflare', id: '@cf/black-forest-labs/flux-1-schnell' };
const TTS_G = { provider: 'google', id: 'gemini-2.5-flash-preview-tts' };
const LIVE_G = { provider: 'google', id: 'gemini-live-2.5-flash-preview' };
const STT_GROQ = { provider: 'groq', id: 'whisper-large-v3-turbo' };
const STT_GROQ2 = { provider: 'groq', id: 'whisper-large-v3' };
const CHAT = { provider: 'groq', id: 'llama-3.3-70b-versatile' };

// A real 2x2 PNG (the gateway checks the magic; the mock hashes what arrives).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');


async function rawPost(s, path, body, headers = {}) {
  const res = await fetch(`${s.baseURL}${path}`, { method: 'POST', headers: { authorization: `Bearer ${s.key}`, ...headers }, body });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

describe('media endpoints', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [EMBED_G, EMBED_GH, EMBED_MI, IMAGE_G, IMAGE_CF, TTS_G, LIVE_G, STT_GROQ, STT_GROQ2, CHAT],
      keys: [
        { provider: 'google', secret: 'AIzaSyE2E-media-000001', label: 'g1' },
        { provider: 'google', secret: 'AIzaSyE2E-media-000002', label: 'g2' },
        { provider: 'github', secret: 'ghp_e2e_media', label: 'gh' },
        { provider: 'mistral', secret: 'mi_e2e_media', label: 'mi' },
        { provider: 'groq', secret: 'gsk_e2e_media', label: 'groq' },
        { provider: 'cloudflare', secret: 'cf_e2e_media', account: 'acc_e2e', label: 'cf' },
      ],
    });
  });
  after(async () => s?.stop());

  // ---- embeddings ---------------------------------------------------------------------

  test('embeddings: float vectors, in order, routed and batched on Gemini', T, async () => {
    const since = await s.mock.mark();
    const { data, response } = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: ['alpha', 'beta', 'gamma'], encoding_format: 'float' }).withResponse();
    assert.equal(via(response.headers), 'google/gemini-embedding-001');
    assert.equal(data.object, 'list');
    assert.equal(data.data.length, 3);
    data.data.forEach((d, i) => {
      assert.equal(d.object, 'embedding');
      assert.equal(d.index, i);
      assert.equal(d.embedding.length, 3072);
    });
    const [rec] = await s.mock.requests({ provider: 'google', endpoint: 'embed', since });
    assert.deepEqual(rec.texts, ['alpha', 'beta', 'gamma']);
    assert.match(rec.path, /:batchEmbedContents$/);
    // Same text, same vector: the order of the answer follows the input.
    const one = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: 'beta', encoding_format: 'float' });
    assert.deepEqual(one.data[0].embedding, data.data[1].embedding);
  });

  test('embeddings: the SDK default (base64) decodes to the same float32 values', T, async () => {
    const f = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: 'delta', encoding_format: 'float' });
    const b = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: 'delta' });
    assert.equal(b.data[0].embedding.length, 3072);
    b.data[0].embedding.forEach((v, i) => assert.equal(v, Math.fround(f.data[0].embedding[i])));
    // And on the wire it really is base64 of little-endian float32.
    const r = await rawPost(s, '/embeddings', JSON.stringify({ model: 'gemini-embedding-001', input: 'delta', encoding_format: 'base64' }), { 'content-type': 'application/json' });
    const bytes = Buffer.from(r.json.data[0].embedding, 'base64');
    assert.equal(bytes.length, 3072 * 4);
    assert.equal(bytes.readFloatLE(0), Math.fround(f.data[0].embedding[0]));
  });

  test('embeddings: dimensions reach Gemini as outputDimensionality', T, async () => {
    const since = await s.mock.mark();
    const r = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: ['x'], dimensions: 256, encoding_format: 'float' });
    assert.equal(r.data[0].embedding.length, 256);
    const [rec] = await s.mock.requests({ provider: 'google', endpoint: 'embed', since });
    assert.deepEqual(rec.dimensions, [256]);
  });

  test('embeddings: OpenAI\'s names answer their own sizes without dimensions; ada-002 takes none', T, async () => {
    for (const [model, size] of [['text-embedding-3-small', 1536], ['text-embedding-ada-002', 1536], ['text-embedding-3-large', 3072]]) {
      const r = await s.client.embeddings.create({ model, input: ['size me'], encoding_format: 'float' });
      assert.equal(r.data[0].embedding.length, size, model);
    }
    const small = await s.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 512, encoding_format: 'float' });
    assert.equal(small.data[0].embedding.length, 512);
    await assert.rejects(s.client.embeddings.create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 512 }), (e) => e.status === 400 && e.param === 'dimensions');
    // Its own size is no change: accepted.
    const ada = await s.client.embeddings.create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 1536, encoding_format: 'float' });
    assert.equal(ada.data[0].embedding.length, 1536);
    // OpenAI's text-embedding-3 models make at most their own size.
    await assert.rejects(s.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 3072 }),
      (e) => e.status === 400 && e.param === 'dimensions' && /1536/.test(e.message));
  });

  test('embeddings: text-embedding-3-small is served by its own weights when a key has them', T, async () => {
    const since = await s.mock.mark();
    const { data, response } = await s.client.embeddings.create({ model: 'text-embedding-3-small', input: 'own space', encoding_format: 'float' }).withResponse();
    assert.equal(via(response.headers), 'github/openai/text-embedding-3-small');
    assert.equal(data.data[0].embedding.length, 1536);
    const [rec] = await s.mock.requests({ provider: 'github', endpoint: 'embed', since });
    assert.equal(rec.dimensions, 1536);
  });

  test('embeddings: token arrays go to a model that takes them', T, async () => {
    const { data, response } = await s.client.embeddings.create({ model: 'auto', input: [[1, 2, 3], [4, 5]], encoding_format: 'float' }).withResponse();
    assert.equal(via(response.headers), 'github/openai/text-embedding-3-small');
    assert.equal(data.data.length, 2);
    assert.equal(data.data[0].embedding.length, 1536);
  });

  test('embeddings: a 429 fails over to another key of the same model, never to another vector space', T, async () => {
    await s.mock.script({ provider: 'google', endpoint: 'embed', error: 'rate_limit_minute' });
    const { response } = await s.client.embeddings.create({ model: 'gemini-embedding-001', input: 'epsilon' }).withResponse();
    assert.equal(via(response.headers), 'google/gemini-embedding-001');
    assert.equal(response.headers.get('x-fallback-attempts'), '1');
    // Every Gemini key failing: no silent switch to Mistral's or GitHub's vectors.
    await s.mock.script({ provider: 'google', endpoint: 'embed', error: 'server', times: 0 });
    const since = await s.mock.mark();
    const r = await rawPost(s, '/embeddings', JSON.stringify({ model: 'gemini-embedding-001', input: 'zeta' }), { 'content-type': 'application/json' });
    await s.mock.clearScript();
    assert.ok(r.status === 503 || r.status === 429, `status ${r.status}`);
    assertErrorShape(assert, r.json);
    const others = (await s.mock.requests({ endpoint: 'embed', since })).filter((q) => q.provider !== 'google');
    assert.deepEqual(others.map((q) => q.provider), []);
  });

  test('embeddings: bad input and wrong models are clear 400s', T, async () => {
    for (const [body, param] of [
      [{ model: 'gemini-embedding-001', input: '' }, 'input'],
      [{ model: 'gemini-embedding-001', input: [] }, 'input'],
      [{ model: 'gemini-embedding-001', input: ['a', [1, 2]] }, 'input'],
      [{ model: 'gemini-embedding-001', input: 'a', encoding_format: 'int8' }, 'encoding_format'],
      [{ model: 'gemini-embedding-001', input: 'a', dimensions: 0 }, 'dimensions'],
      [{ model: 'llama-3.3-70b-versatile', input: 'a' }, 'model'],
      [{ input: 'a' }, 'model'],
    ]) {
      const r = await rawPost(s, '/embeddings', JSON.stringify(body), { 'content-type': 'application/json' });
      assert.equal(r.status, 400, JSON.stringify(body));
      assertErrorShape(assert, r.json);
      assert.equal(r.json.error.param, param, JSON.stringify(body));
    }
    const r = await rawPost(s, '/embeddings', '{"model":', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_json');
  });

  // ---- images -------------------------------------------------------------------------

  test('images.generate: n images as real PNGs (b64_json), one Gemini call each', T, async () => {
    const since = await s.mock.mark();
    const { data, response } = await s.client.images.generate({ model: 'gemini-2.5-flash-image', prompt: 'a watercolor fox', n: 2, size: '1792x1024', response_format: 'b64_json' }).withResponse();
    assert.equal(via(response.headers), 'google/gemini-2.5-flash-image');
    assert.equal(response.headers.get('x-fallback-attempts'), null);
    assert.equal(data.data.length, 2);
    for (const d of data.data) assert.equal(Buffer.from(d.b64_json, 'base64').subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
    assert.ok(Number.isInteger(data.created));
    const recs = await s.mock.requests({ provider: 'google', endpoint: 'image', since });
    assert.equal(recs.length, 2);
    assert.equal(recs[0].body.generationConfig.imageConfig.aspectRatio, '16:9');
    assert.ok(recs[0].body.generationConfig.responseModalities.includes('IMAGE'));
  });

  test('images.generate: url answers are served by the gateway without a key, then expire as unknown', T, async () => {
    const r = await s.client.images.generate({ model: 'gemini-2.5-flash-image', prompt: 'a red kite' });
    const url = r.data[0].url;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/images\/files\/[0-9a-f]{64}\.png$/);
    const img = await fetch(url);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.equal(Buffer.from(await img.arrayBuffer()).subarray(1, 4).toString(), 'PNG');
    const miss = await fetch(url.replace(/[0-9a-f]{8}\.png$/, '00000000.png'));
    assert.equal(miss.status, 404);
  });

  test('images: gpt-image models answer b64_json by default (as OpenAI does), dall-e a URL; the AI SDK image model works', T, async () => {
    const g = await s.client.images.generate({ model: 'gpt-image-1', prompt: 'a blue kite' });
    assert.equal(g.data[0].url, undefined);
    assert.equal(Buffer.from(g.data[0].b64_json, 'base64').subarray(1, 4).toString(), 'PNG');
    const d = await s.client.images.generate({ model: 'dall-e-3', prompt: 'a blue kite' });
    assert.match(d.data[0].url, /\/v1\/images\/files\//);
    const { createOpenAI } = await import('@ai-sdk/openai');
    const { generateImage } = await import('ai');
    const openai = createOpenAI({ baseURL: s.baseURL, apiKey: s.key });
    const { image } = await generateImage({ model: openai.image('gpt-image-1'), prompt: 'a green kite' });
    assert.equal(Buffer.from(image.uint8Array).subarray(1, 4).toString(), 'PNG');
  });

  test('images: a Gemini failure falls over to Cloudflare', T, async () => {
    // A 503 benches the model for every key, so the next candidate is Cloudflare's.
    await s.mock.script({ provider: 'google', endpoint: 'image', error: 'unavailable', times: 2 });
    const { data, response } = await s.client.images.generate({ model: 'auto', prompt: 'a lighthouse', response_format: 'b64_json' }).withResponse();
    await s.mock.clearScript();
    assert.equal(via(response.headers), 'cloudflare/@cf/black-forest-labs/flux-1-schnell');
    assert.equal(response.headers.get('x-fallback-attempts'), '1');
    assert.equal(Buffer.from(data.data[0].b64_json, 'base64').subarray(1, 4).toString(), 'PNG');
  });

  test('images.edit and createVariation: the uploaded image reaches Gemini intact', T, async () => {
    let since = await s.mock.mark();
    const e = await s.client.images.edit({ model: 'gemini-2.5-flash-image', image: await toFile(PNG, 'in.png', { type: 'image/png' }), prompt: 'make it blue', response_format: 'b64_json' });
    assert.equal(e.data.length, 1);
    let [rec] = await s.mock.requests({ provider: 'google', endpoint: 'image', since });
    assert.equal(rec.inline_data[0].sha256, sha(PNG));
    assert.equal(rec.inline_data[0].mimeType, 'image/png');
    since = await s.mock.mark();
    const v = await s.client.images.createVariation({ image: await toFile(PNG, 'in.png', { type: 'application/octet-stream' }), n: 1, response_format: 'b64_json' });
    assert.equal(Buffer.from(v.data[0].b64_json, 'base64').subarray(1, 4).toString(), 'PNG');
    [rec] = await s.mock.requests({ provider: 'google', endpoint: 'image', since });
    assert.equal(rec.inline_data[0].sha256, sha(PNG));
  });

  test('images: bad requests are 400s; multipart endpoints refuse JSON and vice versa', T, async () => {
    let r = await rawPost(s, '/images/generations', JSON.stringify({ prompt: 'x', n: 11 }), { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'n');
    r = await rawPost(s, '/images/generations', JSON.stringify({ prompt: 'x', size: 'huge' }), { 'content-type': 'application/json' });
    assert.equal(r.json.error.param, 'size');
    r = await rawPost(s, '/images/generations', JSON.stringify({ n: 1 }), { 'content-type': 'application/json' });
    assert.equal(r.json.error.param, 'prompt');
    r = await rawPost(s, '/images/edits', JSON.stringify({ prompt: 'x' }), { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_content_type');
    const fd = new FormData();
    fd.append('prompt', 'x');
    fd.append('image', new Blob([Buffer.from('not an image at all')]), 'x.png');
    r = await rawPost(s, '/images/edits', fd);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'image');
    const nofile = new FormData();
    nofile.append('prompt', 'x');
    r = await rawPost(s, '/images/edits', nofile);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'image');
  });

  // ---- speech -------------------------------------------------------------------------

  test('speech: mp3, opus, flac, wav and pcm are real audio with the right content types', T, async () => {
    const since = await s.mock.mark();
    const got = {};
    for (const f of ['mp3', 'opus', 'flac', 'wav', 'pcm']) {
      const r = await s.client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Have a wonderful day, all of you.', response_format: f });
      got[f] = { type: r.headers.get('content-type'), b: Buffer.from(await r.arrayBuffer()), via: via(r.headers) };
    }
    assert.equal(got.mp3.via, 'google/gemini-2.5-flash-preview-tts');
    assert.equal(got.mp3.type, 'audio/mpeg');
    const m = got.mp3.b;
    const at = m.subarray(0, 3).toString() === 'ID3' ? 10 + ((m[6] << 21) | (m[7] << 14) | (m[8] << 7) | m[9]) : 0;
    assert.ok(m[at] === 0xff && (m[at + 1] & 0xe0) === 0xe0, 'MP3 frame sync');
    assert.equal(got.opus.type, 'audio/opus');
    assert.equal(got.opus.b.subarray(0, 4).toString(), 'OggS');
    assert.ok(got.opus.b.subarray(0, 200).includes('OpusHead'));
    assert.equal(got.flac.type, 'audio/flac');
    assert.equal(got.flac.b.subarray(0, 4).toString(), 'fLaC');
    const w = got.wav.b;
    assert.equal(got.wav.type, 'audio/wav');
    assert.equal(w.subarray(0, 4).toString(), 'RIFF');
    assert.equal(w.readUInt32LE(4), w.length - 8);
    assert.equal(w.readUInt32LE(24), 24000);
    assert.equal(w.readUInt32LE(40), w.length - 44);
    assert.equal(got.pcm.type, 'audio/pcm');
    assert.equal(got.pcm.b.length, w.length - 44);
    assert.ok(got.pcm.b.equals(w.subarray(44)));
    const recs = await s.mock.requests({ provider: 'google', endpoint: 'speech', since });
    assert.equal(recs.length, 5);
    assert.equal(recs[0].voice, 'Schedar'); // alloy
    assert.equal(recs[0].outputs[0].bytes, got.pcm.b.length);
  });

  test('speech: speed shortens the audio, instructions reach the model, Gemini voices pass through', T, async () => {
    const since = await s.mock.mark();
    const base = Buffer.from(await (await s.client.audio.speech.create({ model: 'tts-1', voice: 'Kore', input: 'Speed test sentence here.', response_format: 'pcm' })).arrayBuffer());
    const fast = Buffer.from(await (await s.client.audio.speech.create({ model: 'tts-1', voice: 'kore', input: 'Speed test sentence here.', response_format: 'pcm', speed: 2 })).arrayBuffer());
    const ratio = fast.length / base.length;
    assert.ok(ratio > 0.45 && ratio < 0.55, `2x speed gave ${ratio}`);
    await s.client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'nova', input: 'Hi.', instructions: 'Say cheerfully', response_format: 'wav' });
    const recs = await s.mock.requests({ provider: 'google', endpoint: 'speech', since });
    assert.deepEqual(recs.map((r) => r.voice), ['Kore', 'Kore', 'Zephyr']);
    assert.match(recs[2].text, /^Say cheerfully: Hi\.$/);
  });

  test('speech: encoding runs off the loop; concurrent and abandoned requests are fine', T, async () => {
    const long = 'A longer sentence to give the encoder some real work to do. '.repeat(3);
    const ac = new AbortController();
    const gone = s.client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: long, response_format: 'opus' }, { signal: ac.signal, maxRetries: 0 }).catch((e) => e);
    setTimeout(() => ac.abort(), 5);
    const all = await Promise.all([
      ...[0, 1, 2].map(() => s.client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: long, response_format: 'opus' }).then(async (r) => Buffer.from(await r.arrayBuffer()))),
      s.client.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'hi' }] }),
    ]);
    for (const b of all.slice(0, 3)) assert.equal(b.subarray(0, 4).toString(), 'OggS');
    assert.ok(all[3].choices[0].message);
    assert.ok((await gone) instanceof Error);
    // Still serving after the abandoned one finished encoding.
    const after = await s.client.audio.speech.create({ model: 'tts-1', voice: 'echo', input: 'ok', response_format: 'wav' });
    assert.equal(Buffer.from(await after.arrayBuffer()).subarray(0, 4).toString(), 'RIFF');
  });

  test('speech: unsupported voice, format or speed, and missing input are 400s', T, async () => {
    for (const [body, param] of [
      [{ model: 'tts-1', voice: 'robot', input: 'x' }, 'voice'],
      [{ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'aac' }, 'response_format'],
      [{ model: 'tts-1', voice: 'alloy', input: 'x', speed: 9 }, 'speed'],
      [{ model: 'tts-1', voice: 'alloy' }, 'input'],
      [{ model: 'tts-1', voice: 'alloy', input: 'x'.repeat(4097) }, 'input'],
      [{ model: 'gemini-embedding-001', voice: 'alloy', input: 'x' }, 'model'],
    ]) {
      const r = await rawPost(s, '/audio/speech', JSON.stringify(body), { 'content-type': 'application/json' });
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assertErrorShape(assert, r.json);
      assert.equal(r.json.error.param, param);
    }
  });

  // ---- transcription ------------------------------------------------------------------

  test('transcriptions: the upload reaches Whisper intact; json, text, srt, vtt, verbose_json', T, async () => {
    const audio = wav(1.5);
    const digest = sha(audio).slice(0, 16);
    const file = () => toFile(audio, 'hello.wav', { type: 'audio/wav' });
    const since = await s.mock.mark();
    const { data: j, response } = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), language: 'en', prompt: 'Greetings', temperature: 0.2 }).withResponse();
    assert.ok(via(response.headers).startsWith('groq/whisper-large-v3'));
    assert.match(j.text, new RegExp(`${audio.length} bytes of hello\\.wav .*sha256 ${digest}`));
    const [rec] = await s.mock.requests({ provider: 'groq', endpoint: 'transcription', since });
    assert.equal(rec.upload.sha256, sha(audio));
    assert.equal(rec.form.language, 'en');
    assert.equal(rec.form.prompt, 'Greetings');
    assert.equal(rec.form.response_format, 'verbose_json');

    const text = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'text' }).withResponse();
    assert.match(text.response.headers.get('content-type'), /^text\/plain/);
    assert.match(String(text.data), new RegExp(`sha256 ${digest}`));

    const srt = String(await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'srt' }));
    assert.match(srt, /^1\n00:00:00,000 --> 00:00:00,\d{3}\n\S.*\n\n2\n/);
    const vtt = String(await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'vtt' }));
    assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:00\.\d{3}\n/);

    const v = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] });
    assert.equal(v.task, 'transcribe');
    assert.ok(v.duration > 1.4 && v.duration < 1.6);
    assert.ok(v.segments.length >= 1 && v.words.length >= 3);
    assert.ok(typeof v.words[0].start === 'number' && typeof v.words[0].word === 'string');
    const recs = await s.mock.requests({ provider: 'groq', endpoint: 'transcription', since });
    assert.deepEqual(recs.at(-1).form['timestamp_granularities[]'], ['segment', 'word']);
  });

  test('translations: routed to the translations endpoint', T, async () => {
    const since = await s.mock.mark();
    const r = await s.client.audio.translations.create({ model: 'whisper-1', file: await toFile(wav(0.5), 'fr.mp3') });
    assert.match(r.text, /bytes of fr\.mp3/);
    const recs = await s.mock.requests({ provider: 'groq', endpoint: 'translation', since });
    assert.equal(recs.length, 1);
  });

  test('transcriptions: a 429 falls over to the other Whisper model', T, async () => {
    await s.mock.script({ provider: 'groq', endpoint: 'transcription', error: 'rate_limit_minute' });
    const { response } = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(wav(0.3), 'a.wav') }).withResponse();
    assert.equal(response.headers.get('x-fallback-attempts'), '1');
  });

  test('transcriptions: missing, empty, unsupported and oversized files; JSON bodies', T, async () => {
    const form = (f) => {
      const fd = new FormData();
      fd.append('model', 'whisper-1');
      if (f) fd.append('file', new Blob([f.data]), f.name);
      return fd;
    };
    let r = await rawPost(s, '/audio/transcriptions', form(null));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'file');
    r = await rawPost(s, '/audio/transcriptions', form({ data: Buffer.alloc(0), name: 'a.wav' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'file');
    r = await rawPost(s, '/audio/transcriptions', form({ data: Buffer.from('abc'), name: 'a.exe' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'file');
    r = await rawPost(s, '/audio/transcriptions', form({ data: Buffer.alloc(25 * 1024 * 1024 + 10), name: 'big.wav' }));
    assert.equal(r.status, 413);
    assertErrorShape(assert, r.json);
    r = await rawPost(s, '/audio/transcriptions', JSON.stringify({ model: 'whisper-1' }), { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_content_type');
    const bad = form({ data: wav(0.2), name: 'a.wav' });
    bad.append('response_format', 'xml');
    r = await rawPost(s, '/audio/transcriptions', bad);
    assert.equal(r.json.error.param, 'response_format');
    // A body cut off inside a part is refused, not half-read.
    r = await rawPost(s, '/audio/transcriptions', '--XX\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF', { 'content-type': 'multipart/form-data; boundary=XX' });
    assert.equal(r.status, 400);
  });

  test('transcriptions: array fields are taken as name[] and as name', T, async () => {
    const fd = new FormData();
    fd.append('model', 'whisper-1');
    fd.append('response_format', 'verbose_json');
    fd.append('timestamp_granularities', 'word');
    fd.append('file', new Blob([wav(0.4)]), 'plain.wav');
    const r = await rawPost(s, '/audio/transcriptions', fd);
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.json.words) && r.json.words.length > 0);
    assert.equal(r.json.segments, undefined); // words only, as asked
  });

  test('uploads: a client that leaves mid-upload costs nothing; the gateway goes on', T, async () => {
    const port = new URL(s.baseURL).port;
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => {
        const sock = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
          sock.write(`POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.key}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 8000000\r\n\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n`);
          sock.write(Buffer.alloc(1_000_000, 1), () => setTimeout(() => sock.destroy(), 50));
        });
        sock.on('close', resolve);
        sock.on('error', () => {});
      });
    }
    const r = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(wav(0.2), 'after.wav') });
    assert.match(r.text, /bytes of after\.wav/);
  });

  test('garbage bodies on every media endpoint get a 4xx, never a crash or a hang', T, async () => {
    let seed = 12345;
    const rnd = (n) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['--B', '\r\n', 'Content-Disposition: form-data; name="file"; filename="a.wav"', 'name="model"', 'whisper-1', '{', '}', '"input"', '[', ']', '0', '"', '\\', '\u0000', 'RIFF', '\x89PNG', ':', ',', 'null', '--B--'];
    const paths = ['/embeddings', '/images/generations', '/images/edits', '/images/variations', '/audio/speech', '/audio/transcriptions', '/audio/translations', '/realtime/sessions', '/realtime/client_secrets'];
    for (let i = 0; i < 180; i++) {
      let body = '';
      for (let k = 1 + rnd(40); k > 0; k--) body += pieces[rnd(pieces.length)]; // never empty: an empty realtime body is a valid default session
      const ct = rnd(2) ? 'multipart/form-data; boundary=B' : 'application/json';
      const r = await rawPost(s, paths[i % paths.length], body, { 'content-type': ct });
      assert.ok(r.status >= 400 && r.status < 500, `${paths[i % paths.length]} ${ct} ${JSON.stringify(body)} -> ${r.status} ${r.text.slice(0, 200)}`);
      assertErrorShape(assert, r.json);
    }
  });

  // ---- realtime -----------------------------------------------------------------------

  test('realtime sessions: a single-use Gemini Live token with the set-up and both tool forms baked in', T, async () => {
    const since = await s.mock.mark();
    const session = await s.client.beta.realtime.sessions.create({
      model: 'gemini-live-2.5-flash-preview',
      instructions: 'You are a terse assistant.',
      voice: 'coral',
      modalities: ['audio', 'text'],
      input_audio_transcription: { model: 'whisper-1' },
      tools: [
        { type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
      ],
    });
    assert.equal(session.object, 'realtime.session');
    assert.match(session.client_secret.value, /^auth_tokens\//);
    assert.ok(session.client_secret.expires_at > Date.now() / 1000);
    assert.match(session.connect_url, /^ws:\/\/127\.0\.0\.1:\d+\/.*BidiGenerateContentConstrained\?access_token=auth_tokens/);
    assert.deepEqual(session.config.tools, ['get_weather', 'get_time']);
    const [rec] = await s.mock.requests({ provider: 'google', endpoint: 'auth_token', since });
    assert.equal(rec.token, session.client_secret.value);
    assert.equal(rec.body.uses, 1);
    const setup = rec.body.bidiGenerateContentSetup;
    assert.equal(setup.model, 'models/gemini-live-2.5-flash-preview');
    assert.equal(setup.systemInstruction.parts[0].text, 'You are a terse assistant.');
    assert.equal(setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName, 'Sulafat');
    assert.deepEqual(setup.tools[0].functionDeclarations.map((f) => f.name), ['get_weather', 'get_time']);
    assert.equal(setup.tools[0].functionDeclarations[0].parameters.additionalProperties, undefined);
    assert.ok(setup.inputAudioTranscription);
    // The long-lived key stays in the gateway.
    assert.ok(!JSON.stringify(session).includes('AIzaSy'));
  });

  test('realtime sessions: transcription settings as booleans (the original example) and tool_choice as documented', T, async () => {
    let since = await s.mock.mark();
    await s.client.beta.realtime.sessions.create({ model: 'gemini-live-2.5-flash-preview', input_audio_transcription: true, output_audio_transcription: true, tool_choice: 'required',
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }] });
    let [rec] = await s.mock.requests({ provider: 'google', endpoint: 'auth_token', since });
    assert.ok(rec.body.bidiGenerateContentSetup.inputAudioTranscription, 'true turns input transcripts on');
    assert.ok(rec.body.bidiGenerateContentSetup.outputAudioTranscription);
    since = await s.mock.mark();
    await s.client.beta.realtime.sessions.create({ model: 'gemini-live-2.5-flash-preview', input_audio_transcription: false, output_audio_transcription: false,
      tool_choice: { type: 'function', name: 'f' }, tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }] });
    [rec] = await s.mock.requests({ provider: 'google', endpoint: 'auth_token', since });
    assert.equal(rec.body.bidiGenerateContentSetup.inputAudioTranscription, undefined);
    assert.equal(rec.body.bidiGenerateContentSetup.outputAudioTranscription, undefined, 'false turns output transcripts off');
    // A named function is the only one the session declares (Live has no toolConfig).
    since = await s.mock.mark();
    const named = await s.client.beta.realtime.sessions.create({ model: 'gemini-live-2.5-flash-preview', tool_choice: { type: 'function', name: 'g' },
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }, { type: 'function', function: { name: 'g', parameters: { type: 'object', properties: {} } } }] });
    [rec] = await s.mock.requests({ provider: 'google', endpoint: 'auth_token', since });
    assert.deepEqual(rec.body.bidiGenerateContentSetup.tools[0].functionDeclarations.map((f) => f.name), ['g']);
    assert.deepEqual(named.config.tools, ['g']);
    for (const tc of ['auto', 'none']) {
      const r = await rawPost(s, '/realtime/sessions', JSON.stringify({ tool_choice: tc, tools: [{ type: 'function', name: 'f' }] }), { 'content-type': 'application/json' });
      assert.equal(r.status, 200, tc);
    }
    for (const [body, param] of [[{ input_audio_transcription: 'yes' }, 'input_audio_transcription'], [{ output_audio_transcription: 1 }, 'output_audio_transcription'],
      [{ tool_choice: { type: 'function' } }, 'tool_choice'], [{ tool_choice: 'sometimes' }, 'tool_choice'],
      [{ tool_choice: { type: 'function', name: 'h' }, tools: [{ type: 'function', name: 'f' }] }, 'tool_choice'], [{ tool_choice: { type: 'function', name: 'f' } }, 'tool_choice']]) {
      const r = await rawPost(s, '/realtime/sessions', JSON.stringify(body), { 'content-type': 'application/json' });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.param, param);
    }
  });

  test('realtime client secrets (GA): the same minting, answered as {value, expires_at, session}', T, async () => {
    const since = await s.mock.mark();
    const r = await s.client.realtime.clientSecrets.create({
      expires_after: { anchor: 'created_at', seconds: 120 },
      session: {
        type: 'realtime',
        model: 'gemini-live-2.5-flash-preview',
        instructions: 'Answer briefly.',
        output_modalities: ['audio'],
        audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: { model: 'whisper-1' } }, output: { voice: 'marin' } },
        tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
      },
    });
    assert.match(r.value, /^auth_tokens\//);
    assert.ok(r.expires_at > Date.now() / 1000 && r.expires_at <= Date.now() / 1000 + 125);
    assert.equal(r.session.type, 'realtime');
    assert.equal(r.session.model, 'gemini-live-2.5-flash-preview');
    assert.deepEqual(r.session.config.tools, ['lookup']);
    const [rec] = await s.mock.requests({ provider: 'google', endpoint: 'auth_token', since });
    const setup = rec.body.bidiGenerateContentSetup;
    assert.equal(setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName, 'Aoede');
    assert.deepEqual(setup.generationConfig.responseModalities, ['AUDIO']);
    assert.ok(setup.inputAudioTranscription);
    assert.equal(setup.tools[0].functionDeclarations[0].name, 'lookup');
    const bad = await rawPost(s, '/realtime/client_secrets', JSON.stringify({ session: { type: 'transcription' } }), { 'content-type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'session.type');
    const fmt = await rawPost(s, '/realtime/client_secrets', JSON.stringify({ session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } } } } }), { 'content-type': 'application/json' });
    assert.equal(fmt.status, 400);
  });

  test('realtime sessions: bad tools, formats and voices are 400s', T, async () => {
    for (const [body, param] of [
      [{ tools: [{ type: 'function' }] }, 'tools[0]'],
      [{ tools: [{ type: 'code_interpreter' }] }, 'tools[0]'],
      [{ voice: 'robot' }, 'voice'],
      [{ input_audio_format: 'g711_ulaw' }, 'input_audio_format'],
      [{ modalities: ['video'] }, 'modalities'],
      [{ model: 'gemini-embedding-001' }, 'model'],
    ]) {
      const r = await rawPost(s, '/realtime/sessions', JSON.stringify(body), { 'content-type': 'application/json' });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error.param, param);
    }
  });
});

describe('embeddings: a Matryoshka model cuts, never grows', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [EMBED_GH, EMBED_MI],
      keys: [{ provider: 'github', secret: 'ghp_e2e_media_cut' }, { provider: 'mistral', secret: 'mi_e2e_media_cut' }],
    });
  });
  after(async () => s?.stop());

  test('text-embedding-3-large (3072) is refused clearly when the only flexible model makes 1536', T, async () => {
    const since = await s.mock.mark();
    await assert.rejects(s.client.embeddings.create({ model: 'text-embedding-3-large', input: 'x' }),
      (e) => e.status === 400 && e.code === 'dimensions_unavailable' && e.param === 'dimensions' && /3072/.test(e.message));
    assert.equal((await s.mock.requests({ endpoint: 'embed', since })).length, 0, 'nothing was sent upstream');
    const r = await s.client.embeddings.create({ model: 'text-embedding-3-large', input: 'x', dimensions: 1024, encoding_format: 'float' });
    assert.equal(r.data[0].embedding.length, 1024);
  });

  test('auto with a size larger than any model makes is not sent upstream', T, async () => {
    const since = await s.mock.mark();
    const r = await s.fetch('/embeddings', { method: 'POST', json: { model: 'auto', input: 'x', dimensions: 2048 } });
    assert.ok([400, 429, 503].includes(r.status), String(r.status));
    assert.ok((await r.json()).error.message);
    assert.equal((await s.mock.requests({ endpoint: 'embed', since })).length, 0);
  });
});

describe('media endpoints under free-tier caps', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [{ ...IMAGE_G, limits: { rpm: 2 } }, IMAGE_CF],
      keys: [
        { provider: 'google', secret: 'AIzaSyE2E-media-cap-0001', label: 'g' },
        { provider: 'cloudflare', secret: 'cf_e2e_media_cap', account: 'acc_cap', label: 'cf' },
      ],
    });
  });
  after(async () => s?.stop());

  test('images: n calls on one model stop at its RPM cap and the rest come from the next model', T, async () => {
    const since = await s.mock.mark();
    const r = await s.client.images.generate({ model: 'auto', prompt: 'three boats', n: 3, response_format: 'b64_json' });
    assert.equal(r.data.length, 3);
    const recs = await s.mock.requests({ endpoint: 'image', since });
    assert.deepEqual(recs.map((q) => q.provider), ['google', 'google', 'cloudflare']);
  });
});

describe('media endpoints: speech-to-text on Cloudflare Whisper', () => {
  const CF_TURBO = { provider: 'cloudflare', id: '@cf/openai/whisper-large-v3-turbo' };
  const CF_WHISPER = { provider: 'cloudflare', id: '@cf/openai/whisper' };
  let s;
  before(async () => {
    s = await startStack({
      models: [CF_TURBO, CF_WHISPER],
      keys: [{ provider: 'cloudflare', secret: 'cf_e2e_whisper', account: 'acc_whisper', label: 'cf' }],
    });
  });
  after(async () => s?.stop());

  test('transcriptions: json, srt and verbose_json through Cloudflare; the upload arrives intact as base64 or raw bytes', T, async () => {
    const audio = wav(1.5);
    const digest = sha(audio).slice(0, 16);
    const file = () => toFile(audio, 'hello.wav', { type: 'audio/wav' });
    let since = await s.mock.mark();
    const { data: j, response } = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), language: 'en', prompt: 'Greetings', temperature: 0.2 }).withResponse();
    assert.equal(via(response.headers), 'cloudflare/@cf/openai/whisper-large-v3-turbo');
    assert.equal(response.headers.get('x-fallback-attempts'), null);
    assert.equal(j.text, `Received ${audio.length} bytes of audio (base64) sha256 ${digest}.`);
    const [rec] = await s.mock.requests({ provider: 'cloudflare', endpoint: 'transcription', since });
    assert.equal(rec.path, '/cloudflare/client/v4/accounts/acc_whisper/ai/run/@cf/openai/whisper-large-v3-turbo');
    assert.equal(rec.violation, null);
    assert.equal(rec.upload.sha256, sha(audio));
    assert.equal(rec.upload.bytes, audio.length);
    assert.deepEqual(rec.body, { task: 'transcribe', language: 'en', initial_prompt: 'Greetings', audio: { bytes: audio.length, sha256: sha(audio) } });

    const srt = String(await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), response_format: 'srt' }));
    assert.match(srt, /^1\n00:00:00,000 --> 00:00:00,750\nReceived \d+ bytes of\n\n2\n00:00:00,750 --> 00:00:01,500\naudio \(base64\) sha256 [0-9a-f]{16}\.\n\n$/);

    const v = await s.client.audio.transcriptions.create({ model: 'whisper-1', file: await file(), language: 'de', response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] });
    assert.equal(v.task, 'transcribe');
    assert.equal(v.language, 'german');
    assert.equal(v.duration, 1.5);
    assert.equal(v.text, j.text);
    assert.equal(v.segments.length, 2);
    v.segments.forEach((seg, i) => {
      assert.equal(seg.id, i);
      assert.equal(seg.seek, 0);
      assert.deepEqual(seg.tokens, []);
      for (const k of ['start', 'end', 'text', 'temperature', 'avg_logprob', 'compression_ratio', 'no_speech_prob']) assert.equal(typeof seg[k], k === 'text' ? 'string' : 'number', k);
      assert.equal(seg.words, undefined);
    });
    assert.equal(v.segments[1].end, 1.5);
    assert.deepEqual(v.words.map((w) => w.word), j.text.split(' '));
    assert.ok(v.words.every((w, i) => w.end > w.start && (i === 0 || w.start === v.words[i - 1].end)));

    // The raw-bytes model, named: the same upload as the body, no options sent.
    since = await s.mock.mark();
    const raw = await s.client.audio.transcriptions.create({ model: '@cf/openai/whisper', file: await file(), language: 'en', prompt: 'ignored', response_format: 'verbose_json', timestamp_granularities: ['word'] }).withResponse();
    assert.equal(via(raw.response.headers), 'cloudflare/@cf/openai/whisper');
    assert.equal(raw.data.text, `Received ${audio.length} bytes of audio (application/octet-stream) sha256 ${digest}.`);
    assert.equal(raw.data.duration, 1.5);
    assert.equal(raw.data.language, 'unknown');
    assert.equal(raw.data.words.length, raw.data.text.split(' ').length);
    assert.equal(raw.data.segments, undefined);
    const [rrec] = await s.mock.requests({ provider: 'cloudflare', endpoint: 'transcription', since });
    assert.equal(rrec.model, '@cf/openai/whisper');
    assert.equal(rrec.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(rrec.upload, { bytes: audio.length, sha256: sha(audio) });
    assert.equal(rrec.body, null);
    assert.equal(rrec.violation, null);
    // json from the raw model too; srt without segments is one cue over the audio
    const rsrt = String(await s.client.audio.transcriptions.create({ model: '@cf/openai/whisper', file: await file(), response_format: 'srt' }));
    assert.match(rsrt, /^1\n00:00:00,000 --> 00:00:01,500\nReceived .* sha256 [0-9a-f]{16}\.\n\n$/);
  });

  test('translations: only the turbo model translates; the raw-bytes model is skipped, not called', T, async () => {
    const audio = wav(0.5);
    const since = await s.mock.mark();
    for (const model of ['@cf/openai/whisper', 'whisper-1']) {
      const { data, response } = await s.client.audio.translations.create({ model, file: await toFile(audio, 'fr.mp3'), prompt: 'Bonjour', response_format: 'verbose_json' }).withResponse();
      assert.equal(via(response.headers), 'cloudflare/@cf/openai/whisper-large-v3-turbo', model);
      assert.equal(response.headers.get('x-fallback-attempts'), null);
      assert.equal(data.task, 'translate');
      assert.equal(data.language, 'english');
      assert.match(data.text, new RegExp(`^Received ${audio.length} bytes of audio \\(base64\\) sha256 ${sha(audio).slice(0, 16)}\\.$`));
    }
    const recs = await s.mock.requests({ provider: 'cloudflare', since });
    assert.deepEqual(recs.map((r) => [r.model, r.endpoint]), [['@cf/openai/whisper-large-v3-turbo', 'translation'], ['@cf/openai/whisper-large-v3-turbo', 'translation']]);
    assert.deepEqual(recs[0].body, { task: 'translate', initial_prompt: 'Bonjour', audio: { bytes: audio.length, sha256: sha(audio) } });
  });

  test('transcriptions: a 500 from one Whisper model falls over to the other with the same upload', T, async () => {
    const audio = wav(0.4);
    // A 500 naming Cloudflare's model-capacity code (3040) benches that model only; a bare
    // 500 (3043) is a provider-wide server failure in the error table and skips every
    // Cloudflare model, so it is not the case to test a fallover between two of them.
    const capacity = { success: false, errors: [{ code: 3040, message: 'Capacity temporarily exceeded, please try again.' }], messages: [], result: null };
    await s.mock.script({ provider: 'cloudflare', model: '@cf/openai/whisper', endpoint: 'transcription', error: { status: 500, body: capacity } });
    const since = await s.mock.mark();
    const { data, response } = await s.client.audio.transcriptions.create({ model: '@cf/openai/whisper', file: await toFile(audio, 'a.wav') }).withResponse();
    await s.mock.clearScript();
    assert.equal(via(response.headers), 'cloudflare/@cf/openai/whisper-large-v3-turbo');
    assert.equal(response.headers.get('x-fallback-attempts'), '1');
    assert.match(data.text, /\(base64\) sha256 /);
    const recs = await s.mock.requests({ provider: 'cloudflare', endpoint: 'transcription', since });
    assert.deepEqual(recs.map((r) => [r.model, r.status]), [['@cf/openai/whisper', 500], ['@cf/openai/whisper-large-v3-turbo', 200]]);
    assert.deepEqual(recs.map((r) => r.upload.sha256), [sha(audio), sha(audio)]);
  });
});
