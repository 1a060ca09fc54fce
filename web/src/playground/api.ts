// The playground's way to the gateway: /api/v1/<path> is /v1/<path> with the unified key applied
// by the server (docs/admin-api.md, Dashboard III), so the page never holds a key. Every POST
// carries the admin header; errors come back with the API's own message; each answer says which
// model served it and how many attempts it took (X-Routed-Via, X-Fallback-Attempts).
import { ApiError, lockedNow, type Model } from '../api';

export interface Route { via: string | null; fallovers: number }

// The route of an answer: X-Fallback-Attempts absent means no fallover.
export function routeOf(r: Response): Route {
  const n = Number(r.headers.get('X-Fallback-Attempts') ?? 0);
  return { via: r.headers.get('X-Routed-Via'), fallovers: Number.isFinite(n) && n > 0 ? n : 0 };
}

const base = (path: string) => `/api/v1${path}`;

// A failed answer as an ApiError with the gateway's message (JSON error, else the text, else the status).
async function failure(r: Response): Promise<ApiError> {
  const text = await r.text().catch(() => '');
  let e: { message?: string; code?: string } = {};
  try { e = JSON.parse(text)?.error ?? {}; } catch { /* not JSON */ }
  if (r.status === 401 && e.code === 'session_required') lockedNow();
  const msg = e.message ?? (text.trim().slice(0, 300) || `HTTP ${r.status} ${r.statusText}`);
  return new ApiError(msg, r.status, e.code ?? null, Number(r.headers.get('Retry-After') ?? 0));
}

// POST a JSON or multipart body; the raw response when it is 2xx, else the API's error.
export async function send(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { 'X-FreeLLMAPI-Admin': '1' };
  const form = body instanceof FormData;
  if (!form) headers['Content-Type'] = 'application/json';
  const r = await fetch(base(path), {
    method: 'POST', headers, body: form ? body : JSON.stringify(body), credentials: 'same-origin', signal,
  });
  if (!r.ok) throw await failure(r);
  return r;
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<{ data: T; route: Route }> {
  const r = await send(path, body, signal);
  return { data: (await r.json()) as T, route: routeOf(r) };
}

// ---- OpenAI wire shapes (the parts the playground uses) -------------------------------------

export type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export interface ToolCall { id: string; type: 'function'; function: { name: string; arguments: string } }
export type Message =
  | { role: 'system' | 'user'; content: string | Part[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };
export interface Completion {
  model?: string;
  choices: { index: number; finish_reason: string | null; message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] } }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

// Streams a chat completion: onDelta gets each piece of text as it arrives. Resolves with the
// route once [DONE] (or the end of the stream) is reached; an error event in the stream rejects.
// onRoute gets the route as soon as the headers are in.
export async function streamChat(
  body: Record<string, unknown>, signal: AbortSignal, onDelta: (text: string) => void, onRoute?: (r: Route) => void,
): Promise<Route> {
  const r = await send('/chat/completions', { ...body, stream: true }, signal);
  const route = routeOf(r);
  onRoute?.(route);
  if (!r.body) throw new Error('The answer had no body.');
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const line = (l: string): boolean => {
    if (!l.startsWith('data:')) return false; // comments, event names, ids
    const d = l.slice(5).trim();
    if (d === '[DONE]') return true;
    let ev: { error?: { message?: string }; choices?: { delta?: { content?: string | null } }[] };
    try { ev = JSON.parse(d); } catch { return false; }
    if (ev.error) throw new Error(ev.error.message ?? 'The stream ended with an error.');
    const t = ev.choices?.[0]?.delta?.content;
    if (t) onDelta(t);
    return false;
  };
  for (;;) {
    const { done, value } = await reader.read();
    buf += dec.decode(value ?? new Uint8Array(), { stream: !done });
    let i: number;
    while ((i = buf.search(/\r?\n/)) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(buf[i] === '\r' ? i + 2 : i + 1);
      if (line(l)) { reader.cancel().catch(() => {}); return route; }
    }
    if (done) { if (buf) line(buf); return route; }
  }
}

// ---- models ---------------------------------------------------------------------------------

// What each tab needs of a model: a capability and, for media endpoints, the model's kind
// (the gateway refuses a model of another kind by name, e.g. a realtime model for speech).
export interface Need { cap: string; kind?: string }
export const NEEDS = {
  chat: { cap: 'chat', kind: 'chat' }, vision: { cap: 'vision', kind: 'chat' }, tools: { cap: 'tools', kind: 'chat' },
  embeddings: { cap: 'embeddings', kind: 'embedding' }, image: { cap: 'image', kind: 'image' },
  image_edit: { cap: 'image_edit', kind: 'image' }, tts: { cap: 'tts', kind: 'tts' }, stt: { cap: 'stt', kind: 'stt' },
  realtime: { cap: 'realtime', kind: 'realtime' },
} satisfies Record<string, Need>;

export const fits = (m: Model, n: Need) => m.usable && m.capabilities.includes(n.cap) && (!n.kind || m.kind === n.kind);
export const modelName = (m: Model) => `${m.provider}/${m.id}`;

// ---- the example tool set (Tools tab and realtime voice) ------------------------------------

export const TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather', description: 'The current weather in a city.',
      parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name, e.g. Oslo' } }, required: ['city'] },
    },
  },
  {
    type: 'function' as const,
    function: {
      name: 'add', description: 'Adds two numbers.',
      parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    },
  },
];

