// Self-test of the mock providers (tests/mock), hitting them directly with the
// official openai SDK: checks the wire format the gateway will be fed, and the
// control API the other e2e tests rely on. Needs no gateway binary.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import fs from 'node:fs';
import { BASE_PATHS, CATALOG_JSON, PROVIDER_IDS, sseData } from '../lib/harness.mjs';
import { freshMockPerTest } from './fresh_mock.mjs';

let mock;
const T = { timeout: 15000 };
const base = (id, account = 'acc123') => `${mock.url}/${id}${BASE_PATHS[id].replace('{account_id}', account)}`;
const sdk = (id, apiKey, o = {}) => new OpenAI({ baseURL: base(id), apiKey, maxRetries: 0, timeout: 5000, ...o });
const msgs = [{ role: 'user', content: 'Say hello' }];

async function expectApiError(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('mock providers (direct, openai SDK)', () => {
  freshMockPerTest(T, (m) => {
    mock = m;
  });

  test('health and provider table', T, async () => {
    const h = await mock.call('GET', '/health');
    assert.equal(h.ok, true);
    const p = await mock.call('GET', '/providers');
    for (const id of PROVIDER_IDS) {
      assert.ok(p.providers[id], `provider ${id} missing`);
    }
  });

  test('non-streaming chat.completion echoes the model and is recorded', T, async () => {
    await mock.setKeys({ groq: ['gsk_good'] });
    const mark = await mock.mark();
    const { data, response } = await sdk('groq', 'gsk_good').chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs, temperature: 0.2 }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.object, 'chat.completion');
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(typeof data.created, 'number');
    assert.equal(data.model, 'llama-3.3-70b-versatile');
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hello from groq/llama-3.3-70b-versatile.');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.prompt_tokens > 0 && data.usage.total_tokens === data.usage.prompt_tokens + data.usage.completion_tokens);
    // Groq's headers tell the truth about the catalog's caps (rpd 1000, tpm 12000) and this
    // mock's count: requests per day, tokens per minute.
    const cat = JSON.parse(fs.readFileSync(CATALOG_JSON, 'utf8')).providers.find((p) => p.id === 'groq').models.find((x) => x.id === 'llama-3.3-70b-versatile').limits;
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), String(cat.rpd));
    assert.equal(response.headers.get('x-ratelimit-remaining-requests'), String(cat.rpd - 1));
    assert.equal(response.headers.get('x-ratelimit-limit-tokens'), String(cat.tpm));
    assert.equal(response.headers.get('x-ratelimit-remaining-tokens'), String(cat.tpm - data.usage.total_tokens));
    const again = await sdk('groq', 'gsk_good').chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs }).withResponse();
    assert.equal(again.response.headers.get('x-ratelimit-remaining-requests'), String(cat.rpd - 2));
    assert.equal(again.response.headers.get('x-ratelimit-remaining-tokens'), String(cat.tpm - data.usage.total_tokens - again.data.usage.total_tokens));
    const reqs = (await mock.chatRequests({ since: mark })).slice(0, 1);
    assert.equal(reqs.length, 1);
    const r = reqs[0];
    assert.equal(r.provider, 'groq');
    assert.equal(r.path, '/groq/openai/v1/chat/completions');
    assert.equal(r.headers.authorization, 'Bearer gsk_good');
    assert.equal(r.key, 'gsk_good');
    assert.equal(r.body.temperature, 0.2);
    assert.deepEqual(r.body.messages, msgs);
    assert.equal(r.status, 200);
  });

  test('streaming: role first, content pieces, finish chunk, usage chunk, [DONE]', T, async () => {
    const stream = await sdk('cerebras', 'k').chat.completions.create({ model: 'gpt-oss-120b', messages: msgs, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'Hello from cerebras/gpt-oss-120b.');
    const fin = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    assert.equal(chunks[fin].choices[0].finish_reason, 'stop');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage.total_tokens > 0);
    assert.equal(fin, chunks.length - 2);
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    // raw: ends with [DONE]
    const raw = await fetch(`${base('cerebras')}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-oss-120b', messages: msgs, stream: true }) });
    assert.match(raw.headers.get('content-type'), /text\/event-stream/);
    const data = sseData(await raw.text());
    assert.equal(data.at(-1), '[DONE]');
    assert.ok(!data.slice(0, -1).some((d) => JSON.parse(d).choices.length === 0), 'no usage chunk without include_usage');
  });

  test('unknown key gets the provider\'s real 401 body', T, async () => {
    await mock.setKeys({ groq: ['gsk_good'], cloudflare: [{ key: 'cf_tok', account: 'acc123' }], openrouter: ['sk-or-good'] });
    const e = await expectApiError(sdk('groq', 'gsk_bad').chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs }));
    assert.ok(e instanceof OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_api_key');
    assert.equal(e.message, '401 Invalid API Key');
    const cf = await expectApiError(sdk('cloudflare', 'cf_bad').chat.completions.create({ model: '@cf/openai/gpt-oss-120b', messages: msgs }));
    assert.equal(cf.status, 401);
    const cfRaw = await fetch(`${base('cloudflare')}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer cf_bad' }, body: JSON.stringify({ model: '@cf/openai/gpt-oss-120b', messages: msgs }) });
    const cfBody = await cfRaw.json();
    assert.equal(cfBody.success, false);
    assert.equal(cfBody.errors[0].code, 10000);
    // right token, wrong account in the path
    const cf2 = await expectApiError(new OpenAI({ baseURL: base('cloudflare', 'other'), apiKey: 'cf_tok', maxRetries: 0 }).chat.completions.create({ model: '@cf/openai/gpt-oss-120b', messages: msgs }));
    assert.equal(cf2.status, 401);
    const ok = await sdk('cloudflare', 'cf_tok').chat.completions.create({ model: '@cf/openai/gpt-oss-120b', messages: msgs });
    assert.equal(ok.choices[0].message.content, 'Hello from cloudflare/@cf/openai/gpt-oss-120b.');
    const [rec] = (await mock.chatRequests({ provider: 'cloudflare' })).slice(-1);
    assert.equal(rec.account_id, 'acc123');
    const or = await expectApiError(sdk('openrouter', 'sk-or-bad').chat.completions.create({ model: 'qwen/qwen3-coder:free', messages: msgs }));
    assert.equal(or.status, 401);
    assert.equal(or.message, '401 User not found.');
  });

  test('groq 429 per minute and per day: real body and headers', T, async () => {
    await mock.script([
      { provider: 'groq', error: 'rate_limit_minute', retry_after: 2 },
      { provider: 'groq', error: 'rate_limit_day' },
    ]);
    const c = sdk('groq', 'k');
    const e1 = await expectApiError(c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs }));
    assert.ok(e1 instanceof OpenAI.RateLimitError);
    assert.equal(e1.code, 'rate_limit_exceeded');
    assert.equal(e1.type, 'requests');
    assert.match(e1.message, /Rate limit reached for model `llama-3\.3-70b-versatile` in organization `org_\w+` .*on requests per minute \(RPM\): Limit 30, Used 30, Requested 1\. Please try again in 2s\./);
    assert.equal(e1.headers.get('retry-after'), '2');
    assert.equal(e1.headers.get('x-ratelimit-limit-requests'), '1000'); // the catalog's rpd
    assert.ok(e1.headers.get('x-ratelimit-reset-tokens'));
    const e2 = await expectApiError(c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs }));
    assert.match(e2.message, /on requests per day \(RPD\): Limit 1000, Used 1000/);
    assert.equal(e2.headers.get('x-ratelimit-remaining-requests'), '0');
    // rules are consumed: the third call succeeds
    const ok = await c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs });
    assert.equal(ok.choices[0].finish_reason, 'stop');
  });

  test('openrouter 429 per day (X-RateLimit-Reset epoch ms), per minute, and 402', T, async () => {
    await mock.script([
      { provider: 'openrouter', error: 'rate_limit_day' },
      { provider: 'openrouter', error: 'rate_limit_minute' },
      { provider: 'openrouter', error: 'payment' },
    ]);
    const c = sdk('openrouter', 'sk-or-x');
    const d = await expectApiError(c.chat.completions.create({ model: 'qwen/qwen3-coder:free', messages: msgs }));
    assert.equal(d.status, 429);
    assert.match(d.message, /free-models-per-day/);
    const reset = Number(d.headers.get('x-ratelimit-reset'));
    assert.ok(reset > Date.now() && reset <= Date.now() + 86400e3, `reset ${reset}`);
    assert.equal(d.error.metadata.headers['X-RateLimit-Remaining'], '0');
    const m = await expectApiError(c.chat.completions.create({ model: 'qwen/qwen3-coder:free', messages: msgs }));
    assert.match(m.message, /free-models-per-min/);
    const p = await expectApiError(c.chat.completions.create({ model: 'qwen/qwen3-coder:free', messages: msgs }));
    assert.equal(p.status, 402);
    assert.equal(p.error.code, 402);
  });

  test('every provider has its own error shapes', T, async () => {
    const cases = [
      ['mistral', 'rate_limit_minute', 429, (b) => b.object === 'error' && b.type === 'rate_limited'],
      ['mistral', 'validation', 422, (b) => b.message.detail[0].type === 'extra_forbidden'],
      ['cloudflare', 'rate_limit_day', 429, (b) => b.success === false && /daily free allocation of 10,000 neurons/.test(b.errors[0].message) && b.errors[0].code === 4006],
      ['cohere', 'rate_limit_minute', 429, (b) => typeof b.id === 'string' && /Trial key, which is limited to 20 API calls \/ minute/.test(b.message)],
      ['cohere', 'auth', 401, (b) => b.message === 'invalid api token'],
      ['github', 'rate_limit_day', 429, (b) => b.error.code === 'RateLimitReached' && /UserByModelByDay/.test(b.error.message)],
      ['nvidia', 'degraded', 400, (b) => /DEGRADED function cannot be invoked/.test(b.detail) && b.title === 'Bad Request'],
      ['ollama', 'subscription', 403, (b) => /this model requires a subscription/.test(b.error)],
      ['zhipu', 'rate_limit_minute', 429, (b) => b.error.code === '1302'],
      ['zhipu', 'auth', 401, (b) => typeof b.error.code === 'string'],
      ['sambanova', 'payment', 402, (b) => b.error.code === 'payment_required'],
      ['cerebras', 'rate_limit_minute', 429, (b) => b.code === 'request_quota_exceeded'],
      ['groq', 'tool_use_failed', 400, (b) => b.error.code === 'tool_use_failed' && typeof b.error.failed_generation === 'string'],
      ['openrouter', 'upstream_rate_limit', 429, (b) => b.error.message === 'Provider returned error' && /rate-limited upstream/.test(b.error.metadata.raw)],
      ['kilo', 'rate_limit_minute', 429, (b) => b.error.code === 429],
      ['pollinations', 'payment', 402, (b) => b.status === 402],
      ['llm7', 'rate_limit_minute', 429, (b) => b.error.type === 'rate_limit_error'],
    ];
    for (const [provider, kind, status, check] of cases) {
      await mock.script({ provider, error: kind });
      const r = await fetch(`${base(provider)}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: msgs }) });
      const b = await r.json();
      assert.equal(r.status, status, `${provider} ${kind}`);
      assert.ok(check(b), `${provider} ${kind} body: ${JSON.stringify(b)}`);
    }
    const gh = await fetch(`${base('github')}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify({ model: 'openai/gpt-4.1', messages: msgs }) });
    assert.equal(gh.status, 200);
  });

  test('strict validation: the real providers\' quirks are enforced and recorded', T, async () => {
    const post = (provider, body) => fetch(`${base(provider)}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify(body) });
    let r = await post('mistral', { model: 'mistral-small-latest', messages: msgs, seed: 3 });
    assert.equal(r.status, 422);
    r = await post('mistral', { model: 'mistral-small-latest', messages: msgs, temperature: null });
    assert.equal(r.status, 422);
    r = await post('mistral', { model: 'mistral-small-latest', messages: [...msgs, { role: 'assistant', content: '', tool_calls: [{ id: 'call_abcdef', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'call_abcdef', content: 'x' }] });
    assert.equal(r.status, 400);
    assert.match((await r.json()).message, /must be a-z, A-Z, 0-9, with a length of 9/);
    r = await post('groq', { model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'x', name: 'bob' }] });
    assert.equal(r.status, 400);
    r = await post('cloudflare', { model: '@cf/openai/gpt-oss-120b', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] });
    assert.equal(r.status, 400);
    r = await post('groq', { model: 'llama-3.3-70b-versatile', messages: msgs, stream_options: { include_usage: true } });
    assert.equal(r.status, 400);
    const v = await mock.violations();
    assert.equal(v.length, 6);
    assert.match(v[0].violation, /mistral: extra key seed/);
    await mock.config({ strict: false });
    r = await post('mistral', { model: 'mistral-small-latest', messages: msgs, seed: 3 });
    assert.equal(r.status, 200);
  });

  test('mistral stream puts usage on its last chunk', T, async () => {
    const r = await fetch(`${base('mistral')}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify({ model: 'mistral-small-latest', messages: msgs, stream: true }) });
    const data = sseData(await r.text());
    assert.equal(data.at(-1), '[DONE]');
    const fin = JSON.parse(data.at(-2));
    assert.equal(fin.choices[0].finish_reason, 'stop');
    assert.ok(fin.usage.total_tokens > 0);
  });

  test('tool calls: non-streaming and streaming deltas (id/name once, index)', T, async () => {
    await mock.script([
      { provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_time', arguments: { tz: 'CET' } }] },
    ]);
    const c = sdk('groq', 'k');
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const r = await c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs, tools });
    const tc = r.choices[0].message.tool_calls;
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(r.choices[0].message.content, null);
    assert.equal(tc.length, 1);
    assert.match(tc[0].id, /^call_/);
    assert.equal(tc[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(tc[0].function.arguments), { city: 'Paris' });

    const stream = await c.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs, tools, stream: true });
    const acc = {};
    const seen = { id: {}, name: {} };
    let finish = null;
    for await (const ch of stream) {
      const d = ch.choices[0]?.delta;
      if (ch.choices[0]?.finish_reason) finish = ch.choices[0].finish_reason;
      for (const t of d?.tool_calls || []) {
        assert.equal(typeof t.index, 'number');
        acc[t.index] ||= { args: '' };
        if (t.id) {
          seen.id[t.index] = (seen.id[t.index] || 0) + 1;
          acc[t.index].id = t.id;
        }
        if (t.function?.name) {
          seen.name[t.index] = (seen.name[t.index] || 0) + 1;
          acc[t.index].name = t.function.name;
        }
        acc[t.index].args += t.function?.arguments ?? '';
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(seen, { id: { 0: 1, 1: 1 }, name: { 0: 1, 1: 1 } });
    assert.equal(acc[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(acc[0].args), { city: 'Paris' });
    assert.equal(acc[1].name, 'get_time');
    assert.deepEqual(JSON.parse(acc[1].args), { tz: 'CET' });
  });

  test('faults: cut stream, malformed frame, in-band error, stalls, dropped connection', T, async () => {
    const c = sdk('groq', 'k', { timeout: 800 });
    const body = { model: 'llama-3.3-70b-versatile', messages: msgs, stream: true };

    await mock.script({ provider: 'groq', cut_after: 2, content: 'one two three four' });
    let got = '';
    let err = await expectApiError(
      (async () => {
        for await (const ch of await c.chat.completions.create(body)) got += ch.choices[0]?.delta?.content ?? '';
      })(),
    );
    assert.equal(got, 'one ', 'role chunk + one content chunk before the cut');
    assert.ok(err, 'a cut stream raises');

    await mock.script({ provider: 'groq', malformed_after: 1 });
    err = await expectApiError(
      (async () => {
        for await (const ch of await c.chat.completions.create(body)) void ch;
      })(),
    );
    assert.match(String(err.message), /JSON|Unexpected|Unterminated|Bad control/i);

    await mock.script({ provider: 'groq', inband_error_after: 2 });
    err = await expectApiError(
      (async () => {
        for await (const ch of await c.chat.completions.create(body)) void ch;
      })(),
    );
    assert.ok(err instanceof OpenAI.APIError);
    assert.match(err.message, /Failed to call a function/);

    await mock.script({ provider: 'groq', delay_ms: 3000 });
    err = await expectApiError(c.chat.completions.create({ ...body, stream: false }));
    assert.ok(err instanceof OpenAI.APIConnectionTimeoutError, String(err));

    await mock.script({ provider: 'groq', stall_after_headers_ms: 600 });
    const t1 = Date.now();
    const { data: stalled, response: stalledRes } = await sdk('groq', 'k').chat.completions.create(body).withResponse();
    assert.equal(stalledRes.status, 200);
    assert.ok(Date.now() - t1 < 400, 'headers arrive before the stall');
    for await (const ch of stalled) void ch;
    assert.ok(Date.now() - t1 >= 600, 'the body waits for the stall');

    await mock.script({ provider: 'groq', drop: true });
    err = await expectApiError(c.chat.completions.create({ ...body, stream: false }));
    assert.ok(err instanceof OpenAI.APIConnectionError, String(err));

    await mock.script({ provider: 'groq', chunk_delay_ms: 50, chunks: ['a', 'b', 'c'], content: 'abc' });
    const t0 = Date.now();
    got = '';
    for await (const ch of await sdk('groq', 'k').chat.completions.create(body)) got += ch.choices[0]?.delta?.content ?? '';
    assert.equal(got, 'abc');
    assert.ok(Date.now() - t0 >= 150);
  });

  test('rules match by provider, model and key, with counts', T, async () => {
    await mock.script([
      { provider: 'groq', model: 'llama-3.1-8b-instant', error: 'server', times: 2 },
      { provider: 'groq', key: 'gsk_two', content: 'for key two', times: 0 },
    ]);
    const one = sdk('groq', 'gsk_one');
    const two = sdk('groq', 'gsk_two');
    const ok = await one.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: msgs });
    assert.equal(ok.choices[0].message.content, 'Hello from groq/llama-3.3-70b-versatile.');
    for (let i = 0; i < 2; i++) {
      const e = await expectApiError(one.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: msgs }));
      assert.equal(e.status, 500);
    }
    assert.equal((await one.chat.completions.create({ model: 'llama-3.1-8b-instant', messages: msgs })).choices[0].finish_reason, 'stop');
    for (let i = 0; i < 3; i++) assert.equal((await two.chat.completions.create({ model: 'x', messages: msgs })).choices[0].message.content, 'for key two');
    const rules = await mock.rules();
    assert.equal(rules[0].remaining, 0);
    assert.equal(rules[1].remaining, -1);
    assert.equal(rules[1].used, 3);
    assert.equal((await mock.chatRequests({ key: 'gsk_two' })).length, 3);
  });

  test('vision parts are echoed; models list; keyless and unified-key checks; gemini slot', T, async () => {
    const r = await sdk('groq', 'k').chat.completions.create({
      model: 'meta-llama/llama-4-scout-17b-16e-instruct',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
    });
    assert.match(r.choices[0].message.content, /I see 1 image/);

    const list = await sdk('groq', 'k').models.list();
    const ids = list.data.map((m) => m.id);
    assert.ok(ids.includes('llama-3.3-70b-versatile'), ids.join(','));
    assert.ok(list.data.every((m) => m.object === 'model'));

    const kl = await fetch(`${base('kilo')}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'poolside/laguna-m.1:free', messages: msgs }) });
    assert.equal(kl.status, 200);
    const nk = await fetch(`${base('groq')}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'x', messages: msgs }) });
    assert.equal(nk.status, 401);

    const leak = await fetch(`${base('groq')}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer freellmapi-abc' }, body: JSON.stringify({ model: 'x', messages: msgs }) });
    assert.equal(leak.status, 401);
    assert.match((await mock.violations()).at(-1).violation, /unified/);

    // The Gemini dialect has its own self-test (gemini.test.mjs here); an OpenAI body sent to it is a 400.
    const g = await fetch(`${mock.url}/google/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': 'g' }, body: JSON.stringify({ model: 'gemini-2.5-flash', messages: msgs }) });
    assert.equal(g.status, 400);
    assert.match((await g.json()).error.message, /Unknown name "model"/);
  });
});
