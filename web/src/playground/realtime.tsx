// Realtime voice: a session minted by the gateway (POST /api/v1/realtime/sessions: a single-use
// token and the connect_url it opens), then a WebSocket straight to that URL. Microphone audio is
// streamed as 16-bit PCM; the model's audio is played as it arrives; both transcripts are shown;
// the model's function calls are answered from the example tool set.
//
// Two wire protocols: the gateway's sessions are Gemini Live's constrained socket
// (BidiGenerateContentConstrained: setup, realtimeInput, serverContent, toolCall, toolResponse;
// 16 kHz in, 24 kHz out). Any other connect_url is taken to speak OpenAI's Realtime events
// (input_audio_buffer.append at 24 kHz, response.(output_)audio.delta, function_call_output).
import { useEffect } from 'preact/hooks';
import type { Model } from '../api';
import { errorText, micError, NEEDS, postJson, runTool, parseArgs, TOOLS } from './api';
import { Failure, ModelPicker, store } from './common';

interface Line { who: 'You' | 'Model' | 'Tool' | 'Note'; text: string; open: boolean }
interface Session {
  id?: string; model?: string; connect_url?: string | null; client_secret?: { value: string; expires_at: number };
  config?: { provider?: string; model?: string; voice?: string | null; tools?: string[] };
}

const VOICES = ['', 'alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'Kore', 'Puck', 'Charon', 'Zephyr'];

const live = store({
  model: 'auto', voice: '', instructions: 'You are a friendly voice assistant. Keep answers short.',
  phase: 'idle' as 'idle' | 'starting' | 'live' | 'closed', status: 'Not connected.', error: null as string | null,
  lines: [] as Line[], via: '', muted: false, mic: false, typed: '',
});

// One running session's resources: everything stop() must release.
let cur: {
  ws: WebSocket | null; gemini: boolean; stream: MediaStream | null; inCtx: AudioContext | null; outCtx: AudioContext | null;
  node: ScriptProcessorNode | null; playAt: number; playing: Set<AudioBufferSourceNode>; handled: Set<string>; stopped: boolean;
} | null = null;

function say(who: Line['who'], text: string, open = false) {
  if (!text) return;
  const lines = live.get().lines.slice();
  const last = lines[lines.length - 1];
  if (last && last.who === who && last.open) lines[lines.length - 1] = { ...last, text: last.text + text, open };
  else lines.push({ who, text, open });
  live.set({ lines: lines.slice(-200) });
}
function closeLine(who: Line['who']) {
  const lines = live.get().lines.map((l) => (l.who === who && l.open ? { ...l, open: false } : l));
  live.set({ lines });
}

// ---- audio ----------------------------------------------------------------------------------

function b64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
function unb64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// Float samples at inRate to 16-bit PCM at outRate (linear interpolation across blocks).
function resampler(inRate: number, outRate: number) {
  const step = inRate / outRate;
  let pos = 0;
  let prev = 0;
  return (x: Float32Array): Int16Array => {
    const out: number[] = [];
    for (; pos <= x.length - 1; pos += step) {
      const i = Math.floor(pos), f = pos - i;
      const a = i < 0 ? prev : x[i], b = x[i + 1] ?? a;
      const v = Math.max(-1, Math.min(1, a + (b - a) * f));
      out.push(v < 0 ? v * 0x8000 : v * 0x7fff);
    }
    pos -= x.length;
    prev = x[x.length - 1] ?? prev;
    return Int16Array.from(out);
  };
}

function play(data: string, rate: number) {
  if (!cur?.outCtx) return;
  const bytes = unb64(data);
  const pcm = new Int16Array(bytes.buffer, 0, bytes.length >> 1);
  if (!pcm.length) return;
  const ctx = cur.outCtx;
  const buf = ctx.createBuffer(1, pcm.length, rate);
  const ch = buf.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 0x8000;
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(ctx.destination);
  const at = Math.max(ctx.currentTime + 0.02, cur.playAt);
  src.start(at);
  cur.playAt = at + buf.duration;
  cur.playing.add(src);
  src.onended = () => cur?.playing.delete(src);
}

// The user spoke over the model: drop what is queued.
function hush() {
  if (!cur) return;
  cur.playing.forEach((s) => { try { s.stop(); } catch { /* already ended */ } });
  cur.playing.clear();
  cur.playAt = 0;
}

async function startMic(rate: number, sendPcm: (b64pcm: string) => void) {
  if (!cur) return;
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no mediaDevices');
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    if (!cur || cur.stopped) { stream.getTracks().forEach((t) => t.stop()); return; }
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(stream);
    // ScriptProcessor needs no worklet file (the page's security policy loads scripts from itself only).
    const node = ctx.createScriptProcessor(4096, 1, 1);
    const conv = resampler(ctx.sampleRate, rate);
    node.onaudioprocess = (e) => {
      if (live.get().muted || cur?.ws?.readyState !== WebSocket.OPEN) return;
      const pcm = conv(e.inputBuffer.getChannelData(0));
      sendPcm(b64(new Uint8Array(pcm.buffer)));
    };
    const sink = ctx.createGain();
    sink.gain.value = 0;
    source.connect(node);
    node.connect(sink);
    sink.connect(ctx.destination);
    Object.assign(cur, { stream, inCtx: ctx, node });
    live.set({ mic: true, status: 'Live: speak now (or type below).' });
  } catch (e) {
    live.set({ mic: false, error: `${micError(e)} You can still type to the model.`, status: 'Live without a microphone: type below.' });
  }
}

