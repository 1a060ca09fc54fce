#!/usr/bin/env node
// Routing-quality simulator: runs traffic profiles concurrently against the
// real gateway binary with mock providers that enforce free-tier caps exactly,
// prints a table, writes a Markdown report, exits 1 when a target is missed.
//
//   node bench/sim/sim.mjs --bin build/freellmapi [--profile NAME[,NAME]] [--seconds N] [--out FILE]

import fs from 'node:fs';
import path from 'node:path';
import { PROFILES } from './profiles.mjs';
import { runProfile } from './run.mjs';
import { REPO_ROOT } from './gateway.mjs';
import { table, verdict, markdown, misses } from './report.mjs';

function parseArgs(argv) {
  const o = { bin: path.join(REPO_ROOT, 'build/freellmapi'), profiles: [], seconds: 70, out: path.join(REPO_ROOT, 'bench/sim/report.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--bin') o.bin = path.resolve(val());
    else if (a === '--profile') o.profiles.push(...val().split(','));
    else if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.seconds > 0 && o.seconds <= 600)) throw new Error('--seconds must be in (0, 600]');
  return o;
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`sim: ${e.message}`);
    return 2;
  }
  if (o.help) {
    console.log(`usage: node bench/sim/sim.mjs [--bin FILE] [--profile NAME[,NAME]] [--seconds N] [--out FILE]\nprofiles: ${PROFILES.map((p) => p.name).join(', ')}`);
    return 0;
  }
  try {
    fs.accessSync(o.bin, fs.constants.X_OK);
  } catch {
    console.error(`sim: gateway binary not found or not executable: ${o.bin}`);
    return 2;
  }
  const chosen = o.profiles.length ? o.profiles.map((n) => PROFILES.find((p) => p.name === n) ?? n) : PROFILES;
  const unknown = chosen.filter((p) => typeof p === 'string');
  if (unknown.length) {
    console.error(`sim: no such profile: ${unknown.join(', ')} (have ${PROFILES.map((p) => p.name).join(', ')})`);
    return 2;
  }
  const say = (s) => console.error(`sim: ${s}`);
  const built = fs.statSync(o.bin).mtime.toISOString().replace(/\.\d+Z$/, 'Z');
  say(`running ${chosen.map((p) => p.name).join(', ')} concurrently against ${o.bin}`);
  // the whole run is bounded too: traffic + start-up, drain and tear-down
  const watchdog = setTimeout(() => {
    console.error(`sim: still running after ${o.seconds + 120} s; giving up (children are killed on exit)`);
    process.exit(2);
  }, (o.seconds + 120) * 1000);
  watchdog.unref();
  const settled = await Promise.allSettled(chosen.map((p) => runProfile(p, { bin: o.bin, seconds: o.seconds, say })));
  const results = settled.map((s, i) => (s.status === 'fulfilled' ? s.value : { name: chosen[i].name, failed: String(s.reason?.message ?? s.reason).split('\n').slice(0, 6).join(' / ') }));
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  console.log(table(results));
  console.log('');
  console.log(verdict(results));
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, markdown(results, { bin: o.bin, built, seconds: o.seconds, when }));
  say(`report written to ${path.relative(process.cwd(), o.out) || o.out}`);
  for (const r of results) if (r.failed) say(`${r.name} did not run: ${r.failed}`);
  return results.some((r) => misses(r).length) ? 1 : 0;
}

// everything started is torn down on the way out (gateway.mjs kills children on exit)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`sim: ${e.stack ?? e}`);
    process.exit(2);
  },
);
