// Vision: a question about an image (a URL, or a local file read as a data: URL) sent as
// content parts to a vision model (or auto).
import type { Model } from '../api';
import { errorText, NEEDS, postJson, readDataUrl, type Completion, type Route } from './api';
import { DropZone, Failure, ModelPicker, RouteNote, Status, store } from './common';
import { Markdown, safeUrl } from './markdown';

const vision = store({
  model: 'auto', url: '', file: '', fileName: '', question: 'What is in this image?', answer: '',
  route: null as Route | null, error: null as string | null, busy: false, status: '', broken: false,
});

async function ask() {
  const s = vision.get();
  const url = s.file || s.url.trim();
  vision.set({ busy: true, error: null, answer: '', route: null, status: 'Asking…' });
  try {
    const { data, route } = await postJson<Completion>('/chat/completions', {
      model: s.model,
      messages: [{ role: 'user', content: [{ type: 'text', text: s.question }, { type: 'image_url', image_url: { url } }] }],
    });
    vision.set({ answer: data.choices[0]?.message.content ?? '', route, status: 'Answered.' });
  } catch (e) {
    vision.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    vision.set({ busy: false });
  }
}

export function VisionTab({ models }: { models: Model[] }) {
  const s = vision.use();
  const src = s.file || (safeUrl(s.url.trim()) ? s.url.trim() : '');
  const take = (f: File) => {
    if (!f.type.startsWith('image/')) { vision.set({ error: `${f.name} is not an image.` }); return; }
    readDataUrl(f).then((file) => vision.set({ file, fileName: f.name, url: '', error: null, broken: false }), (e: Error) => vision.set({ error: e.message }));
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (!s.busy && src && s.question.trim()) ask(); }}>
      <div class="fields">
        <ModelPicker id="vision-model" models={models} need={NEEDS.vision} value={s.model} onChange={(model) => vision.set({ model })} />
        <div class="field">
          <label for="vision-url">Image URL <span class="muted">(http or https)</span></label>
          <input id="vision-url" type="url" value={s.url} placeholder="https://…" onInput={(e) => vision.set({ url: e.currentTarget.value, file: '', fileName: '', broken: false })} />
        </div>
      </div>
      <DropZone id="vision-file" label="Or a local image" accept="image/*" onFile={take}>
        {s.fileName && <p class="small">Chosen: {s.fileName} <button type="button" onClick={() => vision.set({ file: '', fileName: '' })}>Remove</button></p>}
      </DropZone>
      {src && (
        <figure class="preview-img">
          {s.broken
            ? <p class="muted small">No preview: the dashboard loads no images from other sites. The model still gets the URL.</p>
            : <img src={src} alt={s.fileName ? `Preview of ${s.fileName}` : 'Preview of the image at the URL'} onError={() => vision.set({ broken: true })} />}
        </figure>
      )}
      <label for="vision-q">Question</label>
      <textarea id="vision-q" rows={2} value={s.question} onInput={(e) => vision.set({ question: e.currentTarget.value })} />
      <div class="actions">
        <button type="submit" disabled={s.busy || !src || !s.question.trim()}>Ask</button>
        {!src && <span class="muted small">Give an image first.</span>}
      </div>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.answer && <div class="card answer"><RouteNote route={s.route} /><Markdown text={s.answer} /></div>}
    </form>
  );
}
