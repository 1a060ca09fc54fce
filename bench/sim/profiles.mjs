// Traffic profiles: which models and keys the gateway gets, the caps the mock
// enforces (and, for `drift`, the different caps the catalog states), and the
// requests the clients send. Every profile has a fixed seed.
//
// A model entry: {provider, id, ratio (chars per token of its tokenizer),
//                 enforce: {rpm, tpm, rpd, tpd} (the mock), state: {...} (the catalog; default = enforce)}

import { rng, between } from './util.mjs';

// groq's unsuffixed x-ratelimit-*-requests count the day, -tokens the minute
const GROQ_HEADERS = { groq: { requests: 'day', tokens: 'minute' } };

const WORDS = 'the router keeps every free tier under its caps while agents ask for code reviews tests plans logs diffs and summaries of long threads'.split(' ');

/** Filler text of about `tokens` tokens at 4 characters per token. */
function filler(r, tokens) {
  const want = Math.max(1, tokens) * 4;
  let s = '';
  while (s.length < want) s += WORDS[Math.floor(r() * WORDS.length)] + ' ';
  return s.slice(0, want);
}

const TOOLS = [
  { type: 'function', function: { name: 'read_file', description: 'Read a file of the repository', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } },
  { type: 'function', function: { name: 'run_tests', description: 'Run the test suite and return failures', parameters: { type: 'object', properties: { filter: { type: 'string' } } } } },
];

/** A chat-sized request: one user message of 50–750 tokens. */
function chatRequest(r, id) {
  return { messages: [{ role: 'user', content: `[sim:${id}] ${filler(r, between(r, 50, 750))}` }] };
}

/**
 * An agent-sized request of 50–5,000 tokens: a long system prompt (fixed per
 * client) plus history and a new user turn; some set max_tokens 1024, some
 * carry tools.
 */
function agentRequest(r, id, client) {
  const short = r() < 0.15;
  const total = short ? between(r, 50, 300) : between(r, 600, 5000);
  const messages = [];
  let left = total;
  if (!short) {
    const sys = Math.min(client.systemTokens, left - 20);
    messages.push({ role: 'system', content: client.system.slice(0, sys * 4) });
    left -= sys;
  }
  const turns = [];
  while (left > 400 && turns.length < 8) {
    const n = Math.min(left - 200, between(r, 50, 600));
    turns.push({ role: turns.length % 2 ? 'user' : 'assistant', content: filler(r, n) });
    left -= n;
  }
  turns.reverse(); // oldest first, ends on an assistant turn
  messages.push(...turns, { role: 'user', content: `[sim:${id}] ${filler(r, Math.max(10, left))}` });
  const body = { messages };
  if (r() < 0.3) body.max_tokens = 1024;
  if (r() < 0.3) body.tools = TOOLS;
  return body;
}

// Agent-sized traffic meets TPM caps: in priority order, the smallest TPM first, with a
// tokenizer denser than 4 characters per token.
const AGENT_MODELS = [
  { provider: 'groq', id: 'openai/gpt-oss-20b', ratio: 3.5, enforce: { rpm: 30, tpm: 6000, rpd: 1000 } },
  { provider: 'mistral', id: 'mistral-small-latest', ratio: 4.6, enforce: { rpm: 30, tpm: 3000 } },
  { provider: 'cerebras', id: 'gpt-oss-120b', ratio: 3.4, enforce: { rpm: 30, tpm: 8000, rpd: 2400 } },
  { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 30, tpm: 12000, rpd: 1000 } },
];

