// Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core, headless,
// with a fresh profile and everything that would reach the network switched off. Collects
// console errors per page and runs axe-core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A browser context on a fresh profile; close() removes the profile. */
/** fakeMedia: a fake microphone and camera, granted without asking (Chromium's test devices). */
export async function openBrowser({ colorScheme = 'light', viewport = { width: 1280, height: 800 }, fakeMedia = false } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-chromium-'));
  const args = fakeMedia ? [...FLAGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] : FLAGS;
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args, colorScheme, viewport,
    permissions: fakeMedia ? ['microphone', 'clipboard-read', 'clipboard-write'] : ['clipboard-read', 'clipboard-write'] });
  const errors = [];
  ctx.on('page', (page) => watch(page, errors));
  for (const p of ctx.pages()) watch(p, errors);
  return {
    ctx,
    errors,
    page: ctx.pages()[0] ?? (await ctx.newPage()),
    close: async () => {
      await ctx.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function watch(page, errors) {
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
}

/** axe-core violations of impact serious or critical on the page as it is. */
export async function axeViolations(page) {
  // Evaluated through the debugging protocol: the dashboard's CSP (rightly) refuses injected tags.
  await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const r = await page.evaluate(async () => await globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
}
