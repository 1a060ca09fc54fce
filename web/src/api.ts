// The admin API (docs/admin-api.md): one typed wrapper every page uses. Changes carry the
// same-origin proof the gateway asks for; errors come back with the API's own message.

export interface Provider {
  id: string; name: string; dialect: string; keyless: boolean; needs_account_id: boolean;
  enabled: boolean; key_url: string | null; docs_url: string | null; capabilities: string[];
  keys: number; healthy_keys: number;
}
export interface Key {
  id: number; provider: string; label: string; masked: string;
  status: 'healthy' | 'rate_limited' | 'invalid' | 'error' | 'unknown';
  status_detail: string | null; account_id: string | null; checked_at: number | null; enabled: boolean;
}
export interface Limits { rpm?: number; rpd?: number; tpm?: number; tpd?: number }
export interface Model {
  provider: string; id: string; name: string; kind: string; capabilities: string[];
  context_window: number; max_output_tokens: number; limits: Limits; usage: Required<Limits>; enabled: boolean;
  usable: boolean; limited: boolean; chain_position: number; pacing?: Pacing | null;
}
// A model paced through the day: the share of each daily cap (reserve) released only as the
// provider's day passes; allowed_now is what the paced caps allow at this moment.
export interface Pacing {
  reserve: number; allowed_now: { requests?: number; tokens?: number }; next_release_ms: number | null;
}
// log_content: PATCH takes it (Dashboard II); GET may or may not list it, so it is optional here.
export interface Settings { log_retention_days: number; probe_interval_s: number; pin_set: boolean; log_content?: boolean }
export interface Added { key: Key; checked: boolean }
export interface Session { pin_set: boolean; authenticated: boolean }
export interface Status {
  version: string; uptime_s: number; providers: number; keys: number; models: number;
  models_enabled: number; pin_set: boolean;
}

// Dashboard II: analytics, live requests, logs, diagnostics, budgets (docs/admin-api.md).
export type Period = '24h' | '7d' | '30d';
export type Diagnosis = 'rate_limited' | 'quota_exhausted' | 'invalid_key' | 'upstream_error' | 'timeout' | 'client_error';
export interface Breakdown {
  provider: string; requests: number; ok: number; success_rate: number | null; tokens_in: number; tokens_out: number;
  latency_p50_ms: number | null; latency_p95_ms: number | null; ttfb_p50_ms: number | null; fallbacks: number;
  savings_usd: number | null;
}
export interface Analytics {
  window: Period; from_ms: number; to_ms: number; bucket_ms: number;
  totals: {
    requests: number; ok: number; failed: number; success_rate: number | null; tokens_in: number; tokens_out: number;
    latency_p50_ms: number | null; latency_p95_ms: number | null; ttfb_p50_ms: number | null; ttfb_p95_ms: number | null;
    fallbacks: number; fallback_rate: number | null; savings_usd: number | null;
  };
  savings_basis: { text: string; priced_models: number | string[]; unpriced_tokens: number };
  series: {
    t: number[]; providers: string[]; requests: number[][]; latency_p50_ms: (number | null)[];
    latency_p95_ms: (number | null)[]; tokens_in: number[]; tokens_out: number[];
  };
  by_provider: Breakdown[];
  by_model: (Breakdown & { model: string })[];
}
// One finished request: an `event: request` of /api/live, or a row of /api/logs (which adds its id).
// provider/model/key_id are null when nothing was routed (e.g. a client error).
export interface RequestEvent {
  at_ms: number; endpoint: string; provider: string | null; model: string | null; key_id: number | null; status: number;
  latency_ms: number | null; ttfb_ms: number | null; tokens_in: number | null; tokens_out: number | null; attempts: number;
  error_class: string | null; diagnosis: Diagnosis | null; stream: boolean;
}
export interface LogRow extends RequestEvent { id: number }
export interface LogFilter {
  status?: string; provider?: string; model?: string; endpoint?: string; diagnosis?: string;
  since?: number; until?: number; before?: number; limit?: number;
}
export interface LogDetail {
  row: LogRow;
  attempts: { provider: string; model: string; key_id: number | null; verdict: string; status: number | null; latency_ms: number | null }[];
  content: { prompt: string | null; answer: string | null } | null;
}
export interface Diagnostics {
  providers: { provider: string; attempts: number; ok: number; success_rate: number | null; avg_latency_ms: number | null; rank: number }[];
  keys: {
    id: number; provider: string; label: string; status: Key['status']; checked_at: number | null; attempts: number;
    failures: number; last_failure: number | string | null;
  }[];
  recommendations: {
    id: string; severity: 'high' | 'medium' | 'low'; title: string; action: string;
    provider: string | null; model: string | null; key_id: number | null;
  }[];
}
export interface Budget {
  provider: string; id: string; name: string; limits: Limits; usage: Required<Limits>; keys: number | unknown[];
  remaining_today: { requests: number | null; tokens: number | null }; resets_at_ms: number | null;
  monthly_tokens: number | null; month_tokens_used: number; last_hour_requests: number; runs_out_at_ms: number | null;
  enabled: boolean; usable: boolean; limited: boolean; pacing: Pacing | null; held_by_pacing: boolean;
}
export interface Quarantine {
  provider: string; model: string | null; key_id: number | null; scope: 'pair' | 'key' | 'model'; reason: string; until_ms: number;
}
export interface Budgets {
  data: Budget[]; quarantines: Quarantine[];
  disabled: { models: string[]; keys: { id: number; provider: string; label: string }[] };
}

