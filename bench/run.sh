#!/usr/bin/env bash
# The benchmarks (`make bench`): the gateway against the same mock upstream reached directly
# (the baseline, measured in the same run) and through a peer gateway (Portkey, from npm).
# Prints a table and writes docs/benchmarks.md. Usage: bench/run.sh [BUILD_DIR]
#
#   BENCH_QUICK=1   a short run (about 1-2 minutes); the full run takes under 10
#   BENCH_PEER=0    leave the peer out
#   BENCH_OUT=FILE  where to write the report (default docs/benchmarks.md)
#   BENCH_DASHBOARD=1  poll the admin API every 2 s during the run, as an open dashboard does
#
# Figures on a shared 2-core machine are noisy: each scenario runs direct, gateway and peer
# back to back, repeated, and the report gives medians of the repetitions and ratios taken
# within a repetition. The load generators, the mock and the gateway share the cores; nothing
# is pinned. Everything listens on 127.0.0.1 only. Every load loop is bounded in count and time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
cd "$ROOT"

QUICK="${BENCH_QUICK:-0}"
PEER="${BENCH_PEER:-1}"
OUT="${BENCH_OUT:-$ROOT/docs/benchmarks.md}"
GW_BIN="$BUILD/freellmapi"
MOCK_BIN="$BUILD/bench/mock"
LOADGEN="$BUILD/bench/loadgen"
CACHE="$ROOT/bench/.cache"
RUN="$CACHE/run"
RESULTS="$RUN/results.jsonl"
MODEL="llama-3.3-70b-versatile"
T_START=$(date +%s)

if [ "$QUICK" = 1 ]; then
    REPS=2            # repetitions of each timed scenario
    DUR=3             # seconds per wrk run
    LAT_N=2000        # requests per c=1 latency run (peer: half)
    STREAM_N=10       # streams per streaming run (20 chunks, 5 ms apart: 0.1 s each)
    HOLD_WANT=2000    # concurrent open streams
    HOLD_CYCLES=2
    START_REPS=3
else
    REPS=3
    DUR=8
    LAT_N=5000
    STREAM_N=30
    HOLD_WANT=10000
    HOLD_CYCLES=3
    START_REPS=5
fi
CHUNKS=20
CHUNK_MS=5

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# ---- set-up -------------------------------------------------------------------------------

"$ROOT/bench/install.sh"
for f in "$GW_BIN" "$MOCK_BIN" "$LOADGEN"; do
    [ -x "$f" ] || die "$f is missing: run it through 'make bench'"
done
command -v wrk >/dev/null || die "wrk is not installed"

# 10,000 streams hold two descriptors each in the gateway (client + upstream): raise the soft
# limit to the hard one (no more is possible without CAP_SYS_RESOURCE).
HARD_NOFILE=$(ulimit -Hn)
[ "$HARD_NOFILE" = unlimited ] && HARD_NOFILE=1048576
ulimit -n "$HARD_NOFILE" 2>/dev/null || true
NOFILE=$(ulimit -n)
HOLD_N=$HOLD_WANT
# The gateway's own connection cap for this limit (src/core/fdlimit.c): it keeps an eighth of the
# descriptors, 32..256, and two per connection. Past it, clients wait in the listen queue.
RESERVE=$((NOFILE / 8)); [ "$RESERVE" -lt 32 ] && RESERVE=32; [ "$RESERVE" -gt 256 ] && RESERVE=256
if [ $(((NOFILE - RESERVE) / 2)) -lt "$HOLD_N" ]; then
    HOLD_N=$(((NOFILE - RESERVE) / 2))
    log "open-file limit $NOFILE: holding $HOLD_N streams instead of $HOLD_WANT"
fi

rm -rf "$RUN"
mkdir -p "$RUN"
: >"$RESULTS"

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# utime + stime of a process in clock ticks (fields 14, 15 of /proc/PID/stat).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -1; }
emit() { printf '%s\n' "$1" >>"$RESULTS"; }
stop_pid() { # graceful, bounded
    local p=$1 _
    kill "$p" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

# The mock upstream.
"$MOCK_BIN" --port 0 >"$RUN/mock.out" 2>"$RUN/mock.err" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 50); do
    grep -q listening "$RUN/mock.out" 2>/dev/null && break
    sleep 0.1
