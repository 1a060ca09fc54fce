// Self-test of the mock's Gemini dialect (provider google), hitting it directly
// with fetch: the wire format the gateway's Gemini dialect is fed, Google's
// error bodies, strict validation (roles, Schema keywords, Gemma system
// instructions, call/response pairing, thought signatures) and the control
// API. Needs no gateway binary.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sseData } from '../lib/harness.mjs';
import { freshMockPerTest } from './fresh_mock.mjs';

let mock;
const T = { timeout: 15000 };
const KEY = 'AIzaSyE2E-mock-gemini-0001';
const url = (model, method = 'generateContent', q = '') => `${mock.url}/google/v1beta/models/${model}:${method}${q}`;
const user = (text) => ({ role: 'user', parts: [{ text }] });
const TOOLS = [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }];

async function post(model, body, { method = 'generateContent', q = '', headers = { 'x-goog-api-key': KEY } } = {}) {
  const r = await fetch(url(model, method, q), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* SSE */
  }
  return { status: r.status, headers: r.headers, text, json };
}
const gen = (model, body, o) => post(model, body, o);
const stream = (model, body, o = {}) => post(model, body, { method: 'streamGenerateContent', q: '?alt=sse', ...o });
const last = async () => (await mock.requests({ provider: 'google' })).at(-1);

