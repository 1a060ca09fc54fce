// End-to-end harness: starts the mock providers (tests/mock/mock.mjs) and the
// real gateway binary on free loopback ports with a throw-away data dir, and
// tears everything down with bounded timeouts. Nothing leaves 127.0.0.1:
// every provider's base URL is overridden to point at the mock.
//
//   const s = await startStack({ models: [...], keys: [...] });
//   const { data, response } = await s.client.chat.completions.create({...}).withResponse();
//   const seen = await s.mock.chatRequests({ provider: 'groq', since: mark });
//   await s.stop();

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { BASE_PATHS, PROVIDERS, providersOf } from '../../mock/providers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../../..');
export const BIN = path.resolve(REPO_ROOT, process.env.FREELLMAPI_BIN || 'build/freellmapi');
export const MOCK_JS = path.join(REPO_ROOT, 'tests/mock/mock.mjs');
export const CATALOG_JSON = path.join(REPO_ROOT, 'catalog/catalog.json');

// Every provider of catalog/catalog.json, and those that take anonymous calls.
export const PROVIDER_IDS = Object.keys(PROVIDERS);
export const KEYLESS = PROVIDER_IDS.filter((id) => PROVIDERS[id].keyless);
export { BASE_PATHS };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const uniq = (p = 'q') => `${p}-${randomBytes(6).toString('hex')}`;

// Every child we start, so a crashed test file never leaves one behind.
const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

export function binaryExists() {
  try {
    fs.accessSync(BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

// A bounded log buffer for a child's output (kept for failure messages).
function logSink(limit = 512 * 1024) {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString();
      if (buf.length > limit) buf = buf.slice(buf.length - limit);
    },
    text: () => buf,
  };
}

/** The first ASan/UBSan/LSan report in a child's output, or null. */
function sanitizerReport(log) {
  const i = log.search(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/);
  return i >= 0 ? log.slice(Math.max(0, i - 200), i + 4000) : null;
}

/**
 * Rows of one SQL query on a SQLite file, as objects: the `sqlite3` CLI when
 * there is one, else python3's sqlite3 module. Bounded (10 s).
 */
export async function queryDb(dbPath, sql, { timeoutMs = 10000 } = {}) {
  const run = (file, args) =>
    new Promise((resolve, reject) => {
      execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`${file} failed on ${dbPath}: ${err.code === 'ENOENT' ? 'not installed' : String(stderr).trim() || err.message}`), { code: err.code }));
        else resolve(String(stdout));
      });
    });
  let out;
  try {
    out = await run('sqlite3', ['-json', '-cmd', '.timeout 5000', dbPath, sql]);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    const py = 'import json,sqlite3,sys\nc=sqlite3.connect(sys.argv[1],timeout=5)\nc.row_factory=sqlite3.Row\nprint(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))';
    out = await run('python3', ['-c', py, dbPath, sql]);
  }
  return out.trim() ? JSON.parse(out) : [];
}

async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return;
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const ok = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!ok) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
  children.delete(child);
}

// ---- mock ----------------------------------------------------------------------

export class MockControl {
  constructor(url) {
    this.url = url;
  }

