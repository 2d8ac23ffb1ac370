#!/bin/bash
# What per-window times cost (issue 13), medians of RUNS runs (default 3):
# - digest rate: the mount of a 2 GiB image in 64 MiB chunks after a
#   one-byte change outside (every window digested again, XXH3-128 by 1 MiB
#   block, in parallel) less a mount without state, against `xxhsum -H2` of
#   the same bytes; and `slicefs --digest` (SHA-256) against `sha256sum`;
#   all from the page cache, as ratios (tool time / slicefs time: above 1,
#   slicefs is faster);
# - a 1 TiB sparse image in 1 MiB chunks (1,048,576 windows): mount time and
#   daemon peak RSS without state, at a first mount (the state made; the
#   digests come after the mount is live), and at a remount of the
#   unchanged image;
# - a 4 GiB image in 64 MiB chunks after a one-byte change outside the
#   mount: the mount time (one full digest pass) against `xxhsum -H2` of it.
#   scripts/bench-state.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
slicefs=${SLICEFS:-${BUILD_DIR:-$root/build}/slicefs}
runs=${1:-3}
work=$(mktemp -d /tmp/slicefs-bench-state.XXXXXX)
pid=
cleanup() {
    if grep -q " $work/mnt fuse" /proc/mounts; then fusermount3 -u "$work/mnt"; fi
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/mnt"
command -v xxhsum >/dev/null || { echo "bench-state: needs xxhsum (Debian: xxhash)" >&2; exit 2; }

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ms_of() { local start=$(now_ns); "$@" >/dev/null 2>&1; echo $((($(now_ns) - start) / 1000000)); }

# mount_ms IMAGE OPTIONS: mounts, stats one window, prints "ms rss_kib", unmounts.
mount_ms() {
    local start end i rss
    start=$(now_ns)
    "$slicefs" -f "$1" "$work/mnt" -o "$2" 2>>"$work/log" &
    pid=$!
    for ((i = 0; i < 600000; i++)); do
        grep -q " $work/mnt fuse" /proc/mounts && break
        kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
        sleep 0.001
    done
    stat "$work/mnt/00000000" >/dev/null
    end=$(now_ns)
    rss=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    fusermount3 -u "$work/mnt"
    wait "$pid"
    pid=
    echo "$(((end - start) / 1000000)) $rss"
}

echo "# digest rate (2 GiB from the page cache, $runs runs)"
head -c 2G /dev/urandom >"$work/2g.img"
cat "$work/2g.img" >/dev/null
# first_mount IMAGE OPTIONS: a first mount, until its digests are ready.
first_mount() {
    "$slicefs" -f "$1" "$work/mnt" -o "$2" 2>"$work/first.log" &
    pid=$!
    until grep -q "window digests ready" "$work/first.log"; do sleep 0.1; done
    fusermount3 -u "$work/mnt"
    wait "$pid"
    pid=
}
first_mount "$work/2g.img" "layout=chunks:64M,state=$work/2g.state"
for ((r = 0; r < runs; r++)); do
    printf '%s' "$r" | dd of="$work/2g.img" bs=1 seek=$((r * 999983)) conv=notrunc status=none
    echo "$(mount_ms "$work/2g.img" "layout=chunks:64M,state=$work/2g.state" | cut -d' ' -f1) \
$(mount_ms "$work/2g.img" layout=chunks:64M,nostate | cut -d' ' -f1) \
$(ms_of xxhsum -H2 "$work/2g.img") \
$(ms_of "$slicefs" --digest -o layout=chunks:64M "$work/2g.img") \
$(ms_of sha256sum "$work/2g.img")" >>"$work/rate"
done
xxh_pass=$(awk '{print $1 - $2}' "$work/rate" | median)
xxhsum_ms=$(awk '{print $3}' "$work/rate" | median)
sha_slicefs=$(awk '{print $4}' "$work/rate" | median)
sha_tool=$(awk '{print $5}' "$work/rate" | median)
printf '| digest | slicefs ms | tool ms | tool / slicefs |\n|---|---|---|---|\n'
printf '| XXH3-128 by block (a mount after a change, less a stateless mount) vs xxhsum -H2 | %d | %d | %.2f |\n' \
    "$xxh_pass" "$xxhsum_ms" "$(echo "$xxhsum_ms $xxh_pass" | awk '{print ($2 > 0 ? $1 / $2 : 0)}')"
printf '| SHA-256, slicefs --digest vs sha256sum | %d | %d | %.2f |\n' \
    "$sha_slicefs" "$sha_tool" "$(echo "$sha_tool $sha_slicefs" | awk '{print ($2 > 0 ? $1 / $2 : 0)}')"
rm -f "$work/2g.img"

echo
echo "# 1 TiB sparse image in 1 MiB chunks (1,048,576 windows, $runs runs)"
truncate -s 1T "$work/huge.img"
for ((r = 0; r < runs; r++)); do
    rm -f "$work/huge.state"
    echo "$(mount_ms "$work/huge.img" layout=chunks:1M,ro,nostate) \
$(mount_ms "$work/huge.img" "layout=chunks:1M,ro,state=$work/huge.state") \
$(mount_ms "$work/huge.img" "layout=chunks:1M,ro,state=$work/huge.state")" >>"$work/huge"
done
printf '| mount | ms | peak RSS KiB |\n|---|---|---|\n'
printf '| without state | %s | %s |\n' "$(cut -d' ' -f1 "$work/huge" | median)" "$(cut -d' ' -f2 "$work/huge" | median)"
printf '| first (state made; digests after the mount is live) | %s | %s |\n' "$(cut -d' ' -f3 "$work/huge" | median)" "$(cut -d' ' -f4 "$work/huge" | median)"
printf '| remount, unchanged | %s | %s |\n' "$(cut -d' ' -f5 "$work/huge" | median)" "$(cut -d' ' -f6 "$work/huge" | median)"
echo "state file: $(stat -c %s "$work/huge.state") bytes"

echo
echo "# 4 GiB image in 64 MiB chunks, one byte changed outside the mount ($runs runs)"
head -c 4G /dev/urandom >"$work/4g.img"
first_mount "$work/4g.img" "layout=chunks:64M,state=$work/4g.state"
for ((r = 0; r < runs; r++)); do
    printf '%s' "$r" | dd of="$work/4g.img" bs=1 seek=$((r * 1000003)) conv=notrunc status=none
    echo "$(mount_ms "$work/4g.img" "layout=chunks:64M,state=$work/4g.state" | cut -d' ' -f1) \
$(mount_ms "$work/4g.img" "layout=chunks:64M,state=$work/4g.state" | cut -d' ' -f1) \
$(ms_of xxhsum -H2 "$work/4g.img")" >>"$work/change"
done
printf '| mount after a one-byte change | unchanged remount | xxhsum -H2 of the image |\n|---|---|---|\n'
printf '| %s ms | %s ms | %s ms |\n' "$(cut -d' ' -f1 "$work/change" | median)" \
    "$(cut -d' ' -f2 "$work/change" | median)" "$(cut -d' ' -f3 "$work/change" | median)"
