// OpenAI-compatible chat completions (whole and streamed) and model lists.
import { inbandError } from '../providers.mjs';
import { alnum, nowSec, sleep, toolCallId, completionId, lastUserText, estTokens, imageCount } from '../common.mjs';


export function makeOpenaiChat(m) {
  const { state, wait, sendJson, sendProviderError, successHeaders, write, sendWhole, lower } = m;

  function buildAnswer(provider, body, rule) {
    const model = rule?.model_echo ?? body.model;
    const imgs = imageCount(body.messages);
    let content = rule?.content ?? (rule?.echo ? `echo: ${lastUserText(body.messages)}` : null) ?? state.config.default_content ?? `Hello from ${provider}/${body.model}.${imgs ? ` I see ${imgs} image${imgs > 1 ? 's' : ''}.` : ''}`;
    let toolCalls = null;
    if (rule?.tool_calls) {
      toolCalls = rule.tool_calls.map((tc) => ({
        id: tc.id ?? toolCallId(provider),
        type: 'function',
        function: { name: tc.name ?? tc.function?.name, arguments: typeof (tc.arguments ?? tc.function?.arguments) === 'string' ? tc.arguments ?? tc.function.arguments : JSON.stringify(tc.arguments ?? tc.function?.arguments ?? {}) },
      }));
      if (rule.content === undefined) content = null;
    }
    const finish = rule?.finish_reason ?? (toolCalls ? 'tool_calls' : 'stop');
    const prompt = estTokens(JSON.stringify(body.messages));
    const completion = estTokens((content ?? '') + (toolCalls ? JSON.stringify(toolCalls) : ''));
    const usage = rule?.usage ?? { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    const reasoningField = provider === 'ollama' ? 'reasoning' : 'reasoning_content';
    return { model, content, toolCalls, finish, usage, reasoning: rule?.reasoning, reasoningField };
  }

  function completionObject(provider, a) {
    const message = { role: 'assistant', content: a.content };
    if (a.reasoning) message[a.reasoningField] = a.reasoning;
    if (a.toolCalls) message.tool_calls = a.toolCalls;
    const obj = {
      id: completionId(provider),
      object: 'chat.completion',
      created: nowSec(),
      model: a.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
      usage: a.usage,
    };
    if (provider === 'groq') {
      obj.system_fingerprint = 'fp_mock00001';
      obj.usage = { queue_time: 0.01, prompt_time: 0.002, completion_time: 0.01, total_time: 0.012, ...a.usage };
      obj.x_groq = { id: `req_${alnum(26)}` };
    } else if (provider === 'openrouter' || provider === 'kilo') {
      obj.provider = 'Chutes';
      obj.choices[0].native_finish_reason = a.finish;
    }
    return obj;
  }

  function streamEvents(provider, body, a) {
    const id = completionId(provider);
    const created = nowSec();
    const includeUsage = Boolean(body.stream_options && body.stream_options.include_usage);
    const base = (choices, extra = {}) => {
      const o = { id, object: 'chat.completion.chunk', created, model: a.model, ...(provider === 'groq' ? { system_fingerprint: 'fp_mock00001' } : {}), choices, ...extra };
      if (includeUsage && provider !== 'mistral' && !('usage' in extra)) o.usage = null;
      return o;
    };
    const ch = (delta, finish = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });
    const evs = [];
    const first = base([ch({ role: 'assistant', content: a.toolCalls && a.content === null ? null : '' })]);
    if (provider === 'groq') first.x_groq = { id: `req_${alnum(26)}` };
    evs.push(first);
    if (a.reasoning) {
      for (const piece of a.reasoning.match(/\S+\s*/g) || [a.reasoning]) evs.push(base([ch({ [a.reasoningField]: piece })]));
    }
    if (a.content) {
      const pieces = a.chunks || a.content.match(/\S+\s*/g) || [a.content];
      for (const piece of pieces) evs.push(base([ch({ content: piece })]));
    }
    if (a.toolCalls) {
      a.toolCalls.forEach((tc, index) => {
        evs.push(base([ch({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] })]));
        const args = tc.function.arguments;
        const third = Math.max(1, Math.ceil(args.length / 3));
        for (let i = 0; i < args.length; i += third) evs.push(base([ch({ tool_calls: [{ index, function: { arguments: args.slice(i, i + third) } }] })]));
      });
    }
    const fin = base([ch({}, a.finish)]);
    if (provider === 'mistral') fin.usage = a.usage; // Mistral always puts usage on its last chunk
    if (provider === 'groq') fin.x_groq = { id: `req_${alnum(26)}`, usage: { queue_time: 0.01, ...a.usage } };
    evs.push(fin);
    if (includeUsage && provider !== 'mistral') evs.push(base([], { usage: a.usage }));
    return evs;
  }

  // Resolves once the bytes are handed to the kernel, so a cut right after
  // them really delivers them first.
  async function handleChat(req, res, rec, ctx) {
    const { provider } = ctx;
    const body = ctx.body ?? rec.body;
    const rule = ctx.rule;
    const aborted = () => res.destroyed || res.writableEnded || req.socket?.destroyed;

    if (rule?.drop) {
      rec.status = 0;
      rec.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (rule?.error) {
      sendProviderError(res, rec, provider, rule.error, rule);
      rec.outcome = 'error';
      return;
    }
    if (rule?.raw_body !== undefined) {
      rec.status = rule.status ?? 200;
      const h = { 'content-type': rule.content_type ?? 'application/json', ...lower(rule.headers) };
      res.writeHead(rec.status, h);
      res.end(typeof rule.raw_body === 'string' ? rule.raw_body : JSON.stringify(rule.raw_body));
      rec.outcome = 'raw';
      return;
    }

    const a = buildAnswer(provider, body, rule);
    if (rule?.chunks) a.chunks = rule.chunks;
    const headers = { ...successHeaders(provider, rec, a.usage), ...lower(rule?.headers) };
    rec.status = 200;

    if (!body.stream) {
      return sendWhole(res, rec, rule, aborted, JSON.stringify(completionObject(provider, a)), headers, 'application/json');
    }

    // streaming
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    if (rule?.stall_after_headers_ms) {
      await wait(rule.stall_after_headers_ms);
      if (aborted()) return;
    }
    if (provider === 'openrouter') await write(res, ': OPENROUTER PROCESSING\n\n');
    const evs = streamEvents(provider, body, a);
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
        const ev = typeof rule.inband_error === 'object' && rule.inband_error ? rule.inband_error : inbandError(provider, a.model);
        await write(res, `data: ${JSON.stringify(ev)}\n\n`);
        res.end('data: [DONE]\n\n');
        rec.outcome = 'inband_error';
        return;
      }
      if (rule?.malformed_after === sent) {
        await write(res, rule.malformed_frame ?? `data: {"id":"${completionId(provider)}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"broken\n\n`);
      }
      if (i === evs.length) break;
      if (delay && i > 0) {
        await wait(delay);
        if (aborted()) return;
      }
      await write(res, `data: ${JSON.stringify(evs[i])}\n\n`);
      sent++;
    }
    res.end('data: [DONE]\n\n');
    rec.outcome = 'ok';
  }

  function handleModels(req, res, rec, ctx) {
    const models = state.catalog[ctx.provider] || [];
    const data = models.map((m) => {
      const o = { id: m.id, object: 'model', created: 1735689600, owned_by: ctx.provider };
      if (m.context_window) o.context_length = m.context_window;
      return o;
    });
    if (!data.length) data.push({ id: `${ctx.provider}-mock-model`, object: 'model', created: 1735689600, owned_by: ctx.provider });
    rec.status = 200;
    if (ctx.modelId) {
      const one = data.find((m) => m.id === ctx.modelId);
      if (!one) return sendProviderError(res, rec, ctx.provider, 'model_not_found');
      return sendJson(res, 200, one, successHeaders(ctx.provider));
    }
    sendJson(res, 200, { object: 'list', data }, successHeaders(ctx.provider));
  }

  return { buildAnswer, completionObject, streamEvents, handleChat, handleModels };
}
