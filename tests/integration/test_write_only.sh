#!/bin/bash
# A handle opened write-only (cp, dd of=, cat >) writes with direct I/O:
# its bytes do not pass through the kernel's cache, and coherence holds -
# the same window read through the cache, an overlapping window and a
# client's shared mapping (which needs O_RDWR, so stays cached) all see the
# written bytes at once, and every write moves the window's mtime. Two such
# writers on one window at once (parallel direct writes where libfuse has
# them) both land.
. "$(dirname "$0")/lib.sh"
requires dd
requires cmp

KiB=1024
truncate -s 8M "$T/disk.img"
M=$T/mnt
mount_slicefs "$M" "$T/disk.img" -o window=a:0:4M,window=b:2M:4M

cat "$M/a" "$M/b" >/dev/null # both windows' pages in the kernel's cache
[ "$($FILEOP mmapwrite "$M/a" 0 4096 m)" = ok ] || fail "a client's mmap store"
cached_before=$($FILEOP cachestat "$M/a")
mtime_before=$(stat -c %.9Y "$M/a")
sleep 0.05
head -c 1M /dev/urandom >"$T/x"
# 1 MiB at 2.5 MiB of a (0.5 MiB of b), write-only, no truncation.
dd if="$T/x" of="$M/a" bs=512K seek=5 conv=notrunc status=none || fail "dd of= failed"
cmp <(dd if="$M/a" bs=512K skip=5 count=2 status=none) "$T/x" ||
    fail "a read through the cache does not see the write-only handle's bytes"
cmp <(dd if="$M/b" bs=512K skip=1 count=2 status=none) "$T/x" ||
    fail "the overlapping window does not see them"
cmp <(dd if="$T/disk.img" bs=512K skip=5 count=2 status=none) "$T/x" ||
    fail "the backing file does not hold them"
[ "$(head -c 4096 "$M/a" | tr -d m | wc -c)" = 0 ] || fail "the mmap store was lost"
mtime_after=$(stat -c %.9Y "$M/a")
[ "$mtime_after" != "$mtime_before" ] || fail "the write did not move a's mtime"
# The written bytes went around the kernel's cache: a's 1 MiB of pages
# there were dropped, not rewritten (cachestat: pages of a cached).
read -r _ before _ <<<"$cached_before"
read -r _ after _ <<<"$($FILEOP cachestat "$M/a")"
[ "$after" -le $((before - 256)) ] ||
    fail "a's cache kept the written pages ($before pages before, $after after): not direct I/O"

# Two write-only writers on one window at once.
head -c 2M /dev/urandom >"$T/y"
dd if="$T/y" of="$M/a" bs=64K count=16 conv=notrunc status=none &
w1=$!
dd if="$T/y" of="$M/a" bs=64K skip=16 seek=16 count=16 conv=notrunc status=none &
w2=$!
wait "$w1" || fail "the first writer failed"
wait "$w2" || fail "the second writer failed"
cmp <(head -c 2M "$M/a") "$T/y" || fail "two parallel writers: the window does not hold both"
unmount_slicefs "$M"
cmp <(head -c 2M "$T/disk.img") "$T/y" || fail "two parallel writers: the backing file"
