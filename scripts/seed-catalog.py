#!/usr/bin/env python3
"""Re-seed catalog/catalog.json from the provider facts file.

Usage: scripts/seed-catalog.py FACTS.json > catalog/catalog.json

Free tiers change weekly; the gateway reads catalog/catalog.json at start (no
rebuild). This script turns the facts file (providers, models, limits,
capabilities) into our own catalog format and adds what the gateway needs
that the facts only describe in prose: per-provider request policy (params to
drop or rename, content flattening), daily reset rule, provider-wide caps,
health-probe style and timeouts. Priority: lower is tried first; it follows
intelligence rank, then speed, with opt-in/trial providers ranked last.
"""
import json
import sys

RESET = {
    "google": "pacific", "cloudflare": "utc", "openrouter": "utc", "groq": "utc",
    "cerebras": "utc", "sambanova": "utc", "nvidia": "utc", "mistral": "utc",
    "github": "utc", "cohere": "monthly", "zhipu": "utc", "ollama": "utc",
    "kilo": "hourly", "pollinations": "hourly", "llm7": "hourly",
}
# Account-wide caps shared by every model of the provider (per key).
PROVIDER_LIMITS = {
    "openrouter": {"rpm": 20, "rpd": 50},
    "nvidia": {"rpm": 40},
    "cohere": {"rpm": 20, "rpd": 1000},
    "kilo": {"rpd": 200},
    "llm7": {"rpd": 100},
}
POLICY = {
    "mistral": {"drop": ["top_k", "min_p", "repetition_penalty", "logit_bias", "logprobs",
                         "top_logprobs", "reasoning_effort", "user", "service_tier", "store",
                         "metadata", "stream_options", "parallel_tool_calls"],
                "rename": {"seed": "random_seed"}, "short_tool_ids": True},
    "groq": {"drop": ["logprobs", "top_logprobs", "logit_bias"], "strip_message_name": True},
    "github": {"drop": ["top_k", "min_p", "repetition_penalty"], "max_tokens_cap": 4000,
               "reasoning_effort": ["low", "medium", "high"]},
    "google": {"drop": ["min_p", "repetition_penalty", "logit_bias", "logprobs", "top_logprobs"]},
    "cohere": {"drop": ["top_k", "min_p", "repetition_penalty", "logit_bias", "logprobs",
                        "top_logprobs", "reasoning_effort"],
               "flatten_content": True, "strip_schema_keys": ["additionalProperties", "$schema"]},
    "cloudflare": {"drop": ["min_p", "logit_bias", "logprobs", "top_logprobs",
                            "reasoning_effort"],
                   "flatten_content": True, "null_content_empty": True,
                   "default_max_tokens": 8192},
    "kilo": {"drop": ["response_format"]},
    "nvidia": {"serial_tools": True},
}
# How the health probe checks a key: an unmetered GET of the model list where
# the provider has one, else a 1-token chat within the daily probe budget.
PROBE = {"zhipu": "chat", "kilo": "none", "pollinations": "none", "llm7": "models",
         "cloudflare": "chat"}
TIMEOUT_MS = {"nvidia": 180000, "zhipu": 60000, "ollama": 120000, "cloudflare": 200000,
              "google": 60000}
LAST = {"sambanova": 200, "cohere": 100}  # trial/evaluation tiers rank last

