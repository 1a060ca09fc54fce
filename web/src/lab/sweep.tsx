// The sweep: the cheapest request each chosen model's kind allows, one model at a time, within a
// budget of upstream requests; progress polled every second while it runs; failed models can be
// quarantined (routing skips them until released on the Budgets page).
import { useEffect, useState } from 'preact/hooks';
import { api, type Model } from '../api';
import { lab, type ResultStatus, type Sweep, type SweepResult } from '../lab_api';
import { Problem, useData } from '../ui';
import { ms, SortTable, stamp, type Column } from '../shared';

const keyOf = (m: { provider: string; id?: string; model?: string }) => `${m.provider}/${m.id ?? m.model}`;
const BADGE: Record<ResultStatus, string> = { ok: 'badge-ok', failed: 'badge-bad', skipped: 'badge-warn', pending: 'badge-muted' };
const STATE = { running: 'running', done: 'finished', cancelled: 'cancelled' } as const;
const modelState = (m: Model) => (!m.enabled ? 'off' : !m.usable ? 'no usable key' : m.limited ? 'limited now' : 'ready');

// In-app navigation without importing the shell (the pages are loaded from it).
function go(e: MouseEvent, path: string): void {
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}
const BudgetsLink = ({ text, label }: { text: string; label?: string }) =>
  <a href="/budgets" onClick={(e) => go(e, '/budgets')} aria-label={label}>{text}</a>;

function Picker({ models, chosen, setChosen }: { models: Model[]; chosen: Set<string>; setChosen: (s: Set<string>) => void }) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const shown = f ? models.filter((m) => `${m.provider}/${m.id} ${m.name} ${m.kind} ${m.capabilities.join(' ')}`.toLowerCase().includes(f)) : models;
  const all = (on: boolean) => {
    const next = new Set(chosen);
    for (const m of shown) on ? next.add(keyOf(m)) : next.delete(keyOf(m));
    setChosen(next);
  };
  const toggle = (k: string) => {
    const next = new Set(chosen);
    next.has(k) ? next.delete(k) : next.add(k);
    setChosen(next);
  };
  return (
    <fieldset class="picks">
      <legend>Models to probe ({chosen.size} of {models.length} chosen)</legend>
      <div class="toolbar">
        <label class="filter" for="sweep-filter">Filter <input id="sweep-filter" type="search" value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)} placeholder="provider, model, kind" /></label>
        <button type="button" onClick={() => all(true)}>{f ? 'Select all shown' : 'Select all'}</button>
        <button type="button" onClick={() => all(false)}>{f ? 'Select none shown' : 'Select none'}</button>
      </div>
      {shown.length === 0 ? <p class="muted">No model matches.</p> : (
        <ul class="picklist">
          {shown.map((m) => {
            const k = keyOf(m);
            return (
              <li key={k}>
                <label>
                  <input type="checkbox" checked={chosen.has(k)} onChange={() => toggle(k)} />
                  <span>{m.name}</span>
                  <span class="muted small">{k} · {m.kind} · {modelState(m)}</span>
                </label>
              </li>
            );
          })}
        </ul>
      )}
    </fieldset>
  );
}

function Results({ sweep, marked, quarantine }: {
  sweep: Sweep; marked: Set<string>; quarantine: (r: SweepResult) => void;
}) {
  const benched = (r: SweepResult) => r.quarantined || marked.has(keyOf(r));
  const columns: Column<SweepResult>[] = [
    { key: 'model', label: 'Model', value: (r) => keyOf(r), row: true },
    { key: 'kind', label: 'Kind', value: (r) => r.kind },
    { key: 'status', label: 'Status', value: (r) => r.status, show: (r) => <span class={`badge ${BADGE[r.status] ?? ''}`}>{r.status}</span> },
    { key: 'class', label: 'Error class', value: (r) => r.error_class },
    { key: 'message', label: 'Message', value: (r) => r.message, show: (r) => (r.message ? <span class="msg">{r.message}</span> : '—') },
    { key: 'latency', label: 'Latency', num: true, value: (r) => r.latency_ms, show: (r) => ms(r.latency_ms) },
    { key: 'action', label: 'Routing', value: (r) => (benched(r) ? 'quarantined' : r.status === 'failed' ? 'failed' : ''),
      show: (r) => benched(r) ? <span><span class="badge badge-warn">quarantined</span> <BudgetsLink text="release" label={`Release ${keyOf(r)} on the Budgets page`} /></span>
        : r.status === 'failed' ? <button type="button" onClick={() => quarantine(r)} aria-label={`Quarantine ${keyOf(r)}`}>Quarantine</button>
        : <span class="muted">—</span> },
  ];
  return <SortTable caption="Results" columns={columns} rows={sweep.results} rowKey={keyOf} />;
}

