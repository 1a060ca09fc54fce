// The integrations page's snippets, as plain text built from the running configuration: the base
// URL, the key (masked unless revealed) and a model of this catalog fit for the capability.
import type { Model } from '../api';

export interface Ctx { base: string; key: string; model: string; tools?: boolean }
export type Lang = 'js' | 'py' | 'curl';
export const LANGS: [Lang, string][] = [['js', 'JavaScript'], ['py', 'Python'], ['curl', 'cURL']];

// String literals: JSON's are valid JavaScript, Python and YAML; the shell's are single-quoted.
const q = (s: string) => JSON.stringify(s);
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const json = (v: unknown) => JSON.stringify(v, null, 2);
// JSON with the innermost objects and arrays kept on one line: short, and still easy to edit.
function body(v: unknown, at = ''): string {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  const entries: [string | null, unknown][] = Array.isArray(v) ? v.map((x) => [null, x]) : Object.entries(v);
  const open = Array.isArray(v) ? '[' : '{', close = Array.isArray(v) ? ']' : '}';
  const item = ([k, x]: [string | null, unknown], inner: string) => (k === null ? '' : `${JSON.stringify(k)}: `) + body(x, inner);
  if (!entries.some(([, x]) => typeof x === 'object' && x !== null)) return `${open}${entries.map((e) => item(e, at)).join(', ')}${close}`;
  const inner = `${at}  `;
  return `${open}\n${entries.map((e) => inner + item(e, inner)).join(',\n')}\n${at}${close}`;
}

const jsClient = (c: Ctx, imports = '') => `import OpenAI from "openai";${imports}

const client = new OpenAI({
  baseURL: ${q(c.base)},
  apiKey: ${q(c.key)},
});
`;
const pyClient = (c: Ctx) => `from openai import OpenAI

client = OpenAI(
    base_url=${q(c.base)},
    api_key=${q(c.key)},
)
`;
// stream: -N (no buffering); out: a file the answer is written to.
function curl(c: Ctx, path: string, data: unknown, opt: { stream?: boolean; out?: string } = {}): string {
  return `curl ${sh(`${c.base}/${path}`)}${opt.stream ? ' -N' : ''} \\
  -H ${sh(`Authorization: Bearer ${c.key}`)} \\
  -H 'Content-Type: application/json' \\
  -d ${sh(body(data, '  '))}${opt.out ? ` \\\n  --output ${opt.out}` : ''}`;
}

