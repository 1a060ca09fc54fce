// Live: every request as it finishes, pushed by the gateway (/api/live, Server-Sent Events; no
// polling). Newest first, at most 500 kept; Pause holds new ones back (counted) until Resume.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type RequestEvent } from '../api';
import { Page } from '../ui';
import { Badge, clock, diagnosisText, ms, num } from '../shared';

const MAX = 500;
type Row = RequestEvent & { seq: number };
type Conn = 'connecting' | 'open' | 'retrying' | 'closed';
const CONN: Record<Conn, string> = {
  connecting: 'Connecting…',
  open: 'Connected: requests appear as they finish.',
  retrying: 'Connection lost: reconnecting…',
  closed: 'Disconnected (the gateway refused the stream: too many open, or the session ended).',
};
const via = (r: RequestEvent) => (r.provider ? `${r.provider}/${r.model ?? '?'}` : '—');
const matches = (r: RequestEvent, q: string) =>
  [r.endpoint, r.provider, r.model, String(r.status), r.diagnosis, r.diagnosis && diagnosisText(r.diagnosis)]
    .some((s) => s != null && s.toLowerCase().includes(q));

function Rows({ rows }: { rows: Row[] }) {
  return (
    <div class="table-wrap">
      <table class="grid">
        <caption class="sr-only">Finished requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th><th scope="col">Endpoint</th><th scope="col">Routed via</th>
            <th scope="col" class="num">Attempts</th><th scope="col" class="num">Status</th><th scope="col" class="num">Latency</th>
            <th scope="col" class="num">Tokens in / out</th><th scope="col">Diagnosis</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.seq}>
              <td>{clock(r.at_ms)}</td>
              <td>{r.endpoint}{r.stream && <span class="muted small"> · stream</span>}</td>
              <td>{via(r)}</td>
              <td class="num">{r.attempts}</td>
              <td class="num">{r.status}</td>
              <td class="num">{ms(r.latency_ms)}</td>
              <td class="num">{num(r.tokens_in)} / {num(r.tokens_out)}</td>
              <td>{r.diagnosis ? <Badge d={r.diagnosis} /> : <span class="muted">ok</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function LivePage() {
  const [rows, setRows] = useState<Row[]>([]);
  const [conn, setConn] = useState<Conn>('connecting');
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0); // arrived while paused
  const [dropped, setDropped] = useState(0);
  const [filter, setFilter] = useState('');
  const [session, setSession] = useState(0); // a new one reconnects
  const st = useRef({ paused: false, seq: 0, pending: [] as Row[], buffer: [] as Row[], held: 0, frame: 0 });

  useEffect(() => {
    const s = st.current;
    // Events are gathered and drawn at most five times a second, not one render each.
    const flush = () => {
      s.frame = 0;
      if (s.pending.length) {
        const fresh = s.pending.reverse();
        s.pending = [];
        setRows((old) => fresh.concat(old).slice(0, MAX));
      }
      setHeld(s.held);
    };
    const es = new EventSource('/api/live');
    setConn('connecting');
    es.onopen = () => setConn('open');
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) { setConn('retrying'); return; }
      setConn('closed');
      api.status().catch(() => {}); // shows the lock screen if it was the session that ended
    };
    es.addEventListener('request', (e: MessageEvent<string>) => {
      let ev: RequestEvent;
      try { ev = JSON.parse(e.data); } catch { return; }
      const row = { ...ev, seq: ++s.seq };
      const into = s.paused ? s.buffer : s.pending;
      into.push(row);
      if (into.length > MAX) into.shift();
      if (s.paused) s.held++;
      if (!s.frame) s.frame = window.setTimeout(flush, 200);
    });
    es.addEventListener('dropped', (e: MessageEvent<string>) => {
      try { setDropped((n) => n + (Number(JSON.parse(e.data).count) || 0)); } catch { /* not JSON: ignored */ }
    });
    return () => { es.close(); clearTimeout(s.frame); s.frame = 0; };
  }, [session]);

  const toggle = () => {
    const s = st.current;
    if (s.paused) {
      const fresh = s.buffer.reverse();
      s.buffer = [];
      s.held = 0;
      setHeld(0);
      setRows((old) => fresh.concat(old).slice(0, MAX));
    }
    s.paused = !s.paused;
    setPaused(s.paused);
  };
  const q = filter.trim().toLowerCase();
  const visible = useMemo(() => (q ? rows.filter((r) => matches(r, q)) : rows), [rows, q]);
  // The same table element while nothing in it changed: counting held events redraws no rows.
  const table = useMemo(() => <Rows rows={visible} />, [visible]);
  return (
    <Page title="Live" intro="Requests as they finish, newest first (the last 500).">
      <div class="toolbar">
        <p class={`conn conn-${conn}`} role="status"><span class="dot-mark" aria-hidden="true" /> {CONN[conn]}</p>
        {conn === 'closed' && <button type="button" onClick={() => setSession((n) => n + 1)}>Reconnect</button>}
        <button type="button" onClick={toggle}>{paused ? 'Resume' : 'Pause'}</button>
        {paused && <span class="held">{held > 0 ? `${num(held)} new${held > MAX ? ` (the last ${MAX} are kept)` : ''}` : 'Paused'}</span>}
        <label class="filter">
          <span>Filter</span>
          <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)}
            placeholder="endpoint, provider, model, status, diagnosis" />
        </label>
      </div>
      {dropped > 0 && <p class="banner warn" role="status">{num(dropped)} requests were skipped because this page fell behind.</p>}
      <p class="muted small">{q ? `${num(visible.length)} of ${num(rows.length)} requests match.` : `${num(rows.length)} requests.`}</p>
      {rows.length > 0 ? table : conn === 'open' && <p class="empty">Waiting for requests…</p>}
    </Page>
  );
}
