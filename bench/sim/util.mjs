// Small shared helpers: a seeded PRNG, sleeps, durations, percentiles.

/** mulberry32: a fast deterministic PRNG; returns () => [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi] from a PRNG. */
export const between = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));

export const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/** Seconds as a Go-style duration, as Groq writes them: 7.66s, 2m59.56s, 1h2m3s. */
export function goDuration(secs) {
  const s = Math.max(0, Number(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = +(s % 60).toFixed(2);
  let out = '';
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  return `${out}${rest}s`;
}

/** Milliseconds until the next 00:00 UTC after `now`. */
export function msToMidnightUTC(now) {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - now;
}

/** The UTC day of an epoch-ms instant, as a number (days since epoch). */
export const utcDay = (t) => Math.floor(t / 86400000);

export function percentile(values, p) {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}