describe('mock Gemini dialect (direct)', () => {
  freshMockPerTest(T, (m) => {
    mock = m;
  });

  test('generateContent: candidates, finishReason, usageMetadata, modelVersion, responseId; the request is recorded', T, async () => {
    const body = { systemInstruction: { parts: [{ text: 'Be terse.' }] }, contents: [user('hi')], generationConfig: { temperature: 0.2, maxOutputTokens: 64 } };
    const r = await gen('gemini-2.5-flash', body);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /application\/json/);
    const c = r.json.candidates[0];
    assert.equal(c.content.role, 'model');
    assert.deepEqual(c.content.parts, [{ text: 'Hello from google/gemini-2.5-flash.' }]);
    assert.equal(c.finishReason, 'STOP');
    const u = r.json.usageMetadata;
    assert.ok(u.promptTokenCount > 0 && u.candidatesTokenCount > 0 && u.thoughtsTokenCount > 0, JSON.stringify(u));
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount);
    assert.equal(r.json.modelVersion, 'gemini-2.5-flash');
    assert.equal(typeof r.json.responseId, 'string');
    const rec = await last();
    assert.equal(rec.endpoint, 'chat');
    assert.equal(rec.model, 'gemini-2.5-flash');
    assert.equal(rec.stream, false);
    assert.equal(rec.key, KEY);
    assert.equal(rec.path, '/google/v1beta/models/gemini-2.5-flash:generateContent');
    assert.deepEqual(rec.body, body);
    assert.equal(rec.violation, null);
    // non-thinking models report no thoughts; Gemini 3 signs its text part
    const g2 = await gen('gemma-4-31b-it', { contents: [user('hi')] });
    assert.equal(g2.json.usageMetadata.thoughtsTokenCount, undefined);
    const g3 = await gen('gemini-3-flash-preview', { contents: [user('hi')] });
    assert.equal(typeof g3.json.candidates[0].content.parts[0].thoughtSignature, 'string');
  });

  test('streamGenerateContent?alt=sse: CRLF frames, no [DONE], usage on every chunk, finishReason last', T, async () => {
    await mock.script({ provider: 'google', content: 'alpha beta gamma delta' });
    const r = await stream('gemini-2.5-flash', { contents: [user('hi')] });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/event-stream/);
    assert.ok(r.text.includes('\r\n\r\n'), 'CRLF-separated events');
    assert.ok(!r.text.includes('[DONE]'));
    const evs = sseData(r.text).map((d) => JSON.parse(d));
    assert.equal(evs.length, 4);
    assert.equal(evs.map((e) => e.candidates[0].content.parts[0].text).join(''), 'alpha beta gamma delta');
    assert.ok(evs.every((e) => e.usageMetadata && e.usageMetadata.promptTokenCount > 0 && e.responseId === evs[0].responseId));
    assert.ok(evs.slice(0, -1).every((e) => !e.candidates[0].finishReason));
    assert.equal(evs.at(-1).candidates[0].finishReason, 'STOP');
    assert.ok(evs.at(-1).usageMetadata.candidatesTokenCount > 0);
    const rec = await last();
    assert.equal(rec.stream, true);
    assert.equal(rec.alt, 'sse');
    // without alt=sse the real API answers one JSON array
    const arr = await post('gemini-2.5-flash', { contents: [user('hi')] }, { method: 'streamGenerateContent' });
    assert.ok(Array.isArray(arr.json), arr.text.slice(0, 200));
    assert.match((await last()).warnings[0], /without alt=sse/);
  });

  test('auth: x-goog-api-key only; ?key= is a violation; missing, wrong, Bearer and unified keys are refused', T, async () => {
    await mock.setKeys({ google: [KEY] });
    const ok = await gen('gemini-2.5-flash', { contents: [user('hi')] });
    assert.equal(ok.status, 200);
    const q = await gen('gemini-2.5-flash', { contents: [user('hi')] }, { q: `?key=${KEY}`, headers: {} });
    assert.equal(q.status, 400);
    assert.match((await last()).violation, /\?key=/);
    const none = await gen('gemini-2.5-flash', { contents: [user('hi')] }, { headers: {} });
    assert.equal(none.status, 403);
    assert.equal(none.json.error.status, 'PERMISSION_DENIED');
    const bad = await gen('gemini-2.5-flash', { contents: [user('hi')] }, { headers: { 'x-goog-api-key': 'AIza-wrong' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.message, 'API key not valid. Please pass a valid API key.');
    assert.equal(bad.json.error.details[0].reason, 'API_KEY_INVALID');
    const bearer = await gen('gemini-2.5-flash', { contents: [user('hi')] }, { headers: { 'x-goog-api-key': KEY, authorization: `Bearer ${KEY}` } });
    assert.equal(bearer.status, 401);
    assert.equal(bearer.json.error.status, 'UNAUTHENTICATED');
    const leak = await gen('gemini-2.5-flash', { contents: [user('hi')] }, { headers: { 'x-goog-api-key': 'freellmapi-abc' } });
    assert.equal(leak.status, 400);
    assert.match((await last()).violation, /unified/);
  });

  test('strict validation: Google\'s real 400s for what the real API rejects', T, async () => {
    const cases = [
      ['openai body', 'gemini-2.5-flash', { model: 'x', messages: [{ role: 'user', content: 'hi' }] }, /Unknown name "model": Cannot find field\.\nInvalid JSON payload received\. Unknown name "messages"/],
      ['no contents', 'gemini-2.5-flash', { contents: [] }, /contents is not specified/],
      ['system role', 'gemini-2.5-flash', { contents: [{ role: 'system', parts: [{ text: 'x' }] }, user('hi')] }, /^Please use a valid role: user, model\.$/],
      ['assistant role', 'gemini-2.5-flash', { contents: [user('a'), { role: 'assistant', parts: [{ text: 'b' }] }, user('c')] }, /valid role/],
      ['empty parts', 'gemini-2.5-flash', { contents: [{ role: 'user', parts: [] }] }, /contents\.parts must not be empty/],
      ['gemma system', 'gemma-4-31b-it', { systemInstruction: { parts: [{ text: 'x' }] }, contents: [user('hi')] }, /^Developer instruction is not enabled for models\/gemma-4-31b-it$/],
      ['additionalProperties', 'gemini-2.5-flash', { contents: [user('hi')], tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } }] }] }, /Unknown name "additionalProperties" at 'tools\[0\]\.function_declarations\[0\]\.parameters': Cannot find field\./],
      ['$schema', 'gemini-2.5-flash', { contents: [user('hi')], tools: [{ functionDeclarations: [{ name: 'f', parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { type: 'string' } } } }] }] }, /Unknown name "\$schema"/],
      ['exclusiveMinimum nested', 'gemini-2.5-flash', { contents: [user('hi')], tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer', exclusiveMinimum: 0 } } } }] }] }, /Unknown name "exclusiveMinimum" at 'tools\[0\]\.function_declarations\[0\]\.parameters\.properties\[1\]\.value'/],
      ['type array', 'gemini-2.5-flash', { contents: [user('hi')], tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: { a: { type: ['string', 'null'] } } } }] }] }, /Proto field is not repeating, cannot start list/],
      ['empty object params', 'gemini-2.5-flash', { contents: [user('hi')], tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: {} } }] }] }, /should be non-empty for OBJECT type/],
      ['responseSchema keyword', 'gemini-2.5-flash', { contents: [user('hi')], generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } }, /Unknown name "additionalProperties" at 'generation_config\.response_schema'/],
      ['schema without mime', 'gemini-2.5-flash', { contents: [user('hi')], generationConfig: { responseSchema: { type: 'string' } } }, /response_mime_type/],
      ['unknown generationConfig key', 'gemini-2.5-flash', { contents: [user('hi')], generationConfig: { max_tokens: 5 } }, /Unknown name "max_tokens" at 'generation_config'/],
      ['bad base64', 'gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'image/png', data: 'data:image/png;base64,AAAA' } }] }] }, /Base64 decoding failed/],
      ['two data fields', 'gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ text: 'a', inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }] }, /Oneof field 'data' is already set/],
      ['response without call', 'gemini-2.5-flash', { contents: [user('a'), { role: 'user', parts: [{ functionResponse: { name: 'f', response: { r: 1 } } }] }] }, /function response turn comes immediately after a function call turn/],
      [
        'split tool results',
        'gemini-2.5-flash',
        {
          contents: [
            user('a'),
            { role: 'model', parts: [{ functionCall: { name: 'f', args: { x: 1 } } }, { functionCall: { name: 'f', args: { x: 2 } } }] },
            { role: 'user', parts: [{ functionResponse: { name: 'f', response: { r: 1 } } }] },
            { role: 'user', parts: [{ functionResponse: { name: 'f', response: { r: 2 } } }] },
          ],
        },
        /number of function response parts is equal to the number of function call parts/,
      ],
      ['non-object response', 'gemini-2.5-flash', { contents: [user('a'), { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { name: 'f', response: 'sunny' } }] }] }, /google\.protobuf\.Struct/],
      ['allowedFunctionNames with AUTO', 'gemini-2.5-flash', { contents: [user('a')], tools: TOOLS, toolConfig: { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['get_weather'] } } }, /allowed_function_names/],
      ['budget and level', 'gemini-3-flash-preview', { contents: [user('a')], generationConfig: { thinkingConfig: { thinkingBudget: 1024, thinkingLevel: 'LOW' } } }, /thinking budget and thinking level/],
    ];
    for (const [name, model, body, re] of cases) {
      const r = await gen(model, body);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.equal(r.json.error.code, 400, name);
      assert.equal(r.json.error.status, 'INVALID_ARGUMENT', name);
      assert.match(r.json.error.message, re, name);
      assert.ok((await last()).violation, `${name}: violation recorded`);
    }
    assert.equal((await mock.violations({ provider: 'google' })).length, cases.length);
    await mock.config({ strict: false });
    const lax = await gen('gemma-4-31b-it', { systemInstruction: { parts: [{ text: 'x' }] }, contents: [user('hi')] });
    assert.equal(lax.status, 200);
  });

  test('a well-formed tool round trip is accepted (merged tool results, Google Schema, toolConfig)', T, async () => {
    const r = await gen('gemini-2.5-flash', {
      contents: [
        user('weather in Paris and Oslo?'),
        { role: 'model', parts: [{ functionCall: { id: 'call_a', name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { id: 'call_b', name: 'get_weather', args: { city: 'Oslo' } } }] },
        { role: 'user', parts: [{ functionResponse: { id: 'call_a', name: 'get_weather', response: { temp_c: 21 } } }, { functionResponse: { id: 'call_b', name: 'get_weather', response: { result: 'sunny' } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' }, unit: { type: 'string', enum: ['c', 'f'], nullable: true } }, required: ['city'] } }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });
    assert.equal(r.status, 200, r.text);
  });

  test('thought signatures: issued on the first call of a step, checked when replayed (Gemini 3 requires them)', T, async () => {
    await mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const q = user('weather in Paris and Oslo?');
    const r1 = await gen('gemini-3-flash-preview', { contents: [q], tools: TOOLS });
    assert.equal(r1.status, 200, r1.text);
    const parts = r1.json.candidates[0].content.parts;
    assert.equal(parts.length, 2);
    assert.deepEqual(parts[0].functionCall, { name: 'get_weather', args: { city: 'Paris' } });
    assert.equal(typeof parts[0].thoughtSignature, 'string');
    assert.equal(parts[1].thoughtSignature, undefined, 'parallel calls: only the first is signed');
    assert.equal(r1.json.candidates[0].finishReason, 'STOP', 'Gemini says STOP even for calls');
    const sig = parts[0].thoughtSignature;
    assert.deepEqual((await last()).issued.map((i) => i.signature), [sig]);
    assert.ok((await mock.call('GET', '/signatures')).signatures.some((s) => s.signature === sig));

    const results = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { t: 21 } } }, { functionResponse: { name: 'get_weather', response: { t: 9 } } }] };
    const modelTurn = (p0, p1 = {}) => ({ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, ...p0 }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, ...p1 }] });

    const missing = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({}), results], tools: TOOLS });
    assert.equal(missing.status, 400);
    assert.equal(
      missing.json.error.message,
      'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:get_weather` , position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
    );
    assert.equal((await last()).sig_checks[0].status, 'missing');

    const wrong = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({ thoughtSignature: 'QUJDRA==' }), results], tools: TOOLS });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error.message, 'Corrupted thought signature.');

    const good = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({ thoughtSignature: sig }), results], tools: TOOLS });
    assert.equal(good.status, 200, good.text);
    const checks = (await last()).sig_checks;
    assert.deepEqual(checks.map((c) => [c.name, c.status]), [['get_weather', 'ok'], ['get_weather', 'absent']]);
    assert.equal(checks[0].signature, sig);

    // the same signature on the other call of the step is harmless
    const both = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({ thoughtSignature: sig }, { thoughtSignature: sig }), results], tools: TOOLS });
    assert.equal(both.status, 200, both.text);
    // a signature moved to another call is not
    await mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Rome' } }] });
    const other = (await gen('gemini-3-flash-preview', { contents: [user('Rome?')], tools: TOOLS })).json.candidates[0].content.parts[0].thoughtSignature;
    const moved = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({ thoughtSignature: other }), results], tools: TOOLS });
    assert.equal(moved.status, 400);
    assert.equal((await last()).sig_checks[0].status, 'mismatch');

    const sentinel = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({ thoughtSignature: 'context_engineering_is_the_way_to_go' }), results], tools: TOOLS });
    assert.equal(sentinel.status, 200);
    assert.equal((await last()).sig_checks[0].status, 'sentinel');

    // history before the current turn is not enforced
    const older = await gen('gemini-3-flash-preview', { contents: [q, modelTurn({}), results, { role: 'model', parts: [{ text: 'Paris 21, Oslo 9.' }] }, user('thanks')], tools: TOOLS });
    assert.equal(older.status, 200, older.text);

    // Gemini 2.5 issues signatures but does not require them: a dropped one is only a warning
    await mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Lima' } }] });
    const r25 = await gen('gemini-2.5-flash', { contents: [user('Lima?')], tools: TOOLS });
    assert.ok(r25.json.candidates[0].content.parts[0].thoughtSignature);
    const d = await gen('gemini-2.5-flash', { contents: [user('Lima?'), { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Lima' } } }] }, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { t: 18 } } }] }], tools: TOOLS });
    assert.equal(d.status, 200);
    const dr = await last();
    assert.equal(dr.sig_checks[0].status, 'dropped');
    assert.match(dr.warnings[0], /not sent back/);
    // non-thinking models get none; a rule can pin or suppress it
    await mock.script([
      { provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'A' } }] },
      { provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'B' } }], thought_signature: 'c2lnLWZpeGVk' },
      { provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'C' } }], thought_signature: false },
    ]);
    assert.equal((await gen('gemma-4-31b-it', { contents: [user('A')], tools: TOOLS })).json.candidates[0].content.parts[0].thoughtSignature, undefined);
    assert.equal((await gen('gemini-3-flash-preview', { contents: [user('B')], tools: TOOLS })).json.candidates[0].content.parts[0].thoughtSignature, 'c2lnLWZpeGVk');
    assert.equal((await gen('gemini-3-flash-preview', { contents: [user('C')], tools: TOOLS })).json.candidates[0].content.parts[0].thoughtSignature, undefined);
  });

  test('streamed function calls arrive whole, in one chunk, with the signature', T, async () => {
    await mock.script({ provider: 'google', content: 'Checking.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo' } }] });
    const r = await stream('gemini-3-flash-preview', { contents: [user('weather?')], tools: TOOLS });
    const evs = sseData(r.text).map((d) => JSON.parse(d));
    assert.equal(evs[0].candidates[0].content.parts[0].text, 'Checking.');
    const callChunk = evs.at(-1).candidates[0];
    assert.equal(callChunk.finishReason, 'STOP');
    assert.deepEqual(callChunk.content.parts.map((p) => p.functionCall.args.city), ['Paris', 'Oslo']);
    assert.equal(typeof callChunk.content.parts[0].thoughtSignature, 'string');
    assert.deepEqual((await last()).issued[0].signature, callChunk.content.parts[0].thoughtSignature);
  });

  test('signature on an empty text part next to the calls; SAFETY candidates without content; blocked prompts', T, async () => {
    await mock.script({ provider: 'google', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }], signature_part: 'separate' });
    const r = await stream('gemini-3-flash-preview', { contents: [user('weather?')], tools: TOOLS });
    const evs = sseData(r.text).map((d) => JSON.parse(d));
    const parts = evs.at(-1).candidates[0].content.parts;
    assert.equal(parts[0].thoughtSignature, undefined);
    assert.deepEqual(Object.keys(parts[1]).sort(), ['text', 'thoughtSignature']);
    assert.equal(parts[1].text, '');
    const sig = parts[1].thoughtSignature;
    const replay = await gen('gemini-3-flash-preview', { contents: [user('weather?'), { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: sig }] }, { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { t: 1 } } }] }], tools: TOOLS });
    assert.equal(replay.status, 200, replay.text);
    await mock.script([
      { provider: 'google', finish_reason: 'SAFETY' },
      { provider: 'google', block_reason: 'PROHIBITED_CONTENT' },
    ]);
    const safety = await gen('gemini-2.5-flash', { contents: [user('x')] });
    assert.deepEqual(safety.json.candidates[0], { finishReason: 'SAFETY', index: 0 });
    const blocked = await gen('gemini-2.5-flash', { contents: [user('x')] });
    assert.equal(blocked.json.candidates, undefined);
    assert.equal(blocked.json.promptFeedback.blockReason, 'PROHIBITED_CONTENT');
  });

  test('JSON output: responseMimeType + responseSchema / responseJsonSchema give parseable matching JSON', T, async () => {
    const schema = { type: 'OBJECT', properties: { city: { type: 'STRING' }, temp_c: { type: 'NUMBER' }, tags: { type: 'ARRAY', items: { type: 'STRING' } }, kind: { type: 'STRING', enum: ['sunny', 'rain'] } }, required: ['city'] };
    const r = await gen('gemini-2.5-flash', { contents: [user('json please')], generationConfig: { responseMimeType: 'application/json', responseSchema: schema } });
    assert.equal(r.status, 200, r.text);
    const v = JSON.parse(r.json.candidates[0].content.parts[0].text);
    assert.equal(typeof v.city, 'string');
    assert.equal(typeof v.temp_c, 'number');
    assert.ok(Array.isArray(v.tags));
    assert.equal(v.kind, 'sunny');
    const j = await gen('gemini-2.5-flash', { contents: [user('json')], generationConfig: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: ['integer', 'null'] } }, additionalProperties: false } } });
    assert.equal(j.status, 200, j.text);
    assert.deepEqual(JSON.parse(j.json.candidates[0].content.parts[0].text), { ok: true, n: 42 });
    const plain = await gen('gemini-2.5-flash', { contents: [user('json')], generationConfig: { responseMimeType: 'application/json' } });
    assert.ok(JSON.parse(plain.json.candidates[0].content.parts[0].text));
    await mock.script({ provider: 'google', json: { answer: 7 } });
    assert.deepEqual(JSON.parse((await gen('gemini-2.5-flash', { contents: [user('x')] })).json.candidates[0].content.parts[0].text), { answer: 7 });
  });

  test('inlineData is recorded (mimeType, size, sha256) and counted in the answer', T, async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==';
    const r = await gen('gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ text: 'what?' }, { inlineData: { mimeType: 'image/png', data: png } }] }] });
    assert.equal(r.json.candidates[0].content.parts[0].text, 'Hello from google/gemini-2.5-flash. I see 1 image.');
    const rec = await last();
    assert.deepEqual(rec.inline_data.map((d) => [d.content, d.part, d.mimeType, d.bytes]), [[0, 1, 'image/png', Buffer.from(png, 'base64').length]]);
    const gif = await gen('gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ inlineData: { mimeType: 'application/octet-stream', data: 'AAAA' } }] }] });
    assert.equal(gif.status, 400);
    assert.match(gif.json.error.message, /Unsupported MIME type/);
  });

  test('Google error kinds: RESOURCE_EXHAUSTED per minute / per day with QuotaFailure and RetryInfo, and the other statuses', T, async () => {
    await mock.script([
      { provider: 'google', error: 'rate_limit_minute' },
      { provider: 'google', error: 'rate_limit_day', retry_after: 2 },
      { provider: 'google', error: 'rate_limit_minute', retry_after: null },
    ]);
    const m = await gen('gemini-2.5-flash', { contents: [user('x')] });
    assert.equal(m.status, 429);
    assert.equal(m.headers.get('retry-after'), null, 'Google sends no Retry-After header');
    assert.equal(m.json.error.status, 'RESOURCE_EXHAUSTED');
    const qf = m.json.error.details.find((d) => d['@type'].endsWith('QuotaFailure'));
    assert.match(qf.violations[0].quotaId, /PerMinute/);
    assert.equal(qf.violations[0].quotaDimensions.model, 'gemini-2.5-flash');
    assert.equal(m.json.error.details.find((d) => d['@type'].endsWith('RetryInfo')).retryDelay, '37s');
    assert.match(m.json.error.message, /Please retry in 37\.\d+s\./);
    const d = await gen('gemini-2.5-flash', { contents: [user('x')] });
    assert.match(d.json.error.details.find((x) => x['@type'].endsWith('QuotaFailure')).violations[0].quotaId, /^GenerateRequestsPerDayPerProjectPerModel-FreeTier$/);
    assert.equal(d.json.error.details.find((x) => x['@type'].endsWith('RetryInfo')).retryDelay, '2s');
    const n = await gen('gemini-2.5-flash', { contents: [user('x')] });
    assert.ok(!n.json.error.details.some((x) => x['@type'].endsWith('RetryInfo')));

    const cases = [
      ['auth', 400, 'INVALID_ARGUMENT', /API key not valid/],
      ['api_key_invalid', 400, 'INVALID_ARGUMENT', /API key not valid/],
      ['forbidden', 403, 'PERMISSION_DENIED', /has not been used in project/],
      ['permission_denied', 403, 'PERMISSION_DENIED', /disabled/],
      ['leaked_key', 403, 'PERMISSION_DENIED', /reported as leaked/],
      ['bad_request', 400, 'INVALID_ARGUMENT', /^Request contains an invalid argument\.$/],
      ['invalid_argument', 400, 'INVALID_ARGUMENT', /invalid argument/],
      ['validation', 400, 'INVALID_ARGUMENT', /Unknown name/],
      ['failed_precondition', 400, 'FAILED_PRECONDITION', /User location is not supported/],
      ['missing_thought_signature', 400, 'INVALID_ARGUMENT', /missing a thought_signature/],
      ['corrupted_thought_signature', 400, 'INVALID_ARGUMENT', /^Corrupted thought signature\.$/],
      ['model_not_found', 404, 'NOT_FOUND', /models\/gemini-2\.5-flash is not found for API version v1beta/],
      ['not_found', 404, 'NOT_FOUND', /is not found/],
      ['context_length', 400, 'INVALID_ARGUMENT', /input token count/],
      ['server', 500, 'INTERNAL', /internal error/],
      ['internal', 500, 'INTERNAL', /internal error/],
      ['unavailable', 503, 'UNAVAILABLE', /overloaded/],
      ['timeout', 504, 'DEADLINE_EXCEEDED', /Deadline/],
      ['deadline_exceeded', 504, 'DEADLINE_EXCEEDED', /Deadline/],
      ['tokens_minute', 429, 'RESOURCE_EXHAUSTED', /input_token_count/],
    ];
    for (const [kind, status, st, re] of cases) {
      await mock.script({ provider: 'google', error: kind });
      const r = await gen('gemini-2.5-flash', { contents: [user('x')] });
      assert.equal(r.status, status, kind);
      assert.equal(r.json.error.code, status, kind);
      assert.equal(r.json.error.status, st, kind);
      assert.match(r.json.error.message, re, kind);
    }
    // Google's kinds on another provider fall back to the closest generic error
    await mock.script({ provider: 'groq', error: 'internal' });
    const g = await fetch(`${mock.url}/groq/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(g.status, 500);
  });

  test('stream faults: cut, in-band error, malformed frame', T, async () => {
    await mock.script({ provider: 'google', content: 'one two three four', cut_after: 2 });
    let failed = false;
    try {
      await stream('gemini-2.5-flash', { contents: [user('x')] });
    } catch {
      failed = true;
    }
    assert.ok(failed || (await last()).outcome === 'cut');
    await mock.script({ provider: 'google', content: 'one two three', inband_error_after: 1 });
    const r = await stream('gemini-2.5-flash', { contents: [user('x')] });
    const evs = sseData(r.text).map((d) => JSON.parse(d));
    assert.equal(evs.length, 2);
    assert.equal(evs[1].error.status, 'INTERNAL');
    await mock.script({ provider: 'google', content: 'one two', malformed_after: 1 });
    const mf = await stream('gemini-2.5-flash', { contents: [user('x')] });
    assert.ok(mf.text.includes('"bro'));
  });

  test('models: list with pagination, one model, 404', T, async () => {
    const all = await fetch(`${mock.url}/google/v1beta/models`, { headers: { 'x-goog-api-key': KEY } }).then((r) => r.json());
    assert.ok(all.models.length > 3);
    const flash = all.models.find((m) => m.name === 'models/gemini-2.5-flash');
    assert.ok(flash.supportedGenerationMethods.includes('generateContent'));
    assert.ok(all.models.find((m) => m.name === 'models/gemini-embedding-001').supportedGenerationMethods.includes('embedContent'));
    const p1 = await fetch(`${mock.url}/google/v1beta/models?pageSize=2`, { headers: { 'x-goog-api-key': KEY } }).then((r) => r.json());
    assert.equal(p1.models.length, 2);
    const p2 = await fetch(`${mock.url}/google/v1beta/models?pageSize=2&pageToken=${p1.nextPageToken}`, { headers: { 'x-goog-api-key': KEY } }).then((r) => r.json());
    assert.equal(p2.models[0].name, all.models[2].name);
    const one = await fetch(`${mock.url}/google/v1beta/models/gemini-2.5-flash`, { headers: { 'x-goog-api-key': KEY } });
    assert.equal((await one.json()).name, 'models/gemini-2.5-flash');
    const nf = await fetch(`${mock.url}/google/v1beta/models/nope-1`, { headers: { 'x-goog-api-key': KEY } });
    assert.equal(nf.status, 404);
    const rec = (await mock.requests({ provider: 'google', endpoint: 'models' })).at(-1);
    assert.equal(rec.model, 'nope-1');
    const tok = await fetch(`${mock.url}/google/v1alpha/auth_tokens`, { method: 'POST', headers: { 'x-goog-api-key': KEY }, body: JSON.stringify({ uses: 1 }) }).then((r) => r.json());
    assert.match(tok.name, /^auth_tokens\//);
  });
});
