// Providers are input too: a 2xx answer or stream of any shape must never crash
// the gateway or reach the client malformed. Each body below is scripted as the
// first provider's answer; the client must then get a usable OpenAI answer
// (normalised from it, or from the next provider after falling over) or an
// OpenAI-style error, and the gateway must stay up. A fresh gateway per case,
// because an unusable answer benches the provider for 30 s. Runs under ASan in CI.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, sseData, uniq, assertErrorShape } from './lib/harness.mjs';

const T = { timeout: 120000 };
const GROQ = { provider: 'groq', id: 'llama-3.3-70b-versatile' };
const CEREBRAS = { provider: 'cerebras', id: 'gpt-oss-120b' };
const G25 = { provider: 'google', id: 'gemini-2.5-flash' };
const EMBED_G = { provider: 'google', id: 'gemini-embedding-001' };
const EMBED_GH = { provider: 'github', id: 'openai/text-embedding-3-small' };
const IMAGE_G = { provider: 'google', id: 'gemini-2.5-flash-image' };
const TTS_G = { provider: 'google', id: 'gemini-2.5-flash-preview-tts' };
const STT_GROQ = { provider: 'groq', id: 'whisper-large-v3-turbo' };
const KEYS = [
  { provider: 'groq', secret: 'gsk_e2e_garbage_1', label: 'groq-1' },
  { provider: 'cerebras', secret: 'csk-e2e-garbage-1', label: 'cerebras-1' },
  { provider: 'google', secret: 'AIzaSyE2E-garbage-0000000001', label: 'google-1' },
  { provider: 'github', secret: 'ghp_e2eGarbage000000000000000000000001', label: 'github-1' },
];

const deep = (n) => `${'['.repeat(n)}${']'.repeat(n)}`;

// Whole answers (application/json, status 200).
const OPENAI_BODIES = [
  '', ' ', 'null', '[]', '"text"', '42', 'true', '{}', '{"choices":"x"}', '{"choices":[]}',
  '{"choices":[null]}', '{"choices":[5]}', '{"choices":[{"message":null}]}', '{"choices":[{"message":"hi"}]}',
  '{"choices":[{"message":{"content":5}}]}', '{"choices":[{"message":{"role":7,"content":["a",{"b":1}]}}]}',
  '{"choices":[{"message":{"content":"hi","tool_calls":"x"}}]}',
  '{"choices":[{"message":{"content":null,"tool_calls":[null,5,{"function":5},{"function":{"name":null,"arguments":{"a":1}}}]}}]}',
  '{"choices":[{"index":"x","message":{"content":"hi"},"finish_reason":9}]}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":"x","completion_tokens":-5,"total_tokens":1e300}}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":[1,2]}',
  '{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}',
  '{"choices":[{"message":{"content":"\\ud800"}}]}', // a lone surrogate: not valid JSON text for jansson
  '{"choices":[{"message":{"content":"a\\u0000b"}}]}', // NUL inside a string
  '{"error":null}', '{"error":"x"}', '{"error":{"message":5,"code":[1]}}', '{"id":{},"object":[],"created":"x","model":5,"choices":[{"message":{"content":"hi"}}]}',
  deep(3000), `{"choices":[{"message":{"content":"${'x'.repeat(200_000)}"`, '{"choices":[{"message":{"content":"hi"}}]}garbage',
];

// Streams (text/event-stream, status 200).
const OPENAI_STREAMS = [
  '', '\n\n', ': only a comment\n\n', 'data: [DONE]\n\n', 'data: {bad json}\n\ndata: [DONE]\n\n', 'data: null\n\ndata: [DONE]\n\n',
  'data: {"choices":"x"}\n\ndata: [DONE]\n\n', 'data: {"choices":[{"delta":null}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[null]}\n\ndata: [DONE]\n\n', 'data: {"choices":[5,{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"content":5}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[{"index":-1,"function":{"name":"f"}}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[{"index":99999999,"function":{"arguments":"x"}}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":"x"}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"tool_calls":[null,{"index":"0","function":null}]}}]}\n\ndata: [DONE]\n\n',
  'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[{"delta":{"content":"\\ud800"}}]}\n\ndata: [DONE]\n\n',
  'event: error\ndata: {"error":{"message":"boom"}}\n\n', 'data: {"error":5}\n\n',
  'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":"x"}}\n\ndata: [DONE]\n\n',
  `data: ${'x'.repeat(300_000)}`, 'retry: 5\nid: 1\n\n', 'data: {"choices":[{"delta":{"content":"hi"},"finish_reason":7}]}\n\n',
];

