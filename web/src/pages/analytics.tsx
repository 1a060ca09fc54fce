// Analytics: what the gateway served over a window (24 h, 7 d, 30 d) from the server's rollups:
// summary figures, three charts (uPlot, loaded with this page only) and the figures by provider
// and by model. Each chart says what it shows in words and can be read as a table.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, type Analytics, type Breakdown, type Period } from '../api';
import { Loading, Page, Problem, useData } from '../ui';
import { ms, num, pct, SortTable, stamp, usd, WindowSwitch, type Column } from '../shared';

const HEIGHT = 220;
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

// The theme's colours, read when a chart is drawn (again when the theme changes).
interface Palette { muted: string; line: string; colors: string[] }
function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return { muted: v('--muted'), line: v('--line'), colors: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => v(`--chart-${i}`)) };
}
const fade = (c: string, a: number) => (/^#[0-9a-f]{6}$/i.test(c) ? c + Math.round(a * 255).toString(16).padStart(2, '0') : c);
const color = (p: Palette, i: number) => p.colors[i % p.colors.length] || p.muted;

// What a chart draws: the series after the time axis, their data, bands between series, the y unit.
interface Spec { series: uPlot.Series[]; data: uPlot.AlignedData; bands?: uPlot.Band[]; unit: (v: number) => string }
type Make = (a: Analytics, p: Palette) => Spec;
const shown = (f: (v: number | null) => string) => (_u: uPlot, v: number | null) => f(v);

// Requests by provider, stacked: each line is the running sum up to its provider, the band under
// it filled; the legend shows each provider's own count.
const requestsSpec: Make = (a, p) => {
  const sums = a.series.t.map(() => 0);
  const lines = a.series.requests.map((row) => row.map((v, i) => (sums[i] += v ?? 0)));
  return {
    data: [a.series.t, ...lines],
    series: a.series.providers.map((name, k) => ({
      label: name, stroke: color(p, k), fill: fade(color(p, k), 0.35), width: 1.5,
      value: (_u: uPlot, _v: number, _s: number, i: number | null) => (i == null ? '—' : num(a.series.requests[k][i])),
    })),
    bands: lines.slice(1).map((_, k) => ({ series: [k + 2, k + 1] as [number, number] })),
    unit: (v) => compact.format(v),
  };
};
const latencySpec: Make = (a, p) => ({
  data: [a.series.t, a.series.latency_p50_ms, a.series.latency_p95_ms],
  series: [
    // Points too: a bucket between two empty ones has no line to draw.
    { label: 'p50', stroke: color(p, 0), width: 2, value: shown(ms), points: { show: true, size: 5 } },
    { label: 'p95', stroke: color(p, 1), width: 2, dash: [6, 4], value: shown(ms), points: { show: true, size: 5 } },
  ],
  unit: ms,
});
const tokensSpec: Make = (a, p) => ({
  data: [a.series.t, a.series.tokens_in, a.series.tokens_out],
  series: [
    { label: 'in', stroke: color(p, 2), fill: fade(color(p, 2), 0.15), width: 2, value: shown(num) },
    { label: 'out', stroke: color(p, 3), width: 2, dash: [6, 4], value: shown(num) },
  ],
  unit: (v) => compact.format(v),
});

function Chart({ a, make, title, summary, table }: {
  a: Analytics; make: Make; title: string; summary: string; table: () => preact.JSX.Element;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let u: uPlot | null = null;
    let width = 0;
    const draw = () => {
      u?.destroy();
      const p = palette();
      const spec = make(a, p);
      const axis = { stroke: p.muted, grid: { stroke: p.line, width: 1 }, ticks: { stroke: p.line, width: 1 } };
      width = el.clientWidth;
      u = new uPlot({
        width, height: HEIGHT, ms: 1, series: [{}, ...spec.series], bands: spec.bands,
        scales: { x: { time: true, range: [a.from_ms, a.to_ms] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
        axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map(spec.unit) }],
        cursor: { drag: { x: false, y: false } },
      }, spec.data, el);
    };
    draw();
    // Follow the container's width (a phone turned, the menu opened) and the theme.
    const resize = new ResizeObserver(() => {
      if (u && el.clientWidth !== width) { width = el.clientWidth; u.setSize({ width, height: HEIGHT }); }
    });
    resize.observe(el);
    const theme = new MutationObserver(draw);
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => { resize.disconnect(); theme.disconnect(); u?.destroy(); };
  }, [a, make]);
  return (
    <figure class="card chart">
      <figcaption><h2>{title}</h2></figcaption>
      <div ref={box} class="plot" role="img" aria-label={summary} />
      <details onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Show the data as a table</summary>
        {open && table()}
      </details>
    </figure>
  );
}

