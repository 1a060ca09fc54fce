// Media helpers for the mock upstream server (mock.mjs): real PNG files,
// PCM tones, deterministic embedding vectors, a multipart/form-data parser,
// WAV durations and the per-model tables the media surfaces need.
// No dependencies beyond node: built-ins (Node 20 has no zlib.crc32, so
// CRC-32 is computed here).

import zlib from 'node:zlib';
import { createHash } from 'node:crypto';

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// ---- CRC-32 (IEEE 802.3, as PNG uses it) ----------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf, crc = 0) {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- PNG --------------------------------------------------------------------------------

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A real RGB PNG of w x h pixels: a diagonal gradient between two colours taken
 * from `seed` (any string/Buffer; hashed), so different seeds give different bytes.
 */
export function makePng(w, h, seed) {
  w = Math.max(1, Math.min(4096, Math.round(w)));
  h = Math.max(1, Math.min(4096, Math.round(h)));
  const d = createHash('sha256').update(seed ?? '').digest();
  const a = [d[0], d[1], d[2]];
  const b = [d[3], d[4], d[5]];
  const stride = w * 3 + 1;
  const raw = Buffer.alloc(stride * h);
  const span = Math.max(1, w + h - 2);
  for (let y = 0; y < h; y++) {
    raw[y * stride] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      const t = (x + y) / span;
      const o = y * stride + 1 + x * 3;
      for (let k = 0; k < 3; k++) raw[o + k] = Math.round(a[k] * (1 - t) + b[k] * t);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  return Buffer.concat([PNG_SIG, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** {width, height} of a PNG buffer, or null. */
export function pngSize(buf) {
  if (!Buffer.isBuffer(buf) || buf.length < 24 || !buf.subarray(0, 8).equals(PNG_SIG)) return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Gemini imageConfig.aspectRatio "W:H" -> pixel size with the long side 64 (1:1 -> 64x64, 16:9 -> 64x36). */
export function sizeFromAspect(ratio) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(String(ratio ?? ''));
  if (!m || !Number(m[1]) || !Number(m[2])) return { width: 64, height: 64 };
  const w = Number(m[1]);
  const h = Number(m[2]);
  return { width: Math.max(1, Math.round((64 * w) / Math.max(w, h))), height: Math.max(1, Math.round((64 * h) / Math.max(w, h))) };
}

/** Scales W x H down so neither side exceeds 64 px (never up), keeping the ratio. */
export function fitTo64(w, h, max = 64) {
  const s = Math.min(1, max / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

export const GEMINI_ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];

// ---- PCM (Gemini TTS) ----------------------------------------------------------------------

/**
 * Raw PCM s16le mono at `rate` Hz: a sine tone 60 ms per character of text
 * (at least 0.3 s, at most 10 s); the pitch depends on the voice.
 */
export function pcmTone(text, voice = '', rate = 24000) {
  const secs = Math.min(10, Math.max(0.3, String(text ?? '').length * 0.06));
  const n = Math.round(secs * rate);
  const freq = 220 + (createHash('sha256').update(String(voice)).digest()[0] % 16) * 27.5;
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * freq * i) / rate) * 8000), i * 2);
  return { pcm: buf, seconds: n / rate, samples: n, rate, freq };
}

// The 30 prebuilt Gemini voices (docs/reference/wire-gemini.md 6.2), case-sensitive on the wire.
export const GEMINI_VOICES = new Set([
  'Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede', 'Callirrhoe', 'Autonoe',
  'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina', 'Erinome', 'Algenib', 'Rasalgethi', 'Laomedeia', 'Achernar',
  'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima', 'Achird', 'Zubenelgenubi', 'Vindemiatrix', 'Sadachbia', 'Sadaltager', 'Sulafat',
]);

// ---- embeddings ----------------------------------------------------------------------------

// Default vector length per model (OpenAI-dialect providers and Gemini); others 768.
export const EMBED_DIMS = {
  'gemini-embedding-001': 3072,
  'mistral-embed': 1024,
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  '@cf/baai/bge-m3': 1024,
  '@cf/google/embeddinggemma-300m': 768,
  '@cf/qwen/qwen3-embedding-0.6b': 1024,
  'embed-v4.0': 1536,
  'nvidia/nv-embedqa-e5-v5': 1024,
  'nvidia/llama-nemotron-embed-1b-v2': 2048,
  'nvidia/llama-nemotron-embed-vl-1b-v2': 2048,
};

export function defaultDims(model) {
  const m = String(model ?? '');
  if (EMBED_DIMS[m]) return EMBED_DIMS[m];
  const last = m.slice(m.lastIndexOf('/') + 1); // openai/text-embedding-3-small on GitHub
  return EMBED_DIMS[last] ?? 768;
}

/** Only OpenAI's text-embedding-3 models take `dimensions`. */
export const supportsDimensions = (model) => /(^|\/)text-embedding-3-(small|large)$/.test(String(model ?? ''));

/**
 * A deterministic unit vector for (model, text): a PRNG seeded by
 * sha256(model NUL text), truncated to `dims`, normalised, each value rounded
 * to float32 (so the float and base64 encodings carry the same numbers).
 * A shorter vector is the normalised prefix of a longer one (Matryoshka-like).
 */
export function embedVector(model, text, dims) {
  const d = createHash('sha256').update(`${model}\u0000${text}`).digest();
  let s = d.readUInt32LE(0) ^ d.readUInt32LE(4);
  const rand = () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const v = new Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    v[i] = rand() * 2 - 1;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] = Math.fround(v[i] / norm);
  return v;
}