// The query string of a log filter (empty fields left out), for /api/logs and its export.
export function logQuery(f: LogFilter & { format?: 'csv' | 'jsonl' }): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | null, readonly retryAfter: number) {
    super(message);
  }
}

// Set when the gateway answers 401 session_required: the app shows the lock screen.
let onLocked: () => void = () => {};
export function whenLocked(fn: () => void): void {
  onLocked = fn;
}
// For fetches made outside call() (the playground's /api/v1): a 401 session_required locks too.
export function lockedNow(): void {
  onLocked();
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['X-FreeLLMAPI-Admin'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (r.status === 204) return undefined as T;
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    const e = data?.error ?? {};
    if (r.status === 401 && e.code === 'session_required') onLocked();
    throw new ApiError(e.message ?? `HTTP ${r.status}`, r.status, e.code ?? null, Number(r.headers.get('Retry-After') ?? 0));
  }
  return data as T;
}

export const api = {
  status: () => call<Status>('GET', '/status'),
  providers: () => call<{ data: Provider[] }>('GET', '/providers').then((r) => r.data),
  keys: () => call<{ data: Key[] }>('GET', '/keys').then((r) => r.data),
  addKey: (k: { provider: string; secret: string; label?: string; account_id?: string }) => call<Added>('POST', '/keys', k),
  removeKey: (id: number) => call<void>('DELETE', `/keys/${id}`),
  checkKey: (id: number) => call<{ scheduled: boolean }>('POST', `/keys/${id}/check`),
  updateKey: (id: number, change: { label?: string; enabled?: boolean }) => call<{ data: Key[] }>('PATCH', `/keys/${id}`, change),
  unifiedMasked: () => call<{ masked: string | null }>('GET', '/unified-key'),
  revealUnified: () => call<{ key: string }>('POST', '/unified-key/reveal'),
  rotateUnified: () => call<{ key: string }>('POST', '/unified-key/rotate'),
  models: () => call<{ data: Model[] }>('GET', '/models').then((r) => r.data),
  setEnabled: (m: { provider: string; id: string }, enabled: boolean) => call<{ model: Model }>('PATCH', `/models/${m.provider}/${m.id}`, { enabled }),
  // reserve null: pacing off.
  setPacing: (m: { provider: string; id: string }, reserve: number | null) =>
    call<{ model: Model }>('PATCH', `/models/${m.provider}/${m.id}`, { pacing: reserve == null ? null : { reserve } }),
  chain: () => call<{ data: string[] }>('GET', '/chain').then((r) => r.data),
  setChain: (order: string[]) => call<{ data: string[] }>('PUT', '/chain', { order }).then((r) => r.data),
  resetChain: () => call<{ data: string[] }>('DELETE', '/chain').then((r) => r.data),
  settings: () => call<Settings>('GET', '/settings'),
  saveSettings: (change: Partial<Omit<Settings, 'pin_set'>>) => call<Settings>('PATCH', '/settings', change),
  session: () => call<Session>('GET', '/session'),
  login: (pin: string) => call<Session>('POST', '/session', { pin }),
  logout: () => call<Session>('DELETE', '/session'),
  setPin: (pin: string) => call<Session>('PUT', '/pin', { pin }),
  clearPin: () => call<Session>('DELETE', '/pin'),
  analytics: (w: Period) => call<Analytics>('GET', `/analytics?window=${w}`),
  logs: (f: LogFilter) => call<{ data: LogRow[]; next_before: number | null }>('GET', `/logs?${logQuery(f)}`),
  log: (id: number) => call<LogDetail>('GET', `/logs/${id}`),
  diagnostics: (w: Period) => call<Diagnostics>('GET', `/diagnostics?window=${w}`),
  budgets: () => call<Budgets>('GET', '/budgets'),
  release: (q: { provider: string; model?: string; key_id?: number }) => call<{ released: number }>('DELETE', '/quarantines', q),
};
export const exportUrl = (format: 'csv' | 'jsonl', f: LogFilter) => `/api/logs/export?${logQuery({ format, ...f })}`;
