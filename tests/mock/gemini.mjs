// The Gemini dialect of the mock (provider id google): Google's native
// Generative Language API as docs/reference/wire-gemini.md describes it.
//
//   POST /google/v1beta/models/{model}:generateContent
//   POST /google/v1beta/models/{model}:streamGenerateContent?alt=sse
//   GET  /google/v1beta/models[?pageSize=&pageToken=]     GET /google/v1beta/models/{model}
//   POST /google/v1alpha/auth_tokens                       (ephemeral Live tokens)
//
// Auth is the x-goog-api-key header. A key in the URL (?key=) works on the real
// API but is a violation here (keys end up in logs): refused in strict mode.
// Strict mode validates the GenerateContentRequest like the real API does
// (unknown fields, roles, empty parts, function call/response pairing, Schema
// keywords in functionDeclarations and responseSchema, systemInstruction on
// Gemma, thought signatures on Gemini 3) and answers Google's real 400s.
//
// Thought signatures: a thinking model's functionCall answer carries a
// thoughtSignature on the first functionCall part of the step. The mock
// remembers every signature it issued (state.signatures) and checks the ones
// sent back: each recorded request gets `sig_checks` [{content, part, name,
// signature, status}] with status ok | sentinel | unknown | mismatch |
// missing | dropped, and the answer's own signatures are in `issued`.

import { randomBytes, createHash } from 'node:crypto';

import { providerError, gErr, googleUnknownFields, missingSignatureMessage } from './providers.mjs';
import { makePng, pngSize, sizeFromAspect, pcmTone, embedVector, defaultDims, sha256, GEMINI_VOICES, GEMINI_ASPECT_RATIOS } from './media.mjs';

const SENTINELS = new Set(['context_engineering_is_the_way_to_go', 'skip_thought_signature_validator']);

// Fields of the proto messages (camelCase; the snake_case spelling is accepted too).
const REQUEST_FIELDS = ['contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'cachedContent', 'labels'];
const CONTENT_FIELDS = ['role', 'parts'];
const PART_DATA = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const PART_META = ['thought', 'thoughtSignature', 'videoMetadata', 'mediaResolution', 'partMetadata'];
const GEN_CONFIG_FIELDS = [
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount',
  'maxOutputTokens', 'temperature', 'topP', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs',
  'logprobs', 'enableEnhancedCivicAnswers', 'speechConfig', 'thinkingConfig', 'mediaResolution', 'imageConfig',
];
const TOOL_FIELDS = ['functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext', 'fileSearch', 'googleMaps', 'computerUse'];
const FUNC_DECL_FIELDS = ['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior'];
const SCHEMA_FIELDS = [
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'items', 'minItems', 'maxItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'anyOf', 'propertyOrdering',
  'default', 'example',
];
const SCHEMA_TYPES = ['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL'];
const CALLING_MODES = ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'];
const SAFETY_CATEGORIES = ['HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_CIVIC_INTEGRITY'];
const MIME_OK = /^(image\/(png|jpeg|webp|heic|heif)|audio\/[\w.+-]+|video\/[\w.+-]+|application\/pdf|text\/[\w.+-]+)$/;
const RESPONSE_MIME_OK = ['text/plain', 'application/json', 'application/xml', 'application/yaml', 'text/x.enum'];

const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
/** A message field in either spelling. */
const pick = (o, name) => (o && typeof o === 'object' ? (o[name] !== undefined ? o[name] : o[snake(name)]) : undefined);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Thinking models (2.5 and later) issue thought signatures; Gemini 3 requires them back. */
export const isThinking = (model) => /^gemini-(2\.5|3)/.test(model || '');
export const needsSignature = (model) => /^gemini-3/.test(model || '');
const isGemma = (model) => /^gemma-/.test(model || '');

/** JSON with sorted keys, to compare function-call arguments. */
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}

function alnum(n) {
  const cs = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const b = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += cs[b[i] % cs.length];
  return s;
}
const estTokens = (s) => Math.max(1, Math.ceil(String(s ?? '').length / 4));

// ---- Schema checks (functionDeclarations[].parameters, generationConfig.responseSchema) ----

/** Unknown-keyword and type errors of a Google Schema, with proto paths like the real API prints. */
function schemaProblems(schema, at, out, { root = false, paramsRoot = false } = {}) {
  if (!isObj(schema)) return;
  for (const [k, v] of Object.entries(schema)) {
    const name = camel(k);
    if (!SCHEMA_FIELDS.includes(name)) {
      out.unknown.push({ name: k, at });
      continue;
    }
    if (name === 'type') {
      if (Array.isArray(v)) out.other.push({ message: 'Invalid JSON payload received. Proto field is not repeating, cannot start list.', at: `${at}.type` });
      else if (typeof v !== 'string' || !SCHEMA_TYPES.includes(v.toUpperCase())) out.other.push({ message: `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(v)}`, at: `${at}.type` });
    } else if (name === 'properties' && isObj(v)) {
      Object.entries(v).forEach(([, sub], i) => schemaProblems(sub, `${at}.properties[${i}].value`, out));
    } else if (name === 'items') {
      schemaProblems(v, `${at}.items`, out);
    } else if (name === 'anyOf' && Array.isArray(v)) {
      v.forEach((sub, i) => schemaProblems(sub, `${at}.any_of[${i}]`, out));
    } else if (name === 'enum' && Array.isArray(v) && v.some((e) => typeof e !== 'string')) {
      out.other.push({ message: `Invalid value at '${at}.enum[${v.findIndex((e) => typeof e !== 'string')}]' (TYPE_STRING), ${JSON.stringify(v.find((e) => typeof e !== 'string'))}`, at: `${at}.enum` });
    }
  }
  const t = typeof schema.type === 'string' ? schema.type.toUpperCase() : null;
  if (paramsRoot && t === 'OBJECT' && (!isObj(schema.properties) || Object.keys(schema.properties).length === 0)) {
    out.star.push(`* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type`);
  }
  if (t === 'ARRAY' && schema.items === undefined) out.star.push(`* GenerateContentRequest.${at}.items: missing field.`);
  void root;
}

// ---- request validation ------------------------------------------------------------------

/**
 * Validates a GenerateContentRequest like the real API. Returns null when it
 * is acceptable, else {error: {status, headers, body}, why}. Also fills
 * rec.sig_checks / rec.warnings / rec.inline_data as a side effect.
 */
