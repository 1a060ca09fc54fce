// The Gemini Live API over WebSocket (provider google, endpoint "live"):
//   GET /google/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContentConstrained?access_token=auth_tokens/…
//   GET /google/ws/google.ai.generativelanguage.{v1alpha|v1beta}.GenerativeService.BidiGenerateContent?key=API_KEY
// (docs/reference/wire-gemini.md section 8; tests/mock/README.md "Gemini Live"). The
// WebSocket itself (handshake, framing, close frames) is the npm package `ws`; this file
// only speaks the JSON messages: setup -> setupComplete; realtimeInput / clientContent ->
// inputTranscription, modelTurn audio (PCM tone) or text, outputTranscription,
// generationComplete, turnComplete + usageMetadata; toolCall <- -> toolResponse. Errors close
// the socket with a code and a reason (1007 invalid argument / payload, 1008 policy: auth,
// token, unknown entity), as the real server does; there is no JSON error message.
import { createHash } from 'node:crypto';
import { LIVE_SETUP_FIELDS } from '../gemini.mjs';
import { pcmTone, GEMINI_VOICES } from '../media.mjs';
import { isObject, estTokens } from '../common.mjs';

// Installed by scripts/run-e2e.sh (npm ci in tests/mock) before any suite starts the mock.
import { WebSocketServer } from 'ws';

const LIVE_RE = /^\/ws\/google\.ai\.generativelanguage\.(v1alpha|v1beta)\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)$/;
const CLIENT_TYPES = ['setup', 'clientContent', 'realtimeInput', 'toolResponse'];
const REALTIME_FIELDS = ['audio', 'video', 'text', 'mediaChunks', 'audioStreamEnd', 'activityStart', 'activityEnd'];
const CLIENT_CONTENT_FIELDS = ['turns', 'turnComplete'];
const FUNCTION_RESPONSE_FIELDS = ['id', 'name', 'response', 'willContinue', 'scheduling', 'parts'];
const UNREGISTERED = 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.';
const INVALID_ARGUMENT = 'Request contains an invalid argument.';
const OUT_RATE = 24000;
const OUT_CHUNK_BYTES = 9600; // 200 ms of 24 kHz s16le mono per modelTurn message
const AUDIO_TOKENS_PER_S = 32;

