#!/usr/bin/env python3
"""Builds catalog/catalog.json from the provider facts and the gateway's settings.

Usage: catalog/build.py          write catalog/catalog.json
       catalog/build.py --check  exit 1 when catalog/catalog.json is not what the sources give

Sources, both in this folder:
  facts.json    what the providers offer: base URLs, auth, models, capabilities, free-tier
                limits, ranks, key and docs pages, paid-equivalent prices, budget estimates.
  gateway.json  what the gateway adds per provider: period reset, account-wide caps, request
                policy, key probe, timeout, a priority offset for trial tiers, and per model
                the embedding space or the upstream API of media models; and the model names
                clients send that route to a tier of the chain (OpenAI's, Claude's): each chat
                model gets a tier (small, large) and a reasoning flag.

Free tiers change weekly; the gateway reads catalog.json at start (FREELLMAPI_CATALOG points at
an edited copy, no rebuild). Priority: lower is tried first; it follows intelligence rank, then
speed, plus the provider's offset. A setting for a provider or model the facts do not have is
an error, like an unknown key in the catalog itself.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER_SETTINGS = {"daily_reset", "limits", "policy", "probe", "timeout_ms",
                     "priority_offset", "models"}
MODEL_SETTINGS = {"embedding", "api"}


def fail(msg):
    sys.exit("catalog/build.py: " + msg)


def limits(src):
    return {k: v for k in ("rpm", "rpd", "tpm", "tpd") if (v := (src or {}).get(k))}


def monthly_tokens(text):
    """The lower bound of an estimate like "~3M", "~18-45M", "~2M (credits)"; None if none."""
    m = re.match(r"~?\s*([\d.]+)(?:-[\d.]+)?\s*([KMB])", str(text or ""))
    if not m:
        return None
    return int(float(m.group(1)) * {"K": 1e3, "M": 1e6, "B": 1e9}[m.group(2)])


def price(src):
    if not isinstance(src, dict) or "input" not in src or "output" not in src:
        return None
    return {"input": src["input"], "output": src["output"]}


def model_tier(m):
    """small or large for a chat model (large: intelligence rank 12 or better), else None."""
    if m["kind"] != "chat":
        return None
    rank = m.get("intelligence_rank")
    return "large" if rank is not None and rank <= 12 else "small"


def build(facts, settings, names):
    providers = []
    reasoning = names.get("reasoning_models", [])
    known = {p["id"]: {m["id"] for m in p["models"]} for p in facts["providers"]}
    for pid, s in settings.items():
        if pid not in known:
            fail(f"gateway.json names provider {pid!r}, which facts.json does not have")
        if set(s) - PROVIDER_SETTINGS:
            fail(f"gateway.json: {pid}: unknown settings {sorted(set(s) - PROVIDER_SETTINGS)}")
        for mid, ms in s.get("models", {}).items():
            if mid not in known[pid]:
                fail(f"gateway.json names model {pid}/{mid}, which facts.json does not have")
            if set(ms) - MODEL_SETTINGS:
                fail(f"gateway.json: {pid}/{mid}: unknown settings {sorted(set(ms) - MODEL_SETTINGS)}")
    for p in facts["providers"]:
        pid = p["id"]
        s = settings.get(pid, {})
        auth = p.get("auth", {})
        fmt = auth.get("format", "Bearer {key}")
        models = []
        for m in p["models"]:
            ms = s.get("models", {}).get(m["id"], {})
            rank = m.get("intelligence_rank") or 50
            speed = m.get("speed_rank") or 10
            entry = {
                "id": m["id"],
                "name": m.get("name", m["id"]),
                "kind": m["kind"],
                "capabilities": m.get("capabilities", []),
                "context_window": m.get("context_window"),
                "max_output_tokens": m.get("max_output_tokens"),
                "limits": limits(m.get("limits")),
                "priority": s.get("priority_offset", 0) + rank * 100 + speed,
                "enabled": bool(m.get("enabled_by_default", True)),
                "price_per_mtok": price(m.get("paid_equivalent_usd_per_mtok")),
                "monthly_tokens": monthly_tokens(m.get("monthly_token_budget_estimate")),
            }
            if model_tier(m) is not None:
                entry["tier"] = model_tier(m)
                entry["reasoning"] = any(r in m["id"].lower() for r in reasoning)
            entry.update(ms)
            models.append(entry)
        providers.append({
            "id": pid,
            "name": p["name"],
            "base_url": p["base_url"],
            "dialect": p["dialect"],
            "auth": {"header": auth.get("header", "Authorization"),
                     "prefix": "Bearer " if fmt.startswith("Bearer") else ""},
            "needs_account_id": "account_id" in (auth.get("extra_required") or []),
            "keyless": bool(p.get("keyless")),
            "enabled": bool(p.get("enabled_by_default", True)),
            "key_url": p.get("key_url"),
            "docs_url": p.get("docs_url"),
            "daily_reset": s.get("daily_reset", "utc"),
            "limits": s.get("limits", {}),
            "policy": s.get("policy", {}),
            "probe": s.get("probe", "models"),
            "timeout_ms": s.get("timeout_ms", 45000),
            "models": models,
        })
    for name, tier in names.get("aliases", {}).items():
        if tier not in ("small", "large", "reasoning"):
            fail(f"gateway.json: model name {name!r}: tier {tier!r} is not small, large or reasoning")
    return {"version": 1, "source": "catalog/build.py from catalog/facts.json and catalog/gateway.json",
            "model_names": names.get("aliases", {}), "providers": providers}


def main():
    facts = json.load(open(os.path.join(HERE, "facts.json")))
    gateway = json.load(open(os.path.join(HERE, "gateway.json")))
    text = json.dumps(build(facts, gateway["providers"], gateway.get("model_names", {})), indent=1) + "\n"
    out = os.path.join(HERE, "catalog.json")
    if sys.argv[1:] == ["--check"]:
        if open(out).read() != text:
            fail("catalog.json is out of date: run catalog/build.py")
        print("catalog: catalog.json matches facts.json and gateway.json")
        return
    if sys.argv[1:]:
        fail(__doc__.strip().splitlines()[2])
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
