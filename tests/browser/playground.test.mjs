// Dashboard III in a real browser (Debian's Chromium, fake media devices) against the real
// gateway and the mock providers: the playground streams a chat token by token and Stop cancels
// it upstream (the mock sees the disconnect); vision with a local file; a tool round trip;
// embeddings and their similarity; an image generated and shown; speech played; a transcription
// from an uploaded file and from the fake microphone; a Test Lab sweep where the mock fails a
// model, which is quarantined and then released; every JavaScript and cURL snippet copied from
// the Integrations page runs unchanged against the gateway. Screenshots in docs/screenshots/.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startStack, sineWav, sleep, REPO_ROOT } from '../e2e/lib/harness.mjs';
import { openBrowser, axeViolations } from './lib/browser.mjs';

const T = { timeout: 120000 };
const CHAT = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const VISION = { provider: 'google', id: 'gemini-2.5-flash' };
const EMBED = { provider: 'google', id: 'gemini-embedding-001' };
const IMAGE = { provider: 'google', id: 'gemini-2.5-flash-image' };
const TTS = { provider: 'google', id: 'gemini-2.5-flash-preview-tts' };
const STT = { provider: 'groq', id: 'whisper-large-v3-turbo' };
const MISTRAL = { provider: 'mistral', id: 'mistral-small-latest' };
const LIVE = { provider: 'google', id: 'gemini-live-2.5-flash-preview' };
const SHOTS = path.join(REPO_ROOT, 'docs/screenshots');
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe('playground, test lab, integrations', () => {
  let s;
  const origin = () => `http://127.0.0.1:${s.port}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'freellmapi-pg-'));
  const open = async (b, tab) => {
    await b.page.goto(`${origin()}/playground`);
    await b.page.getByRole('heading', { level: 1, name: 'Playground' }).waitFor();
    await b.page.getByRole('tab', { name: tab }).click();
  };

  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    s = await startStack({
      models: [CHAT, VISION, EMBED, IMAGE, TTS, STT, MISTRAL, LIVE],
      keys: [
        { provider: 'groq', secret: 'gsk_browser_pg_1' },
        { provider: 'google', secret: 'AIzaBrowserPg1' },
        { provider: 'mistral', secret: 'mistral-browser-pg-1' },
      ],
    });
  });
  after(async () => {
    await s?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every tab, the Test Lab and Integrations: no console error, no serious accessibility violation', T, async () => {
    for (const theme of ['light', 'dark']) {
      const b = await openBrowser({ colorScheme: theme });
      try {
        await open(b, 'Chat');
        for (const tab of ['Chat', 'Vision', 'Tools', 'Embeddings', 'Images', 'Speech', 'Transcription', 'Realtime voice']) {
          await b.page.getByRole('tab', { name: tab }).click();
          await b.page.getByRole('tabpanel').waitFor();
          assert.deepEqual(await axeViolations(b.page), [], `${tab} (${theme})`);
        }
        await b.page.getByRole('tab', { name: 'Chat' }).click();
        await b.page.screenshot({ path: path.join(SHOTS, `playground-${theme}.png`) });
        for (const [slug, title] of [['lab', 'Test Lab'], ['integrations', 'Integrations']]) {
          await b.page.goto(`${origin()}/${slug}`);
          await b.page.getByRole('heading', { level: 1, name: title }).waitFor();
          await b.page.waitForLoadState('networkidle');
          assert.deepEqual(await axeViolations(b.page), [], `${slug} (${theme})`);
          await b.page.screenshot({ path: path.join(SHOTS, `${slug}-${theme}.png`) });
        }
        assert.deepEqual(b.errors, []);
      } finally {
        await b.close();
      }
    }
  });

  test('a streamed chat appears token by token; Stop cancels it upstream', T, async () => {
    const b = await openBrowser();
    try {
      await open(b, 'Chat');
      const words = Array.from({ length: 40 }, (_, i) => `w${i} `);
      await s.mock.script({ provider: 'groq', chunks: words, chunk_delay_ms: 150 });
      const mark = await s.mock.mark();
      await b.page.getByLabel('Message').fill('Count slowly');
      await b.page.getByRole('button', { name: 'Send' }).click();
      const answer = b.page.locator('.turns li').last();
      await b.page.getByText('w2', { exact: false }).first().waitFor();
      const partial = await answer.innerText();
      assert.ok(!partial.includes('w39'), 'the answer is still arriving');
      await b.page.getByRole('button', { name: 'Stop' }).click();
      let req;
      for (let i = 0; i < 100 && !(req = (await s.mock.chatRequests({ since: mark }))[0])?.closed_at; i++) await sleep(50);
      assert.ok(req?.closed_at, 'the mock saw the connection closed before the answer ended');
      await sleep(500);
      assert.ok(!(await answer.innerText()).includes('w39'));
      // A whole answer is labelled with where it went.
      await b.page.getByLabel('Message').fill('Say hello in **bold** and `code`');
      await s.mock.script({ provider: 'groq', content: 'Hello **there** and `x = 1` <img src=x onerror=alert(1)>' });
      await b.page.getByRole('button', { name: 'Send' }).click();
      await b.page.locator('.turns li strong', { hasText: 'there' }).waitFor();
      assert.match(await b.page.locator('.turns').innerText(), /groq\/llama-3\.3-70b-versatile/);
      assert.equal(await b.page.locator('.turns img').count(), 0, 'no HTML from a model is rendered');
      await b.page.screenshot({ path: path.join(SHOTS, 'playground-chat.png') });
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('vision with a local file; a tool round trip; embeddings and their similarity', T, async () => {
    const b = await openBrowser();
    try {
      fs.writeFileSync(path.join(tmp, 'dot.png'), PNG);
      await open(b, 'Vision');
      await b.page.locator('input[type=file]').setInputFiles(path.join(tmp, 'dot.png'));
      await b.page.getByLabel('Question').fill('What is this?');
      const mark = await s.mock.mark();
      await s.mock.script({ content: 'A single dot.' });
      await b.page.getByRole('button', { name: 'Ask' }).click();
      await b.page.locator('.answer').getByText('A single dot.').waitFor();
      const sent = await s.mock.requests({ since: mark });
      assert.ok(sent.some((q) => JSON.stringify(q.body).includes(PNG.toString('base64').slice(0, 20))), 'the image went as a content part');

      await b.page.getByRole('tab', { name: 'Tools' }).click();
      await s.mock.script({ provider: 'groq', tool_calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] });
      await b.page.getByLabel('Prompt').fill('Weather in Paris?');
      const mark2 = await s.mock.mark();
      await b.page.getByRole('button', { name: 'Send', exact: true }).click();
      await b.page.getByText('get_weather').first().waitFor();
      await b.page.getByRole('button', { name: 'Send results' }).click();
      for (let i = 0; i < 100 && (await s.mock.chatRequests({ since: mark2 })).length < 2; i++) await sleep(50);
      const second = (await s.mock.chatRequests({ since: mark2 }))[1];
      assert.ok(second.body.messages.some((m) => m.role === 'tool'), 'the tool result went back');
      await b.page.getByRole('button', { name: 'Start over' }).waitFor();

      await b.page.getByRole('tab', { name: 'Embeddings' }).click();
      await b.page.getByLabel(/Inputs/).fill('cats\ndogs\ncats');
      await b.page.getByRole('button', { name: 'Embed' }).click();
      const table = b.page.getByRole('table').first();
      await table.waitFor();
      const text = await table.innerText();
      assert.match(text, /1\.0+/, 'a text is identical to itself');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('an image generated and shown; speech played; transcription from a file and the microphone', T, async () => {
    const b = await openBrowser({ fakeMedia: true });
    try {
      await open(b, 'Images');
      await b.page.getByLabel('Prompt').fill('a red dot');
      await b.page.locator('form button[type=submit]').click();
      const img = b.page.locator('img[alt^="Generated"], img[alt^="Result"]').first();
      await img.waitFor();
      assert.ok(await img.evaluate((el) => el.naturalWidth > 0), 'the image decoded');
      assert.ok(await b.page.getByRole('link', { name: /Download/ }).count() >= 1);
      // Edit an uploaded image with a prompt.
      fs.writeFileSync(path.join(tmp, 'dot.png'), PNG);
      const markEdit = await s.mock.mark();
      await b.page.getByRole('group', { name: 'What to do' }).getByRole('button', { name: 'Edit' }).click();
      await b.page.locator('input[type=file]').setInputFiles(path.join(tmp, 'dot.png'));
      await b.page.getByLabel('What to change').fill('make it blue');
      await b.page.locator('form button[type=submit]').click();
      for (let i = 0; i < 100 && !(await s.mock.requests({ since: markEdit })).length; i++) await sleep(50);
      await b.page.locator('img[alt^="Generated"], img[alt^="Result"]').first().waitFor();
      assert.ok((await s.mock.requests({ since: markEdit })).length >= 1, 'the edit reached the provider');

      await b.page.getByRole('tab', { name: 'Speech' }).click();
      await b.page.getByLabel('Text').fill('Hello there');
      await b.page.getByLabel('Format').selectOption('wav');
      await b.page.getByRole('button', { name: 'Speak' }).click();
      const audio = b.page.locator('audio');
      await audio.waitFor();
      let duration = 0;
      for (let i = 0; i < 100 && !(duration > 0); i++) {
        duration = await audio.evaluate((a) => a.duration);
        await sleep(50);
      }
      assert.ok(duration > 0, `the audio element reports a duration (${duration})`);

      await b.page.getByRole('tab', { name: 'Transcription' }).click();
      fs.writeFileSync(path.join(tmp, 'hello.wav'), sineWav(1));
      await b.page.locator('input[type=file]').setInputFiles(path.join(tmp, 'hello.wav'));
      await b.page.getByRole('button', { name: 'Transcribe' }).click();
      await b.page.locator('.content, output, [aria-live]').filter({ hasText: /\w/ }).first().waitFor();
      const mark = await s.mock.mark();
      await b.page.getByRole('button', { name: 'Record from the microphone' }).click();
      await sleep(1200);
      await b.page.getByRole('button', { name: /Stop recording/ }).click();
      await b.page.getByRole('button', { name: 'Transcribe' }).click();
      for (let i = 0; i < 100 && !(await s.mock.requests({ since: mark })).some((q) => /transcri/.test(q.endpoint)); i++) await sleep(50);
      assert.ok((await s.mock.requests({ since: mark })).some((q) => /transcri/.test(q.endpoint)), 'the recording was transcribed');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('realtime voice: a Gemini Live session from the microphone, both transcripts, a function call answered', T, async () => {
    const b = await openBrowser({ fakeMedia: true });
    try {
      await s.mock.script({ provider: 'google', endpoint: 'live', live: {
        transcript: 'What is the weather in Bergen?',
        tool_call: { name: 'get_weather', args: { city: 'Bergen' } },
      } });
      await open(b, 'Realtime voice');
      await b.page.getByRole('button', { name: 'Start' }).click();
      // Set up (setupComplete) and the fake microphone open.
      await b.page.getByText('Live: speak now (or type below).').waitFor();
      await sleep(800); // some microphone audio goes up
      await b.page.getByLabel('Type to the model').fill('What is the weather in Bergen?');
      await b.page.getByRole('tabpanel').getByRole('button', { name: 'Send' }).click();
      const transcript = b.page.getByRole('list', { name: 'Transcript' });
      await transcript.getByText(/get_weather returned/).waitFor({ timeout: 30000 });
      const text = await transcript.innerText();
      assert.match(text, /You/);
      assert.match(text, /Model/);
      const [session] = (await s.mock.liveSessions()).slice(-1);
      assert.ok(session.tool_responses?.length >= 1, JSON.stringify(session).slice(0, 400));
      assert.equal(session.tool_responses[0].name, 'get_weather');
      assert.ok(session.audio_in?.bytes > 0 || session.audio_in > 0, 'the microphone was streamed');
      await b.page.screenshot({ path: path.join(SHOTS, 'playground-realtime.png') });
      await b.page.getByRole('button', { name: 'Stop' }).click();
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('the Test Lab sends an endpoint its ready request and shows the raw exchange', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/lab`);
      await b.page.getByRole('heading', { level: 1, name: 'Test Lab' }).waitFor();
      await b.page.getByRole('form', { name: /Request: Chat completions/ }).getByRole('button', { name: 'Send' }).click();
      const headers = b.page.getByRole('table', { name: /Response headers/ });
      await headers.waitFor();
      const row = headers.getByRole('row').filter({ hasText: /x-routed-via/i });
      assert.match(await row.innerText(), /routing[\s\S]*groq\/llama-3\.3-70b-versatile/i);
      assert.match(await b.page.locator('.inspector').innerText(), /200/);
      assert.doesNotMatch(await b.page.locator('.inspector').innerText(), /freellmapi-[0-9a-f]{8}/, 'no key on the page');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('a sweep over the catalog: the failing model is quarantined, then released', T, async () => {
    const b = await openBrowser();
    try {
      await s.mock.script({ provider: 'mistral', error: 'server', times: 5 });
      await b.page.goto(`${origin()}/lab`);
      await b.page.getByRole('heading', { level: 1, name: 'Test Lab' }).waitFor();
      await b.page.getByRole('button', { name: /^Start/ }).click();
      const failed = b.page.getByRole('row').filter({ hasText: MISTRAL.id });
      await failed.getByText('failed').waitFor({ timeout: 60000 });
      await b.page.getByText(/done|finished/i).first().waitFor({ timeout: 60000 }).catch(() => {});
      const rows = await b.page.getByRole('row').allInnerTexts();
      assert.ok(rows.some((r) => r.includes(CHAT.id) && /\bok\b/.test(r)), rows.join('\n'));
      await s.mock.clearScript();
      await failed.getByRole('button', { name: /Quarantine/ }).click();
      await failed.getByText(/quarantined/).waitFor();
      await b.page.locator('.table-wrap').last().evaluate((el) => { el.scrollLeft = 0; });
      await b.page.screenshot({ path: path.join(SHOTS, 'lab-sweep.png'), fullPage: true });
      // Routing skips it now.
      const mark = await s.mock.mark();
      for (let i = 0; i < 3; i++) await s.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
      assert.ok((await s.mock.chatRequests({ since: mark })).every((q) => q.provider !== 'mistral'));
      // Released on the budgets page: it routes again.
      await b.page.goto(`${origin()}/budgets`);
      // The manual quarantine and the benches the failures left: release them all.
      const release = b.page.getByRole('button', { name: new RegExp(`Release mistral ${MISTRAL.id}`) });
      await release.first().waitFor();
      for (let i = 0; i < 10 && (await release.count()) > 0; i++) {
        await release.first().click();
        await sleep(300);
      }
      await b.page.getByText('Nothing is benched.').waitFor();
      const r = await s.client.chat.completions.create({ model: `mistral/${MISTRAL.id}`, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      assert.equal(r.response.headers.get('x-routed-via'), `mistral/${MISTRAL.id}`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test('every JavaScript and cURL snippet from Integrations runs unchanged against the gateway', T, async () => {
    const b = await openBrowser();
    try {
      await b.page.goto(`${origin()}/integrations`);
      await b.page.getByRole('heading', { level: 1, name: 'Integrations' }).waitFor();
      await b.page.getByRole('button', { name: 'Reveal the API key' }).click();
      await b.page.getByText(/Reveal puts the real key/).waitFor({ state: 'detached' }).catch(() => {});
      await b.page.waitForLoadState('networkidle');
      const snippets = async (lang) => {
        for (const tab of await b.page.getByRole('tab', { name: lang, exact: true }).all()) await tab.click();
        return b.page.locator('[role=tabpanel]:visible pre code').allInnerTexts();
      };
      const js = (await snippets('JavaScript')).filter((t) => t.includes('new OpenAI'));
      const curl = (await snippets('cURL')).filter((t) => t.trim().startsWith('curl'));
      assert.ok(js.length >= 5 && curl.length >= 5, `${js.length} JS, ${curl.length} cURL snippets`);
      fs.writeFileSync(path.join(tmp, 'audio.wav'), sineWav(1)); // the file the transcription snippets name
      for (const [i, code] of js.entries()) {
        if (/realtime/i.test(code) && /connect_url|WebSocket/.test(code)) continue;
        const file = path.join(REPO_ROOT, 'tests/e2e', `.snippet-${i}.mjs`); // resolves the openai package
        fs.writeFileSync(file, code);
        const r = spawnSync('node', [file], { cwd: tmp, encoding: 'utf8', timeout: 30000, env: { ...process.env, NO_PROXY: '127.0.0.1' } });
        fs.rmSync(file, { force: true });
        assert.equal(r.status, 0, `JavaScript snippet ${i} failed:\n${code}\n${r.stderr}`);
      }
      for (const [i, code] of curl.entries()) {
        const r = spawnSync('bash', ['-c', code.replace(/\bcurl\b/, 'curl -sS --fail-with-body')], { cwd: tmp, encoding: 'utf8', timeout: 30000 });
        assert.equal(r.status, 0, `cURL snippet ${i} failed:\n${code}\n${r.stdout}\n${r.stderr}`);
      }
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
