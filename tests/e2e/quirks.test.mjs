// Provider quirks (docs/reference/providers.md section 0): what each upstream
// rejects must never reach it. The mock runs in strict mode and answers like
// the real provider would (e.g. Mistral 422 extra_forbidden), recording a
// violation; these tests send the problematic fields through the gateway and
// check that every upstream request was clean and the client got a 200.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq } from './lib/harness.mjs';

const T = { timeout: 30000 };
const M = {
  groq: { provider: 'groq', id: 'llama-3.3-70b-versatile' },
  mistral: { provider: 'mistral', id: 'mistral-small-latest' },
  cloudflare: { provider: 'cloudflare', id: '@cf/openai/gpt-oss-120b' },
  cohere: { provider: 'cohere', id: 'command-a-03-2025' },
  nvidia: { provider: 'nvidia', id: 'deepseek-ai/deepseek-v4-pro' },
  github: { provider: 'github', id: 'openai/gpt-4.1' },
};
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false },
    },
  },
];
let s;

async function send(model, body) {
  const mark = await s.mock.mark();
  const { data, response } = await s.client.chat.completions.create({ model: model.id, messages: [{ role: 'user', content: uniq('q') }], ...body }).withResponse();
  const reqs = await s.mock.chatRequests({ since: mark });
  const diag = await s.diag();
  assert.equal(routedVia(response.headers)?.raw, `${model.provider}/${model.id}`, diag);
  assert.equal(reqs.length, 1, `one upstream call${diag}`);
  assert.equal(reqs[0].violation, null, `${model.provider} would reject this request: ${reqs[0].violation}\nbody sent: ${JSON.stringify(reqs[0].body)}`);
  for (const [k, v] of Object.entries(reqs[0].body)) assert.notEqual(v, null, `null "${k}" forwarded to ${model.provider}`);
  return { data, req: reqs[0] };
}

describe('provider quirks', () => {
  before(async () => {
    s = await startStack({
      models: Object.values(M),
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_q' },
        { provider: 'mistral', secret: 'mistral-e2e-q' },
        { provider: 'cloudflare', secret: 'cf_e2e_q', account: 'accq1' },
        { provider: 'cohere', secret: 'cohere-e2e-q' },
        { provider: 'nvidia', secret: 'nvapi-e2e-q' },
        { provider: 'github', secret: 'github_pat_e2e_q' },
      ],
    });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('null fields are treated as absent and never forwarded', T, async () => {
    for (const m of [M.groq, M.mistral]) await send(m, { temperature: null, top_p: null, stop: null, tools: null, max_tokens: null, seed: null });
  });

  test('stream_options is not forwarded on a non-streaming request', T, async () => {
    await send(M.groq, { stream_options: { include_usage: true } });
  });

  test('Mistral: no unknown keys (seed -> random_seed), 9-character tool-call ids', T, async () => {
    const { req } = await send(M.mistral, { seed: 7, user: 'u1', logit_bias: { 50256: -100 }, service_tier: 'auto', store: false, parallel_tool_calls: true, tools: TOOLS });
    assert.equal(req.body.random_seed, 7, 'seed renamed to random_seed');
    const history = [
      { role: 'user', content: 'find 42' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_Zx81kQabcdef', type: 'function', function: { name: 'lookup', arguments: '{"id":"42"}' } }] },
      { role: 'tool', tool_call_id: 'call_Zx81kQabcdef', content: '{"ok":true}' },
    ];
    const mark = await s.mock.mark();
    await s.client.chat.completions.create({ model: M.mistral.id, messages: history, tools: TOOLS });
    const r = (await s.mock.chatRequests({ since: mark }))[0];
    assert.equal(r.violation, null, `${r.violation}\n${JSON.stringify(r.body.messages)}`);
    assert.equal(r.body.messages[1].tool_calls[0].id, r.body.messages[2].tool_call_id, 'ids rewritten consistently');
  });

  test('Mistral streaming: usage arrives on its last chunk and reaches the client', T, async () => {
    const chunks = [];
    for await (const c of await s.client.chat.completions.create({ model: M.mistral.id, messages: [{ role: 'user', content: uniq('m') }], stream: true, stream_options: { include_usage: true } })) chunks.push(c);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage?.total_tokens > 0, JSON.stringify(last));
    const r = (await s.mock.chatRequests({ provider: 'mistral' })).at(-1);
    assert.equal(r.violation, null, r.violation);
  });

  test('Groq: messages[].name, logprobs and n are stripped', T, async () => {
    const { req } = await send(M.groq, { messages: [{ role: 'user', content: uniq('g'), name: 'alice' }], logprobs: true, top_logprobs: 2, logit_bias: { 1: 1 } });
    assert.equal(req.body.messages[0].name, undefined);
  });

  test('Cloudflare: text parts flattened, assistant null content sent as "", explicit max_tokens', T, async () => {
    const { req } = await send(M.cloudflare, {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"id":"1"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
      tools: TOOLS,
    });
    assert.equal(typeof req.body.messages[0].content, 'string');
    assert.match(req.body.messages[0].content, /part one[\s\S]*part two/);
    assert.equal(req.body.messages[1].content, '');
    assert.equal(req.body.max_tokens, 8192, 'default max_tokens for Workers AI');
  });

  test('Cohere: flattened content and schema keywords it rejects are stripped', T, async () => {
    await send(M.cohere, { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], tools: TOOLS });
  });

  test('NVIDIA: parallel_tool_calls false with tools', T, async () => {
    const { req } = await send(M.nvidia, { tools: TOOLS });
    assert.equal(req.body.parallel_tool_calls, false);
  });

  test('GitHub: non-OpenAI knobs dropped, max_tokens capped', T, async () => {
    const { req } = await send(M.github, { top_k: 40, min_p: 0.1, repetition_penalty: 1.1, max_tokens: 5000 });
    assert.ok((req.body.max_tokens ?? req.body.max_completion_tokens) <= 4000, `max_tokens ${req.body.max_tokens}`);
  });
});
