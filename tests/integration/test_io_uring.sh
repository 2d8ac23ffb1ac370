#!/bin/bash
# -o io_uring: requests over FUSE io_uring rings where libfuse (3.18) and the
# kernel (enable_uring) offer it; else one log line and /dev/fuse. Either
# way the mount reads and writes the same bytes. Over the rings, a read of
# pages the backing file lost is EIO and the daemon stays up (the copy into
# the ring's buffer is the daemon's own, and guarded).
. "$(dirname "$0")/lib.sh"
requires dd
requires cmp

MiB=1048576
head -c $((8 * MiB)) /dev/urandom >"$T/disk.img"
M=$T/mnt
mount_slicefs "$M" "$T/disk.img" -o io_uring,window=a:1M:4M,window=tail:6M:2M
lines=$(grep -c 'io_uring:' "$DAEMON_LOG" || true)
[ "$lines" = 1 ] || { cat "$DAEMON_LOG" >&2; fail "$lines io_uring lines in the log, not 1"; }
cmp "$M/a" <(dd if="$T/disk.img" bs=1M skip=1 count=4 status=none) || fail "reading a"
head -c $((3 * MiB)) /dev/urandom >"$T/x"
dd if="$T/x" of="$M/a" bs=1M seek=1 conv=notrunc status=none || fail "dd of="
cmp <(dd if="$T/disk.img" bs=1M skip=2 count=3 status=none) "$T/x" || fail "the written bytes"
[ "$($FILEOP pwrite "$M/a" 100 5000 u)" = "wrote 5000" ] || fail "a small write"
cmp <(dd if="$M/a" bs=1 skip=100 count=5000 status=none) <(head -c 5000 /dev/zero | tr '\0' u) ||
    fail "the small write read back"

if grep -q 'requests come over FUSE io_uring' "$DAEMON_LOG"; then
    truncate -s $((6 * MiB)) "$T/disk.img" # tail's pages are lost
    result=$($FILEOP pread "$M/tail" 0 65536)
    [ "$result" = "error EIO" ] || fail "a read of lost pages over io_uring gave '$result'"
    kill -0 "$DAEMON_PID" || fail "the daemon died on a lost page"
    [ "$($FILEOP pread "$M/a" 0 65536)" = "read 65536" ] || fail "a after the fault"
else
    echo "note: requests came through /dev/fuse: $(grep 'io_uring:' "$DAEMON_LOG")" >&2
fi
unmount_slicefs "$M"
