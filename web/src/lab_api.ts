// Dashboard III's admin API for the Test Lab and the integrations page (docs/admin-api.md):
// sweeps, manual quarantine, and the raw `/api/v1/<path>` request the lab's inspector shows in full.
import { call } from './api';

export type SweepState = 'running' | 'done' | 'cancelled';
export type ResultStatus = 'pending' | 'ok' | 'failed' | 'skipped';
export interface SweepResult {
  provider: string; model: string; kind: string; status: ResultStatus; error_class: string | null;
  message: string | null; latency_ms: number | null; quarantined: boolean;
}
export interface Sweep {
  id: number | string; state: SweepState; started_ms: number; finished_ms: number | null;
  budget: number; used: number; total: number; done: number; results: SweepResult[];
}
export interface ManualQuarantine {
  provider: string; model: string; reason: string | null; since_ms?: number; manual?: boolean;
}

export const lab = {
  startSweep: (body: { models: string[]; budget: number }) => call<Sweep>('POST', '/sweeps', body),
  // The running or last sweep; null when none ran since the gateway started (204).
  currentSweep: () => call<Sweep | undefined>('GET', '/sweeps/current').then((s) => s ?? null),
  cancelSweep: () => call<Sweep>('DELETE', '/sweeps/current'),
  quarantine: (q: { provider: string; model: string; reason: string }) =>
    call<{ quarantine: ManualQuarantine }>('POST', '/quarantines', q),
};

// ---- the inspector's raw request -----------------------------------------------------------

export interface Sent { method: string; url: string; headers: [string, string][]; body: string | null }
export interface Received {
  status: number; statusText: string; headers: [string, string][]; contentType: string;
  kind: 'json' | 'text' | 'stream' | 'binary';
  text: string; // JSON pretty-printed, text and streams as they arrive; empty for binary
  size: number; // bytes of the body read so far
  blobUrl: string | null; // binary bodies: a local object URL to download it
  headersMs: number; firstByteMs: number | null; totalMs: number | null;
  error: string | null; // the body could not be read to its end (aborted, cut)
}

// The path after `/api/v1/`, from what the user typed ("/v1/models", "models", "api/v1/models"…);
// null for one that would leave /api/v1 ("..").
export function v1Path(typed: string): string | null {
  const p = typed.trim().replace(/^\/+/, '').replace(/^api\/v1\//, '').replace(/^v1\//, '');
  if (p === '' || /^[?#]/.test(p)) return null;
  if (p.split(/[?#]/)[0].split('/').some((s) => s === '..' || s === '.' || /%2e/i.test(s) || s.includes('\\'))) return null;
  return p;
}

const isBinary = (ct: string) =>
  /^(audio|image|video)\//.test(ct) || ct.startsWith('application/octet-stream') || ct.startsWith('application/zip');

// Sends one request to `/api/v1/<path>`; `update` sees the answer grow (headers first, then each
// chunk of the body) until it is whole. The unified key is applied by the server, never here.
export async function send(
  req: { method: string; path: string; body: string | null }, signal: AbortSignal,
  update: (sent: Sent, got: Received | null) => void,
): Promise<void> {
  const headers: [string, string][] = [['X-FreeLLMAPI-Admin', '1']];
  const withBody = req.body !== null && req.method !== 'GET' && req.method !== 'HEAD';
  if (withBody) headers.push(['Content-Type', 'application/json']);
  const sent: Sent = { method: req.method, url: `${location.origin}/api/v1/${req.path}`, headers, body: withBody ? req.body : null };
  update(sent, null);
  const t0 = performance.now();
  const r = await fetch(`/api/v1/${req.path}`, {
    method: req.method, headers: Object.fromEntries(headers), body: withBody ? req.body : undefined,
    credentials: 'same-origin', signal, cache: 'no-store',
  });
  const contentType = r.headers.get('Content-Type') ?? '';
  const kind: Received['kind'] = contentType.startsWith('text/event-stream') ? 'stream'
    : isBinary(contentType) ? 'binary' : /json/.test(contentType) ? 'json' : 'text';
  const got: Received = {
    status: r.status, statusText: r.statusText, headers: [...r.headers.entries()], contentType, kind, text: '', size: 0,
    blobUrl: null, headersMs: performance.now() - t0, firstByteMs: null, totalMs: null, error: null,
  };
  update(sent, { ...got });
  // A session that ended: let the shell show the lock screen (the admin API's own wrapper does).
  if (r.status === 401) call('GET', '/status').catch(() => {});
  const chunks: Uint8Array[] = [];
  const decoder = new TextDecoder();
  try {
    const reader = r.body?.getReader();
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      got.firstByteMs ??= performance.now() - t0;
      got.size += value.byteLength;
      if (kind === 'binary') chunks.push(value);
      else got.text += decoder.decode(value, { stream: true });
      if (kind === 'stream') update(sent, { ...got });
    }
    if (kind !== 'binary') got.text += decoder.decode();
  } catch (e) {
    got.error = (e as Error).name === 'AbortError' ? 'Stopped: the rest of the answer was not read.' : (e as Error).message;
  }
  got.totalMs = performance.now() - t0;
  if (kind === 'binary') got.blobUrl = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: contentType }));
  if (kind === 'json' && !got.error) {
    try {
      got.text = JSON.stringify(JSON.parse(got.text), null, 2);
    } catch {
      // not JSON after all: shown as it came
    }
  }
  update(sent, got);
}
