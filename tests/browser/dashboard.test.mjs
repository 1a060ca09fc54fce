// The dashboard in a real browser (Debian's Chromium) against the real gateway and the mock
// providers: every page in both themes (no console error, no serious axe violation, a
// screenshot in docs/screenshots/), keys added in the UI reach the CLI and keys added by the CLI
// appear in the UI without a reload, the chain reordered by keyboard and by drag routes the next
// SDK request and survives a restart, and the PIN locks the dashboard with a visible wait after
// five wrong tries.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, routedVia, uniq, sleep, REPO_ROOT } from '../e2e/lib/harness.mjs';
import { openBrowser, axeViolations } from './lib/browser.mjs';

const T = { timeout: 120000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const SHOTS = path.join(REPO_ROOT, 'docs/screenshots');
const PAGES = [['keys', 'Keys'], ['chain', 'Fallback chain'], ['models', 'Capabilities'], ['settings', 'Settings']];

describe('dashboard', () => {
  let s;
  const origin = () => `http://127.0.0.1:${s.port}`;
  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    s = await startStack({ models: [GROQ, CEREBRAS], keys: [{ provider: 'groq', secret: 'gsk_browser_g1', label: 'groq-main' }] });
  });
  after(async () => s?.stop());

  for (const theme of ['light', 'dark']) {
    test(`every page in the ${theme} theme: no console error, no serious accessibility violation`, T, async () => {
      const b = await openBrowser({ colorScheme: theme });
      try {
        for (const [slug, title] of PAGES) {
          await b.page.goto(`${origin()}/${slug}`);
          await b.page.getByRole('heading', { level: 1, name: title }).waitFor();
          await b.page.waitForLoadState('networkidle');
          assert.equal(await b.page.evaluate(() => document.documentElement.dataset.theme), theme);
          assert.deepEqual(await axeViolations(b.page), [], `${slug} (${theme})`);
          await b.page.screenshot({ path: path.join(SHOTS, `${slug}-${theme}.png`), fullPage: false });
        }
        assert.deepEqual(b.errors, []);
      } finally {
        await b.close();
      }
    });
  }

  test('on a phone the navigation folds into a menu', T, async () => {
    const b = await openBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await b.page.goto(`${origin()}/keys`);
      await b.page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      assert.equal(await b.page.getByRole('navigation', { name: 'Pages' }).isVisible(), false);
      await b.page.getByRole('button', { name: 'Menu' }).click();
      await b.page.getByRole('link', { name: 'Fallback chain' }).click();
      await b.page.getByRole('heading', { level: 1, name: 'Fallback chain' }).waitFor();
      await b.page.goto(`${origin()}/keys`);
      await b.page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      await b.page.screenshot({ path: path.join(SHOTS, 'keys-phone.png') });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('a key added in the UI is in `keys list`; one added by the CLI shows without a reload', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/keys`);
      const form = b.page.getByRole('form', { name: /Add a .*Cerebras.* key/i });
      await form.getByLabel('Key', { exact: true }).fill('csk-browser-added-1');
      await form.getByLabel(/Label/).fill('from-browser');
      await form.getByRole('button', { name: 'Add key' }).click();
      // The answer carries the key's first check (this mock Cerebras takes any key).
      await form.getByText('Key added and checked: the provider accepts it.').waitFor();
      await b.page.getByText('from-browser').waitFor();
      assert.match(await s.keysList(), /from-browser/);
      assert.equal(await b.page.getByText('csk-browser-added-1').count(), 0, 'the secret is never shown');
      const t0 = Date.now();
      await s.keysAdd({ provider: 'mistral', secret: 'mistral-cli-added-1', label: 'from-cli' });
      await b.page.getByText('from-cli').waitFor({ timeout: 2500 });
      assert.ok(Date.now() - t0 <= 2500);
      // Switched off and on again from its row.
      await b.page.getByRole('button', { name: 'Switch off key from-browser' }).click();
      await b.page.getByText('switched off').waitFor();
      await b.page.getByRole('button', { name: 'Switch on key from-browser' }).click();
      await b.page.getByRole('button', { name: 'Switch off key from-browser' }).waitFor();
      // A pasted .env block: preview first, then saved.
      await b.page.getByText('Import several keys').click();
      await b.page.getByLabel(/Paste lines like/).fill('GROQ_API_KEY=gsk_from_env_block\nNOT_A_KEY=1\n');
      await b.page.getByRole('table', { name: 'Keys found' }).waitFor();
      await b.page.getByRole('button', { name: /Save 1 key/ }).click();
      // The mock Groq knows only the stack's keys: this one is refused, and the page says so.
      await b.page.getByText(/groq: Key added, but the provider refused it/).waitFor();
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('the chain reordered by keyboard and by drag routes the next request and survives a restart', T, async () => {
    await s.keysAdd({ provider: 'cerebras', secret: 'csk-browser-c2', label: 'c2' });
    await s.syncMockKeys();
    const b = await openBrowser();
    const ask = async () => routedVia((await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('chain') }] }).withResponse()).response.headers)?.raw;
    const firstRow = () => b.page.locator('.chain-row').first().getAttribute('data-model');
    try {
      await b.page.goto(`${origin()}/chain`);
      await b.page.locator('.chain-row').first().waitFor();
      assert.equal(await firstRow(), 'groq/llama-3.3-70b-versatile');
      // Keyboard: focus the first row's Down button and press Enter.
      await b.page.getByRole('button', { name: 'Move Llama 3.3 70B (groq) down' }).focus();
      await b.page.keyboard.press('Enter');
      await b.page.getByText(/moved to position 2/).waitFor();
      assert.equal(await firstRow(), 'cerebras/gpt-oss-120b');
      assert.equal(await ask(), 'cerebras/gpt-oss-120b', await s.diag());
      // Drag: the groq row onto the first row.
      await b.page.locator('[data-model="groq/llama-3.3-70b-versatile"]').dragTo(b.page.locator('.chain-row').first());
      await b.page.getByText(/moved to position 1/).waitFor();
      assert.equal(await firstRow(), 'groq/llama-3.3-70b-versatile');
      await sleep(300);
      assert.equal(await ask(), 'groq/llama-3.3-70b-versatile');
      // Down again, then a restart keeps it.
      await b.page.getByRole('button', { name: 'Move Llama 3.3 70B (groq) down' }).click();
      await b.page.getByText(/moved to position 2/).waitFor();
      await s.restart(); // on a new port
      assert.equal(await ask(), 'cerebras/gpt-oss-120b');
      await b.page.goto(`${origin()}/chain`);
      await b.page.locator('.chain-row').first().waitFor();
      assert.equal(await firstRow(), 'cerebras/gpt-oss-120b');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('settings: request-log retention and the probe interval are saved and applied', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/settings`);
      await b.page.getByLabel(/Keep the request log for/).fill('14');
      await b.page.getByLabel(/Check every key's health every/).fill('30');
      await b.page.getByRole('button', { name: 'Save' }).click();
      await b.page.getByText(/Saved: the request log keeps 14 days; keys are probed every 30 min/).waitFor();
      const now = await (await s.fetch('//api/settings', { auth: false })).json();
      assert.equal(now.log_retention_days, 14);
      assert.equal(now.probe_interval_s, 1800);
      await b.page.getByLabel(/Keep the request log for/).fill('0');
      await b.page.getByRole('button', { name: 'Save' }).click();
      assert.equal((await (await s.fetch('//api/settings', { auth: false })).json()).log_retention_days, 14, 'the browser refuses 0 before sending');
      await b.page.reload();
      assert.equal(await b.page.getByLabel(/Keep the request log for/).inputValue(), '14');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('a page on another origin cannot drive the admin API through the browser', T, async () => {
    const b = await openBrowser();
    try {
      const before = await (await s.fetch('//api/unified-key', { auth: false })).json();
      await b.page.goto(`${s.mock.url}/`); // any other origin on this machine
      const target = `${origin()}/api/unified-key/rotate`;
      const tries = await b.page.evaluate(async (url) => {
        const out = {};
        try { // with the dashboard's header: the browser needs a preflight, which the gateway refuses
          const r = await fetch(url, { method: 'POST', credentials: 'include', headers: { 'X-FreeLLMAPI-Admin': '1' } });
          out.withHeader = r.status;
        } catch (e) { out.withHeader = 'blocked'; }
        try { // a "simple" request, as a form would send: no preflight, no custom header
          await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', body: 'x=1' });
          out.simple = 'sent';
        } catch (e) { out.simple = 'blocked'; }
        return out;
      }, target);
      assert.equal(tries.withHeader, 'blocked');
      const after = await (await s.fetch('//api/unified-key', { auth: false })).json();
      assert.equal(after.masked, before.masked, 'the unified key was not rotated');
      const r = await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: uniq('still') }] });
      assert.ok(r.choices[0].message.content);
    } finally {
      await b.close();
    }
  });

  test('a PIN locks the dashboard; five wrong PINs show a wait; the right PIN after it opens it', { timeout: 150000 }, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/settings`);
      await b.page.getByLabel(/^PIN/).fill('246810');
      await b.page.getByLabel('Repeat it').fill('246810');
      await b.page.getByRole('button', { name: 'Set PIN' }).click();
      await b.page.getByText(/PIN set/).waitFor();
      const other = await openBrowser();
      try {
        await other.page.goto(`${origin()}/keys`);
        await other.page.getByRole('heading', { name: 'FreeLLMAPI is locked' }).waitFor();
        await other.page.screenshot({ path: path.join(SHOTS, 'locked-light.png') });
        assert.deepEqual(await axeViolations(other.page), []);
        const status = await other.page.evaluate(async () => (await fetch('/api/status')).status);
        assert.equal(status, 401);
        for (let i = 0; i < 5; i++) {
          await other.page.getByLabel('PIN').fill('000000');
          await other.page.getByRole('button', { name: 'Unlock' }).click();
          for (let t = 0; t < 100 && (await other.page.getByLabel('PIN').inputValue()) !== ''; t++) await sleep(50);
        }
        await other.page.getByRole('button', { name: /Wait \d+ s/ }).waitFor();
        await other.page.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 40000 });
        await other.page.getByLabel('PIN').fill('246810');
        await other.page.getByRole('button', { name: 'Unlock' }).click();
        await other.page.getByRole('heading', { level: 1, name: 'Keys' }).waitFor();
      } finally {
        await other.close();
      }
      // The first browser keeps its session (it set the PIN); clear it for the tests after.
      await b.page.reload();
      await b.page.getByRole('button', { name: 'Clear PIN' }).waitFor();
      b.page.once('dialog', (d) => d.accept());
      await b.page.getByRole('button', { name: 'Clear PIN' }).click();
      await b.page.getByText('PIN cleared.').waitFor();
    } finally {
      await b.close();
    }
  });
});
