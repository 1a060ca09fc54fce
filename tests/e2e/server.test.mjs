// Server core: graceful shutdown and the drain budget, client disconnects
// cancelling the upstream transfer, the request log (one row per request, no
// secrets anywhere), slow and stalled clients, keep-alive, hostile input, and
// concurrency. Each group has its own gateway(s); every wait is bounded.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startStack, withStack, startMock, routedVia, sseData, uniq, sleep, assertErrorShape } from './lib/harness.mjs';

const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const CHAT = '/v1/chat/completions';
const LOG_COLS = 'id, at_ms, endpoint, provider, model, key_id, status, latency_ms, ttfb_ms, tokens_in, tokens_out, attempts, error_class, stream';

// ---- helpers -------------------------------------------------------------------

/** Polls fn() until it returns a truthy value; returns it, or the last value after timeoutMs. */
async function until(fn, timeoutMs, stepMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= deadline) return v;
    await sleep(stepMs);
  }
}

/**
 * One HTTP request to the gateway with node:http (no retries, bounded).
 * Returns {req, responded, result}: `responded` resolves with the response
 * object once the status line is in; `result` always resolves, with
 * {status, headers, body, complete, error, socket, ms} (status undefined when
 * no response came; complete false when the body was cut).
 */
function httpRequest(s, { method = 'POST', path: p = CHAT, headers = {}, body, auth = true, agent = false, timeoutMs = 20000 } = {}) {
  let onRes;
  const responded = new Promise((r) => (onRes = r));
  let req;
  const result = new Promise((resolve) => {
    const t0 = Date.now();
    const h = { ...(auth ? { authorization: `Bearer ${s.key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers };
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    if (payload) h['content-length'] = String(payload.length);
    let settled = false;
    const done = (x) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ms: Date.now() - t0, ...x });
    };
    const timer = setTimeout(() => {
      done({ error: 'client timeout' });
      req.destroy();
    }, timeoutMs);
    req = http.request({ host: '127.0.0.1', port: s.port, method, path: p, headers: h, agent }, (res) => {
      const socket = res.socket;
      onRes(res);
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      const fin = (err) => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), complete: res.complete && !err, error: err ? err.code || err.message : null, socket });
      res.on('end', () => fin());
      res.on('error', (e) => fin(e));
      res.on('close', () => fin(res.complete ? null : new Error('closed before the end')));
    });
    req.on('error', (e) => done({ error: e.code || e.message }));
    if (payload) req.write(payload);
    req.end();
  });
  return { req, responded, result };
}

/** A raw TCP connection to the gateway; resolves once connected. */
function openRaw(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const st = { sock, data: Buffer.alloc(0), closedAt: null, error: null };
    st.closed = new Promise((r) =>
      sock.once('close', () => {
        st.closedAt = Date.now();
        r();
      }),
    );
    sock.on('data', (d) => (st.data = Buffer.concat([st.data, d])));
    sock.on('error', (e) => (st.error = e.code || e.message));
    sock.once('connect', () => resolve(st));
    sock.once('error', reject);
  });
}

/** Resolves true when the raw connection is closed within ms, else false. */
const closedWithin = (st, ms) => Promise.race([st.closed.then(() => true), sleep(ms).then(() => false)]);

/** 'refused' | 'connected' — one TCP connection attempt (bounded). */
function tryConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      sock.destroy();
      resolve('timeout');
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (e) => {
      clearTimeout(t);
      resolve(e.code === 'ECONNREFUSED' ? 'refused' : e.code || 'error');
    });
  });
}

/** The chat rows of the request log with id > sinceId. */
const logRows = (s, sinceId = 0) => s.db(`SELECT ${LOG_COLS} FROM request_log WHERE id > ${Number(sinceId)} AND endpoint LIKE '%chat/completions' ORDER BY id`);
/** The last request-log id once rows of earlier requests are written (the writer flushes once a second). */
const lastLogId = async (s) => {
  await sleep(1100);
  return (await s.db('SELECT COALESCE(MAX(id), 0) AS n FROM request_log'))[0].n;
};

/** Waits (the writer flushes once a second) for n chat rows after sinceId; returns them. */
async function waitLogRows(s, sinceId, n, timeoutMs = 6000) {
  const rows = await until(async () => {
    const r = await logRows(s, sinceId);
    return r.length >= n ? r : null;
  }, timeoutMs, 100);
  return rows ?? (await logRows(s, sinceId));
}

/** Waits until the mock has recorded n chat requests since mark; returns them. */
async function waitMockChats(s, mark, n, timeoutMs = 5000) {
  return (await until(async () => {
    const r = await s.mock.chatRequests({ since: mark });
    return r.length >= n ? r : null;
  }, timeoutMs, 25)) ?? (await s.mock.chatRequests({ since: mark }));
}

const rowStr = (rows) => JSON.stringify(rows, null, 0);
const msg = (text) => [{ role: 'user', content: text }];
const usage = (i, o) => ({ prompt_tokens: i, completion_tokens: o, total_tokens: i + o });

// ---- the mock's own record of cancelled transfers ------------------------------------

describe('mock: client_closed', () => {
  test('records a caller that hangs up before the answer, and not a finished or mock-cut one', { timeout: 20000 }, async () => {
    const mock = await startMock();
    try {
      await mock.script([{ provider: 'groq', delay_ms: 3000 }, { provider: 'groq', stream: true, cut_after: 2 }, { provider: 'groq', echo: true }]);
      const url = `${mock.url}/groq/openai/v1/chat/completions`;
      const post = (body, signal) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: JSON.stringify(body), signal });
      const ac = new AbortController();
      const p = post({ model: 'm', messages: msg('a') }, ac.signal).catch((e) => e);
      await until(async () => (await mock.chatRequests()).length >= 1, 3000, 20);
      const t0 = Date.now();
      ac.abort();
      await p;
      const first = await until(async () => (await mock.chatRequests())[0].client_closed && (await mock.chatRequests())[0], 2000, 20);
      assert.ok(first, 'client_closed set after the caller aborted');
      assert.ok(first.closed_at - t0 < 500, `closed_at ${first.closed_at - t0} ms after the abort`);
      assert.ok(first.closed_early_ms >= 0 && first.closed_early_ms < 2500);
      const cut = await post({ model: 'm', messages: msg('b'), stream: true }).then((r) => r.text()).catch((e) => e);
      assert.ok(cut);
      const echo = await (await post({ model: 'm', messages: msg('nonce-123') })).json();
      assert.equal(echo.choices[0].message.content, 'echo: nonce-123');
      await sleep(100);
      const all = await mock.chatRequests();
      assert.deepEqual(all.map((r) => [r.outcome, r.client_closed]), [[null, true], ['cut', false], ['ok', false]]);
    } finally {
      await mock.stop();
    }
  });
});

// ---- 1, 2: graceful shutdown --------------------------------------------------------------

describe('graceful shutdown', () => {
  test('SIGTERM: the request in flight completes, new connections are refused, exit 0 within the drain, its log row is written', { timeout: 60000 }, async () => {
    const DRAIN_S = 6;
    const s = await startStack({ models: [GROQ], keys: [{ provider: 'groq', secret: 'gsk_e2e_srv_drain', label: 'g' }], timeoutMs: 10000, env: { FREELLMAPI_DRAIN_S: String(DRAIN_S) } });
    try {
      await s.mock.script({ provider: 'groq', delay_ms: 2000, content: 'drained answer', usage: usage(17, 4) });
      const mark = await s.mock.mark();
      const inflight = httpRequest(s, { body: { model: 'auto', messages: msg(uniq('drain')) } });
      let responseAt = null;
      inflight.result.then(() => (responseAt = Date.now()));
      assert.equal((await waitMockChats(s, mark, 1)).length, 1, `the request reached the mock${await s.diag()}`);

      const port = s.port;
      const t0 = Date.now();
      const exitP = s.terminate({ signal: 'SIGTERM', timeoutMs: DRAIN_S * 1000 + 5000 });
      // The listening socket closes at once: a connection attempt is refused
      // while the request in flight is still being served.
      let refusedAt = null;
      const seen = [];
      while (Date.now() - t0 < 1500) {
        const r = await tryConnect(port, 500);
        seen.push(r);
        if (r === 'refused') {
          refusedAt = Date.now();
          break;
        }
        await sleep(25);
      }
      assert.ok(refusedAt !== null, `new connections still accepted 1.5 s after SIGTERM (attempts: ${seen.join(',')})`);
      assert.ok(responseAt === null, `connections were refused only after the in-flight request ended (${responseAt - t0} ms after the signal); the drain did not keep serving it`);
      // an HTTP request on a new connection (agent: false) after the signal
      const again = await httpRequest(s, { method: 'GET', path: '/v1/models', timeoutMs: 2000 }).result;
      assert.equal(again.error, 'ECONNREFUSED', `a new connection after the signal got ${again.status ?? again.error}`);

      const r = await inflight.result;
      assert.equal(r.status, 200, `in-flight request: ${JSON.stringify({ ...r, socket: undefined })}\n${s.gwLogs().slice(-2000)}`);
      assert.ok(r.complete, 'the in-flight answer arrived whole');
      assert.equal(JSON.parse(r.body).choices[0].message.content, 'drained answer');

      const ex = await exitP;
      assert.ok(!ex.timedOut, `the gateway did not exit within ${DRAIN_S + 5} s of SIGTERM:\n${s.gwLogs().slice(-2000)}`);
      assert.equal(ex.code, 0, `exit code (signal ${ex.signal}):\n${s.gwLogs().slice(-2000)}`);
      assert.ok(ex.ms <= DRAIN_S * 1000 + 1500, `exited ${ex.ms} ms after SIGTERM, the drain budget is ${DRAIN_S} s`);
      assert.ok(Date.now() - responseAt < 3000 && ex.ms < DRAIN_S * 1000, `exited ${ex.ms} ms after SIGTERM although nothing was in flight from ${responseAt - t0} ms on`);

      const rows = await logRows(s);
      assert.equal(rows.length, 1, `one request-log row after shutdown: ${rowStr(rows)}`);
      const row = rows[0];
      assert.equal(row.status, 200);
      assert.equal(row.provider, 'groq');
      assert.equal(row.model, GROQ.id);
      assert.equal(row.tokens_in, 17);
      assert.equal(row.tokens_out, 4);
      assert.ok(row.latency_ms >= 1900, `latency_ms ${row.latency_ms} covers the 2 s upstream delay`);
    } finally {
      await s.stop();
    }
  });

  test('a request that outlives FREELLMAPI_DRAIN_S is cut and the gateway still exits promptly', { timeout: 60000 }, async () => {
    const DRAIN_S = 1;
    const s = await startStack({ models: [GROQ], keys: [{ provider: 'groq', secret: 'gsk_e2e_srv_cut', label: 'g' }], timeoutMs: 30000, env: { FREELLMAPI_DRAIN_S: String(DRAIN_S) } });
    try {
      const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
      await s.mock.script([
        { provider: 'groq', stream: false, delay_ms: 15000 },
        { provider: 'groq', stream: true, chunk_delay_ms: 1000, content: words },
      ]);
      const mark = await s.mock.mark();
      const slow = httpRequest(s, { body: { model: 'auto', messages: msg(uniq('cut-a')) }, timeoutMs: 30000 });
      const stream = httpRequest(s, { body: { model: 'auto', messages: msg(uniq('cut-b')), stream: true }, timeoutMs: 30000 });
      const res = await Promise.race([stream.responded, sleep(5000).then(() => null)]);
      assert.ok(res, `the stream started${await s.diag()}`);
      assert.equal(res.statusCode, 200);
      assert.equal((await waitMockChats(s, mark, 2)).length, 2);

      const t0 = Date.now();
      const ex = await s.terminate({ signal: 'SIGTERM', timeoutMs: DRAIN_S * 1000 + 8000 });
      assert.ok(!ex.timedOut, `the gateway did not exit within ${DRAIN_S + 8} s of SIGTERM:\n${s.gwLogs().slice(-2000)}`);
      assert.equal(ex.code, 0, `exit code (signal ${ex.signal}):\n${s.gwLogs().slice(-2000)}`);
      assert.ok(ex.ms <= DRAIN_S * 1000 + 2500, `exited ${ex.ms} ms after SIGTERM; the drain budget is ${DRAIN_S} s`);
      assert.ok(ex.ms >= DRAIN_S * 1000 - 200, `exited ${ex.ms} ms after SIGTERM: it did not give the requests the drain budget`);

      const [a, b] = await Promise.all([slow.result, stream.result]);
      const end = Date.now();
      assert.ok(end - t0 < DRAIN_S * 1000 + 4000, `the clients were released ${end - t0} ms after SIGTERM`);
      assert.ok(!(a.status === 200 && a.complete), `the non-streaming request was cut, got ${JSON.stringify({ ...a, socket: undefined })}`);
      assert.equal(b.status, 200);
      assert.ok(sseData(b.body).length >= 1, 'the stream had started');
      assert.ok(!/"finish_reason":"stop"/.test(b.body) && !b.body.includes('w39'), `the stream did not get to its end: ${b.body.slice(-300)}`);

      const reqs = await s.mock.chatRequests({ since: mark });
      for (const r of reqs) assert.ok(r.client_closed && r.outcome !== 'ok', `upstream #${r.seq} was cancelled, not finished (${r.outcome}, client_closed ${r.client_closed})`);

      const rows = await logRows(s);
      assert.equal(rows.length, 2, `one row per cut request: ${rowStr(rows)}`);
      const ns = rows.find((x) => x.stream === 0);
      const st = rows.find((x) => x.stream === 1);
      assert.ok(ns && st, rowStr(rows));
      assert.notEqual(ns.status, 200, `the cut non-streaming request is not logged as a success: ${rowStr(rows)}`);
      assert.ok(st.status !== 200 || st.error_class, `the cut stream is not logged as a clean success: ${rowStr(rows)}`);
    } finally {
      await s.stop();
    }
  });
});

// ---- 3: client disconnects ------------------------------------------------------------------

describe('client disconnect cancels the upstream transfer', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [GROQ, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_srv_abort', label: 'g' },
        { provider: 'cerebras', secret: 'csk-e2e-srv-abort', label: 'c' },
      ],
      timeoutMs: 30000,
    });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  /** After the client left at abortAt: the mock saw its connection closed within 1 s,
   *  nothing else was tried, and the request log has a 499 row. */
  async function expectCancelled(mark, sinceId, abortAt, stream) {
    const rec = await until(async () => {
      const r = (await s.mock.chatRequests({ since: mark }))[0];
      return r?.client_closed ? r : null;
    }, 3000, 20);
    const diag = await s.diag();
    assert.ok(rec, `the upstream connection was not closed within 3 s of the client leaving${diag}`);
    assert.ok(rec.closed_at - abortAt <= 1000, `the upstream connection closed ${rec.closed_at - abortAt} ms after the client left${diag}`);
    const rows = await waitLogRows(s, sinceId, 1);
    assert.equal(rows.length, 1, `one request-log row: ${rowStr(rows)}${diag}`);
    assert.equal(rows[0].status, 499, rowStr(rows));
    assert.equal(rows[0].error_class, 'client_closed', rowStr(rows));
    assert.equal(rows[0].stream, stream ? 1 : 0);
    assert.equal(rows[0].provider, 'groq');
    assert.equal(rows[0].attempts, 1);
    const reqs = await s.mock.chatRequests({ since: mark });
    assert.equal(reqs.length, 1, `no other candidate was tried for a client that left${diag}`);
  }

  test('non-streaming, upstream silent (delay_ms): SDK AbortController', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', delay_ms: 20000 });
    const mark = await s.mock.mark();
    const sinceId = await lastLogId(s);
    const ac = new AbortController();
    const p = s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('abort-ns')) }, { signal: ac.signal }).then(
      () => 'resolved',
      (e) => e,
    );
    assert.equal((await waitMockChats(s, mark, 1)).length, 1);
    await sleep(100);
    const abortAt = Date.now();
    ac.abort();
    const err = await p;
    assert.ok(err instanceof Error, `the SDK call was aborted (${err})`);
    await expectCancelled(mark, sinceId, abortAt, false);
  });

  test('non-streaming, upstream sent headers then stalls (stall_after_headers_ms): raw request destroyed', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', stall_after_headers_ms: 20000 });
    const mark = await s.mock.mark();
    const sinceId = await lastLogId(s);
    const h = httpRequest(s, { body: { model: 'auto', messages: msg(uniq('abort-stall')) } });
    assert.equal((await waitMockChats(s, mark, 1)).length, 1);
    await sleep(200); // the 200 headers reach the gateway
    const abortAt = Date.now();
    h.req.destroy();
    const r = await h.result;
    assert.equal(r.status, undefined, 'no answer reached the client before it left');
    await expectCancelled(mark, sinceId, abortAt, false);
  });

  test('streaming (chunk_delay_ms): SDK stream aborted after the first chunk', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', stream: true, chunk_delay_ms: 3000, content: 'one two three four five six' });
    const mark = await s.mock.mark();
    const sinceId = await lastLogId(s);
    const ac = new AbortController();
    const stream = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('abort-st')), stream: true }, { signal: ac.signal });
    let abortAt;
    let got = 0;
    try {
      for await (const chunk of stream) {
        got++;
        assert.equal(chunk.object, 'chat.completion.chunk');
        abortAt = Date.now();
        ac.abort();
        break;
      }
    } catch (e) {
      if (!abortAt) throw e;
    }
    assert.equal(got, 1, 'the first chunk arrived before the abort');
    await expectCancelled(mark, sinceId, abortAt, true);
  });

  test('the gateway still serves after the aborted requests', { timeout: 20000 }, async () => {
    const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('after-abort')) }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
  });
});

