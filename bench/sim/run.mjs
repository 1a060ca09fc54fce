// Runs one profile end to end: mock providers in this process, the gateway as a
// child, the profile's clients for `seconds`, then everything torn down. Returns
// the raw figures report.mjs renders.

import { MockProviders } from './providers.mjs';
import { buildCatalog, modelFacts, catalogAccepted, startGateway } from './gateway.mjs';
import { profileKeys, clientTraffic, keySecret } from './profiles.mjs';
import { sleep, percentile } from './util.mjs';

const MAX_PER_CLIENT = 3000; // every load loop is bounded in count as well as time
const REQUEST_TIMEOUT_MS = 30000;

/** One client request to the gateway; the room check runs the moment a refusal arrives. */
async function send(gw, req, onRefusal) {
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.unified}`, 'content-type': 'application/json', ...req.headers },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    return { status: 0, ms: performance.now() - t0, error: String(e.cause?.code ?? e.name ?? e.message) };
  }
  const refused = res.status === 429 || res.status === 503;
  const room = refused ? onRefusal() : null;
  let text = '';
  try {
    text = await res.text();
  } catch (e) {
    return { status: res.status, ms: performance.now() - t0, error: `body: ${e.cause?.code ?? e.name}` };
  }
  const out = {
    status: res.status,
    ms: performance.now() - t0,
    routed: res.headers.get('x-routed-via'),
    fallback: Number(res.headers.get('x-fallback-attempts') ?? 0) || 0,
    refused,
    room,
  };
  if (res.status === 200 && req.body.stream) {
    // a 200 stream is served only if it ran to [DONE] without an error frame
    if (!text.includes('data: [DONE]') || /^data: \{"error"/m.test(text)) {
      out.status = 0;
      out.error = 'stream ended without [DONE] or with an error frame';
    }
  }
  if (out.status !== 200 && !refused) out.error ??= text.slice(0, 200);
  if (room) {
    // what the gateway said when it refused while a pair had room: the clue to why
    let message = text.slice(0, 300);
    try {
      message = JSON.parse(text).error?.message ?? message;
    } catch {}
    out.said = `retry-after ${res.headers.get('retry-after') ?? '–'}: ${message}`;
  }
  return out;
}

/** The (model, key) pairs that could serve a request: capability, enabled, a key added. */
function candidates(p, facts, keys, req) {
  const models = req.named ? [req.named] : p.models;
  const out = [];
  for (const m of models) {
    const f = facts.get(`${m.provider}/${m.id}`);
    if (!f) continue;
    if (req.body.tools && !f.capabilities.includes('tools')) continue;
    for (const k of keys) if (k.provider === m.provider) out.push({ provider: m.provider, model: m.id, key: k.secret });
  }
  return out;
}

async function client(p, index, gw, mock, facts, keys, startAt, seconds) {
  const traffic = clientTraffic(p, index);
  const deadline = startAt + seconds * 1000;
  const log = [];
  const one = async () => {
    const req = traffic.next();
    const out = await send(gw, req, () => {
      const room = mock.roomFor(req.body, candidates(p, facts, keys, req));
      return room ? { ...room, t: Date.now() } : null;
    });
    log.push({ id: req.id, named: req.named ? `${req.named.provider}/${req.named.id}` : null, ...out });
    await sleep(traffic.pauseMs());
  };
  if (p.burst) {
    for (let wave = 0; ; wave++) {
      const at = startAt + wave * p.burst.everyMs;
      if (at >= deadline) break;
      await sleep(Math.max(0, at - Date.now()));
      for (let i = 0; i < p.burst.perClient; i++) await one();
    }
  } else {
    while (Date.now() < deadline && log.length < MAX_PER_CLIENT) await one();
  }
  return log;
}

export async function runProfile(p, { bin, seconds = 70, say = () => {} }) {
  const keys = profileKeys(p);
  const notes = [];
  let catalog = buildCatalog(p);
  const facts = modelFacts(catalog);
  const mock = await new MockProviders({
    seed: p.seed,
    models: p.models.map((m) => ({ ...m, contextWindow: facts.get(`${m.provider}/${m.id}`)?.contextWindow ?? null })),
    keys: Object.fromEntries(Object.keys(p.keys).map((prov) => [prov, keys.filter((k) => k.provider === prov).map((k) => k.secret)])),
    accounts: p.accounts,
    concurrent: p.concurrent,
    latencyMs: p.latencyMs,
  }).start();
  let gw = null;
  try {
    const acc = await catalogAccepted(bin, catalog, mock.url);
    if (!acc.ok) {
      notes.push(`this build rejects the catalog with the new fields (limits.concurrent, policy.ratelimit_headers): "${acc.why}"; ran without them`);
      catalog = buildCatalog(p, { newFields: false });
    }
    gw = await startGateway({ bin, catalog, mockUrl: mock.url, keys, name: p.name });
    say(`${p.name}: gateway up on ${gw.url}, mock on ${mock.url}; sending for ${seconds} s`);
    const startAt = Date.now() + 200;
    const timers = (p.outside ?? []).map((o) => setInterval(() => mock.outsideUse(o.provider, o.model, keySecret(p, o.provider, o.key), o.tokens), o.everyMs));
    let logs;
    try {
      logs = await Promise.all(Array.from({ length: p.clients }, (_, i) => client(p, i, gw, mock, facts, keys, startAt, seconds)));
    } finally {
      timers.forEach(clearInterval);
    }
    const requests = logs.flat();
    // a gateway that died refuses nothing: that must not pass for a clean run
    if (gw.exited()) throw new Error(`the gateway exited during the run (${gw.exited()}): ${gw.logs().slice(-1500)}`);
    if (/AddressSanitizer|runtime error:/.test(gw.logs())) notes.push('the gateway printed a sanitizer report');
    return summarize(p, requests, mock, keys, notes, Date.now() - startAt);
  } finally {
    if (gw) await gw.stop();
    await mock.stop();
  }
}

/** "groq/m key groq#1 (request 2435 + max 1024 tokens; last 61 s: 3 req / 5100 tok of rpm 30 / tpm 12000; today 9 req)" */
function roomText(room, label) {
  const u = room.use;
  const l = u.limits;
  const caps = [l.rpm != null && `rpm ${l.rpm}`, l.tpm != null && `tpm ${l.tpm}`].filter(Boolean).join(' / ') || 'no minute caps';
  const daily = [l.rpd != null && `rpd ${l.rpd}`, l.tpd != null && `tpd ${l.tpd}`].filter(Boolean).join(', ');
  return `${room.provider}/${room.model} key ${label.get(room.key)} (request ${room.prompt}${room.maxTok ? ` + max ${room.maxTok}` : ''} tokens by its tokenizer; last 61 s: ${u.windowReq} req / ${u.windowTok} tok of ${caps}; today ${u.dayReq} req${daily ? ` of ${daily}` : ''}; ${u.inflight} in flight on the key)`;
}

function summarize(p, requests, mock, keys, notes, wallMs) {
  const label = new Map(keys.map((k) => [k.secret, `${k.provider}#${k.secret.split('-').pop()}`]));
  const pairs = new Map();
  for (const a of mock.attempts) {
    const id = `${a.provider}/${a.model} key ${label.get(a.key) ?? '?'}`;
    let row = pairs.get(id);
    if (!row) pairs.set(id, (row = { pair: id, attempts: 0, ok: 0, r429: 0, r413: 0, other: 0, kinds: {}, early: {} }));
    row.attempts++;
    if (a.status === 200) row.ok++;
    else if (a.status === 429) row.r429++;
    else if (a.status === 413) row.r413++;
    else row.other++;
    if (a.status === 429 || a.status === 413) {
      const kind = `${a.status} ${a.scope === 'account' ? 'account ' : ''}${a.kind}`;
      row.kinds[kind] = (row.kinds[kind] ?? 0) + 1;
      // how early a minute-window 429 came: room was that many ms away
      if (a.kind === 'rpm' || a.kind === 'tpm') row.early[kind] = Math.max(row.early[kind] ?? 0, a.retryMs ?? 0);
    }
  }
  // 429s on a key another consumer also used are not the gateway's alone: kept apart
  const sharedKeys = new Set(mock.outside.map((o) => `${o.provider}\u0000${o.key}`));
  const isShared = (a) => sharedKeys.has(`${a.provider}\u0000${a.key}`);
  const okBySim = new Map(mock.attempts.filter((a) => a.status === 200 && a.simId).map((a) => [a.simId, a]));
  const served = requests.filter((r) => r.status === 200);
  const added = served.map((r) => (okBySim.has(r.id) ? r.ms - okBySim.get(r.id).ms : null)).filter((x) => x !== null);
  const refused = requests.filter((r) => r.refused);
  const roomy = refused.filter((r) => r.room && !r.room.exact);
  const exactFits = refused.filter((r) => r.room?.exact);
  const errors = {};
  for (const r of requests) if (r.status !== 200 && !r.refused) errors[r.status || r.error] = (errors[r.status || r.error] ?? 0) + 1;
  return {
    name: p.name,
    wallMs,
    requests: requests.length,
    served: served.length,
    refused: refused.length,
    refused429: refused.filter((r) => r.status === 429).length,
    refused503: refused.filter((r) => r.status === 503).length,
    errors,
    attempts: mock.attempts.length,
    caused429: mock.attempts.filter((a) => a.status === 429 && !isShared(a)).length,
    shared429: mock.attempts.filter((a) => a.status === 429 && isShared(a)).length,
    outside: mock.outside.length ? `${mock.outside.length} outside uses (${mock.outside.reduce((n, o) => n + o.tokens, 0)} tokens) on ${[...sharedKeys].map((k) => label.get(k.split('\u0000')[1])).join(', ')}` : null,
    caused413: mock.attempts.filter((a) => a.status === 413).length,
    refusedWhileRoom: roomy.length,
    refusedExactFit: exactFits.length,
    exactExamples: exactFits.slice(0, 2).map((r) => ({ id: r.id, status: r.status, named: r.named, room: roomText(r.room, label) })),
    roomBy: Object.entries(roomy.reduce((m, r) => ((m[`${r.room.provider}/${r.room.model}`] = (m[`${r.room.provider}/${r.room.model}`] ?? 0) + 1), m), {})).sort((a, b) => b[1] - a[1]),
    roomExamples: roomy.slice(0, 4).map((r) => ({ id: r.id, status: r.status, named: r.named, room: roomText(r.room, label), said: r.said })),
    p50AddedMs: percentile(added, 50),
    p50ClientMs: percentile(served.map((r) => r.ms), 50),
    probes: mock.probes,
    pairs: [...pairs.values()].sort((a, b) => a.pair.localeCompare(b.pair)),
    notes,
  };
}
