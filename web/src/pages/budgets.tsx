// Budgets: each model's free-tier use against its caps, what is left today and when it runs out
// at the last hour's pace; pacing a model through the day (a share of its daily caps released
// only as the day passes); the benches (quarantines) the router put keys and models on, and what
// is switched off. Refreshed every 5 s while the page is visible. Loaded when first opened.
import { useState } from 'preact/hooks';
import { api, type Budget, type Limits, type Quarantine } from '../api';
import { Dot, Loading, Page, Problem, useData } from '../ui';
import { hhmm, num, SortTable, stamp, type Column } from '../shared';

// "used / cap" with a bar (the text carries the figures; the bar only repeats them).
function Use({ used, cap }: { used: number; cap: number | null | undefined }) {
  if (!cap) return <span>{num(used)} <span class="muted small">no cap</span></span>;
  const share = Math.min(1, used / cap);
  return (
    <span class="use">
      {num(used)} / {num(cap)}
      <span class="bar" aria-hidden="true"><span class={share >= 0.9 ? 'hot' : undefined} style={{ width: `${share * 100}%` }} /></span>
    </span>
  );
}
const share = (used: number, cap: number | null | undefined) => (cap ? used / cap : null);
const state = (b: Budget) => (!b.enabled ? 'off' : !b.usable ? 'unusable' : b.limited ? 'limited' : 'ready');
const day = (t: number) => (new Date(t).toDateString() === new Date().toDateString() ? hhmm(t) : stamp(t));

function usage(key: keyof Limits, label: string): Column<Budget> {
  return {
    key, label, num: true, value: (b) => share(b.usage[key], b.limits[key]),
    show: (b) => <Use used={b.usage[key]} cap={b.limits[key]} />,
  };
}

const RESERVES = [0.25, 0.5, 0.75];
const pct = (r: number) => `${Math.round(r * 100)} %`;
const keyCount = (b: Budget) => (Array.isArray(b.keys) ? b.keys.length : b.keys);

// "paced: 62 of 100 requests released" (tokens when the model has no daily request cap).
function released(b: Budget): string {
  const p = b.pacing!;
  const n = keyCount(b);
  if (p.allowed_now.requests != null && b.limits.rpd) return `paced: ${num(p.allowed_now.requests)} of ${num(b.limits.rpd * n)} requests released`;
  if (p.allowed_now.tokens != null && b.limits.tpd) return `paced: ${num(p.allowed_now.tokens)} of ${num(b.limits.tpd * n)} tokens released`;
  return 'paced';
}

// "Pace through the day": on, the chosen share of each daily cap is held back and released
// evenly as the provider's day passes, so a model is not spent by morning.
function Pace({ b, set }: { b: Budget; set: (b: Budget, reserve: number | null) => void }) {
  const [choice, setChoice] = useState(b.pacing?.reserve ?? 0.5);
  if (!b.limits.rpd && !b.limits.tpd) return <span class="muted small">no daily cap</span>;
  const p = b.pacing;
  const reserve = p ? p.reserve : choice;
  const options = RESERVES.includes(reserve) ? RESERVES : [...RESERVES, reserve].sort((x, y) => x - y);
  const id = `pace-${b.provider}-${b.id}`.replace(/[^A-Za-z0-9_-]/g, '-');
  return (
    <div class="pace">
      <label class="toggle">
        <input type="checkbox" checked={p != null} aria-describedby={`${id}-note`}
          onChange={() => set(b, p ? null : choice)} />
        Pace through the day<span class="sr-only"> for {b.name} ({b.provider})</span>
      </label>
      <label class="sr-only" for={`${id}-reserve`}>Share of the daily cap {b.name} holds back</label>
      <select id={`${id}-reserve`} value={String(reserve)}
        onChange={(e) => {
          const r = Number(e.currentTarget.value);
          setChoice(r);
          if (p) set(b, r);
        }}>
        {options.map((r) => <option key={r} value={String(r)}>{pct(r)} held back</option>)}
      </select>
      <div id={`${id}-note`} class="small muted">
        {p ? <>{released(b)}{p.next_release_ms ? <><br />next at {day(p.next_release_ms)}</> : null}</>
          : 'off: the caps are spent as requests come'}
      </div>
    </div>
  );
}

function forecast(b: Budget) {
  if (b.held_by_pacing) return <strong>held by pacing{b.pacing?.next_release_ms ? ` until ${day(b.pacing.next_release_ms)}` : ''}</strong>;
  if (!b.runs_out_at_ms) return <span class="muted">{b.pacing ? 'not today (paced)' : 'not today'}</span>;
  return <><strong>runs out at {day(b.runs_out_at_ms)}</strong>{b.pacing && <div class="small muted">pacing holds it back first</div>}</>;
}

