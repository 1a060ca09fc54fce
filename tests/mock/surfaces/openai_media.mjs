// Media surfaces: embeddings, images, audio transcription and translation, Cloudflare's native run, Pollinations' image GET.
import { randomBytes } from 'node:crypto';
import { providerError, providerMessage } from '../providers.mjs';
import { makePng, pngSize, fitTo64, sha256, embedVector, packFloat32, defaultDims, supportsDimensions, wavDuration, AUDIO_EXTENSIONS, LANGUAGE_NAMES, CF_WHISPER_MODELS, webVtt } from '../media.mjs';
import { GONE, alnum, nowSec, isObject, estTokens } from '../common.mjs';

export function makeOpenaiMedia(m) {
  const { state, wait, record, takeRule, sendProviderError, successHeaders, sendWhole, lower } = m;

  // ---- media surfaces ---------------------------------------------------------------
  // Embeddings, images, audio transcription/translation (OpenAI dialect),
  // Cloudflare's native run, Pollinations' image GET, and on Gemini the
  // embedding, image and TTS models and auth tokens. Each goes through
  // runMedia: scripted rule (matched on provider, model, key, account and
  // endpoint), then the request check, then one whole answer.

  /**
   * check(): null | {error: {status, headers, body}, why, hard}. A problem is
   * recorded as the request's violation; it is answered when strict mode is on
   * or it is hard (the mock cannot answer it at all).
   * answer(rule): {body: object | string | Buffer, contentType?, headers?}.
   */
  async function runMedia(req, res, rec, provider, check, answer) {
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;
    const rule = await takeRuleAndWait(req, res, rec, { provider, model: rec.model, key: rec.key, account: rec.account_id, endpoint: rec.endpoint, stream: false });
    if (rule === GONE) return;
    if (answerByRule(req, res, rec, provider, rule)) return;
    const v = check ? check() : null;
    if (v) {
      rec.violation = v.why;
      if (v.hard || state.config.strict) {
        rec.outcome = 'error';
        return sendProviderError(res, rec, provider, v.error);
      }
    }
    const out = answer(rule);
    rec.status = 200;
    const raw = Buffer.isBuffer(out.body) || typeof out.body === 'string';
    const ct = out.contentType ?? (raw ? 'text/plain; charset=utf-8' : provider === 'google' ? 'application/json; charset=UTF-8' : 'application/json');
    const base = provider === 'google' ? { 'x-request-id': `req_${alnum(26)}`, server: 'scaffolding on HTTPServer2', vary: 'Origin, X-Origin, Referer' } : successHeaders(provider);
    return sendWhole(res, rec, rule, aborted, raw ? out.body : JSON.stringify(out.body), { ...base, ...lower(out.headers), ...lower(rule?.headers) }, ct);
  }

  // POST {base}/embeddings: input string | string[] | number[] | number[][].
  function openaiEmbeddings(req, res, rec, { provider }) {
    const b = rec.body;
    const err = (msg, o = {}) => providerMessage(provider, o.status ?? 400, msg, o);
    let items = [];
    const check = () => {
      if (rec.parse_error || !isObject(b)) return { error: err('Invalid request: the body must be a JSON object.'), why: `body is not a JSON object${rec.parse_error ? `: ${rec.parse_error}` : ''}`, hard: true };
      if (typeof b.model !== 'string' || !b.model) return { error: err('you must provide a model parameter', { param: 'model' }), why: 'embeddings without model', hard: true };
      const inp = b.input;
      const isInt = (x) => Number.isInteger(x);
      if (typeof inp === 'string') items = [{ text: inp, tokens: estTokens(inp) }];
      else if (Array.isArray(inp) && inp.length && inp.every((x) => typeof x === 'string')) items = inp.map((t) => ({ text: t, tokens: estTokens(t) }));
      else if (Array.isArray(inp) && inp.length && inp.every(isInt)) items = [{ text: `tokens:${inp.join(',')}`, tokens: inp.length }];
      else if (Array.isArray(inp) && inp.length && inp.every((a) => Array.isArray(a) && a.length && a.every(isInt))) items = inp.map((a) => ({ text: `tokens:${a.join(',')}`, tokens: a.length }));
      else return { error: err('\'$.input\' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.', { param: 'input' }), why: `embeddings input is not a string, string[], number[] or number[][] (${JSON.stringify(inp ?? null).slice(0, 80)})`, hard: true };
      rec.texts = items.map((i) => i.text);
      const enc = b.encoding_format;
      if (enc !== undefined && enc !== null && enc !== 'float' && enc !== 'base64') return { error: err(`Invalid value for 'encoding_format': ${JSON.stringify(enc)}. Supported values are: 'float' and 'base64'.`, { param: 'encoding_format' }), why: `encoding_format ${JSON.stringify(enc)}` };
      if (b.dimensions !== undefined && b.dimensions !== null) {
        if (!supportsDimensions(b.model)) {
          const e = provider === 'mistral' ? providerError('mistral', 'validation', { field: 'dimensions', input: b.dimensions }) : err('This model does not support specifying dimensions.', { param: 'dimensions' });
          return { error: e, why: `dimensions sent to ${b.model}, which does not take it` };
        }
        const max = defaultDims(b.model);
        if (!Number.isInteger(b.dimensions) || b.dimensions < 1 || b.dimensions > max) return { error: err(`Invalid value for 'dimensions' = ${JSON.stringify(b.dimensions)}. Must be an integer between 1 and ${max}.`, { param: 'dimensions' }), why: `dimensions ${JSON.stringify(b.dimensions)} outside 1..${max}` };
      }
      if (provider === 'nvidia' && b.input_type !== 'query' && b.input_type !== 'passage') {
        return { error: err('\'input_type\' parameter is required for asymmetric models; use \'query\' or \'passage\''), why: `nvidia embeddings without input_type query|passage (got ${JSON.stringify(b.input_type ?? null)})` };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const dims = supportsDimensions(b.model) && Number.isInteger(b.dimensions) && b.dimensions > 0 ? b.dimensions : defaultDims(b.model);
      const enc = b.encoding_format === 'base64' ? 'base64' : 'float';
      rec.dimensions = dims;
      rec.encoding_format = enc;
      const data = items.map((it, index) => {
        const v = embedVector(b.model, it.text, dims);
        return { object: 'embedding', index, embedding: enc === 'base64' ? packFloat32(v) : v };
      });
      const tokens = items.reduce((n, it) => n + it.tokens, 0);
      const out = { object: 'list', data, model: rule?.model_echo ?? b.model, usage: rule?.usage ?? { prompt_tokens: tokens, total_tokens: tokens } };
      if (provider === 'mistral') out.id = randomBytes(16).toString('hex');
      return { body: out };
    });
  }

  // A generated image: PNG bytes, recorded in rec.outputs; `url` answers are served from /assets/generated/.
  function generatedImage(req, rec, png, asUrl) {
    rec.outputs.push({ mimeType: 'image/png', ...pngSize(png), bytes: png.length, sha256: sha256(png) });
    if (!asUrl) return { b64_json: png.toString('base64') };
    const id = alnum(20);
    state.generated.set(id, png);
    if (state.generated.size > 200) state.generated.delete(state.generated.keys().next().value);
    return { url: `http://${req.headers.host || `127.0.0.1:${m.server.address().port}`}/assets/generated/${id}.png` };
  }

  // POST {base}/images/generations: {model, prompt, n, size, response_format} -> {created, data: [{b64_json} | {url}]}.
  function openaiImages(req, res, rec, { provider }) {
    const b = rec.body;
    const err = (msg, o = {}) => providerMessage(provider, 400, msg, o);
    const check = () => {
      if (rec.parse_error || !isObject(b)) return { error: err('Invalid request: the body must be a JSON object.'), why: 'body is not a JSON object', hard: true };
      if (typeof b.prompt !== 'string' || !b.prompt.trim()) return { error: err('\'prompt\' is a required property', { param: 'prompt' }), why: 'images/generations without prompt', hard: true };
      rec.prompt = b.prompt;
      if (b.n !== undefined && b.n !== null && (!Number.isInteger(b.n) || b.n < 1 || b.n > 10)) return { error: err(`Invalid value for 'n' = ${JSON.stringify(b.n)}. Must be an integer between 1 and 10.`, { param: 'n' }), why: `n ${JSON.stringify(b.n)}` };
      if (b.size !== undefined && b.size !== null && b.size !== 'auto') {
        const m = /^(\d{1,4})x(\d{1,4})$/.exec(String(b.size));
        if (!m || !Number(m[1]) || !Number(m[2])) return { error: err(`Invalid value for 'size': ${JSON.stringify(b.size)}. Expected WIDTHxHEIGHT or 'auto'.`, { param: 'size' }), why: `size ${JSON.stringify(b.size)}` };
      }
      if (b.response_format !== undefined && b.response_format !== null && b.response_format !== 'url' && b.response_format !== 'b64_json') return { error: err(`Invalid value for 'response_format': ${JSON.stringify(b.response_format)}. Supported values are: 'url' and 'b64_json'.`, { param: 'response_format' }), why: `response_format ${JSON.stringify(b.response_format)}` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      const m = /^(\d+)x(\d+)$/.exec(String(b.size ?? ''));
      const { width, height } = m && Number(m[1]) && Number(m[2]) ? fitTo64(Number(m[1]), Number(m[2])) : { width: 64, height: 64 };
      const n = Number.isInteger(b.n) && b.n > 0 ? Math.min(b.n, 10) : 1;
      rec.outputs = [];
      const data = [];
      for (let i = 0; i < n; i++) data.push(generatedImage(req, rec, makePng(width, height, `${provider}\u0000${b.model ?? ''}\u0000${b.prompt}\u0000${i}`), b.response_format === 'url'));
      return { body: { created: nowSec(), data } };
    });
  }

  // The matching rule (recorded on rec), after its delay_ms; GONE when the client left meanwhile.
  async function takeRuleAndWait(req, res, rec, match) {
    const rule = takeRule(match);
    if (rule) rec.rule = rule.id;
    if (rule?.delay_ms) {
      await wait(rule.delay_ms);
      if (res.destroyed || req.socket?.destroyed) {
        rec.outcome = 'client_gone';
        return GONE;
      }
    }
    return rule;
  }

  // A rule that answers by itself (drop, provider error, raw body): true when it did.
  function answerByRule(req, res, rec, provider, rule) {
    if (rule?.drop) {
      rec.status = 0;
      rec.outcome = 'dropped';
      req.socket.destroy();
      return true;
    }
    if (rule?.error) {
      sendProviderError(res, rec, provider, rule.error, { ...rule, ctx: { model: rec.model, ...(rule.ctx || {}) } });
      rec.outcome = 'error';
      return true;
    }
    if (rule?.raw_body !== undefined) {
      rec.status = rule.status ?? 200;
      res.writeHead(rec.status, { 'content-type': rule.content_type ?? 'application/json', ...lower(rule.headers) });
      res.end(typeof rule.raw_body === 'string' ? rule.raw_body : JSON.stringify(rule.raw_body));
      rec.outcome = 'raw';
      return true;
    }
    return false;
  }

  // POST {base}/audio/transcriptions | /audio/translations (multipart), answered like Groq's Whisper.
  function openaiAudio(req, res, rec, { provider, multipart }) {
    const translate = rec.endpoint === 'translation';
    const err = (msg, o = {}) => providerMessage(provider, o.status ?? 400, msg, o);
    const form = multipart?.form || {};
    const filePart = multipart?.parts.find((p) => p.name === 'file' && p.filename !== null) ?? null;
    const first = (v) => (Array.isArray(v) ? v[0] : v);
    const fmt = first(form.response_format) || 'json';
    const grans = [].concat(form['timestamp_granularities[]'] ?? form.timestamp_granularities ?? []);
    const check = () => {
      if (!multipart) {
        return { error: err(rec.parse_error ? `invalid multipart/form-data body: ${rec.parse_error.replace(/^multipart\/form-data: /, '')}` : 'request Content-Type isn\'t multipart/form-data'), why: rec.parse_error || `audio request with Content-Type ${JSON.stringify(req.headers['content-type'] ?? null)}`, hard: true };
      }
      if (!filePart) return { error: err(form.url ? 'mock: the url field is not supported, upload a file' : 'either file or url must be provided'), why: 'audio request without a file part', hard: true };
      if (filePart.data.length > 25 * 1024 * 1024) return { error: err('Request Entity Too Large', { status: 413, code: 'request_too_large' }), why: `file of ${filePart.data.length} bytes (over 25 MB)`, hard: true };
      if (fmt === 'srt' || fmt === 'vtt' || !['json', 'text', 'verbose_json'].includes(fmt)) return { error: err(`response_format must be one of [json text verbose_json], got ${fmt}`, { param: 'response_format' }), why: `response_format ${fmt} (Groq: json, text, verbose_json only)`, hard: true };
      const ext = String(filePart.filename).toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
      if (!AUDIO_EXTENSIONS.includes(ext)) return { error: err(`file must be one of the following types: [${AUDIO_EXTENSIONS.join(' ')}]`), why: `file name ${JSON.stringify(filePart.filename)} has no audio extension` };
      if (!first(form.model)) return { error: err('model is required', { param: 'model' }), why: 'audio request without model' };
      const prompt = first(form.prompt);
      if (typeof prompt === 'string' && prompt.length > 896) return { error: err(`prompt length must be 896 characters or fewer, but provided prompt contains ${prompt.length} characters`), why: `prompt of ${prompt.length} characters` };
      const t = first(form.temperature);
      if (t !== undefined && (t === '' || !Number.isFinite(Number(t)) || Number(t) < 0 || Number(t) > 1)) return { error: err(`temperature must be between 0 and 1, got ${t}`, { param: 'temperature' }), why: `temperature ${t}` };
      const badGran = grans.find((g) => g !== 'word' && g !== 'segment');
      if (badGran !== undefined) return { error: err(`timestamp_granularities must be one of [word segment], got ${badGran}`, { param: 'timestamp_granularities' }), why: `timestamp_granularities[] ${badGran}` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const data = filePart?.data ?? Buffer.alloc(0);
      const ct = filePart?.contentType || 'no content-type';
      const text = rule?.content ?? `Received ${data.length} bytes of ${filePart?.filename ?? '-'} (${ct}) sha256 ${sha256(data).slice(0, 16)}.`;
      const duration = Math.round((wavDuration(data) ?? data.length / 32000) * 1e6) / 1e6;
      rec.transcript = text;
      rec.duration = duration;
      const xg = { id: `req_${alnum(26)}` };
      if (fmt === 'text') return { body: text, contentType: 'text/plain; charset=utf-8' };
      if (fmt !== 'verbose_json') return { body: { text, x_groq: xg } };
      const words = text.split(/\s+/).filter(Boolean);
      const half = Math.max(1, Math.ceil(words.length / 2));
      const at = (i) => Math.round(((duration * i) / Math.max(1, words.length)) * 1000) / 1000;
      const temperature = Number(first(form.temperature) ?? 0) || 0;
      const seg = (id, from, to) => ({
        id,
        seek: 0,
        start: at(from),
        end: at(to),
        text: ` ${words.slice(from, to).join(' ')}`,
        tokens: words.slice(from, to).map((w) => 1000 + (parseInt(sha256(w).slice(0, 4), 16) % 49000)),
        temperature,
        avg_logprob: -0.21,
        compression_ratio: 1.05,
        no_speech_prob: 0.01,
      });
      const segments = words.length > 1 ? [seg(0, 0, half), seg(1, half, words.length)] : [seg(0, 0, words.length)];
      const lang = first(form.language);
      const out = { task: translate ? 'translate' : 'transcribe', language: translate ? 'english' : LANGUAGE_NAMES[String(lang || 'en').toLowerCase()] ?? String(lang).toLowerCase(), duration, text, segments };
      if (!translate && grans.includes('word')) out.words = words.map((w, i) => ({ word: w.replace(/[.,!?;:]+$/, ''), start: at(i), end: at(i + 1) }));
      out.x_groq = xg;
      return { body: out };
    });
  }

  // Cloudflare native run: POST .../ai/run/@cf/black-forest-labs/flux-1-schnell {prompt, steps?};
  // the Whisper models go to cloudflareWhisper.
  function cloudflareRun(req, res, rec, opts) {
    const { provider } = opts;
    const b = rec.body;
    const FLUX = '@cf/black-forest-labs/flux-1-schnell';
    const err = (msg, cfCode = 5006, status = 400) => providerMessage('cloudflare', status, msg, { cfCode });
    if (CF_WHISPER_MODELS[rec.model]) return cloudflareWhisper(req, res, rec, opts);
    const check = () => {
      if (rec.model !== FLUX) return { error: err(`No such model ${rec.model} or task`, 5007), why: `run model ${rec.model} is not emulated (only ${FLUX} and ${Object.keys(CF_WHISPER_MODELS).join(', ')})`, hard: true };
      if (rec.parse_error || !isObject(b)) return { error: err('AiError: Bad input: Error: must be object'), why: 'run body is not a JSON object', hard: true };
      if (typeof b.prompt !== 'string' || !b.prompt.length) return { error: err('AiError: Bad input: Error: must have required property \'prompt\''), why: 'flux-1-schnell without prompt', hard: true };
      rec.prompt = b.prompt;
      if (b.prompt.length > 2048) return { error: err('AiError: Bad input: Error: /prompt must NOT have more than 2048 characters'), why: `prompt of ${b.prompt.length} characters` };
      if (b.steps !== undefined && (!Number.isInteger(b.steps) || b.steps < 1)) return { error: err('AiError: Bad input: Error: /steps must be integer'), why: `steps ${JSON.stringify(b.steps)}` };
      if (b.steps > 8) return { error: err('AiError: Bad input: Error: /steps must be <= 8'), why: `steps ${b.steps} > 8` };
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      rec.outputs = [];
      const img = generatedImage(req, rec, makePng(64, 64, `${FLUX}\u0000${b.prompt}\u0000${b.steps ?? 4}`), false);
      return { body: { result: { image: img.b64_json }, success: true, errors: [], messages: [] } };
    });
  }

  // Cloudflare Whisper on the run route (endpoint transcription, or translation
  // for the turbo model's task "translate"):
  //   @cf/openai/whisper-large-v3-turbo  JSON {audio: base64, task?, language?, initial_prompt?, …}
  //     -> {result: {transcription_info, text, word_count, segments: [{…, words}], vtt}}
  //   @cf/openai/whisper                 the raw bytes (any Content-Type) or JSON {audio: [0..255]}
  //     -> {result: {text, word_count, words, vtt}}
  // wrapped in {result, success: true, errors: [], messages: []}; bad input is a
  // 400 {success: false, errors: [{code: 5006, message: "AiError: Bad input: …"}]}.
  function cloudflareWhisper(req, res, rec, { provider, binary }) {
    const turbo = rec.model.endsWith('-turbo');
    const spec = CF_WHISPER_MODELS[rec.model];
    const b = rec.body;
    const bad = (msg, why) => ({ error: providerMessage('cloudflare', 400, `AiError: Bad input: Error: ${msg}`, { cfCode: 5006 }), why, hard: true });
    const typeOf = (v) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
    // The audio first (even when a rule answers, the record says what arrived).
    let audio = null;
    let how = null;
    let inputError = null;
    if (binary) {
      // Cloudflare maps a raw body onto the schema's audio as bytes.
      if (spec.audio === 'array') {
        audio = binary;
        how = req.headers['content-type'] || 'no content-type';
      } else inputError = bad("Type mismatch of '/audio', 'array' not in 'string'", `raw ${binary.length}-byte body to ${rec.model}, which takes JSON with base64 audio`);
    } else if (!isObject(b)) inputError = bad('must be object', 'run body is not a JSON object');
    else if (b.audio === undefined || b.audio === null) inputError = bad("must have required property 'audio'", `${rec.model} without audio`);
    else if (typeOf(b.audio) !== spec.audio) inputError = bad(`Type mismatch of '/audio', '${typeOf(b.audio)}' not in '${spec.audio}'`, `audio is ${typeOf(b.audio)}, ${rec.model} takes ${spec.audio === 'string' ? 'a base64 string' : 'an array of bytes'}`);
    else if (spec.audio === 'string') {
      if (!b.audio.length) inputError = bad('/audio must NOT have fewer than 1 characters', 'empty audio');
      else if (b.audio.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.audio)) inputError = bad('/audio must be a base64 encoded string', 'audio is not padded standard base64');
      else {
        audio = Buffer.from(b.audio, 'base64');
        how = 'base64';
      }
    } else {
      const i = b.audio.findIndex((x) => !Number.isInteger(x) || x < 0 || x > 255);
      if (!b.audio.length) inputError = bad('/audio must NOT have fewer than 1 items', 'empty audio');
      else if (i >= 0) inputError = bad(`/audio/${i} must be integer <= 255 and >= 0`, `audio[${i}] = ${JSON.stringify(b.audio[i])}`);
      else {
        audio = Buffer.from(b.audio);
        how = 'array';
      }
    }
    if (audio) rec.upload = { bytes: audio.length, sha256: sha256(audio) };
    // Never the bytes in the record: the audio field becomes its summary.
    if (isObject(b) && b.audio !== undefined) rec.body = { ...b, audio: audio ? { ...rec.upload } : `<${typeOf(b.audio)}>` };
    const check = () => {
      if (inputError) return inputError;
      if (!isObject(b)) return null; // raw bytes: no options
      const extra = Object.keys(b).find((k) => !spec.keys.includes(k));
      if (extra !== undefined) return { ...bad('must NOT have additional properties'), why: `${rec.model} has no input "${extra}"`, hard: false };
      if (b.task !== undefined && b.task !== 'transcribe' && b.task !== 'translate') return { ...bad('/task must be equal to one of the allowed values'), why: `task ${JSON.stringify(b.task)}`, hard: false };
      for (const k of ['task', 'language', 'initial_prompt', 'prefix']) {
        if (b[k] !== undefined && typeof b[k] !== 'string') return { ...bad(`Type mismatch of '/${k}', '${typeOf(b[k])}' not in 'string'`), why: `${k} is ${typeOf(b[k])}`, hard: false };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, (rule) => {
      const text = rule?.content ?? `Received ${audio.length} bytes of audio (${how}) sha256 ${sha256(audio).slice(0, 16)}.`;
      const duration = Math.round((wavDuration(audio) ?? audio.length / 32000) * 1e6) / 1e6;
      rec.transcript = text;
      rec.duration = duration;
      const words = text.split(/\s+/).filter(Boolean);
      const at = (i) => Math.round(((duration * i) / Math.max(1, words.length)) * 1000) / 1000;
      const envelope = (result) => ({ body: { result, success: true, errors: [], messages: [] } });
      if (!turbo) {
        const ws = words.map((w, i) => ({ word: w, start: at(i), end: at(i + 1) }));
        return envelope({ text, word_count: words.length, words: ws, vtt: webVtt(ws.map((w) => ({ ...w, text: w.word }))) });
      }
      // faster-whisper's shapes: segment texts and words start with a space.
      const half = Math.max(1, Math.ceil(words.length / 2));
      const seg = (from, to) => ({
        start: at(from),
        end: at(to),
        text: ` ${words.slice(from, to).join(' ')}`,
        temperature: 0,
        avg_logprob: -0.21,
        compression_ratio: 1.05,
        no_speech_prob: 0.01,
        words: words.slice(from, to).map((w, i) => ({ word: ` ${w}`, start: at(from + i), end: at(from + i + 1) })),
      });
      const segments = words.length > 1 ? [seg(0, half), seg(half, words.length)] : [seg(0, words.length)];
      const language = typeof b?.language === 'string' && b.language ? b.language.toLowerCase() : 'en';
      return envelope({
        transcription_info: { language, language_probability: b?.language ? 1 : 0.97, duration, duration_after_vad: duration },
        text,
        word_count: words.length,
        segments,
        vtt: webVtt(segments),
      });
    });
  }

  // Pollinations: GET /pollinations/image/{urlencoded prompt}?model=flux|turbo&width=&height=&seed=&nologo=true -> raw PNG.
  function pollinationsImage(req, res, rec, { provider, url, sub }) {
    const q = url.searchParams;
    const rawPrompt = sub.replace(/^\/(image|prompt)\//, '');
    const err = (msg) => providerMessage('pollinations', 400, msg);
    const models = new Set(['flux', 'turbo', ...(state.catalog.pollinations || []).filter((m) => m.kind === 'image').map((m) => m.id)]);
    let prompt = null;
    const check = () => {
      try {
        prompt = decodeURIComponent(rawPrompt);
      } catch {
        return { error: err('Invalid prompt encoding'), why: `prompt path ${rawPrompt.slice(0, 60)} is not valid percent-encoding`, hard: true };
      }
      rec.prompt = prompt;
      if (!prompt.trim()) return { error: err('A prompt is required'), why: 'empty prompt', hard: true };
      if (!models.has(rec.model)) return { error: err(`Invalid model: ${rec.model}. Available image models: ${[...models].join(', ')}`), why: `image model ${rec.model}` };
      for (const k of ['width', 'height', 'seed']) {
        const v = q.get(k);
        if (v !== null && !/^-?\d+$/.test(v)) return { error: err(`Invalid ${k}: ${v}`), why: `${k}=${v} is not an integer` };
      }
      for (const k of ['width', 'height']) {
        const v = q.get(k);
        if (v !== null && (Number(v) < 16 || Number(v) > 4096)) return { error: err(`Invalid ${k}: ${v} (16..4096)`), why: `${k}=${v} outside 16..4096` };
      }
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => {
      const { width, height } = fitTo64(Number(q.get('width')) || 1024, Number(q.get('height')) || 1024);
      const png = makePng(width, height, `pollinations\u0000${rec.model}\u0000${prompt ?? rawPrompt}\u0000${q.get('seed') ?? ''}`);
      rec.outputs = [];
      generatedImage(req, rec, png, false);
      return { body: png, contentType: 'image/png', headers: { 'cache-control': 'public, max-age=31536000, immutable' } };
    });
  }

  // POST {base}/moderations (Mistral's classifier): input string | string[]; per input the
  // categories (booleans) and category_scores of Mistral's moderation model. Scores follow
  // words in the text, so tests can ask for a flagged and a clean result.
  const MISTRAL_MODERATION = ['sexual', 'hate_and_discrimination', 'violence_and_threats', 'dangerous_and_criminal_content', 'selfharm', 'health', 'financial', 'law', 'pii'];
  const MODERATION_WORDS = { violence_and_threats: /\b(kill|attack|hurt you)\b/i, hate_and_discrimination: /\b(hate|inferior)\b/i, selfharm: /\b(hurt myself|end my life)\b/i, dangerous_and_criminal_content: /\b(steal|bomb)\b/i, sexual: /\bexplicit\b/i };
  function mistralModerations(req, res, rec, { provider }) {
    const b = rec.body;
    const err = (msg, o = {}) => providerMessage(provider, o.status ?? 400, msg, o);
    const inputs = () => (typeof b.input === 'string' ? [b.input] : b.input);
    const check = () => {
      if (provider !== 'mistral') return { error: err('Not Found', { status: 404 }), why: `${provider} has no moderation endpoint`, hard: true };
      if (rec.parse_error || !isObject(b)) return { error: err('Invalid request: the body must be a JSON object.'), why: 'body is not a JSON object', hard: true };
      if (typeof b.model !== 'string' || !b.model) return { error: err('model is required', { param: 'model' }), why: 'moderation without model', hard: true };
      const inp = inputs();
      if (!Array.isArray(inp) || inp.length === 0 || !inp.every((x) => typeof x === 'string')) return { error: err('input must be a string or a list of strings', { param: 'input' }), why: 'moderation input is not a string or string[]', hard: true };
      return null;
    };
    return runMedia(req, res, rec, provider, check, () => ({
      body: {
        id: randomBytes(16).toString('hex'),
        model: b.model,
        results: inputs().map((text) => {
          const category_scores = Object.fromEntries(MISTRAL_MODERATION.map((c, i) => [c, MODERATION_WORDS[c]?.test(text) ? 0.9 + i / 100 : 0.001 * (i + 1)]));
          return { categories: Object.fromEntries(Object.entries(category_scores).map(([c, v]) => [c, v >= 0.5])), category_scores };
        }),
      },
    }));
  }

  const MEDIA_HANDLERS = { moderation: mistralModerations, embed: openaiEmbeddings, image: openaiImages, transcription: openaiAudio, translation: openaiAudio, run: cloudflareRun };

  return { runMedia, mistralModerations, openaiEmbeddings, generatedImage, openaiImages, takeRuleAndWait, answerByRule, openaiAudio, cloudflareRun, cloudflareWhisper, pollinationsImage, MEDIA_HANDLERS };
}
