// The dashboard PIN end to end: set over the API, a session cookie (HttpOnly, SameSite=Strict,
// Secure behind a TLS proxy), /api refused without it, remote clients allowed once a PIN exists
// (still needing a session), five wrong PINs lock out with Retry-After and the lockout survives a
// restart, `freellmapi pin set|clear` from the CLI ends every session.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { withStack, sleep } from './lib/harness.mjs';

const T = { timeout: 90000 };
const ADMIN = { 'x-freellmapi-admin': '1' };

function api(s, p, { method, json, cookie, headers = {} } = {}) {
  const m = method ?? (json !== undefined ? 'POST' : 'GET');
  return s.fetch(`//api${p}`, { auth: false, method: m, json, headers: { ...(m !== 'GET' ? ADMIN : {}), ...(cookie ? { cookie } : {}), ...headers } });
}
const cookieOf = (r) => (r.headers.get('set-cookie') ?? '').split(';')[0];

describe('dashboard PIN', () => {
  test('set, log in, log out; wrong PINs lock out across a restart; the CLI ends sessions', T, async () => {
    await withStack({}, async (s) => {
      const set = await api(s, '/pin', { method: 'PUT', json: { pin: '246810' } });
      assert.equal(set.status, 200);
      const setCookie = set.headers.get('set-cookie');
      assert.match(setCookie, /^freellmapi_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
      const cookie = cookieOf(set);
      assert.equal((await api(s, '/status')).status, 401);
      const ok = await api(s, '/status', { cookie });
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).pin_set, true);
      assert.deepEqual(await (await api(s, '/session')).json(), { pin_set: true, authenticated: false });

      // With a PIN, a remote client may log in (and needs to).
      const remote = { 'x-forwarded-for': '198.51.100.20', 'x-forwarded-proto': 'https' };
      assert.equal((await api(s, '/status', { headers: remote })).status, 401);
      const login = await api(s, '/session', { json: { pin: '246810' }, headers: remote });
      assert.equal(login.status, 200);
      assert.match(login.headers.get('set-cookie'), /; Secure/);
      const remoteCookie = cookieOf(login);
      assert.equal((await api(s, '/keys', { cookie: remoteCookie, headers: remote })).status, 200);
      const out = await api(s, '/session', { method: 'DELETE', cookie: remoteCookie, headers: remote });
      assert.match(out.headers.get('set-cookie'), /Max-Age=0/);
      assert.equal((await api(s, '/keys', { cookie: remoteCookie, headers: remote })).status, 401);

      // Guesses sent in parallel are checked one at a time: the others are told to retry.
      const burst = await Promise.all([1, 2, 3, 4].map(() => api(s, '/session', { json: { pin: '000000' } })));
      const busy = [];
      for (const r of burst) if (r.status === 429) busy.push(await r.json());
      assert.ok(busy.length >= 1 && burst.some((r) => r.status === 401), burst.map((r) => r.status).join());
      assert.ok(busy.every((b) => b.error.code === 'login_busy'));
      assert.equal((await api(s, '/session', { json: { pin: '246810' } })).status, 200, 'the right PIN forgets them');

      // Five wrong PINs: the fifth answers 429 with Retry-After, and so does the right PIN now.
      for (let i = 1; i <= 4; i++) assert.equal((await api(s, '/session', { json: { pin: '000000' } })).status, 401);
      const fifth = await api(s, '/session', { json: { pin: '000000' } });
      assert.equal(fifth.status, 429);
      assert.equal(fifth.headers.get('retry-after'), '30');
      const right = await api(s, '/session', { json: { pin: '246810' } });
      assert.equal(right.status, 429);
      await s.restart();
      const after = await api(s, '/session', { json: { pin: '246810' } });
      assert.equal(after.status, 429, 'the lockout survives a restart');
      assert.ok(Number(after.headers.get('retry-after')) > 0);
      // The session made before the restart is gone with the process; the CLI is the recovery.
      await s.cliOk('pin', 'clear');
      await sleep(1500);
      const open = await api(s, '/status');
      assert.equal(open.status, 200);
      assert.equal((await open.json()).pin_set, false);
      assert.equal((await api(s, '/status', { headers: remote })).status, 403, 'no PIN: this machine only again');
    });
  });

  test('a PIN set from the CLI locks the dashboard and ends open sessions; bad PINs are refused', T, async () => {
    await withStack({}, async (s) => {
      const set = await api(s, '/pin', { method: 'PUT', json: { pin: '1357' } });
      const cookie = cookieOf(set);
      assert.equal((await api(s, '/keys', { cookie })).status, 200);
      const r = await s.cli('pin', 'set', { input: '97531\n' });
      assert.equal(r.code, 0, r.stderr);
      await sleep(1500);
      assert.equal((await api(s, '/keys', { cookie })).status, 401, 'a new PIN ends the old sessions');
      const login = await api(s, '/session', { json: { pin: '97531' } });
      assert.equal(login.status, 200);
      for (const pin of ['12', 'x'.repeat(65), 5, null]) {
        const bad = await api(s, '/pin', { method: 'PUT', json: { pin }, cookie: cookieOf(login) });
        assert.equal(bad.status, 400, String(pin));
      }
    });
  });
});
