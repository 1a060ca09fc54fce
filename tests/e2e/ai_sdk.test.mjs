// The AI SDK's default OpenAI model (createOpenAI({ baseURL })('model'), which speaks the
// Responses API) against the gateway: generateText, streamText and a tool loop that runs the
// tool in the client and sends its result back.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';
import { startStack, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };

describe('AI SDK (default OpenAI provider = Responses API)', () => {
  let s, openai;
  before(async () => {
    s = await startStack({ models: [GROQ], keys: [{ provider: 'groq', secret: 'gsk_e2e_aisdk_1' }] });
    openai = createOpenAI({ baseURL: s.baseURL, apiKey: s.key });
  });
  after(async () => s?.stop());

  test('generateText', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Hello from the AI SDK.' });
    const r = await generateText({ model: openai('auto'), system: 'Be terse.', prompt: uniq('hi') });
    assert.equal(r.text, 'Hello from the AI SDK.');
    assert.equal(r.finishReason, 'stop');
    assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, JSON.stringify(r.usage));
  });

  test('streamText', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Streaming through the AI SDK works.' });
    const r = streamText({ model: openai('auto'), prompt: uniq('stream') });
    let text = '';
    for await (const t of r.textStream) text += t;
    assert.equal(text, 'Streaming through the AI SDK works.');
    assert.equal(await r.finishReason, 'stop');
  });

  test('a tool loop: the model calls, the SDK runs the tool, the answer uses it', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script([
      { provider: 'groq', tool_calls: [{ name: 'weather', arguments: { city: 'Paris' } }] },
      { provider: 'groq', content: 'It is 21 degrees in Paris.' },
    ]);
    const ran = [];
    const r = await generateText({
      model: openai('auto'),
      prompt: uniq('weather in Paris?'),
      tools: { weather: tool({ description: 'Weather for a city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => { ran.push(city); return { temp_c: 21 }; } }) },
      stopWhen: stepCountIs(3),
    });
    assert.deepEqual(ran, ['Paris']);
    assert.equal(r.text, 'It is 21 degrees in Paris.');
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 2);
    const m = reqs[1].body.messages;
    assert.equal(m.at(-1).role, 'tool');
    assert.deepEqual(JSON.parse(m.at(-1).content), { temp_c: 21 });
    assert.equal(m.at(-2).tool_calls[0].function.name, 'weather');
  });
});
