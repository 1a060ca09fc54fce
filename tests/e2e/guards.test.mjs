// Guards that mutation testing showed untested: a forged unified key of the right
// length, the 20-attempt cap, `messages` that is not an array, an end-to-end TPM
// cap, and what needs no key (only from this machine). Each asserts what reached
// the provider as well as what the client got.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { startStack, withStack, routedVia, assertErrorShape, sleep, BIN, CATALOG_JSON, KEYLESS } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'llama3.1-8b' };
const KEYS = [
  { provider: 'groq', secret: 'gsk_e2e_guards', label: 'groq' },
  { provider: 'cerebras', secret: 'csk_e2e_guards', label: 'cerebras' },
];
const via = (h) => routedVia(h)?.raw ?? null;

/** Every request the mock saw since `mark`, for every provider. */
const upstreamSince = async (s, mark) => (await s.mock.requests({ since: mark })).filter((r) => r.endpoint !== 'models');

/** Replaces the character at index i with another letter or digit of the key's alphabet. */
function alter(key, i) {
  const c = key[i];
  const to = c === 'a' ? 'b' : c === '0' ? '1' : /[0-9]/.test(c) ? '0' : 'a';
  return key.slice(0, i) + to + key.slice(i + 1);
}

// Every endpoint, by method and path (after /v1), with a body the handler would accept.
const ENDPOINTS = [
  ['POST', '/chat/completions', JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }), 'application/json'],
  ['POST', '/chat/completions', JSON.stringify({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'hi' }] }), 'application/json'],
  ['POST', '/embeddings', JSON.stringify({ model: 'auto', input: 'hi' }), 'application/json'],
  ['POST', '/images/generations', JSON.stringify({ prompt: 'a kite' }), 'application/json'],
  ['POST', '/images/edits', '--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
  ['POST', '/images/variations', '--b\r\nContent-Disposition: form-data; name="n"\r\n\r\n1\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
  ['POST', '/audio/speech', JSON.stringify({ model: 'tts-1', input: 'hi', voice: 'alloy' }), 'application/json'],
  ['POST', '/audio/transcriptions', '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
  ['POST', '/audio/translations', '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
  ['POST', '/realtime/sessions', JSON.stringify({ model: 'auto' }), 'application/json'],
  ['POST', '/realtime/client_secrets', JSON.stringify({ session: { type: 'realtime' } }), 'application/json'],
  ['GET', '/models'],
  ['GET', `/models/${GROQ.id}`],
  ['GET', '/nope'],
];

// One stack for the describes that need nothing special; the others start their own.
let s;
before(async () => {
  s = await startStack({ models: [GROQ], keys: KEYS.slice(0, 1) });
}, T);
after(async () => {
  await s?.stop();
});

describe('a forged unified key of the right length', () => {
  test('one character changed (first after the prefix, last) is refused on every endpoint; nothing reaches a provider', T, async () => {
    const prefix = 'freellmapi-'.length;
    const forged = [alter(s.key, prefix), alter(s.key, s.key.length - 1), alter(s.key, Math.floor((prefix + s.key.length) / 2))];
    for (const f of forged) assert.equal(f.length, s.key.length);
    const mark = await s.mock.mark();
    for (const key of forged) {
      for (const [method, path, body, type] of ENDPOINTS) {
        const r = await s.fetch(path, { method, body, headers: { authorization: `Bearer ${key}`, ...(type ? { 'content-type': type } : {}) } });
        const text = await r.text();
        assert.equal(r.status, 401, `${method} ${path} with a forged key: ${r.status} ${text.slice(0, 200)}`);
        assertErrorShape(assert, JSON.parse(text), { code: 'invalid_api_key' });
        assert.ok(!text.includes(s.key) && !text.includes(key), 'the error repeats no key');
      }
    }
    assert.deepEqual(await upstreamSince(s, mark), [], 'no provider was called');
    // Control: the real key opens the same door.
    const ok = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(ok.status, 200);
    assert.equal((await upstreamSince(s, mark)).length, 1);
  });
});

describe('the attempt cap', () => {
  test('25 failing candidates get exactly 20 upstream attempts and a 503 saying the cap was reached', T, async () => {
    // 25 chat models on keyed providers, round-robin over providers so each has a few.
    const cat = JSON.parse(fs.readFileSync(CATALOG_JSON, 'utf8'));
    const byProvider = cat.providers.filter((p) => !KEYLESS.includes(p.id) && p.id !== 'cloudflare').map((p) => p.models.filter((m) => m.kind === 'chat').map((m) => ({ provider: p.id, id: m.id })));
    const models = [];
    for (let i = 0; models.length < 25 && i < 50; i++) for (const list of byProvider) if (list[i] && models.length < 25) models.push(list[i]);
    assert.equal(models.length, 25, 'the catalog has 25 chat models on keyed providers');
    const providers = [...new Set(models.map((m) => m.provider))];
    const keys = providers.map((p) => ({ provider: p, secret: `key_e2e_cap_${p}_0001`, label: p }));
    await withStack({ models, keys }, async (s) => {
      // "Model not found" benches the model, not the provider: every candidate is tried once.
      await s.mock.script(providers.map((p) => ({ provider: p, endpoint: 'chat', error: 'model_not_found', times: 0 })));
      const mark = await s.mock.mark();
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
      const body = await r.json();
      const tried = (await upstreamSince(s, mark)).filter((x) => x.endpoint === 'chat');
      assert.equal(r.status, 503, JSON.stringify(body));
      assertErrorShape(assert, body);
      assert.equal(tried.length, 20, `upstream attempts: ${tried.length}`);
      assert.equal(new Set(tried.map((x) => `${x.provider}/${x.model}`)).size, 20, 'twenty different models');
      assert.match(body.error.message, /limit of 20 attempts/, body.error.message);
      assert.equal(r.headers.get('x-fallback-attempts'), '19');
    });
  });
});

describe('messages that are not an array', () => {
  test('400 naming messages, and nothing reaches a provider', T, async () => {
    const mark = await s.mock.mark();
    for (const messages of ['hi', { role: 'user', content: 'hi' }, 42, null, true, []]) {
      for (const stream of [false, true]) {
        const r = await s.fetch('/chat/completions', { json: { model: 'auto', stream, messages } });
        const body = await r.json();
        assert.equal(r.status, 400, `messages=${JSON.stringify(messages)}: ${JSON.stringify(body)}`);
        assertErrorShape(assert, body);
        assert.equal(body.error.param, 'messages', JSON.stringify(body));
      }
    }
    assert.deepEqual(await upstreamSince(s, mark), [], 'no provider was called');
  });
});

describe('a tokens-per-minute cap, end to end', () => {
  test('a request that would pass the TPM cap goes to the next model; with none left, 429 with a wait', T, async () => {
    const capped = { ...GROQ, limits: { tpm: 1500 } };
    await withStack({ models: [capped, CEREBRAS], keys: KEYS }, async (s) => {
      // ~500 tokens of prompt, +256 expected output fit under 1500; the provider then reports
      // 1200 used, so the next such request would pass the cap.
      const ask = (model = 'auto') => s.fetch('/chat/completions', { json: { model, messages: [{ role: 'user', content: `${'word '.repeat(400)} ${Math.random()}` }] } });
      await s.mock.script({ provider: 'groq', usage: { prompt_tokens: 1100, completion_tokens: 100, total_tokens: 1200 } });
      const mark = await s.mock.mark();
      const r1 = await ask();
      assert.equal(r1.status, 200);
      assert.equal(via(r1.headers), `groq/${GROQ.id}`);
      const r2 = await ask();
      assert.equal(r2.status, 200);
      assert.equal(via(r2.headers), `cerebras/${CEREBRAS.id}`, 'the capped model was skipped');
      assert.equal(r2.headers.get('x-fallback-attempts'), null, 'skipped without an attempt');
      const groqCalls = (await upstreamSince(s, mark)).filter((x) => x.provider === 'groq');
      assert.equal(groqCalls.length, 1, 'the capped model was not called a second time');
    });
    await withStack({ models: [capped], keys: KEYS.slice(0, 1) }, async (s) => {
      const ask = () => s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: `${'word '.repeat(400)} ${Math.random()}` }] } });
      await s.mock.script({ provider: 'groq', usage: { prompt_tokens: 1100, completion_tokens: 100, total_tokens: 1200 } });
      assert.equal((await ask()).status, 200);
      const mark = await s.mock.mark();
      const r = await ask();
      const body = await r.json();
      assert.equal(r.status, 429, JSON.stringify(body));
      assertErrorShape(assert, body, { code: 'rate_limit_exceeded' });
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 61, `retry-after ${wait}`);
      assert.deepEqual(await upstreamSince(s, mark), [], 'the cap is kept without calling the provider');
    });
  });
});