// ---- the session ----------------------------------------------------------------------------

function send(msg: unknown) {
  if (cur?.ws?.readyState === WebSocket.OPEN) cur.ws.send(JSON.stringify(msg));
}

function answerCall(id: string, name: string, args: Record<string, unknown>) {
  if (!cur || cur.handled.has(id)) return;
  cur.handled.add(id);
  const result = runTool(name, args);
  say('Tool', `${name}(${JSON.stringify(args)}) → ${result}`);
  if (cur.gemini) {
    let response: unknown;
    try { response = JSON.parse(result); } catch { response = { result }; }
    send({ toolResponse: { functionResponses: [{ id, name, response }] } });
  } else {
    send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: id, output: result } });
    send({ type: 'response.create' });
  }
}

function onGemini(m: Record<string, any>) {
  if (m.setupComplete) { live.set({ phase: 'live', status: 'Connected: opening the microphone…' }); startMic(16000, (data) => send({ realtimeInput: { audio: { mimeType: 'audio/pcm;rate=16000', data } } })); }
  const sc = m.serverContent;
  if (sc) {
    for (const p of sc.modelTurn?.parts ?? []) {
      if (p.inlineData?.data && String(p.inlineData.mimeType ?? '').startsWith('audio/')) {
        play(p.inlineData.data, Number(/rate=(\d+)/.exec(p.inlineData.mimeType)?.[1] ?? 24000));
      } else if (typeof p.text === 'string' && !p.thought) say('Model', p.text, true);
    }
    if (sc.inputTranscription?.text) say('You', sc.inputTranscription.text, true);
    if (sc.outputTranscription?.text) { closeLine('You'); say('Model', sc.outputTranscription.text, true); }
    if (sc.interrupted) { hush(); closeLine('Model'); }
    if (sc.turnComplete) { closeLine('You'); closeLine('Model'); }
  }
  for (const c of m.toolCall?.functionCalls ?? []) answerCall(String(c.id ?? c.name), String(c.name), c.args ?? {});
  if (m.toolCallCancellation) say('Note', `The model cancelled tool call(s) ${(m.toolCallCancellation.ids ?? []).join(', ')}.`);
  if (m.goAway) live.set({ status: `The server will end the session in ${m.goAway.timeLeft ?? 'a moment'}.` });
}