# Embedding models: vector space (the same weights served by several providers
# share one), native size, and whether a smaller size may be requested. Only
# models of one space and size are interchangeable when falling over.
EMBEDDING = {
    ("google", "gemini-embedding-001"): {"space": "gemini-embedding-001", "dimensions": 3072,
                                         "flexible": True},
    ("nvidia", "nvidia/llama-nemotron-embed-1b-v2"): {"space": "llama-nemotron-embed-1b-v2",
                                                      "dimensions": 2048},
    ("nvidia", "nvidia/llama-nemotron-embed-vl-1b-v2"): {"space": "llama-nemotron-embed-vl-1b-v2",
                                                         "dimensions": 2048},
    ("openrouter", "nvidia/llama-nemotron-embed-vl-1b-v2"): {
        "space": "llama-nemotron-embed-vl-1b-v2", "dimensions": 2048},
    ("nvidia", "nvidia/nv-embedqa-e5-v5"): {"space": "nv-embedqa-e5-v5", "dimensions": 1024},
    ("mistral", "mistral-embed"): {"space": "mistral-embed", "dimensions": 1024},
    ("github", "openai/text-embedding-3-large"): {"space": "text-embedding-3-large",
                                                  "dimensions": 3072, "flexible": True},
    ("github", "openai/text-embedding-3-small"): {"space": "text-embedding-3-small",
                                                  "dimensions": 1536, "flexible": True},
    ("cohere", "embed-v4.0"): {"space": "embed-v4.0", "dimensions": 1536},
    ("cloudflare", "@cf/baai/bge-m3"): {"space": "bge-m3", "dimensions": 1024},
    ("cloudflare", "@cf/google/embeddinggemma-300m"): {"space": "embeddinggemma-300m",
                                                       "dimensions": 768},
    ("cloudflare", "@cf/qwen/qwen3-embedding-0.6b"): {"space": "qwen3-embedding-0.6b",
                                                      "dimensions": 1024},
}
# Media models served by an API other than their dialect's default.
# "none": listed, but no adapter here yet (never routed).
MEDIA_API = {
    ("cloudflare", "@cf/black-forest-labs/flux-1-schnell"): "cloudflare-run",
    ("cloudflare", "@cf/stabilityai/stable-diffusion-xl-base-1.0"): "cloudflare-run",
    ("cloudflare", "@cf/black-forest-labs/flux-2-klein-4b"): "none",
    ("cloudflare", "@cf/runwayml/stable-diffusion-v1-5-img2img"): "none",
    ("cloudflare", "@cf/runwayml/stable-diffusion-v1-5-inpainting"): "none",
    ("cloudflare", "@cf/myshell-ai/melotts"): "none",
    ("cloudflare", "@cf/openai/whisper"): "cloudflare-run",
    ("cloudflare", "@cf/openai/whisper-large-v3-turbo"): "cloudflare-run",
    ("nvidia", "black-forest-labs/flux.1-dev"): "none",
    ("nvidia", "black-forest-labs/flux.1-schnell"): "none",
    ("nvidia", "black-forest-labs/flux.2-klein-4b"): "none",
    ("pollinations", "flux"): "pollinations-image",
    ("pollinations", "turbo"): "pollinations-image",
    ("pollinations", "openai-audio"): "none",
}


def limits(src):
    out = {}
    for k in ("rpm", "rpd", "tpm", "tpd"):
        v = (src or {}).get(k)
        if v:
            out[k] = v
    return out


def main():
    facts = json.load(open(sys.argv[1]))
    providers = []
    for p in facts["providers"]:
        pid = p["id"]
        auth = p.get("auth", {})
        fmt = auth.get("format", "Bearer {key}")
        prefix = "Bearer " if fmt.startswith("Bearer") else ""
        models = []
        for m in p["models"]:
            rank = m.get("intelligence_rank") or 50
            speed = m.get("speed_rank") or 10
            prio = LAST.get(pid, 0) + rank * 100 + speed
            entry = {
                "id": m["id"],
                "name": m.get("name", m["id"]),
                "kind": m["kind"],
                "capabilities": m.get("capabilities", []),
                "context_window": m.get("context_window"),
                "max_output_tokens": m.get("max_output_tokens"),
                "limits": limits(m.get("limits")),
                "priority": prio,
                "enabled": bool(m.get("enabled_by_default", True)),
            }
            if (pid, m["id"]) in EMBEDDING:
                entry["embedding"] = EMBEDDING[(pid, m["id"])]
            if (pid, m["id"]) in MEDIA_API:
                entry["api"] = MEDIA_API[(pid, m["id"])]
            models.append(entry)
        prov = {
            "id": pid,
            "name": p["name"],
            "base_url": p["base_url"],
            "dialect": p["dialect"],
            "auth": {"header": auth.get("header", "Authorization"), "prefix": prefix},
            "needs_account_id": "account_id" in (auth.get("extra_required") or []),
            "keyless": bool(p.get("keyless")),
            "enabled": bool(p.get("enabled_by_default", True)),
            "daily_reset": RESET.get(pid, "utc"),
            "limits": PROVIDER_LIMITS.get(pid, {}),
            "policy": POLICY.get(pid, {}),
            "probe": PROBE.get(pid, "models"),
            "timeout_ms": TIMEOUT_MS.get(pid, 45000),
            "models": models,
        }
        providers.append(prov)
    out = {"version": 1, "source": "scripts/seed-catalog.py from the provider facts file",
           "providers": providers}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
