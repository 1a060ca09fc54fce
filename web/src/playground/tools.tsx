// Tools: the full function-calling round trip with a small example tool set. The model's
// tool_calls are shown (name, arguments); each result is prefilled by the example
// implementation and can be edited before it is sent back (role "tool", tool_call_id).
import type { Model } from '../api';
import { errorText, NEEDS, parseArgs, postJson, runTool, TOOLS, type Completion, type Message, type Route, type ToolCall } from './api';
import { Failure, ModelPicker, RouteNote, Status, store } from './common';
import { Markdown } from './markdown';

interface Step { kind: 'calls' | 'answer'; route: Route; calls?: ToolCall[]; text?: string }

const tools = store({
  model: 'auto', prompt: "What's the weather in Oslo? And what is 19.5 + 22.5?", messages: [] as Message[],
  steps: [] as Step[], pending: [] as { call: ToolCall; result: string }[], error: null as string | null, busy: false, status: '',
});

async function round(messages: Message[]) {
  tools.set({ busy: true, error: null, messages, status: 'Asking the model…' });
  try {
    const { data, route } = await postJson<Completion>('/chat/completions', { model: tools.get().model, messages, tools: TOOLS, tool_choice: 'auto' });
    const msg = data.choices[0]?.message;
    if (!msg) throw new Error('The answer had no choices.');
    const calls = msg.tool_calls ?? [];
    const s = tools.get();
    if (calls.length) {
      tools.set({
        messages: [...messages, { role: 'assistant', content: msg.content ?? null, tool_calls: calls }],
        steps: [...s.steps, { kind: 'calls', route, calls, text: msg.content ?? '' }],
        pending: calls.map((call) => ({ call, result: runTool(call.function.name, parseArgs(call.function.arguments)) })),
        status: `The model asked for ${calls.length} tool call${calls.length === 1 ? '' : 's'}: check the results and send them.`,
      });
    } else {
      tools.set({
        messages: [...messages, { role: 'assistant', content: msg.content ?? '' }],
        steps: [...s.steps, { kind: 'answer', route, text: msg.content ?? '' }], pending: [], status: 'Final answer received.',
      });
    }
  } catch (e) {
    tools.set({ error: errorText(e), status: 'The request failed.' });
  } finally {
    tools.set({ busy: false });
  }
}

const start = () => { tools.set({ steps: [], pending: [] }); round([{ role: 'user', content: tools.get().prompt }]); };
const reply = () => {
  const s = tools.get();
  round([...s.messages, ...s.pending.map(({ call, result }): Message => ({ role: 'tool', tool_call_id: call.id, content: result }))]);
  tools.set({ pending: [] });
};

function pretty(args: string): string {
  try { return JSON.stringify(JSON.parse(args), null, 2); } catch { return args; }
}

export function ToolsTab({ models }: { models: Model[] }) {
  const s = tools.use();
  return (
    <div>
      <p class="muted">Example tools: <code>get_weather(city)</code> answers canned weather, <code>add(a, b)</code> adds two numbers.</p>
      <form onSubmit={(e) => { e.preventDefault(); if (!s.busy && s.prompt.trim()) start(); }}>
        <ModelPicker id="tools-model" models={models} need={NEEDS.tools} value={s.model} onChange={(model) => tools.set({ model })} />
        <label for="tools-prompt">Prompt</label>
        <textarea id="tools-prompt" rows={2} value={s.prompt} onInput={(e) => tools.set({ prompt: e.currentTarget.value })} />
        <div class="actions">
          <button type="submit" disabled={s.busy || !s.prompt.trim()}>{s.steps.length ? 'Start over' : 'Send'}</button>
        </div>
      </form>
      <Status text={s.status} />
      <Failure error={s.error} />
      {s.steps.length > 0 && (
        <ol class="steps" aria-label="Round trip">
          {s.steps.map((st, i) => (
            <li key={i} class="card">
              <h3>{st.kind === 'calls' ? `Round ${i + 1}: tool calls` : `Round ${i + 1}: final answer`}</h3>
              <RouteNote route={st.route} />
              {st.text && <Markdown text={st.text} />}
              {st.calls && (
                <ul class="calls">
                  {st.calls.map((c) => (
                    <li key={c.id}><code>{c.function.name}</code> <span class="muted small">({c.id})</span><pre class="content">{pretty(c.function.arguments)}</pre></li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ol>
      )}
      {s.pending.length > 0 && (
        <form class="card" onSubmit={(e) => { e.preventDefault(); if (!s.busy) reply(); }} aria-label="Tool results">
          <h3>Tool results to send back</h3>
          {s.pending.map((p, i) => (
            <div key={p.call.id} class="field">
              <label for={`tool-result-${i}`}>Result of <code>{p.call.function.name}</code> <span class="muted small">(for {p.call.id}; edit it if you like)</span></label>
              <textarea id={`tool-result-${i}`} rows={3} class="mono" value={p.result}
                onInput={(e) => { const pending = tools.get().pending.slice(); pending[i] = { ...pending[i], result: e.currentTarget.value }; tools.set({ pending }); }} />
            </div>
          ))}
          <div class="actions"><button type="submit" disabled={s.busy}>Send results</button></div>
        </form>
      )}
    </div>
  );
}
