#!/usr/bin/env python3
"""Writes the fuzz drivers' seed corpora (one directory per driver) from the
test fixtures, in each driver's input format (see tests/fuzz/*_fuzz.c).
Usage: fuzz-seeds.py OUT_DIR"""
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
out = sys.argv[1]


def put(driver, name, data):
    d = os.path.join(out, driver)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(path, "rb") as f:
        return f.read()


OPENAI_CHUNKS = "".join(
    "data: %s\n\n" % json.dumps(c)
    for c in [
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":"}}]}}]},
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
        {"error": {"message": "overloaded", "type": "server_error"}},
    ]
) + "data: [DONE]\n\n"
OPENAI_ANSWER = json.dumps({
    "id": "c1", "object": "chat.completion", "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "reasoning_content": "r",
                 "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})
CLOUDFLARE_ANSWER = json.dumps({"result": {"response": "Hi", "usage": {"prompt_tokens": 1}}, "success": True, "errors": []})

# SSE reader and stream readers: the fixtures' streams and an OpenAI one.
streams = [read(p) for p in sorted(glob.glob(os.path.join(FIX, "gemini", "*.sse")))] + [OPENAI_CHUNKS.encode()]
for i, s in enumerate(streams):
    put("sse", "stream%d" % i, bytes([i * 5]) + s)
    for sel in range(0, 60, 7):  # several chat models, so several dialects and providers
        put("stream", "s%d_%d" % (i, sel), bytes([sel]) + s)

# Error classifier: every fixture as provider byte, status byte, headers, body.
cat = json.load(open(os.path.join(ROOT, "catalog", "catalog.json")))
pids = [p["id"] for p in cat["providers"]]
for path in sorted(glob.glob(os.path.join(FIX, "errors", "*", "*.json"))):
    prov = os.path.basename(os.path.dirname(path))
    fx = json.load(open(path))
    status = int(fx.get("status", 500))
    body = fx.get("body", "")
    if not isinstance(body, str):
        body = json.dumps(body)
    heads = "".join("%s: %s\n" % (k, v) for k, v in (fx.get("headers") or {}).items())
    sel = pids.index(prov) if prov in pids else 0
    put("errtable", "%s_%s" % (prov, os.path.basename(path)),
        bytes([sel, max(0, min(255, (status - 200) // 2))]) + (heads + "\n" + body).encode())

# Whole answers: chat (selector < 128) and media (selector >= 128).
answers = [read(p) for p in sorted(glob.glob(os.path.join(FIX, "gemini", "generate_*.json")))]
answers += [OPENAI_ANSWER.encode(), CLOUDFLARE_ANSWER.encode()]
for i, a in enumerate(answers):
    for sel in range(0, 120, 13):
        put("answer", "chat%d_%d" % (i, sel), bytes([sel]) + a)
media = {
    "embed": b"application/json\n" + json.dumps({"data": [{"embedding": [0.1, 0.2], "index": 0}], "usage": {"prompt_tokens": 2}}).encode(),
    "gembed": b"application/json\n" + json.dumps({"embeddings": [{"values": [0.1, 0.2]}]}).encode(),
    "image": b"application/json\n" + json.dumps({"data": [{"b64_json": "iVBORw0KGgo="}]}).encode(),
    "png": b"image/png\n\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    "speech": b"audio/mpeg\n\xff\xfb\x90\x00",
    "stt": b"application/json\n" + json.dumps({"text": "hello", "language": "en", "duration": 1.5, "segments": []}).encode(),
    "token": b"application/json\n" + json.dumps({"name": "auth_tokens/abc", "expireTime": "2026-01-01T00:00:00Z"}).encode(),
}
for name, m in media.items():
    for sel in range(128, 256, 11):
        put("answer", "%s_%d" % (name, sel), bytes([sel]) + m)

# Client requests and Gemini schemas.
reqs = [read(p) for p in sorted(glob.glob(os.path.join(FIX, "gemini", "request_*.json")))]
reqs.append(json.dumps({"model": "auto", "stream": True, "max_tokens": 10, "messages": [
    {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}}).encode())
for i, r in enumerate(reqs):
    for sel in range(0, 60, 9):
        put("request", "req%d_%d" % (i, sel), bytes([sel]) + r)
    body = json.loads(r)
    for k, t in enumerate(body.get("tools") or []):
        put("gemini_schema", "tool%d_%d" % (i, k), json.dumps(t.get("function", {}).get("parameters", {})))
put("gemini_schema", "rich", json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False,
    "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "b": {"$ref": "#/$defs/B"},
                   "c": {"type": ["integer", "null"], "minimum": 0}, "d": {"type": "array", "items": {"enum": ["x", "y"]}}},
    "$defs": {"B": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}}}, "required": ["a"]}))

# Client APIs (client_fuzz.c): Anthropic bodies (sel % 3 == 0), answers (1), chunk arrays (2).
ANTHROPIC_BODY = {"model": "claude-sonnet-4-5", "max_tokens": 64, "system": [{"type": "text", "text": "terse"}],
    "stream": True, "stop_sequences": ["END"], "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
    "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}, {"type": "text", "text": "ok"}, {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": "b"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": [{"type": "text", "text": "no"}]}, {"type": "text", "text": "again"}]}]}
OLLAMA_CHAT = {"model": "auto:latest", "stream": True, "format": {"type": "object"},
    "options": {"temperature": 0.2, "num_predict": 9, "stop": "x", "seed": 1},
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "messages": [{"role": "user", "content": "hi", "images": ["iVBORw0KGgo="]},
                 {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
                 {"role": "tool", "content": "1", "tool_name": "f"}]}
OLLAMA_GENERATE = {"model": "auto", "system": "s", "prompt": "p", "images": ["/9j/AA=="], "format": "json", "stream": False}
RESPONSES_BODY = {"model": "auto", "instructions": "terse", "stream": True, "max_output_tokens": 50,
    "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}}, "reasoning": {"effort": "low"},
    "tools": [{"type": "function", "name": "f", "parameters": {"type": "object"}}], "tool_choice": {"type": "function", "name": "f"},
    "input": [{"role": "developer", "content": "d"},
              {"role": "user", "content": [{"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]},
              {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
              {"type": "function_call_output", "call_id": "c1", "output": "1"},
              {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}]}
chunk_list = [json.loads(l[6:]) for l in OPENAI_CHUNKS.split("\n\n") if l.startswith("data: {")]

def sels(rem, api, extra=(0,)):
    """Selector bytes with sel % 3 == rem for an API (bits 3-4) and extra bits."""
    out = []
    for e in extra:
        base = (api << 3) | e
        for hi in range(0, 256, 1):
            v = (base | hi) & 0xff
            if v % 3 == rem and (v >> 3) & 3 == api and (v & e) == e:
                out.append(v)
                break
    return out

for api, body, extra in ((1, ANTHROPIC_BODY, (0, 4)), (2, RESPONSES_BODY, (0,)), (3, OLLAMA_CHAT, (0,)), (3, OLLAMA_GENERATE, (128,))):
    for sel in sels(0, api, extra):
        put("client", "request_%d_%d" % (api, sel), bytes([sel]) + json.dumps(body).encode())
for api in range(4):
    for sel in sels(1, api, (0, 4, 128)):
        put("client", "answer_%d_%d" % (api, sel), bytes([sel]) + OPENAI_ANSWER.encode())
    for sel in sels(2, api, (0, 4, 32, 64, 128)):
        put("client", "chunks_%d_%d" % (api, sel), bytes([sel]) + json.dumps(chunk_list).encode())

# Multipart forms: boundary line, then the body.
def form(boundary, parts):
    body = ""
    for name, filename, ctype, value in parts:
        body += "--%s\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n%s\r\n%s\r\n" % (
            boundary, name, '; filename="%s"' % filename if filename else "",
            "Content-Type: %s\r\n" % ctype if ctype else "", value)
    return boundary + "\n" + body + "--%s--\r\n" % boundary

put("form", "transcription", form("XyZ", [("model", None, None, "whisper-1"), ("file", "a.wav", "audio/wav", "RIFF....WAVE"), ("timestamp_granularities[]", None, None, "word")]))
put("form", "edit", form("----b0undary", [("prompt", None, None, "make it blue"), ("image[]", "a.png", "image/png", "\x89PNG"), ("n", None, None, "1")]))

# Audio: format byte, speed byte, MIME line, PCM.
pcm = b"".join(int(8000 * ((i % 40) - 20) / 20).to_bytes(2, "little", signed=True) for i in range(2400))
for fmt in range(5):
    put("audio", "fmt%d" % fmt, bytes([fmt, 48]) + b"audio/L16;codec=pcm;rate=24000\n" + pcm)
put("audio", "fast", bytes([3, 200]) + b"audio/pcm;rate=16000\n" + pcm[:1000])

# Latency histogram blobs: (bucket byte, LEB128 count) pairs, as the rollups store them.
put("hist", "one", bytes([7, 1]))
put("hist", "several", bytes([0, 3, 5, 0x80, 0x01, 23, 0xff, 0xff, 0x03]))
put("hist", "wide", bytes([i for b in range(24) for i in (b, 0x81, 0x80, 0x01)]))