// Gemini answers.
const GEMINI_BODIES = [
  '{}', '{"candidates":"x"}', '{"candidates":[]}', '{"candidates":[null]}', '{"candidates":[{"content":null}]}',
  '{"candidates":[{"content":{"parts":"x"}}]}', '{"candidates":[{"content":{"parts":[null,5,{"text":5}]}}]}',
  '{"candidates":[{"content":{"parts":[{"functionCall":{"name":5,"args":"x"}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"functionCall":null},{"thoughtSignature":5}]}}]}',
  '{"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":5}],"usageMetadata":{"promptTokenCount":"x","candidatesTokenCount":-1}}',
  '{"candidates":[{"content":{"parts":[{"text":"hi"}]}}],"usageMetadata":"x"}', '{"promptFeedback":{"blockReason":5}}',
];

// Media answers, by endpoint and dialect.
const vec = (n, v = 0.1) => `[${Array(n).fill(v).join(',')}]`;
const GEMINI_EMBED = [
  '{}', '{"embeddings":"x"}', '{"embeddings":[]}', '{"embeddings":[null]}', '{"embeddings":[{"values":"x"}]}',
  '{"embeddings":[{"values":["a","b"]}]}', `{"embeddings":[{"values":${vec(3072)}},{"values":${vec(3072)}}]}`, // one more than asked
  '{"embeddings":[{"values":[]}]}', `{"embeddings":[{"values":${vec(5)}}]}`, `{"embeddings":[{"values":${vec(3072, '1e400')}}]}`,
  `{"embeddings":[{"values":${vec(200_000)}}]}`, '{"embedding":{"values":[1,2]}}',
];
const OPENAI_EMBED = [
  '{}', '{"data":"x"}', '{"data":[]}', '{"data":[null]}', '{"data":[{"embedding":"x"}]}', '{"data":[{"embedding":"!!notbase64"}]}',
  '{"data":[{"index":5,"embedding":[0.1]}]}', '{"data":[{"index":-1,"embedding":[0.1]}]}', `{"data":[{"embedding":${vec(1536)}},{"embedding":${vec(1536)}}]}`,
  `{"data":[{"embedding":${vec(7)}}]}`, '{"data":[{"embedding":[0.1]}],"usage":{"prompt_tokens":-4,"total_tokens":"x"}}',
];
const GEMINI_IMAGE = [
  '{}', '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"!!!"}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":""}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":5,"data":5}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"aGVsbG8="}}]}}]}', // not an image
  '{"candidates":[{"content":{"parts":[{"inlineData":null},{"text":5}]}}]}',
];
const GEMINI_TTS = [
  '{}', '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=24000","data":"AAE="}}]}}]}', // one odd byte short
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=0","data":"AAAA"}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=99999999999","data":"AAAA"}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=24000","data":""}}]}}]}',
  '{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/mpeg","data":"!!"}}]}}]}',
];
const WHISPER = [
  '{}', '{"text":5}', '{"text":"hi","segments":"x"}', '{"text":"hi","segments":[null,5,{"start":"a","end":-1e308,"text":7}]}',
  '{"text":"hi","duration":-5,"words":[{"word":5,"start":1e308,"end":"x"}]}', '{"text":"hi","segments":[{"start":1e300,"end":1e301,"text":"x"}]}',
];