  async call(method, p, body) {
    const res = await fetch(`${this.url}/__mock${p}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const j = await res.json();
    if (!res.ok) throw new Error(`mock control ${method} ${p}: ${res.status} ${JSON.stringify(j)}`);
    return j;
  }

  /** Queue one rule or an array of rules; returns their ids. */
  script(rules) {
    return this.call('POST', '/script', Array.isArray(rules) ? { rules } : rules).then((j) => j.ids);
  }
  clearScript() {
    return this.call('DELETE', '/script');
  }
  rules() {
    return this.call('GET', '/script').then((j) => j.rules);
  }
  reset(opts = {}) {
    return this.call('POST', '/reset', opts);
  }
  /** {provider: [secret | {key, account}] | null} */
  setKeys(map) {
    return this.call('POST', '/keys', map);
  }
  config(c) {
    return this.call('POST', '/config', c);
  }
  /** Sequence number of the last recorded request: pass it as `since` later. */
  async mark() {
    return (await this.call('GET', '/health')).seq;
  }
  async requests(filter = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== null) q.set(k, String(v));
    return (await this.call('GET', `/requests?${q}`)).requests;
  }
  chatRequests(filter = {}) {
    return this.requests({ endpoint: 'chat', ...filter });
  }
  /** Gemini thought signatures the mock issued: [{signature, model, calls: [{name, args}], at}]. */
  async signatures() {
    return (await this.call('GET', '/signatures')).signatures;
  }
  /** Gemini Live ephemeral tokens the mock minted: [{name, uses, used, sessions, expireTime, newSessionExpireTime, setup, field_mask, key, seq, at}]. */
  async tokens() {
    return (await this.call('GET', '/tokens')).tokens;
  }
  /** Gemini Live WebSocket sessions the mock served (endpoint "live"; see tests/mock/README.md "Gemini Live"). */
  liveSessions(filter = {}) {
    return this.requests({ endpoint: 'live', ...filter });
  }
  /** URL of a file the mock serves (e.g. 'pixel.png'); fetches of it are recorded as provider "assets". */
  assetUrl(name, host = '127.0.0.1') {
    return `http://${host}:${this.port}/assets/${name}`;
  }
  /** Requests the mock refused because the gateway sent something the real provider rejects. */
  violations(filter = {}) {
    return this.requests({ ...filter, violations: 1 });
  }
}

export async function startMock({ catalogPath } = {}) {
  const args = [MOCK_JS, '--port', '0', '--exit-with-stdin'];
  if (catalogPath) args.push('--catalog', catalogPath);
  if (process.env.MOCK_LOG) args.push('--log');
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const logs = logSink();
  child.stderr.on('data', (d) => {
    logs.push(d);
    if (process.env.MOCK_LOG) process.stderr.write(d);
  });
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/MOCK_PORT=(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`mock exited early (${code}): ${logs.text()}`)));
    }),
    10000,
    'mock start',
  );
  const url = `http://127.0.0.1:${port}`;
  const control = new MockControl(url);
  control.port = port;
  control.logs = logs.text;
  control.stop = () => stopChild(child, 2000);
  return control;
}

// ---- test catalog ----------------------------------------------------------------

/**
 * A catalog derived from catalog/catalog.json for deterministic tests.
 *   models:   [{provider, id, priority?, limits?, capabilities?}] — the only enabled
 *             models (others are dropped); priority defaults to 10, 20, 30... in order;
 *             limits default to {} (no caps) so request counts never interfere
 *   keyless:  false (default) disables kilo/pollinations/llm7 unless listed in models;
 *             true keeps them (with their listed models, or all their chat models)
 *   timeoutMs: first-byte timeout for every provider (default 4000)
 *   providerLimits: {provider: {rpm, rpd, ...}} replaces account-wide limits ({} = none)
 *   mutate(cat): last-chance edit
 */
export function buildCatalog({ models = [], keyless = false, timeoutMs = 4000, providerLimits = {}, mutate } = {}) {
  const cat = JSON.parse(fs.readFileSync(CATALOG_JSON, 'utf8'));
  const want = new Map();
  models.forEach((m, i) => want.set(`${m.provider}\u0000${m.id}`, { priority: (i + 1) * 10, ...m }));
  const listed = new Set(models.map((m) => m.provider));
  for (const p of cat.providers) {
    p.timeout_ms = timeoutMs;
    p.limits = providerLimits[p.id] ?? {};
    const keep = [];
    for (const m of p.models) {
      const w = want.get(`${p.id}\u0000${m.id}`);
      if (w) {
        m.enabled = true;
        m.priority = w.priority;
        m.limits = w.limits ?? {}; // no free-tier caps unless the test sets them
        if (w.capabilities) m.capabilities = w.capabilities;
        if (w.context_window) m.context_window = w.context_window;
        keep.push(m);
        want.delete(`${p.id}\u0000${m.id}`);
      } else if (keyless === true && KEYLESS.includes(p.id) && !listed.has(p.id) && m.kind === 'chat') {
        m.limits = {};
        keep.push(m);
      }
    }
    // A provider keeps at least one (disabled) model so the file stays well-formed.
    if (!keep.length && p.models.length) keep.push({ ...p.models[0], enabled: false });
    p.models = keep;
    p.enabled = listed.has(p.id) || (keyless === true && KEYLESS.includes(p.id));
  }
  for (const k of want.keys()) throw new Error(`buildCatalog: no such model in catalog: ${k.replace('\u0000', '/')}`);
  if (mutate) mutate(cat);
  return cat;
}