// ---- 4: the request log and secrets -----------------------------------------------------------

/** A provider secret with a distinctive middle part that no masking shows. */
const canarySecret = (prefix) => `${prefix}${randomBytes(8).toString('hex')}CANARY${randomBytes(8).toString('hex')}`;

/** No secret (whole, or its middle) in any file of the data dir (db, WAL, shm, ...) or the gateway's output. */
function assertNoSecrets(s, secrets, extraTexts = {}) {
  const needles = [];
  for (const sec of secrets) {
    needles.push(sec);
    const mid = sec.slice(Math.floor(sec.length / 2) - 8, Math.floor(sec.length / 2) + 8);
    needles.push(mid);
  }
  const places = {};
  for (const f of fs.readdirSync(s.dataDir)) {
    if (f === 'encryption.key') continue; // the sealing key itself
    const p = path.join(s.dataDir, f);
    if (fs.statSync(p).isFile()) places[`data/${f}`] = fs.readFileSync(p);
  }
  assert.ok(places['data/freellmapi.db'], `the database file exists (${Object.keys(places).join(', ')})`);
  places['gateway output'] = Buffer.from(s.gwLogs(), 'utf8');
  for (const [k, v] of Object.entries(extraTexts)) places[k] = Buffer.from(v, 'utf8');
  for (const [where, buf] of Object.entries(places)) {
    for (const n of needles) assert.equal(buf.indexOf(Buffer.from(n, 'utf8')), -1, `a secret (${n.slice(0, 6)}…) appears in ${where}`);
  }
  return Object.keys(places);
}

