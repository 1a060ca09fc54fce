// Logs: the request log, filtered, a page at a time (newest first), exportable as CSV or JSON
// Lines; a request's details (every attempt, and the prompt and answer when content logging was
// on). Below, diagnostics: what to fix, providers ranked, and each key's health.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, exportUrl, type Diagnostics, type LogFilter, type LogRow, type Period } from '../api';
import { Dot, Loading, Problem, Page, useData, when } from '../ui';
import { Badge, DIAGNOSES, diagnosisText, fromLocalInput, ms, num, pct, SortTable, stamp, WindowSwitch, type Column } from '../shared';

const STATUSES: [string, string][] = [
  ['', 'any'], ['ok', 'ok'], ['error', 'error'], ['2xx', '2xx'], ['4xx', '4xx'], ['429', '429'], ['5xx', '5xx'],
];
const EMPTY = { status: '', provider: '', model: '', endpoint: '', diagnosis: '', since: '', until: '' };
type Form = typeof EMPTY;
const via = (r: { provider: string | null; model: string | null }) => (r.provider ? `${r.provider}/${r.model ?? '?'}` : '—');

function toFilter(f: Form): LogFilter {
  return {
    status: f.status, provider: f.provider.trim(), model: f.model.trim(), endpoint: f.endpoint.trim(),
    diagnosis: f.diagnosis, since: fromLocalInput(f.since), until: fromLocalInput(f.until),
  };
}