function onOpenAI(m: Record<string, any>) {
  const t = String(m.type ?? '');
  if (t === 'session.created' && live.get().phase !== 'live') {
    live.set({ phase: 'live', status: 'Connected: opening the microphone…' });
    startMic(24000, (audio) => send({ type: 'input_audio_buffer.append', audio }));
  } else if (t === 'response.audio.delta' || t === 'response.output_audio.delta') play(m.delta, 24000);
  else if (t === 'response.audio_transcript.delta' || t === 'response.output_audio_transcript.delta' || t === 'response.text.delta' || t === 'response.output_text.delta') {
    closeLine('You');
    say('Model', m.delta ?? '', true);
  } else if (t === 'conversation.item.input_audio_transcription.delta') say('You', m.delta ?? '', true);
  else if (t === 'conversation.item.input_audio_transcription.completed') {
    const lines = live.get().lines;
    if (!lines.some((l) => l.who === 'You' && l.open)) say('You', m.transcript ?? '');
    closeLine('You');
  } else if (t === 'input_audio_buffer.speech_started') { hush(); closeLine('Model'); }
  else if (t === 'response.done') closeLine('Model');
  else if (t === 'response.function_call_arguments.done') answerCall(m.call_id, m.name, parseArgs(m.arguments));
  else if (t === 'response.output_item.done' && m.item?.type === 'function_call') answerCall(m.item.call_id, m.item.name, parseArgs(m.item.arguments));
  else if (t === 'error') live.set({ error: m.error?.message ?? 'The realtime server reported an error.' });
}

export function stopRealtime(why = 'Stopped.') {
  const c = cur;
  cur = null;
  if (!c) return;
  c.stopped = true;
  c.node?.disconnect();
  c.stream?.getTracks().forEach((t) => t.stop());
  c.inCtx?.close().catch(() => {});
  c.outCtx?.close().catch(() => {});
  if (c.ws && c.ws.readyState <= WebSocket.OPEN) c.ws.close(1000, 'bye');
  live.set({ phase: 'closed', mic: false, status: why });
}

