// The dashboard's files on the gateway's port: pages a browser navigates to get the app (client
// routing), its files are served with the dashboard's security headers, API clients keep the bare
// /v1 aliases (/models), nothing outside the dashboard's folder is ever served, and only this
// machine is answered while no PIN is set. `serve --web-dir` serves from disk; the embedded copy
// is checked for caching (ETag, immutable hashed assets, gzip) when the binary has one.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { startStack } from './lib/harness.mjs';

const T = { timeout: 60000 };
const HTML = { accept: 'text/html,application/xhtml+xml' };

function rawGet(port, target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nConnection: close\r\n\r\n`));
    let data = '';
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
}

function checkSecurity(r) {
  const csp = r.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
}

describe('dashboard files', () => {
  test('--web-dir: pages, files, security headers, API aliases untouched, no way out of the folder', T, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-web-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>app</title><div id=app></div>');
    fs.writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log("app")');
    fs.writeFileSync(path.join(os.tmpdir(), 'freellmapi-secret-outside.txt'), 'outside');
    const s = await startStack({ serveArgs: ['--web-dir', dir] });
    try {
      for (const p of ['/', '/keys', '/chain', '/models', '/settings/pin']) {
        const r = await s.fetch(`/${p}`.replace(/^\/\//, '//'), { auth: false, headers: HTML });
        assert.equal(r.status, 200, p);
        assert.match(await r.text(), /<title>app<\/title>/, p);
        checkSecurity(r);
      }
      const js = await s.fetch('//assets/app-1a2b.js', { auth: false });
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type'), /javascript/);
      checkSecurity(js);
      assert.equal((await s.fetch('//assets/missing.js', { auth: false })).status, 404);
      // An API client asking for the bare alias gets the API, key and all.
      assert.equal((await s.fetch('//models', { auth: false })).status, 401);
      assert.equal((await s.fetch('//models')).status, 200);
      assert.equal((await s.fetch('/models', { headers: HTML })).status, 200);
      for (const t of ['/assets/../../freellmapi-secret-outside.txt', '/assets/%2e%2e/%2e%2e/freellmapi-secret-outside.txt', '/..%2f..%2ffreellmapi-secret-outside.txt']) {
        const raw = await rawGet(s.port, t);
        assert.doesNotMatch(raw, /outside/, t);
      }
      const remote = await s.fetch('//keys', { auth: false, headers: { ...HTML, 'x-forwarded-for': '198.51.100.7' } });
      assert.equal(remote.status, 403);
    } finally {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the embedded copy', () => {
    let s;
    before(async () => {
      s = await startStack({});
    });
    after(async () => s?.stop());

    test('a page load gets the app or, in a build without one, a note saying how to build it', T, async () => {
      const r = await s.fetch('//', { auth: false, headers: { ...HTML, 'accept-encoding': 'gzip' } });
      assert.equal(r.status, 200);
      checkSecurity(r);
      const html = await r.text();
      if (/has no dashboard/.test(html)) {
        assert.match(html, /--web-dir/);
        return;
      }
      const etag = r.headers.get('etag');
      assert.ok(etag);
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      const again = await s.fetch('//', { auth: false, headers: { ...HTML, 'if-none-match': etag } });
      assert.equal(again.status, 304);
      const asset = html.match(/\/assets\/[\w.-]+\.js/)?.[0];
      assert.ok(asset, 'index.html names a hashed script');
      const a = await s.fetch(`/${asset}`, { auth: false, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(a.status, 200);
      assert.match(a.headers.get('cache-control'), /immutable/);
    });
  });
});
