#!/usr/bin/env bash
# Runs the end-to-end suite (tests/e2e, node's built-in test runner) against a
# gateway binary. Usage: scripts/run-e2e.sh [BIN]   (default build/freellmapi)
# Installs tests/e2e/node_modules with `npm ci` when missing. Exits with
# node's status; the run ends with node's "# tests / # pass / # fail" lines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-${FREELLMAPI_BIN:-build/freellmapi}}"
case "$BIN" in /*) ;; *) BIN="$(pwd)/$BIN" ;; esac
cd "$ROOT"

if ! command -v node >/dev/null 2>&1; then
    echo "run-e2e: node (>= 20) is required" >&2
    exit 1
fi
if [ ! -x "$BIN" ]; then
    echo "run-e2e: gateway binary not found or not executable: $BIN" >&2
    exit 1
fi

if [ ! -d tests/e2e/node_modules/openai ]; then
    echo "run-e2e: installing tests/e2e dependencies (npm ci)" >&2
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error --prefer-offline) >&2
fi

# Bounded: each test has its own timeout; this is the backstop for the whole run.
export FREELLMAPI_BIN="$BIN"
status=0
timeout --kill-after=30 1200 \
    node --test --test-concurrency=1 --test-timeout=120000 tests/e2e/ || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run-e2e: the suite exceeded 1200 s and was stopped" >&2
fi
exit "$status"
