// Fault suite for the front server (issue: the gateway must never stop
// accepting, stall or leak under hostile clients): the connection cap reached
// and freed, the open-file limit, slow headers, half-closed clients, large
// uploads beside a latency probe, and kill -9 during writes. Every wait is
// bounded; no assertion is about speed, only about what is answered.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startStack, sleep, uniq } from './lib/harness.mjs';

const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const KEYS = [{ provider: 'groq', secret: 'gsk_e2e_faults_srv', label: 'g' }];

// ---- helpers -------------------------------------------------------------------

/** GET /health on a fresh connection; the status, or the error's code. */
async function health(s, timeoutMs = 5000) {
  try {
    const r = await fetch(`http://127.0.0.1:${s.port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status;
  } catch (e) {
    return String(e.cause?.code || e.name);
  }
}

/** Opens n plain TCP connections; resolves once all are connected. Each gets
 *  a `closedAt` (ms since epoch) when the server closes it. */
async function openIdle(s, n) {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: s.port }, () => resolve(c));
      c.on('error', () => {});
      c.once('close', () => (c.closedAt = Date.now()));
      c.once('error', reject);
    })),
  );
  return socks;
}

/** Waits (bounded) until every socket is closed; returns how many are. */
async function waitClosed(socks, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && socks.some((c) => c.closedAt === undefined)) await sleep(50);
  return socks.filter((c) => c.closedAt !== undefined).length;
}

/**
 * Writes `text` on a raw connection, optionally half-closes (FIN) right after,
 * and collects everything the server sends until it closes (bounded).
 * Returns {raw, closedBy} ('server', 'timeout').
 */
function rawExchange(s, text, { halfClose = false, timeoutMs = 15000 } = {}) {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port: s.port, allowHalfOpen: true });
    const bufs = [];
    const t = setTimeout(() => {
      c.destroy();
      resolve({ raw: Buffer.concat(bufs).toString('latin1'), closedBy: 'timeout' });
    }, timeoutMs);
    c.on('data', (d) => bufs.push(d));
    c.on('error', () => {});
    c.on('end', () => {
      clearTimeout(t);
      c.destroy();
      resolve({ raw: Buffer.concat(bufs).toString('latin1'), closedBy: 'server' });
    });
    c.on('connect', () => {
      c.write(text);
      if (halfClose) c.end();
    });
  });
}

/** The final (non-1xx) response of a raw exchange: {status, headers, body}. */
function finalResponse(raw) {
  let rest = raw;
  for (;;) {
    const m = rest.match(/^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/);
    if (!m) return null;
    const end = rest.indexOf('\r\n\r\n');
    const status = Number(m[1]);
    const head = rest.slice(0, end);
    rest = rest.slice(end + 4);
    if (status >= 200) return { status, head, body: rest };
  }
}

function chatRequestText(s, body, { version = '1.1' } = {}) {
  const payload = JSON.stringify(body);
  return (
    `POST /v1/chat/completions HTTP/${version}\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.key}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`
  );
}

/** De-chunks an HTTP/1.1 chunked body. */
function unchunk(body) {
  let out = '';
  let rest = body;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out;
    const n = parseInt(rest.slice(0, nl), 16);
    if (!(n > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + n);
    rest = rest.slice(nl + 2 + n + 2);
  }
}

// ---- 1: the connection cap reached, then freed -------------------------------------------

describe('connection cap reached, then freed (FREELLMAPI_MAX_CONNECTIONS=20)', () => {
  let s;
  before(async () => {
    s = await startStack({
      models: [GROQ],
      keys: KEYS,
      env: { FREELLMAPI_MAX_CONNECTIONS: '20', FREELLMAPI_IDLE_TIMEOUT_S: '2', FREELLMAPI_HEADER_TIMEOUT_S: '60' },
    });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  test('20 idle sockets timed out by the server: the next request is served', { timeout: 30000 }, async () => {
    const socks = await openIdle(s, 20);
    assert.equal(await waitClosed(socks, 10000), 20, 'the server closed every idle socket');
    assert.equal(await health(s), 200, 'accepting again once the cap was freed');
  });

  test('20 idle sockets closed by the client: the next request is served', { timeout: 30000 }, async () => {
    const socks = await openIdle(s, 20);
    await sleep(300);
    for (const c of socks) c.destroy();
    await sleep(200);
    assert.equal(await health(s), 200);
  });

  test('a keep-alive pool of 20 timed out by the server: the next request is served', { timeout: 30000 }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const one = () => new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: s.port, path: '/health', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', (e) => resolve(e.code));
    });
    const statuses = await Promise.all(Array.from({ length: 20 }, one));
    assert.deepEqual([...new Set(statuses)], [200]);
    await sleep(3500); // past the 2 s idle timeout: the server closes the whole pool
    agent.destroy();
    assert.equal(await health(s), 200);
  });

  test('over the cap, clients wait in the listen queue and are served once room is made', { timeout: 30000 }, async () => {
    const socks = await openIdle(s, 20);
    const waiting = health(s, 15000);
    await sleep(300);
    for (const c of socks) c.destroy();
    assert.equal(await waiting, 200, 'the queued request was answered');
  });
});

// ---- 2: the open-file limit ----------------------------------------------------------------

describe('open-file limit', () => {
  test('hard limit 256: the cap fits the descriptors, and accepting survives filling it', { timeout: 60000 }, async () => {
    const s = await startStack({ models: [GROQ], keys: KEYS, nofile: { soft: 256, hard: 256 }, env: { FREELLMAPI_IDLE_TIMEOUT_S: '30' } });
    try {
      assert.match(s.gwLogs(), /open files: soft limit 256 \(was 256\), hard limit 256: room for 112 connections/);
      // More sockets than the cap and than the descriptors: the rest wait in the queue.
      const socks = await openIdle(s, 300);
      await sleep(500);
      for (const c of socks) c.destroy();
      await sleep(300);
      assert.equal(await health(s, 10000), 200);
      // And a real request through the upstream (two descriptors) works too.
      const r = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('nofile') }] });
      assert.ok(r.choices[0].message.content);
    } finally {
      await s.stop();
    }
  });

  test('a low soft limit is raised to the hard limit at start', { timeout: 30000 }, async () => {
    const s = await startStack({ models: [GROQ], keys: KEYS, nofile: { soft: 256, hard: 4096 } });
    try {
      assert.match(s.gwLogs(), /open files: soft limit 4096 \(was 256\), hard limit 4096: room for 1920 connections/);
    } finally {
      await s.stop();
    }
  });
});

// ---- 3: slow headers -----------------------------------------------------------------------

describe('slow headers and bodies (FREELLMAPI_HEADER_TIMEOUT_S=2, BODY_TIMEOUT_S=3, idle timeout 30 s)', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ], keys: KEYS, env: { FREELLMAPI_HEADER_TIMEOUT_S: '2', FREELLMAPI_BODY_TIMEOUT_S: '3', FREELLMAPI_IDLE_TIMEOUT_S: '30' } });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  test('40 clients sending a header byte every 200 ms are closed at the deadline; others are served', { timeout: 30000 }, async () => {
    const socks = await openIdle(s, 40);
    const t0 = Date.now();
    const line = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200);
    let i = 0;
    const drip = setInterval(() => {
      for (const c of socks) if (c.closedAt === undefined) c.write(line[i % line.length]);
      i++;
    }, 200);
    try {
      await sleep(500);
      assert.equal(await health(s), 200, 'a normal client is served meanwhile');
      const closed = await waitClosed(socks, 10000);
      assert.equal(closed, 40, 'every slow client was closed');
      const last = Math.max(...socks.map((c) => c.closedAt - t0));
      const first = Math.min(...socks.map((c) => c.closedAt - t0));
      assert.ok(first >= 1500, `not before the deadline (first closed after ${first} ms)`);
      assert.ok(last < 8000, `all closed after ${last} ms, while still sending (the idle timeout is 30 s)`);
    } finally {
      clearInterval(drip);
    }
    assert.match(s.gwLogs(), /connections? whose request headers took over 2 s/);
  });

  test('a keep-alive connection may idle past the header deadline before its next request', { timeout: 30000 }, async () => {
    const c = net.connect({ host: '127.0.0.1', port: s.port });
    c.on('error', () => {});
    let got = '';
    c.on('data', (d) => (got += d.toString('latin1')));
    await new Promise((r) => c.once('connect', r));
    c.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await sleep(300);
    assert.match(got, /^HTTP\/1\.1 200/);
    got = '';
    await sleep(3500); // idle longer than the 2 s header deadline, within the idle timeout
    c.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const deadline = Date.now() + 5000;
    while (!/\r\n\r\n/.test(got) && Date.now() < deadline) await sleep(20);
    c.destroy();
    assert.match(got, /^HTTP\/1\.1 200/, 'the second request on the idle keep-alive connection was served');
  });

  test('a second request whose headers trickle is closed at the deadline', { timeout: 30000 }, async () => {
    const [c] = await openIdle(s, 1);
    c.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await sleep(200);
    const t0 = Date.now();
    c.write('GET /health HTTP/1.1\r\n');
    const drip = setInterval(() => c.closedAt === undefined && c.write('X'), 200);
    const deadline = Date.now() + 10000;
    while (c.closedAt === undefined && Date.now() < deadline) await sleep(50);
    clearInterval(drip);
    c.destroy();
    assert.ok(c.closedAt !== undefined, 'closed');
    assert.ok(c.closedAt - t0 < 8000, `closed ${c.closedAt - t0} ms after its request line`);
  });

  test('a body that trickles is cut at its deadline, while a normal client is served', { timeout: 30000 }, async () => {
    const [c] = await openIdle(s, 1);
    const t0 = Date.now();
    c.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":"auto","messages":[`);
    const drip = setInterval(() => c.closedAt === undefined && c.write(' '.repeat(16)), 200);
    try {
      await sleep(1000);
      assert.equal(await health(s), 200, 'a normal client is served meanwhile');
      const deadline = Date.now() + 10000;
      while (c.closedAt === undefined && Date.now() < deadline) await sleep(50);
    } finally {
      clearInterval(drip);
      c.destroy();
    }
    assert.ok(c.closedAt !== undefined, 'closed');
    assert.ok(c.closedAt - t0 >= 2500, `not before the deadline (${c.closedAt - t0} ms)`);
    assert.ok(c.closedAt - t0 < 8000, `cut ${c.closedAt - t0} ms after it started, while still sending (idle timeout 30 s)`);
    assert.match(s.gwLogs(), /request body too slow/);
  });
});

