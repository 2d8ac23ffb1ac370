#!/bin/bash
# Reads through windows at aligned and unaligned offsets, one-byte and empty
# windows, reads at, past and across the end of a window (0 bytes, short
# count), and windows past and across 4 GiB of a sparse backing file.
. "$(dirname "$0")/lib.sh"

size_is() {
    local got
    got=$(stat -c %s "$1")
    [ "$got" = "$2" ] || fail "size of $1 is $got, expected $2"
}

pread_is() {
    local got
    got=$("$FILEOP" pread "$1" "$2" "$3")
    [ "$got" = "$4" ] || fail "pread $1 at $2 for $3: got '$got', expected '$4'"
}

SIZE=$((4 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
sum_before=$(sha256sum <"$T/disk.img")
M=$T/mnt

mount_slicefs "$M" "$T/disk.img" \
    -o window=odd:12345:77777,window=one:4095:1,window=empty:100:0 \
    -o window=tail0:$SIZE:0,window=mid:1M:1M,window=last:$((SIZE - 5000)):end \
    -o window=all:0:end

size_is "$M/odd" 77777
size_is "$M/one" 1
size_is "$M/empty" 0
size_is "$M/tail0" 0
size_is "$M/mid" 1048576
size_is "$M/last" 5000
size_is "$M/all" "$SIZE"

# Whole windows, with cat and with dd at block sizes that do not divide them.
cmp <(extract "$T/disk.img" 12345 77777) "$M/odd" || fail "odd: cat content"
cmp <(extract "$T/disk.img" 12345 77777) <(dd if="$M/odd" bs=333 status=none) ||
    fail "odd: dd bs=333 content"
cmp <(extract "$T/disk.img" 4095 1) "$M/one" || fail "one: content"
[ "$(wc -c <"$M/one")" = 1 ] || fail "one: not exactly 1 byte"
[ -z "$(cat "$M/empty")" ] || fail "empty window returned data"
[ "$(wc -c <"$M/empty")" = 0 ] || fail "empty window is not empty"
[ "$(wc -c <"$M/tail0")" = 0 ] || fail "tail0 window is not empty"
cmp <(extract "$T/disk.img" 1048576 1048576) "$M/mid" || fail "mid: content"
cmp <(extract "$T/disk.img" $((SIZE - 5000)) 5000) "$M/last" || fail "last: content"
cmp "$T/disk.img" "$M/all" || fail "all: content"

# Unaligned reads inside a window, with dd skip/count in bytes.
for spec in "0 1" "1 4094" "777 33333" "4095 2" "77700 77" "77776 1" "65536 12241"; do
    read -r at count <<<"$spec"
    cmp <(extract "$T/disk.img" $((12345 + at)) "$count") <(extract "$M/odd" "$at" "$count") ||
        fail "odd: $count bytes at $at differ"
done
cmp <(extract "$T/disk.img" $((1048576 + 4095)) 8193) <(extract "$M/mid" 4095 8193) ||
    fail "mid: 8193 bytes at 4095 differ"

# At, past and across the end: 0 bytes, and the short count.
pread_is "$M/odd" 77777 10 "read 0"
pread_is "$M/odd" 80000 10 "read 0"
pread_is "$M/odd" $((1 << 40)) 10 "read 0"
pread_is "$M/odd" 77767 100 "read 10"
pread_is "$M/odd" 0 100000 "read 77777"
pread_is "$M/one" 0 10 "read 1"
pread_is "$M/one" 1 10 "read 0"
pread_is "$M/empty" 0 10 "read 0"
pread_is "$M/tail0" 0 4096 "read 0"
pread_is "$M/last" 4990 4096 "read 10"
pread_is "$M/last" 5000 4096 "read 0"
pread_is "$M/mid" 1048575 2 "read 1"
# The byte read across the end is the window's last byte, not the next one.
cmp <(extract "$T/disk.img" $((12345 + 77767)) 10) <(extract "$M/odd" 77767 100) ||
    fail "odd: the short read across the end has the wrong bytes"
[ "$(extract "$M/odd" 77767 100 | wc -c)" = 10 ] || fail "odd: dd across the end did not stop at the end"

unmount_slicefs "$M"
[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "reading changed the backing file"

# Past 4 GiB: a sparse 6 GiB backing file with known bytes at 5G+123 and
# across the 4 GiB boundary.
G=$((1 << 30))
truncate -s 6G "$T/big.img"
printf 'FAR-AWAY-BYTES' >"$T/far.pat"
printf '0123456789' >"$T/span.pat"
dd if="$T/far.pat" of="$T/big.img" oflag=seek_bytes seek=$((5 * G + 123)) conv=notrunc status=none
dd if="$T/span.pat" of="$T/big.img" oflag=seek_bytes seek=$((4 * G - 5)) conv=notrunc status=none
[ "$(stat -c %s "$T/big.img")" = $((6 * G)) ] || fail "could not build the sparse backing file"

mount_slicefs "$M" "$T/big.img" \
    -o window=far:5G:1M,window=span:4095M:2M,window=big:0:end,window=edge:$((6 * G - 4096)):end
size_is "$M/far" 1048576
size_is "$M/span" 2097152
size_is "$M/big" $((6 * G))
size_is "$M/edge" 4096

{ head -c 123 /dev/zero; cat "$T/far.pat"; head -c $((1048576 - 123 - 14)) /dev/zero; } >"$T/far.expected"
cmp "$T/far.expected" "$M/far" || fail "far: content (window at 5 GiB)"
[ "$(extract "$M/far" 123 14)" = FAR-AWAY-BYTES ] || fail "far: the bytes at 123"

# span: 4095M .. 4097M, the pattern at 4G-5 is at 1M-5 in the window.
{ head -c $((1048576 - 5)) /dev/zero; cat "$T/span.pat"; head -c $((1048576 - 5)) /dev/zero; } >"$T/span.expected"
cmp "$T/span.expected" "$M/span" || fail "span: content (window across 4 GiB)"
[ "$(extract "$M/span" $((1048576 - 5)) 10)" = 0123456789 ] || fail "span: the bytes across 4 GiB"

# The same bytes through the 6 GiB whole-file window at 64-bit offsets.
[ "$(extract "$M/big" $((5 * G + 123)) 14)" = FAR-AWAY-BYTES ] || fail "big: the bytes at 5G+123"
[ "$(extract "$M/big" $((4 * G - 5)) 10)" = 0123456789 ] || fail "big: the bytes at 4G-5"
pread_is "$M/big" $((6 * G)) 10 "read 0"
pread_is "$M/big" $((6 * G - 3)) 10 "read 3"
pread_is "$M/far" 1048576 1 "read 0"
pread_is "$M/far" 1048570 100 "read 6"
cmp <(head -c 4096 /dev/zero) "$M/edge" || fail "edge: content"
unmount_slicefs "$M"
[ "$(extract "$T/big.img" $((5 * G + 123)) 14)" = FAR-AWAY-BYTES ] || fail "the sparse backing file changed"
