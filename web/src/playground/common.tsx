// Pieces every playground tab shares: the model picker, the route of an answer, errors,
// a file drop zone, and a download link.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Model } from '../api';
import { fits, modelName, type Need, type Route } from './api';

// `auto` or one usable model that fits the tab; the value is "provider/model" (or "auto").
export function ModelPicker({ id, models, need, value, onChange, also }: {
  id: string; models: Model[]; need: Need | Need[]; value: string; onChange: (v: string) => void; also?: Need;
}) {
  const needs = Array.isArray(need) ? need : [need];
  const list = models.filter((m) => needs.every((n) => fits(m, n)) && (!also || fits(m, also)));
  const known = value === 'auto' || list.some((m) => modelName(m) === value);
  return (
    <div class="field">
      <label for={id}>Model</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="auto">auto (the gateway picks)</option>
        {!known && <option value={value}>{value} (not usable now)</option>}
        {list.map((m) => (
          <option key={modelName(m)} value={modelName(m)}>{m.name || m.id} · {m.provider}{m.limited ? ' (limited now)' : ''}</option>
        ))}
      </select>
      {list.length === 0 && <p class="muted small">No usable model has this capability now: auto may still find one, or answer why not.</p>}
    </div>
  );
}

export const attemptsText = (r: Route) =>
  r.fallovers === 0 ? '1 attempt' : `${r.fallovers + 1} attempts (${r.fallovers} fallover${r.fallovers === 1 ? '' : 's'})`;

export function RouteNote({ route, extra }: { route: Route | null; extra?: string }) {
  if (!route) return null;
  return (
    <p class="route small">
      <span class="muted">Served by</span> <code>{route.via ?? 'unknown'}</code> <span class="muted">·</span> {attemptsText(route)}
      {extra && <> <span class="muted">·</span> {extra}</>}
    </p>
  );
}

export function Failure({ error }: { error: string | null }) {
  if (!error) return null;
  return <div class="banner error" role="alert"><span><strong>Error:</strong> {error}</span></div>;
}

// A file input that also takes a file dropped on it; `accept` as for the input.
export function DropZone({ id, label, accept, onFile, children }: {
  id: string; label: string; accept: string; onFile: (f: File) => void; children?: ComponentChildren;
}) {
  const [over, setOver] = useState(false);
  return (
    <div class={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); const f = e.dataTransfer?.files[0]; if (f) onFile(f); }}>
      <label for={id}>{label}</label>
      <input id={id} type="file" accept={accept} onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) onFile(f); }} />
      <p class="muted small">{over ? 'Drop the file to use it.' : 'Choose a file, or drop one here.'}</p>
      {children}
    </div>
  );
}

export function Download({ href, name, label }: { href: string; name: string; label?: string }) {
  return <a class="download" href={href} download={name}>{label ?? `Download ${name}`}</a>;
}

// The status line of a running request, read out politely.
export function Status({ text }: { text: string }) {
  return <p class="muted small" role="status" aria-live="polite">{text}</p>;
}

// State kept at module level: it outlives the tab (and the page) while the app stays open, and
// a request still running when the user leaves the tab keeps writing into it.
export interface Store<T> { get: () => T; set: (change: Partial<T>) => void; use: () => T }
export function store<T extends object>(init: T): Store<T> {
  let value = init;
  const subs = new Set<(v: T) => void>();
  return {
    get: () => value,
    set: (change) => { value = { ...value, ...change }; subs.forEach((f) => f(value)); },
    use: () => {
      const [v, setV] = useState(value);
      useEffect(() => { subs.add(setV); setV(value); return () => { subs.delete(setV); }; }, []);
      return v;
    },
  };
}
