// Speech: text to speech in any of the formats the gateway encodes; played in an <audio>
// element from a blob: URL, with a download link.
import type { Model } from '../api';
import { errorText, NEEDS, playDecoded, routeOf, send, wavOf, type Route } from './api';
import { Download, Failure, ModelPicker, RouteNote, Status, store } from './common';

const FORMATS = ['mp3', 'wav', 'opus', 'flac', 'aac', 'pcm'] as const;
type Format = (typeof FORMATS)[number];
const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse', 'Kore', 'Puck', 'Charon', 'Zephyr'];
const PCM_RATE = 24000; // OpenAI's pcm: 24 kHz, 16-bit, mono

const tts = store({
  model: 'auto', input: 'Hello! This is the FreeLLMAPI playground speaking.', voice: 'alloy', format: 'mp3' as Format,
  audio: null as { play: string; file: string; name: string; blob: Blob; bytes: number } | null,
  route: null as Route | null, error: null as string | null, busy: false, status: '', blocked: false,
});

async function run() {
  const s = tts.get();
  tts.set({ busy: true, error: null, status: 'Speaking…' });
  try {
    const r = await send('/audio/speech', { model: s.model, input: s.input, voice: s.voice, response_format: s.format });
    const blob = await r.blob();
    const old = s.audio;
    if (old) { URL.revokeObjectURL(old.file); if (old.play !== old.file) URL.revokeObjectURL(old.play); }
    const file = URL.createObjectURL(blob);
    // Raw PCM is played as WAV; the download stays what was asked for.
    const playable = s.format === 'pcm' ? wavOf(await blob.arrayBuffer(), PCM_RATE) : blob;
    const play = s.format === 'pcm' ? URL.createObjectURL(playable) : file;
    tts.set({ audio: { play, file, name: `speech.${s.format}`, blob: playable, bytes: blob.size }, route: routeOf(r), status: 'Ready to play.', blocked: false });
  } catch (e) {
    tts.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    tts.set({ busy: false });
  }
}

export function SpeechTab({ models }: { models: Model[] }) {
  const s = tts.use();
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (!s.busy && s.input.trim()) run(); }}>
      <div class="fields">
        <ModelPicker id="tts-model" models={models} need={NEEDS.tts} value={s.model} onChange={(model) => tts.set({ model })} />
        <div class="field">
          <label for="tts-voice">Voice</label>
          <input id="tts-voice" list="tts-voices" value={s.voice} onInput={(e) => tts.set({ voice: e.currentTarget.value })} />
          <datalist id="tts-voices">{VOICES.map((v) => <option key={v} value={v} />)}</datalist>
        </div>
        <div class="field">
          <label for="tts-format">Format</label>
          <select id="tts-format" value={s.format} onChange={(e) => tts.set({ format: e.currentTarget.value as Format })}>
            {FORMATS.map((f) => <option key={f} value={f}>{f}{f === 'pcm' ? ' (raw 24 kHz 16-bit)' : ''}</option>)}
          </select>
        </div>
      </div>
      <label for="tts-input">Text</label>
      <textarea id="tts-input" rows={3} value={s.input} onInput={(e) => tts.set({ input: e.currentTarget.value })} />
      <div class="actions"><button type="submit" disabled={s.busy || !s.input.trim()}>Speak</button></div>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.audio && (
        <div class="card">
          <RouteNote route={s.route} extra={`${Math.round(s.audio.bytes / 1024)} KB ${s.format}`} />
          <audio controls src={s.audio.play} aria-label="The spoken text" onError={() => tts.set({ blocked: true })} />
          {s.blocked && (
            <p class="small">
              This browser would not load the audio here (a codec it lacks, or the page's security policy).{' '}
              <button type="button" onClick={() => playDecoded(s.audio!.blob).catch((e: Error) => tts.set({ error: `Could not play it: ${e.message}` }))}>Play another way</button>
            </p>
          )}
          <p><Download href={s.audio.file} name={s.audio.name} /></p>
        </div>
      )}
    </form>
  );
}
