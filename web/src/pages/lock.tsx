// The locked screen: a PIN is set and this browser has no session.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';

export function LockPage({ onOpen }: { onOpen: () => void }) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [wait, setWait] = useState(0);
  useEffect(() => {
    document.title = 'Locked · FreeLLMAPI';
    if (wait <= 0) return;
    const t = setTimeout(() => setWait(wait - 1), 1000);
    return () => clearTimeout(t);
  }, [wait]);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api.login(pin);
      onOpen();
    } catch (err) {
      const a = err as ApiError;
      setError(a.message);
      setWait(a.retryAfter || 0);
      setPin('');
    }
  };
  return (
    <main class="lock" id="main">
      <form class="card add" onSubmit={submit} aria-label="Unlock the dashboard">
        <h1>FreeLLMAPI is locked</h1>
        <label for="unlock-pin">PIN</label>
        <input id="unlock-pin" type="password" autocomplete="current-password" required autoFocus value={pin} onInput={(e) => setPin(e.currentTarget.value)} />
        <button type="submit" disabled={wait > 0}>{wait > 0 ? `Wait ${wait} s` : 'Unlock'}</button>
        {error && <p class="field-error" role="alert">{error}</p>}
      </form>
    </main>
  );
}