export function validateGemini(model, body, rec, signatures, { strict = true } = {}) {
  const fail = (e, why) => ({ error: e, why });
  const bad = (msg, why) => fail(gErr(400, 'INVALID_ARGUMENT', msg), why || msg);
  if (!isObj(body)) return bad('Invalid JSON payload received. Expected an object.', 'body is not a JSON object');

  // unknown top-level fields (e.g. an OpenAI body sent as is)
  const unknownTop = Object.keys(body).filter((k) => !REQUEST_FIELDS.includes(camel(k)));
  if (unknownTop.length) return fail(googleUnknownFields(unknownTop.map((name) => ({ name }))), `unknown request field(s): ${unknownTop.join(', ')}`);

  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return bad('* GenerateContentRequest.contents: contents is not specified\n', 'contents is not specified');

  const unknown = [];
  const star = [];
  rec.inline_data = [];
  const partsOf = [];
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (!isObj(c)) return bad(`Invalid value at 'contents[${i}]' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(c)}`, `contents[${i}] is not an object`);
    for (const k of Object.keys(c)) if (!CONTENT_FIELDS.includes(camel(k))) unknown.push({ name: k, at: `contents[${i}]` });
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') return bad('Please use a valid role: user, model.', `contents[${i}].role "${c.role}"`);
    if (c.role === undefined && contents.length > 1) (rec.warnings ||= []).push(`contents[${i}] has no role in a multi-turn request`);
    if (!Array.isArray(c.parts) || c.parts.length === 0) return bad(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`, `contents[${i}].parts empty`);
    partsOf.push(c.parts);
    for (let j = 0; j < c.parts.length; j++) {
      const p = c.parts[j];
      const at = `contents[${i}].parts[${j}]`;
      if (!isObj(p)) return bad(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), ${JSON.stringify(p)}`, `${at} is not an object`);
      const data = [];
      for (const k of Object.keys(p)) {
        const n = camel(k);
        if (PART_DATA.includes(n)) data.push(n);
        else if (!PART_META.includes(n)) unknown.push({ name: k, at });
      }
      if (data.length > 1) return bad(`Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${data[1]}'`, `${at} has ${data.join(' and ')}`);
      if (data.length === 0) return bad(`* GenerateContentRequest.${at}.data: required oneof field 'data' must have one initialized field\n`, `${at} has no data field`);
      const text = pick(p, 'text');
      if (text !== undefined && typeof text !== 'string') return bad(`Invalid value at '${at}.text' (TYPE_STRING), ${JSON.stringify(text)}`, `${at}.text is not a string`);
      const sig = pick(p, 'thoughtSignature');
      if (sig !== undefined && (typeof sig !== 'string' || !/^[A-Za-z0-9+/_=-]*$/.test(sig))) {
        return bad(`Invalid value at '${at}.thought_signature' (TYPE_BYTES), Base64 decoding failed for ${JSON.stringify(String(sig)).slice(0, 80)}`, `${at}.thoughtSignature is not base64`);
      }
      const inl = pick(p, 'inlineData');
      if (inl !== undefined) {
        if (!isObj(inl)) return bad(`Invalid value at '${at}.inline_data'`, `${at}.inlineData is not an object`);
        for (const k of Object.keys(inl)) if (!['mimeType', 'data'].includes(camel(k))) unknown.push({ name: k, at: `${at}.inline_data` });
        const mime = pick(inl, 'mimeType');
        const b64 = pick(inl, 'data');
        if (typeof mime !== 'string' || !mime) return bad(`* GenerateContentRequest.${at}.inline_data.mime_type: mime_type is not specified\n`, `${at}.inlineData without mimeType`);
        if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) {
          return bad(`Invalid value at '${at}.inline_data.data' (TYPE_BYTES), Base64 decoding failed for "${String(b64).slice(0, 60)}"`, `${at}.inlineData.data is not base64`);
        }
        const bytes = Buffer.from(b64, 'base64');
        rec.inline_data.push({ content: i, part: j, mimeType: mime, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
        if (!MIME_OK.test(mime)) return bad(`Unsupported MIME type: ${mime}`, `${at}.inlineData mimeType ${mime}`);
      }
      const fc = pick(p, 'functionCall');
      if (fc !== undefined) {
        if (!isObj(fc)) return bad(`Invalid value at '${at}.function_call'`, `${at}.functionCall is not an object`);
        for (const k of Object.keys(fc)) if (!['id', 'name', 'args', 'partialArgs', 'willContinue'].includes(camel(k))) unknown.push({ name: k, at: `${at}.function_call` });
        if (typeof fc.name !== 'string' || !fc.name) return bad(`* GenerateContentRequest.${at}.function_call.name: Name cannot be empty.\n`, `${at}.functionCall without name`);
        if (fc.args !== undefined && !isObj(fc.args)) return bad(`Invalid value at '${at}.function_call.args' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(fc.args).slice(0, 80)}`, `${at}.functionCall.args is not an object`);
        if (c.role !== 'model') return bad('Please ensure that function call turn comes immediately after a user turn or after a function response turn.', `${at}: functionCall in a ${c.role ?? 'role-less'} content`);
      }
      const fr = pick(p, 'functionResponse');
      if (fr !== undefined) {
        if (!isObj(fr)) return bad(`Invalid value at '${at}.function_response'`, `${at}.functionResponse is not an object`);
        for (const k of Object.keys(fr)) if (!['id', 'name', 'response', 'parts', 'willContinue', 'scheduling'].includes(camel(k))) unknown.push({ name: k, at: `${at}.function_response` });
        if (typeof fr.name !== 'string' || !fr.name) return bad(`* GenerateContentRequest.${at}.function_response.name: Name cannot be empty.\n`, `${at}.functionResponse without name`);
        if (!isObj(fr.response)) return bad(`Invalid value at '${at}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(fr.response ?? null).slice(0, 80)}`, `${at}.functionResponse.response is not an object`);
        if (c.role === 'model') return bad('Please ensure that function response turn comes immediately after a function call turn.', `${at}: functionResponse in a model content`);
      }
    }
  }

  // system instruction
  const si = pick(body, 'systemInstruction');
  if (si !== undefined) {
    if (!isObj(si) || !Array.isArray(si.parts) || si.parts.length === 0) return bad('* GenerateContentRequest.system_instruction.parts: contents.parts must not be empty.\n', 'systemInstruction without parts');
    for (const k of Object.keys(si)) if (!CONTENT_FIELDS.includes(camel(k))) unknown.push({ name: k, at: 'system_instruction' });
    si.parts.forEach((p, j) => {
      if (!isObj(p)) return;
      for (const k of Object.keys(p)) if (!PART_DATA.includes(camel(k)) && !PART_META.includes(camel(k))) unknown.push({ name: k, at: `system_instruction.parts[${j}]` });
    });
    if (si.parts.some((p) => !isObj(p) || typeof pick(p, 'text') !== 'string')) return bad('* GenerateContentRequest.system_instruction: only text parts are supported\n', 'systemInstruction with a non-text part');
    if (isGemma(model)) return bad(`Developer instruction is not enabled for models/${model}`, `systemInstruction on ${model}`);
  }

  // generation config
  const gc = pick(body, 'generationConfig');
  const schemaOut = { unknown: [], other: [], star: [] };
  if (gc !== undefined) {
    if (!isObj(gc)) return bad("Invalid value at 'generation_config'", 'generationConfig is not an object');
    for (const k of Object.keys(gc)) if (!GEN_CONFIG_FIELDS.includes(camel(k))) unknown.push({ name: k, at: 'generation_config' });
    const mime = pick(gc, 'responseMimeType');
    if (mime !== undefined && !RESPONSE_MIME_OK.includes(mime)) {
      return bad('* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.\n', `responseMimeType ${mime}`);
    }
    const rs = pick(gc, 'responseSchema');
    const rjs = pick(gc, 'responseJsonSchema');
    if (rs !== undefined && rjs !== undefined) return bad('* GenerateContentRequest.generation_config: response_schema and response_json_schema cannot both be set.\n', 'responseSchema and responseJsonSchema');
    if ((rs !== undefined || rjs !== undefined) && mime !== 'application/json' && mime !== 'text/x.enum') {
      return bad('* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be set to `application/json` when response_schema is set.\n', 'responseSchema without responseMimeType application/json');
    }
    if (rs !== undefined) schemaProblems(rs, 'generation_config.response_schema', schemaOut, { root: true });
    const tc = pick(gc, 'thinkingConfig');
    if (isObj(tc) && pick(tc, 'thinkingBudget') !== undefined && pick(tc, 'thinkingLevel') !== undefined) {
      return bad('You can only set only one of thinking budget and thinking level.', 'thinkingBudget and thinkingLevel both set');
    }
    const n = pick(gc, 'candidateCount');
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 8)) return bad('* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8.\n', `candidateCount ${n}`);
    const stops = pick(gc, 'stopSequences');
    if (stops !== undefined && (!Array.isArray(stops) || stops.length > 5)) return bad('* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed.\n', 'stopSequences');
  }

  // tools
  const tools = pick(body, 'tools');
  let declCount = 0;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return bad("Invalid value at 'tools'", 'tools is not an array');
    tools.forEach((t, i) => {
      if (!isObj(t)) return;
      for (const k of Object.keys(t)) if (!TOOL_FIELDS.includes(camel(k))) unknown.push({ name: k, at: `tools[${i}]` });
      const decls = pick(t, 'functionDeclarations');
      if (Array.isArray(decls)) {
        decls.forEach((d, j) => {
          declCount++;
          const at = `tools[${i}].function_declarations[${j}]`;
          if (!isObj(d)) return;
          for (const k of Object.keys(d)) if (!FUNC_DECL_FIELDS.includes(camel(k))) unknown.push({ name: k, at });
          if (typeof d.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(d.name)) {
            star.push(`* GenerateContentRequest.${at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128.`);
          }
          const params = pick(d, 'parameters');
          if (params !== undefined && pick(d, 'parametersJsonSchema') !== undefined) star.push(`* GenerateContentRequest.${at}: parameters and parameters_json_schema cannot both be set.`);
          if (params !== undefined) schemaProblems(params, `${at}.parameters`, schemaOut, { root: true, paramsRoot: true });
        });
      }
    });
  }
  const toolCfg = pick(body, 'toolConfig');
  if (toolCfg !== undefined) {
    const fcc = pick(toolCfg, 'functionCallingConfig');
    if (isObj(fcc)) {
      const mode = fcc.mode;
      if (mode !== undefined && !CALLING_MODES.includes(mode)) return bad(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "${mode}"`, `toolConfig mode ${mode}`);
      const allowed = pick(fcc, 'allowedFunctionNames');
      if (allowed !== undefined && mode !== 'ANY' && mode !== 'VALIDATED') return bad('* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names can only be set when mode is ANY.\n', 'allowedFunctionNames without mode ANY');
      if (declCount === 0) return bad('* GenerateContentRequest.tool_config.function_calling_config: function_calling_config is only supported when function declarations are provided.\n', 'functionCallingConfig without functionDeclarations');
    }
  }
  const safety = pick(body, 'safetySettings');
  if (Array.isArray(safety)) {
    const seen = new Set();
    for (const s of safety) {
      if (!SAFETY_CATEGORIES.includes(s?.category)) return bad(`* GenerateContentRequest.safety_settings[${safety.indexOf(s)}].category: Invalid category for this model.\n`, `safety category ${s?.category}`);
      if (seen.has(s.category)) return bad('* GenerateContentRequest.safety_settings: Duplicate harm category found.\n', 'duplicate safety category');
      seen.add(s.category);
    }
  }

  const allUnknown = [...unknown, ...schemaOut.unknown];
  if (allUnknown.length) return fail(googleUnknownFields(allUnknown), `unknown field(s): ${allUnknown.map((u) => `${u.name} at ${u.at}`).join('; ')}`);
  if (schemaOut.other.length) return bad(schemaOut.other.map((o) => o.message).join('\n'), `schema: ${schemaOut.other.map((o) => o.at).join(', ')}`);
  const allStar = [...star, ...schemaOut.star];
  if (allStar.length) return bad(allStar.join('\n') + '\n', allStar[0]);

  const mimeOut = gc && pick(gc, 'responseMimeType');
  if (mimeOut === 'application/json' && declCount > 0 && !/^gemini-3/.test(model)) {
    return bad("Function calling with a response mime type: 'application/json' is unsupported", 'JSON mode together with function declarations');
  }

  // function call / response pairing across turns
  for (let i = 0; i < contents.length; i++) {
    const parts = partsOf[i];
    const calls = parts.filter((p) => pick(p, 'functionCall') !== undefined).length;
    const resps = parts.filter((p) => pick(p, 'functionResponse') !== undefined).length;
    if (calls && i > 0 && contents[i - 1].role === 'model') {
      return bad('Please ensure that function call turn comes immediately after a user turn or after a function response turn.', `contents[${i}]: function call turn after a model turn`);
    }
    if (resps) {
      const prev = i > 0 ? partsOf[i - 1] : null;
      const prevCalls = prev && contents[i - 1].role === 'model' ? prev.filter((p) => pick(p, 'functionCall') !== undefined).length : 0;
      if (!prevCalls) return bad('Please ensure that function response turn comes immediately after a function call turn.', `contents[${i}]: function response turn without a function call turn before it`);
      if (prevCalls !== resps) return bad('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.', `contents[${i}]: ${resps} function response part(s) for ${prevCalls} call(s)`);
    }
  }

  // thought signatures
  const sigErr = checkSignatures(model, contents, rec, signatures);
  if (sigErr && strict) return sigErr;
  return null;
}

/** Index of the first content of the current turn: after the last user content with non-functionResponse parts. */
function currentTurnStart(contents) {
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if (c.role === 'model') continue;
    if ((c.parts || []).some((p) => isObj(p) && pick(p, 'functionResponse') === undefined)) return i;
  }
  return 0;
}

function checkSignatures(model, contents, rec, signatures) {
  rec.sig_checks = [];
  const turn = currentTurnStart(contents);
  let failure = null;
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    if (c.role !== 'model') continue;
    let firstCall = true;
    c.parts.forEach((p, j) => {
      const fc = pick(p, 'functionCall');
      const sig = pick(p, 'thoughtSignature');
      if (fc === undefined) {
        if (sig !== undefined && !SENTINELS.has(sig) && !signatures.has(sig)) {
          rec.sig_checks.push({ content: i, part: j, name: null, signature: sig, status: 'unknown' });
          failure ||= { error: gErr(400, 'INVALID_ARGUMENT', 'Corrupted thought signature.'), why: `contents[${i}].parts[${j}]: thoughtSignature the mock never issued` };
        }
        return;
      }
      const args = canonical(fc.args ?? {});
      const check = { content: i, part: j, name: fc.name, signature: sig ?? null, status: null };
      if (sig !== undefined) {
        if (SENTINELS.has(sig)) check.status = 'sentinel';
        else if (!signatures.has(sig)) check.status = 'unknown';
        else {
          const issued = signatures.get(sig);
          check.status = issued.calls.some((k) => k.name === fc.name && k.args === args) ? 'ok' : 'mismatch';
          check.issued_for = issued.calls[0];
        }
        if (check.status === 'unknown' || check.status === 'mismatch') {
          failure ||= { error: gErr(400, 'INVALID_ARGUMENT', 'Corrupted thought signature.'), why: `contents[${i}].parts[${j}]: thoughtSignature ${check.status === 'unknown' ? 'the mock never issued' : `issued for another call (${check.issued_for.name} ${check.issued_for.args})`}` };
        }
      } else {
        // Was a signature issued for this very call (first call of its step)?
        let dropped = null;
        for (const [s, v] of signatures) {
          if (v.calls[0] && v.calls[0].name === fc.name && v.calls[0].args === args) dropped = s;
        }
        if (firstCall && needsSignature(model) && i >= turn) {
          check.status = 'missing';
          failure ||= { error: gErr(400, 'INVALID_ARGUMENT', missingSignatureMessage(fc.name, i + 1)), why: `contents[${i}].parts[${j}]: functionCall ${fc.name} replayed without its thoughtSignature` };
        } else if (dropped && firstCall) {
          check.status = 'dropped';
          check.expected = dropped;
          (rec.warnings ||= []).push(`contents[${i}].parts[${j}]: the thoughtSignature issued for ${fc.name} was not sent back`);
        } else {
          check.status = 'absent';
        }
      }
      firstCall = false;
      rec.sig_checks.push(check);
    });
  }
  return failure;
}

// ---- answers -------------------------------------------------------------------------------

/** A JSON value matching a (Google Schema or JSON Schema) schema. */
export function sampleFromSchema(schema, root = schema, depth = 0) {
  if (!isObj(schema) || depth > 8) return 'mock';
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    const target = schema.$ref.slice(2).split('/').reduce((o, k) => (o ? o[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
    return sampleFromSchema(target, root, depth + 1);
  }
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const alt = schema.anyOf || schema.any_of || schema.oneOf;
  if (Array.isArray(alt) && alt.length) return sampleFromSchema(alt.find((a) => a?.type !== 'null') || alt[0], root, depth + 1);
  let t = schema.type;
  if (Array.isArray(t)) t = t.find((x) => x !== 'null') || 'null';
  t = String(t || (schema.properties ? 'object' : schema.items ? 'array' : 'string')).toLowerCase();
  switch (t) {
    case 'object': {
      const o = {};
      for (const [k, v] of Object.entries(schema.properties || {})) o[k] = sampleFromSchema(v, root, depth + 1);
      return o;
    }
    case 'array': {
      const n = Math.max(1, schema.minItems ?? schema.min_items ?? 1);
      return Array.from({ length: Math.min(n, 3) }, () => sampleFromSchema(schema.items || {}, root, depth + 1));
    }
    case 'integer':
      return schema.minimum !== undefined ? Math.ceil(Number(schema.minimum)) : 42;
    case 'number':
      return schema.minimum !== undefined ? Number(schema.minimum) + 0.5 : 3.5;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema.format === 'date-time' ? '2026-01-01T00:00:00Z' : 'mock';
  }
}

function lastUserText(contents) {
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if (c?.role === 'model') continue;
    const texts = (c?.parts || []).map((p) => pick(p, 'text')).filter((t) => typeof t === 'string');
    if (texts.length) return texts.join(' ');
  }
  return '';
}

function imageCount(contents) {
  let n = 0;
  for (const c of contents || []) for (const p of c?.parts || []) if (/^image\//.test(pick(pick(p, 'inlineData'), 'mimeType') || '')) n++;
  return n;
}

/**
 * The answer for a request: {parts, finishReason, usage, modelVersion, responseId, issued, blockReason}.
 * Rule fields: content, echo, json, chunks, tool_calls [{name, arguments, id?}], reasoning,
 * thought_signature (string | false), signature_on_all_calls, signature_part ('separate': on an
 * empty text part after the calls), text_signature (bool),
 * finish_reason (Gemini's enum), usage (usageMetadata), model_echo, block_reason.
 */
export function buildGeminiAnswer(model, body, rule, state) {
  const contents = body.contents || [];
  const gc = pick(body, 'generationConfig') || {};
  const thinking = isThinking(model);
  const parts = [];
  const trailing = []; // parts after the calls (signature_part: 'separate')
  const issued = [];
  const mime = pick(gc, 'responseMimeType');
  let text = rule?.content;
  if (text === undefined && rule?.json !== undefined) text = JSON.stringify(rule.json);
  if (text === undefined && rule?.echo) text = `echo: ${lastUserText(contents)}`;
  if (text === undefined && rule?.tool_calls) text = null;
  // A candidate stopped for safety/recitation usually has no content at all.
  const filtered = /^(SAFETY|RECITATION|BLOCKLIST|PROHIBITED_CONTENT|SPII|IMAGE_SAFETY)$/.test(rule?.finish_reason || '');
  if (text === undefined && filtered) text = null;
  if (text === undefined && mime === 'application/json') {
    const schema = pick(gc, 'responseSchema') ?? pick(gc, 'responseJsonSchema');
    text = JSON.stringify(schema ? sampleFromSchema(schema) : { answer: `Hello from google/${model}.` });
  }
  if (text === undefined) text = state.config.default_content ?? null;
  if (text === undefined || text === null) {
    if (!rule?.tool_calls && !filtered) {
      const imgs = imageCount(contents);
      text = `Hello from google/${model}.${imgs ? ` I see ${imgs} image${imgs > 1 ? 's' : ''}.` : ''}`;
    }
  }
  // finish_reason: null sends no finishReason at all (a stream that just ends).
  let finishReason = rule && 'finish_reason' in rule ? rule.finish_reason : 'STOP';
  const maxOut = pick(gc, 'maxOutputTokens');
  if (typeof text === 'string' && Number.isInteger(maxOut) && maxOut > 0 && estTokens(text) > maxOut && rule?.content === undefined) {
    text = text.slice(0, maxOut * 4);
    if (!rule?.finish_reason) finishReason = 'MAX_TOKENS';
  }
  if (rule?.reasoning) parts.push({ text: rule.reasoning, thought: true });
  if (typeof text === 'string' && text.length) parts.push({ text });
  const sigWanted = rule?.thought_signature !== false && (thinking || typeof rule?.thought_signature === 'string');
  if (rule?.tool_calls) {
    const calls = rule.tool_calls.map((tc) => {
      const rawArgs = tc.arguments ?? tc.args ?? tc.function?.arguments ?? {};
      const args = typeof rawArgs === 'string' ? JSON.parse(rawArgs) : rawArgs;
      const functionCall = { name: tc.name ?? tc.function?.name, args };
      if (tc.id) functionCall.id = tc.id;
      return { functionCall };
    });
    if (sigWanted && calls.length) {
      const sig = typeof rule.thought_signature === 'string' ? rule.thought_signature : randomBytes(48).toString('base64');
      if (rule.signature_part === 'separate') {
        // Gemini 3 style: the signature rides on an empty text part next to the calls (same chunk when streaming).
        trailing.push({ text: '', thoughtSignature: sig });
      } else {
        const targets = rule.signature_on_all_calls ? calls : [calls[0]];
        for (const c of targets) c.thoughtSignature = sig;
      }
      const step = calls.map((c) => ({ name: c.functionCall.name, args: canonical(c.functionCall.args) }));
      state.signatures.set(sig, { model, calls: step, at: Date.now() });
      issued.push({ kind: 'functionCall', signature: sig, calls: step });
    }
    parts.push(...calls);
  }
  // Gemini 3 puts a signature on the last text part of a plain answer too.
  const textSig = rule?.text_signature ?? (needsSignature(model) && !rule?.tool_calls && rule?.thought_signature !== false);
  if (textSig && parts.length && parts.at(-1).text !== undefined && !parts.at(-1).thought) {
    const sig = randomBytes(32).toString('base64');
    parts.at(-1).thoughtSignature = sig;
    state.signatures.set(sig, { model, calls: [], at: Date.now() });
    issued.push({ kind: 'text', signature: sig, calls: [] });
  }
  const promptText = JSON.stringify([pick(body, 'systemInstruction') ?? null, contents]);
  const outText = parts.filter((p) => !p.thought).map((p) => p.text ?? JSON.stringify(p.functionCall)).join('');
  const prompt = estTokens(promptText);
  const cand = outText ? estTokens(outText) : 0;
  const thoughts = thinking ? (rule?.reasoning ? estTokens(rule.reasoning) : 6) : 0;
  const usage = rule?.usage ?? {
    promptTokenCount: prompt,
    candidatesTokenCount: cand,
    totalTokenCount: prompt + cand + thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
  };
  const count = Number.isInteger(pick(gc, 'candidateCount')) ? pick(gc, 'candidateCount') : 1;
  return { parts, trailing, finishReason, usage, modelVersion: rule?.model_echo ?? model, responseId: alnum(22), issued, blockReason: rule?.block_reason ?? null, chunks: rule?.chunks, count };
}

// candidateCount > 1: candidate i says the same with " [i]" after its text (a real model's
// candidates differ; these differ visibly).
function candidateList(a) {
  const one = (parts, i) => ({ ...(parts.length ? { content: { parts, role: 'model' } } : {}), ...(a.finishReason ? { finishReason: a.finishReason } : {}), index: i });
  const all = [...a.parts, ...(a.trailing || [])];
  return Array.from({ length: a.count || 1 }, (_, i) => one(i === 0 ? all : all.map((p) => (typeof p.text === 'string' && !p.thought ? { ...p, text: `${p.text} [${i}]` } : p)), i));
}

export function responseObject(a) {
  if (a.blockReason) return { promptFeedback: { blockReason: a.blockReason }, usageMetadata: { promptTokenCount: a.usage.promptTokenCount, totalTokenCount: a.usage.promptTokenCount }, modelVersion: a.modelVersion, responseId: a.responseId };
  return {
    candidates: candidateList(a),
    usageMetadata: a.usage,
    modelVersion: a.modelVersion,
    responseId: a.responseId,
  };
}

/** The stream's GenerateContentResponse chunks: thoughts, text pieces, all calls in one chunk, finishReason on the last. */
export function streamChunks(a) {
  if (a.blockReason) return [responseObject(a)];
  const pieces = [];
  for (const p of a.parts) {
    if (p.thought) {
      for (const w of p.text.match(/\S+\s*/g) || [p.text]) pieces.push([{ text: w, thought: true }]);
    } else if (p.inlineData) {
      pieces.push([p]); // image / audio data: one chunk of its own
    } else if (p.text !== undefined) {
      const words = a.chunks || p.text.match(/\S+\s*/g) || [p.text];
      words.forEach((w, i) => pieces.push([{ text: w, ...(i === words.length - 1 && p.thoughtSignature ? { thoughtSignature: p.thoughtSignature } : {}) }]));
    }
  }
  const calls = a.parts.filter((p) => p.functionCall);
  if (calls.length) pieces.push([...calls, ...(a.trailing || [])]);
  if (!pieces.length) pieces.push([]);
  const u = a.usage;
  const total = pieces.length;
  return pieces.map((parts, i) => {
    const last = i === total - 1;
    const frac = (i + 1) / total;
    const cand = last ? u.candidatesTokenCount : Math.floor((u.candidatesTokenCount || 0) * frac);
    const usage = last
      ? u
      : { promptTokenCount: u.promptTokenCount, ...(cand ? { candidatesTokenCount: cand } : {}), totalTokenCount: (u.promptTokenCount || 0) + cand + (u.thoughtsTokenCount || 0), ...(u.thoughtsTokenCount ? { thoughtsTokenCount: u.thoughtsTokenCount } : {}) };
    return {
      candidates: [{ ...(parts.length ? { content: { parts, role: 'model' } } : {}), ...(last && a.finishReason ? { finishReason: a.finishReason } : {}), index: 0 }],
      usageMetadata: usage,
      modelVersion: a.modelVersion,
      responseId: a.responseId,
    };
  });
}

/** GET models: Google's Model objects for the catalog's google models. */
export function modelObjects(catalogModels) {
  const list = catalogModels.length ? catalogModels : [{ id: 'gemini-2.5-flash', kind: 'chat', name: 'Gemini 2.5 Flash' }];
  return list.map((m) => {
    const methods = {
      chat: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
      embedding: ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'],
      realtime: ['bidiGenerateContent', 'countTokens'],
      tts: ['generateContent', 'countTokens'],
      image: ['generateContent', 'countTokens', 'batchGenerateContent'],
    }[m.kind || 'chat'] || ['generateContent'];
    const o = {
      name: `models/${m.id}`,
      version: '001',
      displayName: m.name || m.id,
      description: `${m.name || m.id} (mock)`,
      inputTokenLimit: m.context_window || (m.kind === 'embedding' ? 2048 : 1048576),
      outputTokenLimit: m.max_output_tokens || (m.kind === 'embedding' ? 1 : 65536),
      supportedGenerationMethods: methods,
    };
    if (m.kind === 'chat' || !m.kind) Object.assign(o, { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2 });
    if (isThinking(m.id) && (m.kind === 'chat' || !m.kind)) o.thinking = true;
    return o;
  });
}

// ---- media: image and TTS models on generateContent, embeddings, auth tokens ------------------

/** Model kinds by id, as the catalog names them. */
export const isImageModel = (m) => /image(?!n)/i.test(m || ''); // not Imagen (a :predict model)
export const isTtsModel = (m) => /tts/i.test(m || '');
export const isEmbeddingModel = (m) => /embedding/i.test(m || '');

const GENERIC_400 = 'Request contains an invalid argument.';
const modalitiesOf = (gc) => {
  const m = pick(gc, 'responseModalities');
  return Array.isArray(m) ? m.map((x) => String(x).toUpperCase()) : [];
};
const modalityError = (mods, model, accepts) =>
  `The requested combination of response modalities (${mods.length ? mods.join(', ') : 'TEXT'}) is not supported by the model. models/${model} accepts the following combination of response modalities:\n${accepts.map((a) => `* ${a}\n`).join('')}`;

/** The voice names a TTS request asks for ([] when none), from voiceConfig or multiSpeakerVoiceConfig. */
function voicesOf(sc) {
  const one = (vc) => pick(pick(vc, 'prebuiltVoiceConfig'), 'voiceName');
  const multi = pick(sc, 'multiSpeakerVoiceConfig');
  if (isObj(multi)) return (pick(multi, 'speakerVoiceConfigs') || []).map((s) => one(pick(s, 'voiceConfig')));
  const v = one(pick(sc, 'voiceConfig'));
  return v === undefined ? [] : [v];
}

/**
 * Checks of generateContent on image and TTS models beyond the common request
 * validation: TTS needs responseModalities ["AUDIO"] and one of the 30 prebuilt
 * voices (case-sensitive); image models refuse AUDIO, and the 2.0 preview image
 * model refuses IMAGE alone. Returns null or {error, why}.
 */
export function checkGeminiMedia(kind, model, body) {
  const gc = pick(body, 'generationConfig') || {};
  const mods = modalitiesOf(gc);
  const bad = (msg, why) => ({ error: gErr(400, 'INVALID_ARGUMENT', msg), why });
  if (kind === 'speech') {
    if (mods.length !== 1 || mods[0] !== 'AUDIO') return bad(modalityError(mods, model, ['AUDIO']), `TTS model without responseModalities ["AUDIO"] (got ${JSON.stringify(pick(gc, 'responseModalities') ?? null)})`);
    const sc = pick(gc, 'speechConfig');
    if (sc !== undefined && !isObj(sc)) return bad("Invalid value at 'generation_config.speech_config'", 'speechConfig is not an object');
    const unknown = [];
    if (isObj(sc)) {
      for (const k of Object.keys(sc)) if (!['voiceConfig', 'multiSpeakerVoiceConfig', 'languageCode'].includes(camel(k))) unknown.push({ name: k, at: 'generation_config.speech_config' });
      const vc = pick(sc, 'voiceConfig');
      if (isObj(vc)) {
        for (const k of Object.keys(vc)) if (!['prebuiltVoiceConfig'].includes(camel(k))) unknown.push({ name: k, at: 'generation_config.speech_config.voice_config' });
        const pv = pick(vc, 'prebuiltVoiceConfig');
        if (isObj(pv)) for (const k of Object.keys(pv)) if (camel(k) !== 'voiceName') unknown.push({ name: k, at: 'generation_config.speech_config.voice_config.prebuilt_voice_config' });
      }
    }
    if (unknown.length) return { error: googleUnknownFields(unknown), why: `unknown speechConfig field(s): ${unknown.map((u) => `${u.name} at ${u.at}`).join('; ')}` };
    if (isObj(sc) && pick(sc, 'voiceConfig') !== undefined && pick(sc, 'multiSpeakerVoiceConfig') !== undefined) return bad(GENERIC_400, 'speechConfig has both voiceConfig and multiSpeakerVoiceConfig');
    const voices = voicesOf(sc);
    if (!voices.length) return bad(GENERIC_400, 'TTS request without speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName');
    for (const v of voices) {
      if (!GEMINI_VOICES.has(v)) {
        const near = [...GEMINI_VOICES].find((x) => x.toLowerCase() === String(v).toLowerCase());
        return bad(GENERIC_400, `unknown TTS voice ${JSON.stringify(v)}${near ? ` (voice names are case-sensitive: ${near})` : ' (not one of the 30 prebuilt voices)'}`);
      }
    }
    const texts = (body.contents || []).flatMap((c) => (c?.parts || []).map((p) => pick(p, 'text')).filter((t) => typeof t === 'string'));
    if (!texts.join('').trim()) return bad(GENERIC_400, 'TTS request without text');
    return null;
  }
  if (kind === 'image') {
    if (mods.includes('AUDIO')) return bad(modalityError(mods, model, ['TEXT', 'IMAGE']), 'AUDIO modality requested from an image model');
    if (/^gemini-2\.0-flash-preview-image-generation/.test(model) && mods.length === 1 && mods[0] === 'IMAGE') return bad('Model does not support the requested response modalities: image', 'gemini-2.0 image generation needs ["TEXT","IMAGE"]');
    const ar = pick(pick(gc, 'imageConfig'), 'aspectRatio');
    if (ar !== undefined && !GEMINI_ASPECT_RATIOS.includes(ar)) return bad(GENERIC_400, `unsupported imageConfig.aspectRatio ${JSON.stringify(ar)} (one of ${GEMINI_ASPECT_RATIOS.join(', ')})`);
  }
  return null;
}

const FILTERED = /^(SAFETY|RECITATION|BLOCKLIST|PROHIBITED_CONTENT|SPII|IMAGE_SAFETY|IMAGE_PROHIBITED_CONTENT|IMAGE_RECITATION|IMAGE_OTHER|NO_IMAGE|OTHER)$/;

/**
 * The answer of an image or TTS model (same object shape as buildGeminiAnswer).
 * Image: a text part and an inlineData PNG (size from imageConfig.aspectRatio,
 * colours from the prompt and the input images), or text only when
 * responseModalities has no IMAGE. TTS: one inlineData part of raw PCM
 * (audio/L16;codec=pcm;rate=24000). Fills rec.prompt / rec.text / rec.voice / rec.outputs.
 * Rule fields: content (the text part), finish_reason (anything but STOP drops the media part).
 */
export function buildGeminiMediaAnswer(kind, model, body, rule, state, rec) {
  const contents = body.contents || [];
  const gc = pick(body, 'generationConfig') || {};
  const finishReason = rule && 'finish_reason' in rule ? rule.finish_reason : 'STOP';
  const withhold = FILTERED.test(finishReason || '');
  const base = { trailing: [], finishReason, modelVersion: rule?.model_echo ?? model, responseId: alnum(22), issued: [], blockReason: rule?.block_reason ?? null };
  rec.outputs = [];
  if (kind === 'image') {
    const prompt = lastUserText(contents);
    rec.prompt = prompt;
    if (!modalitiesOf(gc).includes('IMAGE')) return buildGeminiAnswer(model, body, rule, state);
    const ar = pick(pick(gc, 'imageConfig'), 'aspectRatio');
    const { width, height } = sizeFromAspect(ar);
    const inputs = (rec.inline_data || []).filter((d) => /^image\//.test(d.mimeType));
    const png = makePng(width, height, `${model}\u0000${prompt}\u0000${inputs.map((d) => d.sha256).join(',')}\u0000${ar ?? ''}`);
    const parts = [];
    const text = rule?.content ?? (withhold ? null : `Here is the image: ${prompt}${inputs.length ? ` (edited from ${inputs.length} input image${inputs.length > 1 ? 's' : ''})` : ''}`);
    if (typeof text === 'string' && text) parts.push({ text });
    if (!withhold) {
      parts.push({ inlineData: { mimeType: 'image/png', data: png.toString('base64') } });
      rec.outputs.push({ mimeType: 'image/png', ...pngSize(png), bytes: png.length, sha256: sha256(png) });
    }
    const promptTokens = estTokens(prompt) + 258 * inputs.length;
    const textTokens = text ? estTokens(text) : 0;
    const imageTokens = withhold ? 0 : 1290;
    return {
      ...base,
      parts,
      usage: rule?.usage ?? {
        promptTokenCount: promptTokens,
        candidatesTokenCount: textTokens + imageTokens,
        totalTokenCount: promptTokens + textTokens + imageTokens,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: estTokens(prompt) }, ...(inputs.length ? [{ modality: 'IMAGE', tokenCount: 258 * inputs.length }] : [])],
        candidatesTokensDetails: [...(textTokens ? [{ modality: 'TEXT', tokenCount: textTokens }] : []), ...(imageTokens ? [{ modality: 'IMAGE', tokenCount: imageTokens }] : [])],
      },
    };
  }
  // speech
  const text = contents.flatMap((c) => (c?.parts || []).map((p) => pick(p, 'text')).filter((t) => typeof t === 'string')).join(' ');
  const voice = voicesOf(pick(gc, 'speechConfig'))[0] ?? 'Kore';
  rec.text = text;
  rec.voice = voice;
  const tone = pcmTone(rule?.content ?? text, voice);
  const mimeType = 'audio/L16;codec=pcm;rate=24000';
  const parts = [];
  if (!withhold) {
    parts.push({ inlineData: { mimeType, data: tone.pcm.toString('base64') } });
    rec.outputs.push({ mimeType, bytes: tone.pcm.length, sha256: sha256(tone.pcm), samples: tone.samples, seconds: tone.seconds });
  }
  const promptTokens = estTokens(text);
  const audioTokens = withhold ? 0 : Math.max(1, Math.round(tone.seconds * 25));
  return {
    ...base,
    parts,
    usage: rule?.usage ?? {
      promptTokenCount: promptTokens,
      candidatesTokenCount: audioTokens,
      totalTokenCount: promptTokens + audioTokens,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
      ...(audioTokens ? { candidatesTokensDetails: [{ modality: 'AUDIO', tokenCount: audioTokens }] } : {}),
    },
  };
}

const EMBED_FIELDS = ['model', 'content', 'taskType', 'title', 'outputDimensionality'];
const TASK_TYPES = ['TASK_TYPE_UNSPECIFIED', 'RETRIEVAL_QUERY', 'RETRIEVAL_DOCUMENT', 'SEMANTIC_SIMILARITY', 'CLASSIFICATION', 'CLUSTERING', 'QUESTION_ANSWERING', 'FACT_VERIFICATION', 'CODE_RETRIEVAL_QUERY'];

/**
 * Validates an embedContent / batchEmbedContents body like the real API and
 * collects what to embed. Returns {problem: null | {error, why, hard}, items:
 * [{text, dims, taskType}]} (items best effort even when there is a problem).
 * hard problems (unsupported model, more than 100 requests, nothing to embed)
 * are answered even with strict mode off.
 */
export function checkGeminiEmbed(model, method, body) {
  const items = [];
  const bad = (msg, why, hard = false) => ({ problem: { error: gErr(400, 'INVALID_ARGUMENT', msg), why, hard }, items });
  if (!isEmbeddingModel(model)) {
    return { problem: { error: gErr(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`), why: `${method} on ${model}, not an embedding model`, hard: true }, items };
  }
  if (!isObj(body)) return bad('Invalid JSON payload received. Expected an object.', 'body is not a JSON object', true);
  const batch = method === 'batchEmbedContents';
  const unknown = [];
  const star = [];
  const other = [];
  let reqs;
  if (batch) {
    for (const k of Object.keys(body)) if (camel(k) !== 'requests') unknown.push({ name: k });
    reqs = body.requests;
    if (!Array.isArray(reqs) || reqs.length === 0) return bad('* BatchEmbedContentsRequest.requests: requests is not specified\n', 'batchEmbedContents without requests', true);
    if (reqs.length > 100) return bad('* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n', `${reqs.length} requests in one batch (at most 100)`, true);
  } else {
    reqs = [body];
  }
  reqs.forEach((r, i) => {
    const at = batch ? `requests[${i}].` : '';
    const P = batch ? `BatchEmbedContentsRequest.requests[${i}]` : 'EmbedContentRequest';
    const item = { text: '', dims: defaultDims(model), taskType: null };
    items.push(item);
    if (!isObj(r)) {
      other.push({ msg: `Invalid value at '${at.slice(0, -1) || 'body'}' (type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest), ${JSON.stringify(r)}`, why: `${at || 'body'} is not an object` });
      return;
    }
    for (const k of Object.keys(r)) if (!EMBED_FIELDS.includes(camel(k))) unknown.push({ name: k, ...(batch ? { at: `requests[${i}]` } : {}) });
    const m = r.model;
    if (batch || m !== undefined) {
      if (typeof m !== 'string' || !m.startsWith('models/')) star.push({ msg: `* ${P}.model: unexpected model name format`, why: `${at}model ${JSON.stringify(m ?? null)} is not "models/${model}"` });
      else if (m !== `models/${model}`) other.push({ msg: GENERIC_400, why: `${at}model ${m} does not match the URL model models/${model}` });
    }
    const c = r.content;
    if (!isObj(c)) {
      star.push({ msg: `* ${P}.content: content is not specified`, why: `${at}content missing` });
      return;
    }
    if (!Array.isArray(c.parts) || c.parts.length === 0) {
      star.push({ msg: `* ${P}.content.parts: contents.parts must not be empty.`, why: `${at}content.parts empty` });
      return;
    }
    const texts = [];
    c.parts.forEach((p, j) => {
      const t = pick(p, 'text');
      if (Array.isArray(t)) other.push({ msg: 'Invalid JSON payload received. Proto field is not repeating, cannot start list.', why: `${at}content.parts[${j}].text is an array (token ids are not accepted)` });
      else if (t !== undefined && typeof t !== 'string') other.push({ msg: `Invalid value at '${at}content.parts[${j}].text' (TYPE_STRING), ${JSON.stringify(t)}`, why: `${at}content.parts[${j}].text is not a string` });
      else if (typeof t === 'string') texts.push(t);
    });
    item.text = texts.join(' ');
    const tt = pick(r, 'taskType');
    if (tt !== undefined) {
      if (!TASK_TYPES.includes(tt)) other.push({ msg: `Invalid value at '${at}task_type' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), ${JSON.stringify(tt)}`, why: `${at}taskType ${JSON.stringify(tt)}` });
      else item.taskType = tt;
    }
    const od = pick(r, 'outputDimensionality');
    if (od !== undefined && od !== null) {
      const n = Number(od);
      if (!Number.isInteger(n) || typeof od === 'boolean') other.push({ msg: `Invalid value at '${at}output_dimensionality' (TYPE_INT32), ${JSON.stringify(od)}`, why: `${at}outputDimensionality ${JSON.stringify(od)}` });
      else if (n < 1 || n > defaultDims(model)) other.push({ msg: GENERIC_400, why: `${at}outputDimensionality ${n} outside 1..${defaultDims(model)}` });
      else item.dims = n;
    }
  });
  if (unknown.length) return { problem: { error: googleUnknownFields(unknown), why: `unknown field(s): ${unknown.map((u) => `${u.name}${u.at ? ` at ${u.at}` : ''}`).join('; ')}` }, items };
  if (other.length) return bad(other[0].msg, other.map((o) => o.why).join('; '));
  if (star.length) return bad(star.map((s) => s.msg).join('\n') + '\n', star.map((s) => s.why).join('; '));
  return { problem: null, items };
}

