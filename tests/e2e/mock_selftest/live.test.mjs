// Self-test of the mock's Gemini Live WebSocket (tests/mock/surfaces/live.mjs), with the
// npm package ws as the client (the one tests/mock depends on), through the real mint
// endpoint POST /google/v1alpha/auth_tokens: setup -> setupComplete; audio in ->
// inputTranscription, PCM audio out with outputTranscription, generationComplete,
// turnComplete + usageMetadata; clientContent text; a tool call answered; the token's
// locked setup winning over the client's; single use, unknown and expired tokens, bad
// paths, invalid JSON and unknown messages refused with the real close codes; scripted
// rules; what is recorded. Needs no gateway binary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { freshMockPerTest } from './fresh_mock.mjs';

const requireMock = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../mock/package.json'));
const WebSocket = requireMock('ws');

let mock;
const T = { timeout: 20000 };
const GKEY = 'AIzaSyE2E-mock-live-0001';
const MODEL = 'gemini-live-2.5-flash-preview';
const LIVE_PATH = '/google/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained';

freshMockPerTest(T, (m) => {
  mock = m;
});

const WEATHER = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

/** Mints a token the gateway's way (uses 1, a locked setup); returns its name. */
async function mint(setup = {}, extra = {}) {
  const body = {
    uses: 1,
    bidiGenerateContentSetup: {
      model: `models/${MODEL}`,
      generationConfig: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } } },
      systemInstruction: { parts: [{ text: 'You are a test.' }] },
      inputAudioTranscription: {},
      outputAudioTranscription: {},
      ...setup,
    },
    ...extra,
  };
  const r = await fetch(`${mock.url}/google/v1alpha/auth_tokens`, { method: 'POST', headers: { 'x-goog-api-key': GKEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = await r.json();
  assert.equal(r.status, 200, JSON.stringify(j));
  return j.name;
}

/** The gateway's connect_url for a token (URL-encoded, as src/providers/gemini_media.c live_url does). */
const connectUrl = (token, p = LIVE_PATH) => `ws://127.0.0.1:${mock.port}${p}?access_token=${encodeURIComponent(token)}`;

/**
 * A client: every message as {json, binary}; next(pred) waits for the next message matching
 * pred (messages are kept, so nothing is missed); closed resolves with {code, reason}.
 */
function connect(url) {
  const ws = new WebSocket(url);
  const msgs = [];
  const waiters = [];
  let seen = 0;
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  ws.on('error', () => {});
  ws.on('message', (data, binary) => {
    msgs.push({ json: JSON.parse(data.toString('utf8')), binary });
    for (const w of [...waiters]) w();
  });
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    closed.then(() => reject(new Error('closed before open')));
  });
  /** Resolves with the messages up to and including the first one matching pred (after the last next()). */
  function next(pred, ms = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = seen; i < msgs.length; i++) {
          if (pred(msgs[i].json)) {
            const out = msgs.slice(seen, i + 1);
            seen = i + 1;
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(timer);
            resolve(out);
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out; got ${JSON.stringify(msgs.slice(seen).map((x) => Object.keys(x.json)))}`));
      }, ms);
      waiters.push(check);
      check();
    });
  }
  const send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  return { ws, msgs, next, send, opened, closed };
}

/** 16 kHz s16le mono: a 440 Hz tone of `ms` milliseconds. */
function pcm16k(ms) {
  const n = Math.round((16000 * ms) / 1000);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / 16000) * 6000), i * 2);
  return b;
}

async function ready(token) {
  const c = connect(connectUrl(token));
  await c.opened;
  c.send({ setup: {} });
  const [m] = await c.next((j) => j.setupComplete);
  assert.deepEqual(m.json, { setupComplete: {} });
  return c;
}

// The last Live session's record once the mock has seen its socket close (its 'close' event can
// come a moment after the client's own).
const live = async () => {
  let rec;
  for (let i = 0; i < 100; i++) {
    rec = (await mock.requests({ endpoint: 'live' })).at(-1);
    if (rec?.close) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return rec;
};
const turnDone = (j) => j.serverContent?.turnComplete;
const texts = (ms, k) => ms.filter((m) => m.json.serverContent?.[k]).map((m) => m.json.serverContent[k].text).join('');

test('setup: minimal {setup:{}} and {setup:{model}} get setupComplete as binary frames; the session runs on the token\'s locked setup', T, async () => {
  const token = await mint();
  const c = connect(connectUrl(token));
  await c.opened;
  c.send({ setup: { model: 'models/gemini-2.5-flash-native-audio-preview-12-2025', generationConfig: { responseModalities: ['TEXT'] } } });
  const [m] = await c.next((j) => j.setupComplete);
  assert.deepEqual(m.json, { setupComplete: {} });
  assert.equal(m.binary, true, 'the real server sends JSON in binary frames');
  c.ws.close(1000);
  await c.closed;
  const rec = await live();
  assert.equal(rec.provider, 'google');
  assert.equal(rec.endpoint, 'live');
  assert.equal(rec.token, token);
  assert.equal(rec.key, GKEY, 'the key that minted the token');
  assert.equal(rec.model, MODEL, 'the locked model wins over the client\'s');
  assert.deepEqual(rec.setup.generationConfig.responseModalities, ['AUDIO']);
  assert.deepEqual(rec.setup_overridden.sort(), ['generationConfig.responseModalities', 'model']);
  assert.deepEqual(rec.body, { setup: { model: 'models/gemini-2.5-flash-native-audio-preview-12-2025', generationConfig: { responseModalities: ['TEXT'] } } });
  assert.equal(rec.close.by, 'client');
  assert.equal(rec.violation, null);
  const [tok] = (await (await fetch(`${mock.url}/__mock/tokens`)).json()).tokens;
  assert.equal(tok.used, 1);
  assert.deepEqual(tok.sessions, [rec.seq]);

  // text frames on request
  await mock.config({ live_text_frames: true });
  const c2 = await ready(await mint());
  assert.equal(c2.msgs[0].binary, false);
  c2.ws.close();
});

test('audio in, then audioStreamEnd: inputTranscription, 24 kHz PCM chunks with outputTranscription, generationComplete, turnComplete + usageMetadata', T, async () => {
  const c = await ready(await mint());
  const audio = pcm16k(600);
  for (let i = 0; i < audio.length; i += 3200) c.send({ realtimeInput: { audio: { data: audio.subarray(i, i + 3200).toString('base64'), mimeType: 'audio/pcm;rate=16000' } } });
  c.send({ realtimeInput: { audioStreamEnd: true } });
  const ms = await c.next(turnDone);
  const kinds = ms.map((m) => Object.keys(m.json.serverContent || m.json).join('+'));
  assert.equal(kinds[0], 'inputTranscription');
  assert.match(texts(ms, 'inputTranscription'), /^Received 19200 bytes of audio \(0\.60 s\) sha256 [0-9a-f]{16}\.$/);
  const audioParts = ms.flatMap((m) => m.json.serverContent?.modelTurn?.parts ?? []);
  assert.ok(audioParts.length >= 2);
  for (const p of audioParts) assert.equal(p.inlineData.mimeType, 'audio/pcm;rate=24000');
  const pcm = Buffer.concat(audioParts.map((p) => Buffer.from(p.inlineData.data, 'base64')));
  assert.equal(pcm.length % 2, 0);
  let peak = 0;
  for (let i = 0; i < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
  assert.ok(peak > 1000, 'a real tone, not silence');
  assert.equal(texts(ms, 'outputTranscription'), `Hello from google/${MODEL}.`);
  assert.deepEqual(ms.at(-2).json, { serverContent: { generationComplete: true } });
  const last = ms.at(-1).json;
  assert.equal(last.serverContent.turnComplete, true);
  assert.ok(last.usageMetadata.promptTokenCount > 0 && last.usageMetadata.responseTokenCount > 0);
  assert.equal(last.usageMetadata.totalTokenCount, last.usageMetadata.promptTokenCount + last.usageMetadata.responseTokenCount);
  assert.equal(last.usageMetadata.responseTokensDetails[0].modality, 'AUDIO');

  // the older mediaChunks form, ended by ~0.5 s of silence
  c.send({ realtimeInput: { mediaChunks: [{ data: pcm16k(100).toString('base64'), mimeType: 'audio/pcm;rate=16000' }] } });
  const ms2 = await c.next(turnDone);
  assert.match(texts(ms2, 'inputTranscription'), /^Received 3200 bytes of audio/);
  c.ws.close();
  await c.closed;
  const rec = await live();
  assert.equal(rec.audio_in.bytes, 19200 + 3200);
  assert.deepEqual(rec.audio_in.mime_types, ['audio/pcm;rate=16000']);
  assert.deepEqual(rec.turns.map((t) => [t.ended_by, t.audio_bytes]), [['audioStreamEnd', 19200], ['silence', 3200]]);
  assert.equal(rec.turns[0].output_audio_bytes, pcm.length);
  assert.equal(rec.received.realtimeInput, 8);
});

test('clientContent text; TEXT modality answers text parts; no transcription messages when the setup has none', T, async () => {
  const c = await ready(await mint({ generationConfig: { responseModalities: ['TEXT'] }, inputAudioTranscription: undefined, outputAudioTranscription: undefined }));
  c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Hi there' }] }], turnComplete: true } });
  const ms = await c.next(turnDone);
  assert.equal(ms.map((m) => m.json.serverContent?.modelTurn?.parts?.[0]?.text ?? '').join(''), `Hello from google/${MODEL}.`);
  assert.ok(!ms.some((m) => m.json.serverContent?.inputTranscription || m.json.serverContent?.outputTranscription));
  assert.equal(ms.at(-1).json.usageMetadata.responseTokensDetails[0].modality, 'TEXT');
  c.ws.close();
});

test('a tool call: input naming a declared function -> toolCall, toolResponse -> an answer carrying the response JSON', T, async () => {
  const c = await ready(await mint({ tools: [{ functionDeclarations: [WEATHER] }] }));
  c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'Please get_weather for Oslo' }] }], turnComplete: true } });
  const [call] = await c.next((j) => j.toolCall);
  const fc = call.json.toolCall.functionCalls;
  assert.equal(fc.length, 1);
  assert.equal(fc[0].name, 'get_weather');
  assert.match(fc[0].id, /^function-call-\d+$/);
  assert.deepEqual(fc[0].args, { city: 'mock' });
  c.send({ toolResponse: { functionResponses: [{ id: fc[0].id, name: 'get_weather', response: { result: '4C and windy' } }] } });
  const ms = await c.next(turnDone);
  assert.equal(texts(ms, 'outputTranscription'), 'get_weather returned {"result":"4C and windy"}.');
  c.ws.close();
  await c.closed;
  const rec = await live();
  assert.deepEqual(rec.tool_calls, fc);
  assert.deepEqual(rec.tool_responses.map((r) => [r.id, r.name, r.response, r.matched]), [[fc[0].id, 'get_weather', { result: '4C and windy' }, true]]);
  assert.equal(rec.violation, null);
});

test('scripted: a live rule gives the transcript and the tool call for audio input, then the answer after the response', T, async () => {
  await mock.script({ provider: 'google', endpoint: 'live', model: MODEL, live: { transcript: 'What is the weather in Bergen?', tool_call: { name: 'get_weather', args: { city: 'Bergen' }, id: 'function-call-42' }, after_tool_content: 'It is raining in Bergen.' } });
  const c = await ready(await mint({ tools: [{ functionDeclarations: [WEATHER] }] }));
  c.send({ realtimeInput: { audio: { data: pcm16k(200).toString('base64'), mimeType: 'audio/pcm;rate=16000' } } });
  c.send({ realtimeInput: { audioStreamEnd: true } });
  const ms = await c.next((j) => j.toolCall);
  assert.equal(texts(ms, 'inputTranscription'), 'What is the weather in Bergen?');
  assert.deepEqual(ms.at(-1).json, { toolCall: { functionCalls: [{ id: 'function-call-42', name: 'get_weather', args: { city: 'Bergen' } }] } });
  c.send({ toolResponse: { functionResponses: [{ id: 'function-call-42', name: 'get_weather', response: { output: 'rain' } }] } });
  assert.equal(texts(await c.next(turnDone), 'outputTranscription'), 'It is raining in Bergen.');
  // the rule was used up: the next turn is the default answer
  c.send({ realtimeInput: { text: 'and tomorrow?' } });
  assert.equal(texts(await c.next(turnDone), 'outputTranscription'), `Hello from google/${MODEL}.`);
  c.ws.close();
  const rules = await mock.rules();
  assert.equal(rules[0].used, 1);

  // a rule closing the session at setup, as an overloaded server would
  await mock.script({ endpoint: 'live', stage: 'setup', close: { code: 1011, reason: 'The service is currently unavailable.' } });
  const c2 = connect(connectUrl(await mint()));
  await c2.opened;
  c2.send({ setup: {} });
  assert.deepEqual(await c2.closed, { code: 1011, reason: 'The service is currently unavailable.' });
});

test('a toolResponse with an unknown id closes 1008 "Requested entity was not found."', T, async () => {
  const c = await ready(await mint({ tools: [{ functionDeclarations: [WEATHER] }] }));
  c.send({ toolResponse: { functionResponses: [{ id: 'function-call-1', name: 'get_weather', response: { x: 1 } }] } });
  assert.deepEqual(await c.closed, { code: 1008, reason: 'Requested entity was not found.' });
});

test('the token is single use: a second session with it is closed 1008 (policy violation) with a reason', T, async () => {
  const token = await mint();
  const c = await ready(token);
  c.ws.close();
  await c.closed;
  const c2 = connect(connectUrl(token));
  const shut = await c2.closed;
  assert.equal(shut.code, 1008);
  assert.match(shut.reason, /already been used/);
  const rec = await live();
  assert.equal(rec.outcome, 'refused');
  assert.match(rec.violation, /already been used/);
  // uses: 2 allows two
  const t2 = await mint({}, { uses: 2 });
  for (let i = 0; i < 2; i++) (await ready(t2)).ws.close();
  assert.equal((await connect(connectUrl(t2)).closed).code, 1008);
});

test('bad tokens, keys and paths are refused', T, async () => {
  const unknown = await connect(connectUrl('auth_tokens/notminted')).closed;
  assert.equal(unknown.code, 1008);
  assert.match(unknown.reason, /invalid/);
  const none = await connect(`ws://127.0.0.1:${mock.port}${LIVE_PATH}`).closed;
  assert.deepEqual(none, { code: 1008, reason: 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.'.slice(0, 123) });
  const keyOnConstrained = await connect(`ws://127.0.0.1:${mock.port}${LIVE_PATH}?key=${GKEY}`).closed;
  assert.equal(keyOnConstrained.code, 1008);
  // an ephemeral token on the plain method reads as no identity
  const plain = await connect(connectUrl(await mint(), '/google/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent')).closed;
  assert.equal(plain.code, 1008);
  // a token whose new-session window has passed
  const late = await mint({}, { newSessionExpireTime: new Date(Date.now() + 1500).toISOString() });
  await new Promise((r) => setTimeout(r, 1600));
  const expired = await connect(connectUrl(late)).closed;
  assert.equal(expired.code, 1008);
  assert.match(expired.reason, /newSessionExpireTime/);
  // another path: HTTP 404, no upgrade
  await assert.rejects(connect(`ws://127.0.0.1:${mock.port}/google/ws/nope?access_token=x`).opened, /HTTP 404/);
  await assert.rejects(connect(`ws://127.0.0.1:${mock.port}/groq/openai/v1/realtime`).opened, /HTTP 404/);
  const recs = await mock.requests({ endpoint: 'live' });
  assert.ok(recs.length >= 5 && recs.every((r) => r.outcome === 'refused' && r.violation));
});

test('the plain API-key method works with the client\'s own setup', T, async () => {
  const c = connect(`ws://127.0.0.1:${mock.port}/google/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${GKEY}`);
  await c.opened;
  c.send({ setup: { model: `models/${MODEL}`, generationConfig: { responseModalities: ['TEXT'] } } });
  await c.next((j) => j.setupComplete);
  c.send({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'x' }] }], turnComplete: true } });
  await c.next(turnDone);
  c.ws.close();
});

