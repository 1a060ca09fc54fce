// Pieces the analytics, live, logs and budgets pages share: number and time formats, the
// window switch, a sortable table, and the diagnosis badge.
import { useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Diagnosis, Period } from './api';

export const num = (n: number | null | undefined) => (n == null ? '—' : n.toLocaleString());
export const pct = (r: number | null | undefined) => (r == null ? '—' : `${(r * 100).toFixed(r === 1 || r === 0 ? 0 : 1)} %`);
export const ms = (n: number | null | undefined) =>
  n == null ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
export const usd = (n: number | null | undefined) =>
  n == null ? '—' : n.toLocaleString(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: n < 1 ? 4 : 2 });

// Local times: a clock (seconds), an hour and minute, a short date with the time.
export const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const hhmm = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
export const stamp = (t: number) =>
  new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
// A datetime-local input's value (local time) as epoch ms; undefined when empty or unreadable.
export const fromLocalInput = (v: string): number | undefined => {
  const t = v ? new Date(v).getTime() : NaN;
  return Number.isFinite(t) ? t : undefined;
};

export const PERIODS: [Period, string][] = [['24h', '24 h'], ['7d', '7 d'], ['30d', '30 d']];

// A row of toggle buttons, one pressed: the analytics and diagnostics window.
export function WindowSwitch({ value, onChange, label = 'Window' }: { value: Period; onChange: (p: Period) => void; label?: string }) {
  return (
    <div class="switch" role="group" aria-label={label}>
      {PERIODS.map(([p, text]) => (
        <button key={p} type="button" aria-pressed={p === value} onClick={() => onChange(p)}>{text}</button>
      ))}
    </div>
  );
}

const DIAGNOSIS: Record<Diagnosis, [string, 'warn' | 'bad']> = {
  rate_limited: ['rate limited', 'warn'], quota_exhausted: ['quota exhausted', 'warn'], invalid_key: ['invalid key', 'bad'],
  upstream_error: ['upstream error', 'bad'], timeout: ['timeout', 'bad'], client_error: ['client error', 'warn'],
};
export const DIAGNOSES = Object.keys(DIAGNOSIS) as Diagnosis[];
export const diagnosisText = (d: Diagnosis | string) => DIAGNOSIS[d as Diagnosis]?.[0] ?? d.replace(/_/g, ' ');

// A failed request's diagnosis in words (the colour only repeats it); nothing for a success.
export function Badge({ d }: { d: Diagnosis | string | null }) {
  if (!d) return null;
  return <span class={`badge badge-${DIAGNOSIS[d as Diagnosis]?.[1] ?? 'bad'}`}>{diagnosisText(d)}</span>;
}

export interface Column<T> {
  key: string;
  label: string;
  value: (r: T) => string | number | null;
  show?: (r: T) => ComponentChildren; // the cell; the value, formatted, without it
  num?: boolean; // right-aligned, sorted high to low first
  row?: boolean; // the row's header cell
}

// A table sorted by the column whose header button was last pressed (again: the other way);
// without `sort`, in the order given until one is. Empty values sort last either way.
export function SortTable<T>({ caption, columns, rows, rowKey, sort }: {
  caption: string; columns: Column<T>[]; rows: T[]; rowKey: (r: T) => string | number; sort?: [string, 1 | -1];
}) {
  const [[key, dir], setSort] = useState<[string, 1 | -1]>(sort ?? ['', 1]);
  const col = columns.find((c) => c.key === key);
  const sorted = !col ? rows : [...rows].sort((a, b) => {
    const x = col.value(a), y = col.value(b);
    if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
  });
  const press = (c: Column<T>) => setSort(c.key === key ? [key, dir === 1 ? -1 : 1] : [c.key, c.num ? -1 : 1]);
  return (
    <div class="table-wrap">
      <table class="grid">
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" class={c.num ? 'num' : undefined}
                aria-sort={c.key === key ? (dir === 1 ? 'ascending' : 'descending') : undefined}>
                <button type="button" class="sort" onClick={() => press(c)}>
                  {c.label}<span aria-hidden="true" class="arrow">{c.key === key ? (dir === 1 ? '▲' : '▼') : '↕'}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => {
                const v = c.show ? c.show(r) : typeof c.value(r) === 'number' ? num(c.value(r) as number) : c.value(r) ?? '—';
                return c.row ? <th key={c.key} scope="row">{v}</th> : <td key={c.key} class={c.num ? 'num' : undefined}>{v}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
