// Providers are input too: a 2xx answer or stream of any shape must never crash
// the gateway or reach the client malformed. Each body below is scripted as the
// first provider's answer; the client must then get a usable OpenAI answer
// (normalised from it, or from the next provider after falling over) or an
// OpenAI-style error, and the gateway must stay up. A fresh gateway per case,
// because an unusable answer benches the provider for 30 s. Runs under ASan in CI.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sseData, uniq, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 120000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const G25 = { provider: 'google', id: 'gemini-2.5-flash' };
const KEYS = [
  { provider: 'groq', secret: 'gsk_e2e_garbage_1', label: 'groq-1' },
  { provider: 'cerebras', secret: 'csk-e2e-garbage-1', label: 'cerebras-1' },
  { provider: 'google', secret: 'AIzaSyE2E-garbage-0000000001', label: 'google-1' },
];

const deep = (n) => `${'['.repeat(n)}${']'.repeat(n)}`;

// Whole answers (application/json, status 200).
const OPENAI_BODIES = [
  '', ' ', 'null', '[]', '"text"', '42', 'true', '{}', '{"choices":"x"}', '{"choices":[]}',
  '{"choices":[null]}', '{"choices":[5]}', '{"choices":[{"message":null}]}', '{"choices":[{"message":"hi"}]}',
  '{"choices":[{"message":{"content":5}}]}', '{"choices":[{"message":{"role":7,"content":["a",{"b":1}]}}]}',
  '{"choices":[{"message":{"content":"hi","tool_calls":"x"}}]}',
  '{"choices":[{"message":{"content":null,"tool_calls":[null,5,{"function":5},{"function":{"name":null,"arguments":{"a":1}}}]}}]}',
  '{"choices":[{"index":"x","message":{"content":"hi"},"finish_reason":9}]}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":"x","completion_tokens":-5,"total_tokens":1e300}}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":[1,2]}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}',
  '{"choices":[{"message":{"content":"\\ud800"}}]}', // a lone surrogate: not valid JSON text for jansson
  '{"choices":[{"message":{"content":"a\\u0000b"}}]}', // NUL inside a string
  '{"error":null}', '{"error":"x"}', '{"error":{"message":5,"code":[1]}}', '{"id":{},"object":[],"created":"x","model":5,"choices":[{"message":{"content":"hi"}}]}',
  deep(3000), `{"choices":[{"message":{"content":"${'x'.repeat(200_000)}"`, '{"choices":[{"message":{"content":"hi"}}]}garbage',
];

// Streams (text/event-stream, status 200).
const OPENAI_STREAMS = [
  '', '\n\n', ': only a comment\n\n', 'data: [DONE]\n\n', 'data: {bad json}\n\ndata: [DONE]\n\n', 'data: null\n\ndata: [DONE]\n\n',
  'data: {"choices":"x"}\n\ndata: [DONE]\n\n', 'data: {"choices":[{"delta":null}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[null]}\n\ndata: [DONE]\n\n', 'data: {"choices":[5,{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"content":5}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[{"index":-1,"function":{"name":"f"}}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[{"index":99999999,"function":{"arguments":"x"}}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":"x"}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[null,{"index":"0","function":null}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[{"delta":{"content":"\\ud800"}}]}\n\ndata: [DONE]\n\n',
  'event: error\ndata: {"error":{"message":"boom"}}\n\n', 'data: {"error":5}\n\n',
  'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":"x"}}\n\ndata: [DONE]\n\n',
  `data: ${'x'.repeat(300_000)}`, 'retry: 5\nid: 1\n\n', 'data: {"choices":[{"delta":{"content":"hi"},"finish_reason":7}]}\n\n',
];

// Gemini answers.
const GEMINI_BODIES = [
  '{}', '{"candidates":"x"}', '{"candidates":[]}', '{"candidates":[null]}', '{"candidates":[{"content":null}]}',
  '{"candidates":[{"content":{"parts":"x"}}]}', '{"candidates":[{"content":{"parts":[null,5,{"text":5}]}}]}',
  '{"candidates":[{"content":{"parts":[{"functionCall":{"name":5,"args":"x"}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"functionCall":null},{"thoughtSignature":5}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":5}],"usageMetadata":{"promptTokenCount":"x","candidatesTokenCount":-1}}',
  '{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"usageMetadata":"x"}', '{"promptFeedback":{"blockReason":5}}',
];

