// A sixteenth provider from a catalog file alone: an OpenAI-compatible entry added to a copy of
// catalog/catalog.json (no code, no rebuild) takes a key, routes whole and streamed answers,
// sends its policy's extra header, and shows in /v1/models and `keys --help`. A catalog with a
// misspelt key is refused at start with the key named.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withStack, buildCatalog, routedVia, runCli, uniq } from './lib/harness.mjs';

const T = { timeout: 60000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };

const ACME = {
  id: 'acme',
  name: 'Acme AI',
  base_url: 'https://api.acme.test/v1',
  dialect: 'openai',
  auth: { header: 'Authorization', prefix: 'Bearer ' },
  needs_account_id: false,
  keyless: false,
  enabled: true,
  key_url: 'https://console.acme.test/keys',
  docs_url: 'https://docs.acme.test',
  daily_reset: 'utc',
  limits: {},
  policy: { headers: { 'X-Acme-Client': 'freellmapi' } },
  probe: 'none',
  timeout_ms: 4000,
  models: [{
    id: 'acme-large', name: 'Acme Large', kind: 'chat', capabilities: ['chat', 'tools'],
    context_window: 65536, max_output_tokens: 4096, limits: {}, priority: 1, enabled: true,
    price_per_mtok: { input: 0.5, output: 1.5 }, monthly_tokens: 1000000,
  }],
};

const withAcme = (cat) => cat.providers.push(structuredClone(ACME));

describe('a provider added by catalog alone', () => {
  test('takes a key and serves whole and streamed answers, with its policy header', T, async () => {
    const opts = { models: [GROQ], mutate: withAcme, keys: [{ provider: 'acme', secret: 'acme-e2e-secret-1' }, { provider: 'groq', secret: 'gsk_e2e_acme_g' }] };
    await withStack(opts, async (s) => {
      const { data, response } = await s.client.chat.completions.create({ model: 'acme-large', messages: [{ role: 'user', content: uniq('acme') }] }).withResponse();
      assert.equal(response.status, 200);
      assert.equal(routedVia(response.headers)?.raw, 'acme/acme-large', await s.diag());
      assert.equal(data.choices[0].message.role, 'assistant');
      const rec = (await s.mock.chatRequests({ provider: 'acme' })).at(-1);
      assert.equal(rec.key, 'acme-e2e-secret-1');
      assert.equal(rec.body.model, 'acme-large');
      assert.equal(rec.headers['x-acme-client'], 'freellmapi');

      // Its priority (1) puts it first for "auto" too, streamed.
      const stream = await s.client.chat.completions.create({ model: 'auto', stream: true, messages: [{ role: 'user', content: uniq('acme-stream') }] }).withResponse();
      assert.equal(routedVia(stream.response.headers)?.raw, 'acme/acme-large');
      let text = '';
      for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
      assert.ok(text.length > 0);

      const models = await s.client.models.list();
      assert.ok(models.data.some((m) => m.id === 'acme-large'), 'listed by /v1/models');
    });
  });

  test('the CLI knows it: `keys --help` lists it and `keys add` takes it', T, async () => {
    const tmp = fs.mkdtempSync('/tmp/freellmapi-e2e-cat-');
    const catalogPath = path.join(tmp, 'catalog.json');
    fs.writeFileSync(catalogPath, JSON.stringify(buildCatalog({ models: [GROQ], mutate: withAcme })));
    const env = { ...process.env, FREELLMAPI_CATALOG: catalogPath };
    const help = await runCli(['keys', '--help'], { env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /\bacme\b/);
    const add = await runCli(['--data-dir', path.join(tmp, 'data'), 'keys', 'add', 'acme', 'acme-cli-secret'], { env });
    assert.equal(add.code, 0, add.stderr);
    const list = await runCli(['--data-dir', path.join(tmp, 'data'), 'keys', 'list'], { env });
    assert.match(list.stdout, /acme/);
    assert.doesNotMatch(list.stdout, /acme-cli-secret/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a misspelt key in the catalog stops the start with the key named', T, async () => {
    const tmp = fs.mkdtempSync('/tmp/freellmapi-e2e-cat-');
    const catalogPath = path.join(tmp, 'catalog.json');
    fs.writeFileSync(catalogPath, JSON.stringify(buildCatalog({ models: [GROQ], mutate: (cat) => { const p = structuredClone(ACME); p.policy = { header: { 'X-A': '1' } }; cat.providers.push(p); } })));
    const r = await runCli(['--data-dir', path.join(tmp, 'data'), 'serve', '--port', '0'], { env: { ...process.env, FREELLMAPI_CATALOG: catalogPath }, timeoutMs: 5000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /provider acme has an unknown key "header"/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
