#!/bin/bash
# Truncation never changes a window's size: cp, 'cat x >', O_TRUNC and
# truncate below the length leave exactly the new bytes and zeros after them,
# even when the kernel had the old content cached; truncate above the length
# is EFBIG, truncate to the length changes nothing; bytes of the backing file
# outside the window are never touched.
. "$(dirname "$0")/lib.sh"

# expect_window NAME LENGTH FILE MESSAGE - the window reads exactly FILE's
# bytes followed by zeros up to LENGTH, and its size is still LENGTH.
expect_window() {
    local name=$1 len=$2 file=$3 msg=$4 have
    have=$(stat -c %s "$file")
    { cat "$file"; head -c $((len - have)) /dev/zero; } >"$T/want.$name"
    [ "$(stat -c %s "$M/$name")" = "$len" ] || fail "$msg: the size of $name is $(stat -c %s "$M/$name")"
    cmp "$T/want.$name" "$M/$name" || fail "$msg: $name does not read the new bytes then zeros"
}

SIZE=$((4 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/orig.img"
M=$T/mnt
U=$((1048576 + 123)) ULEN=300000      # unaligned window u
A=$((2 * 1048576)) ALEN=1048576       # aligned window a
mount_slicefs "$M" "$T/disk.img" -o window=u:$U:$ULEN,window=a:$A:$ALEN

head -c 100000 /dev/urandom >"$T/x100k"
head -c 5000 /dev/urandom >"$T/x5k"
head -c 4096 /dev/urandom >"$T/x4k"

# cp into a window never read (nothing cached).
cp "$T/x100k" "$M/u"
expect_window u "$ULEN" "$T/x100k" "cp"
# cp after the window was read (the kernel holds the old pages).
cmp <(extract "$T/orig.img" "$A" "$ALEN") "$M/a" || fail "a: original content"
cp "$T/x100k" "$M/a"
expect_window a "$ALEN" "$T/x100k" "cp over cached pages"

# cat x > W after reading W.
cat "$M/u" >/dev/null
cat "$T/x5k" >"$M/u"
expect_window u "$ULEN" "$T/x5k" "cat >"
cat "$M/a" >/dev/null
cat "$T/x4k" >"$M/a"
expect_window a "$ALEN" "$T/x4k" "cat > (page-sized)"

# truncate -s N below the length, N unaligned, after reading: bytes below N
# stay, bytes from N on read zeros.
cp "$T/x100k" "$M/u"
cat "$M/u" >/dev/null
truncate -s 4097 "$M/u" || fail "truncate -s 4097 failed"
head -c 4097 "$T/x100k" >"$T/x4097"
expect_window u "$ULEN" "$T/x4097" "truncate -s 4097"
cat "$M/a" >/dev/null
is "ok" truncate "$M/a" 1000
head -c 1000 "$T/x4k" >"$T/x1000"
expect_window a "$ALEN" "$T/x1000" "truncate(1000)"

# truncate(0) and O_TRUNC zero the whole window.
: >"$T/empty"
cp "$T/x100k" "$M/u"
cat "$M/u" >/dev/null
is "ok" truncate "$M/u" 0
expect_window u "$ULEN" "$T/empty" "truncate(0)"
cp "$T/x100k" "$M/a"
cat "$M/a" >/dev/null
is "ok" open "$M/a" trunc
expect_window a "$ALEN" "$T/empty" "open(O_TRUNC)"

# Above the length: EFBIG, nothing changes. At the length: nothing changes.
cp "$T/x100k" "$M/u"
is "error EFBIG" truncate "$M/u" $((ULEN + 1))
is "error EFBIG" truncate "$M/u" $((1 << 40))
status=0
truncate -s $((ULEN + 1)) "$M/u" 2>"$T/tr.err" || status=$?
[ "$status" -ne 0 ] || fail "truncate -s LEN+1 succeeded"
grep -q "File too large" "$T/tr.err" || fail "truncate -s LEN+1: $(cat "$T/tr.err")"
expect_window u "$ULEN" "$T/x100k" "failed truncate above the length"
truncate -s "$ULEN" "$M/u" || fail "truncate -s LEN failed"
is "ok" truncate "$M/u" "$ULEN"
expect_window u "$ULEN" "$T/x100k" "truncate to the length"
cp "$T/x4k" "$M/a"
unmount_slicefs "$M"

# The backing file: the windows' final content, every other byte original.
cp "$T/orig.img" "$T/expected.img"
dd if="$T/want.u" of="$T/expected.img" oflag=seek_bytes seek="$U" conv=notrunc status=none
{ cat "$T/x4k"; head -c $((ALEN - 4096)) /dev/zero; } |
    dd of="$T/expected.img" oflag=seek_bytes seek="$A" conv=notrunc status=none
cmp "$T/expected.img" "$T/disk.img" || fail "the backing file has the wrong bytes"
[ "$(stat -c %s "$T/disk.img")" = "$SIZE" ] || fail "the backing file's size changed"

# -o truncate=ignore (block-device behaviour): O_TRUNC and truncate below
# the length are accepted and change nothing; above it still EFBIG. Per
# window in a table (MODE rw,truncate=ignore) it overrides the mount's
# default, and --list writes it back out.
cp "$T/orig.img" "$T/disk.img"
mount_slicefs "$M" "$T/disk.img" -o truncate=ignore,window=u:$U:$ULEN
head -c 4096 /dev/urandom >"$T/x4k"
dd if="$T/x4k" of="$M/u" bs=4096 status=none || fail "dd with O_TRUNC under truncate=ignore"
{ cat "$T/x4k"; extract "$T/orig.img" $((U + 4096)) $((ULEN - 4096)); } >"$T/want.ignore"
cmp "$T/want.ignore" "$M/u" || fail "truncate=ignore: dd without conv=notrunc zeroed the rest"
is "ok" truncate "$M/u" 0
cmp "$T/want.ignore" "$M/u" || fail "truncate=ignore: truncate 0 changed the window"
is "error EFBIG" truncate "$M/u" $((ULEN + 1))
unmount_slicefs "$M"

cp "$T/orig.img" "$T/disk.img"
cat >"$T/t.tab" <<TAB
keep  $U      $ULEN  rw,truncate=ignore  disk.img
zero  $A      $ALEN  rw                  disk.img
TAB
"$SLICEFS" --list -o table="$T/t.tab" >"$T/listed.tab" || fail "--list of the table"
grep -q "^keep $U $ULEN rw,truncate=ignore " "$T/listed.tab" || fail "--list lost truncate=ignore: $(cat "$T/listed.tab")"
grep -q "^zero $A $ALEN rw " "$T/listed.tab" || fail "--list: $(cat "$T/listed.tab")"
"$SLICEFS" --list -o table="$T/listed.tab" >"$T/relisted.tab" || fail "--list of the listed table"
cmp "$T/listed.tab" "$T/relisted.tab" || fail "--list does not read back the same"
# The mount's truncate=ignore applies to windows that do not say.
"$SLICEFS" --list -o truncate=ignore,table="$T/t.tab" | grep -q "^zero $A $ALEN rw,truncate=ignore " ||
    fail "-o truncate=ignore does not reach the table's windows"
mount_slicefs "$M" -o table="$T/listed.tab"
is "ok" truncate "$M/keep" 0
is "ok" truncate "$M/zero" 0
cmp <(extract "$T/orig.img" "$U" "$ULEN") "$M/keep" || fail "keep (truncate=ignore) changed"
cmp <(head -c "$ALEN" /dev/zero) "$M/zero" || fail "zero (truncate=zero) was not zeroed"
unmount_slicefs "$M"
expect_fail_mount "$M" "truncate=: 'sometimes' is not a truncate mode" "$T/disk.img" -o truncate=sometimes
