// Small pieces every page uses: loading and error states, status dots with a label, the polling
// hook, and the theme.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';

// deps: values the load depends on (a window, a filter): a change loads again.
export function useData<T>(load: () => Promise<T>, pollMs = 0, deps: unknown[] = []): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () => load().then((d) => live && (setData(d), setError(null))).catch((e: Error) => live && setError(e.message));
    run();
    if (pollMs <= 0) return () => { live = false; };
    const t = setInterval(() => document.visibilityState === 'visible' && run(), pollMs);
    return () => { live = false; clearInterval(t); };
  }, [tick, ...deps]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

export function Problem({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div class="banner error" role="alert">
      <span>{error}</span>
      {retry && <button type="button" onClick={retry}>Retry</button>}
    </div>
  );
}

export function Loading() {
  return <p class="muted" aria-live="polite">Loading…</p>;
}

const STATUS_LABEL: Record<string, string> = {
  healthy: 'healthy', rate_limited: 'rate limited', invalid: 'invalid', error: 'error', unknown: 'not checked yet',
  ready: 'ready', nokey: 'no key', limited: 'limited',
};

export function Dot({ status }: { status: string }) {
  return (
    <span class={`dot dot-${status}`}>
      <span class="dot-mark" aria-hidden="true" />
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

export function Page({ title, children, intro }: { title: string; intro?: string; children: ComponentChildren }) {
  useEffect(() => { document.title = `${title} · FreeLLMAPI`; }, [title]);
  return (
    <section>
      <h1>{title}</h1>
      {intro && <p class="muted intro">{intro}</p>}
      {children}
    </section>
  );
}

export function when(ms: number | null): string {
  if (!ms) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleString();
}

export type Theme = 'system' | 'light' | 'dark';
export function applyTheme(t: Theme): void {
  const dark = t === 'dark' || (t === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  localStorage.setItem('theme', t);
}
export function savedTheme(): Theme {
  const t = localStorage.getItem('theme');
  return t === 'light' || t === 'dark' ? t : 'system';
}
