// Dashboard II's admin API (docs/admin-api.md): after known traffic through the openai SDK
// (successes, a fallover off an invalid key, a 429), analytics, logs, exports, the detail of one
// request, diagnostics, budgets and quarantines say exactly what the gateway itself answered; the
// live stream shows a request made after it opened; prompts are stored only when switched on.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq, sleep } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const ADMIN = { 'x-freellmapi-admin': '1' };

describe('dashboard data', () => {
  let s;
  let badKey;
  const seen = []; // what the gateway answered: {status, via, fallovers}
  const api = (p, init = {}) => s.fetch(`//api${p}`, { auth: false, ...init, headers: { ...(init.method && init.method !== 'GET' ? ADMIN : {}), ...(init.headers || {}) } });
  const get = async (p) => {
    const r = await api(p);
    assert.equal(r.status, 200, `${p}: ${await r.clone().text()}`);
    return r.json();
  };
  const chat = async (model, text = 'hi') => {
    const { data, response } = await s.client.chat.completions
      .create({ model, messages: [{ role: 'user', content: text }] })
      .withResponse()
      .then((x) => x, (e) => ({ data: null, response: { status: e.status, headers: e.headers } }));
    const h = response.headers;
    const get1 = (n) => (typeof h.get === 'function' ? h.get(n) : h[n]);
    seen.push({ status: response.status, via: routedVia(h), fallovers: Number(get1('x-fallback-attempts') || 0) });
    return { data, status: response.status };
  };
  // The writer stores rows on its tick: wait until the log holds them all.
  const settled = async (n) => {
    for (let i = 0; i < 100; i++) {
      const r = await get('/logs?limit=500');
      if (r.data.length >= n) return r.data;
      await sleep(100);
    }
    throw new Error(`the log never reached ${n} rows`);
  };

  before(async () => {
    s = await startStack({
      models: [GROQ, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_dash_good', label: 'good' },
        { provider: 'groq', secret: 'gsk_e2e_dash_bad', label: 'bad' },
        { provider: 'cerebras', secret: 'csk-e2e-dash-c1', label: 'c1' },
      ],
      mockKeys: false,
    });
    // The provider knows only the good keys: the other is refused as invalid.
    await s.mock.setKeys({ groq: ['gsk_e2e_dash_good'], cerebras: ['csk-e2e-dash-c1'] });
    badKey = (await get('/keys')).data.find((k) => k.label === 'bad').id;
    for (let i = 0; i < 6; i++) await chat('groq/llama-3.3-70b-versatile');
    for (let i = 0; i < 3; i++) await chat('cerebras/gpt-oss-120b');
    // One 429: every pair that could serve it is rate limited for two minutes.
    await s.mock.script([
      { provider: 'cerebras', error: 'rate_limit_minute', retry_after: 120 },
      { provider: 'groq', error: 'rate_limit_minute', retry_after: 120 },
    ]);
    const r = await chat('cerebras/gpt-oss-120b');
    assert.equal(r.status, 429);
    // Groq back at once (the quarantine test below releases cerebras itself).
    const rel = await api('/quarantines', { method: 'DELETE', body: JSON.stringify({ provider: 'groq' }), headers: { 'content-type': 'application/json' } });
    assert.equal(rel.status, 200, await rel.clone().text());
    await settled(seen.length);
  });
  after(async () => s?.stop());

  test('analytics equal the gateway\'s own counts, in every window', T, async () => {
    const ok = seen.filter((x) => x.status === 200).length;
    const fallovers = seen.filter((x) => x.fallovers > 0).length;
    assert.ok(fallovers >= 1, 'the invalid key made one request fall over');
    for (const window of ['24h', '7d', '30d']) {
      const a = await get(`/analytics?window=${window}`);
      assert.equal(a.window, window);
      assert.equal(a.totals.requests, seen.length, window);
      assert.equal(a.totals.ok, ok, window);
      assert.equal(a.totals.failed, seen.length - ok);
      assert.equal(a.totals.fallbacks, fallovers);
      assert.ok(Math.abs(a.totals.success_rate - ok / seen.length) < 1e-9);
      assert.ok(a.totals.latency_p50_ms >= 0 && a.totals.latency_p95_ms >= a.totals.latency_p50_ms);
      assert.ok(a.totals.tokens_in > 0 && a.totals.tokens_out > 0);
      for (const p of ['groq', 'cerebras']) {
        const row = a.by_provider.find((x) => x.provider === p);
        assert.equal(row.requests, seen.filter((x) => x.via?.provider === p).length, `${window} ${p}`);
      }
      const series = a.series.requests.flat().reduce((x, y) => x + y, 0);
      assert.equal(series, seen.length);
      assert.equal(a.series.t.length, a.series.tokens_in.length);
      assert.equal(typeof a.totals.savings_usd, 'number');
      assert.match(a.savings_basis.text, /price per million tokens/);
    }
    assert.equal((await api('/analytics?window=1y')).status, 400);
  });

  test('log filters and exports return exactly the matching rows', T, async () => {
    const all = (await get('/logs?limit=500')).data;
    assert.equal(all.length, seen.length);
    const limited = (await get('/logs?status=429')).data;
    assert.equal(limited.length, seen.filter((x) => x.status === 429).length);
    assert.ok(limited.every((r) => r.status === 429 && r.diagnosis === 'rate_limited'));
    const groq = (await get('/logs?provider=groq')).data;
    assert.equal(groq.length, seen.filter((x) => x.via?.provider === 'groq').length);
    // Paging: two pages of 4 are the first 8 rows.
    const p1 = await get('/logs?limit=4');
    const p2 = await get(`/logs?limit=4&before=${p1.next_before}`);
    assert.deepEqual([...p1.data, ...p2.data].map((r) => r.id), all.slice(0, 8).map((r) => r.id));

    const csv = await api('/logs/export?format=csv&provider=groq');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    assert.match(csv.headers.get('content-disposition'), /attachment/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.match(lines[0], /^id,at_ms,endpoint,provider,model/);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[0])), groq.map((r) => r.id));
    const jsonl = await (await api('/logs/export?format=jsonl&status=error')).text();
    const rows = jsonl.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.id), (await get('/logs?status=error')).data.map((r) => r.id));
    assert.equal((await api('/logs?status=teapot')).status, 400);
    assert.equal((await api('/logs/export?format=xml')).status, 400);
  });

  test('the detail of a fallover shows every attempt', T, async () => {
    const rows = (await get('/logs?limit=500')).data;
    const fell = rows.find((r) => r.attempts > 1 && r.status === 200);
    const d = await get(`/logs/${fell.id}`);
    assert.equal(d.row.id, fell.id);
    assert.equal(d.attempts.length, fell.attempts);
    assert.equal(d.attempts[0].verdict, 'auth');
    assert.equal(d.attempts[0].key_id, badKey);
    assert.equal(d.attempts.at(-1).verdict, 'ok');
    assert.equal(d.content, null, 'no prompt is kept unless switched on');
    assert.equal((await api('/logs/999999')).status, 404);
  });

  test('diagnostics rank providers and recommend replacing the invalid key', T, async () => {
    const d = await get('/diagnostics?window=24h');
    const groq = d.providers.find((p) => p.provider === 'groq');
    assert.ok(groq.attempts > groq.ok, 'the refused attempt counts against groq');
    assert.ok(d.providers.every((p, i) => p.rank === i + 1));
    const bad = d.keys.find((k) => k.id === badKey);
    assert.equal(bad.status, 'invalid');
    assert.ok(bad.failures >= 1);
    const rec = d.recommendations.find((r) => r.key_id === badKey);
    assert.ok(rec, JSON.stringify(d.recommendations));
    assert.equal(rec.severity, 'high');
    assert.match(rec.action, /Replace it/);
  });

  test('budgets show usage and the quarantine; releasing it routes the model again', T, async () => {
    const b = await get('/budgets');
    const llama = b.data.find((m) => m.id === GROQ.id);
    assert.ok(llama.usage.rpd >= 6);
    assert.ok(llama.resets_at_ms > Date.now());
    const q = b.quarantines.find((x) => x.provider === 'cerebras' && x.model === CEREBRAS.id);
    assert.ok(q, JSON.stringify(b.quarantines));
    assert.equal(q.reason, 'rate_limit_minute');
    assert.ok(q.until_ms > Date.now());
    // Benched: a request for it now goes elsewhere.
    assert.equal((await chat('cerebras/gpt-oss-120b')).status, 200);
    assert.equal(seen.at(-1).via.provider, 'groq');
    const rel = await api('/quarantines', { method: 'DELETE', body: JSON.stringify({ provider: 'cerebras', model: CEREBRAS.id, key_id: q.key_id }), headers: { 'content-type': 'application/json' } });
    assert.equal(rel.status, 200, await rel.clone().text());
    assert.equal((await rel.json()).released, 1);
    const again = await chat('cerebras/gpt-oss-120b');
    assert.equal(again.status, 200);
    assert.equal(seen.at(-1).via.raw, `cerebras/${CEREBRAS.id}`);
    const none = await api('/quarantines', { method: 'DELETE', body: JSON.stringify({ provider: 'cerebras' }), headers: { 'content-type': 'application/json' } });
    assert.equal(none.status, 404);
  });

  test('the live stream shows a request made after it opened', T, async () => {
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${s.port}/api/live`, { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const reader = res.body.getReader();
    const marker = uniq('live');
    await chat('groq/llama-3.3-70b-versatile', marker);
    let text = '';
    const dec = new TextDecoder();
    while (!/event: request\ndata: /.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    ctl.abort();
    const data = JSON.parse(text.split('event: request\ndata: ')[1].split('\n')[0]);
    assert.equal(data.endpoint, '/v1/chat/completions');
    assert.equal(data.provider, 'groq');
    assert.equal(data.status, 200);
    assert.ok(!text.includes(marker), 'no prompt text in live events');
    assert.ok(!text.includes('\0'), 'nothing but text in the stream (a NUL breaks EventSource)');
    assert.ok(text.startsWith(': live\n\n'));
  });

  test('prompts and answers are kept only while content logging is on', T, async () => {
    const on = await api('/settings', { method: 'PATCH', body: JSON.stringify({ log_content: true }), headers: { 'content-type': 'application/json' } });
    assert.equal(on.status, 200);
    assert.equal((await on.json()).log_content, true);
    const marker = uniq('kept');
    await chat('groq/llama-3.3-70b-versatile', marker);
    let rows = await settled(seen.length);
    let d = await get(`/logs/${rows[0].id}`);
    assert.ok(d.content.prompt.includes(marker), JSON.stringify(d.content));
    assert.ok(d.content.answer.length > 0);
    await api('/settings', { method: 'PATCH', body: JSON.stringify({ log_content: false }), headers: { 'content-type': 'application/json' } });
    const secret = uniq('gone');
    await chat('groq/llama-3.3-70b-versatile', secret);
    rows = await settled(seen.length);
    d = await get(`/logs/${rows[0].id}`);
    assert.equal(d.content, null);
    assert.equal((await api('/settings', { method: 'PATCH', body: JSON.stringify({ log_content: 1 }), headers: { 'content-type': 'application/json' } })).status, 400);
  });
});