describe('what needs no key, from this machine only', () => {
  const get = (host, port, path, headers = {}) => new Promise((resolve) => {
    const req = http.get({ host, port, path, headers, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => resolve(e.code));
    req.on('timeout', () => req.destroy());
  });

  test('/health and stored images without a key: yes from loopback, no when relayed', T, async () => {
    assert.equal(await get('127.0.0.1', s.port, '/health'), 200);
    const file = `/v1/images/files/${'0'.repeat(64)}.png`;
    assert.equal(await get('127.0.0.1', s.port, file), 404, 'unknown image, but no key asked');
    for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }]) {
      assert.equal(await get('127.0.0.1', s.port, '/health', h), 401, `relayed (${Object.keys(h)[0]}) /health`);
      assert.equal(await get('127.0.0.1', s.port, file, h), 401, `relayed (${Object.keys(h)[0]}) image`);
      assert.equal(await get('127.0.0.1', s.port, '/health', { ...h, authorization: `Bearer ${s.key}` }), 200, 'with the key it is fine');
    }
  });

  test('and no from another address of this machine', T, async (t) => {
    const addr = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!addr) return t.skip('no non-loopback IPv4 address on this machine');
    // The harness binds 127.0.0.1; this test needs the gateway on every address.
    await s.stopServer();
    const port = s.port;
    const child = spawn(BIN, ['serve', '--host', '0.0.0.0', '--port', String(port), '--data-dir', s.dataDir], { env: s.env, stdio: 'ignore' });
    try {
      let st;
      for (let i = 0; i < 100 && st !== 200; i++) {
        await sleep(100);
        st = await get('127.0.0.1', port, '/health');
      }
      assert.equal(st, 200);
      assert.equal(await get(addr, port, '/health'), 401, `/health from ${addr}`);
      assert.equal(await get(addr, port, '/health', { authorization: `Bearer ${s.key}` }), 200);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