const ASK = 'Say hello in five words.';
// A tiny inline PNG: the snippet runs anywhere, even where the machine reaches no image host
// (an https:// URL works the same way).
const IMAGE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const TOOL = {
  type: 'function',
  function: {
    name: 'get_weather', description: 'The current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const PY_TOOL = `{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}`;

export interface Capability {
  id: string; label: string; cap: string; kind: string; // catalog capability and kind a model needs
  code: (c: Ctx) => Record<Lang, string>;
}

export const CAPABILITIES: Capability[] = [
  { id: 'chat', label: 'Chat', cap: 'chat', kind: 'chat', code: (c) => ({
    js: `${jsClient(c)}
const r = await client.chat.completions.create({
  model: ${q(c.model)},
  messages: [{ role: "user", content: ${q(ASK)} }],
});
console.log(r.choices[0].message.content);`,
    py: `${pyClient(c)}
r = client.chat.completions.create(
    model=${q(c.model)},
    messages=[{"role": "user", "content": ${q(ASK)}}],
)
print(r.choices[0].message.content)`,
    curl: curl(c, 'chat/completions', { model: c.model, messages: [{ role: 'user', content: ASK }] }),
  }) },
  { id: 'streaming', label: 'Streaming', cap: 'chat', kind: 'chat', code: (c) => ({
    js: `${jsClient(c)}
const stream = await client.chat.completions.create({
  model: ${q(c.model)},
  messages: [{ role: "user", content: ${q(ASK)} }],
  stream: true,
});
for await (const chunk of stream) {
  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
}`,
    py: `${pyClient(c)}
stream = client.chat.completions.create(
    model=${q(c.model)},
    messages=[{"role": "user", "content": ${q(ASK)}}],
    stream=True,
)
for chunk in stream:
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)`,
    curl: curl(c, 'chat/completions', { model: c.model, messages: [{ role: 'user', content: ASK }], stream: true }, { stream: true }),
  }) },
  { id: 'tools', label: 'Tools', cap: 'tools', kind: 'chat', code: (c) => ({
    js: `${jsClient(c)}
const tools = [${json(TOOL)}];

const r = await client.chat.completions.create({
  model: ${q(c.model)},
  messages: [{ role: "user", content: "What is the weather in Paris?" }],
  tools,
});
console.log(r.choices[0].message.tool_calls);`,
    py: `${pyClient(c)}
tools = [${PY_TOOL}]

r = client.chat.completions.create(
    model=${q(c.model)},
    messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    tools=tools,
)
print(r.choices[0].message.tool_calls)`,
    curl: curl(c, 'chat/completions', { model: c.model, messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools: [TOOL] }),
  }) },
  { id: 'vision', label: 'Vision', cap: 'vision', kind: 'chat', code: (c) => ({
    js: `${jsClient(c)}
const r = await client.chat.completions.create({
  model: ${q(c.model)},
  messages: [{
    role: "user",
    content: [
      { type: "text", text: "What is in this picture?" },
      { type: "image_url", image_url: { url: ${q(IMAGE)} } },
    ],
  }],
});
console.log(r.choices[0].message.content);`,
    py: `${pyClient(c)}
r = client.chat.completions.create(
    model=${q(c.model)},
    messages=[{
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": ${q(IMAGE)}}},
        ],
    }],
)
print(r.choices[0].message.content)`,
    curl: curl(c, 'chat/completions', { model: c.model, messages: [{ role: 'user', content: [
      { type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: IMAGE } }] }] }),
  }) },
  { id: 'embeddings', label: 'Embeddings', cap: 'embeddings', kind: 'embedding', code: (c) => ({
    js: `${jsClient(c)}
const e = await client.embeddings.create({
  model: ${q(c.model)},
  input: ["first text", "second text"],
});
console.log(e.data.map((d) => d.embedding.length));`,
    py: `${pyClient(c)}
e = client.embeddings.create(
    model=${q(c.model)},
    input=["first text", "second text"],
)
print([len(d.embedding) for d in e.data])`,
    curl: curl(c, 'embeddings', { model: c.model, input: ['first text', 'second text'] }),
  }) },
  { id: 'images', label: 'Images', cap: 'image', kind: 'image', code: (c) => ({
    js: `${jsClient(c)}
const img = await client.images.generate({
  model: ${q(c.model)},
  prompt: "a red kite over a calm sea",
  n: 1,
  size: "1024x1024",
});
console.log(img.data[0].url ?? "(base64 in img.data[0].b64_json)");`,
    py: `${pyClient(c)}
img = client.images.generate(
    model=${q(c.model)},
    prompt="a red kite over a calm sea",
    n=1,
    size="1024x1024",
)
print(img.data[0].url or "(base64 in img.data[0].b64_json)")`,
    curl: curl(c, 'images/generations', { model: c.model, prompt: 'a red kite over a calm sea', n: 1, size: '1024x1024' }),
  }) },
  { id: 'speech', label: 'Speech', cap: 'tts', kind: 'tts', code: (c) => ({
    js: `${jsClient(c, '\nimport fs from "node:fs";')}
const mp3 = await client.audio.speech.create({
  model: ${q(c.model)},
  voice: "alloy",
  input: "Hello from FreeLLMAPI!",
});
fs.writeFileSync("hello.mp3", Buffer.from(await mp3.arrayBuffer()));`,
    py: `${pyClient(c)}
with client.audio.speech.with_streaming_response.create(
    model=${q(c.model)},
    voice="alloy",
    input="Hello from FreeLLMAPI!",
) as r:
    r.stream_to_file("hello.mp3")`,
    curl: curl(c, 'audio/speech', { model: c.model, voice: 'alloy', input: 'Hello from FreeLLMAPI!' }, { out: 'hello.mp3' }),
  }) },
  { id: 'transcription', label: 'Transcription', cap: 'stt', kind: 'stt', code: (c) => ({
    js: `${jsClient(c, '\nimport fs from "node:fs";')}
const t = await client.audio.transcriptions.create({
  model: ${q(c.model)},
  file: fs.createReadStream("audio.wav"),
});
console.log(t.text);`,
    py: `${pyClient(c)}
with open("audio.wav", "rb") as f:
    t = client.audio.transcriptions.create(model=${q(c.model)}, file=f)
print(t.text)`,
    curl: `curl ${sh(`${c.base}/audio/transcriptions`)} \\
  -H ${sh(`Authorization: Bearer ${c.key}`)} \\
  -F file=@audio.wav \\
  -F ${sh(`model=${c.model}`)}`,
  }) },
  { id: 'realtime', label: 'Realtime', cap: 'realtime', kind: 'realtime', code: (c) => ({
    js: `${jsClient(c)}
const session = await client.beta.realtime.sessions.create({
  model: ${q(c.model)},
  voice: "coral",
  instructions: "Be brief.",
});
// A single-use token and the WebSocket URL to open with it:
console.log(session.client_secret.value, session.connect_url);`,
    py: `${pyClient(c)}
session = client.beta.realtime.sessions.create(
    model=${q(c.model)},
    voice="coral",
    instructions="Be brief.",
)
# A single-use token and the WebSocket URL to open with it:
print(session.client_secret.value, session.connect_url)`,
    curl: curl(c, 'realtime/sessions', { model: c.model, voice: 'coral', instructions: 'Be brief.' }),
  }) },
];

// The first usable model (routing order) of the right kind with the capability; null: none.
export function pick(models: Model[], cap: string, kind: string, also?: string): Model | null {
  const fit = models.filter((m) => m.usable && m.kind === kind && m.capabilities.includes(cap))
    .sort((a, b) => a.chain_position - b.chain_position);
  return (also && fit.find((m) => m.capabilities.includes(also))) || fit[0] || null;
}

export interface Tool { id: string; label: string; where: string; variants: [string, string, string][] } // [id, tab label, code]

export function tools(c: Ctx): Tool[] {
  const opencode = {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      freellmapi: {
        npm: '@ai-sdk/openai-compatible',
        name: 'FreeLLMAPI',
        options: { baseURL: c.base, apiKey: c.key },
        models: { [c.model]: { name: c.model } },
      },
    },
    model: `freellmapi/${c.model}`,
  };
  return [
    { id: 'continue', label: 'Continue', where: 'In ~/.continue/config.yaml (or an assistant\'s config):', variants: [['yaml', 'config.yaml', `name: FreeLLMAPI
version: 0.0.1
schema: v1
models:
  - name: ${q(`FreeLLMAPI ${c.model}`)}
    provider: openai
    model: ${q(c.model)}
    apiBase: ${q(c.base)}
    apiKey: ${q(c.key)}
    roles:
      - chat
      - edit
      - apply`]] },
    { id: 'aider', label: 'Aider', where: 'In the shell (the openai/ prefix tells Aider to speak OpenAI\'s API to this base URL):', variants: [['sh', 'Shell', `export OPENAI_API_BASE=${sh(c.base)}
export OPENAI_API_KEY=${sh(c.key)}
aider --model ${sh(`openai/${c.model}`)}`]] },
    { id: 'opencode', label: 'opencode', where: 'In opencode.json (the project\'s, or ~/.config/opencode/opencode.json):', variants: [['json', 'opencode.json', json(opencode)]] },
    { id: 'langchain', label: 'LangChain', where: 'With langchain-openai (Python) or @langchain/openai (JavaScript):', variants: [
      ['py', 'Python', `from langchain_openai import ChatOpenAI

llm = ChatOpenAI(
    model=${q(c.model)},
    base_url=${q(c.base)},
    api_key=${q(c.key)},
)
print(llm.invoke(${q(ASK)}).content)`],
      ['js', 'JavaScript', `import { ChatOpenAI } from "@langchain/openai";

const llm = new ChatOpenAI({
  model: ${q(c.model)},
  apiKey: ${q(c.key)},
  configuration: { baseURL: ${q(c.base)} },
});
console.log((await llm.invoke(${q(ASK)})).content);`],
    ] },
    { id: 'llamaindex', label: 'LlamaIndex', where: 'With llama-index-llms-openai-like:', variants: [['py', 'Python', `from llama_index.llms.openai_like import OpenAILike

llm = OpenAILike(
    model=${q(c.model)},
    api_base=${q(c.base)},
    api_key=${q(c.key)},
    is_chat_model=True,${c.tools ? '\n    is_function_calling_model=True,' : ''}
)
print(llm.complete(${q(ASK)}))`]] },
    { id: 'ai-sdk', label: 'Vercel AI SDK', where: 'With ai and @ai-sdk/openai:', variants: [['js', 'JavaScript', `import { createOpenAI } from "@ai-sdk/openai";
import { generateText } from "ai";

const freellmapi = createOpenAI({
  baseURL: ${q(c.base)},
  apiKey: ${q(c.key)},
});

const { text } = await generateText({
  model: freellmapi.chat(${q(c.model)}),
  prompt: ${q(ASK)},
});
console.log(text);`]] },
  ];
}
