// The playground: try every capability the gateway serves, through /api/v1 (the server applies
// the unified key, so the page never holds one). One tab per capability; what each tab holds
// stays while the app is open.
import { useRef, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { api, type Model } from '../api';
import { Page, Problem, useData } from '../ui';
import { ChatTab } from '../playground/chat';
import { VisionTab } from '../playground/vision';
import { ToolsTab } from '../playground/tools';
import { EmbeddingsTab } from '../playground/embeddings';
import { ImagesTab } from '../playground/images';
import { SpeechTab } from '../playground/speech';
import { TranscribeTab } from '../playground/transcribe';
import { RealtimeTab } from '../playground/realtime';
import '../playground/playground.css';

const TABS: { id: string; label: string; C: ComponentType<{ models: Model[] }> }[] = [
  { id: 'chat', label: 'Chat', C: ChatTab },
  { id: 'vision', label: 'Vision', C: VisionTab },
  { id: 'tools', label: 'Tools', C: ToolsTab },
  { id: 'embeddings', label: 'Embeddings', C: EmbeddingsTab },
  { id: 'images', label: 'Images', C: ImagesTab },
  { id: 'speech', label: 'Speech', C: SpeechTab },
  { id: 'transcribe', label: 'Transcription', C: TranscribeTab },
  { id: 'realtime', label: 'Realtime voice', C: RealtimeTab },
];

let lastTab = 'chat'; // the tab shown when the page is opened again

export function PlaygroundPage() {
  const models = useData(api.models);
  const [tab, setTab] = useState(lastTab);
  const list = useRef<HTMLDivElement>(null);
  const pick = (id: string, focus = false) => {
    lastTab = id;
    setTab(id);
    if (focus) list.current?.querySelector<HTMLElement>(`#tab-${id}`)?.focus();
  };
  // Arrow keys move between tabs (and choose), Home and End go to the first and last.
  const keys = (e: KeyboardEvent) => {
    const i = TABS.findIndex((t) => t.id === tab);
    const n = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? i - 1
      : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (n === null) return;
    e.preventDefault();
    pick(TABS[(n + TABS.length) % TABS.length].id, true);
  };
  const cur = TABS.find((t) => t.id === tab) ?? TABS[0];
  return (
    <Page title="Playground" intro="Try each capability through the gateway: requests route, fall over and are logged like any client's, with the unified key applied by the server.">
      {models.error && <Problem error={`The model list could not be loaded (${models.error}): only auto is offered.`} retry={models.reload} />}
      <div class="tabs" role="tablist" aria-label="Capabilities" ref={list} onKeyDown={keys}>
        {TABS.map((t) => (
          <button key={t.id} id={`tab-${t.id}`} type="button" role="tab" aria-selected={t.id === cur.id} aria-controls={`panel-${t.id}`}
            tabIndex={t.id === cur.id ? 0 : -1} onClick={() => pick(t.id)}>{t.label}</button>
        ))}
      </div>
      <div class="tabpanel" id={`panel-${cur.id}`} role="tabpanel" aria-labelledby={`tab-${cur.id}`} tabIndex={0}>
        <h2 class="sr-only">{cur.label}</h2>
        <cur.C models={models.data ?? []} />
      </div>
    </Page>
  );
}
