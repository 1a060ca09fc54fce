// Code to copy: text in <pre><code> (never markup), a Copy button, and a tablist when there are
// several variants (languages); arrow keys, Home and End move between the tabs.
import { useRef, useState } from 'preact/hooks';

export function CopyButton({ text, label, class: cls }: { text: () => string | Promise<string>; label: string; class?: string }) {
  const [note, setNote] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(await text());
      setNote('Copied');
    } catch {
      setNote('Copy failed: select the text');
    }
    setTimeout(() => setNote(''), 1500);
  };
  return (
    <button type="button" class={cls} onClick={copy} aria-label={note ? undefined : label}>
      {note || 'Copy'}
    </button>
  );
}

export function Snippet({ id, title, variants, selected, onSelect }: {
  id: string; title: string; variants: [string, string, string][]; // [id, tab label, code]
  selected?: string; onSelect?: (v: string) => void;
}) {
  const [own, setOwn] = useState(variants[0][0]);
  const current = variants.find(([v]) => v === (selected ?? own)) ?? variants[0];
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const choose = (v: string) => (onSelect ? onSelect(v) : setOwn(v));
  const key = (e: KeyboardEvent, i: number) => {
    const n = variants.length;
    const to = e.key === 'ArrowRight' ? (i + 1) % n : e.key === 'ArrowLeft' ? (i - 1 + n) % n
      : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : -1;
    if (to < 0) return;
    e.preventDefault();
    choose(variants[to][0]);
    tabs.current[to]?.focus();
  };
  const code = (
    <div class={`code${variants.length === 1 ? ' alone' : ''}`}>
      <pre tabIndex={0}><code>{current[2]}</code></pre>
      <CopyButton class="copy" text={() => current[2]} label={`Copy ${title}${variants.length > 1 ? ` (${current[1]})` : ''}`} />
    </div>
  );
  if (variants.length === 1) return <div class="snippet" aria-label={title} role="group">{code}</div>;
  return (
    <div class="snippet">
      <div class="tabs" role="tablist" aria-label={`${title}: language`}>
        {variants.map(([v, label], i) => (
          <button key={v} type="button" role="tab" id={`${id}-tab-${v}`} aria-selected={v === current[0]} aria-controls={`${id}-panel`}
            tabIndex={v === current[0] ? 0 : -1} ref={(el) => { tabs.current[i] = el; }}
            onClick={() => choose(v)} onKeyDown={(e) => key(e, i)}>{label}</button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${current[0]}`}>{code}</div>
    </div>
  );
}