// ---- 4: half-closed clients ----------------------------------------------------------------

describe('a client that half-closes its sending side is answered', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ], keys: KEYS, timeoutMs: 20000 });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  test('non-streaming answer 600 ms after the FIN', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', delay_ms: 600, content: 'after half close' });
    const { raw, closedBy } = await rawExchange(s, chatRequestText(s, { model: 'auto', messages: [{ role: 'user', content: uniq('hc') }] }), { halfClose: true });
    const res = finalResponse(raw);
    assert.ok(res, `an answer came (${closedBy}): ${raw.slice(0, 300)}`);
    assert.equal(res.status, 200);
    const body = /transfer-encoding: chunked/i.test(res.head) ? unchunk(res.body) : res.body;
    assert.equal(JSON.parse(body).choices[0].message.content, 'after half close');
  });

  test('a stream whose events arrive after the FIN', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', delay_ms: 300, chunk_delay_ms: 150, chunks: ['one ', 'two ', 'three'] });
    const { raw } = await rawExchange(s, chatRequestText(s, { model: 'auto', stream: true, messages: [{ role: 'user', content: uniq('hcs') }] }), { halfClose: true });
    const res = finalResponse(raw);
    assert.equal(res?.status, 200, raw.slice(0, 300));
    const text = unchunk(res.body);
    const content = text
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content || '')
      .join('');
    assert.equal(content, 'one two three');
    assert.match(text, /data: \[DONE\]/);
  });

  test('HTTP/1.0 with a FIN after the request is answered too', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', delay_ms: 400, content: 'one-oh' });
    const { raw } = await rawExchange(s, chatRequestText(s, { model: 'auto', messages: [{ role: 'user', content: uniq('hc10') }] }, { version: '1.0' }), { halfClose: true });
    const res = finalResponse(raw);
    assert.equal(res?.status, 200, raw.slice(0, 300));
    assert.doesNotMatch(raw, /^HTTP\/1\.1 100/, 'no interim answer for HTTP/1.0');
    assert.equal(JSON.parse(res.body).choices[0].message.content, 'one-oh');
  });

  test('a client that closed its socket still cancels the upstream call', { timeout: 30000 }, async () => {
    await s.mock.script({ provider: 'groq', delay_ms: 15000 });
    const mark = await s.mock.mark();
    const c = net.connect({ host: '127.0.0.1', port: s.port });
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    c.write(chatRequestText(s, { model: 'auto', messages: [{ role: 'user', content: uniq('gone') }] }));
    let seen = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await sleep(30);
      seen = await s.mock.chatRequests({ since: mark });
    }
    assert.equal(seen.length, 1, 'the upstream call began');
    await sleep(200);
    const leftAt = Date.now();
    c.destroy(); // close(): a FIN, like a killed client process
    let rec;
    for (let i = 0; i < 60 && !rec; i++) {
      await sleep(50);
      rec = (await s.mock.chatRequests({ since: mark })).find((r) => r.client_closed);
    }
    assert.ok(rec, 'the upstream transfer was cancelled');
    assert.ok(rec.closed_at - leftAt < 1500, `cancelled ${rec.closed_at - leftAt} ms after the client left`);
  });
});

