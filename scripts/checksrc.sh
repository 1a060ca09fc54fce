#!/bin/sh
# Source checks run by `make check` (and `make test`): banned calls (curl's
# list, trimmed) and the layering of src/ (scripts/check-layers.py).
# .clang-format describes the layout for editors; hand-aligned tables (the
# error table, migrations) are kept as written.
set -u
cd "$(dirname "$0")/.."
status=0
banned='\<(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|atol|atoll|strtok)[[:space:]]*\('
if grep -rnE "$banned" src tests/unit --include='*.c' --include='*.h'; then
    echo "checksrc: banned call above (use snprintf, gw_buf_*, strtol with an end pointer)" >&2
    status=1
fi
python3 scripts/check-layers.py || status=1
exit $status