// ---- the gateway -------------------------------------------------------------------

function childEnv(mockUrl, catalogPath, extra = {}, catalog = null) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(k) || /^FREELLMAPI_/.test(k) || k === 'ENCRYPTION_KEY' || k === 'PORT' || k === 'HOST') delete env[k];
  }
  env.NO_PROXY = '127.0.0.1,localhost';
  env.no_proxy = '127.0.0.1,localhost';
  // Every provider of the catalog in use points at the mock (nothing leaves 127.0.0.1).
  const { basePaths } = catalog ? providersOf(catalog) : { basePaths: BASE_PATHS };
  for (const [id, base] of Object.entries(basePaths)) env[`FREELLMAPI_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`] = `${mockUrl}/${id}${base}`;
  if (catalogPath) env.FREELLMAPI_CATALOG = catalogPath;
  return { ...env, ...extra };
}

export function runCli(args, { env, timeoutMs = 10000, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(BIN, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr), timedOut: Boolean(err && err.killed) });
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Starts mock + gateway.
 *   models, keyless, timeoutMs, providerLimits, mutate: see buildCatalog
 *   catalog: a ready catalog object instead
 *   keys: [{provider, secret, label?, account?}] added with `freellmapi keys add` before serve
 *   mockKeys: true (default) makes the mock accept exactly those secrets per provider
 *   env: extra env for the gateway
 *   nofile: {soft, hard} open-file limits the gateway starts under
 *   serveArgs: extra arguments for `serve` (e.g. ['--web-dir', dir])
 *   serve: false to skip starting the server (CLI-only tests)
 */