// ---- 5: large uploads beside a latency probe --------------------------------------------------

describe('large uploads do not stop other clients being served', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ], keys: KEYS });
  }, { timeout: 30000 });
  after(async () => {
    await s?.stop();
  });

  /** Sends `bytes` as a chat body on its own connection; resolves {status, start, end}. */
  function upload(bytes) {
    return new Promise((resolve) => {
      const start = Date.now();
      const req = http.request(
        { host: '127.0.0.1', port: s.port, method: 'POST', path: '/v1/chat/completions', agent: false, headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json', 'content-length': String(bytes.length) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, start, end: Date.now() }));
        },
      );
      req.on('error', (e) => resolve({ status: e.code, start, end: Date.now() }));
      req.end(bytes);
    });
  }

  test('two 40 MB bodies (413) and a 30 MB one, back to back, beside a /health probe', { timeout: 60000 }, async (t) => {
    const big = Buffer.alloc(40 << 20, 0x61);
    const prompt = 'x'.repeat(30 << 20);
    const json = Buffer.from(JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: prompt }] }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answers = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t0 = Date.now();
        const st = await new Promise((resolve) => {
          const req = http.get({ host: '127.0.0.1', port: s.port, path: '/health', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', (e) => resolve(e.code));
        });
        answers.push({ t0, t1: Date.now(), st });
      }
    })();
    await sleep(200);
    const results = [];
    for (const body of [big, big, json]) results.push(await upload(body));
    probing = false;
    await probe;
    agent.destroy();
    const worst = Math.max(...answers.map((a) => a.t1 - a.t0));
    t.diagnostic(`slowest probe ${worst} ms over ${answers.length} probes`);
    for (const r of results) {
      const during = answers.filter((a) => a.t1 > r.start && a.t1 < r.end).length;
      t.diagnostic(`upload ${r.end - r.start} ms (${r.status}), ${during} probe answers meanwhile`);
      assert.ok(during >= 2 || r.end - r.start < 20, `probes were answered while an upload of ${r.end - r.start} ms went on (${during})`);
    }
    assert.ok(answers.every((a) => a.st === 200), 'every probe answered 200');
    assert.deepEqual(results.slice(0, 2).map((r) => r.status), [413, 413]);
    assert.equal(results[2].status, 400, 'the 30 MB prompt is refused as too long for every context window');
  });
});