async function start() {
  const s = live.get();
  stopRealtime();
  live.set({ phase: 'starting', error: null, lines: [], via: '', status: 'Creating a session…' });
  // The output context is made here, in the click, so the browser lets it play.
  cur = { ws: null, gemini: false, stream: null, inCtx: null, outCtx: new AudioContext(), node: null, playAt: 0, playing: new Set(), handled: new Set(), stopped: false };
  const mine = cur;
  let session: Session;
  try {
    const body: Record<string, unknown> = {
      model: s.model, tools: TOOLS, input_audio_transcription: true, output_audio_transcription: true,
    };
    if (s.instructions.trim()) body.instructions = s.instructions.trim();
    if (s.voice) body.voice = s.voice;
    const { data, route } = await postJson<Session>('/realtime/sessions', body);
    session = data;
    live.set({ via: route.via ?? (data.config ? `${data.config.provider}/${data.config.model}` : data.model ?? '') });
  } catch (e) {
    if (cur === mine) stopRealtime('No session.');
    live.set({ error: errorText(e) });
    return;
  }
  if (cur !== mine) return; // stopped meanwhile
  const url = session.connect_url;
  if (!url) { stopRealtime('No session.'); live.set({ error: 'The session came without a connect_url.' }); return; }
  mine.gemini = /BidiGenerateContent/.test(url);
  const token = session.client_secret?.value ?? '';
  live.set({ status: 'Connecting…' });
  let ws: WebSocket;
  try {
    // An OpenAI-style socket whose URL does not carry the token gets it as a subprotocol.
    ws = !mine.gemini && token && !url.includes(encodeURIComponent(token)) && !url.includes(token)
      ? new WebSocket(url, ['realtime', `openai-insecure-api-key.${token}`])
      : new WebSocket(url);
  } catch (e) {
    stopRealtime('Could not connect.');
    live.set({ error: `Could not open the socket: ${(e as Error).message}` });
    return;
  }
  ws.binaryType = 'arraybuffer';
  mine.ws = ws;
  const dec = new TextDecoder();
  ws.onopen = () => {
    if (mine.gemini) {
      live.set({ status: 'Connected: setting up…' });
      send({ setup: { model: `models/${session.config?.model ?? session.model ?? ''}` } });
    } else live.set({ status: 'Connected: waiting for the session…' });
  };
  ws.onmessage = async (e) => {
    let m: Record<string, any>;
    try {
      const text = typeof e.data === 'string' ? e.data : e.data instanceof Blob ? await e.data.text() : dec.decode(e.data as ArrayBuffer);
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (cur !== mine) return;
    if (mine.gemini) onGemini(m); else onOpenAI(m);
  };
  ws.onerror = () => { if (cur === mine) live.set({ error: 'The realtime connection failed (the server refused it, the network, or the page\'s security policy).' }); };
  ws.onclose = (e) => {
    if (cur !== mine) return;
    stopRealtime(`Closed${e.code ? ` (code ${e.code}${e.reason ? `: ${e.reason}` : ''})` : ''}.`);
  };
}

function typeMessage() {
  const text = live.get().typed.trim();
  if (!text || !cur) return;
  say('You', text);
  closeLine('You');
  if (cur.gemini) send({ clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });
  else {
    send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    send({ type: 'response.create' });
  }
  live.set({ typed: '' });
}

export function RealtimeTab({ models }: { models: Model[] }) {
  const s = live.use();
  // Leaving the tab ends the session: the microphone is never left open unseen.
  useEffect(() => () => stopRealtime(), []);
  const on = s.phase === 'starting' || s.phase === 'live';
  return (
    <div>
      <form onSubmit={(e) => { e.preventDefault(); if (!on) start(); }}>
        <div class="fields">
          <ModelPicker id="rt-model" models={models} need={NEEDS.realtime} value={s.model} onChange={(model) => live.set({ model })} />
          <div class="field">
            <label for="rt-voice">Voice</label>
            <select id="rt-voice" value={s.voice} onChange={(e) => live.set({ voice: e.currentTarget.value })}>
              {VOICES.map((v) => <option key={v} value={v}>{v || 'default'}</option>)}
            </select>
          </div>
        </div>
        <label for="rt-instr">Instructions</label>
        <textarea id="rt-instr" rows={2} value={s.instructions} disabled={on} onInput={(e) => live.set({ instructions: e.currentTarget.value })} />
        <p class="muted small">The model can call the example tools <code>get_weather(city)</code> and <code>add(a, b)</code>; the page answers them.</p>
        <div class="actions">
          <button type="submit" disabled={on}>Start</button>
          <button type="button" disabled={!on} onClick={() => stopRealtime()}>Stop</button>
          <label class="toggle"><input type="checkbox" checked={s.muted} disabled={!s.mic} onChange={(e) => live.set({ muted: e.currentTarget.checked })} /> Mute microphone</label>
        </div>
      </form>
      <p class="rt-status" role="status" aria-live="polite">
        <span class={`dot ${s.phase === 'live' ? 'dot-healthy' : s.phase === 'starting' ? 'dot-rate_limited' : ''}`}><span class="dot-mark" aria-hidden="true" /></span>
        {s.status}{s.via && <span class="muted small"> · {s.via}</span>}{s.phase === 'live' && <span class="small"> · microphone {s.mic ? (s.muted ? 'muted' : 'on') : 'off'}</span>}
      </p>
      <Failure error={s.error} />
      {s.phase === 'live' && (
        <form class="typed" onSubmit={(e) => { e.preventDefault(); typeMessage(); }}>
          <label for="rt-typed" class="sr-only">Type to the model</label>
          <input id="rt-typed" value={s.typed} placeholder="Type to the model…" onInput={(e) => live.set({ typed: e.currentTarget.value })} />
          <button type="submit" disabled={!s.typed.trim()}>Send</button>
        </form>
      )}
      {s.lines.length > 0 && (
        <ol class="transcript" aria-label="Transcript">
          {s.lines.map((l, i) => (
            <li key={i} class={`line line-${l.who.toLowerCase()}`}><strong>{l.who}:</strong> {l.text}{l.open && <span class="muted" aria-hidden="true"> …</span>}</li>
          ))}
        </ol>
      )}
    </div>
  );
}
