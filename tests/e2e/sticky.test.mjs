// Sticky sessions: a conversation (same system prompt and first user message)
// stays on the model that first served it, even when a better-ranked model is
// available again.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq, sleep } from './lib/harness.mjs';

const T = { timeout: 30000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };

describe('sticky sessions', () => {
  test('same system + first user message stays on the same model', T, async () => {
    const s = await startStack({
      models: [GROQ, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_sticky' },
        { provider: 'cerebras', secret: 'csk-e2e-sticky' },
      ],
    });
    try {
      const system = { role: 'system', content: 'You are a helpful assistant.' };
      const first = { role: 'user', content: uniq('conversation X') };
      // Turn 1 of X: groq is rate limited for 1 s, so X lands on cerebras.
      await s.mock.script({ provider: 'groq', error: 'rate_limit_minute', retry_after: 1 });
      const t1 = await s.client.chat.completions.create({ model: 'auto', messages: [system, first] }).withResponse();
      assert.equal(routedVia(t1.response.headers)?.raw, `cerebras/${CEREBRAS.id}`, await s.diag());
      await sleep(1600);

      // A new conversation goes to groq again (it is usable)...
      const y = await s.client.chat.completions.create({ model: 'auto', messages: [system, { role: 'user', content: uniq('conversation Y') }] }).withResponse();
      assert.equal(routedVia(y.response.headers)?.raw, `groq/${GROQ.id}`, await s.diag());

      // ...but X's later turns stay on cerebras.
      const history = [system, first, { role: 'assistant', content: t1.data.choices[0].message.content }];
      for (let turn = 2; turn <= 3; turn++) {
        history.push({ role: 'user', content: `turn ${turn}` });
        const r = await s.client.chat.completions.create({ model: 'auto', messages: history }).withResponse();
        assert.equal(routedVia(r.response.headers)?.raw, `cerebras/${CEREBRAS.id}`, `turn ${turn} of X moved${await s.diag()}`);
        history.push({ role: 'assistant', content: r.data.choices[0].message.content });
      }
      // Same first message but another system prompt is another conversation.
      const z = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'system', content: 'Other.' }, first] }).withResponse();
      assert.equal(routedVia(z.response.headers)?.raw, `groq/${GROQ.id}`);
    } finally {
      await s.stop();
    }
  });
});
