// Free-tier cap accounting, exact: sliding 60 s windows kept as timestamped
// events (RPM, TPM), UTC-day counters (RPD, TPD), account-wide caps per
// (provider, key) across that provider's models, and a concurrency cap per
// (provider, key). One Ledger per mock server; the sim reads it directly.

import { utcDay, msToMidnightUTC } from './util.mjs';

export const WINDOW_MS = 60000;

function newBucket() {
  return { events: [], day: -1, dayReq: 0, dayTok: 0, inflight: 0, finished: [] };
}

/** Drops the daily counts at a new UTC day, and events long gone from any window. */
function refresh(b, now) {
  const d = utcDay(now);
  if (b.day !== d) {
    b.day = d;
    b.dayReq = 0;
    b.dayTok = 0;
  }
  let i = 0;
  while (i < b.events.length && b.events[i].t <= now - 2 * WINDOW_MS) i++;
  if (i) b.events.splice(0, i);
  let j = 0;
  while (j < b.finished.length && b.finished[j] <= now - 10000) j++;
  if (j) b.finished.splice(0, j);
}

/**
 * Requests and tokens a bucket has in the window (now - 60 s - slackMs, now].
 * With slack, a request answered within the last slackMs still counts what it
 * reserved at admission (the caller may have decided just before it finished).
 */
function inWindow(b, now, slackMs) {
  const windowMs = WINDOW_MS + slackMs;
  let n = 0;
  let tok = 0;
  let first = -1;
  for (let i = 0; i < b.events.length; i++) {
    const e = b.events[i];
    if (e.t > now - windowMs) {
      if (first < 0) first = i;
      n++;
      tok += slackMs > 0 && e.doneAt !== undefined && e.doneAt > now - slackMs ? Math.max(e.tokens, e.reserved) : e.tokens;
    }
  }
  return { n, tok, first };
}

/**
 * The verdict of one set of limits ({rpm, tpm, rpd, tpd}) on one bucket for a
 * request costing `cost` tokens now: null when it fits, else
 * {kind: 'rpd'|'tpd'|'rpm'|'tpm', limit, used, requested, retryMs}.
 */
function dailyVerdict(limits, b, cost, now) {
  if (limits.rpd != null && b.dayReq + 1 > limits.rpd) return { kind: 'rpd', limit: limits.rpd, used: b.dayReq, requested: 1, retryMs: msToMidnightUTC(now) };
  if (limits.tpd != null && b.dayTok + cost > limits.tpd) return { kind: 'tpd', limit: limits.tpd, used: b.dayTok, requested: cost, retryMs: msToMidnightUTC(now) };
  return null;
}

function windowVerdict(limits, b, cost, now, slackMs) {
  const windowMs = WINDOW_MS + slackMs;
  const w = inWindow(b, now, slackMs);
  if (limits.rpm != null && w.n + 1 > limits.rpm) {
    // the (n - rpm + 1)-th oldest event in the window must age out
    const e = b.events[w.first + (w.n - limits.rpm)];
    return { kind: 'rpm', limit: limits.rpm, used: w.n, requested: 1, retryMs: Math.max(0, e.t + windowMs - now) };
  }
  if (limits.tpm != null && w.tok + cost > limits.tpm) {
    const excess = w.tok + cost - limits.tpm;
    let freed = 0;
    let retryMs = 0;
    for (let i = w.first; i >= 0 && i < b.events.length; i++) {
      freed += b.events[i].tokens;
      retryMs = Math.max(0, b.events[i].t + windowMs - now);
      if (freed >= excess) break;
    }
    return { kind: 'tpm', limit: limits.tpm, used: w.tok, requested: cost, retryMs };
  }
  return null;
}

export class Ledger {
  /**
   * caps: {
   *   models:   {"provider/model": {rpm, tpm, rpd, tpd}}   (what the mock enforces)
   *   accounts: {provider: {rpm, tpm, rpd, tpd}}           (per key, across models)
   *   concurrent: {provider: n}                            (in flight per key)
   * }
   */
  constructor(caps) {
    this.caps = caps;
    this.buckets = new Map();
  }

  bucket(id, now) {
    let b = this.buckets.get(id);
    if (!b) this.buckets.set(id, (b = newBucket()));
    refresh(b, now);
    return b;
  }

  pairBucket(provider, model, key, now) {
    return this.bucket(`m\u0000${provider}\u0000${model}\u0000${key}`, now);
  }

  accountBucket(provider, key, now) {
    return this.bucket(`a\u0000${provider}\u0000${key}`, now);
  }

  modelLimits(provider, model) {
    return this.caps.models[`${provider}/${model}`] ?? {};
  }