/** embedContent / batchEmbedContents answer for checked items. */
export function geminiEmbedAnswer(model, method, items) {
  const one = (it) => ({ values: embedVector(model, it.text, it.dims) });
  return method === 'batchEmbedContents' ? { embeddings: items.map(one) } : { embedding: one(items[0]) };
}

const AUTH_TOKEN_FIELDS = ['name', 'uses', 'expireTime', 'newSessionExpireTime', 'bidiGenerateContentSetup', 'fieldMask'];
export const LIVE_SETUP_FIELDS = [
  'model', 'generationConfig', 'systemInstruction', 'tools', 'realtimeInputConfig', 'sessionResumption', 'contextWindowCompression',
  'inputAudioTranscription', 'outputAudioTranscription', 'proactivity', 'explicitVadSignal', 'enableAffectiveDialog', 'historyConfig',
];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_AHEAD_MS = 20 * 3600e3;

/**
 * Validates a POST v1alpha/auth_tokens body (docs/reference/wire-gemini.md 8.2).
 * Returns null or {error, why}.
 */
export function checkAuthToken(body, now = Date.now()) {
  const bad = (msg, why) => ({ error: gErr(400, 'INVALID_ARGUMENT', msg), why: why || msg });
  if (body === null || body === undefined) return null;
  if (!isObj(body)) return bad('Invalid JSON payload received. Expected an object.', 'body is not a JSON object');
  const unknown = Object.keys(body).filter((k) => !AUTH_TOKEN_FIELDS.includes(camel(k))).map((name) => ({ name }));
  const setup = pick(body, 'bidiGenerateContentSetup');
  if (isObj(setup)) for (const k of Object.keys(setup)) if (!LIVE_SETUP_FIELDS.includes(camel(k))) unknown.push({ name: k, at: 'bidi_generate_content_setup' });
  if (unknown.length) return { error: googleUnknownFields(unknown), why: `unknown field(s): ${unknown.map((u) => `${u.name}${u.at ? ` at ${u.at}` : ''}`).join('; ')}` };
  const uses = pick(body, 'uses');
  if (uses !== undefined && uses !== null) {
    const n = typeof uses === 'string' && /^-?\d+$/.test(uses) ? Number(uses) : uses;
    if (typeof n !== 'number' || !Number.isInteger(n)) return bad(`Invalid value at 'uses' (TYPE_INT32), ${JSON.stringify(uses)}`, `uses ${JSON.stringify(uses)} is not an int`);
    if (n < 0) return bad('* AuthToken.uses: uses must not be negative\n', `uses ${n} < 0`);
  }
  for (const f of ['expireTime', 'newSessionExpireTime']) {
    const v = pick(body, f);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v))) return bad(`Invalid value at '${snake(f)}' (type.googleapis.com/google.protobuf.Timestamp), ${JSON.stringify(v)}`, `${f} ${JSON.stringify(v)} is not an RFC 3339 timestamp`);
    const t = Date.parse(v);
    if (t <= now) return bad(`* AuthToken.${snake(f)}: ${snake(f)} must be in the future\n`, `${f} ${v} is not in the future`);
    if (t - now >= MAX_AHEAD_MS) return bad(`* AuthToken.${snake(f)}: ${snake(f)} must be less than 20 hours in the future\n`, `${f} ${v} is 20 h or more ahead`);
  }
  if (setup !== undefined && setup !== null) {
    if (!isObj(setup)) return bad("Invalid value at 'bidi_generate_content_setup'", 'bidiGenerateContentSetup is not an object');
    const m = setup.model;
    if (m !== undefined && (typeof m !== 'string' || !/^models\/[^/\s]+$/.test(m))) return bad('* AuthToken.bidi_generate_content_setup.model: unexpected model name format\n', `bidiGenerateContentSetup.model ${JSON.stringify(m)} is not "models/…"`);
    const tools = pick(setup, 'tools');
    if (tools !== undefined && !Array.isArray(tools)) return bad("Invalid value at 'bidi_generate_content_setup.tools'", 'bidiGenerateContentSetup.tools is not an array');
    const star = [];
    (tools || []).forEach((t, i) => {
      (pick(t, 'functionDeclarations') || []).forEach((d, j) => {
        if (!isObj(d) || typeof d.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(d.name)) {
          star.push(`* AuthToken.bidi_generate_content_setup.tools[${i}].function_declarations[${j}].name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128.`);
        }
      });
    });
    if (star.length) return bad(star.join('\n') + '\n', star[0]);
  }
  const fm = pick(body, 'fieldMask');
  if (fm !== undefined && fm !== null && typeof fm !== 'string') return bad(`Invalid value at 'field_mask' (type.googleapis.com/google.protobuf.FieldMask), ${JSON.stringify(fm)}`, 'fieldMask is not a string');
  return null;
}

/** The minted token: {name, uses, expireTime, newSessionExpireTime} with the defaults of 8.2. */
export function mintAuthToken(body, now = Date.now()) {
  const b = isObj(body) ? body : {};
  const uses = pick(b, 'uses');
  return {
    name: `auth_tokens/${alnum(40)}`,
    uses: uses === undefined || uses === null ? 1 : Number(uses),
    expireTime: pick(b, 'expireTime') ?? new Date(now + 30 * 60e3).toISOString(),
    newSessionExpireTime: pick(b, 'newSessionExpireTime') ?? new Date(now + 60e3).toISOString(),
  };
}

export { providerError, SENTINELS };
