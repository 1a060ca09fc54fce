// The Gemini dialect end to end: the official openai SDK through the gateway to
// the mock's Gemini (provider google, tests/mock/gemini.mjs). Every test checks
// what the client got AND what the mock received on Google's wire:
// contents/roles, systemInstruction, generationConfig, functionDeclarations,
// toolConfig, inlineData, thought signatures (also across a gateway restart),
// JSON output, image-URL safety, and each Google error class (fallover,
// cooldowns, invalid keys, 400s passed through). The mock runs in strict mode:
// anything the real API would refuse comes back as Google's real 400 and is
// recorded as a violation.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { startStack, withStack as withStackOf, routedVia, sseData, uniq, sleep, assertErrorShape, gfield, geminiParts, geminiSystemText } from './lib/harness.mjs';

const T = { timeout: 45000 };
const G3 = { provider: 'google', id: 'gemini-3-flash-preview' }; // thinking; requires thought signatures back
const G25 = { provider: 'google', id: 'gemini-2.5-flash' }; // thinking; signatures optional
const GEMMA = { provider: 'google', id: 'gemma-4-31b-it' }; // rejects systemInstruction
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const GKEY = { provider: 'google', secret: 'AIzaSyE2E-gemini-main-000001', label: 'google-main' };
const GROQ_KEY = { provider: 'groq', secret: 'gsk_e2e_gemini_1', label: 'groq-main' };
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==';

// The client's tool schema is plain JSON Schema, with keywords Gemini's Schema refuses
// ($schema, additionalProperties, exclusiveMinimum, type arrays): the gateway must sanitize.
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name' },
          unit: { type: ['string', 'null'], enum: ['c', 'f', null] },
          days: { type: 'integer', exclusiveMinimum: 0 },
        },
        required: ['city'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];

const asks = (s, model, messages, extra = {}) => s.client.chat.completions.create({ model, messages, ...extra }).withResponse();
const googleChats = (s, since) => s.mock.chatRequests({ provider: 'google', since });
const calls = (body) => geminiParts(body).filter((p) => p.functionCall);

/** Fails with the mock's violation (Google's 400 the real API would have sent) when there is one. */
async function noViolations(s, since) {
  const v = await s.mock.violations({ provider: 'google', since });
  assert.deepEqual(v.map((r) => `#${r.seq} ${r.path}: ${r.violation}`), [], `the gateway sent Gemini something the real API refuses${await s.diag()}`);
}