const camel = (s) => String(s).replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const pick = (o, k) => (isObject(o) ? (o[k] ?? o[k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())]) : undefined);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
function reason123(s) {
  let r = String(s ?? '');
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

/** `models/x` -> `x`. */
const bare = (m) => String(m ?? '').replace(/^models\//, '');

/** The function declarations of a setup's tools: [{name, parameters}]. */
function declarations(setup) {
  const out = [];
  for (const t of pick(setup, 'tools') || []) for (const d of pick(t, 'functionDeclarations') || []) if (isObject(d) && typeof d.name === 'string') out.push(d);
  return out;
}

/** Placeholder arguments for a declaration's parameters (strings "mock", numbers 1, booleans true). */
function placeholderArgs(decl) {
  const params = decl.parameters ?? decl.parametersJsonSchema ?? {};
  const props = isObject(params.properties) ? params.properties : {};
  const args = {};
  for (const [k, s] of Object.entries(props)) {
    const t = String(s?.type ?? 'string').toLowerCase();
    args[k] = Array.isArray(s?.enum) && s.enum.length ? s.enum[0] : t === 'number' || t === 'integer' ? 1 : t === 'boolean' ? true : t === 'array' ? [] : t === 'object' ? {} : 'mock';
  }
  return args;
}

/**
 * The session's setup: the token's locked bidiGenerateContentSetup over the client's setup
 * (docs/reference/wire-gemini.md 8.2): no locked setup -> the client's; a locked setup without
 * fieldMask -> every locked field wins (generationConfig merged key by key); with a fieldMask
 * only the listed paths (`key` or `key.sub`) come from the token. Returns {setup, overridden}.
 */
export function effectiveSetup(client, locked, fieldMask) {
  const eff = clone(isObject(client) ? client : {});
  const overridden = [];
  if (!isObject(locked)) return { setup: eff, overridden };
  const norm = (o) => Object.fromEntries(Object.entries(o || {}).map(([k, v]) => [camel(k), v]));
  const lk = norm(locked);
  const setPath = (p) => {
    const [a, b] = p.split('.').map(camel);
    if (b === undefined) {
      if (a in eff && JSON.stringify(eff[a]) !== JSON.stringify(lk[a])) overridden.push(a);
      if (a in lk) eff[a] = clone(lk[a]);
      else delete eff[a];
      return;
    }
    const src = norm(lk[a]);
    eff[a] = isObject(eff[a]) ? eff[a] : {};
    if (b in eff[a] && JSON.stringify(eff[a][b]) !== JSON.stringify(src[b])) overridden.push(`${a}.${b}`);
    if (b in src) eff[a][b] = clone(src[b]);
    else delete eff[a][b];
  };
  if (typeof fieldMask === 'string' && fieldMask.trim()) {
    for (const p of fieldMask.split(',').map((s) => s.trim()).filter(Boolean)) setPath(p);
  } else {
    for (const k of Object.keys(lk)) {
      if (k === 'generationConfig' && isObject(lk[k])) for (const g of Object.keys(norm(lk[k]))) setPath(`generationConfig.${g}`);
      else setPath(k);
    }
  }
  return { setup: eff, overridden };
}

export function makeLive(m) {
  const { state, log, record, wait } = m;
  const wss = new WebSocketServer({ noServer: true, clientTracking: true });

  function liveRuleMatches(r, ctx) {
    if (r.remaining === 0 || r.endpoint !== 'live') return false;
    if ((r.stage ?? 'turn') !== ctx.stage) return false;
    if (r.provider && r.provider !== 'google') return false;
    if (r.model && bare(r.model) !== ctx.model) return false;
    if (r.key && r.key !== ctx.key) return false;
    return true;
  }

  /** The first pending rule with endpoint "live" for this session and stage ("setup" or "turn"). */
  function takeLiveRule(sess, stage) {
    for (const r of state.rules) {
      if (!liveRuleMatches(r, { stage, model: sess.model, key: sess.rec.key })) continue;
      if (r.remaining > 0) r.remaining--;
      r.used++;
      sess.rec.rules.push(r.id);
      // `live: {...}` is an alias for the same fields at the rule's top level; `tool_call` for one call.
      const L = { ...r, ...(isObject(r.live) ? r.live : {}) };
      if (L.tool_call && !L.tool_calls) L.tool_calls = [L.tool_call];
      return L;
    }
    return null;
  }

  // ---- the upgrade -------------------------------------------------------------------------

  function refuseHttp(socket, status, text, body) {
    const b = Buffer.from(JSON.stringify(body));
    try {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${b.length}\r\nConnection: close\r\n\r\n${b}`);
    } catch {
      socket.destroy();
    }
  }

  /** server.on('upgrade'): the Live paths under /google become WebSocket sessions; anything else 404. */
  function handleUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const mt = url.pathname.startsWith('/google/') ? url.pathname.slice('/google'.length).match(LIVE_RE) : null;
    if (!mt) return refuseHttp(socket, 404, 'Not Found', { error: { code: 404, message: `mock: no WebSocket endpoint at ${url.pathname}`, status: 'NOT_FOUND' } });
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        openSession(ws, req, url, mt[1], mt[2]);
      } catch (e) {
        process.stderr.write(`[mock] live session error: ${e.stack || e}\n`);
        ws.close(1011, 'Internal error encountered.');
      }
    });
  }

  // ---- a session ---------------------------------------------------------------------------

  function openSession(ws, req, url, version, method) {
    const constrained = method === 'BidiGenerateContentConstrained';
    const token = url.searchParams.get('access_token');
    const key = url.searchParams.get('key');
    const rec = record({
      at: Date.now(),
      provider: 'google',
      method: 'GET',
      path: url.pathname,
      sub: url.pathname.slice('/google'.length),
      query: Object.fromEntries(url.searchParams),
      endpoint: 'live',
      account_id: null,
      headers: { ...req.headers },
      key: null,
      body: null, // the client's setup message (the setup it sent, as sent)
      parse_error: null,
      model: null,
      stream: true,
      status: 101,
      outcome: null,
      rule: null,
      violation: null,
      client_closed: false,
      closed_at: null,
      closed_early_ms: null,
      // Live extras
      version,
      live_method: method,
      token: token ?? null,
      locked_setup: null,
      field_mask: null,
      setup: null, // the session's effective setup
      setup_overridden: [],
      received: {}, // client message type -> count
      audio_in: { bytes: 0, chunks: 0, mime_types: [] },
      turns: [],
      tool_calls: [],
      tool_responses: [],
      sent: {}, // server message kind -> count
      rules: [],
      warnings: [],
      close: null, // {code, reason, by: "mock" | "client"}
    });
    const sess = {
      ws,
      rec,
      tok: null,
      model: null,
      setup: null,
      textFrames: Boolean(state.config.live_text_frames),
      turn: null, // the input being collected: {audio, chunks, hash, texts}
      silenceTimer: null,
      pending: null, // {turn, calls: Map id -> call, responses: [], rule}
      queue: Promise.resolve(),
      closed: false,
      expireAt: Infinity,
    };
    if (log) process.stderr.write(`[mock] #${rec.seq} LIVE ${url.pathname} ${token ? 'access_token=' + token.slice(0, 16) + '…' : key ? 'key=' + key.slice(0, 6) + '…' : '(no credentials)'}\n`);

    ws.on('close', (code, why) => {
      sess.closed = true;
      clearTimeout(sess.silenceTimer);
      if (!rec.close) {
        rec.close = { code, reason: why.toString('utf8'), by: 'client' };
        rec.client_closed = true;
        rec.closed_at = Date.now();
        rec.closed_early_ms = rec.closed_at - rec.at;
      }
      rec.outcome ??= 'ok';
    });
    ws.on('error', () => {
      /* a broken connection; "close" follows */
    });

    // Credentials (docs/reference/wire-gemini.md 8.1): the Constrained method takes an ephemeral
    // token as access_token; the plain one an API key as key (and refuses ephemeral tokens).
    let refusal = null;
    if (constrained) {
      if (!token) refusal = key ? 'API keys are not accepted on BidiGenerateContentConstrained; pass an ephemeral token as access_token.' : UNREGISTERED;
      else {
        const t = state.tokens.get(token);
        const now = Date.now();
        if (!t) refusal = 'The ephemeral token is invalid: unknown auth token.';
        else if (t.uses !== 0 && (t.used ?? 0) >= t.uses) refusal = `The ephemeral token ${token} has already been used (uses: ${t.uses}).`;
        else if (Date.parse(t.newSessionExpireTime) <= now) refusal = 'The ephemeral token can no longer start new sessions (newSessionExpireTime passed).';
        else if (Date.parse(t.expireTime) <= now) refusal = 'The ephemeral token has expired (expireTime passed).';
        if (t) {
          rec.key = t.key;
          rec.locked_setup = t.setup ?? null;
          rec.field_mask = t.field_mask ?? null;
          if (!refusal) {
            t.used = (t.used ?? 0) + 1;
            (t.sessions ||= []).push(rec.seq);
            sess.tok = t;
            sess.expireAt = Date.parse(t.expireTime);
          }
        }
      }
    } else if (token) refusal = UNREGISTERED; // an ephemeral token on the plain method reads as no identity
    else if (!key) refusal = UNREGISTERED;
    else if (!m.keyAccepted('google', key, null)) refusal = 'API key not valid. Please pass a valid API key.';
    else rec.key = key;
    if (refusal) {
      rec.outcome = 'refused';
      rec.violation = `Live connection refused: ${refusal}`;
      // An unknown API key closes with 1007 (seen in the wild: "API key not valid…"); token and
      // identity problems with 1008 (policy violation).
      return closeWith(sess, /API key not valid/.test(refusal) ? 1007 : 1008, refusal);
    }

    ws.on('message', (data, isBinary) => {
      sess.queue = sess.queue.then(() => onMessage(sess, data, isBinary)).catch((e) => {
        process.stderr.write(`[mock] live message error: ${e.stack || e}\n`);
        closeWith(sess, 1011, 'Internal error encountered.');
      });
    });
  }

  function closeWith(sess, code, why, { violation = true } = {}) {
    const { rec, ws } = sess;
    if (!rec.close) rec.close = { code, reason: reason123(why), by: 'mock' };
    if (violation && !rec.violation && code !== 1000) rec.violation = `closed ${code}: ${why}`;
    if (rec.outcome === null || rec.outcome === 'ok') rec.outcome = code === 1000 ? 'ok' : rec.outcome === 'refused' ? 'refused' : 'error';
    sess.closed = true;
    clearTimeout(sess.silenceTimer);
    try {
      ws.close(code, reason123(why));
    } catch {
      ws.terminate();
    }
  }

  function send(sess, obj) {
    if (sess.closed || sess.ws.readyState !== 1) return false;
    // The real server sends each JSON message as a binary frame (docs/reference/wire-gemini.md
    // 8.3); config live_text_frames: true sends text frames instead.
    sess.ws.send(Buffer.from(JSON.stringify(obj)), { binary: !sess.textFrames });
    const kind = Object.keys(obj).filter((k) => k !== 'usageMetadata')[0] ?? 'usageMetadata';
    const sub = kind === 'serverContent' ? `serverContent.${Object.keys(obj.serverContent)[0]}` : kind;
    sess.rec.sent[sub] = (sess.rec.sent[sub] ?? 0) + 1;
    return true;
  }

  const unknownName = (name, at) => `Invalid JSON payload received. Unknown name "${name}"${at ? ` at '${at}'` : ''}: Cannot find field.`;

  async function onMessage(sess, data, isBinary) {
    if (sess.closed) return;
    const { rec } = sess;
    if (Date.now() >= sess.expireAt) return closeWith(sess, 1008, 'The ephemeral token has expired (expireTime passed).');
    let msg;
    try {
      msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat([].concat(data)).toString('utf8'));
    } catch (e) {
      return closeWith(sess, 1007, `Invalid JSON payload received. ${e.message}`);
    }
    if (!isObject(msg)) return closeWith(sess, 1007, 'Invalid JSON payload received. Expected an object.');
    const keys = Object.keys(msg).map(camel);
    const unknown = keys.find((k) => !CLIENT_TYPES.includes(k));
    if (unknown) return closeWith(sess, 1007, unknownName(Object.keys(msg)[keys.indexOf(unknown)]));
    if (keys.length !== 1) return closeWith(sess, 1007, keys.length ? `Invalid JSON payload received. Multiple message types in one message: ${keys.join(', ')}.` : INVALID_ARGUMENT);
    const type = keys[0];
    const body = msg[Object.keys(msg)[0]];
    rec.received[type] = (rec.received[type] ?? 0) + 1;
    if (!isBinary) rec.text_frames_in = (rec.text_frames_in ?? 0) + 1;
    if (type === 'setup') return onSetup(sess, body);
    if (!sess.setup) return closeWith(sess, 1007, `${INVALID_ARGUMENT} The first message must be setup (got ${type}).`);
    if (!isObject(body)) return closeWith(sess, 1007, `Invalid JSON payload received. ${type} must be an object.`);
    if (type === 'realtimeInput') return onRealtimeInput(sess, body);
    if (type === 'clientContent') return onClientContent(sess, body);
    return onToolResponse(sess, body);
  }

  // ---- setup -------------------------------------------------------------------------------

  async function onSetup(sess, body) {
    const { rec } = sess;
    if (sess.setup) return closeWith(sess, 1007, `${INVALID_ARGUMENT} setup was already sent; it cannot be changed mid-session.`);
    if (!isObject(body)) return closeWith(sess, 1007, 'Invalid JSON payload received. setup must be an object.');
    rec.body = { setup: body };
    const bad = Object.keys(body).find((k) => !LIVE_SETUP_FIELDS.includes(camel(k)));
    if (bad) return closeWith(sess, 1007, unknownName(bad, 'setup'));
    const { setup, overridden } = effectiveSetup(body, sess.tok?.setup, sess.tok?.field_mask);
    rec.setup = setup;
    rec.setup_overridden = overridden;
    if (overridden.length) rec.warnings.push(`client setup values ignored (locked by the token): ${overridden.join(', ')}`);
    const model = setup.model;
    if (typeof model !== 'string' || !model) return closeWith(sess, 1007, `${INVALID_ARGUMENT} setup.model is required.`);
    if (!/^models\/[^/\s]+$/.test(model)) return closeWith(sess, 1007, `${INVALID_ARGUMENT} setup.model must be "models/{model}" (got ${model}).`);
    sess.model = bare(model);
    rec.model = sess.model;
    const known = state.catalog.google || [];
    const entry = known.find((x) => x.id === sess.model);
    if (known.length && (!entry || (entry.kind && entry.kind !== 'realtime'))) {
      return closeWith(sess, 1008, `models/${sess.model} is not found for API version ${rec.version}, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.`);
    }
    const gc = pick(setup, 'generationConfig') || {};
    const mods = (pick(gc, 'responseModalities') || ['AUDIO']).map((x) => String(x).toUpperCase());
    if (mods.length !== 1 || !['AUDIO', 'TEXT'].includes(mods[0])) return closeWith(sess, 1007, `${INVALID_ARGUMENT} responseModalities must be exactly one of AUDIO or TEXT (got ${mods.join(', ') || 'none'}).`);
    if (/native-audio/.test(sess.model) && mods[0] !== 'AUDIO') return closeWith(sess, 1007, `${INVALID_ARGUMENT} models/${sess.model} supports the AUDIO response modality only.`);
    const voice = pick(pick(pick(pick(gc, 'speechConfig'), 'voiceConfig'), 'prebuiltVoiceConfig'), 'voiceName');
    if (voice !== undefined && !GEMINI_VOICES.has(voice)) return closeWith(sess, 1007, `${INVALID_ARGUMENT} Unknown voice name: ${voice}.`);
    sess.modality = mods[0];
    sess.voice = voice ?? 'Puck';
    sess.inputTranscription = pick(setup, 'inputAudioTranscription') != null;
    sess.outputTranscription = pick(setup, 'outputAudioTranscription') != null;
    const aad = pick(pick(setup, 'realtimeInputConfig'), 'automaticActivityDetection') || {};
    sess.manualVad = aad.disabled === true;
    sess.silenceMs = Number(pick(aad, 'silenceDurationMs')) > 0 ? Number(pick(aad, 'silenceDurationMs')) : 500;
    sess.decls = declarations(setup);

    const rule = takeLiveRule(sess, 'setup');
    if (await ruleEnds(sess, rec, rule)) return;
    sess.setup = setup;
    send(sess, { setupComplete: {} });
  }

  /** A rule's delay, close or drop; true when the session is over. */
  async function ruleEnds(sess, rec, rule) {
    if (rule?.delay_ms) await wait(rule.delay_ms);
    if (sess.closed) return true;
    if (rule?.close) {
      closeWith(sess, rule.close.code ?? 1011, rule.close.reason ?? 'Internal error encountered.', { violation: false });
      return true;
    }
    if (rule?.drop) {
      rec.outcome = 'dropped';
      sess.closed = true;
      sess.ws.terminate();
      return true;
    }
    return false;
  }

  // ---- input -------------------------------------------------------------------------------

  const newTurn = () => ({ audio: 0, chunks: 0, hash: createHash('sha256'), texts: [], mime_types: [] });

  function addAudio(sess, blob, where) {
    const mime = pick(blob, 'mimeType');
    const data = pick(blob, 'data');
    if (typeof data !== 'string' || !B64.test(data.replace(/\s+/g, ''))) return `${INVALID_ARGUMENT} ${where}.data is not base64.`;
    if (typeof mime !== 'string' || !mime) return `${INVALID_ARGUMENT} ${where}.mimeType is required.`;
    if (/^image\/|^video\//.test(mime)) {
      sess.rec.video_frames = (sess.rec.video_frames ?? 0) + 1;
      return null;
    }
    if (!/^audio\/pcm/i.test(mime)) return `${INVALID_ARGUMENT} Unsupported MIME type: ${mime}`;
    const bytes = Buffer.from(data, 'base64');
    const t = (sess.turn ||= newTurn());
    t.audio += bytes.length;
    t.chunks++;
    t.hash.update(bytes);
    if (!t.mime_types.includes(mime)) t.mime_types.push(mime);
    const ai = sess.rec.audio_in;
    ai.bytes += bytes.length;
    ai.chunks++;
    if (!ai.mime_types.includes(mime)) ai.mime_types.push(mime);
    if (!sess.manualVad) {
      clearTimeout(sess.silenceTimer);
      sess.silenceTimer = setTimeout(() => {
        sess.queue = sess.queue.then(() => endTurn(sess, 'silence'));
      }, sess.silenceMs);
    }
    return null;
  }

  async function onRealtimeInput(sess, body) {
    const bad = Object.keys(body).find((k) => !REALTIME_FIELDS.includes(camel(k)));
    if (bad) return closeWith(sess, 1007, unknownName(bad, 'realtime_input'));
    const audio = pick(body, 'audio');
    const video = pick(body, 'video');
    const chunks = pick(body, 'mediaChunks');
    const text = pick(body, 'text');
    for (const [blob, where] of [
      [audio, 'audio'],
      [video, 'video'],
      ...(Array.isArray(chunks) ? chunks.map((c, i) => [c, `mediaChunks[${i}]`]) : []),
    ]) {
      if (blob === undefined || blob === null) continue;
      if (!isObject(blob)) return closeWith(sess, 1007, `Invalid JSON payload received. ${where} must be an object.`);
      const err = addAudio(sess, blob, where);
      if (err) return closeWith(sess, 1007, err);
    }
    if (chunks !== undefined && !Array.isArray(chunks)) return closeWith(sess, 1007, 'Invalid JSON payload received. mediaChunks must be a list.');
    if (pick(body, 'activityStart') !== undefined || pick(body, 'activityEnd') !== undefined) {
      if (!sess.manualVad) return closeWith(sess, 1007, `${INVALID_ARGUMENT} activityStart/activityEnd need realtimeInputConfig.automaticActivityDetection.disabled.`);
    }
    if (typeof text === 'string' && text) {
      (sess.turn ||= newTurn()).texts.push(text);
      if (!sess.manualVad) return endTurn(sess, 'text');
    }
    if (pick(body, 'activityEnd') !== undefined) return endTurn(sess, 'activityEnd');
    if (pick(body, 'audioStreamEnd') === true) return endTurn(sess, 'audioStreamEnd');
  }

  async function onClientContent(sess, body) {
    const bad = Object.keys(body).find((k) => !CLIENT_CONTENT_FIELDS.includes(camel(k)));
    if (bad) return closeWith(sess, 1007, unknownName(bad, 'client_content'));
    const turns = pick(body, 'turns') ?? [];
    if (!Array.isArray(turns)) return closeWith(sess, 1007, 'Invalid JSON payload received. turns must be a list.');
    const texts = [];
    for (const [i, c] of turns.entries()) {
      if (!isObject(c) || !Array.isArray(c.parts) || !c.parts.length) return closeWith(sess, 1007, `${INVALID_ARGUMENT} client_content.turns[${i}] needs parts.`);
      if (c.role !== undefined && !['user', 'model'].includes(c.role)) return closeWith(sess, 1007, 'Please use a valid role: user, model.');
      for (const p of c.parts) if (isObject(p) && typeof p.text === 'string' && (c.role ?? 'user') === 'user') texts.push(p.text);
    }
    if (texts.length) (sess.turn ||= newTurn()).texts.push(...texts);
    sess.rec.client_turns = (sess.rec.client_turns ?? 0) + turns.length;
    if (pick(body, 'turnComplete') === true) return endTurn(sess, 'turnComplete');
  }

  // ---- a turn's answer ---------------------------------------------------------------------

  async function endTurn(sess, why) {
    clearTimeout(sess.silenceTimer);
    if (sess.closed) return;
    const t = sess.turn;
    if (why !== 'turnComplete' && (!t || (!t.audio && !t.texts.length))) return; // nothing said
    sess.turn = null;
    if (sess.pending) {
      sess.rec.warnings.push(`input ended (${why}) while tool call(s) ${[...sess.pending.calls.keys()].join(', ')} await a toolResponse`);
    }
    const { rec } = sess;
    const text = t ? t.texts.join('\n') : '';
    const audio = t?.audio ?? 0;
    const turn = {
      index: rec.turns.length,
      ended_by: why,
      input: audio ? 'audio' : 'text',
      audio_bytes: audio,
      audio_chunks: t?.chunks ?? 0,
      audio_sha256: audio ? t.hash.digest('hex') : null,
      mime_types: t?.mime_types ?? [],
      text: text || null,
      transcript: null,
      rule: null,
      tool_calls: [],
      tool_responses: [],
      output_text: null,
      output_audio_bytes: 0,
      at: Date.now(),
    };
    rec.turns.push(turn);
    const rule = takeLiveRule(sess, 'turn');
    turn.rule = rule?.id ?? null;
    rec.rule = rule?.id ?? rec.rule;
    if (await ruleEnds(sess, rec, rule)) return;
    const secs = audio / 32000;
    turn.transcript = rule?.transcript ?? (audio ? [text, `Received ${audio} bytes of audio (${secs.toFixed(2)} s) sha256 ${turn.audio_sha256.slice(0, 16)}.`].filter(Boolean).join(' ') : text);
    if (audio && sess.inputTranscription) send(sess, { serverContent: { inputTranscription: { text: turn.transcript } } });
    const promptTokens = Math.ceil(secs * AUDIO_TOKENS_PER_S) + (text ? estTokens(text) : 0);

    // Tool calls: the rule's, else every declared function the input names (get_weather or "get weather").
    let calls = [];
    if (Array.isArray(rule?.tool_calls)) {
      calls = rule.tool_calls.map((tc) => {
        const raw = tc.args ?? tc.arguments ?? {};
        const decl = sess.decls.find((d) => d.name === tc.name);
        return { id: tc.id ?? null, name: tc.name, args: typeof raw === 'string' ? JSON.parse(raw) : raw, declared: Boolean(decl) };
      });
    } else if (rule?.tool_calls !== false) {
      const hay = `${turn.transcript}\n${text}`.toLowerCase();
      calls = sess.decls.filter((d) => hay.includes(d.name.toLowerCase()) || hay.includes(d.name.toLowerCase().replace(/[_.:-]+/g, ' '))).map((d) => ({ id: null, name: d.name, args: placeholderArgs(d), declared: true }));
    }
    if (calls.length) {
      for (const c of calls) {
        c.id ??= `function-call-${BigInt.asUintN(63, createHash('sha256').update(`${rec.seq}:${turn.index}:${c.name}:${Math.random()}`).digest().readBigUInt64BE()).toString()}`;
        if (!c.declared) rec.warnings.push(`scripted tool call ${c.name} is not declared in the session's tools`);
      }
      const functionCalls = calls.map((c) => ({ id: c.id, name: c.name, args: c.args }));
      turn.tool_calls = functionCalls;
      rec.tool_calls.push(...functionCalls);
      sess.pending = { turn, calls: new Map(functionCalls.map((c) => [c.id, c])), responses: [], rule, promptTokens };
      send(sess, { toolCall: { functionCalls } });
      return;
    }
    const answer = rule?.content ?? (rule?.echo ? `echo: ${turn.transcript}` : state.config.default_content ?? `Hello from google/${sess.model}.`);
    return speak(sess, turn, answer, rule, promptTokens);
  }

  async function onToolResponse(sess, body) {
    const bad = Object.keys(body).find((k) => camel(k) !== 'functionResponses');
    if (bad) return closeWith(sess, 1007, unknownName(bad, 'tool_response'));
    const list = pick(body, 'functionResponses');
    if (!Array.isArray(list) || !list.length) return closeWith(sess, 1007, `${INVALID_ARGUMENT} toolResponse.functionResponses must be a non-empty list.`);
    const { rec } = sess;
    for (const [i, r] of list.entries()) {
      if (!isObject(r)) return closeWith(sess, 1007, `Invalid JSON payload received. functionResponses[${i}] must be an object.`);
      const badf = Object.keys(r).find((k) => !FUNCTION_RESPONSE_FIELDS.includes(camel(k)));
      if (badf) return closeWith(sess, 1007, unknownName(badf, `tool_response.function_responses[${i}]`));
      if (r.response !== undefined && !isObject(r.response)) return closeWith(sess, 1007, `Invalid JSON payload received. functionResponses[${i}].response must be an object (a google.protobuf.Struct).`);
      if (typeof r.id !== 'string' || !r.id) return closeWith(sess, 1007, `${INVALID_ARGUMENT} functionResponses[${i}].id is required.`);
      const call = sess.pending?.calls.get(r.id);
      const entry = { id: r.id, name: r.name ?? null, response: r.response ?? null, matched: Boolean(call), turn: sess.pending?.turn.index ?? null, at: Date.now() };
      rec.tool_responses.push(entry);
      if (!call) return closeWith(sess, 1008, 'Requested entity was not found.');
      if (r.name !== undefined && r.name !== call.name) rec.warnings.push(`functionResponses[${i}].name ${r.name} differs from the call's ${call.name}`);
      sess.pending.turn.tool_responses.push(entry);
      sess.pending.responses.push(entry);
      sess.pending.calls.delete(r.id);
    }
    if (sess.pending && sess.pending.calls.size === 0) {
      const { turn, responses, rule, promptTokens } = sess.pending;
      sess.pending = null;
      const answer = rule?.after_tool_content ?? responses.map((r) => `${r.name ?? 'the function'} returned ${JSON.stringify(r.response)}.`).join(' ');
      return speak(sess, turn, answer, rule, promptTokens + responses.reduce((n, r) => n + estTokens(JSON.stringify(r.response)), 0));
    }
  }

  /** The model's answer: audio chunks (or text parts) with output transcription pieces, then the turn's end. */
  async function speak(sess, turn, text, rule, promptTokens) {
    const delay = rule?.chunk_delay_ms ?? 0;
    const words = String(text).split(/(?<=\s)/).filter((w) => w.length);
    let responseTokens;
    if (sess.modality === 'TEXT') {
      for (let i = 0; i < words.length; i += 3) {
        if (delay && i) await wait(delay);
        if (!send(sess, { serverContent: { modelTurn: { parts: [{ text: words.slice(i, i + 3).join('') }] } } })) return;
      }
      responseTokens = estTokens(text);
    } else {
      const tone = pcmTone(text, sess.voice, OUT_RATE);
      const n = Math.ceil(tone.pcm.length / OUT_CHUNK_BYTES);
      const per = Math.ceil(words.length / n) || 1;
      for (let i = 0; i < n; i++) {
        if (delay && i) await wait(delay);
        const data = tone.pcm.subarray(i * OUT_CHUNK_BYTES, (i + 1) * OUT_CHUNK_BYTES).toString('base64');
        if (!send(sess, { serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: `audio/pcm;rate=${OUT_RATE}`, data } }] } } })) return;
        const piece = words.slice(i * per, (i + 1) * per).join('');
        if (sess.outputTranscription && piece) send(sess, { serverContent: { outputTranscription: { text: piece } } });
      }
      turn.output_audio_bytes = tone.pcm.length;
      turn.output_audio_sha256 = createHash('sha256').update(tone.pcm).digest('hex');
      responseTokens = Math.ceil(tone.seconds * AUDIO_TOKENS_PER_S);
    }
    turn.output_text = text;
    send(sess, { serverContent: { generationComplete: true } });
    const modality = sess.modality;
    const usage = rule?.usage ?? {
      promptTokenCount: promptTokens,
      responseTokenCount: responseTokens,
      totalTokenCount: promptTokens + responseTokens,
      promptTokensDetails: [{ modality: turn.audio_bytes ? 'AUDIO' : 'TEXT', tokenCount: promptTokens }],
      responseTokensDetails: [{ modality, tokenCount: responseTokens }],
    };
    turn.usage = usage;
    send(sess, { serverContent: { turnComplete: true }, usageMetadata: usage });
    turn.completed_at = Date.now();
  }

  function closeLive() {
    if (!wss) return;
    for (const c of wss.clients) c.terminate();
    wss.close();
  }

  return { handleUpgrade, closeLive, takeLiveRule };
}
