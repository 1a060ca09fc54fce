// Long requests and answers: past 16 KB the gateway parses the request, writes
// the upstream body and reads a media answer on its thread pool instead of the
// event loop. Whatever the size, the provider must receive exactly what the
// client sent (non-ASCII, escapes and all), once per attempt when it falls over,
// in either dialect; a batch of embeddings comes back whole and in order; bad
// JSON still gets its 400; and clients that leave while the pool works on their
// request leave nothing behind (the suite runs under ASan in CI).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, sseData, uniq, sleep, assertErrorShape, geminiParts } from './lib/harness.mjs';

const T = { timeout: 45000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const G25 = { provider: 'google', id: 'gemini-2.5-flash' };
const EMBED_G = { provider: 'google', id: 'gemini-embedding-001' };
const KEYS = [
  { provider: 'groq', secret: 'gsk_e2e_long_1', label: 'groq-1' },
  { provider: 'cerebras', secret: 'csk-e2e-long-1', label: 'cerebras-1' },
  { provider: 'google', secret: 'AIzaSyE2E-long-000000000001', label: 'google-1' },
];

// About `bytes` of conversation: turns with text that needs escaping and
// multi-byte characters, so a byte lost or re-encoded anywhere shows.
function conversation(tag, bytes) {
  const turn = 'Zürich → 東京 "quoted" back\\slash tab\there\nnew line; emoji 🚀. ';
  const messages = [{ role: 'system', content: `You are terse. ${tag}` }];
  for (let i = 0; JSON.stringify(messages).length < bytes; i++) {
    messages.push({ role: i % 2 ? 'assistant' : 'user', content: `${i}: ${turn.repeat(40)}` });
  }
  messages.push({ role: 'user', content: uniq(tag) });
  return messages;
}

describe('long requests (parsed and written off the event loop)', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, CEREBRAS, G25, EMBED_G], keys: KEYS, timeoutMs: 4000 });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('a 100 KB conversation reaches the provider byte for byte, and is answered', T, async () => {
    const mark = await s.mock.mark();
    const messages = conversation('long', 100_000);
    assert.ok(JSON.stringify(messages).length > 100_000);
    const { data, response } = await s.client.chat.completions.create({ model: GROQ.id, messages, max_tokens: 32 }).withResponse();
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, diag);
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1, diag);
    assert.equal(reqs[0].body.model, GROQ.id);
    assert.deepEqual(reqs[0].body.messages, messages);
    assert.equal(reqs[0].body.max_tokens, 32);
    assert.equal(reqs[0].violation, null);
  });

  test('streaming a long conversation: every chunk, then [DONE]', T, async () => {
    const mark = await s.mock.mark();
    const messages = conversation('long-stream', 40_000);
    const res = await fetch(`${s.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: CEREBRAS.id, messages, stream: true }),
    });
    const text = await res.text();
    const diag = await s.diag();
    assert.equal(res.status, 200, diag);
    const events = sseData(text);
    assert.equal(events.at(-1), '[DONE]', text.slice(-300));
    const content = events.slice(0, -1).map((e) => JSON.parse(e).choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(content, `Hello from cerebras/${CEREBRAS.id}.`);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1, diag);
    assert.equal(reqs[0].body.stream, true);
    assert.deepEqual(reqs[0].body.messages, messages);
  });

  test('falling over, the next provider gets the same long body', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 1 });
    const messages = conversation('long-fallover', 30_000);
    const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages }).withResponse();
    const diag = await s.diag();
    assert.equal(response.headers.get('x-fallback-attempts'), '1', diag);
    assert.equal(routedVia(response.headers)?.raw, `cerebras/${CEREBRAS.id}`, diag);
    assert.equal(data.choices[0].message.content, `Hello from cerebras/${CEREBRAS.id}.`);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(reqs.map((r) => [r.provider, r.status]), [['groq', 429], ['cerebras', 200]], diag);
    for (const r of reqs) assert.deepEqual(r.body.messages, messages, `${r.provider} got the conversation`);
    await sleep(1100); // Groq's bench ends before the next test
  });

  test('the Gemini dialect writes a long conversation off the loop too', T, async () => {
    const mark = await s.mock.mark();
    const messages = conversation('long-gemini', 40_000);
    const { data, response } = await s.client.chat.completions.create({ model: G25.id, messages }).withResponse();
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.equal(routedVia(response.headers)?.raw, `google/${G25.id}`, diag);
    assert.equal(data.object, 'chat.completion');
    const reqs = (await s.mock.chatRequests({ since: mark })).filter((r) => r.provider === 'google');
    assert.equal(reqs.length, 1, diag);
    const sent = geminiParts(reqs[0].body).map((p) => p.text).join('\n');
    for (const m of messages.slice(1)) assert.ok(sent.includes(m.content), `turn "${m.content.slice(0, 20)}…" reached Gemini intact`);
  });

  test('a batch of 64 documents to embed: every text reaches Gemini, 64 vectors come back in order', T, async () => {
    const since = await s.mock.mark();
    const input = Array.from({ length: 64 }, (_, i) => `doc ${i}: ${'Zürich → 東京 "q" \\ '.repeat(40)}`);
    assert.ok(JSON.stringify(input).length > 16_384);
    const { data, response } = await s.client.embeddings.create({ model: EMBED_G.id, input, encoding_format: 'float' }).withResponse();
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.equal(routedVia(response.headers)?.raw, `google/${EMBED_G.id}`, diag);
    assert.equal(data.data.length, 64); // ~2 MB of numbers from the mock: read on the pool
    data.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.equal(d.embedding.length, 3072);
    });
    const [rec] = await s.mock.requests({ provider: 'google', endpoint: 'embed', since });
    assert.deepEqual(rec.texts, input);
    // The same text alone gives the same vector: nothing shifted in the batch.
    const one = await s.client.embeddings.create({ model: EMBED_G.id, input: input[37], encoding_format: 'float' });
    assert.deepEqual(one.data[0].embedding, data.data[37].embedding);
  });

  test('a long answer (48 KB) comes back whole, in either dialect', T, async () => {
    const content = `${'Zürich → 東京 "quoted" back\\slash\n'.repeat(1500)}end.`;
    for (const [provider, model] of [['groq', GROQ.id], ['google', G25.id]]) {
      await s.mock.script({ provider, content });
      const { data, response } = await s.client.chat.completions.create({ model, messages: [{ role: 'user', content: uniq('long-answer') }] }).withResponse();
      const diag = await s.diag();
      assert.equal(routedVia(response.headers)?.raw, `${provider}/${model}`, diag);
      assert.equal(data.choices[0].message.content, content, `${provider}: the answer arrived intact`);
      assert.equal(data.choices[0].finish_reason, 'stop');
    }
  });

  test('long invalid JSON gets a 400 naming where it broke', T, async () => {
    const body = `{"model":"${GROQ.id}","messages":[{"role":"user","content":"${'x'.repeat(30_000)}"}`; // no closing ]
    const res = await fetch(`${s.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 400);
    const err = await res.json();
    assertErrorShape(assert, err, { code: 'invalid_json', type: 'invalid_request_error' });
    assert.match(err.error.message, /line 1, column \d+/);
    const e = await fetch(`${s.baseURL}/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: `{"model":"${EMBED_G.id}","input":["${'y'.repeat(30_000)}"`,
    });
    assert.equal(e.status, 400);
    assertErrorShape(assert, await e.json(), { code: 'invalid_json', type: 'invalid_request_error' });
  });

  test('a long request that fails validation after the parse gets its 400', T, async () => {
    const messages = conversation('long-bad', 20_000);
    messages.push({ role: 'wizard', content: 'hi' });
    const res = await fetch(`${s.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: GROQ.id, messages }),
    });
    assert.equal(res.status, 400);
    assertErrorShape(assert, await res.json(), { type: 'invalid_request_error' });
  });

  test('clients that leave while their long request is on the pool: nothing breaks', T, async () => {
    const body = JSON.stringify({ model: GROQ.id, messages: conversation('long-gone', 300_000) });
    const aborted = [];
    for (let i = 0; i < 40; i++) {
      const ac = new AbortController();
      const p = fetch(`${s.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
        body,
        signal: ac.signal,
      }).then((r) => r.text()).catch(() => null);
      setTimeout(() => ac.abort(), 100 + i * 10); // while queued for the pool, parsed, or written
      aborted.push(p);
    }
    await Promise.all(aborted);
    // The gateway still answers, long and short.
    const { data } = await s.client.chat.completions.create({ model: GROQ.id, messages: conversation('long-after', 50_000) }).withResponse();
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
    const { data: d2 } = await s.client.chat.completions.create({ model: GROQ.id, messages: [{ role: 'user', content: uniq('short') }] }).withResponse();
    assert.equal(d2.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
  });

  // Last: it benches Groq for 30 s.
  test('a long answer that is not JSON falls over like a short one', T, async () => {
    await s.mock.script({ provider: 'groq', raw_body: `{"id":"x","choices":[${'{'.repeat(20_000)}`, status: 200, content_type: 'application/json' });
    const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('long-broken') }] }).withResponse();
    assert.equal(response.headers.get('x-fallback-attempts'), '1', await s.diag());
    assert.equal(data.choices[0].message.content, `Hello from cerebras/${CEREBRAS.id}.`);
  });
});