export function SweepPanel() {
  const models = useData(api.models);
  const [sweep, setSweep] = useState<Sweep | null | undefined>(undefined); // undefined: not known yet
  const [chosen, setChosen] = useState<Set<string> | null>(null);
  const [budget, setBudget] = useState<string | null>(null); // null: follows the number chosen
  const [error, setError] = useState<string | null>(null);
  const [said, setSaid] = useState('');
  const [marked, setMarked] = useState<Set<string>>(new Set());
  const [tick, setTick] = useState(0);
  const refresh = () => lab.currentSweep().then((s) => { setSweep(s); setError(null); }, (e: Error) => { setError(e.message); setTick((n) => n + 1); });
  useEffect(() => { refresh(); }, []);
  // Every second while a sweep runs (a failed poll tries again a second later).
  useEffect(() => {
    if (sweep?.state !== 'running') return;
    const t = setTimeout(refresh, 1000);
    return () => clearTimeout(t);
  }, [sweep, tick]);
  useEffect(() => {
    if (models.data && chosen === null) setChosen(new Set(models.data.filter((m) => m.enabled && m.usable).map(keyOf)));
  }, [models.data]);
  const picked = chosen ?? new Set<string>();
  const budgetValue = budget ?? String(Math.min(1000, Math.max(1, picked.size)));
  const running = sweep?.state === 'running';

  const start = async (e: Event) => {
    e.preventDefault();
    const list = (models.data ?? []).map(keyOf).filter((k) => picked.has(k));
    try {
      setSweep(await lab.startSweep({ models: list, budget: Number(budgetValue) }));
      setMarked(new Set());
      setError(null);
      setSaid('Sweep started.');
    } catch (err) {
      setError((err as Error).message);
      refresh();
    }
  };
  const cancel = async () => {
    try {
      setSweep(await lab.cancelSweep());
      setSaid('Sweep cancelled.');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const bench = async (rows: SweepResult[]) => {
    const done = new Set(marked);
    let failed: string | null = null;
    for (const r of rows) {
      try {
        await lab.quarantine({ provider: r.provider, model: r.model, reason: `sweep: ${r.error_class ?? 'failed'}` });
        done.add(keyOf(r));
      } catch (err) {
        failed = `${keyOf(r)}: ${(err as Error).message}`;
      }
    }
    setMarked(done);
    setError(failed);
    setSaid(`${rows.length === 1 ? keyOf(rows[0]) : `${rows.length} models`} quarantined.`);
    refresh();
  };

  const failedRows = sweep?.results.filter((r) => r.status === 'failed' && !r.quarantined && !marked.has(keyOf(r))) ?? [];
  const count = (s: ResultStatus) => sweep?.results.filter((r) => r.status === s).length ?? 0;
  return (
    <section aria-labelledby="sweep-title">
      <h2 id="sweep-title" class="section">Sweep</h2>
      <p class="muted">Sends each chosen model the cheapest request its kind allows, to that model only, one at a time. Every request counts against the model's free tier; a model at its cap is skipped.</p>
      {error && <Problem error={error} />}
      <p class="sr-only" aria-live="polite">{said}</p>
      <form onSubmit={start} aria-label="Start a sweep">
        {models.error && !models.data && <Problem error={models.error} retry={models.reload} />}
        {models.data && <Picker models={models.data} chosen={picked} setChosen={setChosen} />}
        <div class="toolbar">
          <label class="budget" for="sweep-budget">Budget <span class="muted">(upstream requests)</span>
            <input id="sweep-budget" type="number" min={1} max={1000} required value={budgetValue}
              onInput={(e) => setBudget(e.currentTarget.value)} /></label>
          {budget !== null && <button type="button" onClick={() => setBudget(null)}>One per model</button>}
          <button type="submit" disabled={running || picked.size === 0}>Start</button>
          {running && <button type="button" onClick={cancel}>Cancel</button>}
        </div>
      </form>
      {sweep === undefined ? <p class="muted">Looking for the last sweep…</p> : sweep === null ? <p class="muted">No sweep has run since the gateway started.</p> : (<>
        <div class="progress">
          <label for="sweep-progress">Sweep {STATE[sweep.state] ?? sweep.state}</label>
          <progress id="sweep-progress" value={sweep.done} max={Math.max(1, sweep.total)} />
          <span>{sweep.done} / {sweep.total}, {sweep.used} / {sweep.budget} requests</span>
        </div>
        <p class="muted small" aria-live="polite">
          {sweep.state === 'running' ? `Started ${stamp(sweep.started_ms)}.` : `Started ${stamp(sweep.started_ms)}${sweep.finished_ms ? `, ${STATE[sweep.state] ?? sweep.state} ${stamp(sweep.finished_ms)}` : ''}: `}
          {sweep.state !== 'running' && `${count('ok')} ok, ${count('failed')} failed, ${count('skipped')} skipped${count('pending') ? `, ${count('pending')} not reached` : ''}.`}
        </p>
        <div class="toolbar">
          <button type="button" disabled={failedRows.length === 0} onClick={() => bench(failedRows)}>Quarantine all failed ({failedRows.length})</button>
          <span class="muted small">Quarantined models are skipped by routing until released on the <BudgetsLink text="Budgets page" /> (or a sweep finds them good).</span>
        </div>
        {sweep.results.length === 0 ? <p class="empty">No models in this sweep.</p>
          : <Results sweep={sweep} marked={marked} quarantine={(r) => bench([r])} />}
      </>)}
    </section>
  );
}
