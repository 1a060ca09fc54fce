// Budgets: each model's free-tier use against its caps, what is left today and when it runs out
// at the last hour's pace; the benches (quarantines) the router put keys and models on, and what
// is switched off. Refreshed every 5 s while the page is visible.
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

function columns(toggle: (b: Budget) => void): Column<Budget>[] {
  return [
    { key: 'model', label: 'Model', value: (b) => b.name, row: true,
      show: (b) => <>{b.name}<div class="muted small">{b.provider}/{b.id}</div></> },
    { key: 'state', label: 'State', value: state, show: (b) => <Dot status={state(b)} /> },
    usage('rpm', 'Requests / min'), usage('rpd', 'Requests / day'), usage('tpm', 'Tokens / min'), usage('tpd', 'Tokens / day'),
    { key: 'left', label: 'Left today', num: true, value: (b) => b.remaining_today.requests,
      show: (b) => b.remaining_today.requests == null && b.remaining_today.tokens == null ? <span class="muted">no daily cap</span>
        : <>{num(b.remaining_today.requests)} requests<div class="small">{num(b.remaining_today.tokens)} tokens</div></> },
    { key: 'resets', label: 'Resets at', value: (b) => b.resets_at_ms, show: (b) => (b.resets_at_ms ? day(b.resets_at_ms) : '—') },
    { key: 'month', label: 'Tokens this month', num: true, value: (b) => share(b.month_tokens_used, b.monthly_tokens) ?? b.month_tokens_used,
      show: (b) => <Use used={b.month_tokens_used} cap={b.monthly_tokens} /> },
    { key: 'hour', label: 'Requests last hour', value: (b) => b.last_hour_requests, num: true },
    { key: 'forecast', label: 'Forecast', value: (b) => b.runs_out_at_ms,
      show: (b) => (b.runs_out_at_ms ? <strong>runs out at {day(b.runs_out_at_ms)}</strong> : <span class="muted">not today</span>) },
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
  const release = (q: Quarantine) => act(
    () => api.release({ provider: q.provider, model: q.model || undefined, key_id: q.key_id ?? undefined }),
    `Released ${q.provider} ${q.model || 'all models'}.`);
  return (
    <Page title="Budgets" intro="Free-tier use against each model's caps, and what the router has benched or you switched off.">
      {(error ?? budgets.error) && <Problem error={(error ?? budgets.error)!} />}
      <p class="sr-only" aria-live="polite">{said}</p>
      {data.length === 0 ? <p class="empty">No models.</p>
        : <SortTable caption="Models" columns={columns(toggle)} rows={data} rowKey={(b) => `${b.provider}/${b.id}`} />}
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
