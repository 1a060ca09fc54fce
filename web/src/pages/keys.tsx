// Keys: every provider with where to get a key and what it serves, its keys with their health,
// a form to add one, and a batch import from a pasted .env block. Polls so that keys added from
// the CLI show up without a reload.
import { useState } from 'preact/hooks';
import { api, type Added, type Key, type Provider } from '../api';
import { Dot, Loading, Page, Problem, useData, when } from '../ui';

// .env variable names people already have, by provider id (any provider also takes <ID>_API_KEY).
const ENV_NAMES: Record<string, string> = {
  GEMINI_API_KEY: 'google', GOOGLE_API_KEY: 'google', GROQ_API_KEY: 'groq', CEREBRAS_API_KEY: 'cerebras',
  SAMBANOVA_API_KEY: 'sambanova', NVIDIA_API_KEY: 'nvidia', MISTRAL_API_KEY: 'mistral',
  OPENROUTER_API_KEY: 'openrouter', GITHUB_TOKEN: 'github', GITHUB_MODELS_TOKEN: 'github',
  COHERE_API_KEY: 'cohere', CLOUDFLARE_API_TOKEN: 'cloudflare', ZHIPU_API_KEY: 'zhipu', ZAI_API_KEY: 'zhipu',
  OLLAMA_API_KEY: 'ollama',
};

interface Found { provider: string; secret: string; account_id?: string }