function Filters({ done }: { done: (f: LogFilter) => void }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const providers = useData(api.providers);
  const set = (k: keyof Form) => (e: { currentTarget: { value: string } }) => {
    const v = e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: v }));
  };
  const submit = (e: Event) => { e.preventDefault(); done(toFilter(form)); };
  const reset = () => { setForm(EMPTY); done({}); };
  return (
    <form class="card filters" onSubmit={submit} aria-label="Filter the log">
      <div class="field">
        <label for="f-status">Status</label>
        <select id="f-status" value={form.status} onChange={set('status')}>
          {STATUSES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-provider">Provider</label>
        <input id="f-provider" list="f-providers" value={form.provider} onInput={set('provider')} />
        <datalist id="f-providers">{providers.data?.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}</datalist>
      </div>
      <div class="field">
        <label for="f-model">Model</label>
        <input id="f-model" value={form.model} onInput={set('model')} />
      </div>
      <div class="field">
        <label for="f-endpoint">Endpoint</label>
        <input id="f-endpoint" value={form.endpoint} onInput={set('endpoint')} placeholder="/v1/chat/completions" />
      </div>
      <div class="field">
        <label for="f-diagnosis">Diagnosis</label>
        <select id="f-diagnosis" value={form.diagnosis} onChange={set('diagnosis')}>
          <option value="">any</option>
          {DIAGNOSES.map((d) => <option key={d} value={d}>{diagnosisText(d)}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="f-since">Since <span class="muted">(local time)</span></label>
        <input id="f-since" type="datetime-local" value={form.since} onInput={set('since')} />
      </div>
      <div class="field">
        <label for="f-until">Until <span class="muted">(local time)</span></label>
        <input id="f-until" type="datetime-local" value={form.until} onInput={set('until')} />
      </div>
      <div class="actions">
        <button type="submit">Apply</button>
        <button type="button" onClick={reset}>Clear</button>
      </div>
    </form>
  );
}

// One request in full, in a modal dialog (Escape or Close ends it; focus goes back to the row).
function Detail({ id, onClose }: { id: number; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const d = useData(() => api.log(id), 0, [id]);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => { if (dialog?.open) dialog.close(); };
  }, []);
  const r = d.data?.row;
  return (
    <dialog ref={ref} class="detail" aria-labelledby="detail-title" onClose={onClose}>
      <div class="detail-head">
        <h2 id="detail-title">Request {id}</h2>
        <button type="button" onClick={() => ref.current?.close()}>Close</button>
      </div>
      {d.error && <Problem error={d.error} retry={d.reload} />}
      {!d.data ? !d.error && <Loading /> : r && (<>
        <dl class="facts">
          <dt>Time</dt><dd>{stamp(r.at_ms)}</dd>
          <dt>Endpoint</dt><dd>{r.endpoint}{r.stream ? ' (stream)' : ''}</dd>
          <dt>Routed via</dt><dd>{via(r)}{r.key_id != null && ` · key ${r.key_id}`}</dd>
          <dt>Status</dt><dd>{r.status} {r.diagnosis && <Badge d={r.diagnosis} />}{r.error_class && <span class="muted"> {r.error_class}</span>}</dd>
          <dt>Latency</dt><dd>{ms(r.latency_ms)} (first byte {ms(r.ttfb_ms)})</dd>
          <dt>Tokens in / out</dt><dd>{num(r.tokens_in)} / {num(r.tokens_out)}</dd>
        </dl>
        <div class="table-wrap">
          <table class="grid">
            <caption>Attempts, in order</caption>
            <thead>
              <tr><th scope="col" class="num">#</th><th scope="col">Provider / model</th><th scope="col">Key</th>
                <th scope="col">Verdict</th><th scope="col" class="num">Status</th><th scope="col" class="num">Latency</th></tr>
            </thead>
            <tbody>
              {d.data.attempts.map((a, i) => (
                <tr key={i}>
                  <td class="num">{i + 1}</td><td>{a.provider}/{a.model}</td><td>{a.key_id ?? '—'}</td>
                  <td>{a.verdict === 'ok' ? 'ok' : <Badge d={a.verdict} />}</td>
                  <td class="num">{a.status ?? '—'}</td><td class="num">{ms(a.latency_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {d.data.content ? (<>
          <h3>Prompt</h3>
          <pre class="content">{d.data.content.prompt ?? '—'}</pre>
          <h3>Answer</h3>
          <pre class="content">{d.data.content.answer ?? '—'}</pre>
        </>) : <p class="muted">No prompt or answer stored: content logging was off for this request.</p>}
      </>)}
    </dialog>
  );
}

function LogTable({ rows, open }: { rows: LogRow[]; open: (id: number) => void }) {
  return (
    <div class="table-wrap">
      <table class="grid rows">
        <caption class="sr-only">Requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th><th scope="col">Endpoint</th><th scope="col">Routed via</th>
            <th scope="col" class="num">Status</th><th scope="col">Diagnosis</th><th scope="col" class="num">Latency</th>
            <th scope="col" class="num">Tokens in / out</th><th scope="col" class="num">Attempts</th><th scope="col"><span class="sr-only">Details</span></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} onClick={() => open(r.id)}>
              <td>{stamp(r.at_ms)}</td>
              <td>{r.endpoint}</td>
              <td>{via(r)}</td>
              <td class="num">{r.status}</td>
              <td>{r.diagnosis ? <Badge d={r.diagnosis} /> : <span class="muted">ok</span>}</td>
              <td class="num">{ms(r.latency_ms)}</td>
              <td class="num">{num(r.tokens_in)} / {num(r.tokens_out)}</td>
              <td class="num">{r.attempts}</td>
              <td>
                <button type="button" onClick={(e) => { e.stopPropagation(); open(r.id); }}
                  aria-label={`Details of the ${r.endpoint} request at ${stamp(r.at_ms)}`}>Details</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type ProviderRank = Diagnostics['providers'][number];
type KeyHealth = Diagnostics['keys'][number];
const RANK: Column<ProviderRank>[] = [
  { key: 'rank', label: 'Rank', value: (r) => r.rank, num: true },
  { key: 'provider', label: 'Provider', value: (r) => r.provider, row: true },
  { key: 'attempts', label: 'Attempts', value: (r) => r.attempts, num: true },
  { key: 'ok', label: 'Ok', value: (r) => r.ok, num: true },
  { key: 'success', label: 'Success', value: (r) => r.success_rate, show: (r) => pct(r.success_rate), num: true },
  { key: 'latency', label: 'Avg latency', value: (r) => r.avg_latency_ms, show: (r) => ms(r.avg_latency_ms), num: true },
];
const lastFailure = (v: number | string | null) => (v == null ? '—' : typeof v === 'number' ? when(v) : v);
const KEYS: Column<KeyHealth>[] = [
  { key: 'key', label: 'Key', value: (k) => k.label || `#${k.id}`, row: true },
  { key: 'provider', label: 'Provider', value: (k) => k.provider },
  { key: 'status', label: 'Status', value: (k) => k.status, show: (k) => <Dot status={k.status} /> },
  { key: 'checked', label: 'Checked', value: (k) => k.checked_at, show: (k) => when(k.checked_at), num: true },
  { key: 'attempts', label: 'Attempts', value: (k) => k.attempts, num: true },
  { key: 'failures', label: 'Failures', value: (k) => k.failures, num: true },
  { key: 'last', label: 'Last failure', value: (k) => k.last_failure, show: (k) => lastFailure(k.last_failure) },
];
const SEVERITY = { high: 'High', medium: 'Medium', low: 'Low' } as const;

function DiagnosticsSection() {
  const [period, setPeriod] = useState<Period>('24h');
  const d = useData(() => api.diagnostics(period), 0, [period]);
  return (
    <section class="diagnostics" aria-labelledby="diag-title">
      <h2 id="diag-title">Diagnostics</h2>
      <WindowSwitch value={period} onChange={setPeriod} label="Diagnostics window" />
      {d.error && <Problem error={d.error} retry={d.reload} />}
      {!d.data ? !d.error && <Loading /> : (<>
        <h3>Recommendations</h3>
        {d.data.recommendations.length === 0 ? <p class="muted">Nothing to fix: no recommendations.</p> : (
          <ul class="recs">
            {d.data.recommendations.map((r) => (
              <li key={r.id} class="card rec">
                <span class={`badge sev-${r.severity}`}>{SEVERITY[r.severity] ?? r.severity}</span> <strong>{r.title}</strong>
                <p>{r.action}</p>
              </li>
            ))}
          </ul>
        )}
        <SortTable caption="Providers ranked" columns={RANK} rows={d.data.providers} rowKey={(r) => r.provider} sort={['rank', 1]} />
        <SortTable caption="Key health" columns={KEYS} rows={d.data.keys} rowKey={(k) => k.id} sort={['failures', -1]} />
      </>)}
    </section>
  );
}

export function LogsPage() {
  const [filter, setFilter] = useState<LogFilter>({});
  const [rows, setRows] = useState<LogRow[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const latest = useRef(0);
  const load = async (f: LogFilter, before?: number) => {
    const n = ++latest.current;
    setBusy(true);
    try {
      const page = await api.logs({ ...f, before });
      if (n !== latest.current) return;
      setRows((old) => (before ? old.concat(page.data) : page.data));
      setNext(page.next_before);
      setError(null);
    } catch (e) {
      if (n === latest.current) setError((e as Error).message);
    } finally {
      if (n === latest.current) setBusy(false);
    }
  };
  useEffect(() => { load(filter); }, [filter]);
  return (
    <Page title="Logs" intro="Every request the gateway answered, newest first. Select a row for its attempts and content.">
      <Filters done={setFilter} />
      <p class="exports">
        <a href={exportUrl('csv', filter)} download>Export CSV</a>
        <a href={exportUrl('jsonl', filter)} download>Export JSON Lines</a>
        <button type="button" onClick={() => load(filter)}>Refresh</button>
      </p>
      {error && <Problem error={error} retry={() => load(filter)} />}
      {rows.length === 0 ? (busy ? <Loading /> : !error && <p class="empty">No requests match.</p>) : <LogTable rows={rows} open={setOpen} />}
      {next != null && rows.length > 0 && (
        <button type="button" class="more" disabled={busy} onClick={() => load(filter, next)}>{busy ? 'Loading…' : 'Load more'}</button>
      )}
      {open != null && <Detail id={open} onClose={() => setOpen(null)} />}
      <DiagnosticsSection />
    </Page>
  );
}