  /**
   * Would (provider, model, key) admit a request of `prompt` tokens with
   * `maxTokens` (0 when unset) now? Returns null (yes) or
   * {status: 413|429, scope: 'model'|'account', kind, limit, used, requested, retryMs}.
   * slackMs > 0 makes the check stricter for timing: window events up to
   * slackMs older than 60 s still count, and so do requests answered within
   * the last slackMs (in flight, at their reserved tokens).
   */
  verdict(provider, model, key, prompt, maxTokens, now, slackMs = 0) {
    const ml = this.modelLimits(provider, model);
    const al = this.caps.accounts?.[provider] ?? {};
    const conc = this.caps.concurrent?.[provider];
    const cost = prompt + maxTokens;
    for (const [scope, l] of [['model', ml], ['account', al]]) {
      if (l.tpm != null && cost > l.tpm) return { status: 413, scope, kind: 'tpm', limit: l.tpm, used: 0, requested: cost, retryMs: 0 };
    }
    const mb = this.pairBucket(provider, model, key, now);
    const ab = this.accountBucket(provider, key, now);
    const inflight = ab.inflight + (slackMs ? ab.finished.filter((t) => t > now - slackMs).length : 0);
    if (conc != null && inflight >= conc) return { status: 429, scope: 'account', kind: 'concurrent', limit: conc, used: inflight, requested: 1, retryMs: 1000 };
    const d = dailyVerdict(ml, mb, cost, now) ?? null;
    if (d) return { status: 429, scope: 'model', ...d };
    const da = dailyVerdict(al, ab, cost, now);
    if (da) return { status: 429, scope: 'account', ...da };
    const w = windowVerdict(ml, mb, cost, now, slackMs);
    if (w) return { status: 429, scope: 'model', ...w };
    const wa = windowVerdict(al, ab, cost, now, slackMs);
    if (wa) return { status: 429, scope: 'account', ...wa };
    return null;
  }

  /** Counts an admitted request; returns a lease for finish(). */
  admit(provider, model, key, cost, now) {
    const mb = this.pairBucket(provider, model, key, now);
    const ab = this.accountBucket(provider, key, now);
    const ev = { t: now, tokens: cost, reserved: cost };
    mb.events.push(ev);
    ab.events.push(ev); // the same event: finish() updates both windows
    mb.dayReq++;
    ab.dayReq++;
    mb.dayTok += cost;
    ab.dayTok += cost;
    ab.inflight++;
    return { ev, mb, ab, cost, done: false };
  }

  /** After answering: the windows and day counters hold what was really used. */
  finish(lease, usedTokens, now = Date.now()) {
    if (lease.done) return;
    lease.done = true;
    lease.ev.doneAt = now;
    lease.ab.finished.push(now);
    const delta = usedTokens - lease.ev.tokens;
    lease.ev.tokens = usedTokens;
    lease.mb.dayTok += delta;
    lease.ab.dayTok += delta;
    lease.ab.inflight--;
  }

  /**
   * What the provider's headers report for a pair now: day requests and
   * minute tokens (limit, remaining, seconds until reset).
   */
  headerState(provider, model, key, now) {
    const ml = this.modelLimits(provider, model);
    const mb = this.pairBucket(provider, model, key, now);
    const w = inWindow(mb, now, 0);
    const last = mb.events.length ? mb.events[mb.events.length - 1] : null;
    const toMidnight = msToMidnightUTC(now) / 1000;
    return {
      rpd: ml.rpd,
      rpdRemaining: ml.rpd != null ? Math.max(0, ml.rpd - mb.dayReq) : null,
      rpdReset: mb.dayReq ? toMidnight : 0,
      rpm: ml.rpm,
      rpmRemaining: ml.rpm != null ? Math.max(0, ml.rpm - w.n) : null,
      tpm: ml.tpm,
      tpmRemaining: ml.tpm != null ? Math.max(0, ml.tpm - w.tok) : null,
      // seconds until the minute window is empty again
      tpmReset: w.n && last ? Math.max(0, (last.t + WINDOW_MS - now) / 1000) : 0,
      // seconds until the oldest counted request leaves the window
      rpmReset: w.n ? Math.max(0, (mb.events[w.first].t + WINDOW_MS - now) / 1000) : 0,
    };
  }

  /** A pair's use now, for the report: window (with slackMs as in verdict) and day, with its caps. */
  describe(provider, model, key, now, slackMs = 0) {
    const mb = this.pairBucket(provider, model, key, now);
    const w = inWindow(mb, now, slackMs);
    return { limits: this.modelLimits(provider, model), windowReq: w.n, windowTok: w.tok, dayReq: mb.dayReq, dayTok: mb.dayTok, inflight: this.accountBucket(provider, key, now).inflight };
  }

  /** Account-wide state (OpenRouter-style headers). */
  accountState(provider, key, now) {
    const al = this.caps.accounts?.[provider] ?? {};
    const ab = this.accountBucket(provider, key, now);
    const w = inWindow(ab, now, 0);
    return { rpm: al.rpm, rpmUsed: w.n, rpd: al.rpd, rpdUsed: ab.dayReq, oldestMs: w.n ? ab.events[w.first].t : now };
  }
}
