// Client-side errors the gateway answers itself, in OpenAI's error shape,
// without calling any upstream: auth, malformed JSON, missing fields,
// unknown model, body too large.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, assertErrorShape, postLarge } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const LIMIT = 1024 * 1024; // FREELLMAPI_MAX_BODY for this gateway
let s;

async function jsonOf(r) {
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`not JSON (status ${r.status}): ${text.slice(0, 300)}`);
  }
}

describe('client errors', () => {
  before(async () => {
    s = await startStack({ models: [GROQ], keys: [{ provider: 'groq', secret: 'gsk_e2e_err', label: 'g' }], env: { FREELLMAPI_MAX_BODY: String(LIMIT) } });
  }, T);
  after(async () => {
    await s?.stop();
  });

  test('missing or wrong bearer -> 401 in OpenAI shape', T, async () => {
    const mark = await s.mock.mark();
    const body = { model: 'auto', messages: [{ role: 'user', content: 'hi' }] };
    const none = await s.fetch('/chat/completions', { json: body, auth: false });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('content-type') || '', /application\/json/);
    assert.ok(none.headers.get('x-request-id'), 'x-request-id on errors');
    assertErrorShape(assert, await jsonOf(none));

    const wrong = await s.fetch('/chat/completions', { json: body, auth: false, headers: { authorization: 'Bearer freellmapi-not-the-key' } });
    assert.equal(wrong.status, 401);
    assertErrorShape(assert, await jsonOf(wrong));

    let err;
    try {
      await s.clientWith({ apiKey: 'sk-wrong' }).chat.completions.create(body);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.equal(err.status, 401);

    const models = await s.fetch('/models', { auth: false, headers: { authorization: 'Bearer nope' } });
    assert.equal(models.status, 401, 'GET /v1/models must 401 on a bad key');
    assertErrorShape(assert, await jsonOf(models));
    assert.equal((await s.mock.chatRequests({ since: mark })).length, 0, 'nothing reached an upstream');
  });

  test('malformed JSON -> 400', T, async () => {
    const r = await s.fetch('/chat/completions', { body: '{"model":"auto","messages":[', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assertErrorShape(assert, await jsonOf(r), { type: 'invalid_request_error' });
  });

  test('missing messages (and empty messages) -> 400', T, async () => {
    const mark = await s.mock.mark();
    let err;
    try {
      await s.client.chat.completions.create({ model: 'auto' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    const r = await s.fetch('/chat/completions', { json: { model: 'auto' } });
    assert.equal(r.status, 400);
    assertErrorShape(assert, await jsonOf(r), { type: 'invalid_request_error' });
    const e2 = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [] } });
    assert.equal(e2.status, 400);
    assertErrorShape(assert, await jsonOf(e2));
    const e3 = await s.fetch('/chat/completions', { json: { messages: [{ role: 'user', content: 'x' }] } });
    assert.equal(e3.status, 400, 'missing model');
    assertErrorShape(assert, await jsonOf(e3));
    assert.equal((await s.mock.chatRequests({ since: mark })).length, 0);
  });

  test('unknown model -> 404 model_not_found', T, async () => {
    let err;
    try {
      await s.client.chat.completions.create({ model: 'no-such-model-xyz', messages: [{ role: 'user', content: 'x' }] });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.code, 'model_not_found');
    const r = await s.fetch('/chat/completions', { json: { model: 'no-such-model-xyz', messages: [{ role: 'user', content: 'x' }] } });
    assert.equal(r.status, 404);
    assertErrorShape(assert, await jsonOf(r), { code: 'model_not_found', type: 'invalid_request_error' });
  });

  test('a body over the limit -> 413 (openai SDK)', T, async () => {
    const mark = await s.mock.mark();
    let err;
    try {
      await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'a'.repeat(2 * LIMIT) }] });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 413, `the SDK got ${err.constructor.name} (${err.cause?.code ?? err.message}) instead of a 413 response`);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal((await s.mock.chatRequests({ since: mark })).length, 0);
    assert.equal((await s.fetch('/models')).status, 200, 'still serving after a rejected large body');
  });

  test('a body over the limit -> 413 even when the client streams it right after the headers', T, async () => {
    const r = await postLarge(`${s.baseURL}/chat/completions`, { authorization: `Bearer ${s.key}` }, 4 * LIMIT, { timeoutMs: 20000 });
    assert.equal(r.status, 413, `status ${r.status}: ${r.body.slice(0, 300)}`);
    assertErrorShape(assert, JSON.parse(r.body));
    assert.equal((await s.fetch('/models')).status, 200, 'still serving after a rejected large body');
  });
});
