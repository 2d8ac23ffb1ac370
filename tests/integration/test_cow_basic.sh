#!/bin/bash
# cow windows: writes read back through the mount, never reach the backing
# file (same sha256sum and mtime after unmount, original bytes after a
# remount), and two overlapping cow windows see each other's writes.
. "$(dirname "$0")/lib.sh"

SIZE=$((4 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
touch -d '2001-02-03 04:05:06' "$T/disk.img"
cp -p "$T/disk.img" "$T/orig.img"
sum_before=$(sha256sum <"$T/disk.img")
mtime_before=$(stat -c %y "$T/disk.img")
M=$T/mnt
C1=1048576 C2=1572864                 # c1: 1M..2M, c2: 1.5M..2.5M (overlap 1.5M..2M)
# shellcheck disable=SC2054  # the commas belong to -o
OPTS=(-o window=c1:1M:1M:cow,window=c2:1536K:1M:cow,window=o:1M:1M:ro,window=c3:3M:64K:cow)
mount_slicefs "$M" "$T/disk.img" "${OPTS[@]}"
[ "$(stat -c %A "$M/c1")" = "$(stat -c %A "$T/disk.img")" ] || fail "a cow window is not writable"
# The mount's view, kept up to date as we write.
cp "$T/orig.img" "$T/view.img"

n=0
# put WINDOW BASE OFFSET COUNT - dd of fresh bytes through the mount, and
# into the expected view.
put() {
    n=$((n + 1))
    head -c "$4" /dev/urandom >"$T/data.$n"
    dd if="$T/data.$n" of="$M/$1" oflag=seek_bytes seek="$3" conv=notrunc status=none ||
        fail "dd into $1 failed"
    dd if="$T/data.$n" of="$T/view.img" oflag=seek_bytes seek=$(($2 + $3)) conv=notrunc status=none
}

# c1 writes into the overlap; c2 (never read before) sees them.
put c1 "$C1" 600000 10000
cmp <(extract "$T/view.img" $((C1 + 600000)) 10000) <(extract "$M/c2" $((C1 + 600000 - C2)) 10000) ||
    fail "c2 does not see c1's write into the overlap"
# c2 writes where c1 has not read; c1 (never read before)
# sees them.
put c2 "$C2" 400000 20000
cmp <(extract "$T/view.img" $((C2 + 400000)) 20000) <(extract "$M/c1" $((C2 + 400000 - C1)) 20000) ||
    fail "c1 does not see c2's write into the overlap"
put c1 "$C1" 12345 70000
cmp "$T/data.$n" <(extract "$M/c1" 12345 70000) || fail "c1 does not read back its write"
put c1 "$C1" 0 1
put c1 "$C1" $((1048576 - 1)) 1
[ "$("$FILEOP" pwrite "$M/c1" 300000 5000 K)" = "wrote 5000" ] || fail "pwrite into c1"
head -c 5000 /dev/zero | tr '\0' K |
    dd of="$T/view.img" oflag=seek_bytes seek=$((C1 + 300000)) conv=notrunc status=none
# Writes at the end of a cow window behave as for rw.
is "wrote 1" pwrite "$M/c1" $((1048576 - 1)) 10 E
printf E | dd of="$T/view.img" oflag=seek_bytes seek=$((C1 + 1048576 - 1)) conv=notrunc status=none
is "error ENOSPC" pwrite "$M/c1" 1048576 1

put c2 "$C2" 900000 30000            # past c1's end
# Whole windows only now: once read, a window's pages are cached (see below).
cmp <(extract "$T/view.img" "$C1" 1048576) "$M/c1" || fail "c1: the whole window after writes"
cmp <(extract "$T/view.img" "$C2" 1048576) "$M/c2" || fail "c2: the whole window after writes"

# Once c2's pages are cached, a write through the overlapping c1 shows in
# c2 at once (the daemon drops the overlapping windows' cached pages).
cat "$M/c2" >/dev/null
put c1 "$C1" 540000 4096
cmp <(extract "$T/view.img" "$C2" 1048576) "$M/c2" ||
    fail "c2 does not show at once what was written through c1"

# The ro window on the same bytes shows the backing file, untouched.
cmp <(extract "$T/orig.img" "$C1" 1048576) "$M/o" || fail "a cow write leaked into the shared view"
cmp "$T/orig.img" "$T/disk.img" || fail "a cow write reached the backing file while mounted"

# O_TRUNC and truncate on a cow window zero the overlay only.
head -c 5000 /dev/urandom >"$T/x5k"
cat "$M/c3" >/dev/null
cat "$T/x5k" >"$M/c3"
cmp <(cat "$T/x5k"; head -c $((65536 - 5000)) /dev/zero) "$M/c3" || fail "c3 after cat >"
is ok truncate "$M/c3" 100
cmp <(head -c 100 "$T/x5k"; head -c $((65536 - 100)) /dev/zero) "$M/c3" || fail "c3 after truncate(100)"
is "error EFBIG" truncate "$M/c3" 65537
is ok fsync "$M/c1"
unmount_slicefs "$M"

[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "cow writes reached the backing file"
[ "$(stat -c %y "$T/disk.img")" = "$mtime_before" ] || fail "cow writes changed the backing file's mtime"

# The overlay is gone after unmount: a new mount shows the original bytes.
mount_slicefs "$M" "$T/disk.img" "${OPTS[@]}"
cmp <(extract "$T/orig.img" "$C1" 1048576) "$M/c1" || fail "c1 after remount is not the original"
cmp <(extract "$T/orig.img" "$C2" 1048576) "$M/c2" || fail "c2 after remount is not the original"
cmp <(extract "$T/orig.img" $((3 * 1048576)) 65536) "$M/c3" || fail "c3 after remount is not the original"
unmount_slicefs "$M"
[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "the backing file changed"
