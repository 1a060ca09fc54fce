// Endpoint diagnostics: a ready request per /v1 endpoint (method, path and body editable), sent
// through `/api/v1/<path>` (the server applies the unified key), and an inspector showing what
// went out and everything that came back: status, every header, the body, the timing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { send, v1Path, type Received, type Sent } from '../lab_api';
import { ms, num } from '../shared';

interface Preset { id: string; label: string; method: string; path: string; body: unknown }
const ASK = 'Say hello in five words.';
const PRESETS: Preset[] = [
  { id: 'chat', label: 'Chat completions', method: 'POST', path: 'chat/completions',
    body: { model: 'auto', messages: [{ role: 'user', content: ASK }], max_tokens: 32 } },
  { id: 'stream', label: 'Chat streaming', method: 'POST', path: 'chat/completions',
    body: { model: 'auto', messages: [{ role: 'user', content: ASK }], max_tokens: 32, stream: true } },
  { id: 'responses', label: 'Responses', method: 'POST', path: 'responses',
    body: { model: 'auto', input: ASK, max_output_tokens: 32 } },
  { id: 'messages', label: 'Messages (Anthropic)', method: 'POST', path: 'messages',
    body: { model: 'auto', max_tokens: 32, messages: [{ role: 'user', content: ASK }] } },
  { id: 'completions', label: 'Completions', method: 'POST', path: 'completions',
    body: { model: 'auto', prompt: 'Once upon a time', max_tokens: 16 } },
  { id: 'embeddings', label: 'Embeddings', method: 'POST', path: 'embeddings', body: { model: 'auto', input: 'hello world' } },
  { id: 'moderations', label: 'Moderations', method: 'POST', path: 'moderations',
    body: { model: 'omni-moderation-latest', input: 'I love sunny days.' } },
  { id: 'images', label: 'Images', method: 'POST', path: 'images/generations',
    body: { model: 'auto', prompt: 'a red kite over a calm sea', n: 1, size: '512x512' } },
  { id: 'speech', label: 'Speech', method: 'POST', path: 'audio/speech',
    body: { model: 'tts-1', voice: 'alloy', input: 'Hello from FreeLLMAPI.' } },
  { id: 'models', label: 'Models', method: 'GET', path: 'models', body: null },
  { id: 'realtime', label: 'Realtime session', method: 'POST', path: 'realtime/sessions',
    body: { voice: 'coral', instructions: 'Be brief.' } },
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
interface Draft { method: string; path: string; body: string }
const draftOf = (p: Preset): Draft => ({ method: p.method, path: p.path, body: p.body === null ? '' : JSON.stringify(p.body, null, 2) });
const ROUTING = new Set(['x-routed-via', 'x-fallback-attempts']);

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function Inspector({ sent, got, busy }: { sent: Sent; got: Received | null; busy: boolean }) {
  const request = [`${sent.method} ${sent.url}`, ...sent.headers.map(([k, v]) => `${k}: ${v}`)].join('\n')
    + (sent.body !== null ? `\n\n${sent.body}` : '');
  const ok = got && got.status >= 200 && got.status < 300;
  return (
    <section class="card inspector" aria-labelledby="insp-title">
      <h2 id="insp-title">Inspector</h2>
      <h3>Request</h3>
      <pre class="content" tabIndex={0}><code>{request}</code></pre>
      <p class="muted small">The browser adds its own headers (and the session cookie when a PIN is set); the gateway applies the unified key itself.</p>
      <h3>Response</h3>
      {!got ? <p aria-live="polite">{busy ? 'Waiting for the headers…' : 'No answer.'}</p> : (<>
        <dl class="facts">
          <dt>Status</dt>
          <dd><span class={ok ? 'status-ok' : 'status-bad'}>{got.status} {got.statusText || (ok ? 'OK' : 'error')}</span></dd>
          <dt>Content type</dt><dd>{got.contentType || '—'}</dd>
          <dt>Time to headers</dt><dd>{ms(got.headersMs)}</dd>
          <dt>First byte of the body</dt><dd>{ms(got.firstByteMs)}</dd>
          <dt>Total</dt><dd aria-live="polite">{got.totalMs == null ? 'still reading…' : ms(got.totalMs)}</dd>
          <dt>Body size</dt><dd>{num(got.size)} bytes</dd>
        </dl>
        <div class="table-wrap">
          <table class="grid hdrs">
            <caption>Response headers ({got.headers.length}); routing headers marked</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
            <tbody>
              {got.headers.map(([k, v]) => {
                const routing = ROUTING.has(k.toLowerCase());
                return (
                  <tr key={k} class={routing ? 'routing' : undefined}>
                    <th scope="row">{k}{routing && <> <span class="badge">routing</span></>}</th>
                    <td><code>{v}</code></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <h3>Body{got.kind === 'stream' ? ' (server-sent events, as they arrive)' : ''}</h3>
        {got.error && <p class="field-error" role="alert">{got.error}</p>}
        {got.kind === 'binary' ? (
          <p>
            {num(got.size)} bytes of <code>{got.contentType}</code>
            {got.blobUrl && <> · <a href={got.blobUrl} download={`answer.${got.contentType.split('/')[1]?.split(/[;+]/)[0] || 'bin'}`}>Download</a></>}
          </p>
        ) : got.text === '' ? <p class="muted">{got.totalMs == null ? 'Nothing yet…' : 'Empty.'}</p>
          : <pre class="content" tabIndex={0}><code>{got.text}</code></pre>}
      </>)}
    </section>
  );
}

export function Endpoints() {
  const [chosen, setChosen] = useState(PRESETS[0].id);
  const [drafts, setDrafts] = useState<Record<string, Draft>>(() => Object.fromEntries(PRESETS.map((p) => [p.id, draftOf(p)])));
  const [shown, setShown] = useState<{ sent: Sent; got: Received | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const blob = useRef<string | null>(null);
  const draft = drafts[chosen];
  const preset = PRESETS.find((p) => p.id === chosen)!;
  const path = v1Path(draft.path);
  const hasBody = draft.method !== 'GET';
  const badJson = hasBody && draft.body.trim() !== '' && !isJson(draft.body);
  useEffect(() => () => {
    abort.current?.abort();
    if (blob.current) URL.revokeObjectURL(blob.current);
  }, []);
  const edit = (k: keyof Draft) => (e: { currentTarget: { value: string } }) => {
    const v = e.currentTarget.value;
    setDrafts((d) => ({ ...d, [chosen]: { ...d[chosen], [k]: v } }));
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!path) { setError('The path must name an endpoint under /v1 (for example chat/completions).'); return; }
    abort.current?.abort();
    const ctl = new AbortController();
    abort.current = ctl;
    setError(null);
    setBusy(true);
    try {
      await send({ method: draft.method, path, body: hasBody && draft.body.trim() !== '' ? draft.body : null }, ctl.signal, (sent, got) => {
        if (abort.current !== ctl) return;
        if (got?.blobUrl) {
          if (blob.current) URL.revokeObjectURL(blob.current);
          blob.current = got.blobUrl;
        }
        setShown({ sent, got });
      });
    } catch (err) {
      if (abort.current === ctl) setError((err as Error).name === 'AbortError' ? 'Stopped before the answer came.' : `The request failed: ${(err as Error).message}`);
    }
    if (abort.current === ctl) setBusy(false);
  };
  const stop = () => {
    abort.current?.abort();
    setBusy(false);
  };
  return (
    <section aria-labelledby="diag-title">
      <h2 id="diag-title">Endpoint diagnostics</h2>
      <p class="muted">Each endpoint with a ready request. It goes to <code>/api/v1/…</code>: the same handlers, routing and log as <code>/v1</code>, with the unified key applied by the gateway.</p>
      <div class="lab">
        <ul class="endpoints" aria-label="Endpoints">
          {PRESETS.map((p) => (
            <li key={p.id}>
              <button type="button" aria-pressed={p.id === chosen} onClick={() => setChosen(p.id)}>
                <span>{p.label}</span>
                <code class="muted">{p.method} /v1/{p.path}</code>
              </button>
            </li>
          ))}
        </ul>
        <form class="card req" onSubmit={submit} aria-label={`Request: ${preset.label}`}>
          <h3 class="wide">{preset.label}</h3>
          <label for="req-method">Method</label>
          <select id="req-method" value={draft.method} onChange={edit('method')}>
            {METHODS.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
          <label for="req-path">Path</label>
          <span class="pathline"><code aria-hidden="true">/api/v1/</code><input id="req-path" value={draft.path} onInput={edit('path')}
            spellcheck={false} autocomplete="off" aria-describedby="req-path-help" /></span>
          <span id="req-path-help" class="sr-only">after /api/v1/</span>
          <label for="req-body" class="wide">Body (JSON){!hasBody && <span class="muted"> — none is sent with GET</span>}</label>
          <textarea id="req-body" class="wide" rows={11} spellcheck={false} value={draft.body} onInput={edit('body')}
            disabled={!hasBody} aria-invalid={badJson} aria-describedby={badJson ? 'req-body-warn' : undefined} />
          {badJson && <p id="req-body-warn" class="field-error wide">This is not valid JSON; it is sent as typed.</p>}
          {!path && <p class="field-error wide">The path must name an endpoint under /v1.</p>}
          <div class="actions wide">
            <button type="submit" disabled={!path}>Send</button>
            {busy && <button type="button" onClick={stop}>Stop</button>}
            <button type="button" onClick={() => setDrafts((d) => ({ ...d, [chosen]: draftOf(preset) }))}>Reset to the example</button>
            <span class="muted small" aria-live="polite">{busy ? 'Sending…' : ''}</span>
          </div>
          {error && <p class="field-error wide" role="alert">{error}</p>}
        </form>
      </div>
      {shown && <Inspector sent={shown.sent} got={shown.got} busy={busy} />}
    </section>
  );
}
