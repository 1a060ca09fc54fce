// Self-test of the mock providers (no gateway): cap accounting, the decision
// order, wire shapes, and the room check. node --test bench/sim/test/

import test from 'node:test';
import assert from 'node:assert/strict';
import { Ledger } from '../caps.mjs';
import { everyResponseHeaders, rateLimited, tooLarge } from '../wire.mjs';
import { MockProviders, promptTokens } from '../providers.mjs';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);

test('413 when prompt + max_tokens exceeds the TPM cap, before anything else', () => {
  const L = new Ledger({ models: { 'groq/m': { rpm: 1, tpm: 1000 } }, accounts: {}, concurrent: {} });
  L.admit('groq', 'm', 'k', 10, T);
  assert.equal(L.verdict('groq', 'm', 'k', 900, 101, T).status, 413);
  assert.equal(L.verdict('groq', 'm', 'k', 900, 100, T).kind, 'rpm');
});

test('TPM window holds prompt + max_tokens in flight, prompt + completion after; retry-after is when enough ages out', () => {
  const L = new Ledger({ models: { 'groq/m': { tpm: 1000 } }, accounts: {}, concurrent: {} });
  const a = L.admit('groq', 'm', 'k', 900, T);
  assert.equal(L.verdict('groq', 'm', 'k', 200, 0, T + 1000).kind, 'tpm');
  L.finish(a, 300, T);
  assert.equal(L.verdict('groq', 'm', 'k', 700, 0, T + 1000), null);
  const v = L.verdict('groq', 'm', 'k', 800, 0, T + 1000);
  assert.equal(v.kind, 'tpm');
  assert.equal(v.retryMs, 59000);
  assert.equal(L.verdict('groq', 'm', 'k', 800, 0, T + 60001), null);
  assert.equal(L.verdict('groq', 'm', 'k', 800, 0, T + 60001, 1000).kind, 'tpm', 'the room check counts a second more');
});

test('room-check slack: a request answered within the last second still holds its reservation and its concurrency slot', () => {
  const L = new Ledger({ models: { 'p/m': { tpm: 1000 } }, accounts: {}, concurrent: { p: 1 } });
  L.finish(L.admit('p', 'm', 'k', 900, T), 100, T + 500);
  assert.equal(L.verdict('p', 'm', 'k', 500, 0, T + 600), null);
  assert.equal(L.verdict('p', 'm', 'k', 500, 0, T + 600, 1000).kind, 'concurrent');
  const L2 = new Ledger({ models: { 'p/m': { tpm: 1000 } }, accounts: {}, concurrent: {} });
  L2.finish(L2.admit('p', 'm', 'k', 900, T), 100, T + 500);
  assert.equal(L2.verdict('p', 'm', 'k', 500, 0, T + 600, 1000).kind, 'tpm');
  assert.equal(L2.verdict('p', 'm', 'k', 500, 0, T + 1600, 1000), null);
});

test('RPM retry-after, daily caps, account caps and concurrency', () => {
  const L = new Ledger({ models: { 'p/a': { rpm: 2, rpd: 3 }, 'p/b': {} }, accounts: { p: { rpm: 3 } }, concurrent: { p: 1 } });
  const l1 = L.admit('p', 'a', 'k', 1, T);
  assert.equal(L.verdict('p', 'b', 'k', 1, 0, T).kind, 'concurrent');
  L.finish(l1, 1, T);
  L.finish(L.admit('p', 'a', 'k', 1, T + 2000), 1, T + 2000);
  const v = L.verdict('p', 'a', 'k', 1, 0, T + 3000);
  assert.deepEqual([v.kind, v.retryMs], ['rpm', 57000]);
  L.finish(L.admit('p', 'b', 'k', 1, T + 3000), 1, T + 3000);
  assert.deepEqual([L.verdict('p', 'b', 'k', 1, 0, T + 4000).scope, L.verdict('p', 'b', 'k', 1, 0, T + 4000).kind], ['account', 'rpm']);
  assert.equal(L.verdict('p', 'b', 'k2', 1, 0, T + 4000), null, 'another key has its own account');
  L.finish(L.admit('p', 'a', 'k', 1, T + 70000), 1, T + 70000);
  assert.equal(L.verdict('p', 'a', 'k', 1, 0, T + 130000).kind, 'rpd');
});

test('tokenizer: ceil(chars / ratio) + 4 per message, plus tools', () => {
  const body = { messages: [{ role: 'system', content: 'x'.repeat(40) }, { role: 'user', content: [{ type: 'text', text: 'y'.repeat(9) }] }] };
  assert.equal(promptTokens(body, 4), 10 + 4 + 3 + 4);
  assert.equal(promptTokens({ ...body, tools: [{ a: 1 }] }, 4), 21 + Math.ceil(JSON.stringify([{ a: 1 }]).length / 4));
});

