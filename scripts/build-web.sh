#!/usr/bin/env bash
# Builds the dashboard (web/ -> web/dist) when web/ exists: npm ci from the lock
# file when node_modules is missing or older than it, then `npm run build`.
# Without web/package.json there is nothing to build (the binary then serves a
# note instead of the dashboard).
set -euo pipefail
cd "$(dirname "$0")/../web" 2>/dev/null || exit 0
[ -f package.json ] || exit 0
if ! command -v npm >/dev/null; then
    echo "build-web: npm is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
fi
npm run --silent build