// ---- 6: kill -9 during writes ----------------------------------------------------------------

describe('kill -9 during writes', () => {
  test('the database stays intact and keeps everything older than the last seconds', { timeout: 120000 }, async () => {
    const s = await startStack({ models: [GROQ], keys: KEYS });
    try {
      let added = 0;
      for (let round = 0; round < 5; round++) {
        const completedAt = [];
        let going = true;
        const load = Promise.all(
          Array.from({ length: 4 }, async () => {
            while (going) {
              try {
                await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('k9') }] });
                completedAt.push(Date.now());
              } catch {
                /* the kill cuts some */
              }
            }
          }),
        );
        // Key writes from the CLI at the same time as the server's log writes.
        const cliOk = [];
        const cli = (async () => {
          for (let k = 0; going && k < 3; k++) {
            const label = `k9-${round}-${k}`;
            const r = await s.cli('keys', 'add', 'groq', `gsk_e2e_k9_${round}_${k}_${uniq('s')}`, '--label', label);
            if (r.code === 0) cliOk.push(label);
          }
        })();
        await sleep(1500 + round * 250);
        const killedAt = Date.now();
        const exited = new Promise((r) => s.gw.once('exit', r));
        s.gw.kill('SIGKILL');
        await exited;
        going = false;
        await Promise.all([load, cli]);
        s.gw = null;
        added += cliOk.length;
        await s.start();
        assert.deepEqual(await s.db('PRAGMA integrity_check'), [{ integrity_check: 'ok' }], `round ${round}: integrity`);
        const list = await s.keysList();
        for (const label of cliOk) assert.ok(list.includes(label), `round ${round}: key ${label} kept`);
        // Rows are written once a second: everything answered 3 s before the kill is there.
        const old = completedAt.filter((t) => t < killedAt - 3000).length;
        const rows = (await s.db("SELECT count(*) AS n FROM request_log WHERE endpoint LIKE '%chat/completions'"))[0].n;
        assert.ok(rows >= old, `round ${round}: ${rows} log rows, ${old} answered more than 3 s before the kill`);
      }
      assert.ok(added > 0, 'some keys were added under the kills');
      assert.equal(await health(s), 200);
    } finally {
      await s.stop();
    }
  });
});
