#!/bin/bash
# copy_file_range between windows and within one: exact bytes, clamped to
# both windows, ENOSPC at the destination's end, ro destination refused, and
# overlapping windows see the copied bytes at once.
. "$(dirname "$0")/lib.sh"

head -c 8M /dev/urandom >"$T/a.img"
head -c 4M /dev/urandom >"$T/b.img"
cp "$T/a.img" "$T/a.expect"
cat >"$T/w.tab" <<TAB
src   0      2M   rw  a.img
dst   4M     2M   rw  a.img
view  5M     1M   ro  a.img
other 0      1M   rw  b.img
cow   0      1M   cow b.img
TAB
mount_slicefs "$T/mnt" -o table="$T/w.tab"
M=$T/mnt
cat "$M/view" >/dev/null   # cache view's pages
[ "$("$FILEOP" copy "$M/src" 4096 "$M/dst" 1048576 65536)" = "copied 65536" ] || fail "copy src -> dst"
dd if="$T/a.img" of="$T/a.expect" bs=1 skip=4096 seek=$((5 * 1048576)) count=65536 conv=notrunc status=none
cmp <(dd if="$T/a.expect" bs=1M skip=5 count=1 status=none) "$M/view" ||
    fail "the overlapping view does not show the copied bytes at once"
# Within one window (the kernel itself refuses overlapping ranges of one file).
[ "$("$FILEOP" copy "$M/src" 0 "$M/src" 100 1000)" = "error EINVAL" ] || fail "overlapping copy within src"
[ "$("$FILEOP" copy "$M/src" 0 "$M/src" 10000 1000)" = "copied 1000" ] || fail "copy within src"
dd if="$T/a.expect" of="$T/a.tmp" bs=1 skip=0 count=1000 status=none
dd if="$T/a.tmp" of="$T/a.expect" bs=1 seek=10000 conv=notrunc status=none
# Across backing files, clamped to the source's end.
[ "$("$FILEOP" copy "$M/other" 1048000 "$M/dst" 0 4096)" = "copied 576" ] || fail "copy clamped at the source end"
dd if="$T/b.img" of="$T/a.expect" bs=1 skip=1048000 seek=$((4 * 1048576)) count=576 conv=notrunc status=none
# Clamped at the destination's end; ENOSPC at it; ro destination refused.
[ "$("$FILEOP" copy "$M/src" 0 "$M/dst" 2097000 4096)" = "copied 152" ] || fail "copy clamped at the destination end"
dd if="$T/a.expect" of="$T/a.expect" bs=1 skip=0 seek=$((4 * 1048576 + 2097000)) count=152 conv=notrunc status=none
[ "$("$FILEOP" copy "$M/src" 0 "$M/dst" 2097152 10)" = "error ENOSPC" ] || fail "copy at the destination end"
[ "$("$FILEOP" copy "$M/src" 0 "$M/view" 0 10)" = "error EACCES" ] || fail "copy into a ro window (its open for writing is refused)"
# Into a cow window: visible there, never in b.img.
sum_b=$(sha256sum <"$T/b.img")
[ "$("$FILEOP" copy "$M/src" 0 "$M/cow" 0 4096)" = "copied 4096" ] || fail "copy into cow"
cmp -n 4096 "$M/cow" "$T/a.expect" || fail "cow window does not show the copy"
unmount_slicefs "$T/mnt"
cmp "$T/a.img" "$T/a.expect" || fail "a.img differs from the expected copy"
[ "$(sha256sum <"$T/b.img")" = "$sum_b" ] || fail "a copy into a cow window reached b.img"