test('protocol errors close 1007 with a reason: invalid JSON, an unknown message, anything before setup, an unknown setup field', T, async () => {
  const cases = [
    [{ setup: {} }, 'not json {', /^Invalid JSON payload received\./],
    [{ setup: {} }, { bogus: {} }, /Unknown name "bogus"/],
    [{ setup: {} }, { realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' }, sound: 1 } }, /Unknown name "sound" at 'realtime_input'/],
    [null, { realtimeInput: { audioStreamEnd: true } }, /first message must be setup/],
    [null, { setup: { model: `models/${MODEL}`, config: {} } }, /Unknown name "config" at 'setup'/],
    [{ setup: {} }, { setup: {} }, /already/],
  ];
  for (const [first, second, re] of cases) {
    const c = connect(connectUrl(await mint()));
    await c.opened;
    if (first) {
      c.send(first);
      await c.next((j) => j.setupComplete);
    }
    c.send(second);
    const shut = await c.closed;
    assert.equal(shut.code, 1007, JSON.stringify(second));
    assert.match(shut.reason, re);
    assert.ok(Buffer.byteLength(shut.reason) <= 123);
  }
  // a model the catalog does not serve on Live: 1008 not found
  const c = connect(connectUrl(await mint({ model: 'models/gemini-2.5-flash' })));
  await c.opened;
  c.send({ setup: {} });
  const shut = await c.closed;
  assert.equal(shut.code, 1008);
  assert.match(shut.reason, /not supported for bidiGenerateContent/);
});
