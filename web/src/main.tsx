// The dashboard shell: header (unified key, theme), navigation, a tiny router over the History
// API, and the lock screen when a PIN is set and there is no session.
import { render } from 'preact';
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, whenLocked } from './api';
import { applyTheme, Loading, Page, Problem, savedTheme, type Theme } from './ui';
import { KeysPage } from './pages/keys';
import { ChainPage } from './pages/chain';
import { ModelsPage } from './pages/models';
import { SettingsPage } from './pages/settings';
import { LockPage } from './pages/lock';
import { LivePage } from './pages/live';
import { LogsPage } from './pages/logs';
import './styles.css';

// A page loaded when first opened (analytics brings the chart library): the first load stays small.
function Lazy({ title, load }: { title: string; load: () => Promise<ComponentType> }) {
  const [view, setView] = useState<{ C: ComponentType } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tries, setTries] = useState(0);
  useEffect(() => {
    load().then((C) => setView({ C }), (e: Error) => setError(`Could not load this page: ${e.message}`));
  }, [tries]);
  if (view) return <view.C />;
  return <Page title={title}>{error ? <Problem error={error} retry={() => { setError(null); setTries(tries + 1); }} /> : <Loading />}</Page>;
}
const analytics = () => import('./pages/analytics').then((m) => m.AnalyticsPage);
const playground = () => import('./pages/playground').then((m) => m.PlaygroundPage);
const testLab = () => import('./pages/lab').then((m) => m.LabPage);
const integrations = () => import('./pages/integrations').then((m) => m.IntegrationsPage);
const budgets = () => import('./pages/budgets').then((m) => m.BudgetsPage);

const ROUTES: { path: string; label: string; view: () => preact.JSX.Element }[] = [
  { path: '/keys', label: 'Keys', view: () => <KeysPage /> },
  { path: '/chain', label: 'Fallback chain', view: () => <ChainPage /> },
  { path: '/models', label: 'Capabilities', view: () => <ModelsPage /> },
  { path: '/analytics', label: 'Analytics', view: () => <Lazy key="analytics" title="Analytics" load={analytics} /> },
  { path: '/live', label: 'Live', view: () => <LivePage /> },
  { path: '/logs', label: 'Logs', view: () => <LogsPage /> },
  { path: '/budgets', label: 'Budgets', view: () => <Lazy key="budgets" title="Budgets" load={budgets} /> },
  { path: '/playground', label: 'Playground', view: () => <Lazy key="playground" title="Playground" load={playground} /> },
  { path: '/lab', label: 'Test Lab', view: () => <Lazy key="lab" title="Test Lab" load={testLab} /> },
  { path: '/integrations', label: 'Integrations', view: () => <Lazy key="integrations" title="Integrations" load={integrations} /> },
  { path: '/settings', label: 'Settings', view: () => <SettingsPage /> },
];

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

function UnifiedKey() {
  const [masked, setMasked] = useState<string | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [note, setNote] = useState('');
  useEffect(() => { api.unifiedMasked().then((r) => setMasked(r.masked)).catch(() => {}); }, []);
  const reveal = async () => setShown((await api.revealUnified()).key);
  const copy = async () => {
    const key = shown ?? (await api.revealUnified()).key;
    await navigator.clipboard.writeText(key).then(() => setNote('Copied'), () => setNote('Copy failed'));
    setTimeout(() => setNote(''), 1500);
  };
  const rotate = async () => {
    if (!confirm('Rotate the unified key? Clients using the current key stop working at once.')) return;
    const key = (await api.rotateUnified()).key;
    setShown(key);
    setMasked(null);
  };
  return (
    <div class="unified" aria-label="Unified API key">
      <code class="key">{shown ?? masked ?? '—'}</code>
      {!shown && <button type="button" onClick={reveal}>Reveal</button>}
      <button type="button" onClick={copy}>{note || 'Copy'}</button>
      <button type="button" onClick={rotate}>Rotate</button>
    </div>
  );
}

function ThemeSwitch() {
  const [theme, setTheme] = useState<Theme>(savedTheme());
  const order: Theme[] = ['system', 'light', 'dark'];
  const next = () => {
    const t = order[(order.indexOf(theme) + 1) % order.length];
    setTheme(t);
    applyTheme(t);
  };
  return <button type="button" class="theme" onClick={next} aria-label={`Theme: ${theme}. Change theme`}>Theme: {theme}</button>;
}

function App() {
  const path = usePath();
  const [locked, setLocked] = useState(false);
  const [menu, setMenu] = useState(false);
  useEffect(() => {
    whenLocked(() => setLocked(true));
    api.session().then((s) => setLocked(s.pin_set && !s.authenticated)).catch(() => {});
  }, []);
  useEffect(() => { if (path === '/' || path === '') navigate('/keys'); }, [path]);
  if (locked) return <LockPage onOpen={() => { setLocked(false); navigate(location.pathname); }} />;
  const route = ROUTES.find((r) => r.path === path) ?? ROUTES[0];
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="/keys" onClick={(e) => { e.preventDefault(); navigate('/keys'); }}>FreeLLMAPI</a>
        <button type="button" class="menu" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>Menu</button>
        <UnifiedKey />
        <ThemeSwitch />
      </header>
      <nav id="nav" class={menu ? 'open' : ''} aria-label="Pages">
        <ul>
          {ROUTES.map((r) => (
            <li key={r.path}>
              <a href={r.path} aria-current={r.path === route.path ? 'page' : undefined}
                onClick={(e) => { e.preventDefault(); setMenu(false); navigate(r.path); }}>{r.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">{route.view()}</main>
    </div>
  );
}

applyTheme(savedTheme());
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(savedTheme()));
render(<App />, document.getElementById('app')!);