describe('request log', () => {
  const secrets = { groq: canarySecret('gsk_'), cerebras: canarySecret('csk-') };
  const keys = [
    { provider: 'groq', secret: secrets.groq, label: 'rl-groq' },
    { provider: 'cerebras', secret: secrets.cerebras, label: 'rl-cerebras' },
  ];
  const opts = { models: [GROQ, CEREBRAS], keys, timeoutMs: 4000, env: { LOG_LEVEL: 'debug' } };
  // A real provider habit: the 401 body quotes the key it refused.
  const echoKey = (secret) => ({ status: 401, body: { error: { message: `Incorrect API key provided: ${secret}. You can find your API key at https://example.invalid/keys.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
  // ... and a server error that quotes the request's key.
  const echoKey500 = (secret) => ({ status: 500, body: { error: { message: `Internal error while serving the request of ${secret}`, type: 'server_error', param: null, code: null } } });

  test('success (plain and streaming) and fallover: one row each, right route, status, attempts, tokens, stream; no secret anywhere', { timeout: 60000 }, async () => {
    await withStack(opts, async (s) => {
      const ids = { groq: await s.keyIdByLabel('rl-groq'), cerebras: await s.keyIdByLabel('rl-cerebras') };
      const texts = [];

      // plain success
      let since = await lastLogId(s);
      await s.mock.script({ provider: 'groq', stream: false, usage: usage(11, 7) });
      const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('rl-ok')) }).withResponse();
      texts.push(JSON.stringify(data));
      assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`);
      let rows = await waitLogRows(s, since, 1);
      await sleep(1200); // one more flush: still exactly one row
      rows = await logRows(s, since);
      assert.equal(rows.length, 1, `one row for one request: ${rowStr(rows)}`);
      let r = rows[0];
      assert.equal(r.endpoint, '/v1/chat/completions');
      assert.deepEqual([r.provider, r.model, r.key_id, r.status, r.attempts, r.error_class, r.tokens_in, r.tokens_out, r.stream], ['groq', GROQ.id, ids.groq, 200, 1, null, 11, 7, 0], rowStr(rows));
      assert.ok(Math.abs(r.at_ms - Date.now()) < 30000, `at_ms is epoch ms (${r.at_ms})`);
      assert.ok(r.latency_ms >= 0 && r.latency_ms < 10000, `latency_ms ${r.latency_ms}`);
      assert.ok(r.ttfb_ms >= 0 && r.ttfb_ms <= r.latency_ms, `ttfb_ms ${r.ttfb_ms} (latency ${r.latency_ms})`);

      // streaming success
      since = await lastLogId(s);
      await s.mock.script({ provider: 'groq', stream: true, usage: usage(13, 5), content: 'streamed words here' });
      const stream = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('rl-st')), stream: true });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      texts.push(text);
      assert.equal(text, 'streamed words here');
      rows = await waitLogRows(s, since, 1);
      assert.equal(rows.length, 1, rowStr(rows));
      r = rows[0];
      assert.deepEqual([r.provider, r.model, r.key_id, r.status, r.attempts, r.error_class, r.tokens_in, r.tokens_out, r.stream], ['groq', GROQ.id, ids.groq, 200, 1, null, 13, 5, 1], rowStr(rows));

      // fallover: groq refuses the key (and quotes it), cerebras answers
      since = await lastLogId(s);
      await s.mock.script([
        { provider: 'groq', error: echoKey(secrets.groq) },
        { provider: 'cerebras', usage: usage(21, 3) },
      ]);
      const fo = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('rl-fo')) }).withResponse();
      texts.push(JSON.stringify(fo.data));
      assert.equal(routedVia(fo.response.headers)?.raw, `cerebras/${CEREBRAS.id}`, await s.diag());
      assert.equal(fo.response.headers.get('x-fallback-attempts'), '1');
      rows = await waitLogRows(s, since, 1);
      await sleep(1200);
      rows = await logRows(s, since);
      assert.equal(rows.length, 1, `one row for a request that fell over once: ${rowStr(rows)}`);
      r = rows[0];
      assert.deepEqual([r.provider, r.model, r.key_id, r.status, r.attempts, r.error_class, r.tokens_in, r.tokens_out, r.stream], ['cerebras', CEREBRAS.id, ids.cerebras, 200, 2, null, 21, 3, 0], rowStr(rows));

      // secrets: nowhere in the data dir (db + WAL while running), the output, or what the client got
      const secretList = [secrets.groq, secrets.cerebras, s.key];
      const grepped = assertNoSecrets(s, secretList, { 'client answers': texts.join('\n') });
      assert.ok(grepped.includes('data/freellmapi.db-wal'), `the WAL was searched too (${grepped.join(', ')})`);
      const ex = await s.terminate();
      assert.equal(ex.code, 0, `exit after SIGTERM:\n${s.gwLogs().slice(-2000)}`);
      assertNoSecrets(s, secretList);
      assert.equal((await logRows(s)).length, 3, 'three requests, three rows after shutdown');
    });
  });

  test('exhausted on server errors: one 503 row with attempts 2 and the error class; no secret in it or the answer', { timeout: 60000 }, async () => {
    await withStack(opts, async (s) => {
      const since = await lastLogId(s);
      await s.mock.script([
        { provider: 'groq', error: echoKey500(secrets.groq) },
        { provider: 'cerebras', error: echoKey500(secrets.cerebras) },
      ]);
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: msg(uniq('rl-ex')) } });
      const text = await r.text();
      assert.equal(r.status, 503, text);
      assertErrorShape(assert, JSON.parse(text));
      const rows = await waitLogRows(s, since, 1);
      await sleep(1200);
      const all = await logRows(s, since);
      assert.equal(all.length, 1, `one row for one exhausted request: ${rowStr(all)}`);
      const row = all[0];
      assert.equal(row.status, 503, rowStr(rows));
      assert.equal(row.attempts, 2, rowStr(rows));
      assert.equal(row.error_class, 'server_error', rowStr(rows));
      assert.equal(row.provider, 'cerebras', `the last candidate tried: ${rowStr(rows)}`);
      assert.equal(row.model, CEREBRAS.id);
      assert.equal(row.stream, 0);
      assert.equal(row.tokens_out, 0);
      const secretList = [secrets.groq, secrets.cerebras, s.key];
      assertNoSecrets(s, secretList, { 'the 503 answer': text });
      const ex = await s.terminate();
      assert.equal(ex.code, 0);
      assertNoSecrets(s, secretList);
    });
  });

  test('exhausted on rate limits (streaming request): one 429 row, error_class exhausted, stream 1', { timeout: 60000 }, async () => {
    await withStack(opts, async (s) => {
      const since = await lastLogId(s);
      await s.mock.script([
        { provider: 'groq', error: 'rate_limit_minute', retry_after: 30 },
        { provider: 'cerebras', error: 'rate_limit_minute', retry_after: 30 },
      ]);
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: msg(uniq('rl-429')), stream: true } });
      const text = await r.text();
      assert.equal(r.status, 429, text);
      await waitLogRows(s, since, 1);
      await sleep(1200);
      const rows = await logRows(s, since);
      assert.equal(rows.length, 1, rowStr(rows));
      assert.deepEqual([rows[0].status, rows[0].attempts, rows[0].error_class, rows[0].stream], [429, 2, 'exhausted', 1], rowStr(rows));
      assertNoSecrets(s, [secrets.groq, secrets.cerebras, s.key], { 'the 429 answer': text });
    });
  });
});

