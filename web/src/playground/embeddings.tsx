// Embeddings: several inputs (one per line), the vector size, and how alike the inputs are
// (cosine similarity between every pair).
import type { Model } from '../api';
import { cosine, errorText, NEEDS, postJson, vector, type Route } from './api';
import { Failure, ModelPicker, RouteNote, Status, store } from './common';

interface Answer { data: { index: number; embedding: number[] | string }[]; model?: string; usage?: { prompt_tokens?: number } }

const emb = store({
  model: 'auto', text: 'The cat sat on the mat.\nA kitten rested on the rug.\nStock markets fell sharply today.', dims: '',
  inputs: [] as string[], vectors: [] as number[][], route: null as Route | null, model_used: '', error: null as string | null, busy: false, status: '',
});

async function run() {
  const s = emb.get();
  const inputs = s.text.split('\n').map((l) => l.trim()).filter(Boolean);
  const body: Record<string, unknown> = { model: s.model, input: inputs, encoding_format: 'float' };
  if (s.dims !== '') body.dimensions = Number(s.dims);
  emb.set({ busy: true, error: null, status: 'Embedding…' });
  try {
    const { data, route } = await postJson<Answer>('/embeddings', body);
    const vectors = [...data.data].sort((a, b) => a.index - b.index).map((d) => vector(d.embedding));
    emb.set({ inputs, vectors, route, model_used: data.model ?? '', status: `${vectors.length} vectors received.` });
  } catch (e) {
    emb.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    emb.set({ busy: false });
  }
}

const short = (s: string) => (s.length > 28 ? `${s.slice(0, 27)}…` : s);

export function EmbeddingsTab({ models }: { models: Model[] }) {
  const s = emb.use();
  const lines = s.text.split('\n').filter((l) => l.trim()).length;
  return (
    <div>
      <form onSubmit={(e) => { e.preventDefault(); if (!s.busy && lines) run(); }}>
        <div class="fields">
          <ModelPicker id="emb-model" models={models} need={NEEDS.embeddings} value={s.model} onChange={(model) => emb.set({ model })} />
          <div class="field">
            <label for="emb-dims">Dimensions <span class="muted">(optional; models that can shorten vectors)</span></label>
            <input id="emb-dims" type="number" inputMode="numeric" min={1} step={1} value={s.dims} onInput={(e) => emb.set({ dims: e.currentTarget.value })} />
          </div>
        </div>
        <label for="emb-text">Inputs <span class="muted">(one per line; {lines} now)</span></label>
        <textarea id="emb-text" rows={5} value={s.text} onInput={(e) => emb.set({ text: e.currentTarget.value })} />
        <div class="actions"><button type="submit" disabled={s.busy || !lines}>Embed</button></div>
      </form>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.vectors.length > 0 && (
        <div class="card">
          <RouteNote route={s.route} extra={`${s.vectors[0].length} dimensions`} />
          <div class="table-wrap">
            <table class="grid sim">
              <caption>Cosine similarity (1: same direction, 0: unrelated)</caption>
              <thead>
                <tr><td />{s.inputs.map((t, j) => <th key={j} scope="col" title={t}>{j + 1}. {short(t)}</th>)}</tr>
              </thead>
              <tbody>
                {s.vectors.map((a, i) => (
                  <tr key={i}>
                    <th scope="row" title={s.inputs[i]}>{i + 1}. {short(s.inputs[i] ?? '')}</th>
                    {s.vectors.map((b, j) => {
                      const c = cosine(a, b);
                      return <td key={j} class="num" style={{ '--sim': Math.max(0, c).toFixed(3) }}>{c.toFixed(3)}</td>;
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <details>
            <summary>First values of each vector</summary>
            <ol class="small mono">{s.vectors.map((v, i) => <li key={i}>[{v.slice(0, 6).map((x) => x.toFixed(4)).join(', ')}, …] ({v.length})</li>)}</ol>
          </details>
        </div>
      )}
    </div>
  );
}
