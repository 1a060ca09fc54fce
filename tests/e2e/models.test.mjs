// GET /v1/models and /v1/models/{id} with the openai SDK.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const SCOUT = { provider: 'groq', id: 'meta-llama/llama-4-scout-17b-16e-instruct' };
const OR = { provider: 'openrouter', id: 'qwen/qwen3-coder:free' };
const CF = { provider: 'cloudflare', id: '@cf/openai/gpt-oss-120b' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' }; // no key: must not be listed
let s;

describe('models', () => {
  before(async () => {
    s = await startStack({
      models: [GROQ, SCOUT, OR, CF, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_models' },
        { provider: 'openrouter', secret: 'sk-or-e2e-models' },
        { provider: 'cloudflare', secret: 'cf_e2e_models', account: 'acc0models' },
      ],
    });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('GET /v1/models lists "auto" and the models with a usable key, with context_length', T, async () => {
    const page = await s.client.models.list();
    const ids = page.data.map((m) => m.id);
    for (const id of ['auto', GROQ.id, SCOUT.id, OR.id, CF.id]) assert.ok(ids.includes(id), `${id} missing from ${JSON.stringify(ids)}`);
    assert.ok(!ids.includes(CEREBRAS.id), 'a model without a usable key is not listed');
    for (const m of page.data) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      assert.equal(typeof m.owned_by, 'string');
    }
    const byId = Object.fromEntries(page.data.map((m) => [m.id, m]));
    const cat = s.catalog.providers.find((p) => p.id === 'groq').models.find((m) => m.id === GROQ.id);
    assert.equal(byId[GROQ.id].context_length, cat.context_window, `context_length of ${GROQ.id}: ${JSON.stringify(byId[GROQ.id])}`);
    assert.equal(typeof byId[OR.id].context_length, 'number');
    const raw = await s.fetch('/models');
    const j = await raw.json();
    assert.equal(j.object, 'list');
    assert.ok(Array.isArray(j.data));
  });

  test('GET /v1/models/{id}, with "/" percent-encoded or literal', T, async () => {
    for (const id of [GROQ.id, SCOUT.id, OR.id, CF.id, 'auto']) {
      const m = await s.client.models.retrieve(id); // the SDK encodes "/" as %2F
      assert.equal(m.id, id);
      assert.equal(m.object, 'model');
    }
    const enc = await s.fetch(`/models/${encodeURIComponent(SCOUT.id)}`);
    assert.equal(enc.status, 200);
    assert.equal((await enc.json()).id, SCOUT.id);
    const lit = await s.fetch(`/models/${SCOUT.id}`);
    assert.equal(lit.status, 200, 'a literal "/" in the id works too');
    assert.equal((await lit.json()).id, SCOUT.id);
    const cf = await s.fetch(`/models/${CF.id}`);
    assert.equal(cf.status, 200, '"@" and "/" literal');
  });

  test('unknown model id -> 404 in OpenAI shape', T, async () => {
    let err;
    try {
      await s.client.models.retrieve('nope/not-a-model');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    const r = await s.fetch(`/models/${encodeURIComponent('nope/not-a-model')}`);
    assert.equal(r.status, 404);
    assertErrorShape(assert, await r.json());
  });
});
