#!/usr/bin/env python3
"""Writes the benchmark catalog: catalog/catalog.json with one provider (groq) and one model
enabled, every free-tier limit removed (else the ledger rightly answers 429 after 30 RPM),
and a first-byte timeout that a slow benchmark never trips.

Usage: bench/catalog.py SRC_CATALOG OUT_CATALOG [MODEL]
"""
import json
import sys

PROVIDER = "groq"


def main():
    src, out = sys.argv[1], sys.argv[2]
    model = sys.argv[3] if len(sys.argv) > 3 else "llama-3.3-70b-versatile"
    with open(src, encoding="utf-8") as f:
        cat = json.load(f)
    found = False
    for p in cat["providers"]:
        p["enabled"] = p["id"] == PROVIDER
        p["limits"] = {}
        p["timeout_ms"] = 60000
        for m in p["models"]:
            m["limits"] = {}
            m["enabled"] = p["id"] == PROVIDER and m["id"] == model
            found = found or m["enabled"]
    if not found:
        sys.exit(f"catalog.py: no model {PROVIDER}/{model} in {src}")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cat, f, indent=1)


if __name__ == "__main__":
    main()
