#!/bin/bash
# Writes at the end of a window, like a block device: a write across the end
# writes what fits and returns the short count, a write at or past the end
# fails with ENOSPC, and the backing file's bytes after the window are
# never touched.
. "$(dirname "$0")/lib.sh"

SIZE=$((1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/expected.img"
M=$T/mnt
W=100000 WLEN=50000      # unaligned window
P=4096 PLEN=8192         # page-aligned window, a neighbour after it
mount_slicefs "$M" "$T/disk.img" -o window=w:$W:$WLEN,window=p:$P:$PLEN,window=next:$((P + PLEN)):4096

# Across the end: what fits, and the short count.
is "wrote 10" pwrite "$M/w" $((WLEN - 10)) 100 A
patch "$T/expected.img" $((W + WLEN - 10)) 10 A
is "wrote 1" pwrite "$M/w" $((WLEN - 1)) 1 B
patch "$T/expected.img" $((W + WLEN - 1)) 1 B
is "wrote 10" pwrite "$M/p" $((PLEN - 10)) 4096 C
patch "$T/expected.img" $((P + PLEN - 10)) 10 C
is "wrote 4096" pwrite "$M/p" 0 4096 D          # a full request that fits
patch "$T/expected.img" "$P" 4096 D

# At and past the end: ENOSPC.
is "error ENOSPC" pwrite "$M/w" "$WLEN" 1
is "error ENOSPC" pwrite "$M/w" "$WLEN" 100
is "error ENOSPC" pwrite "$M/w" $((WLEN + 1)) 1
is "error ENOSPC" pwrite "$M/w" $((WLEN + 65536)) 10
is "error ENOSPC" pwrite "$M/w" $((1 << 40)) 10
is "error ENOSPC" pwrite "$M/p" "$PLEN" 4096

# dd past the end fails with the block device's message.
status=0
printf 'ZZZZ' | dd of="$M/w" oflag=seek_bytes seek="$WLEN" conv=notrunc status=none 2>"$T/dd.err" ||
    status=$?
[ "$status" -ne 0 ] || fail "dd past the end of w succeeded"
grep -q "No space left on device" "$T/dd.err" || fail "dd past the end: $(cat "$T/dd.err")"
# dd across the end: the part that fits lands, then ENOSPC.
status=0
head -c 100 /dev/zero | tr '\0' E |
    dd of="$M/p" bs=100 oflag=seek_bytes seek=$((PLEN - 30)) conv=notrunc status=none 2>"$T/dd.err" ||
    status=$?
[ "$status" -ne 0 ] || fail "dd across the end of p succeeded"
grep -q "No space left on device" "$T/dd.err" || fail "dd across the end: $(cat "$T/dd.err")"
patch "$T/expected.img" $((P + PLEN - 30)) 30 E

# The window's size never grows and reads stop at its end.
[ "$(stat -c %s "$M/w")" = "$WLEN" ] || fail "w's size changed"
[ "$(stat -c %s "$M/p")" = "$PLEN" ] || fail "p's size changed"
is "read 0" pread "$M/w" "$WLEN" 10
[ "$(extract "$M/w" $((WLEN - 10)) 100)" = AAAAAAAAAB ] || fail "w: the bytes at the end"
# The neighbour after p still reads the original bytes.
cmp <(extract "$T/expected.img" $((P + PLEN)) 4096) "$M/next" ||
    fail "the window after p changed"
unmount_slicefs "$M"

cmp "$T/expected.img" "$T/disk.img" || fail "bytes outside what fits were written"
[ "$(stat -c %s "$T/disk.img")" = "$SIZE" ] || fail "the backing file's size changed"
