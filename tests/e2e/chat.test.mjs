// Chat completions through the gateway with the official openai SDK:
// non-streaming (named model and "auto"), streaming, tool-call round trips,
// vision routing. Every test checks what the client got AND what the mock
// provider received.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, sseData, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const SCOUT = { provider: 'groq', id: 'meta-llama/llama-4-scout-17b-16e-instruct' }; // the only vision model here
const GROQ_KEY = 'gsk_e2e_chat_1';
const CEREBRAS_KEY = 'csk-e2e-chat-1';
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

let s;

function assertNoLeak(reqs) {
  for (const r of reqs) {
    assert.ok(!JSON.stringify(r.headers).includes('freellmapi-'), `unified key leaked upstream in #${r.seq}`);
  }
}

describe('chat completions', () => {
  before(async () => {
    s = await startStack({
      models: [GROQ, CEREBRAS, SCOUT],
      keys: [
        { provider: 'groq', secret: GROQ_KEY, label: 'groq-main' },
        { provider: 'cerebras', secret: CEREBRAS_KEY, label: 'cerebras-main' },
      ],
    });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('non-streaming with a named model', T, async () => {
    const mark = await s.mock.mark();
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: uniq('named') },
    ];
    const { data, response } = await s.client.chat.completions.create({ model: CEREBRAS.id, messages, temperature: 0.3, max_tokens: 64 }).withResponse();
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.match(response.headers.get('content-type') || '', /application\/json/);
    assert.equal(routedVia(response.headers)?.raw, `cerebras/${CEREBRAS.id}`, diag);
    assert.ok(!response.headers.get('x-fallback-attempts') || response.headers.get('x-fallback-attempts') === '0', 'no fallover happened');
    assert.equal(data.object, 'chat.completion');
    assert.equal(typeof data.id, 'string');
    assert.equal(typeof data.created, 'number');
    assert.equal(typeof data.model, 'string');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].index, 0);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, `Hello from cerebras/${CEREBRAS.id}.`);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0, `usage: ${JSON.stringify(data.usage)}`);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);

    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1, `exactly one upstream call${diag}`);
    const r = reqs[0];
    assert.equal(r.provider, 'cerebras');
    assert.equal(r.path, '/cerebras/v1/chat/completions');
    assert.equal(r.headers.authorization, `Bearer ${CEREBRAS_KEY}`);
    assert.equal(r.body.model, CEREBRAS.id);
    assert.deepEqual(r.body.messages, messages);
    assert.equal(r.body.temperature, 0.3);
    assert.ok(r.body.max_tokens === 64 || r.body.max_completion_tokens === 64, 'max_tokens forwarded');
    assert.ok(!r.body.stream, 'not streaming upstream');
    assert.equal(r.violation, null);
    assertNoLeak(reqs);
  });

  test('non-streaming with model "auto" routes to the first candidate', T, async () => {
    const mark = await s.mock.mark();
    const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('auto') }] }).withResponse();
    const diag = await s.diag();
    assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, diag);
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1, diag);
    assert.equal(reqs[0].body.model, GROQ.id, 'the upstream gets its own model id, not "auto"');
    assert.equal(reqs[0].key, GROQ_KEY);
    assertNoLeak(reqs);
  });

  test('streaming: role first, every chunk, finish_reason, usage chunk, [DONE]', T, async () => {
    const mark = await s.mock.mark();
    const content = 'alpha beta gamma delta epsilon';
    await s.mock.script({ provider: 'groq', content, chunk_delay_ms: 30 });
    const { data: stream, response } = await s.client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: uniq('stream') }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') || '', /text\/event-stream/);
    assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`);
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const diag = await s.diag();
    assert.ok(chunks.length >= 4, `chunks: ${JSON.stringify(chunks)}${diag}`);
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'role in the first delta');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, content);
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta?.content);
    assert.ok(contentChunks.length >= 5, `each upstream piece arrives as its own chunk (got ${contentChunks.length})`);
    const finishIdx = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    assert.ok(finishIdx > 0, 'a finish chunk');
    assert.equal(chunks[finishIdx].choices[0].finish_reason, 'stop');
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk.choices, [], 'last chunk is the usage chunk with choices: []');
    assert.ok(usageChunk.usage && usageChunk.usage.total_tokens > 0, `usage chunk: ${JSON.stringify(usageChunk)}`);
    assert.ok(finishIdx < chunks.length - 1);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'same id on every chunk');

    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].body.stream, true);
    assertNoLeak(reqs);

    // Raw bytes: SSE framing and the [DONE] terminator; no usage chunk unless asked for.
    const raw = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('raw') }], stream: true } });
    assert.equal(raw.status, 200);
    const text2 = await raw.text();
    const data = sseData(text2);
    assert.equal(data.at(-1), '[DONE]', `raw stream: ${text2.slice(-500)}`);
    const parsed = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.ok(parsed.every((c) => c.choices.length === 1), 'no choices:[] chunk without include_usage');
    assert.equal(parsed.at(-1).choices[0].finish_reason, 'stop');
  });

  test('tool call round trip (non-streaming)', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Paris?') };
    await s.mock.script({ provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const r1 = await s.client.chat.completions.create({ model: GROQ.id, messages: [user], tools: TOOLS, tool_choice: 'auto' });
    const diag = await s.diag();
    const msg = r1.choices[0].message;
    assert.equal(r1.choices[0].finish_reason, 'tool_calls', diag);
    assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
    const call = msg.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(typeof call.id, 'string');
    assert.ok(call.id.length > 0);
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });

    const first = (await s.mock.chatRequests({ since: mark }))[0];
    assert.equal(first.body.tools?.[0]?.function?.name, 'get_weather', 'tools forwarded');
    assert.deepEqual(first.body.tools[0].function.parameters, TOOLS[0].function.parameters);

    await s.mock.script({ provider: 'groq', content: 'It is 21 degrees in Paris.' });
    const assistant = { role: 'assistant', content: null, tool_calls: msg.tool_calls };
    const tool = { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' };
    const r2 = await s.client.chat.completions.create({ model: GROQ.id, messages: [user, assistant, tool], tools: TOOLS });
    assert.equal(r2.choices[0].message.content, 'It is 21 degrees in Paris.');
    assert.equal(r2.choices[0].finish_reason, 'stop');

    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 2, await s.diag());
    const m = reqs[1].body.messages;
    assert.equal(m.length, 3);
    assert.equal(m[1].role, 'assistant');
    assert.ok(m[1].content === null || m[1].content === '' || m[1].content === undefined, `assistant content ${JSON.stringify(m[1].content)}`);
    assert.equal(m[1].tool_calls.length, 1);
    assert.equal(m[1].tool_calls[0].id, call.id, 'tool call id intact');
    assert.equal(m[1].tool_calls[0].type, 'function');
    assert.equal(m[1].tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(m[1].tool_calls[0].function.arguments), { city: 'Paris' });
    assert.deepEqual(m[2], tool, 'tool message intact');
    assertNoLeak(reqs);
  });

  test('tool call round trip (streaming): tool_call deltas carry index, and id/name once', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Paris and Oslo?') };
    await s.mock.script({
      provider: 'groq',
      tool_calls: [
        { name: 'get_weather', arguments: { city: 'Paris' } },
        { name: 'get_weather', arguments: { city: 'Oslo' } },
      ],
    });
    const stream = await s.client.chat.completions.create({ model: GROQ.id, messages: [user], tools: TOOLS, stream: true });
    const calls = {};
    const count = { id: {}, name: {} };
    let finish = null;
    let roleSeen = false;
    for await (const ch of stream) {
      const c = ch.choices[0];
      if (!c) continue;
      if (c.delta?.role === 'assistant') roleSeen = true;
      if (c.finish_reason) finish = c.finish_reason;
      for (const t of c.delta?.tool_calls || []) {
        assert.equal(typeof t.index, 'number', `tool_call delta without index: ${JSON.stringify(t)}`);
        const acc = (calls[t.index] ||= { args: '' });
        if (t.id) {
          count.id[t.index] = (count.id[t.index] || 0) + 1;
          acc.id = t.id;
        }
        if (t.function?.name) {
          count.name[t.index] = (count.name[t.index] || 0) + 1;
          acc.name = t.function.name;
        }
        acc.args += t.function?.arguments ?? '';
      }
    }
    const diag = await s.diag();
    assert.ok(roleSeen, 'role delta');
    assert.equal(finish, 'tool_calls', diag);
    assert.deepEqual(Object.keys(calls), ['0', '1'], `indexes: ${JSON.stringify(calls)}`);
    assert.deepEqual(count, { id: { 0: 1, 1: 1 }, name: { 0: 1, 1: 1 } }, 'id and name exactly once per call');
    assert.deepEqual(JSON.parse(calls[0].args), { city: 'Paris' });
    assert.deepEqual(JSON.parse(calls[1].args), { city: 'Oslo' });
    assert.equal(calls[0].name, 'get_weather');

    await s.mock.script({ provider: 'groq', content: 'Paris 21, Oslo 9.' });
    const assistant = {
      role: 'assistant',
      content: null,
      tool_calls: [0, 1].map((i) => ({ id: calls[i].id, type: 'function', function: { name: calls[i].name, arguments: calls[i].args } })),
    };
    const tools = [
      { role: 'tool', tool_call_id: calls[0].id, content: '{"temp_c":21}' },
      { role: 'tool', tool_call_id: calls[1].id, content: '{"temp_c":9}' },
    ];
    let text = '';
    for await (const ch of await s.client.chat.completions.create({ model: GROQ.id, messages: [user, assistant, ...tools], tools: TOOLS, stream: true })) {
      text += ch.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'Paris 21, Oslo 9.');
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 2, await s.diag());
    const m = reqs[1].body.messages;
    assert.deepEqual(
      m[1].tool_calls.map((t) => [t.id, t.function.name, JSON.parse(t.function.arguments).city]),
      [
        [calls[0].id, 'get_weather', 'Paris'],
        [calls[1].id, 'get_weather', 'Oslo'],
      ],
    );
    assert.deepEqual(m.slice(2), tools);
  });

  test('a vision content part reaches a vision-capable model only', T, async () => {
    const mark = await s.mock.mark();
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==', detail: 'low' } };
    const messages = [{ role: 'user', content: [{ type: 'text', text: uniq('what is in this picture?') }, image] }];
    for (let i = 0; i < 2; i++) {
      const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: [{ ...messages[0], content: [{ type: 'text', text: uniq('img') }, image] }] }).withResponse();
      assert.equal(routedVia(response.headers)?.raw, `groq/${SCOUT.id}`, await s.diag());
      assert.match(data.choices[0].message.content, /I see 1 image/);
    }
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.ok(reqs.length >= 2);
    for (const r of reqs) {
      assert.equal(r.model, SCOUT.id, `an image request went to non-vision ${r.provider}/${r.model}`);
      const parts = r.body.messages[0].content;
      assert.ok(Array.isArray(parts), 'content parts preserved for the vision model');
      assert.deepEqual(parts[1], image, 'image part intact');
    }
    // A text-only request still goes to the first (non-vision) candidate.
    const { response } = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('text only') }] }).withResponse();
    assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`);
  });
});
