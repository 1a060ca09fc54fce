// Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core, headless,
// on a fresh temporary profile, with everything that would reach the network switched off.
// Collects console errors per page and runs axe-core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const AXE_JS = require.resolve('axe-core/axe.min.js');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * A browser on a fresh profile. Returns { ctx, page, errors, close }: errors holds every console
 * error and uncaught exception of every page of the context ("url: text"); close() ends the
 * browser and removes the profile.
 */
export async function openBrowser({ colorScheme = 'light', viewport = { width: 1280, height: 800 }, ...options } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-web-deps.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-chromium-'));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, colorScheme, viewport, ...options,
    });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const errors = [];
  ctx.on('page', (p) => watch(p, errors));
  for (const p of ctx.pages()) watch(p, errors);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return {
    ctx,
    page,
    errors,
    close: async () => {
      await ctx.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function watch(page, errors) {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
}

/**
 * axe-core's violations of impact serious or critical on the page as it is now, as
 * "rule: help (n nodes: selectors)". axe is evaluated through the debugging protocol rather than
 * added as a <script> tag (page.addScriptTag inlines the file, which the dashboard's CSP rightly
 * refuses).
 */
export async function axeViolations(page, { exclude = [] } = {}) {
  if (!(await page.evaluate(() => typeof globalThis.axe === 'object'))) {
    await page.evaluate(fs.readFileSync(AXE_JS, 'utf8'));
  }
  const r = await page.evaluate(
    async (exclude) => globalThis.axe.run({ exclude }, { resultTypes: ['violations'] }),
    exclude.map((s) => [s]),
  );
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
}
