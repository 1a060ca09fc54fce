// Routing quality end to end (docs/routing.md): a request larger than a pair's whole
// per-minute token budget is never sent there (413 at once when no pair can take it); a
// refused call is given back; the provider's own x-ratelimit-* headers win over the
// catalog; a token-window 429 holds the pair only for calls that do not fit; each model's
// token estimate is corrected from what it reports; a provider capping calls in flight
// makes the next request wait for the slot instead of failing; No-Fallover gets the named
// model or an honest 429. Each asserts what reached the provider as well as the answer.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, routedVia, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'llama3.1-8b' };
const OLLAMA = { provider: 'ollama', id: 'qwen3-coder:480b' };
const KEYS = [
  { provider: 'groq', secret: 'gsk_e2e_routing', label: 'groq' },
  { provider: 'cerebras', secret: 'csk_e2e_routing', label: 'cerebras' },
  { provider: 'ollama', secret: 'ollama_e2e_routing', label: 'ollama' },
];
const via = (h) => routedVia(h)?.raw ?? null;
const chatCalls = async (s, mark, provider) => (await s.mock.chatRequests({ since: mark })).filter((r) => !provider || r.provider === provider);
// About `tokens` of prompt by the gateway's estimate (4 bytes a token).
const words = (tokens) => `${'word '.repeat(Math.floor((tokens * 4) / 5))}${Math.random()}`;
const ask = (s, { model = 'auto', tokens = 100, headers = {}, max_tokens } = {}) =>
  s.fetch('/chat/completions', { headers, json: { model, messages: [{ role: 'user', content: words(tokens) }], ...(max_tokens ? { max_tokens } : {}) } });

