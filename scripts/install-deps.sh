#!/bin/sh
# Installs the Debian packages FreeLLMAPI builds and tests with, only those missing
# (chromium: the dashboard's browser tests).
# Called by the Makefile; safe to run again. Uses apt-get as root, sudo otherwise.
# `install-deps.sh fuzz` adds Debian's clang and its fuzzer runtime (make fuzz).
set -eu

PKGS="pkg-config libuv1-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev \
libsqlite3-dev libssl-dev libcmocka-dev libmp3lame-dev libopusenc-dev libopus-dev libflac-dev \
libsonic-dev python3 chromium"
if [ "${1:-}" = fuzz ]; then
    PKGS="$PKGS clang-14 libclang-rt-14-dev"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
