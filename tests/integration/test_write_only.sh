#!/bin/bash
# A handle opened write-only (cp, dd of= without seek=, cat >) writes with
# direct I/O: a write from a page-aligned buffer reaches the daemon as one
# request of the writer's own size (through the kernel's cache, a 1 MiB
# write at an unaligned offset spans 257 pages and arrives as two), and
# coherence holds - the same window read through
# the cache, an overlapping window and a client's shared mapping all see
# the bytes at once, and every write moves the window's mtime. A handle
# that also reads (dd with seek= opens O_RDWR) keeps the cache. Two
# write-only writers on one window at once both land.
. "$(dirname "$0")/lib.sh"
requires dd
requires cmp

MiB=1048576
truncate -s 8M "$T/disk.img"
M=$T/mnt
mount_slicefs "$M" "$T/disk.img" -d -o window=a:0:4M,window=b:2M:4M
writes() { grep -c 'opcode: WRITE' "$DAEMON_LOG" || true; }

cat "$M/a" "$M/b" >/dev/null # both windows' pages in the kernel's cache
[ "$($FILEOP mmapwrite "$M/a" $((2 * MiB)) 4096 m)" = ok ] || fail "a client's mmap store in a"
[ "$($FILEOP mmapwrite "$M/b" 8192 4096 n)" = ok ] || fail "a client's mmap store in b"
mtime_before=$(stat -c %.9Y "$M/a")
sleep 0.05
head -c 1M /dev/urandom >"$T/x"
# 1 MiB at 0 of b (2 MiB of a), write-only.
dd if="$T/x" of="$M/b" bs=1M conv=notrunc status=none || fail "dd of= failed"
cmp <(dd if="$M/b" bs=1M count=1 status=none) "$T/x" || fail "b does not read back its write"
cmp <(dd if="$M/a" bs=1M skip=2 count=1 status=none) "$T/x" ||
    fail "the overlapping window (cached, mapped) does not see the write-only handle's bytes"
cmp <(dd if="$T/disk.img" bs=1M skip=2 count=1 status=none) "$T/x" ||
    fail "the backing file does not hold them"
mtime_after=$(stat -c %.9Y "$M/a")
[ "$mtime_after" != "$mtime_before" ] || fail "the write did not move a's mtime"

# One request per write on a write-only handle; O_RDWR goes through the
# cache (how many requests that makes depends on the kernel's folios).
before=$(writes)
[ "$($FILEOP pwrite "$M/a" 100 $MiB w)" = "wrote $MiB" ] || fail "an unaligned 1 MiB pwrite"
[ $(($(writes) - before)) = 1 ] ||
    fail "a write-only 1 MiB write at 100 came as $(($(writes) - before)) requests, not 1 (not direct I/O)"
# Requests as large as fs.fuse.max_pages_limit allows, where libfuse grows
# its buffer to match (3.17.2 and later; 1 MiB before).
limit=$(cat /proc/sys/fs/fuse/max_pages_limit 2>/dev/null || echo 256)
libfuse=$("$SLICEFS" --version | sed -n 's/.*(libfuse \([0-9.]*\)).*/\1/p')
if [ "$limit" -gt 256 ] && [ "$(printf '%s\n' 3.17.2 "$libfuse" | sort -V | head -n1)" = 3.17.2 ]; then
    big=$((limit * 4096))
    [ "$big" -le $((4 * MiB)) ] || big=$((4 * MiB))
    before=$(writes)
    [ "$($FILEOP pwrite "$M/a" 0 $big l)" = "wrote $big" ] || fail "a $big-byte pwrite"
    [ $(($(writes) - before)) = 1 ] ||
        fail "max_pages_limit $limit: a $big-byte write came as $(($(writes) - before)) requests"
else
    echo "note: max_pages_limit $limit, libfuse $libfuse: requests of 1 MiB at most" >&2
fi
dd if="$T/x" of="$M/a" bs=$MiB count=1 seek=100 oflag=seek_bytes conv=notrunc status=none ||
    fail "dd seek= (O_RDWR)"
cmp <(dd if="$M/a" bs=1 skip=100 count=$MiB status=none) "$T/x" || fail "the O_RDWR write"

# Two write-only writers on one window at once.
$FILEOP pwrite "$M/a" 0 $MiB p >"$T/w1" &
w1=$!
$FILEOP pwrite "$M/a" $MiB $MiB q >"$T/w2" &
w2=$!
wait "$w1" "$w2"
[ "$(cat "$T/w1" "$T/w2")" = "wrote $MiB
wrote $MiB" ] || fail "two parallel writers: $(cat "$T/w1" "$T/w2")"
[ "$(head -c $MiB "$M/a" | tr -d p | wc -c)" = 0 ] || fail "the first writer's bytes"
[ "$(tail -c +$((MiB + 1)) "$M/a" | head -c $MiB | tr -d q | wc -c)" = 0 ] ||
    fail "the second writer's bytes"
unmount_slicefs "$M"
[ "$(head -c $((2 * MiB)) "$T/disk.img" | tr -d pq | wc -c)" = 0 ] ||
    fail "two parallel writers: the backing file"