describe('gemini dialect', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [G3, G25, GEMMA, GROQ], keys: [GKEY, GROQ_KEY], timeoutMs: 4000 });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('non-streaming chat: Google wire request, OpenAI answer, usage from usageMetadata (thoughts count as completion)', T, async () => {
    const mark = await s.mock.mark();
    const q = uniq('hello gemini');
    await s.mock.script({ provider: 'google', content: 'Hi there.', reasoning: 'The user greets me.', usage: { promptTokenCount: 11, candidatesTokenCount: 5, thoughtsTokenCount: 7, totalTokenCount: 23 } });
    const { data, response } = await asks(s, G25.id, [{ role: 'user', content: q }], { temperature: 0.3, top_p: 0.9, max_tokens: 64, stop: ['END'] });
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.equal(routedVia(response.headers)?.raw, `google/${G25.id}`, diag);
    assert.equal(data.object, 'chat.completion');
    assert.equal(typeof data.id, 'string');
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'Hi there.', 'thought parts never leak into content');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.usage.prompt_tokens, 11, `usage ${JSON.stringify(data.usage)}`);
    assert.equal(data.usage.completion_tokens, 12, `completion_tokens = candidatesTokenCount + thoughtsTokenCount: ${JSON.stringify(data.usage)}`);
    assert.equal(data.usage.total_tokens, 23);
    assert.equal(data.usage.completion_tokens_details?.reasoning_tokens, 7, `reasoning_tokens from thoughtsTokenCount: ${JSON.stringify(data.usage)}`);

    const reqs = await googleChats(s, mark);
    assert.equal(reqs.length, 1, diag);
    const r = reqs[0];
    assert.equal(r.method, 'POST');
    assert.equal(r.path, `/google/v1beta/models/${G25.id}:generateContent`);
    assert.deepEqual(r.query, {}, 'nothing in the query string');
    assert.equal(r.headers['x-goog-api-key'], GKEY.secret);
    assert.equal(r.headers.authorization, undefined, 'no Authorization header to Gemini');
    assert.match(r.headers['content-type'] || '', /application\/json/);
    assert.deepEqual(r.body.contents, [{ role: 'user', parts: [{ text: q }] }]);
    assert.equal(r.body.model, undefined, 'no OpenAI fields on the Gemini body');
    assert.equal(r.body.messages, undefined);
    const gc = gfield(r.body, 'generationConfig');
    assert.equal(gc.temperature, 0.3);
    assert.equal(gfield(gc, 'topP'), 0.9);
    assert.equal(gfield(gc, 'maxOutputTokens'), 64);
    assert.deepEqual(gfield(gc, 'stopSequences'), ['END']);
    await noViolations(s, mark);
  });

  test('streaming: role first, deltas, finish_reason, include_usage chunk, [DONE]', T, async () => {
    const mark = await s.mock.mark();
    const content = 'alpha beta gamma delta epsilon';
    await s.mock.script({ provider: 'google', content, chunk_delay_ms: 20, usage: { promptTokenCount: 9, candidatesTokenCount: 6, thoughtsTokenCount: 4, totalTokenCount: 19 } });
    const { data: stream, response } = await s.client.chat.completions
      .create({ model: G3.id, messages: [{ role: 'user', content: uniq('stream') }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') || '', /text\/event-stream/);
    assert.equal(routedVia(response.headers)?.raw, `google/${G3.id}`);
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const diag = await s.diag();
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant', `role in the first delta: ${JSON.stringify(chunks[0])}`);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), content, diag);
    assert.ok(chunks.filter((c) => c.choices[0]?.delta?.content).length >= 5, 'each Gemini chunk arrives as its own delta');
    const fin = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    assert.ok(fin > 0, 'a finish chunk');
    assert.equal(chunks[fin].choices[0].finish_reason, 'stop');
    assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1, 'exactly one finish_reason');
    const u = chunks.at(-1);
    assert.deepEqual(u.choices, [], 'the last chunk is the usage chunk');
    assert.deepEqual([u.usage?.prompt_tokens, u.usage?.completion_tokens, u.usage?.total_tokens], [9, 10, 19], `usage chunk ${JSON.stringify(u.usage)}`);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id on every chunk');

    const reqs = await googleChats(s, mark);
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].path, `/google/v1beta/models/${G3.id}:streamGenerateContent`);
    assert.deepEqual(reqs[0].query, { alt: 'sse' }, 'alt=sse and no key in the URL');
    assert.equal(reqs[0].body.stream, undefined);
    assert.equal(reqs[0].body.stream_options, undefined);

    // raw bytes: [DONE] terminator, no usage chunk unless asked for
    const raw = await s.fetch('/chat/completions', { json: { model: G3.id, messages: [{ role: 'user', content: uniq('raw') }], stream: true } });
    assert.equal(raw.status, 200);
    const data = sseData(await raw.text());
    assert.equal(data.at(-1), '[DONE]');
    const parsed = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.ok(parsed.every((c) => c.choices.length === 1), 'no choices:[] chunk without include_usage');
    assert.equal(parsed.at(-1).choices[0].finish_reason, 'stop');
    assert.equal(parsed.map((c) => c.choices[0].delta.content ?? '').join(''), `Hello from google/${G3.id}.`);
    await noViolations(s, mark);
  });

  test('system messages become systemInstruction; on Gemma they are folded into the first user turn', T, async () => {
    const mark = await s.mock.mark();
    const q = uniq('sys');
    const { data } = await asks(s, G25.id, [
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: q },
    ]);
    assert.equal(data.choices[0].message.content, `Hello from google/${G25.id}.`, await s.diag());
    let r = (await googleChats(s, mark))[0];
    const sys = geminiSystemText(r.body);
    assert.ok(sys && sys.includes('You are terse.') && sys.includes('Answer in French.'), `systemInstruction: ${JSON.stringify(gfield(r.body, 'systemInstruction'))}`);
    assert.ok(sys.indexOf('You are terse.') < sys.indexOf('Answer in French.'), 'in order');
    assert.deepEqual(r.body.contents.map((c) => c.role), ['user'], 'no system role in contents');
    assert.equal(r.body.contents[0].parts.map((p) => p.text).join(''), q);

    // developer messages are system messages too
    const m2 = await s.mock.mark();
    await asks(s, G25.id, [{ role: 'developer', content: 'Dev rule.' }, { role: 'user', content: uniq('dev') }]);
    r = (await googleChats(s, m2))[0];
    assert.match(geminiSystemText(r.body) || '', /Dev rule\./, JSON.stringify(r.body));

    // Gemma: "Developer instruction is not enabled" -> no systemInstruction, text folded into the user turn
    const m3 = await s.mock.mark();
    const q3 = uniq('gemma');
    const g = await asks(s, GEMMA.id, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: q3 }]);
    const diag = await s.diag();
    assert.equal(g.response.status, 200, diag);
    assert.equal(g.data.choices[0].message.content, `Hello from google/${GEMMA.id}.`, diag);
    r = (await googleChats(s, m3))[0];
    assert.equal(gfield(r.body, 'systemInstruction'), undefined, 'no systemInstruction for gemma-*');
    const firstUser = r.body.contents.find((c) => c.role === 'user');
    const text = firstUser.parts.map((p) => p.text ?? '').join('\n');
    assert.ok(text.includes('Be brief.') && text.includes(q3), `system text folded into the first user turn: ${JSON.stringify(r.body.contents)}`);
    await noViolations(s, mark);
  });

  test('two-step tool call (non-streaming): sanitized declarations, toolConfig, and the thoughtSignature sent back', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Paris?') };
    await s.mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const { data: r1, response } = await asks(s, G3.id, [user], { tools: TOOLS, tool_choice: 'auto' });
    const diag = await s.diag();
    assert.equal(routedVia(response.headers)?.raw, `google/${G3.id}`, diag);
    assert.equal(r1.choices[0].finish_reason, 'tool_calls', diag);
    const msg = r1.choices[0].message;
    assert.ok(msg.content === null || msg.content === '', `content ${JSON.stringify(msg.content)}`);
    assert.equal(msg.tool_calls?.length, 1, JSON.stringify(msg));
    const call = msg.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.ok(typeof call.id === 'string' && call.id.length > 0);
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });

    const [first] = await googleChats(s, mark);
    const tools = gfield(first.body, 'tools');
    const decls = tools.flatMap((t) => gfield(t, 'functionDeclarations') || []);
    assert.equal(decls.length, 1, JSON.stringify(tools));
    assert.equal(decls[0].name, 'get_weather');
    assert.equal(decls[0].description, 'Current weather for a city');
    const params = gfield(decls[0], 'parameters') ?? gfield(decls[0], 'parametersJsonSchema');
    assert.ok(params, 'parameters sent');
    assert.deepEqual(Object.keys(params.properties).sort(), ['city', 'days', 'unit']);
    assert.deepEqual(params.required, ['city']);
    assert.equal(gfield(gfield(first.body, 'toolConfig'), 'functionCallingConfig')?.mode, 'AUTO');
    assert.equal(first.issued.length, 1, 'the mock signed the call');
    const sig = first.issued[0].signature;

    // Step 2: a clean OpenAI history (no extra fields): the gateway must restore the signature itself.
    await s.mock.script({ provider: 'google', content: 'It is 21 degrees in Paris.' });
    const assistant = { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.function.arguments } }] };
    const tool = { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' };
    const { data: r2 } = await asks(s, G3.id, [user, assistant, tool], { tools: TOOLS });
    assert.equal(r2.choices[0].message.content, 'It is 21 degrees in Paris.', await s.diag());
    assert.equal(r2.choices[0].finish_reason, 'stop');

    const reqs = await googleChats(s, mark);
    assert.equal(reqs.length, 2, await s.diag());
    const second = reqs[1];
    assert.deepEqual(second.body.contents.map((c) => c.role), ['user', 'model', 'user']);
    const [fc] = calls(second.body);
    assert.equal(fc.role, 'model');
    assert.equal(fc.functionCall.name, 'get_weather');
    assert.deepEqual(fc.functionCall.args, { city: 'Paris' });
    assert.equal(gfield(fc, 'thoughtSignature'), sig, 'the second request carries the signature issued in step 1, byte for byte');
    assert.deepEqual(second.sig_checks.map((c) => c.status), ['ok']);
    const fr = geminiParts(second.body).find((p) => p.functionResponse);
    assert.equal(fr.role, 'user');
    assert.equal(fr.functionResponse.name, 'get_weather', 'name recovered from the tool_call id');
    assert.deepEqual(fr.functionResponse.response, { temp_c: 21 });
    await noViolations(s, mark);
  });

  test('two-step parallel tool calls (streaming): whole calls as indexed deltas; both results in one turn; signature back', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Paris and Oslo?') };
    await s.mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo', unit: 'c' } }] });
    const stream = await s.client.chat.completions.create({ model: G3.id, messages: [user], tools: TOOLS, stream: true });
    const acc = {};
    const count = { id: {}, name: {} };
    let finish = null;
    let role = false;
    for await (const ch of stream) {
      const c = ch.choices[0];
      if (!c) continue;
      if (c.delta?.role === 'assistant') role = true;
      if (c.finish_reason) finish = c.finish_reason;
      for (const t of c.delta?.tool_calls || []) {
        assert.equal(typeof t.index, 'number', `tool_call delta without index: ${JSON.stringify(t)}`);
        const a = (acc[t.index] ||= { args: '' });
        if (t.id) {
          count.id[t.index] = (count.id[t.index] || 0) + 1;
          a.id = t.id;
        }
        if (t.function?.name) {
          count.name[t.index] = (count.name[t.index] || 0) + 1;
          a.name = t.function.name;
        }
        a.args += t.function?.arguments ?? '';
      }
    }
    const diag = await s.diag();
    assert.ok(role, 'role delta');
    assert.equal(finish, 'tool_calls', `Gemini says STOP; with calls the client gets tool_calls${diag}`);
    assert.deepEqual(Object.keys(acc), ['0', '1'], JSON.stringify(acc));
    assert.deepEqual(count, { id: { 0: 1, 1: 1 }, name: { 0: 1, 1: 1 } }, 'id and name exactly once per call');
    assert.notEqual(acc[0].id, acc[1].id, 'distinct ids');
    assert.deepEqual(JSON.parse(acc[0].args), { city: 'Paris' });
    assert.deepEqual(JSON.parse(acc[1].args), { city: 'Oslo', unit: 'c' });
    const [first] = await googleChats(s, mark);
    assert.equal(first.stream, true);
    const sig = first.issued[0].signature;

    await s.mock.script({ provider: 'google', content: 'Paris 21, Oslo 9.' });
    const assistant = { role: 'assistant', content: null, tool_calls: [0, 1].map((i) => ({ id: acc[i].id, type: 'function', function: { name: acc[i].name, arguments: acc[i].args } })) };
    const results = [
      { role: 'tool', tool_call_id: acc[0].id, content: '{"temp_c":21}' },
      { role: 'tool', tool_call_id: acc[1].id, content: 'sunny, 9C' },
    ];
    let text = '';
    for await (const ch of await s.client.chat.completions.create({ model: G3.id, messages: [user, assistant, ...results], tools: TOOLS, stream: true })) text += ch.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Paris 21, Oslo 9.', await s.diag());

    const reqs = await googleChats(s, mark);
    assert.equal(reqs.length, 2);
    const body = reqs[1].body;
    assert.deepEqual(body.contents.map((c) => c.role), ['user', 'model', 'user'], 'the two tool results are one user turn');
    const fcs = calls(body);
    assert.deepEqual(fcs.map((p) => [p.content, p.functionCall.name, p.functionCall.args.city]), [
      [1, 'get_weather', 'Paris'],
      [1, 'get_weather', 'Oslo'],
    ]);
    assert.equal(gfield(fcs[0], 'thoughtSignature'), sig, 'signature on the first call of the step');
    const frs = geminiParts(body).filter((p) => p.functionResponse);
    assert.deepEqual(frs.map((p) => [p.content, p.functionResponse.name]), [
      [2, 'get_weather'],
      [2, 'get_weather'],
    ]);
    assert.deepEqual(frs[0].functionResponse.response, { temp_c: 21 });
    assert.equal(typeof frs[1].functionResponse.response, 'object', 'a non-JSON tool result is wrapped in an object');
    assert.ok(JSON.stringify(frs[1].functionResponse.response).includes('sunny, 9C'));
    await noViolations(s, mark);
  });

  test('the thought signature survives a gateway restart (durable store, not kept in plaintext)', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Lima?') };
    await s.mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Lima' } }] });
    const { data: r1 } = await asks(s, G3.id, [user], { tools: TOOLS });
    const call = r1.choices[0].message.tool_calls?.[0];
    assert.ok(call, `no tool call${await s.diag()}`);
    const sig = (await googleChats(s, mark))[0].issued[0].signature;

    await s.restart();
    // At rest the signature is sealed: its text is in no file of the data dir.
    const needle = Buffer.from(sig);
    for (const f of fs.readdirSync(s.dataDir)) {
      const p = path.join(s.dataDir, f);
      if (fs.statSync(p).isFile()) assert.ok(!fs.readFileSync(p).includes(needle), `the thought signature is stored in plaintext in ${f}`);
    }

    await s.mock.script({ provider: 'google', content: 'Lima: 18 degrees.' });
    const assistant = { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.function.arguments } }] };
    const { data: r2, response } = await asks(s, G3.id, [user, assistant, { role: 'tool', tool_call_id: call.id, content: '{"temp_c":18}' }], { tools: TOOLS });
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.equal(r2.choices[0].message.content, 'Lima: 18 degrees.', diag);
    const second = (await googleChats(s, mark)).at(-1);
    const [fc] = calls(second.body);
    assert.equal(gfield(fc, 'thoughtSignature'), sig, `after the restart the step-1 signature is sent back (got ${gfield(fc, 'thoughtSignature')})`);
    assert.deepEqual(second.sig_checks.map((c) => c.status), ['ok']);
    await noViolations(s, mark);
  });

  test('a tool call the gateway never saw (foreign history) gets the documented dummy signature, not a 400', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Rome?') };
    const assistant = { role: 'assistant', content: null, tool_calls: [{ id: 'call_from_elsewhere_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] };
    const { data, response } = await asks(s, G3.id, [user, assistant, { role: 'tool', tool_call_id: 'call_from_elsewhere_1', content: '{"temp_c":25}' }], { tools: TOOLS });
    const diag = await s.diag();
    assert.equal(response.status, 200, diag);
    assert.match(data.choices[0].message.content, /^Hello from google\//);
    const r = (await googleChats(s, mark))[0];
    assert.deepEqual(r.sig_checks.map((c) => c.status), ['sentinel'], JSON.stringify(r.sig_checks));
    await noViolations(s, mark);
  });

  test('sequential tool steps in one turn: each step\'s signature goes back on its own call', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('plan a trip: weather in Paris, then in Oslo') };
    await s.mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const { data: r1 } = await asks(s, G3.id, [user], { tools: TOOLS });
    const c1 = r1.choices[0].message.tool_calls?.[0];
    assert.ok(c1, await s.diag());
    await s.mock.script({ provider: 'google', content: 'Now Oslo.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const a1 = { role: 'assistant', content: null, tool_calls: [{ id: c1.id, type: 'function', function: { name: 'get_weather', arguments: c1.function.arguments } }] };
    const t1 = { role: 'tool', tool_call_id: c1.id, content: '{"temp_c":21}' };
    const { data: r2 } = await asks(s, G3.id, [user, a1, t1], { tools: TOOLS });
    const diag2 = await s.diag();
    const c2 = r2.choices[0].message.tool_calls?.[0];
    assert.ok(c2, diag2);
    assert.equal(r2.choices[0].message.content, 'Now Oslo.', 'text next to a call is kept');
    assert.notEqual(c2.id, c1.id);
    await s.mock.script({ provider: 'google', content: 'Paris 21, Oslo 9.' });
    // the assistant turn with text AND a call, and the tool result in array form
    const a2 = { role: 'assistant', content: 'Now Oslo.', tool_calls: [{ id: c2.id, type: 'function', function: { name: 'get_weather', arguments: c2.function.arguments } }] };
    const t2 = { role: 'tool', tool_call_id: c2.id, content: [{ type: 'text', text: '{"temp_c":9}' }] };
    const { data: r3 } = await asks(s, G3.id, [user, a1, t1, a2, t2], { tools: TOOLS });
    assert.equal(r3.choices[0].message.content, 'Paris 21, Oslo 9.', await s.diag());

    const reqs = await googleChats(s, mark);
    assert.equal(reqs.length, 3);
    const [sig1, sig2] = [reqs[0].issued[0].signature, reqs[1].issued[0].signature];
    const last = reqs[2].body;
    assert.deepEqual(last.contents.map((c) => c.role), ['user', 'model', 'user', 'model', 'user']);
    const fcs = calls(last);
    assert.deepEqual(fcs.map((p) => [p.content, p.functionCall.args.city, gfield(p, 'thoughtSignature')]), [
      [1, 'Paris', sig1],
      [3, 'Oslo', sig2],
    ]);
    const step2 = last.contents[3].parts;
    assert.equal(step2[0].text, 'Now Oslo.', 'the text part comes before the call');
    assert.ok(step2[1].functionCall);
    const fr2 = geminiParts(last).filter((p) => p.functionResponse)[1];
    assert.deepEqual(fr2.functionResponse.response, { temp_c: 9 }, 'array-form tool content is joined and parsed');
    assert.deepEqual(reqs[2].sig_checks.map((c) => c.status), ['ok', 'ok']);
    await noViolations(s, mark);
  });

  test('a signature streamed on an empty text part next to the call is kept for that call', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Bern?') };
    await s.mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Bern' } }], signature_part: 'separate' });
    const acc = { args: '' };
    let text = '';
    for await (const ch of await s.client.chat.completions.create({ model: G3.id, messages: [user], tools: TOOLS, stream: true })) {
      text += ch.choices[0]?.delta?.content ?? '';
      for (const t of ch.choices[0]?.delta?.tool_calls || []) {
        if (t.id) acc.id = t.id;
        if (t.function?.name) acc.name = t.function.name;
        acc.args += t.function?.arguments ?? '';
      }
    }
    assert.equal(text, '', 'the empty signature part adds no content');
    assert.ok(acc.id, await s.diag());
    const sig = (await googleChats(s, mark))[0].issued[0].signature;
    await s.mock.script({ provider: 'google', content: 'Bern: 12.' });
    const { data } = await asks(s, G3.id, [user, { role: 'assistant', content: null, tool_calls: [{ id: acc.id, type: 'function', function: { name: acc.name, arguments: acc.args } }] }, { role: 'tool', tool_call_id: acc.id, content: '{"temp_c":12}' }], { tools: TOOLS });
    assert.equal(data.choices[0].message.content, 'Bern: 12.', await s.diag());
    const [fc] = calls((await googleChats(s, mark))[1].body);
    assert.equal(gfield(fc, 'thoughtSignature'), sig);
    await noViolations(s, mark);
  });

  test('a functionCall.id from Gemini becomes the OpenAI tool_call id, and the call round-trips with it', T, async () => {
    const mark = await s.mock.mark();
    const user = { role: 'user', content: uniq('weather in Kyiv?') };
    await s.mock.script({ provider: 'google', tool_calls: [{ id: 'fc_8d2b41c0', name: 'get_weather', arguments: { city: 'Kyiv' } }] });
    const { data } = await asks(s, G3.id, [user], { tools: TOOLS });
    const call = data.choices[0].message.tool_calls?.[0];
    assert.equal(call?.id, 'fc_8d2b41c0', `tool_call ${JSON.stringify(call)}${await s.diag()}`);
    const sig = (await googleChats(s, mark))[0].issued[0].signature;
    await s.mock.script({ provider: 'google', content: 'Kyiv: 5.' });
    const r = await asks(s, G3.id, [user, { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] }, { role: 'tool', tool_call_id: call.id, content: '{"temp_c":5}' }], { tools: TOOLS });
    assert.equal(r.data.choices[0].message.content, 'Kyiv: 5.', await s.diag());
    const [fc] = calls((await googleChats(s, mark))[1].body);
    assert.equal(gfield(fc, 'thoughtSignature'), sig);
    await noViolations(s, mark);
  });

  test('tool_choice maps to toolConfig.functionCallingConfig (required, named, none)', T, async () => {
    const cases = [
      ['required', { mode: 'ANY' }],
      [{ type: 'function', function: { name: 'get_weather' } }, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
      ['none', { mode: 'NONE' }],
    ];
    for (const [choice, want] of cases) {
      const mark = await s.mock.mark();
      const { response } = await asks(s, G25.id, [{ role: 'user', content: uniq('tc') }], { tools: TOOLS, tool_choice: choice });
      assert.equal(response.status, 200, await s.diag());
      const fcc = gfield(gfield((await googleChats(s, mark))[0].body, 'toolConfig'), 'functionCallingConfig');
      assert.deepEqual({ mode: fcc?.mode, ...(want.allowedFunctionNames ? { allowedFunctionNames: gfield(fcc, 'allowedFunctionNames') } : {}) }, want, `tool_choice ${JSON.stringify(choice)}: ${JSON.stringify(fcc)}`);
      await noViolations(s, mark);
    }
  });

  test('reasoning_effort -> thinkingConfig; thought parts -> reasoning_content (whole and streamed)', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'google', content: 'Forty-two.', reasoning: 'Let me think about it.' });
    const { data } = await asks(s, G25.id, [{ role: 'user', content: uniq('think') }], { reasoning_effort: 'low' });
    assert.equal(data.choices[0].message.content, 'Forty-two.', await s.diag());
    assert.equal(data.choices[0].message.reasoning_content, 'Let me think about it.');
    let tc = gfield(gfield((await googleChats(s, mark))[0].body, 'generationConfig'), 'thinkingConfig');
    assert.equal(typeof gfield(tc, 'thinkingBudget'), 'number', `Gemini 2.5 takes a budget: ${JSON.stringify(tc)}`);
    assert.ok(gfield(tc, 'thinkingBudget') > 0);

    const m2 = await s.mock.mark();
    await s.mock.script({ provider: 'google', content: 'Done.', reasoning: 'Step one. Step two.' });
    let reasoning = '';
    let text = '';
    for await (const ch of await s.client.chat.completions.create({ model: G3.id, messages: [{ role: 'user', content: uniq('think3') }], reasoning_effort: 'high', stream: true })) {
      reasoning += ch.choices[0]?.delta?.reasoning_content ?? '';
      text += ch.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, 'Done.', await s.diag());
    assert.equal(reasoning, 'Step one. Step two.');
    tc = gfield(gfield((await googleChats(s, m2))[0].body, 'generationConfig'), 'thinkingConfig');
    assert.ok(tc && (gfield(tc, 'thinkingLevel') !== undefined) !== (gfield(tc, 'thinkingBudget') !== undefined), `Gemini 3: a level or a budget, not both: ${JSON.stringify(tc)}`);
    await noViolations(s, mark);
  });

  test('finish reasons: MAX_TOKENS -> length, SAFETY -> content_filter, a blocked prompt -> content_filter or 400', T, async () => {
    await s.mock.script({ provider: 'google', content: 'cut sh', finish_reason: 'MAX_TOKENS' });
    let { data } = await asks(s, G25.id, [{ role: 'user', content: uniq('len') }]);
    assert.equal(data.choices[0].finish_reason, 'length', await s.diag());
    assert.equal(data.choices[0].message.content, 'cut sh');
    await s.mock.script({ provider: 'google', finish_reason: 'SAFETY' });
    ({ data } = await asks(s, G25.id, [{ role: 'user', content: uniq('safety') }]));
    assert.equal(data.choices[0].finish_reason, 'content_filter', await s.diag());
    assert.ok(!data.choices[0].message.content, `no content: ${JSON.stringify(data.choices[0].message)}`);
    await s.mock.script({ provider: 'google', content: 'one two three', finish_reason: 'MAX_TOKENS' });
    let fin = null;
    for await (const ch of await s.client.chat.completions.create({ model: G25.id, messages: [{ role: 'user', content: uniq('len-s') }], stream: true })) fin = ch.choices[0]?.finish_reason ?? fin;
    assert.equal(fin, 'length');
    await s.mock.script({ provider: 'google', model: G25.id, block_reason: 'PROHIBITED_CONTENT' });
    const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('blocked') }] } });
    const body = await r.json();
    if (r.status === 200) assert.equal(body.choices[0].finish_reason, 'content_filter', JSON.stringify(body));
    else {
      assert.equal(r.status, 400, JSON.stringify(body));
      assertErrorShape(assert, body);
    }
  });

  test('a Gemini stream cut after some content: the text so far, then an SSE error event and [DONE]', T, async () => {
    await s.mock.script({ provider: 'google', model: G25.id, content: 'one two three four five', cut_after: 2 });
    const raw = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('cut') }], stream: true } });
    assert.equal(raw.status, 200);
    const data = sseData(await raw.text());
    assert.equal(data.at(-1), '[DONE]', JSON.stringify(data));
    const errEv = JSON.parse(data.at(-2));
    assertErrorShape(assert, errEv);
    const text = data.slice(0, -2).map((d) => JSON.parse(d).choices?.[0]?.delta?.content ?? '').join('');
    assert.equal(text, 'one two ');
  });

  test('json_schema response_format reaches responseMimeType/responseSchema and the answer parses', T, async () => {
    const mark = await s.mock.mark();
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, temp_c: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['city', 'temp_c', 'tags'],
      additionalProperties: false,
    };
    const { data } = await asks(s, G25.id, [{ role: 'user', content: uniq('weather as json') }], { response_format: { type: 'json_schema', json_schema: { name: 'weather', strict: true, schema } } });
    const diag = await s.diag();
    const v = JSON.parse(data.choices[0].message.content);
    assert.equal(typeof v.city, 'string', diag);
    assert.equal(typeof v.temp_c, 'number');
    assert.ok(Array.isArray(v.tags));
    const r = (await googleChats(s, mark))[0];
    const gc = gfield(r.body, 'generationConfig');
    assert.equal(gfield(gc, 'responseMimeType'), 'application/json', JSON.stringify(gc));
    const sent = gfield(gc, 'responseSchema') ?? gfield(gc, 'responseJsonSchema');
    assert.ok(sent, `a response schema is sent: ${JSON.stringify(gc)}`);
    assert.deepEqual(Object.keys(sent.properties).sort(), ['city', 'tags', 'temp_c']);

    // json_object: JSON mode without a schema
    const m2 = await s.mock.mark();
    const { data: d2 } = await asks(s, G25.id, [{ role: 'user', content: uniq('any json') }], { response_format: { type: 'json_object' } });
    assert.ok(JSON.parse(d2.choices[0].message.content));
    const gc2 = gfield((await googleChats(s, m2))[0].body, 'generationConfig');
    assert.equal(gfield(gc2, 'responseMimeType'), 'application/json');
    await noViolations(s, mark);
  });

  test('a data-URL image becomes inlineData with its mimeType and exact bytes', T, async () => {
    const mark = await s.mock.mark();
    const q = uniq('what is in this picture?');
    const { data } = await asks(s, G25.id, [{ role: 'user', content: [{ type: 'text', text: q }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}`, detail: 'low' } }] }]);
    assert.equal(data.choices[0].message.content, `Hello from google/${G25.id}. I see 1 image.`, await s.diag());
    const r = (await googleChats(s, mark))[0];
    const parts = geminiParts(r.body);
    const img = parts.find((p) => gfield(p, 'inlineData'));
    assert.ok(img, JSON.stringify(r.body.contents));
    const inl = gfield(img, 'inlineData');
    assert.equal(gfield(inl, 'mimeType'), 'image/png');
    assert.deepEqual(Buffer.from(inl.data, 'base64'), Buffer.from(PNG_B64, 'base64'), 'the same bytes');
    assert.ok(!inl.data.startsWith('data:'), 'raw base64, no data: prefix');
    const textPart = parts.find((p) => p.text !== undefined);
    assert.equal(textPart.text, q);
    assert.ok(textPart.part < img.part, 'text before the image, as the client ordered them');
    assert.deepEqual(r.inline_data.map((d) => [d.mimeType, d.bytes]), [['image/png', Buffer.from(PNG_B64, 'base64').length]]);
    // a JPEG data URL keeps its type
    const m2 = await s.mock.mark();
    await asks(s, G25.id, [{ role: 'user', content: [{ type: 'text', text: 'jpeg?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } }] }]);
    assert.deepEqual((await googleChats(s, m2))[0].inline_data.map((d) => d.mimeType), ['image/jpeg']);
    await noViolations(s, mark);
  });

  // Many clients label JPEGs "image/jpg"; Gemini refuses that name with a 400
  // "Unsupported MIME type: image/jpg" (it takes image/jpeg). The mock answers that real 400.
  test('a data:image/jpg URL is sent as image/jpeg', T, async () => {
    const mark = await s.mock.mark();
    const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: [{ type: 'text', text: uniq('jpg?') }, { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQSkZJRg==' } }] }] } });
    const body = await r.json();
    const sent = (await googleChats(s, mark)).map((x) => x.inline_data?.map((d) => d.mimeType) ?? x.violation);
    assert.equal(r.status, 200, `the client got ${r.status} ${JSON.stringify(body)}; upstream inlineData mimeType: ${JSON.stringify(sent)}`);
    assert.deepEqual(sent, [['image/jpeg']]);
  });

  test('image URLs to loopback, private and metadata addresses are refused with a clear 400 and never fetched', T, async () => {
    const mark = await s.mock.mark();
    const urls = [s.mock.assetUrl('pixel.png'), 'http://10.0.0.1/cat.png', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'http://[::1]:9/x.png'];
    for (const u of urls) {
      const t0 = Date.now();
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: u } }] }] }, timeoutMs: 15000 });
      const body = await r.json();
      const diag = await s.diag();
      assert.equal(r.status, 400, `${u}: ${JSON.stringify(body)}${diag}`);
      assertErrorShape(assert, body);
      assert.ok(body.error.message.includes(new URL(u).hostname.replace(/^\[|\]$/g, '')), `the message names the URL: ${body.error.message}`);
      assert.match(body.error.message, /public|private|loopback|link-local|metadata|not allowed|refused/i, body.error.message);
      assert.ok(Date.now() - t0 < 8000, `${u}: refused quickly (${Date.now() - t0} ms)`);
    }
    assert.deepEqual(await s.mock.requests({ provider: 'assets', since: mark }), [], 'no fetch reached the mock');
    assert.deepEqual(await googleChats(s, mark), [], 'nothing was sent to Gemini');
  });

  test('a Gemini 400 INVALID_ARGUMENT for a bad request reaches the client as a 400 with Google\'s message', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'google', model: G25.id, error: { status: 400, body: { error: { code: 400, message: '* GenerateContentRequest.contents[0].parts[0].text: the prompt violates a mock rule.\n', status: 'INVALID_ARGUMENT' } } } });
    const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('bad') }] } });
    const body = await r.json();
    const diag = await s.diag();
    assert.equal(r.status, 400, `${JSON.stringify(body)}${diag}`);
    assertErrorShape(assert, body);
    assert.match(body.error.message, /the prompt violates a mock rule/, `Google's message is passed on: ${body.error.message}`);
    assert.ok(!JSON.stringify(body).includes(GKEY.secret), 'no key in the error');
    const tried = await s.mock.chatRequests({ since: mark });
    assert.equal(tried.filter((x) => x.provider === 'google').length, 1, `a client error is not retried on Gemini${diag}`);
    await s.mock.clearScript();

    // the SDK surfaces it as BadRequestError
    await s.mock.script({ provider: 'google', model: G25.id, error: 'bad_request' });
    let err;
    try {
      await s.client.chat.completions.create({ model: G25.id, messages: [{ role: 'user', content: uniq('bad2') }] });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${err}${await s.diag()}`);
    assert.match(err.message, /Request contains an invalid argument/);
  });

  test('"auto" routes to Gemini when it ranks first', T, async () => {
    const mark = await s.mock.mark();
    const { data, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('auto') }]);
    assert.equal(routedVia(response.headers)?.raw, `google/${G3.id}`, await s.diag());
    assert.equal(data.choices[0].message.content, `Hello from google/${G3.id}.`);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(reqs.map((r) => [r.provider, r.model]), [['google', G3.id]]);
    assert.ok(!reqs[0].path.includes('auto'));
  });

  test('no request ever put a key in the URL or sent the unified key (every google request of this stack)', T, async () => {
    const all = await s.mock.requests({ provider: 'google' });
    assert.ok(all.length >= 10, `${all.length} google requests`);
    for (const r of all) {
      assert.ok(!('key' in r.query), `#${r.seq} ${r.method} ${r.path}?${new URLSearchParams(r.query)}: key in the URL`);
      assert.equal(r.headers['x-goog-api-key'], GKEY.secret, `#${r.seq} ${r.path}: x-goog-api-key header`);
      assert.equal(r.headers.authorization, undefined, `#${r.seq}: Authorization header sent to Gemini`);
      assert.ok(!JSON.stringify(r.headers).includes('freellmapi-'), `#${r.seq}: unified key leaked`);
      assert.ok(!r.path.includes(GKEY.secret));
    }
    const v = (await s.mock.violations({ provider: 'google' })).filter((r) => /key|Authorization|unified/.test(r.violation));
    assert.deepEqual(v.map((r) => r.violation), []);
  });
});

// ---- error classes: each test gets its own gateway so cooldowns never leak ----

const withStack = (opts, fn) => withStackOf({ models: [G25, GROQ], keys: [GKEY, GROQ_KEY], timeoutMs: 2000, ...opts }, fn);

async function servedBy(s, provider, model, fallbacks) {
  const mark = await s.mock.mark();
  const { data, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('fb') }]);
  const diag = await s.diag();
  assert.equal(routedVia(response.headers)?.raw, `${provider}/${model}`, `X-Routed-Via${diag}`);
  if (fallbacks === 0) {
    const fa = response.headers.get('x-fallback-attempts');
    assert.ok(fa === null || fa === '0', `X-Fallback-Attempts should be absent or 0, got ${fa}${diag}`);
  } else if (fallbacks !== undefined) {
    assert.equal(response.headers.get('x-fallback-attempts'), String(fallbacks), `X-Fallback-Attempts${diag}`);
  }
  return { data, response, reqs: await s.mock.chatRequests({ since: mark }) };
}

