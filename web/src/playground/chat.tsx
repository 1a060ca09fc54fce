// Chat: a streamed conversation with any chat model (or auto). The answer is shown as it arrives,
// rendered as safe Markdown; Stop aborts the fetch, which makes the gateway cancel the upstream
// call. The conversation stays while the app is open.
import { useEffect, useRef } from 'preact/hooks';
import type { Model } from '../api';
import { errorText, isAbort, NEEDS, streamChat, type Message, type Route } from './api';
import { Failure, ModelPicker, RouteNote, Status, store } from './common';
import { CopyButton, Markdown } from './markdown';

interface Turn { role: 'user' | 'assistant'; text: string; route?: Route | null; error?: string; pending?: boolean; stopped?: boolean }

const chat = store({
  turns: [] as Turn[], model: 'auto', system: '', temperature: '', maxTokens: '', input: '', status: '',
});
let running: AbortController | null = null;

function replaceLast(change: Partial<Turn>) {
  const turns = chat.get().turns.slice();
  turns[turns.length - 1] = { ...turns[turns.length - 1], ...change };
  chat.set({ turns });
}

async function ask(text: string) {
  const s = chat.get();
  // A failed exchange (the question and its error) is left out of what the model sees.
  const history: Message[] = s.turns
    .filter((t, i) => t.text && !t.error && !(t.role === 'user' && s.turns[i + 1]?.error))
    .map((t) => ({ role: t.role, content: t.text }));
  const messages: Message[] = [...(s.system.trim() ? [{ role: 'system' as const, content: s.system }] : []), ...history, { role: 'user', content: text }];
  const body: Record<string, unknown> = { model: s.model, messages };
  if (s.temperature !== '') body.temperature = Number(s.temperature);
  if (s.maxTokens !== '') body.max_tokens = Number(s.maxTokens);
  chat.set({ turns: [...s.turns, { role: 'user', text }, { role: 'assistant', text: '', pending: true }], input: '', status: 'Waiting for the first words…' });
  const ctl = new AbortController();
  running = ctl;
  // Pieces arrive faster than the screen redraws: they are shown once per frame.
  let buf = '';
  let frame = 0;
  const flush = () => {
    frame = 0;
    if (buf) { replaceLast({ text: chat.get().turns[chat.get().turns.length - 1].text + buf }); buf = ''; }
  };
  try {
    await streamChat(body, ctl.signal, (d) => {
      buf += d;
      if (!frame) frame = requestAnimationFrame(flush);
    }, (route) => { replaceLast({ route }); chat.set({ status: 'Answering…' }); });
    cancelAnimationFrame(frame); flush();
    replaceLast({ pending: false });
    chat.set({ status: 'Answer complete.' });
  } catch (e) {
    cancelAnimationFrame(frame); flush();
    if (isAbort(e)) { replaceLast({ pending: false, stopped: true }); chat.set({ status: 'Stopped.' }); }
    else { replaceLast({ pending: false, error: errorText(e) }); chat.set({ status: 'The request failed.' }); }
  } finally {
    if (running === ctl) running = null;
  }
}

export function ChatTab({ models }: { models: Model[] }) {
  const s = chat.use();
  const busy = s.turns.some((t) => t.pending);
  const end = useRef<HTMLDivElement>(null);
  const last = s.turns[s.turns.length - 1];
  useEffect(() => { if (busy) end.current?.scrollIntoView({ block: 'nearest' }); }, [last?.text.length]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (!busy && s.input.trim()) ask(s.input.trim());
  };
  return (
    <div>
      <details class="card settings">
        <summary>Model and settings</summary>
        <div class="fields">
          <ModelPicker id="chat-model" models={models} need={NEEDS.chat} value={s.model} onChange={(model) => chat.set({ model })} />
          <div class="field">
            <label for="chat-temp">Temperature <span class="muted">(0–2; blank: the model's default)</span></label>
            <input id="chat-temp" type="number" inputMode="decimal" min={0} max={2} step={0.1} value={s.temperature} onInput={(e) => chat.set({ temperature: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="chat-max">Max tokens <span class="muted">(blank: no limit)</span></label>
            <input id="chat-max" type="number" inputMode="numeric" min={1} step={1} value={s.maxTokens} onInput={(e) => chat.set({ maxTokens: e.currentTarget.value })} />
          </div>
        </div>
        <label for="chat-system">System prompt</label>
        <textarea id="chat-system" rows={2} value={s.system} placeholder="e.g. Answer briefly." onInput={(e) => chat.set({ system: e.currentTarget.value })} />
      </details>
      {s.turns.length === 0 ? <p class="muted">No messages yet: ask something below.</p> : (
        <ol class="turns" aria-label="Conversation">
          {s.turns.map((t, i) => (
            <li key={i} class={`turn turn-${t.role}`}>
              <div class="turn-head">
                <strong>{t.role === 'user' ? 'You' : 'Model'}</strong>
                {t.role === 'assistant' && <RouteNote route={t.route ?? null} />}
                {t.role === 'assistant' && t.text && !t.pending && <CopyButton text={t.text} label="Copy answer" />}
              </div>
              {t.role === 'user' ? <p class="plain">{t.text}</p> : <Markdown text={t.text} />}
              {t.pending && !t.text && <p class="muted small">Waiting…</p>}
              {t.stopped && <p class="muted small">(stopped)</p>}
              {t.error && <Failure error={t.error} />}
            </li>
          ))}
        </ol>
      )}
      <div ref={end} />
      <form class="composer" onSubmit={submit}>
        <label for="chat-input">Message</label>
        <textarea id="chat-input" rows={3} value={s.input} placeholder="Ask something (Enter sends, Shift+Enter: a new line)"
          onInput={(e) => chat.set({ input: e.currentTarget.value })}
          onKeyDown={(e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e); }} />
        <div class="actions">
          <button type="submit" disabled={busy || !s.input.trim()}>Send</button>
          <button type="button" disabled={!busy} onClick={() => running?.abort()}>Stop</button>
          <button type="button" disabled={busy || s.turns.length === 0} onClick={() => chat.set({ turns: [], status: 'Conversation cleared.' })}>Clear conversation</button>
        </div>
        <Status text={s.status} />
      </form>
    </div>
  );
}
