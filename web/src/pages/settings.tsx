// Settings: the theme, the dashboard PIN, how long the request log is kept, whether it keeps
// prompts and answers, and how often keys are probed.
import { useState } from 'preact/hooks';
import { api, type Settings } from '../api';
import { applyTheme, Page, Problem, savedTheme, useData, type Theme } from '../ui';

function PinForm({ pinSet, done }: { pinSet: boolean; done: () => void }) {
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    if (pin !== again) { setError('The two PINs differ.'); return; }
    try {
      await api.setPin(pin);
      setPin(''); setAgain(''); setError(null);
      setNote(pinSet ? 'PIN changed: other sessions have ended.' : 'PIN set: the dashboard asks for it from now on.');
      done();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const clear = async () => {
    if (!confirm('Clear the PIN? The dashboard then answers only this machine.')) return;
    try {
      await api.clearPin();
      setNote('PIN cleared.');
      done();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card add" onSubmit={submit} aria-label="Dashboard PIN">
      <h2>Dashboard PIN</h2>
      <p class="muted">{pinSet ? 'A PIN protects the dashboard and /api.' : 'No PIN: the dashboard answers only this machine. Set one to use it from elsewhere.'}</p>
      <label for="pin">{pinSet ? 'New PIN' : 'PIN'} <span class="muted">(4 to 64 characters)</span></label>
      <input id="pin" type="password" autocomplete="new-password" minLength={4} maxLength={64} required value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
      <label for="pin2">Repeat it</label>
      <input id="pin2" type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
      <button type="submit">{pinSet ? 'Change PIN' : 'Set PIN'}</button>
      {pinSet && <button type="button" onClick={clear}>Clear PIN</button>}
      {pinSet && <button type="button" onClick={() => api.logout().then(() => location.reload())}>Log out</button>}
      {error && <p class="field-error" role="alert">{error}</p>}
      <p aria-live="polite">{note}</p>
    </form>
  );
}

function GatewayForm({ now, done }: { now: Settings; done: () => void }) {
  const [days, setDays] = useState(String(now.log_retention_days));
  const [probe, setProbe] = useState(String(Math.round(now.probe_interval_s / 60)));
  const [content, setContent] = useState(now.log_content === true);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const saved = await api.saveSettings({ log_retention_days: Number(days), probe_interval_s: Number(probe) * 60, log_content: content });
      setError(null);
      setNote(`Saved: the request log keeps ${saved.log_retention_days} days${saved.log_content ? ', with prompts and answers' : ''}; ${saved.probe_interval_s ? `keys are probed every ${saved.probe_interval_s / 60} min` : 'keys are not probed'}.`);
      done();
    } catch (err) {
      setError((err as Error).message);
      setNote('');
    }
  };
  return (
    <form class="card add" onSubmit={submit} aria-label="Gateway settings">
      <h2>Gateway</h2>
      <label for="retention">Keep the request log for <span class="muted">(days, 1 to 3650)</span></label>
      <input id="retention" type="number" inputMode="numeric" min={1} max={3650} required value={days} onInput={(e) => setDays(e.currentTarget.value)} />
      <label class="radio"><input id="log-content" type="checkbox" checked={content} onChange={(e) => setContent(e.currentTarget.checked)} /> Keep prompts and answers in the request log <span class="muted">(the first 8 KB of each, shown in a request's details; off: never stored)</span></label>
      <label for="probe">Check every key's health every <span class="muted">(minutes, 1 to 10080; 0: never)</span></label>
      <input id="probe" type="number" inputMode="numeric" min={0} max={10080} required value={probe} onInput={(e) => setProbe(e.currentTarget.value)} />
      <button type="submit">Save</button>
      {error && <p class="field-error" role="alert">{error}</p>}
      <p aria-live="polite">{note}</p>
    </form>
  );
}

export function SettingsPage() {
  const settings = useData(api.settings);
  const session = useData(api.session);
  const [theme, setTheme] = useState<Theme>(savedTheme());
  const pick = (t: Theme) => { setTheme(t); applyTheme(t); };
  return (
    <Page title="Settings">
      <fieldset class="card">
        <legend>Theme</legend>
        {(['system', 'light', 'dark'] as Theme[]).map((t) => (
          <label key={t} class="radio"><input type="radio" name="theme" checked={theme === t} onChange={() => pick(t)} /> {t}</label>
        ))}
      </fieldset>
      {session.error && <Problem error={session.error} retry={session.reload} />}
      {session.data && <PinForm pinSet={session.data.pin_set} done={session.reload} />}
      {settings.error && <Problem error={settings.error} retry={settings.reload} />}
      {settings.data && <GatewayForm now={settings.data} done={settings.reload} />}
    </Page>
  );
}
