#!/bin/bash
# Writes through windows (adjacent, overlapping, unaligned) land at exactly
# the right bytes of the backing file and nowhere else: after unmount the
# backing file equals a copy patched by the same writes with dd. A write
# through one of two overlapping windows reads back through the other.
. "$(dirname "$0")/lib.sh"

SIZE=$((4 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/expected.img"
M=$T/mnt

# Where each window starts in the backing file, and its length.
declare -A BASE=([a]=0 [b]=1048576 [c]=1572864 [d]=12345 [e]=3145728)
declare -A LEN=([a]=1048576 [b]=1048576 [c]=1048576 [d]=54321 [e]=1048576)
# a and b are adjacent; c overlaps the second half of b and goes past it;
# d is unaligned and inside a; e runs to the end.
# shellcheck disable=SC2054  # the commas belong to -o
OPTS=(-o window=a:0:1M,window=b:1M:1M,window=c:1536K:1M,window=d:12345:54321
      -o window=e:3M:end)
mount_slicefs "$M" "$T/disk.img" "${OPTS[@]}"

n=0
# put WINDOW OFFSET COUNT [DD-OPTIONS...] - writes COUNT fresh random bytes at
# OFFSET of WINDOW through the mount, and the same bytes into the copy.
put() {
    local w=$1 off=$2 count=$3
    shift 3
    n=$((n + 1))
    head -c "$count" /dev/urandom >"$T/data.$n"
    dd if="$T/data.$n" of="$M/$w" oflag=seek_bytes seek="$off" conv=notrunc status=none "$@" ||
        fail "dd of $count bytes at $off of $w failed"
    dd if="$T/data.$n" of="$T/expected.img" oflag=seek_bytes seek=$((BASE[$w] + off)) \
        conv=notrunc status=none
}

put b 0 1048576 bs=1M           # one 1 MiB request fills b
put a 1000 5000                 # unaligned, inside one page pair
put a 0 1                       # the very first byte
put a $((1048576 - 3)) 3        # the last bytes of a, just before b
put b 0 3                       # the first bytes of b, just after a
put b 4095 8193 bs=4096         # across page boundaries, several requests
put c $((524288 - 10)) 20       # across the end of b (c overlaps b)
put c 0 100                     # the first bytes of c = the middle of b
put c $((1048576 - 1)) 1        # the last byte of c
put d 4095 8193                 # d lies inside a, at an odd offset
put d $((54321 - 7)) 7          # the last bytes of d
put e 12345 300000 bs=65536     # large, unaligned, many requests
put e $((1048576 - 1)) 1        # the last byte of the backing file
# fileop: a single pwrite(2) of a known byte.
[ "$("$FILEOP" pwrite "$M/d" 33333 77 Q)" = "wrote 77" ] || fail "pwrite of 77 bytes into d"
head -c 77 /dev/zero | tr '\0' Q |
    dd of="$T/expected.img" oflag=seek_bytes seek=$((12345 + 33333)) conv=notrunc status=none

# e overlaps no other window: it reads back what was written, live.
cmp <(extract "$T/expected.img" "${BASE[e]}" "${LEN[e]}") "$M/e" || fail "e: live read-back"

# The live view: once b's pages are cached, a write through the
# overlapping c shows in b at once.
cat "$M/b" >/dev/null
[ "$("$FILEOP" pwrite "$M/c" 4096 4096 L)" = "wrote 4096" ] || fail "pwrite into c"
head -c 4096 /dev/zero | tr '\0' L |
    dd of="$T/expected.img" oflag=seek_bytes seek=$((BASE[c] + 4096)) conv=notrunc status=none
cmp <(extract "$T/expected.img" "${BASE[b]}" "${LEN[b]}") "$M/b" ||
    fail "b does not show at once what was written through the overlapping c"
unmount_slicefs "$M"

cmp "$T/expected.img" "$T/disk.img" ||
    fail "the backing file differs from the copy patched with the same writes"
[ "$(stat -c %s "$T/disk.img")" = "$SIZE" ] || fail "the backing file's size changed"

# A write through one overlapping window reads back through the other, and
# through the whole-file window, in a fresh mount.
mount_slicefs "$M" "$T/disk.img" "${OPTS[@]}"
for w in a b c d e; do
    cmp <(extract "$T/expected.img" "${BASE[$w]}" "${LEN[$w]}") "$M/$w" ||
        fail "$w: content after remount"
done
printf 'written-through-c' | dd of="$M/c" conv=notrunc status=none
unmount_slicefs "$M"
mount_slicefs "$M" "$T/disk.img" "${OPTS[@]}"
[ "$(extract "$M/b" 524288 17)" = written-through-c ] ||
    fail "a write through c does not read back through the overlapping b"
unmount_slicefs "$M"
printf 'written-through-c' |
    dd of="$T/expected.img" oflag=seek_bytes seek="${BASE[c]}" conv=notrunc status=none
cmp "$T/expected.img" "$T/disk.img" || fail "the write through c went elsewhere"
