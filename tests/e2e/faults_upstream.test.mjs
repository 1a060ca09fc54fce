// Fault suite for what comes from outside the front server (issue: reliability):
// image URLs that redirect, upstream errors that echo a key altered, a spoofed
// Host header, a prompt longer than every context window, and what a crash
// leaves in the data directory. Each test failed before its fix.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withStack, runCli, sleep, assertErrorShape, gfield, geminiParts } from './lib/harness.mjs';

const T = { timeout: 60000 };
const G25 = { provider: 'google', id: 'gemini-2.5-flash' };
const IMAGE_G = { provider: 'google', id: 'gemini-2.5-flash-image' };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const GKEY = { provider: 'google', secret: 'AIzaSyFaultsUpstream00001', label: 'g' };
const GROQ_SECRET = 'gsk_Q7xA9mZ2LpT4vB8nR1cKfaults';
const GROQ_KEY = { provider: 'groq', secret: GROQ_SECRET, label: 'groq' };

/** Every 8-character run of the secret's letters and digits, lower-cased. */
function secretRuns(secret) {
  const norm = secret.toLowerCase().replace(/[^a-z0-9]/g, '');
  const runs = [];
  for (let i = 0; i + 8 <= norm.length; i++) runs.push(norm.slice(i, i + 8));
  return runs;
}

/** The first run of the secret found in text (case-folded, separators ignored), or null. */
function leakIn(text, secret) {
  const norm = String(text).toLowerCase().replace(/[^a-z0-9]/g, '');
  return secretRuns(secret).find((r) => norm.includes(r)) ?? null;
}

describe('image URLs that redirect', () => {
  test('a 302 to a PNG is followed and the image reaches the model', T, async () => {
    await withStack({ models: [G25], keys: [GKEY], env: { FREELLMAPI_FETCH_ALLOW_CIDRS: '127.0.0.1/32' } }, async (s) => {
      const mark = await s.mock.mark();
      const target = s.mock.assetUrl('pixel.png');
      const url = s.mock.assetUrl(`redirect?to=${encodeURIComponent(target)}`);
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url } }] }] } });
      const body = await r.json();
      assert.equal(r.status, 200, `${JSON.stringify(body)}${await s.diag()}`);
      assert.deepEqual((await s.mock.requests({ provider: 'assets', since: mark })).map((x) => x.path), ['/assets/redirect', '/assets/pixel.png']);
      const [chat] = (await s.mock.requests({ provider: 'google', since: mark })).filter((x) => x.endpoint === 'chat');
      const inl = gfield(geminiParts(chat.body).find((p) => gfield(p, 'inlineData')), 'inlineData');
      assert.equal(gfield(inl, 'mimeType'), 'image/png');
      const served = Buffer.from(await (await fetch(target)).arrayBuffer());
      assert.equal(served.subarray(1, 4).toString(), 'PNG');
      assert.deepEqual(Buffer.from(inl.data, 'base64'), served);
    });
  });
});

describe('secrets echoed by an upstream, altered', () => {
  const echoes = [
    ['lower-cased', GROQ_SECRET.toLowerCase()],
    ['split by /', `${GROQ_SECRET.slice(0, 10)}/${GROQ_SECRET.slice(10, 20)}/${GROQ_SECRET.slice(20)}`],
    ['upper-cased and spaced', GROQ_SECRET.toUpperCase().match(/.{1,6}/g).join(' ')],
    ['truncated', GROQ_SECRET.slice(4, 16)],
  ];

  test('an error passed to the client shows none of the key, however it was altered', T, async () => {
    await withStack({ models: [GROQ], keys: [GROQ_KEY] }, async (s) => {
      for (const [how, echo] of echoes) {
        await s.mock.script({ provider: 'groq', error: { status: 400, body: { error: { message: `Invalid value for key '${echo}' in field x`, type: 'invalid_request_error' } } } });
        const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
        const text = await r.text();
        assert.equal(r.status, 400, `${how}: ${text}`);
        assertErrorShape(assert, JSON.parse(text));
        assert.equal(leakIn(text, GROQ_SECRET), null, `${how}: the answer shows part of the key: ${text}`);
        assert.match(text, /Invalid value for key/, `${how}: the upstream's own words are kept`);
      }
      assert.equal(leakIn(s.gwLogs(), GROQ_SECRET), null, 'the gateway log shows part of the key');
      const rows = await s.db('SELECT * FROM request_log');
      assert.equal(leakIn(JSON.stringify(rows), GROQ_SECRET), null, 'the request log shows part of the key');
    });
  });

  test('an in-band error in a committed stream shows none of the key', T, async () => {
    await withStack({ models: [GROQ], keys: [GROQ_KEY] }, async (s) => {
      const echo = `${GROQ_SECRET.toLowerCase().slice(0, 12)}/${GROQ_SECRET.slice(12)}`;
      await s.mock.script({ provider: 'groq', stream: true, inband_error_after: 2, inband_error: { error: { message: `quota for ${echo} exceeded`, type: 'server_error' } } });
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
      const text = await r.text();
      assert.equal(r.status, 200, text);
      assert.match(text, /quota for .* exceeded/, text);
      assert.equal(leakIn(text, GROQ_SECRET), null, `the stream shows part of the key: ${text}`);
    });
  });
});