// ---- 5: slow and stalled clients ---------------------------------------------------------------

describe('slow and stalled clients (FREELLMAPI_IDLE_TIMEOUT_S=2)', () => {
  const IDLE_S = 2;
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ], keys: [{ provider: 'groq', secret: 'gsk_e2e_srv_slow', label: 'g' }], env: { FREELLMAPI_IDLE_TIMEOUT_S: String(IDLE_S) } });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  const askOk = async (tag) => {
    const t0 = Date.now();
    // The idle timeout here is 2 s, so the SDK's pooled keep-alive socket can be closed by the
    // server just as a request goes out on it; real SDKs retry that once, and so does this one.
    const client = s.clientWith({ maxRetries: 1 });
    const { data, response } = await client.chat.completions.create({ model: 'auto', messages: msg(uniq(tag)) }).withResponse();
    assert.equal(response.status, 200);
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
    return { at: Date.now(), ms: Date.now() - t0 };
  };

  test('headers then a stalled body: disconnected after the idle timeout, others served meanwhile', { timeout: 30000 }, async () => {
    const st = await openRaw(s.port);
    st.sock.write(`POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAuthorization: Bearer ${s.key}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"model":"auto","mess`);
    const stallAt = Date.now();
    const served = [];
    for (let i = 0; i < 3; i++) served.push(await askOk(`stall-${i}`));
    const closed = await closedWithin(st, IDLE_S * 1000 + 4000);
    assert.ok(closed, `the stalled client was still connected ${IDLE_S + 4} s later`);
    const after = st.closedAt - stallAt;
    assert.ok(after >= IDLE_S * 1000 - 600, `closed ${after} ms after the stall, before the ${IDLE_S} s idle timeout (got ${JSON.stringify(st.data.toString('latin1').slice(0, 200))})`);
    for (const x of served) {
      assert.ok(x.at < st.closedAt, 'the other requests were answered while the stalled client was still connected');
      assert.ok(x.ms < 1500, `a request took ${x.ms} ms during the stall`);
    }
    await askOk('after-stall');
  });

  test('slowloris: a header sent byte by byte then abandoned is closed; others served meanwhile', { timeout: 30000 }, async () => {
    const st = await openRaw(s.port);
    st.sock.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    let lastByteAt = Date.now();
    const served = [];
    for (let i = 0; i < 8 && !st.closedAt; i++) {
      await sleep(350);
      if (st.closedAt || st.sock.destroyed) break;
      st.sock.write('a');
      lastByteAt = Date.now();
      if (i % 3 === 0) served.push(await askOk(`loris-${i}`));
    }
    const closed = await closedWithin(st, IDLE_S * 1000 + 4000);
    assert.ok(closed, `the abandoned slow header was still open ${IDLE_S + 4} s after its last byte`);
    assert.ok(st.closedAt - lastByteAt <= IDLE_S * 1000 + 3000, `closed ${st.closedAt - lastByteAt} ms after the last byte`);
    assert.ok(!/^HTTP\/1\.[01] 2/.test(st.data.toString('latin1')), 'an unfinished request was not answered with a success');
    for (const x of served) assert.ok(x.ms < 1500, `a request took ${x.ms} ms during the slowloris`);
    await askOk('after-loris');
  });

  test('200 idle connections do not stop a normal request, and are reclaimed by the idle timeout', { timeout: 40000 }, async () => {
    const conns = await Promise.all(Array.from({ length: 200 }, () => openRaw(s.port)));
    try {
      const x = await askOk('idle-200');
      assert.ok(x.ms < 3000, `a request took ${x.ms} ms with 200 idle connections open`);
      const models = await s.fetch('/models');
      assert.equal(models.status, 200);
      await models.arrayBuffer();
      const all = await Promise.race([Promise.all(conns.map((c) => c.closed)).then(() => true), sleep(IDLE_S * 1000 + 6000).then(() => false)]);
      const open = conns.filter((c) => !c.closedAt).length;
      assert.ok(all, `${open} of 200 idle connections still open ${IDLE_S + 6} s later`);
    } finally {
      for (const c of conns) c.sock.destroy();
    }
    await askOk('after-idle');
  });
});

