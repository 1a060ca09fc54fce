#!/bin/sh
# Installs what the benchmarks need, only what is missing; safe to run again.
#   Debian packages: wrk (throughput), strace (syscall counts), nodejs + npm (the peer)
#   the peer gateway: @portkey-ai/gateway from npm into bench/.cache/peer (never committed)
# Uses apt-get as root, sudo otherwise, like scripts/install-deps.sh.
#   BENCH_PEER=0              skip the peer
#   BENCH_PEER_VERSION=X.Y.Z  the peer version (default below; "latest" is allowed)
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEER_VERSION="${BENCH_PEER_VERSION:-1.15.2}"
PEER_DIR="$ROOT/bench/.cache/peer"

missing=""
need_pkg() {
    if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $1"
    fi
}
command -v wrk >/dev/null 2>&1 || need_pkg wrk
command -v strace >/dev/null 2>&1 || need_pkg strace
command -v python3 >/dev/null 2>&1 || need_pkg python3
if [ "${BENCH_PEER:-1}" != 0 ]; then
    command -v node >/dev/null 2>&1 || need_pkg nodejs
    command -v npm >/dev/null 2>&1 || need_pkg npm
fi

if [ -n "$missing" ]; then
    echo "bench/install.sh: installing$missing" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 $SUDO apt-get update -q
    # shellcheck disable=SC2086
    timeout 900 $SUDO apt-get install -y -q --no-install-recommends $missing
fi

[ "${BENCH_PEER:-1}" = 0 ] && exit 0

# The peer, at the pinned version, in a cache directory that .gitignore keeps out of git.
want="$PEER_VERSION"
have=""
if [ -f "$PEER_DIR/node_modules/@portkey-ai/gateway/package.json" ]; then
    have="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' \
        "$PEER_DIR/node_modules/@portkey-ai/gateway/package.json")"
fi
if [ "$want" = latest ] || [ "$have" != "$want" ]; then
    echo "bench/install.sh: installing @portkey-ai/gateway@$want into bench/.cache/peer" >&2
    mkdir -p "$PEER_DIR"
    [ -f "$PEER_DIR/package.json" ] || echo '{"private": true}' > "$PEER_DIR/package.json"
    (cd "$PEER_DIR" && timeout 600 npm install --no-audit --no-fund --loglevel=error \
        --save-exact "@portkey-ai/gateway@$want") >&2 ||
        echo "bench/install.sh: npm install of the peer failed; the peer will be reported missing" >&2
fi
exit 0
