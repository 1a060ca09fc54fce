// Images: generate from a prompt, edit an uploaded image with a prompt, or make a variation of
// one. Answers are asked as b64_json and shown as data: URLs, each with a download link.
import type { Model } from '../api';
import { errorText, NEEDS, postJson, readDataUrl, type Route } from './api';
import { Download, DropZone, Failure, ModelPicker, RouteNote, Status, store } from './common';

type Mode = 'generate' | 'edit' | 'variation';
interface Answer { data: { b64_json?: string; url?: string; revised_prompt?: string }[] }
interface Shown { src: string; name: string; revised?: string }

const SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536', '512x512', '256x256'];
const MODES: [Mode, string][] = [['generate', 'Generate'], ['edit', 'Edit'], ['variation', 'Variation']];

const img = store({
  mode: 'generate' as Mode, model: 'auto', prompt: 'A red kite over green hills, watercolour', size: 'auto',
  file: null as File | null, preview: '', shown: [] as Shown[], route: null as Route | null, error: null as string | null, busy: false, status: '',
});

// The image type from the first bytes of its base64 (PNG, JPEG, WebP, GIF); PNG when unknown.
function typeOf(b64: string): [string, string] {
  if (b64.startsWith('/9j/')) return ['image/jpeg', 'jpg'];
  if (b64.startsWith('UklGR')) return ['image/webp', 'webp'];
  if (b64.startsWith('R0lGOD')) return ['image/gif', 'gif'];
  return ['image/png', 'png'];
}

async function run() {
  const s = img.get();
  img.set({ busy: true, error: null, status: s.mode === 'generate' ? 'Generating…' : s.mode === 'edit' ? 'Editing…' : 'Making a variation…' });
  try {
    let body: unknown;
    if (s.mode === 'generate') body = { model: s.model, prompt: s.prompt, size: s.size, n: 1, response_format: 'b64_json' };
    else {
      const f = new FormData();
      f.append('image', s.file!, s.file!.name);
      if (s.mode === 'edit') f.append('prompt', s.prompt);
      f.append('model', s.model);
      f.append('n', '1');
      f.append('size', s.size);
      f.append('response_format', 'b64_json');
      body = f;
    }
    const path = s.mode === 'generate' ? '/images/generations' : s.mode === 'edit' ? '/images/edits' : '/images/variations';
    const { data, route } = await postJson<Answer>(path, body);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const shown = data.data.map((d, i): Shown => {
      if (d.b64_json) {
        const [type, ext] = typeOf(d.b64_json);
        return { src: `data:${type};base64,${d.b64_json}`, name: `${s.mode}-${stamp}-${i + 1}.${ext}`, revised: d.revised_prompt };
      }
      return { src: d.url ?? '', name: `${s.mode}-${stamp}-${i + 1}.png`, revised: d.revised_prompt };
    });
    img.set({ shown, route, status: `${shown.length} image${shown.length === 1 ? '' : 's'} received.` });
  } catch (e) {
    img.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    img.set({ busy: false });
  }
}

export function ImagesTab({ models }: { models: Model[] }) {
  const s = img.use();
  const ready = !s.busy && (s.mode === 'generate' ? !!s.prompt.trim() : !!s.file && (s.mode === 'variation' || !!s.prompt.trim()));
  const take = (f: File) => {
    if (!f.type.startsWith('image/')) { img.set({ error: `${f.name} is not an image.` }); return; }
    readDataUrl(f).then((preview) => img.set({ file: f, preview, error: null }), (e: Error) => img.set({ error: e.message }));
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (ready) run(); }}>
      <div class="switch" role="group" aria-label="What to do">
        {MODES.map(([m, text]) => <button key={m} type="button" aria-pressed={m === s.mode} onClick={() => img.set({ mode: m })}>{text}</button>)}
      </div>
      <div class="fields">
        <ModelPicker id="img-model" models={models} need={s.mode === 'generate' ? NEEDS.image : NEEDS.image_edit} value={s.model} onChange={(model) => img.set({ model })} />
        <div class="field">
          <label for="img-size">Size</label>
          <select id="img-size" value={s.size} onChange={(e) => img.set({ size: e.currentTarget.value })}>
            {SIZES.map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </div>
      </div>
      {s.mode !== 'generate' && (
        <DropZone id="img-file" label={s.mode === 'edit' ? 'Image to edit' : 'Image to vary'} accept="image/png,image/jpeg,image/webp" onFile={take}>
          {s.file && (
            <figure class="preview-img">
              <img src={s.preview} alt={`Preview of ${s.file.name}`} />
              <figcaption class="small">{s.file.name}</figcaption>
            </figure>
          )}
        </DropZone>
      )}
      {s.mode !== 'variation' && (
        <>
          <label for="img-prompt">{s.mode === 'edit' ? 'What to change' : 'Prompt'}</label>
          <textarea id="img-prompt" rows={2} value={s.prompt} onInput={(e) => img.set({ prompt: e.currentTarget.value })} />
        </>
      )}
      <div class="actions"><button type="submit" disabled={!ready}>{MODES.find(([m]) => m === s.mode)![1]}</button></div>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.shown.length > 0 && (
        <div class="card">
          <RouteNote route={s.route} />
          <div class="gallery">
            {s.shown.map((x) => (
              <figure key={x.name}>
                <img src={x.src} alt={x.revised ? `Generated: ${x.revised}` : `Result ${x.name}`} />
                <figcaption class="small">{x.revised && <span>{x.revised} </span>}<Download href={x.src} name={x.name} /></figcaption>
              </figure>
            ))}
          </div>
        </div>
      )}
    </form>
  );
}
