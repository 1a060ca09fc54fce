// Provider keys end to end: an upstream 401 marks a key invalid; a running
// server picks up `keys add` / `keys rm` from the CLI without a restart; keys
// and daily usage survive a restart.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, routedVia, uniq, sleep } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const SAMBA = { provider: 'sambanova', id: 'DeepSeek-V3.2' };

const ask = (s) => s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('k') }] }).withResponse();

async function routeOf(s) {
  const { response } = await ask(s);
  return routedVia(response.headers)?.raw;
}

/** Polls until routeOf() returns want, for at most ms. */
async function waitForRoute(s, want, ms) {
  const deadline = Date.now() + ms;
  let got;
  for (;;) {
    got = await routeOf(s);
    if (got === want || Date.now() > deadline) return got;
    await sleep(250);
  }
}

describe('provider keys', () => {
  test('a 401 from upstream marks the key invalid: it is skipped afterwards and `keys list` shows it', T, async () => {
    const bad = { provider: 'groq', secret: 'gsk_e2e_revoked_0001', label: 'groq-bad' };
    const good = { provider: 'groq', secret: 'gsk_e2e_valid_0002', label: 'groq-good' };
    const s = await startStack({ models: [GROQ, CEREBRAS], keys: [bad, good, { provider: 'cerebras', secret: 'csk-e2e-k', label: 'cb' }], mockKeys: false });
    try {
      // The mock knows only the good groq key: the bad one gets Groq's real 401.
      await s.mock.setKeys({ groq: [good.secret] });
      const mark = await s.mock.mark();
      let sawBad = false;
      for (let i = 0; i < 6 && !sawBad; i++) {
        const { data, response } = await ask(s);
        assert.equal(response.status, 200);
        assert.match(data.choices[0].message.content, /^Hello from /);
        // a chat call or the gateway's own key probe (GET /models) may meet the 401 first
        sawBad = (await s.mock.requests({ since: mark, key: bad.secret })).length > 0;
      }
      assert.ok(sawBad, `the gateway never tried the bad key${await s.diag()}`);
      const badCalls = (await s.mock.chatRequests({ since: mark, key: bad.secret })).length;
      assert.ok(badCalls <= 1, `the invalid key was used for ${badCalls} chat calls`);
      const after = await s.mock.mark();
      for (let i = 0; i < 4; i++) {
        const { response } = await ask(s);
        assert.equal(routedVia(response.headers)?.raw, `groq/${GROQ.id}`, 'groq still serves with the good key');
      }
      assert.equal((await s.mock.chatRequests({ since: after, key: bad.secret })).length, 0, `the invalid key was used again${await s.diag()}`);
      assert.equal((await s.mock.chatRequests({ since: after, key: good.secret })).length, 4);

      const list = await s.keysList();
      const badLine = list.split('\n').find((l) => l.includes('groq-bad'));
      const goodLine = list.split('\n').find((l) => l.includes('groq-good'));
      assert.ok(badLine && /invalid/i.test(badLine), `keys list should mark groq-bad invalid:\n${list}`);
      assert.ok(goodLine && !/invalid/i.test(goodLine), `groq-good is not invalid:\n${list}`);
      assert.ok(!list.includes(bad.secret) && !list.includes(good.secret), 'keys list never prints a full secret');
    } finally {
      await s.stop();
    }
  });

  test('a running server picks up `keys add` and `keys rm` without a restart', T, async () => {
    const s = await startStack({ models: [GROQ, CEREBRAS], keys: [{ provider: 'cerebras', secret: 'csk-e2e-hot', label: 'cb' }] });
    try {
      assert.equal(await routeOf(s), `cerebras/${CEREBRAS.id}`, 'no groq key yet');
      const groq = { provider: 'groq', secret: 'gsk_e2e_hot_reload', label: 'groq-hot' };
      await s.mock.setKeys({ groq: [groq.secret] });
      await s.keysAdd(groq);
      const got = await waitForRoute(s, `groq/${GROQ.id}`, 4000);
      assert.equal(got, `groq/${GROQ.id}`, `the added key was not picked up within 4 s${await s.diag()}`);
      const lastGroq = (await s.mock.chatRequests({ provider: 'groq' })).at(-1);
      assert.equal(lastGroq.key, groq.secret);

      const id = await s.keyIdByLabel('groq-hot');
      await s.cliOk('keys', 'rm', String(id));
      const back = await waitForRoute(s, `cerebras/${CEREBRAS.id}`, 4000);
      assert.equal(back, `cerebras/${CEREBRAS.id}`, `the removed key was still used after 4 s${await s.diag()}`);
      const mark = await s.mock.mark();
      for (let i = 0; i < 3; i++) assert.equal(await routeOf(s), `cerebras/${CEREBRAS.id}`);
      assert.equal((await s.mock.chatRequests({ since: mark, provider: 'groq' })).length, 0, 'no groq call after keys rm');
      assert.ok(!(await s.keysList()).includes('groq-hot'));
    } finally {
      await s.stop();
    }
  });

  test('keys and daily usage survive a restart', T, async () => {
    // groq's model allows 2 requests per day in this catalog.
    const s = await startStack({
      models: [{ ...GROQ, limits: { rpm: 30, rpd: 2 } }, CEREBRAS, SAMBA],
      keys: [
        { provider: 'groq', secret: 'gsk_e2e_persist', label: 'groq-p' },
        { provider: 'cerebras', secret: 'csk-e2e-persist', label: 'cb-p' },
      ],
    });
    try {
      assert.equal(await routeOf(s), `groq/${GROQ.id}`);
      assert.equal(await routeOf(s), `groq/${GROQ.id}`);
      assert.equal(await routeOf(s), `cerebras/${CEREBRAS.id}`, `rpd 2 reached: the third request goes elsewhere${await s.diag()}`);
      await s.restart();
      assert.equal(await routeOf(s), `cerebras/${CEREBRAS.id}`, `usage counted before the restart is still counted${await s.diag()}`);
      assert.equal((await s.mock.chatRequests({ provider: 'groq' })).length, 2, 'groq got exactly its 2 daily requests');
      const list = await s.keysList();
      assert.ok(list.includes('groq-p') && list.includes('cb-p'), `keys survive:\n${list}`);

      // A key added while the server is down routes after the next start.
      await s.stopServer();
      await s.mock.setKeys({ groq: ['gsk_e2e_persist'], cerebras: ['csk-e2e-persist'], sambanova: ['sn-e2e-offline'] });
      await s.keysAdd({ provider: 'sambanova', secret: 'sn-e2e-offline', label: 'sn-off' });
      await s.start();
      const { response } = await s.client.chat.completions.create({ model: SAMBA.id, messages: [{ role: 'user', content: uniq('sn') }] }).withResponse();
      assert.equal(routedVia(response.headers)?.raw, `sambanova/${SAMBA.id}`, await s.diag());
      assert.equal((await s.mock.chatRequests({ provider: 'sambanova' })).at(-1).key, 'sn-e2e-offline');
    } finally {
      await s.stop();
    }
  });
});