describe('image URLs handed out', () => {
  test('never built from the Host header; the public URL setting is used as given', T, async () => {
    await withStack({ models: [IMAGE_G], keys: [GKEY] }, async (s) => {
      const ask = (headers = {}) => s.fetch('/images/generations', { json: { model: IMAGE_G.id, prompt: 'a kite', response_format: 'url' }, headers });
      const r = await ask({ host: 'evil.example' });
      const body = await r.json();
      assert.equal(r.status, 200, JSON.stringify(body));
      assert.match(body.data[0].url, new RegExp(`^http://127\\.0\\.0\\.1:${s.port}/v1/images/files/[0-9a-f]{64}\\.png$`));
      const img = await fetch(body.data[0].url);
      assert.equal(img.status, 200);

      s.env.FREELLMAPI_PUBLIC_URL = 'https://gw.example.org/';
      await s.restart();
      const r2 = await (await ask({ host: 'evil.example', 'x-forwarded-host': 'evil.example' })).json();
      assert.match(r2.data[0].url, /^https:\/\/gw\.example\.org\/v1\/images\/files\/[0-9a-f]{64}\.png$/, JSON.stringify(r2));
      const local = r2.data[0].url.replace('https://gw.example.org', `http://127.0.0.1:${s.port}`);
      assert.equal((await fetch(local)).status, 200, 'the file is served under the path the URL names');

      await s.stopServer();
      const bad = await runCli(['serve', '--port', '0', '--data-dir', s.dataDir], { env: { ...s.env, FREELLMAPI_PUBLIC_URL: 'javascript:alert(1)' } });
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, /FREELLMAPI_PUBLIC_URL must be an http/);
      assert.doesNotMatch(bad.stderr, /Sanitizer/, 'a refused start frees what it opened');
    });
  });
});

describe('a start that cannot listen', () => {
  test('a port in use ends the start with exit 1 and the reason, having freed what it opened', T, async () => {
    await withStack({ models: [GROQ], keys: [GROQ_KEY] }, async (s) => {
      const dir = fs.mkdtempSync(path.join(s.dataDir, '..', 'second-'));
      const r = await runCli(['serve', '--port', String(s.port), '--data-dir', dir], { env: s.env });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${s.port}: Address already in use`));
      assert.doesNotMatch(r.stderr, /Sanitizer/, r.stderr);
      assert.equal((await s.fetch('/models')).status, 200, 'the first server is untouched');
    });
  });
});

describe('a prompt longer than every context window', () => {
  test('400 context_length_exceeded naming messages, and nothing reaches a provider', T, async () => {
    await withStack({ models: [GROQ], keys: [GROQ_KEY] }, async (s) => {
      const mark = await s.mock.mark();
      const prompt = 'lorem ipsum '.repeat(200000); // 2.4 MB, ~600k tokens against a 131k window
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: prompt }] } });
      const body = await r.json();
      assert.equal(r.status, 400, JSON.stringify(body));
      assertErrorShape(assert, body, { code: 'context_length_exceeded', type: 'invalid_request_error' });
      assert.equal(body.error.param, 'messages');
      assert.match(body.error.message, /context window/);
      assert.match(body.error.message, /131072/);
      assert.doesNotMatch(body.error.message, /keys add/);

      // A short prompt with an impossible max_tokens blames max_tokens.
      const r2 = await s.fetch('/chat/completions', { json: { model: 'auto', max_tokens: 500000, messages: [{ role: 'user', content: 'hi' }] } });
      const b2 = await r2.json();
      assert.equal(r2.status, 400, JSON.stringify(b2));
      assert.equal(b2.error.param, 'max_tokens');
      assert.equal((await s.mock.chatRequests({ since: mark })).length, 0);
      let rows = [];
      for (let i = 0; i < 40 && rows.length < 2; i++) {
        await sleep(100);
        rows = await s.db('SELECT status, error_class FROM request_log ORDER BY id');
      }
      assert.deepEqual(rows.map((r) => [r.status, r.error_class]), [[400, 'context_length'], [400, 'context_length']]);
    });
  });
});

describe('what a crash leaves in the data directory', () => {
  test('a stale key temp file is removed at start; a world-writable data directory is named', T, async () => {
    await withStack({ models: [GROQ], keys: [GROQ_KEY] }, async (s) => {
      await s.stopServer();
      // What kill -9 during the first `keys add` leaves: key material under a dead pid.
      const stale = path.join(s.dataDir, 'encryption.key.tmp.4194300');
      fs.writeFileSync(stale, 'ab'.repeat(32) + '\n', { mode: 0o600 });
      const other = path.join(s.dataDir, 'encryption.key.tmp.notapid');
      fs.writeFileSync(other, 'keep');
      fs.chmodSync(s.dataDir, 0o777);
      try {
        await s.start();
        assert.ok(!fs.existsSync(stale), 'the stale key file is gone');
        assert.ok(fs.existsSync(other), 'files that are not ours are left alone');
        assert.match(s.gwLogs(), /removed .*encryption\.key\.tmp\.4194300/);
        assert.match(s.gwLogs(), /data directory .* is writable by every user \(mode 0777\)/);
        const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
        assert.equal(r.status, 200, 'the keys still open with the kept key');
      } finally {
        fs.chmodSync(s.dataDir, 0o700);
      }
    });
  });
});