// ---- 6, 7, 8: keep-alive, bad input, concurrency ---------------------------------------------

describe('keep-alive, hostile input, concurrency', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [GROQ, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_srv_misc', label: 'g' },
        { provider: 'cerebras', secret: 'csk-e2e-srv-misc', label: 'c' },
      ],
    });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  test('keep-alive: several requests (chat, stream, models, 400, 404) over one connection', { timeout: 30000 }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const plan = [
        { method: 'GET', path: '/v1/models', want: 200 },
        { body: { model: 'auto', messages: msg(uniq('ka1')) }, want: 200 },
        { body: { model: 'auto', messages: msg(uniq('ka2')), stream: true }, want: 200, sse: true },
        { body: '{"model":"auto","messages":[', want: 400 },
        { body: { model: 'auto', messages: msg(uniq('ka3')) }, want: 200 },
        { method: 'GET', path: '/v1/no-such-thing', want: 404 },
        { method: 'GET', path: '/v1/models', want: 200 },
      ];
      const sockets = [];
      for (const [i, step] of plan.entries()) {
        const h = httpRequest(s, { ...step, agent });
        const r = await h.result;
        assert.equal(r.status, step.want, `request ${i}: ${JSON.stringify({ ...r, socket: undefined }).slice(0, 400)}`);
        assert.ok(r.complete, `request ${i} complete`);
        if (step.sse) assert.equal(sseData(r.body).at(-1), '[DONE]');
        assert.ok(!/close/i.test(r.headers.connection || ''), `request ${i}: the gateway asked to close the connection (Connection: ${r.headers.connection})`);
        sockets.push(r.socket);
        if (i > 0) assert.equal(h.req.reusedSocket, true, `request ${i} reused the pooled connection`);
      }
      assert.ok(sockets.every((x) => x && x === sockets[0]), `one socket for all ${plan.length} requests (distinct: ${new Set(sockets).size})`);
    } finally {
      agent.destroy();
    }
  });

  test('bad input never crashes: invalid UTF-8, wrong types, arrays, empty, deep nesting -> 400 with param', { timeout: 60000 }, async () => {
    const mark = await s.mock.mark();
    const base = { model: 'auto', messages: msg('hi') };
    const send = async (body, label) => {
      const r = await httpRequest(s, { body, timeoutMs: 10000 }).result;
      assert.ok(r.status !== undefined, `${label}: no answer (${r.error}); the gateway alive: ${s.gw?.exitCode === null}\n${s.gwLogs().slice(-2000)}`);
      let j;
      try {
        j = JSON.parse(r.body);
      } catch {
        assert.fail(`${label}: answer is not JSON (status ${r.status}): ${r.body.slice(0, 200)}`);
      }
      assert.match(r.headers['content-type'] || '', /application\/json/, label);
      return { status: r.status, j };
    };

    // invalid UTF-8 inside a JSON string
    const badUtf8 = Buffer.concat([Buffer.from('{"model":"auto","messages":[{"role":"user","content":"ab'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}]}')]);
    let r = await send(badUtf8, 'invalid UTF-8');
    assert.equal(r.status, 400, JSON.stringify(r.j));
    assertErrorShape(assert, r.j, { type: 'invalid_request_error' });

    const cases = [
      [{ ...base, messages: 'hello' }, 'messages'],
      [{ ...base, model: 42 }, 'model'],
      [{ ...base, stream: 'yes' }, 'stream'],
      [{ ...base, tools: { type: 'function', function: { name: 'f' } } }, 'tools'],
      [{ ...base, max_tokens: 0 }, 'max_tokens'],
      [{ ...base, max_tokens: -1 }, 'max_tokens'],
      [{ ...base, max_tokens: '10' }, 'max_tokens'],
      [{ ...base, n: 9 }, 'n'],
      [{ ...base, n: 0 }, 'n'],
      [{ ...base, temperature: 'hot' }, 'temperature'],
      [{ ...base, stream_options: 'x' }, 'stream_options'],
      [{ ...base, messages: [1] }, 'messages[0]'],
      [{ ...base, messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0]'],
      [{ ...base, messages: [{ role: 'user', content: 42 }] }, 'messages[0]'],
      [{ ...base, messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'messages[0]'],
    ];
    for (const [body, param] of cases) {
      const { status, j } = await send(body, JSON.stringify(body));
      assert.equal(status, 400, `${JSON.stringify(body)} -> ${status} ${JSON.stringify(j)}`);
      assertErrorShape(assert, j, { type: 'invalid_request_error' });
      assert.equal(j.error.param, param, `param for ${JSON.stringify(body)}: ${JSON.stringify(j)}`);
    }

    for (const [body, label] of [
      ['[]', 'a JSON array'],
      ['[{"model":"auto","messages":[{"role":"user","content":"x"}]}]', 'an array holding a valid request'],
      ['"just a string"', 'a JSON string'],
      ['null', 'null'],
      ['', 'an empty body'],
      ['   ', 'whitespace'],
      ['{"model":"auto","messages":[{"role":"user","content":"x"}]} trailing', 'trailing garbage'],
      ['{"model":"auto","messages":[{"role":"user","content":"x"}],"max_tokens":9223372036854775807}', 'max_tokens at the int64 limit'],
      ['{"model":"auto","messages":[{"role":"user","content":"x"}],"max_completion_tokens":1000000001}', 'max_completion_tokens past a billion'],
      ['{"model":"auto","messages":[{"role":"user","content":"x"}],"max_tokens":-9223372036854775808}', 'max_tokens at the int64 floor'],
      ['{"model":"auto","messages":[{"role":"user","content":"x"}],"max_tokens":9223372036854775808}', 'max_tokens past int64'],
      ['['.repeat(100000), '100k ['],
      ['['.repeat(100000) + ']'.repeat(100000), '100k nested arrays, balanced'],
      ['{"a":'.repeat(50000) + '1' + '}'.repeat(50000), '50k nested objects'],
      ['{"model":"auto","messages":[{"role":"user","content":' + '['.repeat(100000) + ']'.repeat(100000) + '}]}', 'deep nesting inside a message'],
    ]) {
      const x = await send(body, label);
      assert.equal(x.status, 400, `${label} -> ${x.status} ${JSON.stringify(x.j).slice(0, 300)}`);
      assertErrorShape(assert, x.j);
    }
    assert.equal(s.gw.exitCode, null, 'the gateway is alive');
    assert.equal((await s.mock.chatRequests({ since: mark })).length, 0, 'none of it reached an upstream');
    const { data } = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('after-bad')) }).withResponse();
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
  });

  test('the 400 param names the field that was sent (max_completion_tokens, top_p)', { timeout: 20000 }, async () => {
    const base = { model: 'auto', messages: msg('hi') };
    const wrong = [];
    for (const [body, param] of [
      [{ ...base, max_completion_tokens: 0 }, 'max_completion_tokens'],
      [{ ...base, max_completion_tokens: 'ten' }, 'max_completion_tokens'],
      [{ ...base, top_p: 'high' }, 'top_p'],
    ]) {
      const r = await s.fetch('/chat/completions', { json: body });
      const j = await r.json();
      assert.equal(r.status, 400, JSON.stringify(j));
      assertErrorShape(assert, j);
      if (j.error.param !== param) wrong.push(`${JSON.stringify(body)} -> param ${JSON.stringify(j.error.param)} (want ${param}): ${j.error.message}`);
    }
    assert.deepEqual(wrong, [], `the 400 names another field than the one sent:\n${wrong.join('\n')}`);
  });

  test('unknown path -> 404 JSON, wrong method -> 405, CORS preflight -> 204', { timeout: 20000 }, async () => {
    for (const [method, p] of [
      ['GET', '/v1/nope'],
      ['POST', '/v1/nope'],
      ['GET', '/v2/chat/completions'],
      ['GET', '/v1/chat/completions/extra'],
    ]) {
      const r = await httpRequest(s, { method, path: p, body: method === 'POST' ? {} : undefined }).result;
      assert.equal(r.status, 404, `${method} ${p} -> ${r.status} ${r.body}`);
      assert.match(r.headers['content-type'] || '', /application\/json/);
      assertErrorShape(assert, JSON.parse(r.body));
    }

    const g = await httpRequest(s, { method: 'GET', path: CHAT }).result;
    assert.equal(g.status, 405, `GET ${CHAT} -> ${g.status} ${g.body}`);
    assertErrorShape(assert, JSON.parse(g.body));
    assert.match(g.headers.allow || '', /POST/, 'Allow names POST');
    const pm = await httpRequest(s, { method: 'POST', path: '/v1/models', body: {} }).result;
    assert.equal(pm.status, 405, `POST /v1/models -> ${pm.status}`);
    assertErrorShape(assert, JSON.parse(pm.body));

    // A browser's preflight carries no credentials.
    const o = await httpRequest(s, {
      method: 'OPTIONS',
      path: CHAT,
      auth: false,
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    }).result;
    assert.equal(o.status, 204, `OPTIONS -> ${o.status} ${o.body}`);
    assert.equal(o.body, '');
    const allowOrigin = o.headers['access-control-allow-origin'];
    assert.ok(allowOrigin === '*' || allowOrigin === 'http://localhost:5173', `Access-Control-Allow-Origin: ${allowOrigin}`);
    assert.match(o.headers['access-control-allow-methods'] || '', /POST/);
    assert.match(o.headers['access-control-allow-headers'] || '', /authorization/i);
    assert.match(o.headers['access-control-allow-headers'] || '', /content-type/i);

    // and an actual cross-origin call gets the CORS header too
    const c = await s.fetch('/models', { headers: { origin: 'http://localhost:5173' } });
    assert.equal(c.status, 200);
    assert.ok(c.headers.get('access-control-allow-origin'), 'CORS header on a normal answer');
    await c.arrayBuffer();
  });

  test('garbage on the wire (bad request line, bad Content-Length, bad chunking, huge header) is refused, not a crash', { timeout: 60000 }, async () => {
    const auth = `Authorization: Bearer ${s.key}\r\n`;
    // strict: answered with an error or closed at once; lenient: anything but a crash
    // (libmicrohttpd waits for more on binary noise, and takes HTTP/1.1 without Host).
    const lenient = new Set(['binary noise', 'HTTP/1.1 without Host']);
    const probes = [
      ['binary noise', Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe]), Buffer.from('\r\n\r\n')])],
      ['not HTTP', 'HELLO THERE\r\n\r\n'],
      ['bad Content-Length', `POST ${CHAT} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: abc\r\n\r\n{}`],
      ['negative Content-Length', `POST ${CHAT} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -5\r\n\r\n{}`],
      ['two Content-Lengths', `POST ${CHAT} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}`],
      ['bad chunk size', `POST ${CHAT} HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
      ['huge header', `GET /v1/models HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`],
      ['huge URL', `GET /v1/${'a'.repeat(256 * 1024)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
      ['HTTP/1.1 without Host', `GET /v1/models HTTP/1.1\r\n${auth}\r\n`],
      ['unknown version', `GET /v1/models HTTP/9.9\r\nHost: x\r\n${auth}\r\n`],
    ];
    for (const [label, bytes] of probes) {
      const st = await openRaw(s.port);
      st.sock.write(bytes);
      const closedOrAnswered = await until(() => st.closedAt || /^HTTP\/1\.[01] \d{3}/.test(st.data.toString('latin1')), lenient.has(label) ? 1000 : 5000, 25);
      const head = st.data.toString('latin1').split('\r\n')[0];
      st.sock.destroy();
      if (!lenient.has(label)) {
        assert.ok(closedOrAnswered, `${label}: neither answered nor closed within 5 s`);
        assert.ok(!/^HTTP\/1\.[01] 2/.test(head), `${label}: answered with a success (${head})`);
      }
      await sleep(50);
      assert.equal(s.gw.exitCode, null, `${label}: the gateway died:\n${s.gwLogs().slice(-2000)}`);
      const alive = await s.fetch('/models');
      assert.equal(alive.status, 200, `${label}: the gateway stopped serving`);
      await alive.arrayBuffer();
    }
    const { data } = await s.client.chat.completions.create({ model: 'auto', messages: msg(uniq('after-garbage')) }).withResponse();
    assert.equal(data.choices[0].message.content, `Hello from groq/${GROQ.id}.`);
  });

  test('50 concurrent requests (half streaming) all succeed with their own answers; 50 log rows', { timeout: 60000 }, async () => {
    const N = 50;
    await s.mock.script([
      { provider: 'groq', stream: false, echo: true, times: 0 },
      { provider: 'groq', stream: true, echo: true, chunk_delay_ms: 20, times: 0 },
    ]);
    await s.mock.config({ latency_ms: 300 }); // all of them are in flight at once
    const mark = await s.mock.mark();
    const since = await lastLogId(s);
    try {
      const jobs = Array.from({ length: N }, async (_, i) => {
        const nonce = `n${i}-${randomBytes(4).toString('hex')}`;
        const content = `tell ${nonce} back please`;
        if (i % 2 === 0) {
          const { data, response } = await s.client.chat.completions.create({ model: 'auto', messages: msg(content) }).withResponse();
          assert.equal(response.status, 200);
          assert.equal(routedVia(response.headers)?.provider, 'groq');
          return { i, want: `echo: ${content}`, got: data.choices[0].message.content };
        }
        const stream = await s.client.chat.completions.create({ model: 'auto', messages: msg(content), stream: true, stream_options: { include_usage: true } });
        let got = '';
        let finish = null;
        for await (const c of stream) {
          got += c.choices[0]?.delta?.content ?? '';
          finish = c.choices[0]?.finish_reason ?? finish;
        }
        assert.equal(finish, 'stop', `stream ${i} finished`);
        return { i, want: `echo: ${content}`, got };
      });
      const t0 = Date.now();
      const settled = await Promise.allSettled(jobs);
      const ms = Date.now() - t0;
      const failed = settled.filter((x) => x.status === 'rejected').map((x) => String(x.reason?.message ?? x.reason));
      assert.deepEqual(failed, [], `${failed.length} of ${N} failed${await s.diag()}`);
      for (const { value } of settled) assert.equal(value.got, value.want, `request ${value.i} got someone else's (or a broken) answer`);
      assert.ok(ms < 15000, `50 concurrent requests took ${ms} ms`);
      const reqs = await s.mock.chatRequests({ since: mark });
      assert.equal(reqs.length, N, 'one upstream call each');
      const rows = await waitLogRows(s, since, N, 8000);
      assert.equal(rows.length, N, `${rows.length} log rows for ${N} requests`);
      assert.ok(rows.every((x) => x.status === 200 && x.provider === 'groq' && x.attempts === 1), rowStr(rows.filter((x) => x.status !== 200)));
      assert.equal(rows.filter((x) => x.stream === 1).length, N / 2);
    } finally {
      await s.mock.config({ latency_ms: 0 });
      await s.mock.clearScript();
    }
  });
});
