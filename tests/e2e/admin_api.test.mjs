// The admin API under /api (docs/admin-api.md): keys, the unified key, models and the chain, as
// the dashboard uses them; who may call it (this machine only without a PIN, proxied requests
// count as remote, the unified key opens nothing here); and that a change reaches routing at once
// and the CLI sees the same store.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq, sleep } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const ADMIN = { 'x-freellmapi-admin': '1' };

describe('admin API', () => {
  let s;
  const changes = (init) => (init.method ?? (init.json !== undefined || init.body !== undefined ? 'POST' : 'GET')) !== 'GET';
  const api = (p, init = {}) => s.fetch(`//api${p}`, { auth: false, ...init, headers: { ...(changes(init) ? ADMIN : {}), ...(init.headers || {}) } });
  const json = async (r) => ({ status: r.status, body: r.status === 204 ? null : await r.json() });

  before(async () => {
    s = await startStack({ models: [GROQ, CEREBRAS], keys: [{ provider: 'groq', secret: 'gsk_e2e_admin_g1', label: 'cli-groq' }] });
  });
  after(async () => s?.stop());

  test('status and providers say what the gateway holds', T, async () => {
    const st = await json(await api('/status'));
    assert.equal(st.status, 200);
    assert.equal(st.body.pin_set, false);
    assert.ok(st.body.providers >= 15 && st.body.keys >= 1);
    const pr = await json(await api('/providers'));
    const groq = pr.body.data.find((p) => p.id === 'groq');
    assert.equal(groq.keys, 1);
    assert.match(groq.key_url, /^https:\/\//);
    assert.ok(groq.capabilities.includes('chat'));
    assert.equal(pr.body.data.find((p) => p.id === 'cloudflare').needs_account_id, true);
  });

  test('keys: added over the API show in `keys list`, CLI keys show in the API, secrets never leave', T, async () => {
    const add = await json(await api('/keys', { json: { provider: 'cerebras', secret: 'csk-e2e-admin-secret-1', label: 'from-ui' } }));
    assert.equal(add.status, 201, JSON.stringify(add.body));
    assert.equal(add.body.key.provider, 'cerebras');
    assert.equal(add.body.key.label, 'from-ui');
    assert.ok(!JSON.stringify(add.body).includes('csk-e2e-admin-secret-1'));
    const cli = await s.keysList();
    assert.match(cli, /from-ui/);
    const list = await json(await api('/keys'));
    assert.ok(list.body.data.some((k) => k.label === 'cli-groq' && k.provider === 'groq'));
    assert.ok(!JSON.stringify(list.body).includes('gsk_e2e_admin_g1'));
    assert.ok(list.body.data.every((k) => ['healthy', 'rate_limited', 'invalid', 'error', 'unknown'].includes(k.status)));
    // Removed over the API: gone from the CLI's list too.
    const del = await api(`/keys/${add.body.key.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.doesNotMatch(await s.keysList(), /from-ui/);
    assert.equal((await api(`/keys/${add.body.key.id}`, { method: 'DELETE' })).status, 404);
  });

  test('bad key requests get a 400 naming the field', T, async () => {
    const cases = [
      [{ secret: 'x1' }, 'provider'],
      [{ provider: 'nope', secret: 'x1' }, 'provider'],
      [{ provider: 'groq', secret: 'has space' }, 'secret'],
      [{ provider: 'groq' }, 'secret'],
      [{ provider: 'cloudflare', secret: 'cf-token-1' }, 'account_id'],
      [{ provider: 'groq', secret: 'gsk_x', account_id: 'acc' }, 'account_id'],
      [{ provider: 'groq', secret: 'gsk_x', label: 7 }, 'label'],
    ];
    for (const [body, param] of cases) {
      const r = await json(await api('/keys', { json: body }));
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.param, param, JSON.stringify(r.body));
    }
    const bad = await json(await api('/keys', { body: '{"provider":', headers: { 'content-type': 'application/json' } }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_json');
  });

  test('a chain order takes effect on the next request; a disabled model is skipped; reset restores', T, async () => {
    await s.keysAdd({ provider: 'cerebras', secret: 'csk-e2e-admin-c2', label: 'c2' });
    await s.syncMockKeys();
    const put = await json(await api('/chain', { method: 'PUT', json: { order: ['cerebras/gpt-oss-120b', 'groq/llama-3.3-70b-versatile'] } }));
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data[0], 'cerebras/gpt-oss-120b');
    const ask = () => s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('chain') }] }).withResponse();
    assert.equal(routedVia((await ask()).response.headers)?.raw, 'cerebras/gpt-oss-120b', await s.diag());
    const off = await json(await api('/models/cerebras/gpt-oss-120b', { method: 'PATCH', json: { enabled: false } }));
    assert.equal(off.body.model.enabled, false);
    assert.equal(routedVia((await ask()).response.headers)?.raw, 'groq/llama-3.3-70b-versatile');
    await api('/models/cerebras/gpt-oss-120b', { method: 'PATCH', json: { enabled: true } });
    const reset = await json(await api('/chain', { method: 'DELETE' }));
    assert.equal(reset.status, 200);
    assert.equal(reset.body.data[0], 'groq/llama-3.3-70b-versatile'); // the test catalog's priorities
    const unknown = await json(await api('/chain', { method: 'PUT', json: { order: ['groq/nope'] } }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.param, 'order');
    const models = await json(await api('/models'));
    const m = models.body.data.find((x) => x.provider === 'groq' && x.id === 'llama-3.3-70b-versatile');
    assert.equal(m.usable, true);
    assert.equal(m.chain_position, 1);
    // The request routed to groq above counts in its usage today.
    assert.ok(m.usage.rpd >= 1 && m.usage.rpm >= 1 && m.usage.tpd > 0, JSON.stringify(m.usage));
  });

  test('a key switched off is not routed to until switched on; a new label shows in the CLI', T, async () => {
    const ask = async () => routedVia((await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('sw') }] }).withResponse()).response.headers)?.raw;
    const groq = (await json(await api('/keys'))).body.data.find((k) => k.label === 'cli-groq');
    assert.equal(groq.enabled, true);
    assert.equal(await ask(), 'groq/llama-3.3-70b-versatile');
    const off = await json(await api(`/keys/${groq.id}`, { method: 'PATCH', json: { enabled: false, label: 'groq-renamed' } }));
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.data.find((k) => k.id === groq.id).enabled, false);
    assert.equal(await ask(), 'cerebras/gpt-oss-120b', await s.diag());
    assert.match(await s.keysList(), /groq-renamed/);
    await api(`/keys/${groq.id}`, { method: 'PATCH', json: { enabled: true } });
    assert.equal(await ask(), 'groq/llama-3.3-70b-versatile');
    for (const body of [{}, { enabled: 'no' }, { label: 3 }]) assert.equal((await api(`/keys/${groq.id}`, { method: 'PATCH', json: body })).status, 400);
    assert.equal((await api('/keys/99999', { method: 'PATCH', json: { enabled: true } })).status, 404);
  });

  test('a model whose keys all cool down after a 429 shows as limited', T, async () => {
    const model = async () => (await json(await api('/models'))).body.data.find((m) => m.provider === 'groq' && m.id === 'llama-3.3-70b-versatile');
    assert.equal((await model()).limited, false);
    await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 30 });
    const r = await s.client.chat.completions.create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: uniq('limit') }] }).withResponse();
    assert.notEqual(routedVia(r.response.headers)?.raw, 'groq/llama-3.3-70b-versatile');
    const m = await model();
    assert.equal(m.limited, true);
    assert.equal(m.usable, true);
  });

  test('a key is checked at once when added, the result in the answer; checked again on request', T, async () => {
    const add = await json(await api('/keys', { json: { provider: 'groq', secret: 'gsk_e2e_admin_g1', label: 'probe-me' } }));
    assert.equal(add.status, 201);
    assert.equal(add.body.checked, true, JSON.stringify(add.body));
    assert.equal(add.body.key.status, 'healthy');
    assert.ok(add.body.key.checked_at > 0);
    const id = add.body.key.id;
    const checked = async () => (await json(await api('/keys'))).body.data.find((k) => k.id === id);
    let k = await checked();
    assert.equal(k.status, 'healthy', JSON.stringify(k));
    const first = k.checked_at;
    await sleep(20);
    const again = await api(`/keys/${id}/check`, { method: 'POST' });
    assert.equal(again.status, 202);
    for (let i = 0; i < 40 && (k = await checked()).checked_at === first; i++) await sleep(100);
    assert.ok(k.checked_at > first, 'checked again');
    assert.equal((await api('/keys/99999/check', { method: 'POST' })).status, 409);
    await api(`/keys/${id}`, { method: 'DELETE' });
    // A key the provider refuses says so in the answer to the add.
    const bad = await json(await api('/keys', { json: { provider: 'groq', secret: 'gsk_e2e_not_a_real_key' } }));
    assert.equal(bad.status, 201);
    assert.equal(bad.body.checked, true);
    assert.equal(bad.body.key.status, 'invalid', JSON.stringify(bad.body));
    assert.ok(!JSON.stringify(bad.body).includes('gsk_e2e_not_a_real_key'));
    await api(`/keys/${bad.body.key.id}`, { method: 'DELETE' });
  });

  test('settings: log retention and the probe interval, validated, applied at once', T, async () => {
    const now = await json(await api('/settings'));
    assert.deepEqual(now.body, { log_retention_days: 30, probe_interval_s: 900, log_content: false, pin_set: false });
    const groq = (await json(await api('/keys'))).body.data.find((k) => k.provider === 'groq' && k.enabled);
    const off = await json(await api('/settings', { method: 'PATCH', json: { probe_interval_s: 0, log_retention_days: 7 } }));
    assert.deepEqual(off.body, { log_retention_days: 7, probe_interval_s: 0, log_content: false, pin_set: false });
    assert.equal((await api(`/keys/${groq.id}/check`, { method: 'POST' })).status, 409, 'probes are off');
    const unchecked = await json(await api('/keys', { json: { provider: 'groq', secret: 'gsk_e2e_unprobed' } }));
    assert.equal(unchecked.status, 201);
    assert.equal(unchecked.body.checked, false, 'no probe: answered at once');
    assert.equal(unchecked.body.key.status, 'unknown');
    await api(`/keys/${unchecked.body.key.id}`, { method: 'DELETE' });
    await api('/settings', { method: 'PATCH', json: { probe_interval_s: 600 } });
    assert.equal((await api(`/keys/${groq.id}/check`, { method: 'POST' })).status, 202);
    for (const body of [{}, { probe_interval_s: 5 }, { log_retention_days: 0 }, { log_retention_days: '7' }, { retention: 3 }]) {
      const r = await json(await api('/settings', { method: 'PATCH', json: body }));
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    assert.equal((await json(await api('/settings'))).body.log_retention_days, 7);
  });

  test('the unified key: masked, revealed, rotated (the old one stops working)', T, async () => {
    const masked = await json(await api('/unified-key'));
    assert.ok(!masked.body.masked.includes(s.key.slice(12, 30)));
    const shown = await json(await api('/unified-key/reveal', { method: 'POST' }));
    assert.equal(shown.body.key, s.key);
    const rot = await json(await api('/unified-key/rotate', { method: 'POST' }));
    assert.match(rot.body.key, /^freellmapi-/);
    assert.notEqual(rot.body.key, s.key);
    const old = await s.fetch('/models');
    assert.equal(old.status, 401);
    const fresh = await s.fetch('/models', { headers: { authorization: `Bearer ${rot.body.key}` } });
    assert.equal(fresh.status, 200);
    s.key = rot.body.key;
  });

  test('access: remote and proxied clients, the unified key, other origins and unknown paths are refused', T, async () => {
    for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-real-ip': '203.0.113.9' }]) {
      const r = await json(await api('/status', { headers: { ...h, authorization: `Bearer ${s.key}` } }));
      assert.equal(r.status, 403, JSON.stringify(h));
      assert.equal(r.body.error.code, 'admin_remote_forbidden');
    }
    const noMark = await json(await s.fetch('//api/keys', { auth: false, json: { provider: 'groq', secret: 'gsk_csrf' } }));
    assert.equal(noMark.status, 403);
    assert.equal(noMark.body.error.code, 'csrf_refused');
    const foreign = await json(await api('/keys', { json: { provider: 'groq', secret: 'gsk_csrf' }, headers: { origin: 'http://evil.example' } }));
    assert.equal(foreign.status, 403);
    const own = await json(await api('/unified-key/reveal', { method: 'POST', headers: { origin: `http://localhost:${s.port}` } }));
    assert.equal(own.status, 200);
    const pre = await s.fetch('//api/keys', { auth: false, method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 403);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    const nf = await json(await api('/nope'));
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, 'not_found');
    const wrong = await api('/status', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.doesNotMatch(await s.keysList(), /gsk_csrf/);
  });
});