describe('gemini error classes', () => {
  test('per-minute RESOURCE_EXHAUSTED: fallover, then a short cooldown that ends after retryDelay', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', error: 'rate_limit_minute', retry_after: 2 });
      const { reqs } = await servedBy(s, 'groq', GROQ.id, 1);
      assert.deepEqual(reqs.map((r) => [r.provider, r.status]), [
        ['google', 429],
        ['groq', 200],
      ]);
      const again = await servedBy(s, 'groq', GROQ.id, 0);
      assert.deepEqual(again.reqs.map((r) => r.provider), ['groq'], 'Gemini is benched right after the 429');
      await sleep(2700);
      const back = await servedBy(s, 'google', G25.id, 0);
      assert.deepEqual(back.reqs.map((r) => r.provider), ['google'], `Gemini serves again once retryDelay ("2s") has passed${await s.diag()}`);
    });
  });

  test('per-day RESOURCE_EXHAUSTED (quotaId ...PerDay...-FreeTier) benches Gemini although retryDelay is short', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', error: 'rate_limit_day', retry_after: 2 });
      await servedBy(s, 'groq', GROQ.id, 1);
      await sleep(2700);
      const { reqs } = await servedBy(s, 'groq', GROQ.id, 0);
      assert.deepEqual(reqs.map((r) => r.provider), ['groq'], `Gemini still benched after a per-day 429${await s.diag()}`);
    });
  });

  test('PERMISSION_DENIED (403, API disabled for the project) falls over', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', error: 'permission_denied' });
      const { reqs } = await servedBy(s, 'groq', GROQ.id, 1);
      assert.deepEqual(reqs.map((r) => r.status), [403, 200]);
    });
  });

  test('UNAVAILABLE (503) and INTERNAL (500) fall over', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', error: 'unavailable' });
      const { reqs } = await servedBy(s, 'groq', GROQ.id, 1);
      assert.deepEqual(reqs.map((r) => r.status), [503, 200]);
    });
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', error: 'internal' });
      await servedBy(s, 'groq', GROQ.id, 1);
    });
    // streaming: the error arrives as a JSON body before any SSE event
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', stream: true, error: 'unavailable' });
      const { data: stream, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('503s') }], { stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, await s.diag());
      assert.equal(text, `Hello from groq/${GROQ.id}.`);
    });
  });

  test('a Gemini stream that stalls after its headers (no first event) falls over', T, async () => {
    await withStack({ timeoutMs: 1500 }, async (s) => {
      await s.mock.script({ provider: 'google', stall_after_headers_ms: 8000 });
      const t0 = Date.now();
      const { data: stream, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('stall') }], { stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      const ms = Date.now() - t0;
      assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, `no fallover (${ms} ms)${await s.diag()}`);
      assert.equal(text, `Hello from groq/${GROQ.id}.`);
      assert.ok(ms < 7000, `took ${ms} ms`);
    });
  });

  test('a malformed Gemini SSE frame never crashes the gateway', T, async () => {
    await withStack({ models: [G25], keys: [GKEY] }, async (s) => {
      await s.mock.script({ provider: 'google', content: 'one two three', malformed_after: 1 });
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('bad-frame') }], stream: true } });
      const text = await r.text();
      if (r.status === 200) assert.equal(sseData(text).at(-1), '[DONE]', text.slice(-400));
      else assertErrorShape(assert, JSON.parse(text));
      assert.equal((await s.fetch('/models')).status, 200, 'still alive');
      const { data } = await asks(s, G25.id, [{ role: 'user', content: uniq('after') }]);
      assert.equal(data.choices[0].message.content, `Hello from google/${G25.id}.`);
    });
  });

  // Gemini has no [DONE]: the stream ends with the HTTP body. A body that ends
  // cleanly without any finishReason is a complete answer (wire/gemini.md 1.10
  // rule 6: "still emit a finish chunk (stop) and [DONE]"), unlike a cut connection.
  test('a Gemini stream that ends cleanly without finishReason ends with finish_reason stop, not an error', T, async () => {
    await withStack({ models: [G25], keys: [GKEY] }, async (s) => {
      await s.mock.script({ provider: 'google', content: 'no finish here', finish_reason: null });
      const raw = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('nofin') }], stream: true } });
      const data = sseData(await raw.text());
      const rec = (await s.mock.chatRequests({ provider: 'google' })).at(-1);
      assert.equal(rec.outcome, 'ok', 'the mock finished its body normally (chunked terminator sent)');
      assert.equal(data.at(-1), '[DONE]', JSON.stringify(data));
      const events = data.slice(0, -1).map((d) => JSON.parse(d));
      const errors = events.filter((e) => e.error);
      assert.deepEqual(errors, [], `a clean end of the upstream body was reported as an error: ${JSON.stringify(errors)}`);
      assert.equal(events.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), 'no finish here');
      assert.deepEqual(events.filter((c) => c.choices?.[0]?.finish_reason).map((c) => c.choices[0].finish_reason), ['stop']);
    });
  });

  test('a mid-stream in-band error before any content falls over (streaming)', T, async () => {
    await withStack({}, async (s) => {
      await s.mock.script({ provider: 'google', inband_error_after: 0 });
      const { data: stream, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('inband') }], { stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      const diag = await s.diag();
      assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, diag);
      assert.equal(text, `Hello from groq/${GROQ.id}.`);
    });
  });

  test('API key not valid (400 API_KEY_INVALID): the key is marked invalid and skipped; `keys list` shows it', T, async () => {
    const bad = { provider: 'google', secret: 'AIzaSyE2E-revoked-000000000', label: 'google-bad' };
    const good = { provider: 'google', secret: 'AIzaSyE2E-valid-0000000001', label: 'google-good' };
    await withStack({ keys: [bad, good, GROQ_KEY], mockKeys: false }, async (s) => {
      await s.mock.setKeys({ google: [good.secret], groq: [GROQ_KEY.secret] });
      const mark = await s.mock.mark();
      let sawBad = false;
      for (let i = 0; i < 6 && !sawBad; i++) {
        const { data, response } = await asks(s, 'auto', [{ role: 'user', content: uniq('k') }]);
        assert.equal(response.status, 200);
        assert.match(data.choices[0].message.content, /^Hello from /);
        sawBad = (await s.mock.requests({ since: mark, key: bad.secret })).length > 0;
      }
      assert.ok(sawBad, `the gateway never tried the bad key${await s.diag()}`);
      const badCalls = (await s.mock.chatRequests({ since: mark, key: bad.secret })).length;
      assert.ok(badCalls <= 1, `the invalid key was used for ${badCalls} chat calls`);
      const after = await s.mock.mark();
      for (let i = 0; i < 4; i++) {
        const { response } = await asks(s, 'auto', [{ role: 'user', content: uniq('k2') }]);
        assert.equal(routedVia(response.headers)?.raw, `google/${G25.id}`, `Gemini still serves with the good key${await s.diag()}`);
      }
      assert.equal((await s.mock.chatRequests({ since: after, key: bad.secret })).length, 0, `the invalid key was used again${await s.diag()}`);
      assert.equal((await s.mock.chatRequests({ since: after, key: good.secret })).length, 4);
      const list = await s.keysList();
      const badLine = list.split('\n').find((l) => l.includes('google-bad'));
      const goodLine = list.split('\n').find((l) => l.includes('google-good'));
      assert.ok(badLine && /invalid/i.test(badLine), `keys list should mark google-bad invalid:\n${list}`);
      assert.ok(goodLine && !/invalid/i.test(goodLine), `google-good is not invalid:\n${list}`);
      assert.ok(!list.includes(bad.secret) && !list.includes(good.secret), 'keys list never prints a full secret');
    });
  });

  test('everything exhausted: the client gets a 429 with a Retry-After taken from retryDelay', T, async () => {
    await withStack({ models: [G25], keys: [GKEY] }, async (s) => {
      await s.mock.script({ provider: 'google', error: 'rate_limit_minute', retry_after: 30 });
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('x') }] } });
      const body = await r.json();
      assert.equal(r.status, 429, `${JSON.stringify(body)}${await s.diag()}`);
      assertErrorShape(assert, body);
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(ra >= 20 && ra <= 40, `retry-after ${r.headers.get('retry-after')} should come from RetryInfo.retryDelay "30s"`);
    });
  });
});

