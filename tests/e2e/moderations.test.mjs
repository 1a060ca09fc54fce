// POST /v1/moderations through the openai SDK: answered by a free tier's moderation model
// (Mistral's classifier) in OpenAI's shape and categories, with fallover; images refused.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia } from './lib/harness.mjs';

const T = { timeout: 30000 };
const MOD = { provider: 'mistral', id: 'mistral-moderation-latest' };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };

describe('moderations', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [MOD, GROQ], keys: [{ provider: 'mistral', secret: 'mistral_e2e_mod_1' }, { provider: 'mistral', secret: 'mistral_e2e_mod_2' }, { provider: 'groq', secret: 'gsk_e2e_mod_1' }] });
  });
  after(async () => s?.stop());

  test('OpenAI\'s shape and categories, one result per input; OpenAI\'s model names route', T, async () => {
    const mark = await s.mock.mark();
    const { data: r, response } = await s.client.moderations.create({ model: 'omni-moderation-latest', input: ['I will kill you', 'What a lovely day', 'I want to hurt myself'] }).withResponse();
    assert.equal(routedVia(response.headers)?.raw, 'mistral/mistral-moderation-latest');
    assert.match(r.id, /^modr-[0-9a-f]{24}$/);
    assert.equal(r.model, 'mistral-moderation-latest');
    assert.equal(r.results.length, 3);
    const [threat, fine, selfharm] = r.results;
    assert.equal(threat.flagged, true);
    assert.equal(threat.categories.violence, true);
    assert.equal(threat.categories['harassment/threatening'], true);
    assert.ok(threat.category_scores.violence > 0.5);
    assert.equal(fine.flagged, false);
    assert.ok(Object.values(fine.categories).every((v) => v === false));
    assert.equal(selfharm.categories['self-harm'], true);
    for (const cat of ['harassment', 'hate', 'illicit', 'illicit/violent', 'self-harm/intent', 'sexual', 'sexual/minors', 'violence/graphic'])
      assert.equal(typeof fine.category_scores[cat], 'number', cat);
    assert.deepEqual(fine.category_applied_input_types.violence, ['text']);
    const [up] = await s.mock.requests({ since: mark, endpoint: 'moderation' });
    assert.match(up.path, /\/mistral\/v1\/moderations$/);
    assert.equal(up.body.model, 'mistral-moderation-latest');
    assert.deepEqual(up.body.input, ['I will kill you', 'What a lovely day', 'I want to hurt myself']);
  });

  test('a 429 on one key falls over to the next', T, async () => {
    await s.mock.script({ provider: 'mistral', error: 'rate_limit_minute', retry_after: 30 });
    const { data: r, response } = await s.client.moderations.create({ input: 'steal the car' }).withResponse();
    assert.equal(response.headers.get('x-fallback-attempts'), '1');
    assert.equal(r.results[0].categories.illicit, true);
  });

  test('images and bad input are refused naming input; chat models are not moderation models', T, async () => {
    await assert.rejects(s.client.moderations.create({ input: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }), (e) => e.status === 400 && e.param === 'input');
    await assert.rejects(s.client.moderations.create({ input: [] }), (e) => e.status === 400 && e.param === 'input');
    await assert.rejects(s.client.moderations.create({ model: GROQ.id, input: 'x' }), (e) => e.status === 400 && e.param === 'model');
  });
});
