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
  usable: boolean; limited: boolean; chain_position: number;
}
export interface Settings { log_retention_days: number; probe_interval_s: number; pin_set: boolean }
export interface Added { key: Key; checked: boolean }
export interface Session { pin_set: boolean; authenticated: boolean }
export interface Status {
  version: string; uptime_s: number; providers: number; keys: number; models: number;
  models_enabled: number; pin_set: boolean;
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
  setEnabled: (m: Model, enabled: boolean) => call<{ model: Model }>('PATCH', `/models/${m.provider}/${m.id}`, { enabled }),
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
};
