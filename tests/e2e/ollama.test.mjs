// Ollama's API on the gateway's port, with the published `ollama` npm client: chat and generate
// (whole and streamed as NDJSON), a tool round trip, images, tags / show / version / ps; no key
// from this machine, the unified key through a proxy; errors as Ollama's {"error": "…"}; the
// admin API beside it untouched.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startStack, routedVia, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const SCOUT = { provider: 'groq', id: 'meta-llama/llama-4-scout-17b-16e-instruct' };
const EMBED = { provider: 'mistral', id: 'mistral-embed' };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

describe('Ollama API', () => {
  let s, ollama;
  before(async () => {
    s = await startStack({ models: [GROQ, SCOUT, EMBED], keys: [{ provider: 'groq', secret: 'gsk_e2e_ollama_1' }, { provider: 'mistral', secret: 'mistral_e2e_ollama_1' }] });
    ollama = new Ollama({ host: `http://127.0.0.1:${s.port}` }); // no key: this machine
  });
  after(async () => s?.stop());

  test('chat, whole: Ollama\'s shape and counters; options reach the upstream', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: 'Hi from the gateway.' });
    const r = await ollama.chat({ model: `${GROQ.id}:latest`, messages: [{ role: 'system', content: 'Terse.' }, { role: 'user', content: uniq('hi') }],
      options: { temperature: 0.1, num_predict: 50, stop: ['END'], seed: 7 } });
    assert.equal(r.message.role, 'assistant');
    assert.equal(r.message.content, 'Hi from the gateway.');
    assert.equal(r.done, true);
    assert.equal(r.done_reason, 'stop');
    assert.equal(r.model, `${GROQ.id}:latest`);
    assert.ok(r.prompt_eval_count > 0 && r.eval_count > 0 && r.total_duration > 0, JSON.stringify(r));
    assert.match(r.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.model, GROQ.id);
    assert.equal(up.body.temperature, 0.1);
    assert.equal(up.body.max_tokens ?? up.body.max_completion_tokens, 50);
    assert.deepEqual(up.body.stop, ['END']);
    assert.equal(up.body.seed, 7);
  });

  test('chat and generate streamed as NDJSON; format json asks for JSON output', T, async () => {
    await s.mock.script({ provider: 'groq', content: 'Streaming works through the gateway.' });
    let text = '';
    let last;
    for await (const part of await ollama.chat({ model: 'auto', messages: [{ role: 'user', content: uniq('s') }], stream: true })) {
      text += part.message.content;
      last = part;
    }
    assert.equal(text, 'Streaming works through the gateway.');
    assert.equal(last.done, true);
    assert.ok(last.eval_count > 0);
    const raw = await s.fetch('//api/generate', { auth: false, method: 'POST', json: { model: 'auto', prompt: uniq('g') } });
    assert.match(raw.headers.get('content-type'), /application\/x-ndjson/);
    const lines = (await raw.text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 2 && lines.at(-1).done === true && lines.slice(0, -1).every((l) => l.done === false && typeof l.response === 'string'));
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: '{"ok":true}' });
    const g = await ollama.generate({ model: 'auto', system: 'JSON only.', prompt: uniq('json please'), format: 'json' });
    assert.equal(g.response, '{"ok":true}');
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.deepEqual(up.body.response_format, { type: 'json_object' });
    assert.deepEqual(up.body.messages.map((m) => m.role), ['system', 'user']);
    const load = await ollama.generate({ model: 'auto', prompt: '' });
    assert.equal(load.done_reason, 'load');
  });

  test('a tool round trip: tool_calls whole, tool messages matched by name', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const user = { role: 'user', content: uniq('weather?') };
    let calls = [];
    for await (const part of await ollama.chat({ model: 'auto', messages: [user], tools: [WEATHER], stream: true })) calls = calls.concat(part.message.tool_calls ?? []);
    assert.deepEqual(calls, [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
    await s.mock.script({ provider: 'groq', content: 'It is 21.' });
    const r = await ollama.chat({ model: 'auto', tools: [WEATHER], messages: [user, { role: 'assistant', content: '', tool_calls: calls }, { role: 'tool', content: '21', tool_name: 'get_weather' }] });
    assert.equal(r.message.content, 'It is 21.');
    const reqs = await s.mock.chatRequests({ since: mark });
    const m = reqs[1].body.messages;
    assert.equal(m[1].tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(m[1].tool_calls[0].function.arguments), { city: 'Paris' });
    assert.equal(m[2].role, 'tool');
    assert.equal(m[2].tool_call_id, m[1].tool_calls[0].id);
    assert.equal(reqs[0].body.tools[0].function.name, 'get_weather');
  });

  test('images go to a vision model', T, async () => {
    const mark = await s.mock.mark();
    const r = await s.fetch('//api/chat', { auth: false, method: 'POST', json: { model: 'auto', stream: false, messages: [{ role: 'user', content: 'what?', images: [PNG] }] } });
    assert.equal(r.status, 200);
    assert.equal(routedVia(r.headers)?.raw, `groq/${SCOUT.id}`);
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.messages[0].content[1].image_url.url, `data:image/png;base64,${PNG}`);
  });

  test('embed (batch) and the older embeddings (one prompt)', T, async () => {
    const r = await ollama.embed({ model: EMBED.id, input: ['alpha', 'beta'] });
    assert.equal(r.model, EMBED.id);
    assert.equal(r.embeddings.length, 2);
    assert.ok(r.embeddings[0].length > 8 && r.embeddings[0].every((x) => typeof x === 'number'));
    assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
    assert.ok(r.prompt_eval_count > 0);
    const one = await ollama.embeddings({ model: `${EMBED.id}:latest`, prompt: 'alpha' });
    assert.deepEqual(one.embedding, r.embeddings[0], 'the same text, the same vector');
    const bad = await s.fetch('//api/embed', { auth: false, method: 'POST', json: { model: EMBED.id, input: [] } });
    assert.equal(bad.status, 400);
    assert.equal(typeof (await bad.json()).error, 'string');
  });

  test('(embeddings beside) an OpenAI embedding name whose size no model here makes is refused clearly', T, async () => {
    // Only mistral-embed (1024, fixed) is in this stack: text-embedding-3-small means 1536.
    await assert.rejects(s.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
      (e) => e.status === 400 && e.code === 'dimensions_unavailable' && /1536/.test(e.message));
    const ok = await s.client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', dimensions: 1024, encoding_format: 'float' });
    assert.equal(ok.data[0].embedding.length, 1024);
  });

  test('tags, show, version, ps', T, async () => {
    const { models } = await ollama.list();
    assert.ok(models.some((m) => m.name === 'auto'));
    const groq = models.find((m) => m.name === GROQ.id);
    assert.equal(groq.details.family, 'groq');
    assert.match(groq.digest, /^[0-9a-f]{64}$/);
    const show = await ollama.show({ model: SCOUT.id });
    assert.ok(show.capabilities.includes('vision') && show.capabilities.includes('completion'));
    assert.ok(show.model_info['groq.context_length'] > 0);
    await assert.rejects(ollama.show({ model: 'no-such-model' }), (e) => e.status_code === 404 && /not found/.test(e.error));
    assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual((await ollama.ps()).models, []);
  });

  test('no key only from this machine: a proxied request needs the unified key', T, async () => {
    const proxied = await s.fetch('//api/tags', { auth: false, headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(proxied.status, 401);
    assert.equal(typeof (await proxied.json()).error, 'string');
    const keyed = await s.fetch('//api/tags', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(keyed.status, 200);
    const behindProxy = new Ollama({ host: `http://127.0.0.1:${s.port}`, headers: { Authorization: `Bearer ${s.key}`, 'X-Real-IP': '203.0.113.9' } });
    assert.ok((await behindProxy.list()).models.length > 0);
    // The admin API beside it keeps its own rules.
    assert.equal((await s.fetch('//api/status', { auth: false, headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 403);
    assert.equal((await s.fetch('//api/status', { auth: false })).status, 200);
  });

  test('errors are Ollama\'s {"error": "…"}; the client throws them', T, async () => {
    await assert.rejects(ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (e) => e.status_code === 404 && /no-such-model/.test(e.error));
    const cases = [
      ['//api/chat', { model: 'auto' }, /messages/],
      ['//api/chat', { messages: [{ role: 'user', content: 'x' }] }, /model/],
      ['//api/chat', { model: 'auto', messages: [{ role: 'wizard', content: 'x' }] }, /role/],
      ['//api/chat', { model: 'auto', messages: [{ role: 'tool', content: 'x' }] }, /tool message/],
      ['//api/chat', { model: 'auto', messages: [{ role: 'user', content: 'x', images: [7] }] }, /images/],
      ['//api/chat', { model: 'auto', format: 7, messages: [{ role: 'user', content: 'x' }] }, /format/],
      ['//api/generate', { model: 'auto', prompt: 'x', suffix: 'y' }, /suffix/],
      ['//api/generate', { model: 'auto', prompt: 'x', options: { num_predict: 'many' } }, /num_predict/],
    ];
    for (const [path, body, re] of cases) {
      const r = await s.fetch(path, { auth: false, method: 'POST', json: body });
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      const e = await r.json();
      assert.deepEqual(Object.keys(e), ['error']);
      assert.match(e.error, re);
    }
    const bad = await s.fetch('//api/chat', { auth: false, method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(typeof (await bad.json()).error, 'string');
    assert.equal((await s.fetch('//api/tags', { auth: false, method: 'POST', json: {} })).status, 405);
  });
});
