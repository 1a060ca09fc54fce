// Fallover and exhaustion: upstream 429/5xx/stalls/in-band errors before the
// first byte go to the next candidate; per-minute limits bench briefly, daily
// quotas bench until the reset; when everything is exhausted the client gets
// 429/503 in OpenAI's error shape; failures after bytes were sent end the
// stream with an SSE error event. Each test gets its own gateway so cooldowns
// never leak between tests.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { withStack as withStackOf, routedVia, sseData, uniq, sleep, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 45000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const CF = { provider: 'cloudflare', id: '@cf/openai/gpt-oss-120b' };
const OR = { provider: 'openrouter', id: 'qwen/qwen3-coder:free' };
const KEYS = {
  groq: { provider: 'groq', secret: 'gsk_e2e_fb_1', label: 'groq-1' },
  cerebras: { provider: 'cerebras', secret: 'csk-e2e-fb-1', label: 'cerebras-1' },
  cloudflare: { provider: 'cloudflare', secret: 'cf_e2e_token_1', label: 'cf-1', account: 'e2eacc0123' },
  openrouter: { provider: 'openrouter', secret: 'sk-or-v1-e2e-fb', label: 'or-1' },
};

const withStack = (opts, fn) => withStackOf({ models: [GROQ, CEREBRAS], keys: [KEYS.groq, KEYS.cerebras], timeoutMs: 1500, ...opts }, fn);

const ask = (s, extra = {}) => s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('fb') }], ...extra }).withResponse();

async function expectServedBy(s, provider, model, fallbacks, extra) {
  const mark = await s.mock.mark();
  const t0 = Date.now();
  const { data, response } = await ask(s, extra);
  const ms = Date.now() - t0;
  const diag = await s.diag();
  assert.equal(routedVia(response.headers)?.raw, `${provider}/${model}`, `X-Routed-Via${diag}`);
  if (fallbacks === 0) {
    const fa = response.headers.get('x-fallback-attempts');
    assert.ok(fa === null || fa === '0', `X-Fallback-Attempts should be absent or 0, got ${fa}`);
  } else if (fallbacks !== undefined) {
    assert.equal(response.headers.get('x-fallback-attempts'), String(fallbacks), `X-Fallback-Attempts${diag}`);
  }
  return { data, response, ms, reqs: await s.mock.chatRequests({ since: mark }) };
}

describe('fallover', () => {
  test('a 429 with Groq\'s real body falls over to the next provider', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 30 });
      const { data, reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      assert.equal(data.choices[0].message.content, `Hello from cerebras/${CEREBRAS.id}.`);
      assert.deepEqual(
        reqs.map((r) => [r.provider, r.status]),
        [
          ['groq', 429],
          ['cerebras', 200],
        ],
      );
    });
  });

  test('a 500 falls over', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', error: 'server' });
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      assert.deepEqual(reqs.map((r) => r.status), [500, 200]);
    });
  });

  test('a 503 and a dropped connection fall over', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', error: 'unavailable' });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
    });
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', drop: true });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
    });
  });

  test('a stall before the headers past the timeout falls over', T, async () => {
    await withStack({ timeoutMs: 1500 }, async (s) => {
      await s.mock.script({ provider: 'groq', delay_ms: 8000 });
      const { ms } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      assert.ok(ms < 7000, `fallover took ${ms} ms: the provider timeout (1500 ms) was not applied`);
    });
  });

  test('a stream that stalls after its headers (no first event) falls over', T, async () => {
    await withStack({ timeoutMs: 1500 }, async (s) => {
      await s.mock.script({ provider: 'groq', stall_after_headers_ms: 8000 });
      const mark = await s.mock.mark();
      const t0 = Date.now();
      const { data: stream, response } = await ask(s, { stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      const ms = Date.now() - t0;
      const diag = await s.diag();
      assert.equal(routedVia(response.headers)?.raw, `cerebras/${CEREBRAS.id}`, `no fallover although no event came within the 1500 ms timeout (took ${ms} ms)${diag}`);
      assert.equal(response.headers.get('x-fallback-attempts'), '1', diag);
      assert.equal(text, `Hello from cerebras/${CEREBRAS.id}.`);
      assert.ok(ms < 7000, `took ${ms} ms`);
      assert.equal((await s.mock.chatRequests({ since: mark })).length, 2);
    });
  });

  test('an in-band {"error":...} event before any content falls over (streaming)', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', inband_error_after: 0 });
      const { data: stream, response } = await ask(s, { stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      const diag = await s.diag();
      assert.equal(routedVia(response.headers)?.raw, `cerebras/${CEREBRAS.id}`, diag);
      assert.equal(response.headers.get('x-fallback-attempts'), '1', diag);
      assert.equal(text, `Hello from cerebras/${CEREBRAS.id}.`);
    });
  });

  test('NVIDIA "DEGRADED function" 400 is provider health, not a client error: falls over', T, async () => {
    const NV = { provider: 'nvidia', id: 'deepseek-ai/deepseek-v4-pro' };
    await withStack({ models: [NV, CEREBRAS], keys: [{ provider: 'nvidia', secret: 'nvapi-e2e-1' }, KEYS.cerebras] }, async (s) => {
      await s.mock.script({ provider: 'nvidia', error: 'degraded' });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
    });
  });
});

