// Dashboard III's server side (docs/admin-api.md): the playground's way to /v1 (/api/v1/...,
// the unified key applied by the server, admin access rules), X-FreeLLMAPI-No-Fallover, the Test
// Lab's sweeps (the cheapest request per kind, that model only, within a probe budget, capped
// models skipped, cancel), manual quarantines (routing skips the model, they survive a restart,
// a sweep that finds the model good releases it) and `freellmapi test` on the command line.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, runCli, sleep } from './lib/harness.mjs';

const T = { timeout: 90000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const STT = { provider: 'groq', id: 'whisper-large-v3-turbo' };
const EMBED = { provider: 'mistral', id: 'mistral-embed' };
const ADMIN = { 'x-freellmapi-admin': '1', 'content-type': 'application/json' };

describe('test lab', () => {
  let s;
  const url = (p) => `http://127.0.0.1:${s.port}${p}`;
  const api = (p, init = {}) => fetch(url(`/api${p}`), { ...init, headers: { ...(init.method && init.method !== 'GET' ? ADMIN : {}), ...(init.headers || {}) } });
  const body = (o) => JSON.stringify(o);
  const sweepDone = async () => {
    for (let i = 0; i < 200; i++) {
      const r = await (await api('/sweeps/current')).json();
      if (r.state !== 'running') return r;
      await sleep(50);
    }
    throw new Error('the sweep never ended');
  };

  before(async () => {
    s = await startStack({
      models: [GROQ, CEREBRAS, STT, EMBED],
      keys: [{ provider: 'groq', secret: 'gsk_e2e_lab_1' }, { provider: 'cerebras', secret: 'csk-e2e-lab-1' }, { provider: 'mistral', secret: 'mistral-e2e-lab-1' }],
    });
  });
  after(async () => s?.stop());

  test('the playground reaches /v1 through /api/v1 without holding the key', T, async () => {
    const r = await api('/v1/chat/completions', { method: 'POST', body: body({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(r.status, 200, await r.clone().text());
    assert.ok(r.headers.get('x-routed-via'));
    assert.equal(r.headers.get('access-control-allow-origin'), null, 'no CORS grant');
    assert.equal((await r.json()).object, 'chat.completion');
    // Streams come back as on /v1.
    const st = await api('/v1/chat/completions', { method: 'POST', body: body({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
    assert.match(st.headers.get('content-type'), /text\/event-stream/);
    assert.match(await st.text(), /data: \[DONE\]/);
    const models = await api('/v1/models');
    assert.equal(models.status, 200);
    // The admin rules: no admin header on a POST, a foreign Origin, a proxied client.
    assert.equal((await fetch(url('/api/v1/chat/completions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 403);
    assert.equal((await api('/v1/chat/completions', { method: 'POST', headers: { origin: 'http://evil.example' }, body: '{}' })).status, 403);
    assert.equal((await api('/v1/models', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 403);
    // /v1 itself still wants the key.
    assert.equal((await fetch(url('/v1/models'))).status, 401);
  });

  test('X-FreeLLMAPI-No-Fallover serves the named model or fails', T, async () => {
    await s.mock.script({ provider: 'groq', error: 'server', times: 2 });
    const r = await fetch(url('/v1/chat/completions'), {
      method: 'POST',
      headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', 'x-freellmapi-no-fallover': '1' },
      body: body({ model: `groq/${GROQ.id}`, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.ok(r.status >= 500, `status ${r.status}`);
    assert.ok(!(r.headers.get('x-routed-via') || '').startsWith('cerebras/'));
    await s.mock.clearScript();
    // Without it the same request falls over to another model.
    await s.mock.script({ provider: 'groq', error: 'server', times: 2 });
    const ok = await s.client.chat.completions.create({ model: `groq/${GROQ.id}`, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.match(ok.response.headers.get('x-routed-via'), /^cerebras\//);
    await s.mock.clearScript();
    await api('/quarantines', { method: 'DELETE', body: body({ provider: 'groq' }) }); // the benches it left
  });

  test('a sweep tests each model alone, within its budget; failures can be quarantined', T, async () => {
    const mark = await s.mock.mark();
    await s.mock.script({ provider: 'cerebras', error: 'server', times: 3 });
    const start = await api('/sweeps', { method: 'POST', body: body({ models: [`groq/${GROQ.id}`, `cerebras/${CEREBRAS.id}`] }) });
    assert.equal(start.status, 202, await start.clone().text());
    const started = await start.json();
    assert.equal(started.state, 'running');
    assert.equal(started.budget, 2);
    const done = await sweepDone();
    assert.equal(done.state, 'done');
    assert.equal(done.done, 2);
    const [g, c] = done.results;
    assert.equal(g.status, 'ok', JSON.stringify(done));
    assert.ok(g.latency_ms >= 0);
    assert.equal(c.status, 'failed', JSON.stringify(done));
    assert.ok(c.error_class);
    assert.ok(done.used >= 2);
    // The requests went to each model, with the cheapest body.
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.ok(reqs.some((q) => q.provider === 'groq' && q.body.max_tokens === 5));
    assert.ok(reqs.every((q) => q.provider !== 'groq' || q.body.model === GROQ.id));
    // Quarantine the failure: routing skips it, the budgets page lists it, a restart keeps it.
    const q = await api('/quarantines', { method: 'POST', body: body({ provider: 'cerebras', model: CEREBRAS.id, reason: `sweep: ${c.error_class}` }) });
    assert.equal(q.status, 201, await q.clone().text());
    const listed = (await (await api('/budgets')).json()).quarantines.find((x) => x.manual);
    assert.equal(listed.model, CEREBRAS.id);
    assert.equal(listed.until_ms, null);
    const mark2 = await s.mock.mark();
    for (let i = 0; i < 3; i++) await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok((await s.mock.chatRequests({ since: mark2 })).every((x) => x.provider !== 'cerebras'), 'a quarantined model is skipped');
    await s.restart();
    const after = (await (await api('/budgets')).json()).quarantines.filter((x) => x.manual);
    assert.equal(after.length, 1, 'the quarantine survives a restart');
    await s.mock.clearScript();
    await api('/quarantines', { method: 'DELETE', body: body({ provider: 'cerebras', key_id: null }) }).catch(() => {});
    // A sweep that finds it good again releases it.
    await api('/sweeps', { method: 'POST', body: body({ models: [`cerebras/${CEREBRAS.id}`] }) });
    const again = await sweepDone();
    assert.equal(again.results[0].status, 'ok', JSON.stringify(again));
    for (let i = 0; i < 50; i++) {
      if ((await (await api('/budgets')).json()).quarantines.every((x) => !x.manual)) break;
      await sleep(50);
    }
    assert.ok((await (await api('/budgets')).json()).quarantines.every((x) => !x.manual));
  });

  test('a sweep probes each kind with its cheapest request (a transcription uploads half a second of silence)', T, async () => {
    const mark = await s.mock.mark();
    const start = await api('/sweeps', { method: 'POST', body: body({ models: [`groq/${STT.id}`, `mistral/${EMBED.id}`] }) });
    assert.equal(start.status, 202);
    const done = await sweepDone();
    assert.deepEqual(done.results.map((r) => [r.kind, r.status]), [['stt', 'ok'], ['embedding', 'ok']], JSON.stringify(done));
    const reqs = await s.mock.requests({ since: mark });
    assert.ok(reqs.some((q) => q.provider === 'groq' && /transcri/.test(q.endpoint)), JSON.stringify(reqs.map((q) => q.endpoint)));
    assert.ok(reqs.some((q) => q.provider === 'mistral' && JSON.stringify(q.body).includes('"ok"')), JSON.stringify(reqs.map((q) => [q.provider, q.endpoint, q.body])));
  });

  test('a sweep stops at its budget, skips capped models, and can be cancelled', T, async () => {
    // Budget 1 over two models: the second is skipped for the budget.
    await api('/sweeps', { method: 'POST', body: body({ models: [`groq/${GROQ.id}`, `cerebras/${CEREBRAS.id}`], budget: 1 }) });
    const b = await sweepDone();
    assert.equal(b.used, 1);
    assert.equal(b.results[1].status, 'skipped');
    assert.match(b.results[1].message, /budget/);
    // A model cooling down after a long 429 is skipped without a request.
    await s.mock.script({ provider: 'cerebras', error: 'rate_limit_minute', retry_after: 300 });
    await fetch(url('/v1/chat/completions'), { method: 'POST', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', 'x-freellmapi-no-fallover': '1' }, body: body({ model: `cerebras/${CEREBRAS.id}`, messages: [{ role: 'user', content: 'x' }] }) });
    const mark = await s.mock.mark();
    await api('/sweeps', { method: 'POST', body: body({ models: [`cerebras/${CEREBRAS.id}`] }) });
    const capped = await sweepDone();
    assert.equal(capped.results[0].status, 'skipped', JSON.stringify(capped));
    assert.equal(capped.used, 0);
    assert.equal((await s.mock.chatRequests({ since: mark })).length, 0, 'nothing reached the provider');
    await api('/quarantines', { method: 'DELETE', body: body({ provider: 'cerebras' }) });
    // Cancel: a slow model, cancelled while it runs.
    await s.mock.script({ provider: 'groq', delay_ms: 3000 });
    await api('/sweeps', { method: 'POST', body: body({ models: [`groq/${GROQ.id}`, `cerebras/${CEREBRAS.id}`] }) });
    assert.equal((await api('/sweeps', { method: 'POST', body: '{}' })).status, 409);
    const cancelled = await (await api('/sweeps/current', { method: 'DELETE' })).json();
    assert.equal(cancelled.state, 'cancelled');
    assert.ok(cancelled.results.every((r) => r.status === 'skipped'));
    await s.mock.clearScript();
    assert.equal((await api('/sweeps', { method: 'POST', body: body({ models: ['nope/nothing'] }) })).status, 400);
    assert.equal((await api('/sweeps', { method: 'POST', body: body({ budget: 0 }) })).status, 400);
  });

  test('`freellmapi test` runs the same sweep from the command line', T, async () => {
    for (const provider of ['groq', 'cerebras']) await api('/quarantines', { method: 'DELETE', body: body({ provider }) });
    const ok = await runCli(['test', '--models', `groq/${GROQ.id}`, '--port', String(s.port)], { env: s.env, timeoutMs: 30000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /testing: 1\/1 models/);
    assert.match(ok.stdout, /MODEL\s+KIND\s+STATUS/);
    assert.match(ok.stdout, new RegExp(`groq/${GROQ.id}\\s+chat\\s+ok`));
    await s.mock.script({ provider: 'cerebras', error: 'server', times: 3 });
    const bad = await runCli(['test', '--models', `cerebras/${CEREBRAS.id}`, '--port', String(s.port)], { env: s.env, timeoutMs: 30000 });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /cerebras\/gpt-oss-120b\s+chat\s+failed/);
    await s.mock.clearScript();
    const none = await runCli(['test', '--port', '1'], { env: s.env });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /does not answer/);
  });
});