test('wire: groq headers and bodies, cerebras suffixed headers, openrouter account 429', () => {
  const L = new Ledger({ models: { 'groq/m': { rpm: 30, tpm: 6000, rpd: 1000 } }, accounts: {}, concurrent: {} });
  L.finish(L.admit('groq', 'm', 'k', 500, T), 700, T);
  const h = everyResponseHeaders('groq', L.headerState('groq', 'm', 'k', T + 1000));
  assert.equal(h['x-ratelimit-limit-requests'], '1000');
  assert.equal(h['x-ratelimit-remaining-requests'], '999');
  assert.equal(h['x-ratelimit-limit-tokens'], '6000');
  assert.equal(h['x-ratelimit-remaining-tokens'], '5300');
  assert.equal(h['x-ratelimit-reset-tokens'], '59s');
  const big = tooLarge('groq', 'm', { limit: 6000, requested: 7322 });
  assert.equal(big.status, 413);
  assert.match(big.body.error.message, /Request too large for model `m` .* on tokens per minute \(TPM\): Limit 6000, Requested 7322/);
  const r = rateLimited('groq', 'm', { kind: 'tpm', limit: 6000, used: 5800, requested: 500, retryMs: 3200 }, null, T);
  assert.equal(r.headers['retry-after'], '4');
  assert.match(r.body.error.message, /TPM\): Limit 6000, Used 5800, Requested 500\. Please try again in 3\.2s/);
  assert.ok('x-ratelimit-limit-tokens-minute' in everyResponseHeaders('cerebras', L.headerState('groq', 'm', 'k', T)));
  const o = rateLimited('openrouter', 'x:free', { scope: 'account', kind: 'rpm', limit: 20, retryMs: 5000 }, null, T);
  assert.equal(o.headers['X-RateLimit-Reset'], String(T + 5000));
  assert.match(o.body.error.message, /free-models-per-min/);
});

test('mock server: probes are free, 401 for unknown keys, caps enforced over HTTP, room check', async () => {
  const mock = await new MockProviders({
    seed: 1,
    models: [{ provider: 'groq', id: 'm', ratio: 4, enforce: { rpm: 1, tpm: 100000 } }],
    keys: { groq: ['good'] },
    latencyMs: [1, 2],
  }).start();
  try {
    const post = (key, body) => fetch(`${mock.url}/groq/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const models = await fetch(`${mock.url}/groq/models`, { headers: { authorization: 'Bearer good' } });
    assert.equal((await models.json()).data[0].id, 'm');
    assert.equal((await post('bad', { model: 'm', messages: [] })).status, 401);
    const ok = await post('good', { model: 'm', messages: [{ role: 'user', content: '[sim:a] hi' }] });
    const j = await ok.json();
    assert.equal(ok.status, 200);
    assert.equal(j.usage.total_tokens, j.usage.prompt_tokens + j.usage.completion_tokens);
    assert.ok(ok.headers.get('x-ratelimit-limit-tokens'));
    const body = { model: 'm', messages: [{ role: 'user', content: '[sim:b] hi' }] };
    const no = await post('good', body);
    assert.equal(no.status, 429);
    assert.ok(Number(no.headers.get('retry-after')) > 0);
    assert.equal(mock.roomFor(body, [{ provider: 'groq', model: 'm', key: 'good' }]), null);
    const s = await post('good', { ...body, stream: true });
    assert.equal(s.status, 429);
    assert.deepEqual(mock.attempts.map((a) => a.status), [401, 200, 429, 429]);
    assert.equal(mock.probes, 1);
  } finally {
    await mock.stop();
  }
});

test('mock server: SSE with usage in a choice-less final chunk, or on the last chunk', async () => {
  const mock = await new MockProviders({ seed: 2, models: [{ provider: 'cerebras', id: 'm', ratio: 3.4, enforce: {} }], keys: { cerebras: ['k'] }, latencyMs: [1, 2] }).start();
  try {
    const frames = async (extra) => {
      const r = await fetch(`${mock.url}/cerebras/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 30, ...extra }),
      });
      assert.equal(r.status, 200);
      assert.ok(r.headers.get('x-ratelimit-remaining-tokens-minute'));
      const data = (await r.text()).split('\n\n').filter(Boolean).map((b) => b.replace(/^data: /, ''));
      assert.equal(data.at(-1), '[DONE]');
      return data.slice(0, -1).map((d) => JSON.parse(d));
    };
    const a = await frames({ stream_options: { include_usage: true } });
    assert.deepEqual(a.at(-1).choices, []);
    assert.ok(a.at(-1).usage.completion_tokens <= 30);
    const b = await frames({});
    assert.equal(b.at(-1).choices[0].finish_reason, 'stop');
    assert.ok(b.at(-1).usage.prompt_tokens > 0);
  } finally {
    await mock.stop();
  }
});

test('room check: a fit within the estimate\'s precision is marked exact, and clear room wins over it', () => {
  const mock = new MockProviders({
    seed: 3,
    models: [
      { provider: 'groq', id: 'a', ratio: 4, enforce: { tpm: 1000 } },
      { provider: 'groq', id: 'b', ratio: 4, enforce: { tpm: 1000 } },
    ],
    keys: { groq: ['k'] },
  });
  const now = Date.now();
  mock.outsideUse('groq', 'a', 'k', 600, now);
  mock.outsideUse('groq', 'b', 'k', 700, now);
  const bodyOf = (tokens) => ({ model: 'auto', messages: [{ role: 'user', content: 'x'.repeat((tokens - 4) * 4) }] });
  assert.equal(promptTokens(bodyOf(400), 4), 400);
  const pairs = [{ provider: 'groq', model: 'a', key: 'k' }, { provider: 'groq', model: 'b', key: 'k' }];
  const exact = mock.roomFor(bodyOf(400), pairs, now);
  assert.equal(exact.model, 'a');
  assert.equal(exact.exact, true, '400 into exactly 400 of room');
  const clear = mock.roomFor(bodyOf(380), pairs, now);
  assert.equal(clear.model, 'a');
  assert.equal(clear.exact, undefined, '20 tokens to spare is room');
  assert.equal(mock.roomFor(bodyOf(401), pairs, now), null);
  // b has 300 of room: 295 fits it only within the precision, a clearly: a wins
  assert.equal(mock.roomFor(bodyOf(295), [pairs[1], pairs[0]], now).model, 'a');
  assert.equal(mock.roomFor(bodyOf(295), [pairs[1], pairs[0]], now).exact, undefined);
});