// The example implementations: canned answers, as JSON text.
export function runTool(name: string, args: Record<string, unknown>): string {
  if (name === 'get_weather') {
    const city = typeof args.city === 'string' && args.city ? args.city : 'Unknown';
    return JSON.stringify({ city, temperature_c: 14, conditions: 'light rain', wind_kph: 18, source: 'playground example' });
  }
  if (name === 'add') {
    const a = Number(args.a), b = Number(args.b);
    return JSON.stringify(Number.isFinite(a) && Number.isFinite(b) ? { result: a + b } : { error: 'a and b must be numbers' });
  }
  return JSON.stringify({ error: `no example implementation of ${name}` });
}

export function parseArgs(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

// ---- small helpers --------------------------------------------------------------------------

export function readDataUrl(f: Blob): Promise<string> {
  return new Promise((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(String(r.result));
    r.onerror = () => fail(r.error ?? new Error('Could not read the file.'));
    r.readAsDataURL(f);
  });
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

// An embedding as numbers: the gateway answers floats, or base64 float32 when asked for it.
export function vector(e: number[] | string): number[] {
  if (Array.isArray(e)) return e;
  const bin = atob(e);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return Array.from(new Float32Array(bytes.buffer, 0, bytes.length >> 2));
}

export const errorText = (e: unknown) =>
  e instanceof ApiError ? `${e.message}${e.status ? ` (HTTP ${e.status}${e.code ? `, ${e.code}` : ''})` : ''}` : (e as Error)?.message ?? String(e);
export const isAbort = (e: unknown) => (e as Error)?.name === 'AbortError';

// Raw 16-bit little-endian mono PCM wrapped as a WAV file, so that a browser can play it.
export function wavOf(pcm: ArrayBuffer, rate: number): Blob {
  const h = new DataView(new ArrayBuffer(44));
  const text = (o: number, s: string) => { for (let i = 0; i < s.length; i++) h.setUint8(o + i, s.charCodeAt(i)); };
  text(0, 'RIFF'); h.setUint32(4, 36 + pcm.byteLength, true); text(8, 'WAVE');
  text(12, 'fmt '); h.setUint32(16, 16, true); h.setUint16(20, 1, true); h.setUint16(22, 1, true);
  h.setUint32(24, rate, true); h.setUint32(28, rate * 2, true); h.setUint16(32, 2, true); h.setUint16(34, 16, true);
  text(36, 'data'); h.setUint32(40, pcm.byteLength, true);
  return new Blob([h.buffer, pcm], { type: 'audio/wav' });
}

// Plays encoded audio with the Web Audio API: the way out when the page's security policy keeps
// an <audio> element from loading a blob: URL.
export async function playDecoded(b: Blob): Promise<void> {
  const ctx = new AudioContext();
  const buf = await ctx.decodeAudioData(await b.arrayBuffer());
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(ctx.destination);
  src.onended = () => { ctx.close().catch(() => {}); };
  src.start();
}

// Why the microphone could not be opened, in words.
export function micError(e: unknown): string {
  const name = (e as Error)?.name;
  if (!navigator.mediaDevices?.getUserMedia) return 'This page cannot use a microphone here (browsers allow it only on https or localhost).';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'Microphone access was refused. Allow it in the browser (the icon by the address) and try again.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found.';
  if (name === 'NotReadableError') return 'The microphone is busy in another application.';
  return `Could not open the microphone: ${(e as Error)?.message ?? String(e)}`;
}