describe('unusable answers', () => {
  test('a 200 whose body is not JSON falls over, and the pair rests', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', raw_body: '{"id":"chatcmpl-1","choices":[{"mess', status: 200, content_type: 'application/json' });
      const { data, reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      assert.equal(data.choices[0].message.content, `Hello from cerebras/${CEREBRAS.id}.`);
      assert.deepEqual(reqs.map((r) => [r.provider, r.status]), [['groq', 200], ['cerebras', 200]]);
      // Groq is benched for a while: the next request goes straight to Cerebras.
      const again = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(again.reqs.map((r) => r.provider), ['cerebras']);
    });
  });

  test('a 200 stream that ends without an event falls over', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', raw_body: '', status: 200, content_type: 'text/event-stream' });
      const res = await fetch(`${s.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: uniq('empty') }], stream: true }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, await s.diag());
      assert.equal(routedVia(res.headers)?.raw, `cerebras/${CEREBRAS.id}`);
      assert.equal(res.headers.get('x-fallback-attempts'), '1');
      assert.equal(sseData(text).at(-1), '[DONE]');
    });
  });
});

describe('cooldowns', () => {
  test('a per-minute 429 benches the model only until its retry-after', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 2 });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      // Immediately after: groq is benched, not even tried.
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['cerebras'], 'a benched model is skipped, not retried');
      await sleep(2600);
      const again = await expectServedBy(s, 'groq', GROQ.id, 0);
      assert.deepEqual(again.reqs.map((r) => r.provider), ['groq'], 'after retry-after the model is used again');
    });
  });

  test('a per-day 429 (Groq RPD) benches the model for long', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', error: 'rate_limit_day' });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      await sleep(2600);
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['cerebras'], 'groq still benched after a per-day 429');
    });
  });

  test('a long per-day bench survives a gateway restart', T, async () => {
    await withStack({}, async (s) => {
      // An hour's wait: benches of minutes are not worth keeping across a restart.
      await s.mock.script({ provider: 'groq', error: 'rate_limit_day', retry_after: 3600 });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      await sleep(1300); // the background writer saves within a second
      await s.restart();
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['cerebras'], 'groq still benched after the restart');
    });
  });

  test('Cloudflare\'s daily neuron allocation (no retry-after) benches until the reset', T, async () => {
    await withStack({ models: [CF, CEREBRAS], keys: [KEYS.cloudflare, KEYS.cerebras] }, async (s) => {
      const mark = await s.mock.mark();
      await s.mock.script({ provider: 'cloudflare', error: 'rate_limit_day' });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      const cf = (await s.mock.chatRequests({ since: mark, provider: 'cloudflare' }))[0];
      assert.equal(cf?.account_id, KEYS.cloudflare.account, 'the key\'s account id is substituted into the base URL');
      assert.equal(cf?.path, `/cloudflare/client/v4/accounts/${KEYS.cloudflare.account}/ai/v1/chat/completions`);
      await sleep(2600);
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['cerebras']);
    });
  });

  test('OpenRouter free-models-per-day benches until X-RateLimit-Reset; free-models-per-min does not', T, async () => {
    await withStack({ models: [OR, CEREBRAS], keys: [KEYS.openrouter, KEYS.cerebras] }, async (s) => {
      await s.mock.script({ provider: 'openrouter', error: 'rate_limit_minute', retry_after: 1 });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      await sleep(2100);
      await expectServedBy(s, 'openrouter', OR.id, 0);
      await s.mock.script({ provider: 'openrouter', error: 'rate_limit_day' });
      await expectServedBy(s, 'cerebras', CEREBRAS.id, 1);
      await sleep(2100);
      const { reqs } = await expectServedBy(s, 'cerebras', CEREBRAS.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['cerebras']);
    });
  });
});

describe('exhaustion', () => {
  test('every candidate 429 -> 429 with retry-after and x-should-retry: false', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script([
        { provider: 'groq', error: 'rate_limit_minute', retry_after: 30 },
        { provider: 'cerebras', error: 'rate_limit_minute', retry_after: 30 },
      ]);
      const mark = await s.mock.mark();
      let err;
      try {
        await ask(s);
      } catch (e) {
        err = e;
      }
      const diag = await s.diag();
      assert.ok(err instanceof OpenAI.RateLimitError, `expected RateLimitError, got ${err}${diag}`);
      assert.equal(err.status, 429);
      const ra = err.headers.get('retry-after');
      assert.ok(ra !== null && Number(ra) > 0, `retry-after: ${ra}`);
      assert.equal(err.headers.get('x-should-retry'), 'false');
      assert.ok(err.headers.get('x-request-id'), 'x-request-id on errors');
      const raw = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('raw') }] } });
      assert.equal(raw.status, 429);
      assert.match(raw.headers.get('content-type') || '', /application\/json/);
      assertErrorShape(assert, await raw.json());
      for (const secret of [KEYS.groq.secret, KEYS.cerebras.secret]) assert.ok(!JSON.stringify(err.error).includes(secret), 'no upstream key in the error');
      const reqs = await s.mock.chatRequests({ since: mark });
      assert.deepEqual(reqs.slice(0, 2).map((r) => r.provider).sort(), ['cerebras', 'groq'], 'both candidates were tried');
    });
  });

  test('nothing configured (no keys, keyless providers disabled) -> 503', T, async () => {
    await withStack({ keys: [], keyless: false }, async (s) => {
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
      const body = await r.json();
      assert.equal(r.status, 503, `${JSON.stringify(body)}${await s.diag()}`);
      assertErrorShape(assert, body);
      assert.equal((await s.mock.chatRequests()).length, 0, 'nothing was sent upstream');
    });
  });

  test('keyless providers route with no key at all', T, async () => {
    await withStack({ models: [], keys: [], keyless: true }, async (s) => {
      const mark = await s.mock.mark();
      const { data, response } = await ask(s);
      const via = routedVia(response.headers);
      assert.ok(['kilo', 'pollinations', 'llm7'].includes(via?.provider), `routed via ${via?.raw}${await s.diag()}`);
      assert.match(data.choices[0].message.content, /^Hello from /);
      const reqs = await s.mock.chatRequests({ since: mark });
      assert.ok(reqs.length >= 1);
      assert.equal(reqs.at(-1).headers.authorization, undefined, 'no Authorization header for a keyless call');
    });
  });

  test('keyless providers all failing and no keys -> 503', T, async () => {
    await withStack({ models: [], keys: [], keyless: true }, async (s) => {
      await s.mock.script(['kilo', 'pollinations', 'llm7'].map((provider) => ({ provider, error: 'server', times: 0 })));
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: 'hi' }] } });
      const body = await r.json();
      assert.equal(r.status, 503, `${JSON.stringify(body)}${await s.diag()}`);
      assertErrorShape(assert, body);
    });
  });
});

describe('mid-stream failure', () => {
  test('after bytes were sent: an SSE error event then [DONE]; the SDK raises APIError', T, async () => {
    await withStack({}, async (s) => {
      // role chunk + 2 content chunks, then the upstream connection is cut
      await s.mock.script({ provider: 'groq', content: 'one two three four five', cut_after: 3, times: 2 });
      let text = '';
      let err;
      try {
        for await (const c of await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('cut') }], stream: true })) {
          text += c.choices[0]?.delta?.content ?? '';
        }
      } catch (e) {
        err = e;
      }
      const diag = await s.diag();
      assert.equal(text, 'one two ', `content before the cut reached the client${diag}`);
      assert.ok(err instanceof OpenAI.APIError, `expected APIError while iterating, got ${err}${diag}`);

      const raw = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('cut-raw') }], stream: true } });
      assert.equal(raw.status, 200);
      const data = sseData(await raw.text());
      assert.equal(data.at(-1), '[DONE]', `stream ends with [DONE]: ${JSON.stringify(data)}`);
      const errEv = JSON.parse(data.at(-2));
      assertErrorShape(assert, errEv);
      assert.ok(!('choices' in errEv), 'no choices in the error event');
      const contents = data.slice(0, -2).map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? '').join('');
      assert.equal(contents, 'one two ');
    });
  });

  test('a malformed upstream SSE frame never crashes the gateway', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'groq', malformed_after: 0, cut_after: 1 });
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('bad-frame') }], stream: true } });
      const text = await r.text();
      if (r.status === 200) {
        const data = sseData(text);
        assert.equal(data.at(-1), '[DONE]', `stream ends with [DONE]: ${text.slice(-400)}`);
      } else {
        assertErrorShape(assert, JSON.parse(text));
      }
      const alive = await s.fetch('/models');
      assert.equal(alive.status, 200, 'the server is still alive');
      const { data } = await ask(s);
      assert.match(data.choices[0].message.content, /^Hello from /);
    });
  });
});