/** base64 of the vector as little-endian float32 values (OpenAI encoding_format "base64"). */
export function packFloat32(vec) {
  const b = Buffer.alloc(vec.length * 4);
  vec.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b.toString('base64');
}

// ---- multipart/form-data -------------------------------------------------------------------

function dispositionParam(cd, name) {
  const star = new RegExp(`(?:^|;)\\s*${name}\\*=([^;]*)`, 'i').exec(cd);
  if (star) {
    const v = star[1].trim().replace(/^"|"$/g, '');
    const i = v.indexOf("''");
    try {
      return decodeURIComponent(i >= 0 ? v.slice(i + 2) : v);
    } catch {
      return v;
    }
  }
  const q = new RegExp(`(?:^|;)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(cd);
  if (q) return q[1].replace(/\\(.)/g, '$1');
  const u = new RegExp(`(?:^|;)\\s*${name}=([^;\\s]*)`, 'i').exec(cd);
  return u ? u[1] : null;
}

/**
 * Parses a multipart/form-data body. Returns [{name, filename, contentType, data}]
 * (data a Buffer; filename null for plain fields). Throws on a malformed body.
 */
export function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  if (!m) throw new Error('multipart body without a boundary parameter in Content-Type');
  const delim = Buffer.from(`--${m[1] || m[2]}`);
  const next = Buffer.concat([Buffer.from('\r\n'), delim]);
  const parts = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) throw new Error('multipart boundary not found in the body');
  for (;;) {
    pos += delim.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break; // closing delimiter
    while (buf[pos] === 0x20 || buf[pos] === 0x09) pos++; // transport padding
    if (buf[pos] !== 0x0d || buf[pos + 1] !== 0x0a) throw new Error('malformed multipart delimiter line');
    pos += 2;
    const hdrEnd = buf.indexOf('\r\n\r\n', pos);
    if (hdrEnd < 0) throw new Error('multipart part without a header terminator');
    const headers = {};
    for (const line of buf.subarray(pos, hdrEnd).toString('utf8').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const end = buf.indexOf(next, hdrEnd + 4);
    if (end < 0) throw new Error('unterminated multipart part (no closing boundary)');
    const cd = headers['content-disposition'] || '';
    parts.push({ name: dispositionParam(cd, 'name'), filename: dispositionParam(cd, 'filename'), contentType: headers['content-type'] ?? null, data: buf.subarray(hdrEnd + 4, end) });
    pos = end + 2;
  }
  return parts;
}

// ---- audio ---------------------------------------------------------------------------------

// Cloudflare's Whisper models on the native run route, with the input keys each
// one's schema has (https://developers.cloudflare.com/workers-ai/models/whisper,
// …/whisper-large-v3-turbo): the turbo model takes {audio: base64, task, …}
// (faster-whisper options), @cf/openai/whisper {audio: [bytes]} or the raw bytes.
export const CF_WHISPER_MODELS = {
  '@cf/openai/whisper': { audio: 'array', keys: ['audio'] },
  '@cf/openai/whisper-large-v3-turbo': {
    audio: 'string',
    keys: ['audio', 'task', 'language', 'vad_filter', 'initial_prompt', 'prefix', 'beam_size', 'condition_on_previous_text', 'no_speech_threshold', 'compression_ratio_threshold', 'log_prob_threshold', 'hallucination_silence_threshold'],
  },
};

/** A WebVTT document from cues [{start, end, text}] (seconds). */
export function webVtt(cues) {
  const ts = (t) => {
    const ms = Math.round(t * 1000);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(Math.floor(ms / 3600000))}:${p(Math.floor(ms / 60000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
  };
  return `WEBVTT\n\n${cues.map((c) => `${ts(c.start)} --> ${ts(c.end)}\n${c.text.trim()}\n\n`).join('')}`;
}

/** Duration in seconds of a PCM WAV (RIFF) file from its header, or null when it is not one. */
export function wavDuration(buf) {
  if (!Buffer.isBuffer(buf) || buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let pos = 12;
  let byteRate = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ' && pos + 20 <= buf.length) byteRate = buf.readUInt32LE(pos + 16);
    if (id === 'data') {
      if (!byteRate) return null;
      const avail = buf.length - pos - 8;
      return Math.min(size, avail) / byteRate; // streaming WAVs carry placeholder sizes
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

export const AUDIO_EXTENSIONS = ['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'opus', 'wav', 'webm'];

// ISO-639-1 -> Whisper's language name (verbose_json `language`).
export const LANGUAGE_NAMES = {
  en: 'english', de: 'german', fr: 'french', es: 'spanish', it: 'italian', pt: 'portuguese', nl: 'dutch', ru: 'russian',
  ja: 'japanese', zh: 'chinese', ko: 'korean', ar: 'arabic', hi: 'hindi', pl: 'polish', sv: 'swedish', tr: 'turkish',
  uk: 'ukrainian', cs: 'czech', da: 'danish', fi: 'finnish', no: 'norwegian', el: 'greek', he: 'hebrew', id: 'indonesian',
};