function assertAnswerOrError(status, body, what) {
  if (status === 200) {
    assert.equal(body.object, 'chat.completion', `${what}: ${JSON.stringify(body).slice(0, 300)}`);
    assert.ok(Array.isArray(body.choices) && body.choices.length === 1, what);
    const m = body.choices[0].message;
    assert.equal(m.role, 'assistant', what);
    assert.ok(m.content === null || typeof m.content === 'string', `${what}: content ${JSON.stringify(m.content)}`);
    if (m.tool_calls !== undefined) {
      assert.ok(Array.isArray(m.tool_calls), what);
      for (const tc of m.tool_calls) {
        assert.equal(typeof tc.id, 'string', what);
        assert.equal(typeof tc.function?.name, 'string', what);
        assert.equal(typeof tc.function?.arguments, 'string', what);
      }
    }
    if (body.usage) for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.ok(Number.isInteger(body.usage[k]) && body.usage[k] >= 0, `${what}: usage ${JSON.stringify(body.usage)}`);
  } else {
    assert.ok(status >= 400 && status < 600, `${what}: status ${status}`);
    assertErrorShape(assert, body);
  }
}

function assertStream(status, text, what) {
  if (status !== 200) {
    assertErrorShape(assert, JSON.parse(text));
    return;
  }
  const events = sseData(text);
  assert.equal(events.at(-1), '[DONE]', `${what}: ends with [DONE]: ${text.slice(-300)}`);
  for (const e of events.slice(0, -1)) {
    const j = JSON.parse(e); // every event the client gets is JSON
    if (j.error) {
      assertErrorShape(assert, j);
      continue;
    }
    assert.equal(j.object, 'chat.completion.chunk', `${what}: ${e.slice(0, 200)}`);
    assert.ok(Array.isArray(j.choices), what);
    for (const c of j.choices) {
      const d = c.delta ?? {};
      assert.ok(d.content === undefined || d.content === null || typeof d.content === 'string', `${what}: ${e.slice(0, 200)}`);
      assert.ok(c.finish_reason === null || typeof c.finish_reason === 'string', `${what}: ${e.slice(0, 200)}`);
      for (const tc of d.tool_calls ?? []) {
        assert.ok(Number.isInteger(tc?.index) && tc.index >= 0, `${what}: tool call index ${e.slice(0, 200)}`);
      }
    }
  }
}