// A chart's figures by bucket: one row per bucket start.
function SeriesTable({ a, caption, heads, cell }: {
  a: Analytics; caption: string; heads: string[]; cell: (i: number) => (string | number)[];
}) {
  return (
    <div class="table-wrap">
      <table class="grid">
        <caption>{caption}</caption>
        <thead><tr><th scope="col">Bucket from</th>{heads.map((h) => <th scope="col" class="num" key={h}>{h}</th>)}</tr></thead>
        <tbody>
          {a.series.t.map((t, i) => (
            <tr key={t}><th scope="row">{stamp(t)}</th>{cell(i).map((v, j) => <td class="num" key={j}>{v}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const bucketName = (b: number) => (b < 3600000 ? `${Math.round(b / 60000)}-minute` : `${Math.round(b / 3600000)}-hour`);
// The bucket with the highest value, in words.
function peak(a: Analytics, values: (number | null)[], f: (v: number) => string): string {
  let best = -1;
  values.forEach((v, i) => { if (v != null && (best < 0 || v > (values[best] ?? 0))) best = i; });
  return best < 0 ? 'no data' : `highest ${f(values[best] ?? 0)} in the bucket from ${stamp(a.series.t[best])}`;
}
const range = (vs: (number | null)[], f: (v: number) => string) => {
  const xs = vs.filter((v): v is number => v != null);
  return xs.length ? `from ${f(Math.min(...xs))} to ${f(Math.max(...xs))}` : 'no samples';
};

const COLUMNS: Column<Breakdown>[] = [
  { key: 'requests', label: 'Requests', value: (r) => r.requests, num: true },
  { key: 'success', label: 'Success', value: (r) => r.success_rate, show: (r) => pct(r.success_rate), num: true },
  { key: 'in', label: 'Tokens in', value: (r) => r.tokens_in, num: true },
  { key: 'out', label: 'Tokens out', value: (r) => r.tokens_out, num: true },
  { key: 'p50', label: 'Latency p50', value: (r) => r.latency_p50_ms, show: (r) => ms(r.latency_p50_ms), num: true },
  { key: 'p95', label: 'Latency p95', value: (r) => r.latency_p95_ms, show: (r) => ms(r.latency_p95_ms), num: true },
  { key: 'ttfb', label: 'First byte p50', value: (r) => r.ttfb_p50_ms, show: (r) => ms(r.ttfb_p50_ms), num: true },
  { key: 'fallbacks', label: 'Fallbacks', value: (r) => r.fallbacks, num: true },
  { key: 'savings', label: 'Est. savings', value: (r) => r.savings_usd, show: (r) => usd(r.savings_usd), num: true },
];
const PROVIDER: Column<Breakdown> = { key: 'provider', label: 'Provider', value: (r) => r.provider, row: true };
const MODEL: Column<Breakdown & { model: string }> = { key: 'model', label: 'Model', value: (r) => r.model, row: true };

function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return <div class="stat"><dt>{label}</dt><dd>{value}{note && <span class="muted small"> {note}</span>}</dd></div>;
}

function Report({ a }: { a: Analytics }) {
  const t = a.totals;
  const s = a.series;
  const every = `${bucketName(a.bucket_ms)} buckets from ${stamp(a.from_ms)} to ${stamp(a.to_ms)}`;
  const perProvider = s.providers.map((p, k) => [p, s.requests[k].reduce((x, v) => x + (v ?? 0), 0)] as const)
    .sort((x, y) => y[1] - x[1]);
  const totalsBy = s.t.map((_, i) => s.requests.reduce((x, row) => x + (row[i] ?? 0), 0));
  const priced = a.savings_basis.priced_models;
  const pricedCount = Array.isArray(priced) ? priced.length : priced;
  return (<>
    <dl class="stats">
      <Stat label="Requests" value={num(t.requests)} note={`${num(t.ok)} ok, ${num(t.failed)} failed`} />
      <Stat label="Success rate" value={pct(t.success_rate)} />
      <Stat label="Tokens in / out" value={`${num(t.tokens_in)} / ${num(t.tokens_out)}`} />
      <Stat label="Latency p50 / p95" value={`${ms(t.latency_p50_ms)} / ${ms(t.latency_p95_ms)}`} />
      <Stat label="First byte p50 / p95" value={`${ms(t.ttfb_p50_ms)} / ${ms(t.ttfb_p95_ms)}`} />
      <Stat label="Fallback rate" value={pct(t.fallback_rate)} note={`${num(t.fallbacks)} requests needed another try`} />
      <Stat label="Estimated savings" value={t.savings_usd == null ? '—' : `≈ ${usd(t.savings_usd)}`} note="(estimate)" />
    </dl>
    <p class="muted small basis">
      Savings estimate: {a.savings_basis.text} Priced models: {num(pricedCount)}.
      {a.savings_basis.unpriced_tokens > 0 && ` ${num(a.savings_basis.unpriced_tokens)} tokens on models without a price are not counted.`}
    </p>
    {t.requests === 0 ? <p class="empty">No requests in this window.</p> : (<>
      <Chart a={a} make={requestsSpec} title="Requests by provider"
        summary={`Requests stacked by provider in ${every}: ${num(t.requests)} in all (${perProvider.map(([p, n]) => `${p} ${num(n)}`).join(', ')}); ${peak(a, totalsBy, num)}.`}
        table={() => <SeriesTable a={a} caption="Requests by provider per bucket" heads={[...s.providers, 'All']}
          cell={(i) => [...s.requests.map((row) => num(row[i])), num(totalsBy[i])]} />} />
      <Chart a={a} make={latencySpec} title="Latency p50 / p95"
        summary={`Latency in ${every}: p50 ${range(s.latency_p50_ms, ms)}, p95 ${range(s.latency_p95_ms, ms)} (solid line p50, dashed p95).`}
        table={() => <SeriesTable a={a} caption="Latency per bucket" heads={['p50', 'p95']}
          cell={(i) => [ms(s.latency_p50_ms[i]), ms(s.latency_p95_ms[i])]} />} />
      <Chart a={a} make={tokensSpec} title="Tokens in / out"
        summary={`Tokens in ${every}: ${num(t.tokens_in)} in, ${peak(a, s.tokens_in, num)}; ${num(t.tokens_out)} out, ${peak(a, s.tokens_out, num)} (solid line in, dashed out).`}
        table={() => <SeriesTable a={a} caption="Tokens per bucket" heads={['In', 'Out']}
          cell={(i) => [num(s.tokens_in[i]), num(s.tokens_out[i])]} />} />
      <SortTable caption="By provider" columns={[PROVIDER, ...COLUMNS]} rows={a.by_provider} rowKey={(r) => r.provider} sort={['requests', -1]} />
      <SortTable caption="By model" columns={[MODEL, { ...PROVIDER, row: false }, ...COLUMNS]}
        rows={a.by_model} rowKey={(r) => `${r.provider}/${r.model}`} sort={['requests', -1]} />
    </>)}
  </>);
}

export function AnalyticsPage() {
  const [period, setPeriod] = useState<Period>('24h');
  const data = useData(() => api.analytics(period), 0, [period]);
  return (
    <Page title="Analytics" intro="What the gateway served: requests, latency, tokens and what the same calls would have cost on paid plans.">
      <WindowSwitch value={period} onChange={setPeriod} />
      {data.error && <Problem error={data.error} retry={data.reload} />}
      {!data.data ? !data.error && <Loading /> : (
        <div aria-busy={data.data.window !== period}><Report a={data.data} /></div>
      )}
    </Page>
  );
}
