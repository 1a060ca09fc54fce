// Pacing (docs/admin-api.md, README "Pacing"): PATCH /api/models/{provider}/{model} turns it
// on and off, GET /api/models and /api/budgets show the share released so far, it survives a
// restart and is set from the CLI too, bad values are refused with 400, and routing lets a
// paced model serve no more of its daily cap than the API says is released.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq, sleep, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 60000 };
// SambaNova's mock answers state no rate-limit windows, so the catalog's rpd 4 is the cap.
const SAMBA = { provider: 'sambanova', id: 'DeepSeek-V3.2', limits: { rpd: 4 } };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const NAME = `sambanova/${SAMBA.id}`;
const ADMIN = { 'x-freellmapi-admin': '1' };

describe('pacing', () => {
  let s;
  const api = (p, init = {}) => s.fetch(`//api${p}`, { auth: false, ...init, headers: { ...(init.method && init.method !== 'GET' ? ADMIN : {}), 'content-type': 'application/json', ...(init.headers || {}) } });
  const patch = (body) => api(`/models/${NAME}`, { method: 'PATCH', body: JSON.stringify(body) });
  const get = async (p) => {
    const r = await api(p);
    assert.equal(r.status, 200, `${p}: ${await r.clone().text()}`);
    return r.json();
  };
  const model = async () => (await get('/models')).data.find((m) => `${m.provider}/${m.id}` === NAME);
  const budget = async () => (await get('/budgets')).data.find((m) => `${m.provider}/${m.id}` === NAME);
  const ask = async (headers = {}, name = 'auto') => {
    const r = await s.fetch('/chat/completions', { json: { model: name, messages: [{ role: 'user', content: uniq('pace') }] }, headers });
    return { status: r.status, via: routedVia(r.headers)?.raw ?? null };
  };

  before(async () => {
    s = await startStack({
      models: [SAMBA, CEREBRAS],
      keys: [
        { provider: 'sambanova', secret: 'sn-e2e-pacing', label: 's' },
        { provider: 'cerebras', secret: 'csk-e2e-pacing', label: 'c' },
      ],
    });
  });
  after(async () => s?.stop());

  test('off by default; PATCH turns it on and GET /api/models and /api/budgets show it', T, async () => {
    assert.equal((await model()).pacing, null);
    assert.equal((await budget()).pacing, null);
    assert.equal((await budget()).held_by_pacing, false);

    const r = await patch({ pacing: { reserve: 0.5 } });
    assert.equal(r.status, 200, await r.clone().text());
    const m = (await r.json()).model;
    assert.equal(m.pacing.reserve, 0.5);
    assert.equal(m.enabled, true, 'enabled untouched');
    // rpd 4 with half kept back: 2 at the start of the day, 4 at its end.
    const req = m.pacing.allowed_now.requests;
    assert.ok(Number.isInteger(req) && req >= 2 && req <= 4, JSON.stringify(m.pacing));
    assert.ok(!('tokens' in m.pacing.allowed_now), 'no TPD, no token figure');
    if (req < 4) assert.ok(m.pacing.next_release_ms > Date.now() - 1000, JSON.stringify(m.pacing));

    const b = await budget();
    assert.deepEqual(b.pacing.reserve, 0.5);
    assert.equal(b.pacing.allowed_now.requests, req);
    assert.equal(b.held_by_pacing, false);

    // enabled and pacing in one PATCH; pacing null is off.
    const both = await patch({ enabled: true, pacing: null });
    assert.equal(both.status, 200, await both.clone().text());
    assert.equal((await both.json()).model.pacing, null);
    assert.equal((await model()).pacing, null);
    // A bare {enabled} still works as before and leaves pacing alone.
    assert.equal((await patch({ pacing: { reserve: 0.25 } })).status, 200);
    assert.equal((await patch({ enabled: true })).status, 200);
    assert.equal((await model()).pacing.reserve, 0.25);
    assert.equal((await patch({ pacing: { reserve: 0 } })).status, 200);
    assert.equal((await model()).pacing, null, 'reserve 0 is off');
  });

  test('bad values get 400 in the error shape, and change nothing', T, async () => {
    for (const body of [
      { pacing: { reserve: 1 } },
      { pacing: { reserve: 0.951 } },
      { pacing: { reserve: -0.1 } },
      { pacing: { reserve: '0.5' } },
      { pacing: { reserve: null } },
      { pacing: {} },
      { pacing: { reserve: 0.5, extra: 1 } },
      { pacing: true },
      { pacing: 0.5 },
      { enabled: 'yes' },
      { enabled: true, pacing: { reserve: 2 } },
      { reserve: 0.5 },
      {},
    ]) {
      const r = await patch(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status}`);
      assertErrorShape(assert, await r.json(), { code: 'invalid_value' });
    }
    assert.equal((await model()).pacing, null);
    assert.equal((await model()).enabled, true);
    // Still the admin API's rules: no header, no change.
    const r = await s.fetch(`//api/models/${NAME}`, { auth: false, method: 'PATCH', body: JSON.stringify({ pacing: { reserve: 0.5 } }), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 403);
    assert.equal((await model()).pacing, null);
  });

  test('routing honours it: no more than allowed_now, then 429 or the next model; it survives a restart', T, async () => {
    assert.equal((await patch({ pacing: { reserve: 0.9 } })).status, 200);
    const p = (await model()).pacing;
    assert.equal(p.reserve, 0.9);
    const allowed = p.allowed_now.requests;
    // rpd 4 with 0.9 kept back: 0.4 + 3.6 f, never the whole cap before the day ends.
    assert.ok(allowed >= 0 && allowed <= 3, JSON.stringify(p));
    const released = () => p.next_release_ms !== null && Date.now() >= p.next_release_ms;

    const mark = await s.mock.mark();
    const vias = [];
    for (let i = 0; i < allowed + 2; i++) {
      const r = await ask();
      assert.equal(r.status, 200);
      vias.push(r.via);
    }
    const paced = vias.filter((v) => v === NAME).length;
    const most = allowed + (released() ? 1 : 0);
    assert.ok(paced <= most, `sambanova served ${paced} > allowed ${most}: ${vias.join(', ')}`);
    assert.ok(paced >= allowed, `sambanova served ${paced} < allowed ${allowed}: ${vias.join(', ')}${await s.diag()}`);
    assert.ok(vias.slice(paced).every((v) => v === `cerebras/${CEREBRAS.id}`), `the rest fell over: ${vias.join(', ')}`);
    assert.equal((await s.mock.chatRequests({ since: mark, provider: 'sambanova' })).length, paced, 'the mock saw no more');

    // Held: the model alone answers 429 with a retry-after, and budgets say pacing holds it.
    if (!released()) {
      const only = await ask({ 'x-freellmapi-no-fallover': '1' }, NAME);
      assert.equal(only.status, 429);
      const b = await budget();
      assert.equal(b.held_by_pacing, true, JSON.stringify(b));
      assert.ok(b.usage.rpd >= b.pacing.allowed_now.requests);
      assert.ok(b.remaining_today.requests > 0, 'the cap itself is not spent');
    }

    await s.restart();
    const after = await model();
    assert.equal(after.pacing?.reserve, 0.9, `pacing survives a restart: ${JSON.stringify(after.pacing)}`);
    assert.ok(after.usage.rpd >= paced);
    if (after.pacing.allowed_now.requests <= after.usage.rpd) {
      const r = await ask();
      assert.equal(r.via, `cerebras/${CEREBRAS.id}`, 'still held after the restart');
    }
  });

  test('`freellmapi models pace` sets and clears it on the running server', T, async () => {
    const out = await s.cliOk('models', 'pace', NAME, '75%');
    assert.match(out, /paced sambanova\/DeepSeek-V3\.2: 75%/);
    let p = null;
    for (let i = 0; i < 40 && p?.reserve !== 0.75; i++) {
      p = (await model()).pacing;
      if (p?.reserve !== 0.75) await sleep(100);
    }
    assert.equal(p?.reserve, 0.75, 'the running server reloads within a second or so');
    await s.cliOk('models', 'pace', NAME, 'off');
    for (let i = 0; i < 40 && p !== null; i++) {
      p = (await model()).pacing;
      if (p !== null) await sleep(100);
    }
    assert.equal(p, null);
    const bad = await s.cli('models', 'pace', NAME, '1.5');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /RESERVE/);
  });
});
