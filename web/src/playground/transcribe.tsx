// Transcription and translation: an uploaded audio file or a recording from the microphone,
// in any response format (json, text, srt, vtt, verbose_json).
import type { Model } from '../api';
import { errorText, micError, NEEDS, routeOf, send, type Route } from './api';
import { Download, DropZone, Failure, ModelPicker, RouteNote, Status, store } from './common';

const FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
type Format = (typeof FORMATS)[number];
interface Verbose { text: string; language?: string; duration?: number; segments?: { start: number; end: number; text: string }[] }

const stt = store({
  model: 'auto', task: 'transcribe' as 'transcribe' | 'translate', format: 'json' as Format, language: '',
  file: null as File | null, recording: false, seconds: 0, text: '', raw: '', verbose: null as Verbose | null, shownFormat: 'json' as Format,
  route: null as Route | null, error: null as string | null, busy: false, status: '',
});
let rec: { r: MediaRecorder; stream: MediaStream; timer: number } | null = null;

async function record() {
  stt.set({ error: null });
  let stream: MediaStream;
  try {
    if (typeof MediaRecorder === 'undefined') throw new Error('This browser cannot record audio.');
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    stt.set({ error: micError(e), status: 'Not recording.' });
    return;
  }
  const r = new MediaRecorder(stream);
  const chunks: Blob[] = [];
  r.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
  r.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    const type = r.mimeType || 'audio/webm';
    const ext = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
    stt.set({ file: new File(chunks, `recording.${ext}`, { type }), recording: false, status: 'Recording ready: send it.' });
  };
  const started = Date.now();
  rec = { r, stream, timer: window.setInterval(() => stt.set({ seconds: Math.round((Date.now() - started) / 1000) }), 500) };
  r.start();
  stt.set({ recording: true, seconds: 0, status: 'Recording… press Stop recording when done.' });
}

function stopRecording() {
  if (!rec) return;
  clearInterval(rec.timer);
  if (rec.r.state !== 'inactive') rec.r.stop();
  rec = null;
}

async function run() {
  const s = stt.get();
  const f = new FormData();
  f.append('file', s.file!, s.file!.name);
  f.append('model', s.model);
  f.append('response_format', s.format);
  if (s.task === 'transcribe' && s.language.trim()) f.append('language', s.language.trim());
  stt.set({ busy: true, error: null, status: s.task === 'transcribe' ? 'Transcribing…' : 'Translating…' });
  try {
    const r = await send(s.task === 'transcribe' ? '/audio/transcriptions' : '/audio/translations', f);
    const raw = await r.text();
    let text = raw, verbose: Verbose | null = null;
    if (s.format === 'json' || s.format === 'verbose_json') {
      const j = JSON.parse(raw) as Verbose;
      text = j.text ?? '';
      verbose = s.format === 'verbose_json' ? j : null;
    }
    stt.set({ text, raw, verbose, shownFormat: s.format, route: routeOf(r), status: 'Done.' });
  } catch (e) {
    stt.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    stt.set({ busy: false });
  }
}

const clock = (t: number) => `${Math.floor(t / 60)}:${(t % 60).toFixed(1).padStart(4, '0')}`;

export function TranscribeTab({ models }: { models: Model[] }) {
  const s = stt.use();
  const ext = s.shownFormat === 'verbose_json' ? 'json' : s.shownFormat === 'text' ? 'txt' : s.shownFormat;
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (!s.busy && s.file && !s.recording) run(); }}>
      <fieldset class="plain-set">
        <legend>Task</legend>
        <label class="radio"><input type="radio" name="stt-task" checked={s.task === 'transcribe'} onChange={() => stt.set({ task: 'transcribe' })} /> Transcribe (same language)</label>
        <label class="radio"><input type="radio" name="stt-task" checked={s.task === 'translate'} onChange={() => stt.set({ task: 'translate' })} /> Translate into English</label>
      </fieldset>
      <div class="fields">
        <ModelPicker id="stt-model" models={models} need={NEEDS.stt} value={s.model} onChange={(model) => stt.set({ model })} />
        <div class="field">
          <label for="stt-format">Response format</label>
          <select id="stt-format" value={s.format} onChange={(e) => stt.set({ format: e.currentTarget.value as Format })}>
            {FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
          </select>
        </div>
        {s.task === 'transcribe' && (
          <div class="field">
            <label for="stt-lang">Language <span class="muted">(optional, e.g. en)</span></label>
            <input id="stt-lang" maxLength={16} value={s.language} onInput={(e) => stt.set({ language: e.currentTarget.value })} />
          </div>
        )}
      </div>
      <DropZone id="stt-file" label="Audio file" accept="audio/*,video/webm,video/mp4" onFile={(file) => stt.set({ file, error: null })}>
        <p class="actions">
          {s.recording
            ? <button type="button" onClick={stopRecording}>Stop recording ({s.seconds} s)</button>
            : <button type="button" onClick={record}>Record from the microphone</button>}
        </p>
        {s.file && <p class="small">Audio: {s.file.name} ({Math.max(1, Math.round(s.file.size / 1024))} KB)</p>}
      </DropZone>
      <div class="actions"><button type="submit" disabled={s.busy || !s.file || s.recording}>{s.task === 'transcribe' ? 'Transcribe' : 'Translate'}</button></div>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.raw && (
        <div class="card">
          <RouteNote route={s.route} extra={s.verbose?.language ? `language: ${s.verbose.language}${s.verbose.duration ? `, ${s.verbose.duration.toFixed(1)} s` : ''}` : undefined} />
          {s.shownFormat === 'srt' || s.shownFormat === 'vtt'
            ? <pre class="content" aria-label={`${s.shownFormat} subtitles`}>{s.raw}</pre>
            : <p class="plain">{s.text || <span class="muted">(no speech found)</span>}</p>}
          {s.verbose?.segments && s.verbose.segments.length > 0 && (
            <div class="table-wrap">
              <table class="grid">
                <caption>Segments</caption>
                <thead><tr><th scope="col">Start</th><th scope="col">End</th><th scope="col">Text</th></tr></thead>
                <tbody>{s.verbose.segments.map((g, i) => <tr key={i}><td class="num">{clock(g.start)}</td><td class="num">{clock(g.end)}</td><td class="wrap">{g.text}</td></tr>)}</tbody>
              </table>
            </div>
          )}
          <p><Download href={`data:${ext === 'json' ? 'application/json' : 'text/plain'};charset=utf-8,${encodeURIComponent(s.raw)}`} name={`${s.task === 'transcribe' ? 'transcript' : 'translation'}.${ext}`} /></p>
        </div>
      )}
    </form>
  );
}