export const PROFILES = [
  {
    name: 'chat',
    seed: 101,
    clients: 4,
    shape: 'chat',
    namedShare: 0.15, // some clients ask for one model with X-FreeLLMAPI-No-Fallover
    models: [
      { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 8, tpm: 60000, rpd: 1000 } },
      { provider: 'cerebras', id: 'gpt-oss-120b', ratio: 3.4, enforce: { rpm: 10, tpm: 60000, rpd: 2400 } },
      { provider: 'groq', id: 'openai/gpt-oss-20b', ratio: 4.2, enforce: { rpm: 6, tpm: 60000, rpd: 1000 } },
      { provider: 'mistral', id: 'mistral-small-latest', ratio: 4.6, enforce: { rpm: 12, tpm: 500000 } },
    ],
    keys: { groq: 1, cerebras: 1, mistral: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    name: 'agent',
    seed: 202,
    clients: 4,
    shape: 'agent',
    models: AGENT_MODELS,
    keys: { groq: 1, cerebras: 1, mistral: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    name: 'stream',
    seed: 303,
    clients: 4,
    shape: 'agent',
    stream: true,
    models: AGENT_MODELS,
    keys: { groq: 1, cerebras: 1, mistral: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    name: 'burst',
    seed: 404,
    clients: 16,
    shape: 'chat',
    burst: { everyMs: 20000, perClient: 2 },
    models: [
      { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 8, tpm: 60000, rpd: 1000 } },
      { provider: 'cerebras', id: 'gpt-oss-120b', ratio: 3.4, enforce: { rpm: 10, tpm: 60000, rpd: 2400 } },
      { provider: 'mistral', id: 'mistral-small-latest', ratio: 4.6, enforce: { rpm: 12, tpm: 500000 } },
    ],
    keys: { groq: 1, cerebras: 1, mistral: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    name: 'multikey',
    seed: 505,
    clients: 4,
    shape: 'agent',
    models: [
      { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 30, tpm: 8000, rpd: 1000 } },
      { provider: 'openrouter', id: 'qwen/qwen3-coder:free', ratio: 3.6, enforce: { rpm: 20, rpd: 200 } },
      { provider: 'openrouter', id: 'qwen/qwen3-next-80b-a3b-instruct:free', ratio: 4.0, enforce: { rpm: 20, rpd: 200 } },
      { provider: 'ollama', id: 'qwen3-coder:480b', ratio: 4.4, enforce: { rpm: 10 } },
    ],
    keys: { groq: 3, openrouter: 2, ollama: 2 },
    accounts: { openrouter: { rpm: 6, rpd: 50 } }, // per key, across every :free model
    concurrent: { ollama: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    name: 'drift',
    seed: 606,
    clients: 4,
    shape: 'agent',
    models: [
      { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 30, tpm: 6000, rpd: 1000 }, state: { rpm: 30, tpm: 12000, rpd: 1000 } },
      // the catalog says 1000 a day; this account has 6 left today, and the headers say so
      { provider: 'groq', id: 'openai/gpt-oss-20b', ratio: 4.2, enforce: { rpm: 30, tpm: 8000, rpd: 6 }, state: { rpm: 30, tpm: 8000, rpd: 1000 } },
      { provider: 'cerebras', id: 'gpt-oss-120b', ratio: 3.4, enforce: { rpm: 30, tpm: 7000, rpd: 2400 }, state: { rpm: 30, tpm: 30000, rpd: 2400 } },
    ],
    keys: { groq: 1, cerebras: 1 },
    ratelimitHeaders: GROQ_HEADERS,
  },
  {
    // Another application uses two of the keys too (not through the gateway);
    // only the providers' headers and 429s reveal it. 429s on those keys are
    // reported apart from the ones the gateway caused on its own.
    name: 'shared',
    seed: 707,
    clients: 4,
    shape: 'chat',
    models: [
      { provider: 'groq', id: 'llama-3.3-70b-versatile', ratio: 3.9, enforce: { rpm: 30, tpm: 8000, rpd: 1000 } },
      { provider: 'cerebras', id: 'gpt-oss-120b', ratio: 3.4, enforce: { rpm: 30, tpm: 8000, rpd: 2400 } },
      { provider: 'groq', id: 'openai/gpt-oss-20b', ratio: 4.2, enforce: { rpm: 30, tpm: 6000, rpd: 1000 } },
    ],
    keys: { groq: 1, cerebras: 1 },
    outside: [
      { provider: 'groq', model: 'llama-3.3-70b-versatile', key: 1, everyMs: 4000, tokens: 1500 },
      { provider: 'cerebras', model: 'gpt-oss-120b', key: 1, everyMs: 6000, tokens: 1200 },
    ],
    ratelimitHeaders: GROQ_HEADERS,
  },
];

/** The secret of a profile's n-th key (1-based) of a provider. */
export const keySecret = (p, provider, n) => `sim-${p.name}-${provider}-${n}`;

/** Provider keys of a profile: [{provider, secret}] (secrets only the mock and the gateway know). */
export function profileKeys(p) {
  const out = [];
  for (const [provider, n] of Object.entries(p.keys)) for (let i = 1; i <= n; i++) out.push({ provider, secret: keySecret(p, provider, i) });
  return out;
}

/**
 * A client's request generator: next() returns {id, body, headers, named}
 * (named: the one model asked for with no fallover, else null).
 */
export function clientTraffic(p, index) {
  const r = rng(p.seed * 1000 + index);
  const systemTokens = between(r, 800, 2500);
  const client = { systemTokens, system: filler(rng(p.seed * 7919 + index), systemTokens) };
  let n = 0;
  return {
    next() {
      const id = `${p.name}-${index}-${n++}`;
      const body = { model: 'auto', ...(p.shape === 'agent' ? agentRequest(r, id, client) : chatRequest(r, id)) };
      if (p.stream) {
        body.stream = true;
        if (r() < 0.5) body.stream_options = { include_usage: true };
      }
      const headers = {};
      let named = null;
      if (p.namedShare && r() < p.namedShare) {
        named = p.models[Math.floor(r() * p.models.length)];
        body.model = named.id;
        headers['X-FreeLLMAPI-No-Fallover'] = '1';
      }
      return { id, body, headers, named };
    },
    /** Pause between requests, 0–300 ms. */
    pauseMs: () => between(r, 0, 300),
  };
}