done
MOCK_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)$/\1/p' "$RUN/mock.out")
[ -n "$MOCK_PORT" ] || die "the mock did not start: $(cat "$RUN/mock.err")"
MOCK="http://127.0.0.1:$MOCK_PORT"
log "mock on $MOCK (pid $MOCK_PID)"

# The gateway: one provider, one model, no free-tier limits, every provider pointed at the mock
# so that nothing leaves 127.0.0.1, no key probes.
python3 "$ROOT/bench/catalog.py" "$ROOT/catalog/catalog.json" "$RUN/catalog.json" "$MODEL"
for v in $(env | sed -n 's/^\(FREELLMAPI_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset ENCRYPTION_KEY HOST PORT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export FREELLMAPI_CATALOG="$RUN/catalog.json" FREELLMAPI_PROBE_INTERVAL_S=0 LOG_LEVEL=warn
for id in $(python3 -c 'import json, sys; print(" ".join(p["id"] for p in json.load(open(sys.argv[1]))["providers"]))' "$RUN/catalog.json"); do
    export "FREELLMAPI_$(echo "$id" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9\n' '_')_BASE_URL=$MOCK/offline/$id"
done
# Streams: $CHUNKS events, $CHUNK_MS ms apart (the mock reads these from the path).
GW_UPSTREAM="$MOCK/chunks=$CHUNKS/delay_ms=$CHUNK_MS/groq/openai/v1"
# Held streams: one event, then silence for 10 minutes (the client closes first).
HOLD_UPSTREAM="$MOCK/chunks=2/delay_ms=600000/groq/openai/v1"
export FREELLMAPI_GROQ_BASE_URL="$GW_UPSTREAM"
DATA="$RUN/gwdata"
"$GW_BIN" --data-dir "$DATA" keys add groq gsk_bench_not_a_real_key >/dev/null
GW_KEY=$("$GW_BIN" --data-dir "$DATA" unified-key | grep -o 'freellmapi-[A-Za-z0-9_-]*' | head -1)
[ -n "$GW_KEY" ] || die "no unified key"

BODY="{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"max_tokens\":16}"
# A long conversation (~40 KB: a system prompt and 20 turns), where the cost per byte of
# reading and rewriting the request shows.
BIG_BODY=$(python3 -c '
import json, sys
msgs = [{"role": "system", "content": "You are a helpful assistant. " * 20}]
for i in range(20):
    msgs.append({"role": ("user", "assistant")[i % 2],
                 "content": "Message %d: " % i + "lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 35})
print(json.dumps({"model": sys.argv[1], "messages": msgs, "max_tokens": 16}, separators=(",", ":")))
' "$MODEL")
SBODY="{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"stream\":true}"

start_gateway() { # PORT UPSTREAM_BASE -> sets GW_PID
    FREELLMAPI_GROQ_BASE_URL="$2" "$GW_BIN" --data-dir "$DATA" serve --host 127.0.0.1 \
        --port "$1" >>"$RUN/gateway.log" 2>&1 &
    GW_PID=$!
    PIDS+=("$GW_PID")
}
wait_ready() { # URL [-H ...] [--body ...]: until a 200, at most 30 s
    local _
    for _ in $(seq 300); do
        if "$LOADGEN" run --url "$@" -n 1 -d 5 2>/dev/null | grep -q '"ok":1,'; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# The peer: Portkey's gateway from npm, run with node; its server would listen on every
# interface, bench/loopback.cjs keeps it on 127.0.0.1. Routed per request with headers.
PEER_JS="$CACHE/peer/node_modules/@portkey-ai/gateway/build/start-server.js"
PEER_VERSION=""
PEER_NOTE=""
if [ "$PEER" != 0 ]; then
    if [ -f "$PEER_JS" ] && command -v node >/dev/null; then
        PEER_VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' \
            "$CACHE/peer/node_modules/@portkey-ai/gateway/package.json")
    else
        PEER=0
        PEER_NOTE="the peer could not be installed (see bench/install.sh output)"
        log "$PEER_NOTE"
    fi
fi
PEER_H=(-H "x-portkey-provider: openai" -H "Authorization: Bearer sk-bench")
start_peer() { # PORT -> sets PEER_PID
    node -r "$ROOT/bench/loopback.cjs" "$PEER_JS" --port="$1" --headless >>"$RUN/peer.log" 2>&1 &
    PEER_PID=$!
    PIDS+=("$PEER_PID")
}

CLK=$(getconf CLK_TCK)
cat >"$RUN/meta.json" <<EOF
{"quick": $QUICK, "reps": $REPS, "duration_s": $DUR, "lat_n": $LAT_N, "stream_n": $STREAM_N,
 "big_body_bytes": ${#BIG_BODY}, "chunks": $CHUNKS, "chunk_ms": $CHUNK_MS, "hold_n": $HOLD_N, "hold_want": $HOLD_WANT,
 "hold_cycles": $HOLD_CYCLES, "start_reps": $START_REPS, "nofile": $NOFILE,
 "peer": $PEER, "peer_version": "$PEER_VERSION", "peer_note": "$PEER_NOTE",
 "node": "$(node --version 2>/dev/null || echo none)",
 "wrk": "$(wrk -v 2>&1 | head -1 | sed 's/"/ /g')",
 "git": "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)",
 "kernel": "$(uname -r)", "cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)",
 "cores": $(nproc), "mem_kb": $(awk '/^MemTotal:/ {print $2}' /proc/meminfo),
 "os": "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null)",
 "dashboard": ${BENCH_DASHBOARD:-0},
 "date": "$(date -u +%Y-%m-%dT%H:%MZ)", "clk_tck": $CLK}
EOF

# ---- (5) start-up: time to the first served request ----------------------------------------

log "start-up: $START_REPS starts each"
P=$(free_port)
j=$(timeout 300 "$LOADGEN" startup --url "http://127.0.0.1:$P/v1/chat/completions" \
    -H "Authorization: Bearer $GW_KEY" --body "$BODY" -n "$START_REPS" -d 30 \
    --log "$RUN/gateway.log" -- "$GW_BIN" --data-dir "$DATA" serve --host 127.0.0.1 --port "$P" \
    2>>"$RUN/loadgen.log") || j='{"failed":true}'
emit "{\"scenario\":\"startup\",\"target\":\"gateway\",\"lg\":$j}"
P=$(free_port)
j=$(timeout 300 "$LOADGEN" startup --url "http://127.0.0.1:$P/v1/chat/completions" \
    --body "$BODY" -n "$START_REPS" -d 30 -- "$MOCK_BIN" --port "$P" 2>>"$RUN/loadgen.log") ||
    j='{"failed":true}'
emit "{\"scenario\":\"startup\",\"target\":\"direct\",\"lg\":$j}"
if [ "$PEER" != 0 ]; then
    P=$(free_port)
    j=$(timeout 300 "$LOADGEN" startup --url "http://127.0.0.1:$P/v1/chat/completions" \
        "${PEER_H[@]}" -H "x-portkey-custom-host: $MOCK/v1" --body "$BODY" -n "$START_REPS" -d 60 \
        --log "$RUN/peer.log" -- node -r "$ROOT/bench/loopback.cjs" "$PEER_JS" --port="$P" \
        --headless 2>>"$RUN/loadgen.log") || j='{"failed":true}'
    emit "{\"scenario\":\"startup\",\"target\":\"peer\",\"lg\":$j}"
fi

# ---- the long-running instances -----------------------------------------------------------

GW_PORT=$(free_port)
start_gateway "$GW_PORT" "$GW_UPSTREAM"
GW_URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
GW_H=(-H "Authorization: Bearer $GW_KEY")
wait_ready "$GW_URL" "${GW_H[@]}" --body "$BODY" || die "the gateway did not answer"
log "gateway on port $GW_PORT (pid $GW_PID)"
# BENCH_DASHBOARD=1: an open dashboard polls the admin API meanwhile, as its pages do (keys,
# models, analytics of every window, the log, diagnostics, budgets: all every 2 s, far more than
# one open page asks), bounded by the run's own life.
if [ "${BENCH_DASHBOARD:-0}" = 1 ]; then
    (for _ in $(seq 3600); do
        for p in keys models providers status 'analytics?window=24h' 'analytics?window=7d' \
            'analytics?window=30d' 'logs?limit=100' diagnostics budgets; do
            curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$GW_PORT/api/$p" || true
        done
        sleep 2
    done) &
    PIDS+=("$!")
    log "dashboard polling /api every 2 s"
fi
DIRECT_URL="$GW_UPSTREAM/chat/completions"
if [ "$PEER" != 0 ]; then
    PEER_PORT=$(free_port)
    start_peer "$PEER_PORT"
    PEER_URL="http://127.0.0.1:$PEER_PORT/v1/chat/completions"
    if wait_ready "$PEER_URL" "${PEER_H[@]}" -H "x-portkey-custom-host: $MOCK/v1" --body "$BODY"; then
        log "peer (Portkey $PEER_VERSION) on port $PEER_PORT (pid $PEER_PID)"
    else
        PEER=0
        PEER_NOTE="the peer did not answer a request within 30 s (see bench/.cache/run/peer.log)"
        log "$PEER_NOTE"
        emit "{\"scenario\":\"note\",\"target\":\"peer\",\"text\":\"$PEER_NOTE\"}"
    fi
fi

# One targets' loadgen run, recorded as {"scenario", "target", "rep", "lg": {...}}.
lg_run() { # SCENARIO TARGET REP LOADGEN_ARGS...
    local scen=$1 target=$2 rep=$3 j
    shift 3
    j=$(timeout 300 "$LOADGEN" run "$@" 2>>"$RUN/loadgen.log") || j=""
    [ -n "$j" ] || j='{"failed":true}'
    emit "{\"scenario\":\"$scen\",\"target\":\"$target\",\"rep\":$rep,\"lg\":$j}"
}
# One wrk run, with the CPU time of the target process and of the mock over it.
wrk_run() { # TARGET C REP PID URL HEADERS
    local target=$1 c=$2 rep=$3 pid=$4 url=$5 headers=$6 c0 m0 c1 m1 out j
    c0=$(cpu_ticks "$pid")
    m0=$(cpu_ticks "$MOCK_PID")
    out=$(BENCH_BODY="$BODY" BENCH_HEADERS="$headers" timeout $((DUR + 60)) \
        wrk -t2 -c"$c" -d"${DUR}s" --timeout 10s -s "$ROOT/bench/post.lua" "$url" 2>&1) || true
    c1=$(cpu_ticks "$pid")
    m1=$(cpu_ticks "$MOCK_PID")
    j=$(printf '%s\n' "$out" | sed -n 's/^WRK_JSON //p' | head -1)
    [ -n "$j" ] || j='{"failed":true}'
    emit "{\"scenario\":\"throughput\",\"target\":\"$target\",\"c\":$c,\"rep\":$rep,\"cpu_ticks\":$((c1 - c0)),\"mock_cpu_ticks\":$((m1 - m0)),\"rss_kb\":$(rss_kb "$pid"),\"clk_tck\":$CLK,\"wrk\":$j}"
}

# ---- (1) added latency at concurrency 1 ----------------------------------------------------

for rep in $(seq "$REPS"); do
    log "latency at c=1, repetition $rep/$REPS"
    lg_run latency direct "$rep" --url "$DIRECT_URL" --body "$BODY" -n "$LAT_N" -w 300 -d 60 \
        --pid "$MOCK_PID"
    lg_run latency gateway "$rep" --url "$GW_URL" "${GW_H[@]}" --body "$BODY" -n "$LAT_N" -w 300 \
        -d 60 --pid "$GW_PID"
    if [ "$PEER" != 0 ]; then
        lg_run latency peer "$rep" --url "$PEER_URL" "${PEER_H[@]}" \
            -H "x-portkey-custom-host: $MOCK/v1" --body "$BODY" -n $((LAT_N / 2)) -w 300 -d 60 \
            --pid "$PEER_PID"
    fi
done

# ---- (1b) the same with a long conversation ------------------------------------------------

BIG_N=$((LAT_N / 5))
for rep in $(seq "$REPS"); do
    log "latency at c=1 with a ${#BIG_BODY}-byte conversation, repetition $rep/$REPS"
    lg_run latency_big direct "$rep" --url "$DIRECT_URL" --body "$BIG_BODY" -n "$BIG_N" -w 100 \
        -d 60 --pid "$MOCK_PID"
    lg_run latency_big gateway "$rep" --url "$GW_URL" "${GW_H[@]}" --body "$BIG_BODY" -n "$BIG_N" \
        -w 100 -d 60 --pid "$GW_PID"
    if [ "$PEER" != 0 ]; then
        lg_run latency_big peer "$rep" --url "$PEER_URL" "${PEER_H[@]}" \
            -H "x-portkey-custom-host: $MOCK/v1" --body "$BIG_BODY" -n $((BIG_N / 2)) -w 100 \
            -d 60 --pid "$PEER_PID"
    fi
done

# ---- (2) throughput at 32 and 256 connections, CPU per request -----------------------------

for c in 32 256; do
    for rep in $(seq "$REPS"); do
        log "throughput at c=$c, repetition $rep/$REPS (${DUR}s each)"
        wrk_run direct "$c" "$rep" "$MOCK_PID" "$DIRECT_URL" ""
        wrk_run gateway "$c" "$rep" "$GW_PID" "$GW_URL" "Authorization: Bearer $GW_KEY"
        if [ "$PEER" != 0 ]; then
            wrk_run peer "$c" "$rep" "$PEER_PID" "$PEER_URL" \
                "x-portkey-provider: openai|x-portkey-custom-host: $MOCK/v1|Authorization: Bearer sk-bench"
        fi
    done
done

# ---- (3) streaming: $CHUNKS chunks, $CHUNK_MS ms apart ----------------------------------------

PEER_STREAMS=$PEER
for rep in $(seq "$REPS"); do
    log "streaming, repetition $rep/$REPS"
    lg_run stream direct "$rep" --url "$DIRECT_URL" --body "$SBODY" -n "$STREAM_N" -w 2 -d 60
    lg_run stream gateway "$rep" --url "$GW_URL" "${GW_H[@]}" --body "$SBODY" -n "$STREAM_N" -w 2 \
        -d 60
    if [ "$PEER_STREAMS" != 0 ]; then
        lg_run stream peer "$rep" --url "$PEER_URL" "${PEER_H[@]}" \
            -H "x-portkey-custom-host: $MOCK/chunks=$CHUNKS/delay_ms=$CHUNK_MS/v1" --body "$SBODY" \
            -n "$STREAM_N" -w 2 -d 60
        # A peer that fails every stream is reported once, with its answer and log line.
        if tail -1 "$RESULTS" | grep -q '"ok":0,'; then
            PEER_STREAMS=0
            ans=$("$LOADGEN" run --url "$PEER_URL" "${PEER_H[@]}" \
                -H "x-portkey-custom-host: $MOCK/v1" --body "$SBODY" -n 1 -d 10 2>/dev/null |
                python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["statuses"]))' ||
                echo "?")
            why=$(grep -o 'TypeError: [A-Za-z ]*\|Error: [A-Za-z ]*' "$RUN/peer.log" | tail -1 || true)
            emit "{\"scenario\":\"note\",\"target\":\"peer\",\"text\":\"streaming fails: HTTP $ans ${why:-}\"}"
            log "peer streaming fails: HTTP $ans ${why:-}"
        fi
    fi
done

# ---- syscalls per request (strace -c), when strace can attach -----------------------------

if command -v strace >/dev/null; then
    for target in gateway direct; do
        if [ "$target" = gateway ]; then
            pid=$GW_PID
            args=(--url "$GW_URL" "${GW_H[@]}")
        else
            pid=$MOCK_PID
            args=(--url "$DIRECT_URL")
        fi
        n=2000
        timeout 120 strace -c -f -q -p "$pid" -o "$RUN/strace-$target.txt" &
        st=$!
        sleep 0.5
        "$LOADGEN" run "${args[@]}" --body "$BODY" -n "$n" -d 60 >/dev/null 2>>"$RUN/loadgen.log" || true
        sleep 1.2 # the gateway's once-a-second request-log flush belongs to these requests
        kill -INT "$st" 2>/dev/null || true
        wait "$st" 2>/dev/null || true
        # "% time, seconds, usecs/call, calls, [errors,] syscall": calls is the 4th column.
        calls=$(awk '$NF == "total" {print $4}' "$RUN/strace-$target.txt" 2>/dev/null | tail -1)
        top=$(awk 'NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" {print $4, $NF}' \
            "$RUN/strace-$target.txt" 2>/dev/null | sort -rn | head -8 |
            awk -v n="$n" '{printf "%s %.1f, ", $2, $1 / n}' | sed 's/, $//')
        [ -n "$calls" ] && emit "{\"scenario\":\"syscalls\",\"target\":\"$target\",\"requests\":$n,\"calls\":$calls,\"top\":\"$top\"}"
    done
fi

stop_pid "$GW_PID"
[ "$PEER" != 0 ] && stop_pid "$PEER_PID"

# ---- (4) memory: idle, $HOLD_N open streams, after they close ------------------------------

log "memory: $HOLD_N open streams, $HOLD_CYCLES cycles"
GW_PORT=$(free_port)
start_gateway "$GW_PORT" "$HOLD_UPSTREAM"
GW_URL="http://127.0.0.1:$GW_PORT/v1/chat/completions"
wait_ready "http://127.0.0.1:$GW_PORT/v1/models" "${GW_H[@]}" || die "the gateway did not answer"
sleep 0.5
emit "{\"scenario\":\"idle\",\"target\":\"gateway\",\"rss_kb\":$(rss_kb "$GW_PID")}"
j=$(timeout 600 "$LOADGEN" hold --url "$GW_URL" "${GW_H[@]}" --body "$SBODY" -n "$HOLD_N" \
    --ramp 256 -d 120 --hold-s 2 --settle-s 3 --cycles "$HOLD_CYCLES" --pid "$GW_PID" \
    --pid "$MOCK_PID" 2>>"$RUN/loadgen.log") || j='{"failed":true}'
emit "{\"scenario\":\"hold\",\"target\":\"gateway\",\"lg\":$j}"
stop_pid "$GW_PID"
j=$(timeout 300 "$LOADGEN" hold --url "$HOLD_UPSTREAM/chat/completions" --body "$SBODY" \
    -n "$HOLD_N" --ramp 256 -d 120 --hold-s 1 --settle-s 2 --cycles 1 --pid "$MOCK_PID" \
    2>>"$RUN/loadgen.log") || j='{"failed":true}'
emit "{\"scenario\":\"hold\",\"target\":\"direct\",\"lg\":$j}"
if [ "$PEER_STREAMS" != 0 ]; then
    PEER_PORT=$(free_port)
    start_peer "$PEER_PORT"
    PEER_URL="http://127.0.0.1:$PEER_PORT/v1/chat/completions"
    if wait_ready "$PEER_URL" "${PEER_H[@]}" -H "x-portkey-custom-host: $MOCK/v1" --body "$BODY"; then
        j=$(timeout 600 "$LOADGEN" hold --url "$PEER_URL" "${PEER_H[@]}" \
            -H "x-portkey-custom-host: $MOCK/chunks=2/delay_ms=600000/v1" --body "$SBODY" \
            -n "$HOLD_N" --ramp 256 -d 180 --hold-s 2 --settle-s 3 --cycles 1 --pid "$PEER_PID" \
            2>>"$RUN/loadgen.log") || j='{"failed":true}'
        emit "{\"scenario\":\"hold\",\"target\":\"peer\",\"lg\":$j}"
    fi
    stop_pid "$PEER_PID"
fi

# ---- (5) analytics: the dashboard's queries over a log of a million requests ---------------------

ANALYTICS_ROWS="${BENCH_ANALYTICS_ROWS:-1000000}"
log "analytics: generating $ANALYTICS_ROWS logged requests, then timing the dashboard's queries"
rm -rf "$RUN/analytics-data"
timeout 900 "$BUILD/bench/analytics" "$RUN/analytics-data" "$ANALYTICS_ROWS" >>"$RESULTS" \
    2>>"$RUN/analytics.log" || log "the analytics benchmark failed (see bench/.cache/run/analytics.log)"
rm -rf "$RUN/analytics-data"

# ---- report ------------------------------------------------------------------------------------

ELAPSED=$(($(date +%s) - T_START))
log "done in ${ELAPSED}s; writing ${OUT#"$ROOT"/}"
python3 "$ROOT/bench/report.py" "$RUN/meta.json" "$RESULTS" "$OUT" "$ELAPSED"
