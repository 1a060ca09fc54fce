// Integrations: the base URL and unified key to point clients at, code per capability in
// JavaScript, Python and cURL, and configurations for the tools people use with such a gateway;
// all built from this gateway's address and catalog (a usable model fit for each use).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Loading, Page, Problem, useData } from '../ui';
import { CopyButton, Snippet } from '../lab/code';
import { CAPABILITIES, LANGS, pick, tools, type Lang } from '../lab/snippets';
import '../lab/lab.css';

function Connection({ base, masked, shown, reveal, error }: {
  base: string; masked: string | null; shown: string | null; reveal: () => Promise<string>; error: string | null;
}) {
  return (
    <section class="card" aria-labelledby="conn-title">
      <h2 id="conn-title">Connection</h2>
      <dl class="facts conn-facts">
        <dt>Base URL</dt>
        <dd><code>{base}</code><CopyButton text={() => base} label="Copy the base URL" /></dd>
        <dt>API key</dt>
        <dd>
          <code>{shown ?? masked ?? '—'}</code>
          {!shown && <button type="button" onClick={() => { reveal().catch(() => {}); }} aria-label="Reveal the API key">Reveal</button>}
          <CopyButton text={reveal} label="Copy the API key" />
        </dd>
      </dl>
      {error && <p class="field-error" role="alert">{error}</p>}
      <p class="muted small">{shown ? 'The snippets below carry the real key: treat them as secrets.'
        : 'The snippets below show the key masked; Reveal puts the real key in them.'} Any OpenAI-compatible client works with these two values; Anthropic clients take the base URL without <code>/v1</code>.</p>
    </section>
  );
}

export function IntegrationsPage() {
  const models = useData(api.models);
  const [masked, setMasked] = useState<string | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [keyError, setKeyError] = useState<string | null>(null);
  const [lang, setLang] = useState<Lang>('js');
  useEffect(() => { api.unifiedMasked().then((r) => setMasked(r.masked), (e: Error) => setKeyError(e.message)); }, []);
  const reveal = async () => {
    if (shown) return shown;
    try {
      const { key } = await api.revealUnified();
      setShown(key);
      setKeyError(null);
      return key;
    } catch (e) {
      setKeyError((e as Error).message);
      throw e;
    }
  };
  const base = `${location.origin}/v1`;
  const key = shown ?? masked ?? 'YOUR_FREELLMAPI_KEY';
  const intro = 'Point any OpenAI-compatible client, SDK or tool at this gateway: copy-ready code built from this gateway and its catalog.';
  if (models.error && !models.data) return <Page title="Integrations"><Problem error={models.error} retry={models.reload} /></Page>;
  if (!models.data) return <Page title="Integrations" intro={intro}><Loading /></Page>;
  const list = models.data;
  const chat = pick(list, 'chat', 'chat', 'tools');
  const toolCtx = { base, key, model: chat?.id ?? 'auto', tools: chat?.capabilities.includes('tools') ?? false };
  return (
    <Page title="Integrations" intro={intro}>
      <Connection base={base} masked={masked} shown={shown} reveal={reveal} error={keyError} />
      <h2 class="section">Code by capability</h2>
      <p class="muted">Each names the first usable model of this catalog (in routing order) that can do it; <code>auto</code> when none has a key yet (the gateway then picks). Any id from <code>GET /v1/models</code> works.</p>
      {CAPABILITIES.map((c) => {
        const m = pick(list, c.cap, c.kind);
        const code = c.code({ base, key, model: m?.id ?? 'auto' });
        return (
          <section key={c.id} aria-labelledby={`cap-${c.id}`}>
            <div class="cap-head">
              <h3 id={`cap-${c.id}`}>{c.label}</h3>
              <span class="muted small">{m ? <>model <code>{m.id}</code> ({m.name}, {m.provider})</> : <>model <code>auto</code>: no usable model can do this yet</>}</span>
            </div>
            <Snippet id={`snip-${c.id}`} title={`${c.label} example`} variants={LANGS.map(([l, label]) => [l, label, code[l]])}
              selected={lang} onSelect={(v) => setLang(v as Lang)} />
          </section>
        );
      })}
      <h2 class="section">Tools</h2>
      <p class="muted">{chat ? <>Configured with <code>{chat.id}</code> ({chat.name}, {chat.provider}), the first usable chat model{toolCtx.tools ? ' that calls tools' : ''}; <code>auto</code> or any other id works too.</>
        : <>No chat model has a usable key yet: these name <code>auto</code>.</>}</p>
      {tools(toolCtx).map((t) => (
        <section key={t.id} aria-labelledby={`tool-${t.id}`}>
          <div class="cap-head"><h3 id={`tool-${t.id}`}>{t.label}</h3><span class="muted small">{t.where}</span></div>
          <Snippet id={`tool-${t.id}-code`} title={`${t.label} configuration`} variants={t.variants} />
        </section>
      ))}
    </Page>
  );
}
