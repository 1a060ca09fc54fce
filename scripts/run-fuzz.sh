#!/usr/bin/env bash
# Runs each libFuzzer driver given as argument for FUZZ_SECONDS (default 60),
# FUZZ_JOBS at a time (default 2), on a working corpus in build-fuzz/corpus/
# seeded from the test fixtures (scripts/fuzz-seeds.py). Prints one line per
# driver, "fuzz NAME: E execs, cov C, ft F, crashes K", then "fuzz: N/M
# drivers clean". A crash leaves its input in build-fuzz/crashes/NAME/ and
# makes the run fail.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-2}"
OUT="$ROOT/build-fuzz"
mkdir -p "$OUT/logs"

python3 "$ROOT/scripts/fuzz-seeds.py" "$OUT/seeds" || exit 1

run_one() {
    local bin="$1" name
    name="$(basename "$bin" _fuzz)"
    rm -rf "$OUT/crashes/$name"
    mkdir -p "$OUT/corpus/$name" "$OUT/crashes/$name"
    # -max_len: bodies of a few tens of kB reach every branch; longer only slows.
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        timeout --kill-after=30 $((SECONDS_EACH + 120)) \
        "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/crashes/$name/" \
        "$OUT/corpus/$name" "$OUT/seeds/$name" >"$OUT/logs/$name.log" 2>&1
    echo $? >"$OUT/logs/$name.status"
}

pids=()
for bin in "$@"; do
    run_one "$bin" &
    pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
done
wait

clean=0
total=0
for bin in "$@"; do
    name="$(basename "$bin" _fuzz)"
    log="$OUT/logs/$name.log"
    total=$((total + 1))
    status=$(cat "$OUT/logs/$name.status" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    crashes=$(find "$OUT/crashes/$name" -type f | wc -l)
    echo "fuzz $name: ${execs:-0} execs, cov ${cov:-0}, ft ${ft:-0}, crashes $crashes"
    if [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        clean=$((clean + 1))
    else
        echo "fuzz $name: FAILED (exit $status); log $log" >&2
        grep -E 'ERROR: |SUMMARY: |Test unit written' "$log" | head -5 >&2
    fi
done
echo "fuzz: $clean/$total drivers clean"
[ "$clean" -eq "$total" ]
