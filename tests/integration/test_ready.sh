#!/bin/bash
# Readiness: started without -f, slicefs daemonizes and the command returns
# only once the kernel mount is live - what mount(8), mount.fuse3 and a
# systemd .mount unit rely on. So a read straight after it returns, with no
# sleep or poll in between, must see the windows. Then fusermount3 -u ends
# the daemon (within the deadline).
. "$(dirname "$0")/lib.sh"

head -c 8M /dev/urandom >"$T/disk.img"
mkdir "$T/mnt"

for round in 1 2 3 4 5; do
    status=0
    # Recorded first, so that the EXIT trap unmounts it whatever happens.
    MOUNTS+=("$T/mnt")
    timeout "$DEADLINE" "$SLICEFS" "$T/disk.img" "$T/mnt" \
        -o window=a:1M:2M,window=dir/b:0:end,window=c:5M:4K:ro >"$T/start.log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || { cat "$T/start.log" >&2; fail "round $round: slicefs exited $status"; }
    # Immediately: no sleep, no poll.
    cmp <(cat "$T/mnt/a") <(tail -c +$((1024 * 1024 + 1)) "$T/disk.img" | head -c 2M) ||
        fail "round $round: window a read straight after start differs"
    cmp "$T/mnt/dir/b" "$T/disk.img" || fail "round $round: window dir/b differs"
    cmp <(cat "$T/mnt/c") <(tail -c +$((5 * 1024 * 1024 + 1)) "$T/disk.img" | head -c 4K) ||
        fail "round $round: window c differs"
    is_mounted "$T/mnt" || fail "round $round: $T/mnt not in /proc/mounts"
    pid=$(daemon_pid "$T/disk.img")
    PIDS+=("$pid")
    # It is a daemon: not our child, not in the foreground.
    [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" != "$$" ] || fail "slicefs did not daemonize"
    unmount_slicefs "$T/mnt" "$pid"
done

# Relative paths work in daemon mode too (the daemon changes to /). The
# image's name (this test's folder's) finds the daemon.
rel=$(basename "$T").img
ln "$T/disk.img" "$T/$rel"
MOUNTS+=("$T/mnt")
(cd "$T" && timeout "$DEADLINE" "$SLICEFS" "$rel" mnt -o layout=chunks:1M) ||
    fail "slicefs with relative paths failed"
cmp <(cat "$T/mnt/00000003") <(tail -c +$((3 * 1024 * 1024 + 1)) "$T/disk.img" | head -c 1M) ||
    fail "chunk 00000003 read straight after start differs"
[ "$(ls "$T/mnt" | wc -l)" -eq 8 ] || fail "expected 8 chunks"
pid=$(daemon_pid "$rel")
PIDS+=("$pid")
unmount_slicefs "$T/mnt" "$pid"

# A refused mount in daemon mode: exit 1, nothing mounted, no daemon left.
status=0
timeout "$DEADLINE" "$SLICEFS" "$T/disk.img" "$T/mnt" -o window=x:0:64M >"$T/refused.log" 2>&1 ||
    status=$?
[ "$status" -eq 1 ] || { cat "$T/refused.log" >&2; fail "bad window: exit $status, expected 1"; }
grep -q 'window=x:0:64M' "$T/refused.log" || fail "refusal does not name the option"
! is_mounted "$T/mnt" || fail "refused mount left $T/mnt mounted"
! pgrep -f -- "$T/disk.img" >/dev/null || fail "refused mount left a daemon"

# The example systemd units (contrib/systemd) rely on exactly this: each is
# named after its escaped mount point, mounts fuse.slicefs, never -f, and
# systemd-analyze accepts them. (Checked last: without systemd's tools the
# test has checked all the rest when it skips, and fails under CI.)
requires systemd-escape
requires systemd-analyze
units=$(cd "$(dirname "$0")/../../contrib/systemd" && pwd)
for unit in "$units"/*.mount "$units"/*.automount; do
    [ -f "$unit" ] || fail "no example units in $units"
    where=$(sed -n 's/^Where=//p' "$unit")
    [ -n "$where" ] || fail "$unit has no Where="
    [ "$(systemd-escape -p --suffix="${unit##*.}" "$where")" = "$(basename "$unit")" ] ||
        fail "$(basename "$unit") is not named after Where=$where"
    if [[ $unit == *.mount ]]; then
        grep -qx 'Type=fuse.slicefs' "$unit" || fail "$unit: no Type=fuse.slicefs"
        opts=$(sed -n 's/^Options=//p' "$unit")
        [[ ,$opts, != *,debug,* && ,$opts, != *,-f,* ]] || fail "$unit: Options= keeps slicefs in the foreground"
    fi
done
cp "$units"/*.mount "$units"/*.automount "$T/"
(cd "$T" && systemd-analyze verify --man=no ./*.mount ./*.automount) >"$T/verify.log" 2>&1 ||
    { cat "$T/verify.log" >&2; fail "systemd-analyze verify rejects the example units"; }

echo "PASS [$TEST_NAME]"