describe('gemini image URLs (fetch allow-listed for the mock)', () => {
  test('an allowed http image URL is fetched once and sent as inlineData; a redirect out of the allow-list is refused', T, async () => {
    const s = await startStack({ models: [G25], keys: [GKEY], env: { FREELLMAPI_FETCH_ALLOW_CIDRS: '127.0.0.1/32' } });
    try {
      const mark = await s.mock.mark();
      const { data, response } = await asks(s, G25.id, [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: s.mock.assetUrl('pixel.png?sig=secret-token') } }] }]);
      const diag = await s.diag();
      assert.equal(response.status, 200, diag);
      assert.equal(data.choices[0].message.content, `Hello from google/${G25.id}. I see 1 image.`, diag);
      assert.equal((await s.mock.requests({ provider: 'assets', since: mark })).length, 1, 'fetched once');
      const r = (await googleChats(s, mark))[0];
      const inl = gfield(geminiParts(r.body).find((p) => gfield(p, 'inlineData')), 'inlineData');
      assert.equal(gfield(inl, 'mimeType'), 'image/png');
      assert.deepEqual(Buffer.from(inl.data, 'base64'), Buffer.from(PNG_B64, 'base64'));

      // 302 to a loopback address outside the allow-list: refused, the target never fetched
      const m2 = await s.mock.mark();
      const to = `http://127.0.0.2:${s.mock.port}/assets/other.png`;
      const res = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: s.mock.assetUrl(`redirect?to=${encodeURIComponent(to)}`) } }] }] } });
      const body = await res.json();
      assert.equal(res.status, 400, `${JSON.stringify(body)}${await s.diag()}`);
      assertErrorShape(assert, body);
      assert.ok(!body.error.message.includes('secret-token'));
      assert.deepEqual((await s.mock.requests({ provider: 'assets', since: m2 })).map((x) => x.path), ['/assets/redirect'], 'only the redirect itself was fetched');
      assert.deepEqual(await googleChats(s, m2), []);

      // not an image
      const m3 = await s.mock.mark();
      const res3 = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: s.mock.assetUrl('page.html') } }] }] } });
      assert.equal(res3.status, 400, await s.diag());
      assert.match((await res3.json()).error.message, /not an image|image\//i);
      assert.deepEqual(await googleChats(s, m3), []);
    } finally {
      await s.stop();
    }
  });
});
