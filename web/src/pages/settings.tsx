// Settings: the theme and the dashboard PIN.
import { useState } from 'preact/hooks';
import { api } from '../api';
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

export function SettingsPage() {
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
    </Page>
  );
}