// A 200 must be a usable answer of the endpoint's kind (check), anything else an OpenAI error.
function assertMediaOrError(status, buf, what, check) {
  if (status === 200) {
    check(buf, what);
    return;
  }
  assert.ok(status >= 400 && status < 600, `${what}: status ${status}`);
  assertErrorShape(assert, JSON.parse(buf.toString()));
}
const oneVector = (dims) => (buf, what) => {
  const j = JSON.parse(buf.toString());
  assert.equal(j.data?.length, 1, `${what}: ${buf.toString().slice(0, 200)}`);
  const e = j.data[0].embedding;
  const n = typeof e === 'string' ? Buffer.from(e, 'base64').length / 4 : e.length;
  assert.equal(n, dims, `${what}: a vector of the model's size`);
  if (Array.isArray(e)) assert.ok(e.every(Number.isFinite), `${what}: finite numbers`);
};
const anImage = (buf, what) => {
  const j = JSON.parse(buf.toString());
  const png = Buffer.from(j.data?.[0]?.b64_json ?? '', 'base64');
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${what}: a PNG`);
};
const someAudio = (buf, what) => assert.ok(buf.length > 0, `${what}: audio bytes`);
const aTranscript = (fmt) => (buf, what) => {
  if (fmt === 'srt') return assert.match(buf.toString(), /^(\d+\r?\n[\d:,]+ --> [\d:,]+\r?\n.*\r?\n\r?\n)*$/s, what);
  assert.equal(typeof JSON.parse(buf.toString()).text, 'string', what);
};

describe('unusable upstream answers never crash the gateway', () => {
  let s;
  before(async () => {
    s = await startStack({ models: [GROQ, CEREBRAS, G25, EMBED_G, EMBED_GH, IMAGE_G, TTS_G, STT_GROQ], keys: KEYS, timeoutMs: 4000 });
  }, T);
  after(async () => {
    await s?.stop();
  });

  // Runs every case, then fails with all the cases that went wrong.
  async function each(provider, bodies, contentType, ask) {
    const failed = [];
    for (const [i, raw] of bodies.entries()) {
      await s.mock.script({ provider, raw_body: raw, status: 200, content_type: contentType });
      const what = `${provider} ${contentType} #${i} ${JSON.stringify(raw.slice(0, 80))}`;
      try {
        await ask(what);
      } catch (e) {
        failed.push(e.message);
      }
      // Still up, and a normal request is answered.
      const ok = await s.fetch('/chat/completions', { json: { model: CEREBRAS.id, messages: [{ role: 'user', content: 'ping' }] } });
      assert.equal(ok.status, 200, `${what}: the gateway answers afterwards${await s.diag()}`);
      await s.mock.clearScript();
      await s.restart(); // the provider rests 30 s after an unusable answer; start each case fresh
    }
    assert.deepEqual(failed, []);
  }

  test('OpenAI-dialect whole answers', T, async () => {
    await each('groq', OPENAI_BODIES, 'application/json', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', messages: [{ role: 'user', content: uniq('g') }] } });
      assertAnswerOrError(r.status, await r.json(), what);
    });
  });

  test('OpenAI-dialect streams', T, async () => {
    await each('groq', OPENAI_STREAMS, 'text/event-stream', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: 'auto', stream: true, messages: [{ role: 'user', content: uniq('gs') }] } });
      assertStream(r.status, await r.text(), what);
    });
  });

  test('media answers: embeddings, images, speech, transcripts', T, async () => {
    const post = async (path, json, what, check) => {
      const r = await s.fetch(path, { json });
      assertMediaOrError(r.status, Buffer.from(await r.arrayBuffer()), what, check);
    };
    await each('google', GEMINI_EMBED, 'application/json', (what) => post('/embeddings', { model: EMBED_G.id, input: 'x', encoding_format: 'float' }, what, oneVector(3072)));
    await each('github', OPENAI_EMBED, 'application/json', (what) => post('/embeddings', { model: EMBED_GH.id, input: 'x' }, what, oneVector(1536)));
    await each('google', GEMINI_IMAGE, 'application/json', (what) => post('/images/generations', { model: IMAGE_G.id, prompt: 'x', response_format: 'b64_json' }, what, anImage));
    await each('google', GEMINI_TTS, 'application/json', (what) => post('/audio/speech', { model: TTS_G.id, input: 'x', voice: 'alloy', response_format: 'mp3' }, what, someAudio));
    const wav = Buffer.alloc(44 + 3200);
    wav.write('RIFF', 0); wav.writeUInt32LE(36 + 3200, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(16000, 24); wav.writeUInt32LE(32000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(3200, 40);
    for (const fmt of ['json', 'srt', 'verbose_json']) {
      await each('groq', WHISPER, 'application/json', async (what) => {
        const form = new FormData();
        form.append('file', new Blob([wav], { type: 'audio/wav' }), 'a.wav');
        form.append('model', STT_GROQ.id);
        form.append('response_format', fmt);
        const r = await fetch(`${s.baseURL}/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${s.key}` }, body: form });
        assertMediaOrError(r.status, Buffer.from(await r.arrayBuffer()), `${what} ${fmt}`, aTranscript(fmt));
      });
    }
  });

  test('Gemini whole answers and streams', T, async () => {
    await each('google', GEMINI_BODIES, 'application/json', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, messages: [{ role: 'user', content: uniq('gg') }] } });
      assertAnswerOrError(r.status, await r.json(), what);
    });
    const streams = GEMINI_BODIES.map((b) => `data: ${b}\n\n`).concat(['data: {bad\n\n', '']);
    await each('google', streams, 'text/event-stream', async (what) => {
      const r = await s.fetch('/chat/completions', { json: { model: G25.id, stream: true, messages: [{ role: 'user', content: uniq('ggs') }] } });
      assertStream(r.status, await r.text(), what);
    });
  });
});
