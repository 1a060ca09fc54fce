// Dashboard II in a real browser (Debian's Chromium) against the real gateway and the mock
// providers: after known traffic through the openai SDK (successes, a fallover off an invalid key,
// a 429), the Analytics, Logs and Budgets pages show the gateway's own counts; the Live page shows
// a request made after it opened; a log filter and its export return exactly the matching rows; a
// recommendation names the invalid key; releasing a quarantine makes the model route again;
// pacing switched on from the Budgets page (keyboard only) reaches the admin API. Every
// page in both themes has no console error and no serious axe violation; screenshots go to
// docs/screenshots/.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, routedVia, uniq, sleep, REPO_ROOT } from '../e2e/lib/harness.mjs';
import { openBrowser, axeViolations } from './lib/browser.mjs';

const T = { timeout: 120000 };
// Daily caps, so the Budgets page offers pacing (groq's answers state the same 1000 requests).
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile', limits: { rpd: 1000 } };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b', limits: { rpd: 14400 } };
const SHOTS = path.join(REPO_ROOT, 'docs/screenshots');
const PAGES = [['analytics', 'Analytics'], ['live', 'Live'], ['logs', 'Logs'], ['budgets', 'Budgets']];
const ADMIN = { 'x-freellmapi-admin': '1', 'content-type': 'application/json' };
const fmt = (n) => n.toLocaleString('en-US');

