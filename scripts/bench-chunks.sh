#!/bin/bash
# Mount time and daemon peak RSS for layout=chunks with 1 and with 1,048,576
# chunks over a sparse 1 TiB backing file, plus `ls | wc -l` and one `stat`
# on the big mount; then `ls -l` of a 100,000-window directory (chunks of a
# sparse file) against `ls -l` of a folder of 100,000 empty files on the
# file system that holds the scratch folder. Medians of RUNS runs (default
# 5); prints two tables.
#   scripts/bench-chunks.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
slicefs=${SLICEFS:-${BUILD_DIR:-$root/build}/slicefs}
runs=${1:-5}
work=$(mktemp -d /tmp/slicefs-bench-chunks.XXXXXX)
pid=
cleanup() {
    if grep -q " $work/mnt fuse" /proc/mounts; then fusermount3 -u "$work/mnt"; fi
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/mnt"
truncate -s 1T "$work/huge.img"

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# measure CHUNK_SIZE: prints "mount_ms rss_kib ls_ms"
measure() {
    local start end i
    start=$(now_ns)
    "$slicefs" -f "$work/huge.img" "$work/mnt" -o "layout=chunks:$1,ro,nostate" &
    pid=$!
    for ((i = 0; i < 2000; i++)); do
        grep -q " $work/mnt fuse" /proc/mounts && break
        sleep 0.001
    done
    stat "$work/mnt/00000000" >/dev/null
    end=$(now_ns)
    local mount_ms=$(((end - start) / 1000000))
    start=$(now_ns)
    ls -f "$work/mnt" | wc -l >/dev/null
    end=$(now_ns)
    local ls_ms=$(((end - start) / 1000000))
    local rss
    rss=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    fusermount3 -u "$work/mnt"
    wait "$pid"
    pid=
    echo "$mount_ms $rss $ls_ms"
}

printf '%-12s %10s %14s %14s %12s\n' chunks count "mount ms" "peak RSS KiB" "ls ms"
for size in 1T 1M; do
    : >"$work/results"
    for ((r = 0; r < runs; r++)); do measure "$size" >>"$work/results"; done
    [ "$size" = 1T ] && count=1 || count=1048576
    printf '%-12s %10s %14s %14s %12s\n' "$size" "$count" \
        "$(awk '{print $1}' "$work/results" | median)" \
        "$(awk '{print $2}' "$work/results" | median)" \
        "$(awk '{print $3}' "$work/results" | median)"
done

# ls -l (lstat of every entry) of 100,000 windows, and of 100,000 files.
truncate -s $((100000 * 1048576)) "$work/100k.img"
mkdir "$work/files"
(cd "$work/files" && seq -f '%08g' 0 99999 | xargs touch)
: >"$work/ls"
for ((r = 0; r < runs; r++)); do
    "$slicefs" -f "$work/100k.img" "$work/mnt" -o layout=chunks:1M,ro,nostate &
    pid=$!
    for ((i = 0; i < 2000; i++)); do
        grep -q " $work/mnt fuse" /proc/mounts && break
        sleep 0.001
    done
    start=$(now_ns)
    n=$(ls -l "$work/mnt" | wc -l)
    end=$(now_ns)
    fusermount3 -u "$work/mnt"
    wait "$pid"
    pid=
    [ "$n" -eq 100001 ] || { echo "bench-chunks: ls -l listed $n lines" >&2; exit 1; }
    start2=$(now_ns)
    ls -l "$work/files" | wc -l >/dev/null
    end2=$(now_ns)
    echo "$(((end - start) / 1000000)) $(((end2 - start2) / 1000000))" >>"$work/ls"
done
echo
printf '%-28s %10s\n' "ls -l of 100,000 entries" "ms"
printf '%-28s %10s\n' "slicefs windows" "$(awk '{print $1}' "$work/ls" | median)"
printf '%-28s %10s\n' "files on $(stat -f -c %T "$work")" "$(awk '{print $2}' "$work/ls" | median)"
