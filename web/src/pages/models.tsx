// The capability matrix: which provider can serve what right now.
import { api } from '../api';
import { Loading, Page, Problem, useData } from '../ui';

const COLUMNS: [string, string][] = [
  ['chat', 'Chat'], ['tools', 'Tools'], ['vision', 'Vision'], ['embeddings', 'Embeddings'],
  ['image', 'Images'], ['tts', 'Speech'], ['stt', 'Transcription'], ['realtime', 'Realtime'], ['moderation', 'Moderation'],
];

type State = 'ready' | 'limited' | 'nokey' | 'unusable' | 'off' | 'none';
const TEXT: Record<State, string> = {
  ready: '● ready', limited: '◐ limited', nokey: '○ no key', unusable: '○ unavailable', off: '– off', none: '',
};

function Cell({ state }: { state: State }) {
  if (state === 'none') return <td class="cell-none"><span class="sr-only">not offered</span></td>;
  return <td class={`cell-${state}`}>{TEXT[state]}</td>;
}

export function ModelsPage() {
  const providers = useData(api.providers);
  const models = useData(api.models, 5000);
  const error = providers.error ?? models.error;
  if (error) return <Page title="Capabilities"><Problem error={error} retry={() => { providers.reload(); models.reload(); }} /></Page>;
  if (!providers.data || !models.data) return <Page title="Capabilities"><Loading /></Page>;
  const all = models.data;
  return (
    <Page title="Capabilities" intro="What each provider can serve now: ready means an enabled model with a usable key.">
      <p class="legend"><span class="cell-ready">● ready</span> <span class="cell-limited">◐ limited (rate limited or cooling down now)</span> <span class="cell-nokey">○ no key</span> <span class="cell-unusable">○ unavailable (keys invalid or switched off)</span> <span class="cell-off">– off (switched off)</span> <span class="muted">blank: not offered</span></p>
      <div class="table-wrap">
        <table class="matrix">
          <thead><tr><th scope="col">Provider</th>{COLUMNS.map(([, l]) => <th scope="col" key={l}>{l}</th>)}</tr></thead>
          <tbody>
            {providers.data.map((p) => {
              const mine = all.filter((m) => m.provider === p.id);
              return (
                <tr key={p.id}>
                  <th scope="row">
                    {p.docs_url ? <a href={p.docs_url} target="_blank" rel="noopener noreferrer">{p.name}</a> : p.name}
                    {p.key_url && !p.keyless && <> · <a href={p.key_url} target="_blank" rel="noopener noreferrer" class="small">Get a key</a></>}
                  </th>
                  {COLUMNS.map(([cap]) => {
                    const can = mine.filter((m) => m.capabilities.includes(cap));
                    const usable = can.filter((m) => m.usable);
                    const state: State = can.length === 0 ? 'none'
                      : usable.length > 0 ? (usable.some((m) => !m.limited) ? 'ready' : 'limited')
                      : !p.enabled || can.every((m) => !m.enabled) ? 'off'
                      : !p.keyless && p.keys === 0 ? 'nokey' : 'unusable';
                    return <Cell key={cap} state={state} />;
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Page>
  );
}
