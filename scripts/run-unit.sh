#!/usr/bin/env bash
# Runs every cmocka unit-test binary given as arguments from the repository
# root, then prints one summary line. Exits nonzero if any binary failed.
set -u
total=0
failed=0
failed_bins=()
for bin in "$@"; do
    total=$((total + 1))
    if ! "$bin"; then
        failed=$((failed + 1))
        failed_bins+=("$bin")
    fi
done
echo "unit: $((total - failed))/$total test binaries passed"
if [ "$failed" -gt 0 ]; then
    printf 'unit: FAILED %s\n' "${failed_bins[@]}"
    exit 1
fi