function columns(toggle: (b: Budget) => void, pace: (b: Budget, reserve: number | null) => void): Column<Budget>[] {
  return [
    { key: 'model', label: 'Model', value: (b) => b.name, row: true,
      show: (b) => <>{b.name}<div class="muted small">{b.provider}/{b.id}</div></> },
    { key: 'state', label: 'State', value: state, show: (b) => <Dot status={state(b)} /> },
    // The day first: what pacing and the forecast are about.
    usage('rpd', 'Requests / day'), usage('tpd', 'Tokens / day'),
    { key: 'left', label: 'Left today', num: true, value: (b) => b.remaining_today.requests,
      show: (b) => b.remaining_today.requests == null && b.remaining_today.tokens == null ? <span class="muted">no daily cap</span>
        : <>{num(b.remaining_today.requests)} requests<div class="small">{num(b.remaining_today.tokens)} tokens</div></> },
    { key: 'pace', label: 'Pacing', value: (b) => b.pacing?.reserve ?? 0,
      show: (b) => <Pace key={`${b.provider}/${b.id}`} b={b} set={pace} /> },
    { key: 'forecast', label: 'Forecast', value: (b) => (b.held_by_pacing ? 0 : b.runs_out_at_ms), show: forecast },
    usage('rpm', 'Requests / min'), usage('tpm', 'Tokens / min'),
    { key: 'resets', label: 'Resets at', value: (b) => b.resets_at_ms, show: (b) => (b.resets_at_ms ? day(b.resets_at_ms) : '—') },
    { key: 'month', label: 'Tokens this month', num: true, value: (b) => share(b.month_tokens_used, b.monthly_tokens) ?? b.month_tokens_used,
      show: (b) => <Use used={b.month_tokens_used} cap={b.monthly_tokens} /> },
    { key: 'hour', label: 'Requests last hour', value: (b) => b.last_hour_requests, num: true },
    { key: 'keys', label: 'Keys', num: true, value: (b) => (Array.isArray(b.keys) ? b.keys.length : b.keys) },
    { key: 'action', label: 'Routing', value: (b) => (b.enabled ? 1 : 0),
      show: (b) => (
        <button type="button" onClick={() => toggle(b)} aria-label={`${b.enabled ? 'Disable' : 'Enable'} ${b.name} (${b.provider})`}>
          {b.enabled ? 'Disable' : 'Enable'}
        </button>
      ) },
  ];
}

const SCOPE = { pair: 'this key on this model', key: 'the key on every model', model: 'the model on every key' } as const;

function Quarantines({ list, release }: { list: Quarantine[]; release: (q: Quarantine) => void }) {
  if (list.length === 0) return <p class="muted">Nothing is benched.</p>;
  return (
    <div class="table-wrap">
      <table class="grid">
        <caption class="sr-only">Quarantines</caption>
        <thead>
          <tr><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Key</th><th scope="col">Scope</th>
            <th scope="col">Reason</th><th scope="col">Until</th><th scope="col"><span class="sr-only">Action</span></th></tr>
        </thead>
        <tbody>
          {list.map((q) => (
            <tr key={`${q.provider}/${q.model ?? ''}/${q.key_id ?? ''}/${q.scope}`}>
              <th scope="row">{q.provider}</th>
              <td>{q.model || <span class="muted">all models</span>}</td>
              <td>{q.key_id ?? <span class="muted">all keys</span>}</td>
              <td>{SCOPE[q.scope] ?? q.scope}</td>
              <td>{q.reason}</td>
              <td>{day(q.until_ms)}</td>
              <td>
                <button type="button" onClick={() => release(q)}
                  aria-label={`Release ${q.provider} ${q.model || 'all models'}, ${q.key_id != null ? `key ${q.key_id}` : 'all keys'}`}>Release</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function BudgetsPage() {
  const budgets = useData(api.budgets, 5000);
  const [error, setError] = useState<string | null>(null);
  const [said, setSaid] = useState('');
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setError(null);
      setSaid(done);
    } catch (e) {
      setError((e as Error).message);
    }
    budgets.reload();
  };
  if (budgets.error && !budgets.data) return <Page title="Budgets"><Problem error={budgets.error} retry={budgets.reload} /></Page>;
  if (!budgets.data) return <Page title="Budgets"><Loading /></Page>;
  const { data, quarantines, disabled } = budgets.data;
  const toggle = (b: Budget) => act(() => api.setEnabled(b, !b.enabled), `${b.name} ${b.enabled ? 'disabled' : 'enabled'}.`);
  const pace = (b: Budget, reserve: number | null) => act(() => api.setPacing(b, reserve),
    reserve == null ? `${b.name}: pacing off.` : `${b.name}: paced, ${pct(reserve)} of its daily cap held back.`);
  const release = (q: Quarantine) => act(
    () => api.release({ provider: q.provider, model: q.model || undefined, key_id: q.key_id ?? undefined }),
    `Released ${q.provider} ${q.model || 'all models'}.`);
  return (
    <Page title="Budgets" intro="Free-tier use against each model's caps, pacing through the day, and what the router has benched or you switched off.">
      {(error ?? budgets.error) && <Problem error={(error ?? budgets.error)!} />}
      <p class="sr-only" aria-live="polite">{said}</p>
      {data.length === 0 ? <p class="empty">No models.</p>
        : <SortTable caption="Models" columns={columns(toggle, pace)} rows={data} rowKey={(b) => `${b.provider}/${b.id}`} />}
      <h2 class="section">Quarantines</h2>
      <Quarantines list={quarantines} release={release} />
      <h2 class="section">Switched off</h2>
      {disabled.models.length === 0 && disabled.keys.length === 0 ? <p class="muted">Nothing is switched off.</p> : (
        <ul class="off-list">
          {disabled.models.map((m) => {
            const cut = m.indexOf('/');
            const [provider, id] = [m.slice(0, cut), m.slice(cut + 1)];
            return (
              <li key={m}>
                <span>Model <strong>{m}</strong></span>
                <button type="button" onClick={() => act(() => api.setEnabled({ provider, id }, true), `${m} enabled.`)}
                  aria-label={`Enable model ${m}`}>Enable</button>
              </li>
            );
          })}
          {disabled.keys.map((k) => (
            <li key={k.id}>
              <span>Key <strong>{k.label || `#${k.id}`}</strong> <span class="muted">({k.provider})</span></span>
              <button type="button" onClick={() => act(() => api.updateKey(k.id, { enabled: true }), `Key ${k.label || k.id} enabled.`)}
                aria-label={`Enable key ${k.label || k.id} (${k.provider})`}>Enable</button>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