/* A stack for one test: started with opts, always stopped after fn. */
export async function withStack(opts, fn) {
  const s = await startStack(opts);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

export async function startStack(opts = {}) {
  if (!binaryExists()) throw new Error(`gateway binary not found or not executable: ${BIN} (set FREELLMAPI_BIN)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-e2e-'));
  const dataDir = path.join(tmp, 'data');
  const catalogPath = path.join(tmp, 'catalog.json');
  const catalog = opts.catalog ?? buildCatalog(opts);
  fs.writeFileSync(catalogPath, JSON.stringify(catalog, null, 1));

  const mock = await startMock({ catalogPath });
  const env = childEnv(mock.url, catalogPath, opts.env, catalog);
  const s = {
    tmp,
    dataDir,
    catalogPath,
    catalog,
    mock,
    env,
    keys: [],
    gw: null,
    port: null,
    baseURL: null,
    key: null,
    client: null,
  };

  s.cli = async (...args) => {
    const opts = typeof args.at(-1) === 'object' ? args.pop() : {};
    const r = await runCli([...args, '--data-dir', dataDir], { env, ...opts });
    if (r.timedOut) throw new Error(`freellmapi ${args.join(' ')} timed out`);
    return r;
  };
  s.cliOk = async (...args) => {
    const r = await s.cli(...args);
    if (r.code !== 0) throw new Error(`freellmapi ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  /** Adds a provider key with the CLI; returns the CLI's stdout. */
  s.keysAdd = async ({ provider, secret, label, account }) => {
    const args = ['keys', 'add', provider, secret];
    if (label) args.push('--label', label);
    if (account) args.push('--account-id', account);
    const out = await s.cliOk(...args);
    s.keys.push({ provider, secret, label, account });
    return out;
  };
  s.keysList = () => s.cliOk('keys', 'list');
  /** The id of a key, found by its label in `keys list` (first integer on that line). */
  s.keyIdByLabel = async (label) => {
    const out = await s.keysList();
    const line = out.split('\n').find((l) => l.includes(label));
    if (!line) throw new Error(`no key labelled ${label} in keys list:\n${out}`);
    const m = line.match(/\d+/);
    if (!m) throw new Error(`no id on keys list line: ${line}`);
    return Number(m[0]);
  };
  s.syncMockKeys = async () => {
    const map = {};
    for (const k of s.keys) (map[k.provider] ||= []).push(k.account ? { key: k.secret, account: k.account } : k.secret);
    if (Object.keys(map).length) await mock.setKeys(map);
  };

  for (const k of opts.keys || []) await s.keysAdd(k);
  if (opts.mockKeys !== false) await s.syncMockKeys();
  const uk = await s.cliOk('unified-key');
  const m = uk.match(/freellmapi-[A-Za-z0-9_\-]+/);
  if (!m) throw new Error(`unified-key printed no freellmapi- key: ${uk}`);
  s.key = m[0];

  s.start = async () => {
    s.port = await freePort();
    s.baseURL = `http://127.0.0.1:${s.port}/v1`;
    const logs = logSink();
    const serveArgs = ['serve', '--host', '127.0.0.1', '--port', String(s.port), '--data-dir', dataDir, ...(opts.serveArgs ?? [])];
    // opts.nofile {soft, hard}: start under these open-file limits (as a login shell's would be).
    const nf = opts.nofile;
    const child = nf
      ? spawn('/bin/sh', ['-c', `ulimit -Sn ${nf.soft} && ulimit -Hn ${nf.hard} && exec "$0" "$@"`, BIN, ...serveArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(BIN, serveArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.stdout.on('data', (d) => logs.push(d));
    child.stderr.on('data', (d) => logs.push(d));
    s.gw = child;
    s.gwLogs = logs.text;
    const deadline = Date.now() + 15000;
    let last = '';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited during start (${child.exitCode ?? child.signalCode}):\n${logs.text()}`);
      try {
        const r = await fetch(`${s.baseURL}/models`, { headers: { authorization: `Bearer ${s.key}` }, signal: AbortSignal.timeout(2000) });
        if (r.status === 200) {
          await r.arrayBuffer();
          break;
        }
        last = `status ${r.status}: ${(await r.text()).slice(0, 300)}`;
      } catch (e) {
        last = String(e.cause?.code || e.message);
      }
      if (Date.now() > deadline) throw new Error(`gateway not ready within 15 s (last: ${last}):\n${logs.text()}`);
      await sleep(100);
    }
    s.client = new OpenAI({ baseURL: s.baseURL, apiKey: s.key, maxRetries: 0, timeout: 20000 });
    return s;
  };
  s.sanitizerReports = [];
  s.stopServer = async () => {
    if (s.gw) {
      const child = s.gw;
      if (child.exitCode !== null || child.signalCode !== null) {
        s.sanitizerReports.push(`the gateway died during the test (exit ${child.exitCode ?? child.signalCode}):\n${s.gwLogs().slice(-4000)}`);
      }
      await stopChild(child, 8000);
      // Under ASan/UBSan (make test), a report in the gateway's output fails the test.
      const report = sanitizerReport(s.gwLogs());
      if (report) s.sanitizerReports.push(report);
    }
    s.gw = null;
  };
  /**
   * Sends the gateway a signal and waits (bounded) for it to exit on its own;
   * returns {code, signal, ms} (ms from the signal to the exit; code null and
   * timedOut true when it had not exited within timeoutMs; it is then killed).
   * A sanitizer report in its output is kept for s.stop() like stopServer does.
   */
  s.terminate = async ({ signal = 'SIGTERM', timeoutMs = 15000 } = {}) => {
    const child = s.gw;
    if (!child) throw new Error('terminate: no gateway running');
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`terminate: the gateway had already exited (${child.exitCode ?? child.signalCode}):\n${s.gwLogs().slice(-3000)}`);
    const exited = new Promise((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
    const t0 = Date.now();
    child.kill(signal);
    const res = await Promise.race([exited, sleep(timeoutMs).then(() => null)]);
    const ms = Date.now() - t0;
    if (!res) {
      await stopChild(child, 100);
      s.gw = null;
      return { code: null, signal: null, ms, timedOut: true };
    }
    children.delete(child);
    // let the last output arrive before it is scanned
    await sleep(50);
    const report = sanitizerReport(s.gwLogs());
    if (report) s.sanitizerReports.push(report);
    s.gw = null;
    return { ...res, ms, timedOut: false };
  };
  /** The gateway's SQLite file (request_log, keys, ...) and a query on it. */
  s.dbPath = path.join(dataDir, 'freellmapi.db');
  s.db = (sql) => queryDb(s.dbPath, sql);
  s.restart = async () => {
    await s.stopServer();
    return s.start();
  };
  s.stop = async () => {
    await s.stopServer();
    await mock.stop();
    if (!process.env.E2E_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
    if (s.sanitizerReports.length) throw new Error(`gateway crash or sanitizer report:\n${s.sanitizerReports.join('\n----\n')}`);
  };
  /** A client with other options (e.g. another apiKey). */
  s.clientWith = (o) => new OpenAI({ baseURL: s.baseURL, apiKey: s.key, maxRetries: 0, timeout: 20000, ...o });
  /** Raw HTTP to the gateway (bounded). path is relative to /v1 unless it starts with '//' (then from root). */
  s.fetch = (p, init = {}) => {
    const url = p.startsWith('//') ? `http://127.0.0.1:${s.port}${p.slice(1)}` : `${s.baseURL}${p}`;
    const headers = { ...(init.auth === false ? {} : { authorization: `Bearer ${s.key}` }), ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers || {}) };
    return fetch(url, { method: init.method || (init.json !== undefined || init.body !== undefined ? 'POST' : 'GET'), headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body, signal: AbortSignal.timeout(init.timeoutMs ?? 20000) });
  };
  /** Diagnostics to append to an assertion message. */
  s.diag = async () => {
    let reqs = [];
    try {
      reqs = (await mock.requests()).slice(-15).map((r) => `#${r.seq} ${r.method} ${r.path} model=${r.model} key=${r.key} -> ${r.status} ${r.outcome ?? ''}${r.violation ? ` VIOLATION: ${r.violation}` : ''}`);
    } catch (e) {
      reqs = [`(mock unreachable: ${e.message})`];
    }
    return `\n--- last mock requests ---\n${reqs.join('\n')}\n--- gateway log (tail) ---\n${(s.gwLogs?.() || '').slice(-3000)}`;
  };

  if (opts.serve !== false) {
    try {
      await s.start();
    } catch (e) {
      await s.stop().catch(() => {});
      throw e;
    }
  }
  return s;
}

// ---- assertions helpers ------------------------------------------------------------

/** A PCM WAV file (16-bit mono, a sine tone) of `seconds` at `rate`, for upload tests. */
export function sineWav(seconds = 1, rate = 16000) {
  const n = Math.round(seconds * rate);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(Math.sin(i / 10) * 3000), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** Parses "provider/model" (model ids may contain '/'). */
export function routedVia(headers) {
  const v = headers.get ? headers.get('x-routed-via') : headers['x-routed-via'];
  if (!v) return null;
  const i = v.indexOf('/');
  return { raw: v, provider: v.slice(0, i), model: v.slice(i + 1) };
}

/** Asserts the OpenAI error shape {"error":{"message","type","param","code"}}. */
export function assertErrorShape(assert, body, { code, type } = {}) {
  assert.ok(body && typeof body === 'object' && body.error && typeof body.error === 'object', `not an OpenAI error body: ${JSON.stringify(body)}`);
  for (const k of ['message', 'type', 'param', 'code']) assert.ok(k in body.error, `error.${k} missing in ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0, 'empty error.message');
  if (code !== undefined) assert.equal(body.error.code, code, `error.code in ${JSON.stringify(body)}`);
  if (type !== undefined) assert.equal(body.error.type, type, `error.type in ${JSON.stringify(body)}`);
}

// ---- Gemini (google) request helpers -------------------------------------------------

/** A Gemini request's field in camelCase or snake_case spelling (both are valid on the wire). */
export function gfield(obj, name) {
  if (!obj || typeof obj !== 'object') return undefined;
  if (obj[name] !== undefined) return obj[name];
  return obj[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

/** All parts of a recorded Gemini request's contents, flattened: [{content, part, role, ...part}]. */
export function geminiParts(body) {
  const out = [];
  (body?.contents || []).forEach((c, i) => (c.parts || []).forEach((p, j) => out.push({ content: i, part: j, role: c.role, ...p })));
  return out;
}

/** The text of a recorded Gemini systemInstruction (its text parts joined), or null. */
export function geminiSystemText(body) {
  const si = gfield(body, 'systemInstruction');
  if (!si) return null;
  return (si.parts || []).map((p) => p.text ?? '').join('');
}

/** Reads a raw SSE body into its data payloads (strings). */
export function sseData(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length) out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

/**
 * POST with a declared Content-Length of totalBytes, streamed over a raw socket
 * while reading: resolves with the first response even when the server answers
 * early and stops reading (a 413 before the body is in). Write errors (EPIPE,
 * ECONNRESET) after that are expected and ignored.
 */
export function postLarge(url, headers, totalBytes, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    let raw = Buffer.alloc(0);
    let settled = false;
    let sent = 0;
    const finish = (err) => {
      if (settled) return;
      const parsed = parseResponse(raw, Boolean(err) || sock.destroyed);
      if (!parsed && !err && !sock.destroyed) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (parsed) resolve({ ...parsed, sent });
      else reject(new Error(`no HTTP response after ${sent} of ${totalBytes} bytes (${err ? err.code || err.message : 'closed'}); got ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`));
    };
    const timer = setTimeout(() => finish(new Error('postLarge timed out')), timeoutMs);
    sock.on('data', (d) => {
      raw = Buffer.concat([raw, d]);
      finish();
    });
    sock.on('error', (e) => {
      if (parseResponse(raw)) finish();
      else setTimeout(() => finish(e), 300);
    });
    sock.on('close', () => finish(new Error('closed')));
    const head = '{"model":"auto","messages":[{"role":"user","content":"';
    const tail = '"}]}';
    const lines = [`POST ${u.pathname} HTTP/1.1`, `Host: ${u.host}`, 'Content-Type: application/json', `Content-Length: ${totalBytes}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    sock.write(lines.join('\r\n') + '\r\n\r\n' + head);
    sent = head.length;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const pump = () => {
      while (!settled && !sock.destroyed && sent < totalBytes - tail.length) {
        const n = Math.min(chunk.length, totalBytes - tail.length - sent);
        sent += n;
        if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void sock.once('drain', pump);
      }
      if (!settled && !sock.destroyed && sent < totalBytes) {
        sent += tail.length;
        sock.write(tail);
      }
    };
    pump();
  });
}

/** Parses a complete HTTP/1.1 response (Content-Length or chunked) or returns null. */
function parseResponse(buf, closed = false) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...hl] = text.slice(0, end).split('\r\n');
  const m = statusLine.match(/^HTTP\/1\.[01] (\d{3})/);
  if (!m) return null;
  const h = {};
  for (const l of hl) {
    const i = l.indexOf(':');
    if (i > 0) h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (h['content-length'] !== undefined) {
    if (body.length < Number(h['content-length'])) return null;
    body = body.subarray(0, Number(h['content-length']));
  } else if (/chunked/i.test(h['transfer-encoding'] || '')) {
    const out = [];
    let off = 0;
    for (;;) {
      const le = body.indexOf('\r\n', off);
      if (le < 0) return null;
      const n = parseInt(body.subarray(off, le).toString(), 16);
      if (Number.isNaN(n)) return null;
      if (n === 0) break;
      if (body.length < le + 2 + n) return null;
      out.push(body.subarray(le + 2, le + 2 + n));
      off = le + 2 + n + 2;
    }
    body = Buffer.concat(out);
  } else if (!closed) {
    return null; // the body runs until the connection closes
  }
  return { status: Number(m[1]), headers: h, body: body.toString('utf8') };
}
