// The Gemini transport (provider google): auth, rules, streaming; the wire format itself is in ../gemini.mjs.
import { inbandError, gErr } from '../providers.mjs';
import { validateGemini, buildGeminiAnswer, responseObject, streamChunks, modelObjects, isImageModel, isTtsModel, checkGeminiMedia, buildGeminiMediaAnswer, checkGeminiEmbed, geminiEmbedAnswer, checkAuthToken, mintAuthToken } from '../gemini.mjs';
import { GONE, alnum, sleep } from '../common.mjs';


export function makeGemini(m) {
  const { state, wait, takeRule, keyAccepted, sendJson, sendProviderError, write, sendWhole, runMedia, takeRuleAndWait, answerByRule, lower } = m;

  // Gemini dialect (google): tests/mock/gemini.mjs has the wire format, the
  // validation and the answers; this part does auth, rules and the transport.
  //   POST /v1beta/models/{model}:generateContent            (x-goog-api-key)
  //   POST /v1beta/models/{model}:streamGenerateContent?alt=sse
  //   GET  /v1beta/models  and  /v1beta/models/{model}
  //   POST /v1alpha/auth_tokens
  function sendGoogle(res, rec, e, extraHeaders = {}) {
    rec.status = e.status;
    sendJson(res, e.status, e.body, { 'x-request-id': `req_${alnum(26)}`, ...e.headers, ...lower(extraHeaders) });
  }

  async function handleGemini(req, res, rec, url) {
    const provider = 'google';
    const sub = rec.sub;
    const strict = state.config.strict;
    const headerKey = req.headers['x-goog-api-key'] || null;
    const queryKey = url.searchParams.get('key');
    rec.key = headerKey || queryKey || null;
    rec.alt = url.searchParams.get('alt');
    const chat = sub.match(/^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/);
    const emb = sub.match(/^\/(v1beta|v1)\/models\/([^/:]+):(embedContent|batchEmbedContents)$/);
    const one = !chat && sub.match(/^\/(v1beta|v1)\/models\/([^/:]+)$/);
    if (chat) {
      rec.model = decodeURIComponent(chat[2]);
      // image and TTS models answer generateContent with media: endpoints "image" / "speech"
      rec.endpoint = isTtsModel(rec.model) ? 'speech' : isImageModel(rec.model) ? 'image' : 'chat';
      rec.stream = chat[3] === 'streamGenerateContent';
    } else if (emb) {
      rec.endpoint = 'embed';
      rec.model = decodeURIComponent(emb[2]);
      rec.stream = false;
    } else if (/^\/(v1beta|v1)\/models\/?$/.test(sub)) {
      rec.endpoint = 'models';
      rec.model = null;
      rec.stream = false;
    } else if (one) {
      rec.endpoint = 'models';
      rec.model = decodeURIComponent(one[2]);
      rec.stream = false;
    } else {
      rec.endpoint = sub === '/v1alpha/auth_tokens' ? 'auth_token' : 'other';
      rec.model = null;
      rec.stream = false;
    }

    // The unified client key must never reach an upstream.
    if (/freellmapi-/i.test(JSON.stringify(req.headers) + req.url)) {
      rec.violation = 'the gateway\'s unified freellmapi- key was sent upstream';
      return sendProviderError(res, rec, provider, 'auth');
    }
    if (queryKey !== null) {
      rec.violation = 'API key sent in the URL (?key=): use the x-goog-api-key header';
      if (strict) return sendGoogle(res, rec, gErr(400, 'INVALID_ARGUMENT', 'mock: API keys in the URL query (?key=) are refused; send the x-goog-api-key header.'));
    }
    if (req.headers.authorization) {
      rec.violation = 'Authorization header sent to Gemini (it takes x-goog-api-key; a Bearer token is read as OAuth)';
      return sendGoogle(
        res,
        rec,
        gErr(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com', method: 'google.ai.generativelanguage.v1beta.GenerativeService.GenerateContent' } },
        ]),
      );
    }
    if (!rec.key) {
      return sendGoogle(res, rec, gErr(403, 'PERMISSION_DENIED', 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.'));
    }
    if (!keyAccepted(provider, rec.key, null)) return sendProviderError(res, rec, provider, 'auth');

    if (rec.endpoint === 'models') {
      if (req.method !== 'GET') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const rule = takeRule({ provider, model: rec.model, key: rec.key, account: null, endpoint: 'models', stream: false });
      if (rule) {
        rec.rule = rule.id;
        if (rule.delay_ms) await wait(rule.delay_ms);
        if (rule.error) return sendProviderError(res, rec, provider, rule.error, rule);
      }
      const models = modelObjects(state.catalog.google || []);
      if (rec.model) {
        const m = models.find((x) => x.name === `models/${rec.model}`);
        if (!m) return sendProviderError(res, rec, provider, 'model_not_found', { ctx: { model: rec.model } });
        rec.status = 200;
        return sendJson(res, 200, m, { 'content-type': 'application/json; charset=UTF-8' });
      }
      const size = Math.min(1000, Math.max(1, Number(url.searchParams.get('pageSize')) || 50));
      const start = Number(Buffer.from(url.searchParams.get('pageToken') || '', 'base64').toString() || 0) || 0;
      const page = models.slice(start, start + size);
      const out = { models: page };
      if (start + size < models.length) out.nextPageToken = Buffer.from(String(start + size)).toString('base64');
      rec.status = 200;
      return sendJson(res, 200, out, { 'content-type': 'application/json; charset=UTF-8' });
    }
    if (rec.endpoint === 'auth_token') {
      if (req.method !== 'POST') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const check = () => {
        if (rec.parse_error) return { error: gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`), why: `body is not JSON: ${rec.parse_error}`, hard: true };
        return checkAuthToken(rec.body);
      };
      return runMedia(req, res, rec, provider, check, () => {
        const tok = mintAuthToken(rec.body);
        const b = rec.body && typeof rec.body === 'object' ? rec.body : {};
        rec.token = tok.name;
        state.tokens.set(tok.name, { ...tok, setup: b.bidiGenerateContentSetup ?? b.bidi_generate_content_setup ?? null, field_mask: b.fieldMask ?? b.field_mask ?? null, key: rec.key, seq: rec.seq, at: Date.now(), used: 0, sessions: [] });
        return { body: tok };
      });
    }
    if (rec.endpoint === 'embed') {
      if (req.method !== 'POST') return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `Method not found: ${req.method} ${sub}`));
      const method = emb[3];
      let items = [];
      const check = () => {
        if (rec.parse_error) return { error: gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`), why: `body is not JSON: ${rec.parse_error}`, hard: true };
        const r = checkGeminiEmbed(rec.model, method, rec.body);
        items = r.items;
        rec.texts = items.map((i) => i.text);
        return r.problem;
      };
      return runMedia(req, res, rec, provider, check, () => {
        rec.dimensions = items.map((i) => i.dims);
        return { body: geminiEmbedAnswer(rec.model, method, items) };
      });
    }
    if (!['chat', 'image', 'speech'].includes(rec.endpoint) || req.method !== 'POST') {
      return sendGoogle(res, rec, gErr(404, 'NOT_FOUND', `mock: no such Gemini method: ${req.method} ${sub}`));
    }
    if (rec.parse_error) {
      rec.violation = `body is not JSON: ${rec.parse_error}`;
      return sendGoogle(res, rec, gErr(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${rec.parse_error}`));
    }
    if (rec.stream && rec.alt !== 'sse') (rec.warnings ||= []).push('streamGenerateContent without alt=sse: the answer is one JSON array, not SSE');

    const rule = await takeRuleAndWait(req, res, rec, { provider, model: rec.model, key: rec.key, account: null, endpoint: rec.endpoint, stream: rec.stream });
    if (rule === GONE) return;
    // Validation always runs (it records sig_checks and inline_data); strict mode enforces it.
    let v = validateGemini(rec.model, rec.body, rec, state.signatures, { strict });
    if (!v && rec.endpoint !== 'chat') {
      // image / TTS models: modalities, voice, aspect ratio
      v = checkGeminiMedia(rec.endpoint, rec.model, rec.body);
      if (v && !rule?.error && !rule?.drop) rec.violation = v.why;
    }
    if (v && strict && !rule?.error && !rule?.drop) {
      rec.violation = v.why;
      rec.outcome = 'error';
      return sendGoogle(res, rec, v.error);
    }
    return geminiAnswer(req, res, rec, rule);
  }

  async function geminiAnswer(req, res, rec, rule) {
    const provider = 'google';
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;
    if (answerByRule(req, res, rec, provider, rule)) return;
    const a = rec.endpoint === 'image' || rec.endpoint === 'speech' ? buildGeminiMediaAnswer(rec.endpoint, rec.model, rec.body || {}, rule, state, rec) : buildGeminiAnswer(rec.model, rec.body || {}, rule, state);
    rec.issued = a.issued;
    const headers = { 'x-request-id': `req_${alnum(26)}`, server: 'scaffolding on HTTPServer2', 'server-timing': 'gfet4t7; dur=412', vary: 'Origin, X-Origin, Referer', ...lower(rule?.headers) };
    rec.status = 200;

    if (!rec.stream) {
      return sendWhole(res, rec, rule, aborted, JSON.stringify(responseObject(a)), headers, 'application/json; charset=UTF-8');
    }

    const sse = rec.alt === 'sse';
    res.writeHead(200, { ...headers, 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8', 'content-disposition': 'attachment', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (rule?.stall_after_headers_ms) {
      await wait(rule.stall_after_headers_ms);
      if (aborted()) return;
    }
    const evs = streamChunks(a);
    const frame = (obj, i) => (sse ? `data: ${JSON.stringify(obj)}\r\n\r\n` : `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(obj)}`);
    const delay = rule?.chunk_delay_ms ?? 0;
    let sent = 0;
    for (let i = 0; i <= evs.length; i++) {
      if (aborted()) return;
      if (rule?.cut_after === sent) {
        rec.outcome = 'cut';
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (rule?.inband_error_after === sent) {
        const ev = typeof rule.inband_error === 'object' && rule.inband_error ? rule.inband_error : inbandError(provider, rec.model);
        res.end(frame(ev, sent) + (sse ? '' : ']'));
        rec.outcome = 'inband_error';
        return;
      }
      if (rule?.malformed_after === sent) await write(res, rule.malformed_frame ?? 'data: {"candidates": [{"content": {"parts": [{"text": "bro\r\n\r\n');
      if (i === evs.length) break;
      if (delay && i > 0) {
        await wait(delay);
        if (aborted()) return;
      }
      await write(res, frame(evs[i], i));
      sent++;
    }
    res.end(sse ? '' : ']');
    rec.outcome = 'ok';
  }

  return { sendGoogle, handleGemini, geminiAnswer };
}
