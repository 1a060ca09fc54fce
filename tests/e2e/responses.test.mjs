// OpenAI's Responses API (POST /v1/responses) through the gateway with the official openai SDK:
// create and stream (the full event sequence the SDK parses), function tools round trip,
// previous_response_id continuing a stored conversation (across a restart), GET / DELETE /
// input_items, text.format and reasoning reaching the upstream, and clear 400s.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const SCOUT = { provider: 'groq', id: 'meta-llama/llama-4-scout-17b-16e-instruct' };
const WEATHER = { type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

describe('Responses API', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, SCOUT], keys: [{ provider: 'groq', secret: 'gsk_e2e_responses_1' }] });
  });
  after(async () => s?.stop());

  test('create: output_text, usage, routing; instructions and options reach the upstream', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: 'Hello from the Responses API.' });
    const { data: r, response } = await s.client.responses.create({
      model: 'auto', instructions: 'Be terse.', input: uniq('hi'), max_output_tokens: 100, temperature: 0.3,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    }).withResponse();
    assert.equal(response.status, 200);
    assert.ok(routedVia(response.headers)?.raw.startsWith('groq/'));
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Hello from the Responses API.');
    assert.equal(r.output[0].type, 'message');
    assert.equal(r.output[0].content[0].type, 'output_text');
    assert.equal(r.instructions, 'Be terse.');
    assert.ok(r.usage.input_tokens > 0 && r.usage.output_tokens > 0 && r.usage.total_tokens === r.usage.input_tokens + r.usage.output_tokens);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(up.body.messages.map((m) => m.role), ['system', 'user']);
    assert.equal(up.body.messages[0].content, 'Be terse.');
    assert.equal(up.body.max_tokens ?? up.body.max_completion_tokens, 100);
    assert.equal(up.body.response_format.type, 'json_schema');
    assert.equal(up.body.response_format.json_schema.name, 'answer');
  });

  test('stream: the SDK sees every event in order and the final response', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Streaming the Responses API works.' });
    const stream = s.client.responses.stream({ model: 'auto', input: uniq('stream') });
    const types = [];
    let text = '';
    const seqs = [];
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(text, 'Streaming the Responses API works.');
    assert.equal(final.output_text, text);
    assert.equal(final.status, 'completed');
    assert.ok(final.usage.output_tokens > 0);
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-5), ['response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'sequence numbers count up from 0');
  });

  test('function tools: calls streamed and whole; outputs sent back; continued by previous_response_id', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const stream = s.client.responses.stream({ model: 'auto', tools: [WEATHER], tool_choice: 'auto', input: uniq('weather in Paris and Oslo?') });
    const argDeltas = [];
    for await (const ev of stream) if (ev.type === 'response.function_call_arguments.delta') argDeltas.push(ev.delta);
    const first = await stream.finalResponse();
    const calls = first.output.filter((o) => o.type === 'function_call');
    assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['get_weather', { city: 'Paris' }], ['get_weather', { city: 'Oslo' }]]);
    assert.ok(argDeltas.length >= 2);
    await s.mock.script({ provider: 'groq', content: 'Paris 21, Oslo 9.' });
    const second = await s.client.responses.create({
      model: 'auto', previous_response_id: first.id, tools: [WEATHER],
      input: calls.map((c, i) => ({ type: 'function_call_output', call_id: c.call_id, output: i === 0 ? '{"temp_c":21}' : '{"temp_c":9}' })),
    });
    assert.equal(second.output_text, 'Paris 21, Oslo 9.');
    assert.equal(second.previous_response_id, first.id);
    const reqs = await s.mock.chatRequests({ since: mark });
    const m = reqs[1].body.messages;
    assert.deepEqual(m.map((x) => x.role), ['user', 'assistant', 'tool', 'tool']);
    assert.deepEqual(m[1].tool_calls.map((c) => c.id), calls.map((c) => c.call_id));
    assert.equal(m[2].tool_call_id, calls[0].call_id);
    assert.equal(m[3].content, '{"temp_c":9}');
    assert.equal(reqs[0].body.tools[0].function.name, 'get_weather');
    // A third turn by id carries the whole conversation, even after a restart.
    await s.restart();
    const mark3 = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: 'You asked about Paris and Oslo.' });
    const third = await s.client.responses.create({ model: 'auto', previous_response_id: second.id, input: 'What did I ask?' });
    assert.equal(third.output_text, 'You asked about Paris and Oslo.');
    const [up3] = await s.mock.chatRequests({ since: mark3 });
    assert.deepEqual(up3.body.messages.map((x) => x.role), ['user', 'assistant', 'tool', 'tool', 'assistant', 'user']);
    assert.equal(up3.body.messages[4].content, 'Paris 21, Oslo 9.');
  });

  test('retrieve, input_items, delete; store: false keeps nothing', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Stored.' });
    const r = await s.client.responses.create({ model: 'auto', input: [{ role: 'user', content: [{ type: 'input_text', text: uniq('keep me') }] }] });
    const got = await s.client.responses.retrieve(r.id);
    assert.equal(got.id, r.id);
    assert.equal(got.output_text, 'Stored.');
    const items = await s.client.responses.inputItems.list(r.id);
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].role, 'user');
    await s.client.responses.delete(r.id);
    await assert.rejects(s.client.responses.retrieve(r.id), (e) => e.status === 404);
    await assert.rejects(s.client.responses.delete(r.id), (e) => e.status === 404);
    const unstored = await s.client.responses.create({ model: 'auto', input: 'x', store: false });
    await assert.rejects(s.client.responses.retrieve(unstored.id), (e) => e.status === 404);
    await assert.rejects(s.client.responses.create({ model: 'auto', input: 'x', previous_response_id: unstored.id }),
      (e) => e.status === 404 && e.code === 'previous_response_not_found');
  });

  test('images as input_image go to a vision model', T, async () => {
    const mark = await s.mock.mark();
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const { response } = await s.client.responses.create({ model: 'auto', input: [{ role: 'user', content: [{ type: 'input_text', text: 'what?' }, { type: 'input_image', image_url: png }] }] }).withResponse();
    assert.equal(routedVia(response.headers)?.raw, `groq/${SCOUT.id}`);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.messages[0].content[1].image_url.url, png);
  });

  test('what cannot be served is refused with a 400 naming it', T, async () => {
    const cases = [
      [{ model: 'auto', input: 'x', tools: [{ type: 'web_search' }] }, 'tools', /web_search/],
      [{ model: 'auto', input: 'x', background: true }, 'background', /Background/],
      [{ model: 'auto', input: 7 }, 'input', /input/],
      [{ model: 'auto' }, 'input', /input/],
      [{ input: 'x' }, 'model', /model/],
      [{ model: 'auto', input: [{ type: 'item_reference', id: 'x' }] }, 'input[0]', /item_reference/],
      [{ model: 'auto', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0]', /input_file/],
      [{ model: 'auto', input: 'x', text: { format: { type: 'yaml' } } }, 'text.format', /format/],
      [{ model: 'auto', input: 'x', max_output_tokens: 0 }, 'max_output_tokens', /max_output_tokens/],
    ];
    for (const [body, param, re] of cases) {
      const r = await s.fetch('/responses', { method: 'POST', json: body });
      const e = await r.json();
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(e.error.param, param, JSON.stringify(e));
      assert.match(e.error.message, re);
    }
    assert.equal((await s.fetch('/responses/resp_x/cancel', { method: 'POST' })).status, 404);
  });
});
