#!/bin/bash
# Where the time of a first sequential read and of a sequential write goes:
# perf record -a (the whole machine: reader, kernel, daemon) while one
# window of a resident scratch file is read once from a fresh mount (cat),
# then written over with 1 MiB writes - O_RDWR (as fio writes) and O_WRONLY
# (as dd of= and cp write). Prints the top symbols of each, self time.
#
#   scripts/bench-profile.sh [SIZE_MB] [slicefs options...]   (needs root or
#   perf_event_paranoid <= -1, and perf: Debian's linux-perf)
#
# SLICEFS picks the binary ($BUILD_DIR/slicefs, else build/slicefs);
# PROFILE_TOP the number of symbols shown (25). The perf data stays in
# PROFILE_KEEP if that names a folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
slicefs=${SLICEFS:-${BUILD_DIR:-$root/build}/slicefs}
size_mb=${1:-1024}
shift || true
top=${PROFILE_TOP:-25}
command -v perf >/dev/null || { echo "bench-profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$slicefs" ] || { echo "bench-profile: no slicefs at $slicefs" >&2; exit 1; }

work=$(mktemp -d)
daemon=
cleanup() {
    fusermount3 -u "$work/mnt" 2>/dev/null || true
    if [ -n "$daemon" ]; then wait "$daemon" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/mnt" "$work/state"
export XDG_STATE_HOME=$work/state
dd if=/dev/zero of="$work/backing" bs=1M count="$size_mb" status=none
cat "$work/backing" >/dev/null # resident: the profile is FUSE's, not the disk's

mount_it() {
    "$slicefs" -f "$work/backing" "$work/mnt" -o window=w:0:$((size_mb * 1048576)) "$@" \
        >"$work/daemon.log" 2>&1 &
    daemon=$!
    for _ in $(seq 200); do grep -qs " $work/mnt fuse" /proc/mounts && return 0; sleep 0.05; done
    cat "$work/daemon.log" >&2
    exit 1
}
unmount_it() { fusermount3 -u "$work/mnt"; wait "$daemon" || true; daemon=; }

profile() { # profile NAME COMMAND...
    local name=$1
    shift
    perf record -a -g -q -o "$work/$name.data" -- "$@" 2>/dev/null
    echo "== $name: $("$slicefs" --version), options: ${opts[*]:-none}"
    perf report -i "$work/$name.data" --stdio --no-children --sort dso,sym -g none \
        --percent-limit 0.5 2>/dev/null | grep -E '^ +[0-9]' | head -n "$top"
    [ -z "${PROFILE_KEEP:-}" ] || cp "$work/$name.data" "$PROFILE_KEEP/"
}

opts=("$@")
mount_it "${opts[@]+"${opts[@]}"}"
profile first-read sh -c 'exec cat "$1" >/dev/null' sh "$work/mnt/w"
unmount_it
mount_it "${opts[@]+"${opts[@]}"}"
# dd writes to its stdout, opened O_RDWR by the shell (no truncation).
profile write-rdwr sh -c 'exec dd if=/dev/zero bs=1M count="$1" status=none 1<>"$2"' sh \
    "$size_mb" "$work/mnt/w"
profile write-wronly dd if=/dev/zero of="$work/mnt/w" bs=1M count="$size_mb" conv=notrunc status=none
unmount_it