describe('routing quality', () => {
  test('a request above a pair\'s whole TPM is not sent there; with no pair able, 413 at once', T, async () => {
    await withStack({ models: [{ ...GROQ, limits: { tpm: 3000 } }, CEREBRAS], keys: KEYS.slice(0, 2) }, async (s) => {
      const mark = await s.mock.mark();
      const big = await ask(s, { tokens: 4000 });
      assert.equal(big.status, 200);
      assert.equal(via(big.headers), `cerebras/${CEREBRAS.id}`);
      assert.equal(big.headers.get('x-fallback-attempts'), null, 'no attempt was spent on groq');
      // max_tokens counts at admission too: 2,500 of prompt + 1,024 is above 3,000.
      const withMax = await ask(s, { tokens: 2500, max_tokens: 1024 });
      assert.equal(via(withMax.headers), `cerebras/${CEREBRAS.id}`);
      const small = await ask(s, { tokens: 500 });
      assert.equal(via(small.headers), `groq/${GROQ.id}`, 'smaller calls still go to groq');
      assert.equal((await chatCalls(s, mark, 'groq')).length, 1);
    });
    await withStack({ models: [{ ...GROQ, limits: { tpm: 3000 } }], keys: KEYS.slice(0, 1) }, async (s) => {
      const mark = await s.mock.mark();
      const r = await ask(s, { tokens: 4000 });
      const body = await r.json();
      assert.equal(r.status, 413, JSON.stringify(body));
      assertErrorShape(assert, body, { code: 'request_too_large', type: 'invalid_request_error' });
      assert.match(body.error.message, /3000/);
      assert.equal(r.headers.get('retry-after'), null, 'waiting does not help');
      assert.deepEqual(await chatCalls(s, mark), []);
    });
  });

  test('a 413 rules out that size on that pair only; a refused call is given back', T, async () => {
    // The catalog knows no TPM; the provider says 413 "Limit 6000" for a big call.
    await withStack({ models: [{ ...GROQ, limits: { rpm: 2 } }, CEREBRAS], keys: KEYS.slice(0, 2) }, async (s) => {
      await s.mock.script({ provider: 'groq', times: 1, raw_body: { error: { message: 'Request too large for model `llama-3.3-70b-versatile` in organization `org_x` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 7400, please reduce your message size and try again.', type: 'tokens', code: 'rate_limit_exceeded' } }, status: 413 });
      const mark = await s.mock.mark();
      const first = await ask(s, { tokens: 7000 });
      assert.equal(via(first.headers), `cerebras/${CEREBRAS.id}`);
      assert.equal(first.headers.get('x-fallback-attempts'), '1');
      const again = await ask(s, { tokens: 7000 });
      assert.equal(via(again.headers), `cerebras/${CEREBRAS.id}`);
      assert.equal(again.headers.get('x-fallback-attempts'), null, 'the same size is not sent to groq again');
      // The refused call was given back: groq's rpm 2 still has both requests.
      for (let i = 0; i < 2; i++) assert.equal(via((await ask(s, { tokens: 100 })).headers), `groq/${GROQ.id}`);
      assert.equal(via((await ask(s, { tokens: 100 })).headers), `cerebras/${CEREBRAS.id}`, 'rpm 2 spent');
      assert.equal((await chatCalls(s, mark, 'groq')).length, 3);
    });
  });

  test('the provider\'s headers win over the catalog, both ways; a token-window 429 holds only what does not fit', T, async () => {
    await withStack({ models: [{ ...GROQ, limits: { tpm: 100000 } }, CEREBRAS], keys: KEYS.slice(0, 2) }, async (s) => {
      // The answer says only 800 tokens are left this minute (another client uses the key).
      await s.mock.script({ provider: 'groq', times: 1, headers: { 'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '800', 'x-ratelimit-reset-tokens': '30s' } });
      assert.equal(via((await ask(s, { tokens: 100 })).headers), `groq/${GROQ.id}`);
      const mark = await s.mock.mark();
      assert.equal(via((await ask(s, { tokens: 1000 })).headers), `cerebras/${CEREBRAS.id}`, 'does not fit the stated room');
      assert.equal(via((await ask(s, { tokens: 200 })).headers), `groq/${GROQ.id}`, 'fits it');
      assert.equal((await chatCalls(s, mark, 'groq')).length, 1);
    });
    await withStack({ models: [{ ...GROQ, limits: { tpm: 1000 } }], keys: KEYS.slice(0, 1) }, async (s) => {
      // The catalog says 1,000 tokens a minute; the provider says 100,000: its word wins.
      await s.mock.script({ provider: 'groq', times: 1, headers: { 'x-ratelimit-limit-tokens': '100000', 'x-ratelimit-remaining-tokens': '99000', 'x-ratelimit-reset-tokens': '1s' } });
      assert.equal((await ask(s)).status, 200);
      const r = await ask(s, { tokens: 2000 });
      assert.equal(r.status, 200, 'served on the provider\'s stated cap, not refused by the catalog');
      assert.equal(via(r.headers), `groq/${GROQ.id}`);
    });
  });

  test('a token-window 429 holds the pair until the stated reset for calls that size, without a bench', T, async () => {
    await withStack({ models: [GROQ, CEREBRAS], keys: KEYS.slice(0, 2) }, async (s) => {
      await s.mock.script({ provider: 'groq', times: 1, error: 'tokens_minute', retry_after: 20 });
      const r = await ask(s, { tokens: 100 });
      assert.equal(via(r.headers), `cerebras/${CEREBRAS.id}`);
      const mark = await s.mock.mark();
      assert.equal(via((await ask(s, { tokens: 100 })).headers), `cerebras/${CEREBRAS.id}`, 'groq held for 20 s');
      assert.equal((await chatCalls(s, mark, 'groq')).length, 0);
      const b = await s.fetch('//api/budgets', { auth: false });
      assert.equal(b.status, 200);
      const j = await b.json();
      assert.ok(!j.quarantines.some((x) => x.provider === 'groq'), `no bench for a token window: ${JSON.stringify(j.quarantines)}`);
    });
    // Alone: an honest retry-after (the stated 20 s), not a fixed escalation.
    await withStack({ models: [GROQ], keys: KEYS.slice(0, 1) }, async (s) => {
      await s.mock.script({ provider: 'groq', times: 1, error: 'tokens_minute', retry_after: 20 });
      const r = await ask(s, { tokens: 100 });
      assert.equal(r.status, 429);
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 15 && wait <= 21, `retry-after ${wait}`);
    });
  });

  test('each model\'s estimate is corrected from the prompt tokens it reports', T, async () => {
    await withStack({ models: [{ ...GROQ, limits: { tpm: 5000 } }], keys: KEYS.slice(0, 1) }, async (s) => {
      // This model's tokenizer counts twice our estimate.
      await s.mock.script({ provider: 'groq', times: 1, usage: { prompt_tokens: 4000, completion_tokens: 10, total_tokens: 4010 } });
      assert.equal(via((await ask(s, { tokens: 2000 })).headers), `groq/${GROQ.id}`);
      const mark = await s.mock.mark();
      // 3,000 by our count is 6,000 by groq's: above its whole 5,000 a minute, so 413 at
      // once, where the raw count would have said "wait for the window" (429).
      const r = await ask(s, { tokens: 3000 });
      const body = await r.json();
      assert.equal(r.status, 413, JSON.stringify(body));
      assertErrorShape(assert, body, { code: 'request_too_large' });
      assert.equal((await chatCalls(s, mark, 'groq')).length, 0);
    });
  });

  test('a provider allowing one call at a time: the next request waits for the slot', T, async () => {
    await withStack({ models: [OLLAMA], keys: [KEYS[2]], providerLimits: { ollama: { concurrent: 1 } } }, async (s) => {
      // 60,000 tokens: a body large enough to be built on the thread pool, in
      // which time the others must already see the slot taken
      for (const tokens of [100, 60000]) {
        await s.mock.script({ provider: 'ollama', times: 3, delay_ms: 400 });
        const mark = await s.mock.mark();
        const rs = await Promise.all([0, 1, 2].map(() => ask(s, { model: OLLAMA.id, tokens, headers: { 'X-FreeLLMAPI-No-Fallover': '1' } })));
        for (const r of rs) assert.equal(r.status, 200);
        const calls = (await chatCalls(s, mark, 'ollama')).sort((a, b) => a.at - b.at);
        assert.equal(calls.length, 3, `${tokens} tokens: one call each, none refused`);
        // each call is answered 400 ms after it arrives: the next may only arrive after that
        for (let i = 1; i < calls.length; i++) assert.ok(calls[i].at >= calls[i - 1].at + 390, `${tokens} tokens: never two in flight (${calls.map((c) => c.at - calls[0].at).join(', ')} ms)`);
      }
    });
  });

  test('No-Fallover: the named model or an honest 429, never another model', T, async () => {
    await withStack({ models: [{ ...GROQ, limits: { rpm: 1 } }, CEREBRAS], keys: KEYS.slice(0, 2) }, async (s) => {
      const h = { 'X-FreeLLMAPI-No-Fallover': '1' };
      assert.equal(via((await ask(s, { model: GROQ.id, headers: h })).headers), `groq/${GROQ.id}`);
      const r = await ask(s, { model: GROQ.id, headers: h });
      assert.equal(r.status, 429);
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 50 && wait <= 61, `retry-after ${wait}`);
      const fall = await ask(s, { model: GROQ.id });
      assert.equal(via(fall.headers), `cerebras/${CEREBRAS.id}`, 'without the header a named model falls over');
    });
  });
});