export function parseEnv(text: string, providers: Provider[]): { found: Found[]; skipped: string[] } {
  const vars = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^export\s+/, '');
    const m = line.match(/^([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/);
    if (m) vars.set(m[1], m[2].replace(/^["']|["']$/g, '').trim());
  }
  const ids = new Set(providers.map((p) => p.id));
  const found: Found[] = [];
  const skipped: string[] = [];
  for (const [name, value] of vars) {
    if (name === 'CLOUDFLARE_ACCOUNT_ID') continue;
    const id = ENV_NAMES[name] ?? (name.endsWith('_API_KEY') ? name.slice(0, -8).toLowerCase() : '');
    if (!ids.has(id) || !value) { skipped.push(name); continue; }
    const f: Found = { provider: id, secret: value };
    if (providers.find((p) => p.id === id)?.needs_account_id) f.account_id = vars.get('CLOUDFLARE_ACCOUNT_ID') ?? '';
    found.push(f);
  }
  return { found, skipped };
}

// What the first check of a key just added found, in words.
export function addedNote(a: Added): string {
  if (!a.checked) return 'Key added; its check is still running (the status shows below).';
  const detail = a.key.status_detail ? ` (${a.key.status_detail})` : '';
  switch (a.key.status) {
    case 'healthy': return 'Key added and checked: the provider accepts it.';
    case 'invalid': return `Key added, but the provider refused it${detail}: check that it was copied whole.`;
    case 'rate_limited': return `Key added: the provider accepts it but it is rate limited right now${detail}.`;
    default: return `Key added; the check failed${detail}. It is checked again later.`;
  }
}

const mask = (s: string) => (s.length <= 8 ? '••••' : `${s.slice(0, 4)}…${s.slice(-4)}`);

function AddKey({ p, done }: { p: Provider; done: () => void }) {
  const [secret, setSecret] = useState('');
  const [label, setLabel] = useState('');
  const [account, setAccount] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNote('Adding and checking the key…');
    try {
      const added = await api.addKey({ provider: p.id, secret: secret.trim(), label: label.trim() || undefined, account_id: p.needs_account_id ? account.trim() : undefined });
      setSecret(''); setLabel(''); setAccount(''); setError(null);
      setNote(addedNote(added));
      done();
    } catch (err) {
      setError((err as Error).message);
      setNote('');
    } finally {
      setBusy(false);
    }
  };
  const id = `add-${p.id}`;
  return (
    <form class="add" onSubmit={submit} aria-label={`Add a ${p.name} key`}>
      <label for={`${id}-secret`}>Key</label>
      <input id={`${id}-secret`} type="password" autocomplete="off" required value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
      {p.needs_account_id && (<>
        <label for={`${id}-account`}>Account ID</label>
        <input id={`${id}-account`} required value={account} onInput={(e) => setAccount(e.currentTarget.value)} />
      </>)}
      <label for={`${id}-label`}>Label <span class="muted">(optional)</span></label>
      <input id={`${id}-label`} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
      <button type="submit" disabled={busy}>Add key</button>
      {error && <p class="field-error" role="alert">{error}</p>}
      {note && <p class="muted" role="status">{note}</p>}
    </form>
  );
}

function KeyRow({ k, done }: { k: Key; done: () => void }) {
  const remove = async () => {
    if (!confirm(`Remove the ${k.provider} key ${k.label || k.masked}?`)) return;
    await api.removeKey(k.id);
    done();
  };
  const rename = async () => {
    const label = prompt(`New label for ${k.label || k.masked}`, k.label);
    if (label === null) return;
    await api.updateKey(k.id, { label: label.trim() });
    done();
  };
  const toggle = async () => {
    await api.updateKey(k.id, { enabled: !k.enabled });
    done();
  };
  const name = k.label || k.masked;
  const [note, setNote] = useState('');
  const check = async () => {
    try {
      await api.checkKey(k.id);
      setNote('checking…');
      setTimeout(() => setNote(''), 4000);
    } catch (e) {
      setNote((e as Error).message);
    }
  };
  return (
    <li class={`key-row${k.enabled ? '' : ' off'}`}>
      {k.enabled ? <Dot status={k.status} /> : <span class="dot">switched off</span>}
      <span class="key-label">{k.label || 'no label'}</span>
      <code>{k.masked}</code>
      <span class="muted" title={k.status_detail ?? undefined}>checked {when(k.checked_at)}</span>
      {k.enabled && <button type="button" onClick={check} aria-label={`Check key ${name} now`}>Check now</button>}
      {note && <span class="muted" role="status">{note}</span>}
      <button type="button" onClick={rename} aria-label={`Rename key ${name}`}>Rename</button>
      <button type="button" onClick={toggle} aria-label={`${k.enabled ? 'Switch off' : 'Switch on'} key ${name}`}>{k.enabled ? 'Switch off' : 'Switch on'}</button>
      <button type="button" onClick={remove} aria-label={`Remove key ${name}`}>Remove</button>
    </li>
  );
}

function BatchImport({ providers, done }: { providers: Provider[]; done: () => void }) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<string[]>([]);
  const { found, skipped } = parseEnv(text, providers);
  const save = async () => {
    const out: string[] = [];
    for (const f of found) {
      try {
        out.push(`${f.provider}: ${addedNote(await api.addKey(f))}`);
      } catch (e) {
        out.push(`${f.provider}: ${(e as Error).message}`);
      }
    }
    setResults(out);
    setText('');
    done();
  };
  return (
    <details class="card">
      <summary>Import several keys from a .env block</summary>
      <label for="env-block">Paste lines like <code>GROQ_API_KEY=gsk_…</code></label>
      <textarea id="env-block" rows={5} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      {found.length > 0 && (
        <table class="preview">
          <caption>Keys found</caption>
          <thead><tr><th scope="col">Provider</th><th scope="col">Key</th></tr></thead>
          <tbody>{found.map((f, i) => <tr key={i}><td>{f.provider}</td><td><code>{mask(f.secret)}</code></td></tr>)}</tbody>
        </table>
      )}
      {skipped.length > 0 && <p class="muted">Not recognised: {skipped.join(', ')}</p>}
      <button type="button" disabled={found.length === 0} onClick={save}>Save {found.length || ''} key{found.length === 1 ? '' : 's'}</button>
      {results.length > 0 && <ul aria-live="polite">{results.map((r) => <li key={r}>{r}</li>)}</ul>}
    </details>
  );
}

export function KeysPage() {
  const providers = useData(api.providers);
  const keys = useData(api.keys, 2000);
  const reload = () => { keys.reload(); providers.reload(); };
  if (providers.error) return <Page title="Keys"><Problem error={providers.error} retry={providers.reload} /></Page>;
  if (!providers.data || !keys.data) return <Page title="Keys"><Loading /></Page>;
  const all = keys.data;
  return (
    <Page title="Keys" intro="Add the free-tier keys you have; the gateway routes each request to the best model with a healthy key.">
      {keys.error && <Problem error={keys.error} retry={keys.reload} />}
      {all.length === 0 && <p class="empty">No keys yet: add one below.</p>}
      <BatchImport providers={providers.data} done={reload} />
      <ul class="providers">
        {providers.data.map((p) => {
          const mine = all.filter((k) => k.provider === p.id);
          return (
            <li key={p.id} class="card provider">
              <div class="provider-head">
                <h2>{p.name} <span class="muted">({p.id})</span></h2>
                <p class="links">
                  {p.key_url && <a href={p.key_url} target="_blank" rel="noopener noreferrer">Get a key</a>}
                  {p.docs_url && <a href={p.docs_url} target="_blank" rel="noopener noreferrer">Docs</a>}
                </p>
              </div>
              <p class="muted">Serves: {p.capabilities.join(', ')}{p.keyless ? ' · works without a key' : ''}{!p.enabled ? ' · off by default' : ''}</p>
              {mine.length > 0 && <ul class="keys">{mine.map((k) => <KeyRow key={k.id} k={k} done={reload} />)}</ul>}
              <AddKey p={p} done={reload} />
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