function assertAnswerOrError(status, body, what) {
  if (status === 200) {
    assert.equal(body.object, 'chat.completion', `${what}: ${JSON.stringify(body).slice(0, 300)}`);
    assert.ok(Array.isArray(body.choices) && body.choices.length === 1, what);
    const m = body.choices[0].message;
    assert.equal(m.role, 'assistant', what);
    assert.ok(m.content === null || typeof m.content === 'string', `${what}: content ${JSON.stringify(m.content)}`);
    if (m.tool_calls !== undefined) {
      assert.ok(Array.isArray(m.tool_calls), what);
      for (const tc of m.tool_calls) {
        assert.equal(typeof tc.id, 'string', what);
        assert.equal(typeof tc.function?.name, 'string', what);
        assert.equal(typeof tc.function?.arguments, 'string', what);
      }
    }
    if (body.usage) for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.ok(Number.isInteger(body.usage[k]) && body.usage[k] >= 0, `${what}: usage ${JSON.stringify(body.usage)}`);
  } else {
    assert.ok(status >= 400 && status < 600, `${what}: status ${status}`);
    assertErrorShape(assert, body);
  }
}

function assertStream(status, text, what) {
  if (status !== 200) {
    assertErrorShape(assert, JSON.parse(text));
    return;
  }
  const events = sseData(text);
  assert.equal(events.at(-1), '[DONE]', `${what}: ends with [DONE]: ${text.slice(-300)}`);
  for (const e of events.slice(0, -1)) {
    const j = JSON.parse(e); // every event the client gets is JSON
    if (j.error) {
      assertErrorShape(assert, j);
      continue;
    }
    assert.equal(j.object, 'chat.completion.chunk', `${what}: ${e.slice(0, 200)}`);
    assert.ok(Array.isArray(j.choices), what);
    for (const c of j.choices) {
      const d = c.delta ?? {};
      assert.ok(d.content === undefined || d.content === null || typeof d.content === 'string', `${what}: ${e.slice(0, 200)}`);
      assert.ok(c.finish_reason === null || typeof c.finish_reason === 'string', `${what}: ${e.slice(0, 200)}`);
      for (const tc of d.tool_calls ?? []) {
        assert.ok(Number.isInteger(tc?.index) && tc.index >= 0, `${what}: tool call index ${e.slice(0, 200)}`);
      }
    }
  }
}

describe('unusable upstream answers never crash the gateway', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, CEREBRAS, G25], keys: KEYS, timeoutMs: 4000 });
  }, T);
  after(async () => {
    await s?.stop();
  });

  // Runs every case, then fails with all the cases that went wrong.
  async function each(provider, bodies, contentType, ask) {
    const failed = [];
    for (const [i, raw] of bodies.entries()) {
      await s.mock.script({ provider, raw_body: raw, status: 200, content_type: contentType });
      const what = `${provider} ${contentType} #${i} ${JSON.stringify(raw.slice(0, 80))}`;
      try {
        await ask(what);
      } catch (e) {
        failed.push(e.message);
      }
      // Still up, and a normal request is answered.
      const ok = await s.fetch('/chat/completions', { json: { model: CEREBRAS.id, messages: [{ role: 'user', content: 'ping' }] } });
      assert.equal(ok.status, 200, `${what}: the gateway answers afterwards${await s.diag()}`);
      await s.mock.clearScript();
      await s.restart(); // the provider rests 30 s after an unusable answer; start each case fresh
    }
    assert.deepEqual(failed, []);
  }

  test('OpenAI-dialect whole answers', T, async () => {
    await each('groq', OPENAI_BODIES, 'application/json', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('g') }] } });
      assertAnswerOrError(r.status, await r.json(), what);
    });
  });

  test('OpenAI-dialect streams', T, async () => {
    await each('groq', OPENAI_STREAMS, 'text/event-stream', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', stream: true, messages: [{ role: 'user', content: uniq('gs') }] } });
      assertStream(r.status, await r.text(), what);
    });
  });

  test('Gemini whole answers and streams', T, async () => {
    await each('google', GEMINI_BODIES, 'application/json', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('gg') }] } });
      assertAnswerOrError(r.status, await r.json(), what);
    });
    const streams = GEMINI_BODIES.map((b) => `data: ${b}\n\n`).concat(['data: {bad\n\n', '']);
    await each('google', streams, 'text/event-stream', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, stream: true, messages: [{ role: 'user', content: uniq('ggs') }] } });
      assertStream(r.status, await r.text(), what);
    });
  });
});
