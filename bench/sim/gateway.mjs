// Starts the real gateway binary against the mock providers: a catalog derived
// from catalog/catalog.json with only the profile's models enabled and its caps,
// a fresh data dir, provider keys added with the CLI, then `serve` on a free
// loopback port. Mirrors tests/e2e/lib/harness.mjs (not imported from there).

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from './util.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../..');
const CATALOG_JSON = path.join(REPO_ROOT, 'catalog/catalog.json');

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

/**
 * The catalog the gateway is told: profile models enabled with their stated
 * caps (`state`, defaulting to what the mock enforces), every other model and
 * provider disabled. Options:
 *   newFields: false leaves out limits.concurrent and policy.ratelimit_headers
 *   (for builds that do not know them yet).
 */
export function buildCatalog(profile, { newFields = true } = {}) {
  const cat = JSON.parse(fs.readFileSync(CATALOG_JSON, 'utf8'));
  const want = new Map(profile.models.map((m, i) => [`${m.provider}/${m.id}`, { i, m }]));
  const used = new Set(profile.models.map((m) => m.provider));
  for (const p of cat.providers) {
    p.timeout_ms = 15000;
    p.enabled = used.has(p.id);
    p.limits = { ...(profile.stateAccounts ?? profile.accounts ?? {})[p.id] };
    if (newFields && profile.concurrent?.[p.id] != null && used.has(p.id)) p.limits.concurrent = profile.concurrent[p.id];
    if (newFields && profile.ratelimitHeaders?.[p.id] && used.has(p.id)) p.policy = { ...(p.policy ?? {}), ratelimit_headers: profile.ratelimitHeaders[p.id] };
    const keep = [];
    for (const m of p.models) {
      const w = want.get(`${p.id}/${m.id}`);
      if (!w) continue;
      m.enabled = true;
      m.priority = (w.i + 1) * 10;
      m.limits = { ...(w.m.state ?? w.m.enforce) };
      keep.push(m);
      want.delete(`${p.id}/${m.id}`);
    }
    // a provider keeps one (disabled) model so the file stays well-formed
    if (!keep.length && p.models.length) keep.push({ ...p.models[0], enabled: false });
    p.models = keep;
  }
  for (const k of want.keys()) throw new Error(`profile ${profile.name}: no such model in catalog/catalog.json: ${k}`);
  return cat;
}

/** Capabilities and context windows of the profile's models, from the catalog. */
export function modelFacts(catalog) {
  const out = new Map();
  for (const p of catalog.providers) for (const m of p.models) if (m.enabled && p.enabled) out.set(`${p.id}/${m.id}`, { capabilities: m.capabilities ?? [], contextWindow: m.context_window ?? null });
  return out;
}

function childEnv(mockUrl, catalogPath, catalog) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(k) || /^FREELLMAPI_/.test(k) || k === 'ENCRYPTION_KEY' || k === 'PORT' || k === 'HOST') delete env[k];
  }
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  for (const p of catalog.providers) env[`FREELLMAPI_${p.id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_BASE_URL`] = `${mockUrl}/${p.id}`;
  env.FREELLMAPI_CATALOG = catalogPath;
  return env;
}

function runCli(bin, args, env, timeoutMs = 15000) {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin.end('');
  });
}

async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const ok = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!ok) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
}

// every gateway we start, killed if the sim dies without tearing down
const live = new Set();
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/**
 * Does this build accept the catalog? Runs a CLI command that loads it.
 * Returns {ok, why}.
 */
export async function catalogAccepted(bin, catalog, mockUrl) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-sim-probe-'));
  try {
    const catalogPath = path.join(tmp, 'catalog.json');
    fs.writeFileSync(catalogPath, JSON.stringify(catalog));
    const r = await runCli(bin, ['models', 'list', '--data-dir', path.join(tmp, 'data')], childEnv(mockUrl, catalogPath, catalog));
    return { ok: r.code === 0, why: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Starts a gateway: returns {url, unified, stop(), logs(), exited() (null while it runs)}.
 * keys: [{provider, secret}]
 */
export async function startGateway({ bin, catalog, mockUrl, keys, name }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `freellmapi-sim-${name}-`));
  const dataDir = path.join(tmp, 'data');
  const catalogPath = path.join(tmp, 'catalog.json');
  fs.writeFileSync(catalogPath, JSON.stringify(catalog, null, 1));
  const env = childEnv(mockUrl, catalogPath, catalog);
  let child = null;
  let log = '';
  const cleanup = async () => {
    await stopChild(child);
    live.delete(child);
    if (!process.env.SIM_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (const k of keys) {
      const r = await runCli(bin, ['keys', 'add', k.provider, k.secret, '--data-dir', dataDir], env);
      if (r.code !== 0) throw new Error(`keys add ${k.provider} exited ${r.code}: ${r.stderr || r.stdout}`);
    }
    const uk = await runCli(bin, ['unified-key', '--data-dir', dataDir], env);
    const unified = /freellmapi-[A-Za-z0-9_-]+/.exec(uk.stdout)?.[0];
    if (!unified) throw new Error(`unified-key printed no key: ${uk.stdout}${uk.stderr}`);

    const port = await freePort();
    child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const keepLog = (d) => {
      log += d;
      if (log.length > 256 * 1024) log = log.slice(-256 * 1024);
    };
    child.stdout.on('data', keepLog);
    child.stderr.on('data', keepLog);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited during start (${child.exitCode ?? child.signalCode}):\n${log.slice(-3000)}`);
      try {
        const r = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${unified}` }, signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        if (r.status === 200) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`gateway not ready within 20 s:\n${log.slice(-3000)}`);
      await sleep(100);
    }
    const exited = () => (child.exitCode !== null || child.signalCode !== null ? String(child.exitCode ?? child.signalCode) : null);
    return { url, unified, stop: cleanup, logs: () => log, exited, dataDir };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
