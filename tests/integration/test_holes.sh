#!/bin/bash
# Holes inside a window: SEEK_DATA/SEEK_HOLE in window coordinates, st_blocks
# from the backing file's allocation, cp --sparse=always / tar --sparse / du
# treat a window over a sparse region as sparse; fallocate punch-hole,
# zero-range and allocation work inside a window and refuse to cross its end.
. "$(dirname "$0")/lib.sh"
requires tar

# 16 MiB sparse file; data only at [4M, 5M) and [9M, 9M+4K).
truncate -s 16M "$T/sparse.img"
head -c 1M /dev/urandom | dd of="$T/sparse.img" bs=1M seek=4 conv=notrunc status=none
head -c 4K /dev/urandom | dd of="$T/sparse.img" bs=4K seek=$((9 * 256)) conv=notrunc status=none
# Window w = [2M, 12M): data at [2M, 3M) and [7M, 7M+4K) in its coordinates.
mount_slicefs "$T/mnt" "$T/sparse.img" -o window=w:2M:10M,window=dense:4M:1M,window=c:2M:10M:cow
W=$T/mnt/w
seek() { "$FILEOP" seek "$W" "$1" "$2"; }
[ "$(seek 0 data)" = "at 2097152" ] || fail "SEEK_DATA from 0: $(seek 0 data)"
[ "$(seek 2097152 hole)" = "at 3145728" ] || fail "SEEK_HOLE inside data: $(seek 2097152 hole)"
[ "$(seek 3145728 data)" = "at 7340032" ] || fail "SEEK_DATA to the second extent: $(seek 3145728 data)"
[ "$(seek 7340032 hole)" = "at 7344128" ] || fail "SEEK_HOLE after the second extent"
[ "$(seek 7344128 data)" = "error ENXIO" ] || fail "SEEK_DATA past the last data: $(seek 7344128 data)"
[ "$(seek 8000000 hole)" = "at 8000000" ] || fail "SEEK_HOLE in a hole"
[ "$(seek 10485760 data)" = "error ENXIO" ] || fail "SEEK_DATA at the end"
[ "$("$FILEOP" seek "$T/mnt/dense" 0 hole)" = "at 1048576" ] ||
    fail "a window that is all data has its only hole at its end"

# st_blocks tells the truth: 1 MiB + 4 KiB allocated inside w, not 10 MiB.
blocks=$(stat -c %b "$W")
[ "$blocks" -ge 2056 ] && [ "$blocks" -le 2100 ] || fail "st_blocks of w is $blocks (expected ~2056)"
du_k=$(du -k "$W" | cut -f1)
[ "$du_k" -le 1100 ] || fail "du reports $du_k KiB for w"

# cp --sparse=always and tar --sparse keep the holes.
cp --sparse=always "$W" "$T/copy.img"
cmp "$W" "$T/copy.img" || fail "cp --sparse=always copied wrong bytes"
[ "$(du -k "$T/copy.img" | cut -f1)" -le 1100 ] || fail "the copy is not sparse"
tar --sparse -C "$T/mnt" -cf "$T/w.tar" w
[ "$(stat -c %s "$T/w.tar")" -lt 2000000 ] || fail "tar --sparse stored the holes ($(stat -c %s "$T/w.tar") bytes)"
mkdir "$T/untar" && tar -C "$T/untar" -xf "$T/w.tar"
cmp "$T/untar/w" "$W" || fail "tar --sparse round trip"

# fallocate inside the window.
[ "$("$FILEOP" fallocate "$W" punch 2097152 4096)" = ok ] || fail "punch-hole"
cmp -n 4096 "$W" /dev/zero -i 2097152:0 || fail "punched range does not read zero"
[ "$("$FILEOP" fallocate "$W" zero 2101248 8192)" = ok ] || fail "zero-range"
cmp -n 8192 "$W" /dev/zero -i 2101248:0 || fail "zeroed range does not read zero"
[ "$("$FILEOP" fallocate "$W" keep 0 4096)" = ok ] || fail "allocate (keep size)"
[ "$("$FILEOP" seek "$W" 0 data)" = "at 0" ] || fail "allocated range is not data"
[ "$("$FILEOP" fallocate "$W" punch 10481664 8192)" = "error EINVAL" ] || fail "punch across the end"
[ "$("$FILEOP" fallocate "$W" alloc 10485760 1)" = "error EINVAL" ] || fail "allocate at the end"
[ "$("$FILEOP" fallocate "$W" zero 0 20000000)" = "error EINVAL" ] || fail "zero-range past the end"
[ "$(stat -c %s "$W")" = 10485760 ] || fail "fallocate changed the size"
# A punch in a cow window zeroes the overlay only.
[ "$("$FILEOP" fallocate "$T/mnt/c" punch 2097152 65536)" = ok ] || fail "cow punch"
cmp -n 65536 "$T/mnt/c" /dev/zero -i 2097152:0 || fail "cow punched range does not read zero"
unmount_slicefs "$T/mnt"

# The backing file: the punched/zeroed bytes are zero there too, the rest intact.
cmp -n 4096 "$T/sparse.img" /dev/zero -i $((4 * 1048576)):0 || fail "punch did not reach the backing file"
[ "$(dd if="$T/sparse.img" bs=4K skip=$((4 * 256 + 3)) count=1 status=none | tr -d '\0' | wc -c)" -gt 0 ] ||
    fail "bytes after the zeroed range were lost"
