// Renders profile results: the table, the targets verdict, and the Markdown
// report with a per-profile breakdown (per pair: attempts, 2xx, 429, 413).

const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)} %` : '–');
const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x)} ms`);

/** What a profile missed: [] when every target is met. */
export function misses(r) {
  if (r.failed) return [`did not run: ${r.failed}`];
  const out = [];
  if (r.caused429) out.push(`${r.caused429} upstream 429`);
  if (r.caused413) out.push(`${r.caused413} upstream 413`);
  if (r.refusedWhileRoom) out.push(`${r.refusedWhileRoom} refused while room`);
  return out;
}

export function table(results) {
  const rows = [
    '| profile | requests | served | upstream attempts | 429 caused | 413 caused | refused while room | attempts/served | p50 added |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    if (r.failed) {
      rows.push(`| ${r.name} | – | – | – | – | – | – | – | – |`);
      continue;
    }
    rows.push(
      `| ${r.name} | ${r.requests} | ${r.served} (${pct(r.served, r.requests)}) | ${r.attempts} | ${r.caused429}${r.outside ? ` (+${r.shared429} on shared keys)` : ''} | ${r.caused413} | ${r.refusedWhileRoom} of ${r.refused}${r.refusedExactFit ? ` (+${r.refusedExactFit} exact fit)` : ''} | ${r.served ? (r.attempts / r.served).toFixed(2) : '–'} | ${ms(r.p50AddedMs)} |`,
    );
  }
  return rows.join('\n');
}

export function verdict(results) {
  const bad = results.map((r) => [r.name, misses(r)]).filter(([, m]) => m.length);
  return bad.length ? `targets: MISSED (${bad.map(([n, m]) => `${n}: ${m.join(', ')}`).join('; ')})` : 'targets: met';
}

function breakdown(r) {
  const lines = [`### ${r.name}`, ''];
  if (r.failed) return [...lines, `Did not run: ${r.failed}`, ''].join('\n');
  const other = Object.entries(r.errors).map(([k, v]) => `${v}× ${k}`).join(', ');
  lines.push(
    `${r.requests} requests in ${(r.wallMs / 1000).toFixed(0)} s: ${r.served} served, ${r.refused} refused (${r.refused429}× 429, ${r.refused503}× 503)${other ? `, other: ${other}` : ''}. ` +
      `p50 client latency ${ms(r.p50ClientMs)}, p50 added by the gateway ${ms(r.p50AddedMs)}; ${r.probes} health probes (not counted).`,
    '',
  );
  if (r.outside) lines.push(`Outside usage: ${r.outside}; ${r.shared429} upstream 429s on those keys are reported apart and not held against the gateway.`, '');
  lines.push('| pair | attempts | 2xx | 429 | 413 | refusals by cap |', '|---|---:|---:|---:|---:|---|');
  for (const p of r.pairs) {
    const kinds = Object.entries(p.kinds).map(([k, v]) => `${k}: ${v}${p.early?.[k] !== undefined ? ` (room ≤ ${p.early[k]} ms later)` : ''}`).join(', ');
    lines.push(`| ${p.pair} | ${p.attempts} | ${p.ok} | ${p.r429} | ${p.r413} | ${kinds || '–'} |`);
  }
  if (r.roomExamples.length) {
    lines.push('', `Refused while room: ${r.refusedWhileRoom}, by the first model found with room: ${r.roomBy.map(([m, n]) => `${m} ${n}`).join(', ')}. For example:`);
    for (const e of r.roomExamples) lines.push(`- \`${e.id}\` got ${e.status}${e.named ? ` (asked for ${e.named} only)` : ''}; ${e.room} had room. The gateway said: ${e.said ?? '–'}`);
  }
  if (r.exactExamples?.length) {
    lines.push('', `Refused at an exact fit (room within the estimate's precision, not counted against the target): ${r.refusedExactFit}. For example:`);
    for (const e of r.exactExamples) lines.push(`- \`${e.id}\` got ${e.status}${e.named ? ` (asked for ${e.named} only)` : ''}; ${e.room} had room only within it`);
  }
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  lines.push('');
  return lines.join('\n');
}

export function markdown(results, meta) {
  return [
    '# Routing-quality simulation',
    '',
    `Gateway \`${meta.bin}\` (built ${meta.built}), ${meta.seconds} s of traffic per profile, run ${meta.when}. See bench/sim/README.md for what each column means.`,
    '',
    table(results),
    '',
    verdict(results),
    '',
    '## Per profile',
    '',
    ...results.map(breakdown),
  ].join('\n');
}
