// OpenAI's and Claude's model names on chat: each routes like "auto" with a tier of the chain
// first (small, large, reasoning: catalog data), X-Routed-Via naming the real model; dated
// snapshots too; a tier without a usable model falls over to the rest; unknown names still
// 404. LangChain's ChatOpenAI() with no model named (its default, gpt-3.5-turbo) works.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOpenAI } from '@langchain/openai';
import { startStack, routedVia, uniq, sleep } from './lib/harness.mjs';

const T = { timeout: 30000 };
const SMALL = { provider: 'groq', id: 'llama-3.3-70b-versatile' };      // rank 17: small
const LARGE = { provider: 'sambanova', id: 'DeepSeek-V3.1' };            // rank 5: large, reasoning
const REASON = { provider: 'cerebras', id: 'gpt-oss-120b' };             // rank 6: large, reasoning

describe('OpenAI and Claude model names', () => {
  let s;
  const ask = async (model) => {
    const { data, response } = await s.client.chat.completions.create({ model, messages: [{ role: 'user', content: uniq(model) }] }).withResponse();
    return { via: routedVia(response.headers)?.raw, attempts: response.headers.get('x-fallback-attempts'), data };
  };
  before(async () => {
    s = await startStack({
      models: [LARGE, REASON, SMALL],
      keys: [{ provider: 'groq', secret: 'gsk_e2e_names_1' }, { provider: 'sambanova', secret: 'sn_e2e_names_1' }, { provider: 'cerebras', secret: 'csk-e2e-names-1' }],
    });
  });
  after(async () => s?.stop());

  test('each name routes to its tier first', T, async () => {
    assert.equal((await ask('gpt-4o-mini')).via, `groq/${SMALL.id}`);
    assert.equal((await ask('gpt-3.5-turbo')).via, `groq/${SMALL.id}`);
    assert.equal((await ask('gpt-5')).via, `sambanova/${LARGE.id}`, 'large: the chain order among large models');
    assert.equal((await ask('claude-sonnet-4-5')).via, `sambanova/${LARGE.id}`);
    assert.equal((await ask('claude-3-5-haiku-latest')).via, `groq/${SMALL.id}`);
    const r = await ask('o3-mini');
    assert.ok([`sambanova/${LARGE.id}`, `cerebras/${REASON.id}`].includes(r.via), r.via);
  });

  test('dated snapshots are their model\'s name', T, async () => {
    assert.equal((await ask('gpt-4o-mini-2024-07-18')).via, `groq/${SMALL.id}`);
    assert.equal((await ask('gpt-3.5-turbo-0125')).via, `groq/${SMALL.id}`);
    assert.equal((await ask('gpt-4-0613')).via, `sambanova/${LARGE.id}`);
  });

  test('unknown names are still 404', T, async () => {
    await assert.rejects(ask('gpt-unknown-9'), (e) => e.status === 404 && e.code === 'model_not_found');
    await assert.rejects(ask('llama-9000'), (e) => e.status === 404);
  });

  test('LangChain\'s ChatOpenAI() with no model named', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'groq', content: 'Hello from LangChain.' });
    const llm = new ChatOpenAI({ apiKey: s.key, configuration: { baseURL: s.baseURL }, maxRetries: 0 });
    const r = await llm.invoke('Say hello.');
    assert.equal(r.content, 'Hello from LangChain.');
    const [up] = await s.mock.chatRequests({ since: mark });
    assert.equal(up.body.model, SMALL.id, 'gpt-3.5-turbo is a small model here');
  });
  test('a tier whose models cannot serve falls over to the rest of the chain (last: it cools the small tier down)', T, async () => {
    await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 30 });
    const r = await ask('gpt-4o-mini');
    assert.notEqual(r.via, `groq/${SMALL.id}`);
    assert.equal(r.attempts, '1');
  });

});

describe('a name that is both an OpenAI name and a catalog model (GitHub serves gpt-4o)', () => {
  const GH_4O = { provider: 'github', id: 'gpt-4o' };
  let s;
  const via = async (model) => {
    const { response } = await s.client.chat.completions.create({ model, messages: [{ role: 'user', content: uniq(model) }] }).withResponse();
    return routedVia(response.headers)?.raw;
  };
  before(async () => {
    s = await startStack({
      models: [SMALL, LARGE, GH_4O],
      keys: [{ provider: 'groq', secret: 'gsk_e2e_names_2' }, { provider: 'sambanova', secret: 'sn_e2e_names_2' }],
    });
  });
  after(async () => s?.stop());

  test('without a key for the model, its tier comes first (not the chain\'s head); with one, the model itself', T, async () => {
    assert.equal(await via('auto'), `groq/${SMALL.id}`, 'the chain starts with a small model');
    assert.equal(await via('gpt-4o'), `sambanova/${LARGE.id}`);
    assert.equal(await via('gpt-4o-2024-08-06'), `sambanova/${LARGE.id}`);
    await s.keysAdd({ provider: 'github', secret: 'ghp_e2e_names_2' });
    let got;
    for (let i = 0; i < 40 && got !== 'github/gpt-4o'; i++) {
      got = await via('gpt-4o');
      if (got !== 'github/gpt-4o') await sleep(250);
    }
    assert.equal(got, 'github/gpt-4o', 'the named model once its key is in');
    await s.mock.script({ provider: 'github', error: 'rate_limit_minute', retry_after: 30 });
    assert.equal(await via('gpt-4o'), `sambanova/${LARGE.id}`, 'then its tier, before the rest of the chain');
  });
});