describe('dashboard data pages', () => {
  let s;
  const seen = [];
  const origin = () => `http://127.0.0.1:${s.port}`;
  const api = async (p, init = {}) => {
    const r = await fetch(`${origin()}/api${p}`, { ...init, headers: init.method ? ADMIN : {} });
    return r.json();
  };
  const chat = async (model, text = 'hello') => {
    const r = await s.client.chat.completions.create({ model, messages: [{ role: 'user', content: text }] }).withResponse()
      .then((x) => x.response, (e) => ({ status: e.status, headers: e.headers }));
    seen.push({ status: r.status, via: r.status === 200 ? routedVia(r.headers) : null });
    return r.status;
  };
  const logged = async () => {
    for (let i = 0; i < 100; i++) {
      if ((await api('/logs?limit=500')).data.length >= seen.length) return;
      await sleep(100);
    }
    throw new Error('the log never caught up');
  };

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    s = await startStack({
      models: [GROQ, CEREBRAS],
      keys: [
        { provider: 'groq', secret: 'gsk_browser_dash_good', label: 'groq-good' },
        { provider: 'groq', secret: 'gsk_browser_dash_bad', label: 'groq-bad' },
        { provider: 'cerebras', secret: 'csk-browser-dash-1', label: 'cerebras-1' },
      ],
      mockKeys: false,
    });
    await s.mock.setKeys({ groq: ['gsk_browser_dash_good'], cerebras: ['csk-browser-dash-1'] });
    for (let i = 0; i < 5; i++) await chat('groq/llama-3.3-70b-versatile');
    for (let i = 0; i < 2; i++) await chat('cerebras/gpt-oss-120b');
    await s.mock.script([
      { provider: 'cerebras', error: 'rate_limit_minute', retry_after: 300 },
      { provider: 'groq', error: 'rate_limit_minute', retry_after: 300 },
    ]);
    assert.equal(await chat('cerebras/gpt-oss-120b'), 429);
    await fetch(`${origin()}/api/quarantines`, { method: 'DELETE', headers: ADMIN, body: JSON.stringify({ provider: 'groq' }) });
    await logged();
  });
  after(async () => s?.stop());

  // First, so the screenshots below show a paced model.
  test('pacing a model from the budgets page, by keyboard, reaches the API', T, async () => {
    const b = await openBrowser();
    const name = `groq/${GROQ.id}`;
    const paced = async () => (await api('/budgets')).data.find((m) => `${m.provider}/${m.id}` === name).pacing;
    try {
      assert.equal(await paced(), null);
      await b.page.goto(`${origin()}/budgets`);
      const toggle = b.page.getByRole('checkbox', { name: 'Pace through the day for Llama 3.3 70B (groq)' });
      await toggle.waitFor();
      assert.equal(await toggle.isChecked(), false);
      const row = b.page.getByRole('row').filter({ has: toggle });
      assert.match(await row.innerText(), /off: the caps are spent as requests come/);
      // The share first (kept until pacing is on), then the switch, from the keyboard.
      const reserve = row.getByRole('combobox', { name: /Share of the daily cap Llama 3\.3 70B holds back/ });
      await reserve.focus();
      await b.page.keyboard.press('ArrowDown'); // 50 % -> 75 %
      assert.equal(await reserve.inputValue(), '0.75');
      assert.equal(await paced(), null, 'choosing the share alone changes nothing');
      await toggle.focus();
      await b.page.keyboard.press('Space');
      let p = null;
      for (let i = 0; i < 50 && p?.reserve !== 0.75; i++) {
        p = await paced();
        if (p?.reserve !== 0.75) await sleep(100);
      }
      assert.equal(p?.reserve, 0.75, 'the API shows the pacing the page set');
      await b.page.getByText(/paced: [\d,]+ of 1,000 requests released/).waitFor();
      const shown = Number((await row.innerText()).match(/paced: ([\d,]+) of 1,000/)[1].replace(/,/g, ''));
      assert.ok(Math.abs(shown - p.allowed_now.requests) <= 1, `page ${shown}, API ${p.allowed_now.requests}`);
      assert.equal(await toggle.isChecked(), true);
      // The other model stays unpaced.
      assert.equal((await api('/budgets')).data.find((m) => m.provider === 'cerebras').pacing, null);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  for (const theme of ['light', 'dark']) {
    test(`the data pages in the ${theme} theme: no console error, no serious accessibility violation`, T, async () => {
      const b = await openBrowser({ colorScheme: theme });
      try {
        for (const [slug, title] of PAGES) {
          await b.page.goto(`${origin()}/${slug}`);
          await b.page.getByRole('heading', { level: 1, name: title }).waitFor();
          if (slug !== 'live') await b.page.waitForLoadState('networkidle');
          if (slug === 'analytics') await b.page.locator('.plot canvas').first().waitFor();
          assert.deepEqual(await axeViolations(b.page), [], `${slug} (${theme})`);
          await b.page.screenshot({ path: path.join(SHOTS, `${slug}-${theme}.png`), fullPage: slug !== 'live' });
        }
        assert.deepEqual(b.errors, []);
      } finally {
        await b.close();
      }
    });
  }

  test('analytics show the gateway\'s own counts, also on a phone', T, async () => {
    const ok = seen.filter((x) => x.status === 200).length;
    const b = await openBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await b.page.goto(`${origin()}/analytics`);
      const stats = b.page.locator('dl.stats');
      await stats.waitFor();
      const requests = stats.locator('.stat').filter({ hasText: 'Requests' }).first();
      assert.match(await requests.innerText(), new RegExp(`${fmt(seen.length)}[\\s\\S]*${fmt(ok)} ok, ${fmt(seen.length - ok)} failed`));
      const byProvider = b.page.getByRole('table', { name: 'By provider' });
      for (const p of ['groq', 'cerebras']) {
        const row = byProvider.getByRole('row').filter({ has: b.page.getByRole('rowheader', { name: p, exact: true }) });
        // A request is counted under the provider it last went to (the 429 under groq).
        const n = (await api(`/logs?provider=${p}&limit=500`)).data.length;
        assert.ok(n >= seen.filter((x) => x.via?.provider === p).length);
        assert.match(await row.innerText(), new RegExp(`^${p}\\s+${n}\\b`), p);
      }
      // The 7-day window reads the hour rollups: the same totals.
      await b.page.getByRole('group', { name: 'Window' }).getByRole('button', { name: /7/ }).click();
      await b.page.locator('[aria-busy="false"] dl.stats').waitFor();
      assert.match(await b.page.locator('dl.stats .stat').first().innerText(), new RegExp(fmt(seen.length)));
      await b.page.screenshot({ path: path.join(SHOTS, 'analytics-phone.png'), fullPage: true });
      const width = await b.page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page fits the phone (${width}px)`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('the live page shows a request made after it opened', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/live`);
      await b.page.getByRole('heading', { level: 1, name: 'Live' }).waitFor();
      await b.page.getByText('Connected: requests appear as they finish.').waitFor();
      const before = await b.page.locator('tbody tr').count();
      assert.equal(await chat('cerebras/gpt-oss-120b', uniq('live')), 200);
      const row = b.page.locator('tbody tr').first();
      for (let i = 0; i < 100 && (await b.page.locator('tbody tr').count()) <= before; i++) await sleep(50);
      assert.match(await row.innerText(), /\/v1\/chat\/completions[\s\S]*groq\/llama-3\.3-70b-versatile[\s\S]*200/);
      await b.page.getByRole('button', { name: 'Pause' }).click();
      await b.page.getByRole('button', { name: 'Resume' }).waitFor();
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
    await logged();
  });

  test('a filter and its export return exactly the matching rows; the invalid key gets a recommendation', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/logs`);
      await b.page.locator('tbody tr').first().waitFor();
      await b.page.getByLabel('Status').selectOption('429');
      await b.page.getByRole('button', { name: 'Apply' }).click();
      const want = (await api('/logs?status=429')).data;
      assert.equal(want.length, seen.filter((x) => x.status === 429).length);
      for (let i = 0; i < 100 && (await b.page.locator('table.rows tbody tr').count()) !== want.length; i++) await sleep(50);
      assert.equal(await b.page.locator('table.rows tbody tr').count(), want.length);
      for (const text of await b.page.locator('table.rows tbody tr').allInnerTexts()) assert.match(text, /\b429\b[\s\S]*rate limited/i);
      const href = await b.page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
      const csv = await (await fetch(new URL(href, origin()))).text();
      const ids = csv.trim().split('\r\n').slice(1).map((l) => Number(l.split(',')[0]));
      assert.deepEqual(ids, want.map((r) => r.id));
      const jsonl = await (await fetch(new URL(await b.page.getByRole('link', { name: 'Export JSON Lines' }).getAttribute('href'), origin()))).text();
      assert.deepEqual(jsonl.trim().split('\n').map((l) => JSON.parse(l).id), want.map((r) => r.id));
      // The detail of the fallover lists both attempts.
      await b.page.getByRole('button', { name: 'Clear' }).click();
      const fell = (await api('/logs?limit=500')).data.find((r) => r.attempts > 1 && r.status === 200);
      await b.page.locator('table.rows tbody tr').nth(1).waitFor();
      const rowsText = await b.page.locator('table.rows tbody tr').allInnerTexts();
      const index = (await api('/logs?limit=500')).data.findIndex((r) => r.id === fell.id);
      assert.ok(index >= 0 && index < rowsText.length);
      await b.page.locator('table.rows tbody tr').nth(index).getByRole('button', { name: /Details/ }).click();
      const dialog = b.page.getByRole('dialog');
      await dialog.getByRole('table', { name: 'Attempts, in order' }).waitFor();
      const attempts = await dialog.getByRole('table', { name: 'Attempts, in order' }).locator('tbody tr').allInnerTexts();
      assert.equal(attempts.length, 2);
      assert.match(attempts[0], /auth/);
      assert.match(attempts[1], /\bok\b/);
      await b.page.screenshot({ path: path.join(SHOTS, 'logs-detail.png') });
      await b.page.keyboard.press('Escape');
      const rec = b.page.locator('.recs li').filter({ hasText: 'groq-bad' });
      await rec.waitFor();
      assert.match(await rec.innerText(), /High[\s\S]*invalid[\s\S]*Replace it/);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('releasing a quarantine on the budgets page makes the model route again', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/budgets`);
      const release = b.page.getByRole('button', { name: new RegExp(`Release cerebras ${CEREBRAS.id}`) });
      await release.waitFor();
      const row = b.page.getByRole('row').filter({ has: release });
      assert.match(await row.innerText(), /rate limit minute|rate_limit_minute/);
      // Benched: a request for it goes elsewhere.
      assert.equal(await chat('cerebras/gpt-oss-120b'), 200);
      assert.equal(seen.at(-1).via.provider, 'groq');
      await release.click();
      await b.page.getByText('Nothing is benched.').waitFor();
      assert.equal(await chat('cerebras/gpt-oss-120b'), 200);
      assert.equal(seen.at(-1).via.provider, 'cerebras');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
