#!/usr/bin/env bash
# Runs the end-to-end suite (tests/e2e, node's built-in test runner) against a
# gateway binary. Usage: scripts/run-e2e.sh [BIN]   (default build/freellmapi)
# Installs tests/e2e and tests/browser node_modules with `npm ci` when missing.
# The product's tests (tests/e2e/*.test.mjs), the dashboard's browser tests
# (tests/browser, E2E_SKIP_BROWSER=1 leaves them out) and the mock providers'
# self-tests (tests/e2e/mock_selftest) run apart, each ending with node's
# "# tests / # pass / # fail" lines and a labelled line ("e2e: P/T tests
# passed", "browser: ...", "mock self-test: ..."). Exits nonzero if any failed.
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

# npm ci in DIR when a dependency its package.json names is not installed
# (a fresh clone, or a dependency added since the last install).
install_missing() {
    if ! node -e 'const fs = require("fs"), d = process.argv[1];
        const pkg = require(fs.realpathSync(d + "/package.json"));
        const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
        process.exit(deps.every((n) => fs.existsSync(d + "/node_modules/" + n + "/package.json")) ? 0 : 1);' "$1"; then
        echo "run-e2e: installing $1 dependencies (npm ci)" >&2
        (cd "$1" && npm ci --no-audit --no-fund --loglevel=error --prefer-offline) >&2
    fi
}
install_missing tests/e2e
# the mock providers (tests/mock): ws for the Gemini Live WebSocket
install_missing tests/mock

# Runs one suite with node's test runner (bounded: each test has its own
# timeout; this is the backstop for the whole run) and ends it with a labelled
# summary line: "<label>: P/T tests passed".
run_suite() {
    local label="$1" limit="$2"
    shift 2
    local log status=0 tests pass
    log=$(mktemp)
    set +e
    timeout --kill-after=30 "$limit" \
        node --test --test-concurrency=1 --test-timeout=120000 "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "run-e2e: $label exceeded $limit s and was stopped" >&2
    fi
    tests=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$log" | tail -1)
    pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
    echo "$label: ${pass:-0}/${tests:-0} tests passed"
    rm -f "$log"
    return "$status"
}

export FREELLMAPI_BIN="$BIN"
status=0
# The product: the gateway driven by real clients, the providers mocked.
run_suite "e2e" 1200 tests/e2e/*.test.mjs || status=$?
# The dashboard in Debian's Chromium (tests/browser), against the same binary.
if [ "${E2E_SKIP_BROWSER:-0}" != 1 ]; then
    install_missing tests/browser
    run_suite "browser" 900 tests/browser/*.test.mjs || status=$?
fi
# The mock providers' own tests (their wire formats): not tests of the product.
if [ "${E2E_SKIP_MOCK:-0}" != 1 ]; then
    run_suite "mock self-test" 300 tests/e2e/mock_selftest/*.test.mjs || status=$?
fi
exit "$status"
