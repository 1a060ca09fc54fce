// Legacy text completions (POST /v1/completions) through the openai SDK: one prompt or several,
// n per prompt, echo, streaming, and clear refusals of what the free tiers cannot do.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CODESTRAL = { provider: 'mistral', id: 'codestral-latest' };

describe('legacy completions', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, CODESTRAL], keys: [{ provider: 'groq', secret: 'gsk_e2e_completions_1' }, { provider: 'mistral', secret: 'mistral_e2e_completions_1' }] });
  });
  after(async () => s?.stop());

  test('one prompt: a text_completion; the prompt is a user turn; max_tokens defaults to 16', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: ' world.' });
    const prompt = uniq('Hello');
    const { data: r, response } = await s.client.completions.create({ model: 'auto', prompt, echo: true, stop: ['\n'] }).withResponse();
    assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`);
    assert.equal(r.object, 'text_completion');
    assert.match(r.id, /^cmpl-/);
    assert.equal(r.choices[0].text, `${prompt} world.`);
    assert.equal(r.choices[0].index, 0);
    assert.equal(r.choices[0].logprobs, null);
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.ok(r.usage.total_tokens > 0);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(up.body.messages, [{ role: 'user', content: prompt }]);
    assert.equal(up.body.max_tokens ?? up.body.max_completion_tokens, 16);
    assert.deepEqual(up.body.stop, ['\n']);
  });

  test('the legacy completion models\' names route to the small tier', T, async () => {
    for (const model of ['gpt-3.5-turbo-instruct', 'davinci-002']) {
      const { response } = await s.client.completions.create({ model, prompt: uniq('legacy'), max_tokens: 4 }).withResponse();
      assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, model);
    }
  });

  test('two prompts, n=2: four choices in prompt order, each prompt asked', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script(['a1', 'a2', 'b1', 'b2'].map((content) => ({ provider: 'groq', content })));
    const r = await s.client.completions.create({ model: 'auto', prompt: ['A:', 'B:'], n: 2, max_tokens: 5 });
    assert.deepEqual(r.choices.map((c) => [c.index, c.text]), [[0, 'a1'], [1, 'a2'], [2, 'b1'], [3, 'b2']]);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(reqs.map((q) => q.body.messages[0].content), ['A:', 'A:', 'B:', 'B:']);
  });

  test('streamed: text chunks, then [DONE]', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Streaming completions work.' });
    const stream = await s.client.completions.create({ model: 'auto', prompt: uniq('go'), stream: true, max_tokens: 20 });
    let text = '';
    let finish = null;
    for await (const ch of stream) {
      assert.equal(ch.object, 'text_completion');
      text += ch.choices[0]?.text ?? '';
      finish = ch.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'Streaming completions work.');
    assert.equal(finish, 'stop');
  });

  test('suffix: fill-in-the-middle on Codestral (Mistral\'s /fim/completions), whole and streamed', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'mistral', content: '  return a + b;' });
    const { data: r, response } = await s.client.completions.create({ model: 'auto', prompt: 'function add(a, b) {\n', suffix: '\n}\n', max_tokens: 32 }).withResponse();
    assert.equal(routedVia(response.headers)?.raw, 'mistral/codestral-latest');
    assert.equal(r.choices[0].text, '  return a + b;');
    const [up] = await s.mock.requests({ since: mark, endpoint: 'fim' });
    assert.match(up.path, /\/mistral\/v1\/fim\/completions$/);
    assert.deepEqual([up.body.model, up.body.prompt, up.body.suffix, up.body.max_tokens], ['codestral-latest', 'function add(a, b) {\n', '\n}\n', 32]);
    assert.equal(up.body.messages, undefined);
    await s.mock.script({ provider: 'mistral', content: 'x * 2' });
    let text = '';
    for await (const ch of await s.client.completions.create({ model: 'auto', prompt: 'double = ', suffix: ';', stream: true, max_tokens: 8 })) text += ch.choices[0]?.text ?? '';
    assert.equal(text, 'x * 2');
  });

  test('what cannot be served is refused naming the field', T, async () => {
    const cases = [
      [{ model: 'auto', prompt: 'x', logprobs: 2 }, 'logprobs'],
      [{ model: 'auto', prompt: 'x', suffix: 7 }, 'suffix'],
      [{ model: 'auto', prompt: [1, 2, 3] }, 'prompt'],
      [{ model: 'auto', prompt: [] }, 'prompt'],
      [{ model: 'auto', prompt: 'x', best_of: 3 }, 'best_of'],
      [{ model: 'auto', prompt: ['a', 'b', 'c'], n: 3 }, 'prompt'],
      [{ model: 'auto', prompt: 'x', echo: 'yes' }, 'echo'],
    ];
    for (const [body, param] of cases) {
      const r = await s.fetch('/completions', { method: 'POST', json: body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal((await r.json()).error.param, param, JSON.stringify(body));
    }
  });
});
