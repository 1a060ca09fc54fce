// The prompt-token estimator replayed over the simulator's request streams:
// for every profile and each of its models' tokenizers, the first 800
// requests in order, each estimated before its report is learned (as the
// gateway does), by the gateway's own estimator (bench/estimate_replay.c over
// src/router/estimate.c) and, for comparison, by the one running ratio it
// used before. Undercharged prompts are 429s in a nearly full window; the
// charge above the count is room left unused.
//
//   node bench/sim/estimates.mjs --replay build/bench/estimate_replay

import { execFileSync } from 'node:child_process';
import { PROFILES, clientTraffic } from './profiles.mjs';
import { promptTokens } from './providers.mjs';
import { percentile } from './util.mjs';

const PER_CLIENT = 200;

/** Our count of a prompt, as gw_chat_estimate_tokens makes it, and its messages. */
function ourCount(body) {
  let bytes = body.tools ? JSON.stringify(body.tools).length : 0;
  for (const m of body.messages) bytes += typeof m.content === 'string' ? m.content.length : JSON.stringify(m.content ?? '').length;
  const n = body.messages.length;
  return [Math.floor((bytes + 3) / 4) + 4 * n + 1, n];
}

/** The estimator before: one running ratio (first sample sets it, later ones move it a quarter) plus its spread. */
function oneRatio(rows) {
  let ratio = 1, spread = 0, k = 0;
  return rows.map(([raw, , reported]) => {
    const charge = Math.ceil(raw * (ratio + spread));
    if (raw >= 32) {
      const seen = Math.min(Math.max(reported / raw, 0.2), 5);
      if (k) spread += (Math.abs(seen - ratio) - spread) / 4;
      ratio = k ? ratio + (seen - ratio) / 4 : seen;
      k++;
    }
    return [charge, raw * ratio];
  });
}

function replay(bin, rows) {
  const out = execFileSync(bin, { input: rows.map((r) => r.join(' ')).join('\n') + '\n' }).toString();
  return out.trim().split('\n').map((l) => l.split(' ').map(Number));
}

function score(rows, est) {
  const skip = 4; // the first few teach the model its tokenizer
  let under = 0, worst = 0, abs = 0;
  const over = [];
  for (let i = skip; i < rows.length; i++) {
    const truth = rows[i][2];
    const [charge, mean] = est[i];
    if (charge < truth) { under++; worst = Math.max(worst, truth - charge); }
    abs += Math.abs(mean - truth);
    over.push(charge - truth);
  }
  return { under, worst, mean: abs / (rows.length - skip), p50: percentile(over, 50), max: Math.max(...over) };
}

const args = process.argv.slice(2);
const bin = args[args.indexOf('--replay') + 1];
if (!args.includes('--replay') || !bin) {
  console.error('usage: node bench/sim/estimates.mjs --replay PATH_TO_estimate_replay');
  process.exit(2);
}
console.log('| profile | tokenizer (bytes a token) | prompts | estimator | undercharged (worst) | mean abs error | charge above count p50 / max |');
console.log('|---|---:|---:|---|---:|---:|---:|');
for (const p of PROFILES) {
  const bodies = [];
  const clients = p.clients ?? 4;
  for (let c = 0; c < clients; c++) {
    const t = clientTraffic(p, c);
    for (let i = 0; i < PER_CLIENT; i++) {
      bodies.push(t.next().body);
      t.pauseMs();
    }
  }
  for (const ratio of [...new Set(p.models.map((m) => m.ratio))].sort()) {
    const rows = bodies.map((b) => [...ourCount(b), promptTokens(b, ratio)]);
    for (const [name, est] of [['one ratio (before)', oneRatio(rows)], ['filter (now)', replay(bin, rows)]]) {
      const s = score(rows, est);
      console.log(`| ${p.name} | ${ratio} | ${rows.length} | ${name} | ${s.under}${s.under ? ` (${s.worst})` : ''} | ${s.mean.toFixed(2)} | ${s.p50} / ${s.max} |`);
    }
  }
}
