// Anthropic's Messages API (POST /v1/messages) through the gateway with the published
// @anthropic-ai/sdk: create and stream, a tool round trip, images, x-api-key only, count_tokens,
// and errors in Anthropic's shape. Every test checks what the client got AND what the mock
// provider received in OpenAI's shape.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { startStack, routedVia, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const SCOUT = { provider: 'groq', id: 'meta-llama/llama-4-scout-17b-16e-instruct' };
const WEATHER = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('Anthropic Messages API', () => {
  let s, claude;
  before(async () => {
    s = await startStack({ models: [GROQ, SCOUT], keys: [{ provider: 'groq', secret: 'gsk_e2e_anthropic_1' }] });
    // As Claude clients are configured: the key in x-api-key, the base URL without /v1.
    claude = new Anthropic({ apiKey: s.key, baseURL: s.baseURL.replace(/\/v1$/, ''), maxRetries: 0 });
  });
  after(async () => s?.stop());

  test('create: a Claude model name, system and text; usage and routing told', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: 'Hello from the gateway.' });
    const { data: msg, response } = await claude.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 128, system: 'Be terse.',
      messages: [{ role: 'user', content: uniq('hi') }], stop_sequences: ['END'], temperature: 0.2,
    }).withResponse();
    assert.equal(response.status, 200);
    assert.ok(routedVia(response.headers)?.raw.startsWith('groq/'), await s.diag());
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.match(msg.id, /^msg_/);
    assert.deepEqual(msg.content, [{ type: 'text', text: 'Hello from the gateway.' }]);
    assert.equal(msg.stop_reason, 'end_turn');
    assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0, JSON.stringify(msg.usage));
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.messages[0].role, 'system');
    assert.equal(up.body.messages[0].content, 'Be terse.');
    assert.equal(up.body.max_tokens ?? up.body.max_completion_tokens, 128);
    assert.deepEqual(up.body.stop, ['END']);
    assert.ok(!JSON.stringify(up.headers).includes('freellmapi-'), 'the unified key stays here');
  });

  test('stream: the SDK assembles text from Anthropic events; the final message has usage', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Streaming through the gateway works fine.' });
    const events = [];
    const stream = claude.messages.stream({ model: 'claude-3-5-haiku-latest', max_tokens: 64, messages: [{ role: 'user', content: uniq('stream') }] });
    stream.on('streamEvent', (e) => events.push(e.type));
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(text, 'Streaming through the gateway works fine.');
    assert.equal(final.content[0].text, text);
    assert.equal(final.stop_reason, 'end_turn');
    assert.ok(final.usage.output_tokens > 0);
    assert.equal(events[0], 'message_start');
    assert.equal(events.at(-1), 'message_stop');
    assert.ok(events.includes('content_block_start') && events.includes('content_block_delta') && events.includes('content_block_stop'));
    assert.equal(events.at(-2), 'message_delta');
  });

  test('a tool round trip, streamed and not: tool_use in, tool_result back', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Paris and Oslo?') };
    await s.mock.script({ provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const first = await claude.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [WEATHER], tool_choice: { type: 'auto' }, messages: [user] }).finalMessage();
    assert.equal(first.stop_reason, 'tool_use', JSON.stringify(first));
    const uses = first.content.filter((b) => b.type === 'tool_use');
    assert.deepEqual(uses.map((u) => u.input), [{ city: 'Paris' }, { city: 'Oslo' }]);
    assert.ok(uses.every((u) => u.name === 'get_weather' && u.id));
    await s.mock.script({ provider: 'groq', content: 'Paris 21, Oslo 9.' });
    const second = await claude.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 256, tools: [WEATHER],
      messages: [user, { role: 'assistant', content: first.content },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: uses[0].id, content: '{"temp_c":21}' },
          { type: 'tool_result', tool_use_id: uses[1].id, content: [{ type: 'text', text: '{"temp_c":9}' }] },
          { type: 'text', text: 'Summarise.' }] }],
    });
    assert.equal(second.content[0].text, 'Paris 21, Oslo 9.');
    const reqs = await s.mock.chatRequests({ since: mark });
    const tools0 = reqs[0].body.tools[0].function;
    assert.equal(tools0.name, 'get_weather');
    assert.deepEqual(tools0.parameters, WEATHER.input_schema);
    const m = reqs[1].body.messages;
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool', 'tool', 'user']);
    assert.deepEqual(m[1].tool_calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
      [[uses[0].id, 'get_weather', { city: 'Paris' }], [uses[1].id, 'get_weather', { city: 'Oslo' }]]);
    assert.deepEqual(m[2], { role: 'tool', tool_call_id: uses[0].id, content: '{"temp_c":21}' });
    assert.equal(m[3].content, '{"temp_c":9}');
  });

  test('an image block goes to a vision model as an image part', T, async () => {
    const mark = await s.mock.mark();
    const r = await claude.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text: 'What is this?' }] }] }).withResponse();
    assert.equal(routedVia(r.response.headers)?.raw, `groq/${SCOUT.id}`);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.messages[0].content[0].type, 'image_url');
    assert.equal(up.body.messages[0].content[0].image_url.url, `data:image/png;base64,${PNG}`);
  });

  test('count_tokens answers an estimate; bearer auth works too', T, async () => {
    const c = await claude.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    assert.ok(c.input_tokens >= 100 && c.input_tokens < 200, JSON.stringify(c));
    const bearer = await s.fetch('/messages', { method: 'POST', json: { model: 'auto', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, headers: { 'anthropic-version': '2023-06-01' } });
    assert.equal(bearer.status, 200);
    assert.equal((await bearer.json()).type, 'message');
  });

  test('errors come in Anthropic\'s shape, with the SDK\'s error classes', T, async () => {
    const bad = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: s.baseURL.replace(/\/v1$/, ''), maxRetries: 0 });
    await assert.rejects(bad.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof Anthropic.AuthenticationError && e.error?.type === 'error' && e.error?.error?.type === 'authentication_error');
    const cases = [
      [{ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] }, /max_tokens/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [] }, /messages/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'system', content: 'x' }] }, /role/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 8, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'hi' }] }, /server tool/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, /document/],
      [{ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file' } }] }] }, /source/],
    ];
    for (const [body, re] of cases) {
      const r = await s.fetch('/messages', { method: 'POST', json: body });
      const e = await r.json();
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(e.type, 'error');
      assert.equal(e.error.type, 'invalid_request_error');
      assert.match(e.error.message, re);
    }
    const notJson = await s.fetch('/messages', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).error.type, 'invalid_request_error');
    const unknown = await s.fetch('/messages', { method: 'POST', json: { model: 'no-such-model', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.type, 'not_found_error');
  });
});
