#!/bin/bash
# scripts/bench.sh --smoke runs the whole comparison on tiny sizes: it must
# exit 0 and print its table with a ratio column. Only that: a benchmark
# never fails a test because the machine was slow.
. "$(dirname "$0")/lib.sh"

requires fio
requires cc
requires dd
requires timeout

root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
SLICEFS=$SLICEFS BENCH_DIR=$T timeout 240 "$root/scripts/bench.sh" --smoke \
    >"$T/bench.out" 2>"$T/bench.err" || status=$?
if [ "$status" -ne 0 ]; then
    cat "$T/bench.out" "$T/bench.err" >&2
    fail "scripts/bench.sh --smoke exited $status"
fi
header=$(grep -E '^measure +path' "$T/bench.out") ||
    { cat "$T/bench.out" >&2; fail "no table header in the output"; }
grep -qw ratio <<<"$header" || fail "the table has no ratio column: $header"
# Every measured row has a number and a ratio; the direct path is there.
grep -Eq '^seq read first +direct +[0-9.]+ +MiB/s +1\.00' "$T/bench.out" ||
    { cat "$T/bench.out" >&2; fail "no direct seq read row"; }
grep -Eq '^rand 4k read +slicefs-auto +[0-9]+ +IOPS +[0-9.]+' "$T/bench.out" ||
    { cat "$T/bench.out" >&2; fail "no slicefs rand read row"; }
# It cleaned up after itself: nothing of its own left mounted or running.
! grep -q "$T/slicefs-bench" /proc/mounts || fail "bench.sh left a mount behind"
for left in "$T"/slicefs-bench.*; do
    [ ! -e "$left" ] || fail "bench.sh left its scratch folder $left"
done
