#!/bin/bash
# Windows of several extents: a split image (.001/.002/.003, every part
# "end") as one file, read whole and across the seams, written across a
# seam; holes (OFFSET "hole") read as zeros, are found by SEEK_HOLE, refuse
# a write that starts in them (ENOSPC) and stop one that reaches them;
# st_blocks counts the data extents; --list prints the extents back in the
# table format, and the listed table mounts the same windows.
. "$(dirname "$0")/lib.sh"

head -c 300000 /dev/urandom >"$T/img.001"
head -c 200000 /dev/urandom >"$T/img.002"
head -c 123457 /dev/urandom >"$T/img.003"
head -c 1048576 /dev/urandom >"$T/data"
cat >"$T/table" <<'TABLE'
# a split image as one file
disk.img 0 end rw img.001
disk.img 0 end rw img.002
disk.img 0 end rw img.003
# data, a hole, data again (in another file), data
sparse 4096 4096 rw data
sparse hole 8192 rw data
sparse 0 1000 rw img.001
sparse 65536 10000 rw data
TABLE
mount_slicefs "$T/mnt" -o table="$T/table"
cat "$T/img.001" "$T/img.002" "$T/img.003" >"$T/joined"
cmp "$T/mnt/disk.img" "$T/joined" || fail "the split image read whole differs"
[ "$(stat -c %s "$T/mnt/disk.img")" = 623457 ] || fail "split image size"
# Reads across both seams, at odd offsets and sizes.
cmp <(dd if="$T/mnt/disk.img" bs=1 skip=299990 count=200030 status=none) \
    <(extract "$T/joined" 299990 200030) || fail "a read across the seams"
# A write across the first seam lands in both parts.
printf 'SEAMSEAMSEAM' | dd of="$T/mnt/disk.img" bs=1 seek=299994 conv=notrunc status=none
[ "$(extract "$T/img.001" 299994 6)" = SEAMSE ] || fail "write: the first part"
[ "$(extract "$T/img.002" 0 6)" = AMSEAM ] || fail "write: the second part"

# The sparse window: 4096 + 8192 + 1000 + 10000 bytes.
[ "$(stat -c %s "$T/mnt/sparse")" = 23288 ] || fail "sparse window size"
{ extract "$T/data" 4096 4096; head -c 8192 /dev/zero; extract "$T/img.001" 0 1000
  extract "$T/data" 65536 10000; } >"$T/expect"
cmp "$T/mnt/sparse" "$T/expect" || fail "sparse window content"
is "at 4096" seek "$T/mnt/sparse" 0 hole
is "at 12288" seek "$T/mnt/sparse" 4096 data
is "at 5000" seek "$T/mnt/sparse" 5000 hole
is "error ENOSPC" pwrite "$T/mnt/sparse" 5000 10 x
is "wrote 100" pwrite "$T/mnt/sparse" 3996 200 y
is "wrote 2000" pwrite "$T/mnt/sparse" 12288 2000 z
[ "$(extract "$T/img.001" 0 1000 | tr -d z | wc -c)" = 0 ] || fail "write into the third extent"
[ "$(extract "$T/data" 65536 1000 | tr -d z | wc -c)" = 0 ] || fail "write into the fourth extent"
[ "$(extract "$T/data" 8092 100 | tr -d y | wc -c)" = 0 ] || fail "write before the hole"
cp "$T/mnt/sparse" "$T/copy" && cmp "$T/copy" "$T/mnt/sparse" || fail "cp of the sparse window"

"$SLICEFS" --list -o table="$T/table" >"$T/listed" || fail "--list"
[ "$(grep -c '^disk.img 0 end rw ' "$T/listed")" = 3 ] || fail "--list of the split image: $(cat "$T/listed")"
grep -q '^sparse hole 8192 rw ' "$T/listed" || fail "--list of a hole: $(cat "$T/listed")"
unmount_slicefs "$T/mnt"

# The listed table mounts the same windows.
mount_slicefs "$T/mnt" -o table="$T/listed",ro
cat "$T/img.001" "$T/img.002" "$T/img.003" | cmp - "$T/mnt/disk.img" || fail "listed table: disk.img"
unmount_slicefs "$T/mnt"

# A mode that differs between extents is refused, naming the line.
printf 'x 0 10 ro data\nx 0 10 rw data\n' >"$T/bad"
expect_fail_mount "$T/mnt" "bad:2: MODE" -o table="$T/bad"
