#!/bin/bash
# layout=archive against tar and archivemount (issue 14), medians of RUNS
# runs (default 3):
# - mount time of a tar of 100,000 members (GNU format, 100 bytes each, in
#   100 folders) against `tar -tf` of it, without state and with it (first
#   mount and remount), and archivemount's mount of the same archive; the
#   daemon's peak RSS, and the bytes per member (against a 1-member tar);
# - sequential read (dd, 1 MiB blocks, cache=never so every read reaches
#   the daemon, the archive in the page cache) of a 1 GiB member against a
#   plain window= over the same bytes of the same archive, in the same
#   mount: the ratio;
# - archivemount's read of a 16 MiB member of the same archive (its reads
#   decompress through libarchive from the member's start: a 1 GiB member
#   takes minutes).
#   scripts/bench-archive.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
slicefs=${SLICEFS:-${BUILD_DIR:-$root/build}/slicefs}
runs=${1:-3}
work=$(mktemp -d /tmp/slicefs-bench-archive.XXXXXX)
export XDG_STATE_HOME=$work/state
pid=
cleanup() {
    local m
    for m in "$work/mnt" "$work/am"; do
        if grep -q " $m fuse" /proc/mounts; then fusermount3 -u "$m"; fi
    done
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/mnt" "$work/am"
command -v python3 >/dev/null || { echo "bench-archive: needs python3" >&2; exit 2; }
have_am=false
command -v archivemount >/dev/null && have_am=true

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ms_of() { local start=$(now_ns); "$@" >/dev/null; echo $((($(now_ns) - start) / 1000000)); }

# wait_mount MNT PID: until MNT is a FUSE mount (PID must live).
wait_mount() {
    local i
    for ((i = 0; i < 600000; i++)); do
        grep -q " $1 fuse" /proc/mounts && return 0
        kill -0 "$2" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
        sleep 0.001
    done
    exit 1
}

# mount_ms ARCHIVE OPTIONS: mounts, lists the root, prints "ms rss_kib",
# unmounts.
mount_ms() {
    local start end rss
    start=$(now_ns)
    "$slicefs" -f "$1" "$work/mnt" -o "$2" 2>>"$work/log" &
    pid=$!
    wait_mount "$work/mnt" "$pid"
    ls "$work/mnt" >/dev/null
    end=$(now_ns)
    rss=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
    fusermount3 -u "$work/mnt"
    wait "$pid"
    pid=
    echo "$(((end - start) / 1000000)) $rss"
}

# archivemount_ms ARCHIVE: archivemount in the foreground, until mounted.
archivemount_ms() {
    local start end
    start=$(now_ns)
    archivemount -f -o readonly "$1" "$work/am" 2>>"$work/log" &
    pid=$!
    wait_mount "$work/am" "$pid"
    ls "$work/am" >/dev/null
    end=$(now_ns)
    fusermount3 -u "$work/am"
    wait "$pid" || true
    pid=
    echo $(((end - start) / 1000000))
}

python3 - "$work" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
data = b'x' * 100
with tarfile.open(work + '/100k.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    for i in range(100000):
        info = tarfile.TarInfo('d%03d/member%06d.txt' % (i // 1000, i))
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
with tarfile.open(work + '/one.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    info = tarfile.TarInfo('member.txt')
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
cat "$work/100k.tar" >/dev/null

echo "# 100,000 members ($(stat -c %s "$work/100k.tar") bytes), $runs runs"
for ((r = 0; r < runs; r++)); do
    rm -rf "$work/state"
    echo "$(ms_of tar -tf "$work/100k.tar") \
$(mount_ms "$work/100k.tar" layout=archive,ro,nostate) \
$(mount_ms "$work/100k.tar" layout=archive,ro) \
$(mount_ms "$work/100k.tar" layout=archive,ro) \
$(mount_ms "$work/one.tar" layout=archive,ro,nostate) \
$(if $have_am; then archivemount_ms "$work/100k.tar"; else echo 0; fi)" >>"$work/mount"
done
col() { cut -d' ' -f"$1" "$work/mount" | median; }
tar_ms=$(col 1)
printf '| mount of 100,000 members | ms | / tar -tf | peak RSS KiB |\n|---|---|---|---|\n'
printf '| tar -tf | %s | 1.00 | |\n' "$tar_ms"
for c in "2 without state" "4 first mount (state)" "6 remount (state)"; do
    n=${c%% *}
    ms=$(col "$n")
    printf '| slicefs, %s | %s | %.2f | %s |\n' "${c#* }" "$ms" \
        "$(echo "$ms $tar_ms" | awk '{print ($2 > 0 ? $1 / $2 : 0)}')" "$(col $((n + 1)))"
done
if $have_am; then
    am=$(col 10)
    printf '| archivemount | %s | %.2f | |\n' "$am" "$(echo "$am $tar_ms" | awk '{print ($2 > 0 ? $1 / $2 : 0)}')"
fi
printf 'bytes per member (peak RSS without state, less a 1-member mount, / 99,999): %.0f\n' \
    "$(echo "$(col 3) $(col 9)" | awk '{print ($1 - $2) * 1024 / 99999}')"
printf 'bytes per member with state: %.0f\n' \
    "$(echo "$(col 5) $(col 9)" | awk '{print ($1 - $2) * 1024 / 99999}')"

echo
echo "# sequential read of a 1 GiB member vs a plain window over its bytes ($runs runs)"
mkdir "$work/src"
head -c 16M /dev/urandom >"$work/src/small.bin"
head -c 1G /dev/urandom >"$work/src/big.bin"
tar --format=gnu -cf "$work/big.tar" -C "$work/src" small.bin big.bin
rm -rf "$work/src"
cat "$work/big.tar" >/dev/null
line=$("$slicefs" --list -o layout=archive "$work/big.tar" | grep '^big.bin ')
offset=$(echo "$line" | cut -d' ' -f2)
length=$(echo "$line" | cut -d' ' -f3)
"$slicefs" -f "$work/big.tar" "$work/mnt" \
    -o "layout=archive,ro,nostate,cache=never,window=plain:$offset:$length:ro" 2>>"$work/log" &
pid=$!
wait_mount "$work/mnt" "$pid"
read_ms() { ms_of dd if="$1" of=/dev/null bs=1M status=none; }
read_ms "$work/mnt/big.bin" >/dev/null
for ((r = 0; r < runs; r++)); do
    echo "$(read_ms "$work/mnt/big.bin") $(read_ms "$work/mnt/plain")" >>"$work/read"
done
fusermount3 -u "$work/mnt"
wait "$pid"
pid=
member_ms=$(cut -d' ' -f1 "$work/read" | median)
plain_ms=$(cut -d' ' -f2 "$work/read" | median)
mbps() { echo "$1 $2" | awk '{print ($2 > 0 ? $1 / 1048576 / ($2 / 1000) : 0)}'; }
printf '| read of 1 GiB | ms | MiB/s |\n|---|---|---|\n'
printf '| member big.bin | %s | %.0f |\n' "$member_ms" "$(mbps "$length" "$member_ms")"
printf '| plain window over the same bytes | %s | %.0f |\n' "$plain_ms" "$(mbps "$length" "$plain_ms")"
printf 'member / plain window throughput: %.3f\n' \
    "$(echo "$member_ms $plain_ms" | awk '{print ($1 > 0 ? $2 / $1 : 0)}')"
if $have_am; then
    archivemount -f -o readonly "$work/big.tar" "$work/am" 2>>"$work/log" &
    pid=$!
    wait_mount "$work/am" "$pid"
    am_ms=$(read_ms "$work/am/small.bin")
    fusermount3 -u "$work/am"
    wait "$pid" || true
    pid=
    printf '| archivemount, member small.bin (16 MiB, the first member) | %s | %.1f |\n' \
        "$am_ms" "$(mbps 16777216 "$am_ms")"
fi
