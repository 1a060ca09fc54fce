// n > 1 on chat completions through the openai SDK: one upstream call per choice, made at once
// (each its own run of the engine: plan, charges, fallover), choices indexed, usage summed;
// streamed, the choices come as chunks by index; Gemini makes them in one call.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const GEMINI = { provider: 'google', id: 'gemini-2.5-flash' };

describe('n > 1 choices', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, GEMINI], keys: [{ provider: 'groq', secret: 'gsk_e2e_choices_1' }, { provider: 'google', secret: 'AIza_e2e_choices_1' }] });
  });
  after(async () => s?.stop());

  test('n=3 whole: three choices, three upstream calls with n removed, usage summed', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script([{ provider: 'groq', content: 'First.' }, { provider: 'groq', content: 'Second.' }, { provider: 'groq', content: 'Third.' }]);
    const { data: r, response } = await s.client.chat.completions.create({ model: 'auto', n: 3, messages: [{ role: 'user', content: uniq('pick') }] }).withResponse();
    // The calls run at once: which answer becomes which choice follows their order of arrival.
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    assert.deepEqual(r.choices.map((c) => c.message.content).sort(), ['First.', 'Second.', 'Third.']);
    assert.ok(r.choices.every((c) => c.finish_reason === 'stop'));
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 3);
    assert.ok(reqs.every((q) => q.body.n === undefined || q.body.n === 1), 'one choice per call upstream');
    const one = reqs.length && r.usage.prompt_tokens / 3;
    assert.ok(Number.isInteger(one) && one > 0, JSON.stringify(r.usage));
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    assert.ok(!response.headers.get('x-fallback-attempts'), 'repeats are not fallbacks');
  });

  test('n=2 streamed: chunks carry each choice by index, then usage and [DONE]', T, async () => {
    await s.mock.script([{ provider: 'groq', content: 'Alpha.' }, { provider: 'groq', content: 'Beta.' }]);
    const stream = await s.client.chat.completions.create({ model: 'auto', n: 2, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: uniq('two') }] });
    const text = {};
    const finish = {};
    let usage = null;
    for await (const ch of stream) {
      if (ch.usage) usage = ch.usage;
      for (const c of ch.choices) {
        text[c.index] = (text[c.index] ?? '') + (c.delta?.content ?? '');
        if (c.finish_reason) finish[c.index] = c.finish_reason;
      }
    }
    assert.deepEqual(Object.values(text).sort(), ['Alpha.', 'Beta.']);
    assert.deepEqual(finish, { 0: 'stop', 1: 'stop' });
    assert.ok(usage?.completion_tokens > 0);
  });

  test('Gemini makes n candidates in one call (candidateCount)', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'google', content: 'Gemini says hi.' });
    const r = await s.client.chat.completions.create({ model: GEMINI.id, n: 3, messages: [{ role: 'user', content: uniq('g') }] });
    assert.deepEqual(r.choices.map((c) => [c.index, c.message.content]), [[0, 'Gemini says hi.'], [1, 'Gemini says hi. [1]'], [2, 'Gemini says hi. [2]']]);
    const reqs = await s.mock.requests({ since: mark, endpoint: 'chat' });
    assert.equal(reqs.length, 1, 'one call');
    assert.equal(reqs[0].body.generationConfig.candidateCount, 3);
  });

  test('(completions beside) a suffix with no fill-in-the-middle model here is refused naming suffix', T, async () => {
    await assert.rejects(s.client.completions.create({ model: 'auto', prompt: 'a', suffix: 'b' }), (e) => e.status === 400 && e.param === 'suffix' && /codestral/.test(e.message));
  });

  test('n=3 calls at once: every call is made before the first is answered', T, async () => {
    // Each answer is held 2 s by the mock: made one after another, the second call would come
    // only after the first answer; made at once, all three are in before any answer goes out.
    const mark = await s.mock.mark();
    await s.mock.script([1, 2, 3].map((i) => ({ provider: 'groq', content: `held ${i}`, delay_ms: 2000 })));
    const r = await s.client.chat.completions.create({ model: 'auto', n: 3, messages: [{ role: 'user', content: uniq('par') }] });
    assert.equal(r.choices.length, 3);
    const at = (await s.mock.chatRequests({ since: mark })).map((q) => q.at);
    assert.equal(at.length, 3);
    assert.ok(Math.max(...at) < Math.min(...at) + 2000, `arrivals ${at.map((t) => t - Math.min(...at)).join(', ')} ms apart`);
  });

  test('a sub-run that fails over still brings its choice', T, async () => {
    await s.mock.script([{ provider: 'groq', content: 'one' }, { provider: 'groq', error: 'server' }, { provider: 'groq', content: 'two' }, { provider: 'groq', content: 'three' }]);
    const { data: r, response } = await s.client.chat.completions.create({ model: 'auto', n: 3, messages: [{ role: 'user', content: uniq('fo') }] }).withResponse();
    assert.equal(r.choices.length, 3, await s.diag());
    assert.ok(response.status === 200);
  });

  test('n above the limit is refused naming n', T, async () => {
    await assert.rejects(s.client.chat.completions.create({ model: 'auto', n: 9, messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 400 && e.param === 'n');
  });
});
