// The fallback chain: chat models in the order the router tries them. Reorder by dragging or
// with the Move buttons (keyboard); each move is saved at once and routing follows it.
import { useState } from 'preact/hooks';
import { api, type Model } from '../api';
import { Dot, Loading, Page, Problem, useData } from '../ui';

const num = (n?: number) => (n ? n.toLocaleString() : '—');
// "used/cap" for a window, or just what was used when there is no cap.
const use = (m: Model, w: 'rpm' | 'rpd' | 'tpm' | 'tpd') => `${w} ${m.usage[w].toLocaleString()}/${num(m.limits[w])}`;
const key = (m: Model) => `${m.provider}/${m.id}`;

export function ChainPage() {
  const models = useData(api.models);
  const [order, setOrder] = useState<string[] | null>(null);
  const [said, setSaid] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState<string | null>(null);
  if (models.error) return <Page title="Fallback chain"><Problem error={models.error} retry={models.reload} /></Page>;
  if (!models.data) return <Page title="Fallback chain"><Loading /></Page>;
  const byKey = new Map(models.data.map((m) => [key(m), m]));
  const chat = models.data.filter((m) => m.kind === 'chat').sort((a, b) => a.chain_position - b.chain_position);
  const rows = (order ?? chat.map(key)).map((k) => byKey.get(k)!).filter(Boolean);

  const save = async (next: string[], what: string) => {
    setOrder(next);
    try {
      await api.setChain(next);
      setSaid(what);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const move = (i: number, d: number) => {
    const next = rows.map(key);
    const j = i + d;
    if (j < 0 || j >= next.length) return;
    [next[i], next[j]] = [next[j], next[i]];
    save(next, `${rows[i].name} moved to position ${j + 1}`);
  };
  const drop = (target: string) => {
    if (!dragging || dragging === target) return;
    const next = rows.map(key).filter((k) => k !== dragging);
    next.splice(next.indexOf(target), 0, dragging);
    save(next, `${byKey.get(dragging)?.name} moved to position ${next.indexOf(dragging) + 1}`);
    setDragging(null);
  };
  const toggle = async (m: Model) => {
    try {
      await api.setEnabled(m, !m.enabled);
      models.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const reset = async () => {
    if (!confirm('Reset the chain to the catalog order?')) return;
    await api.resetChain();
    setOrder(null);
    models.reload();
    setSaid('Chain reset to the catalog order');
  };
  return (
    <Page title="Fallback chain" intro="The router tries these models top to bottom, skipping any without a healthy key or over a free-tier cap.">
      {error && <Problem error={error} />}
      <p class="sr-only" aria-live="polite">{said}</p>
      <button type="button" onClick={reset}>Reset to catalog order</button>
      <ol class="chain">
        {rows.map((m, i) => (
          <li key={key(m)} class={`card chain-row${dragging === key(m) ? ' dragging' : ''}`} draggable
            onDragStart={() => setDragging(key(m))} onDragOver={(e) => e.preventDefault()} onDrop={() => drop(key(m))}
            data-model={key(m)}>
            <span class="pos">{i + 1}</span>
            <div class="chain-main">
              <strong>{m.name}</strong> <span class="muted">{m.provider}</span>
              <div class="muted small">{m.capabilities.join(', ')} · context {num(m.context_window)} · {use(m, 'rpm')} · {use(m, 'rpd')} · {use(m, 'tpm')} · {use(m, 'tpd')}</div>
            </div>
            <Dot status={m.usable ? 'ready' : 'nokey'} />
            <label class="toggle"><input type="checkbox" checked={m.enabled} onChange={() => toggle(m)} /> Enabled</label>
            <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${m.name} (${m.provider}) up`}>Up</button>
            <button type="button" onClick={() => move(i, 1)} disabled={i === rows.length - 1} aria-label={`Move ${m.name} (${m.provider}) down`}>Down</button>
          </li>
        ))}
      </ol>
    </Page>
  );
}
