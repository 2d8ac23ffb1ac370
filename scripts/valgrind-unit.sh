#!/bin/bash
# Runs every cmocka unit test under valgrind; any error or definite leak
# fails. SLICEFS_GROW_RESERVE keeps the growth reserve of mappings small
# (valgrind shadows every mapped byte).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
export SLICEFS_GROW_RESERVE=16M
status=0
for test in "$build"/tests/unit/test_*; do
    [ -x "$test" ] || continue
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        "$test" >"$build/valgrind-$(basename "$test").log" 2>&1; then
        echo "valgrind: $(basename "$test") clean"
    else
        echo "valgrind: $(basename "$test") FAILED"
        tail -40 "$build/valgrind-$(basename "$test").log"
        status=1
    fi
done
exit "$status"
