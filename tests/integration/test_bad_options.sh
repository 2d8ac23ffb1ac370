#!/bin/bash
# Every refusal exits 1 before mounting, with a message that names the option
# and the field; nothing is mounted and the backing file is not touched.
. "$(dirname "$0")/lib.sh"

head -c 1M /dev/urandom >"$T/disk.img"
touch -d '2001-02-03 04:05:06.5' "$T/disk.img"
state() { echo "$(sha256sum <"$T/disk.img") $(stat -c '%s %y %Z' "$T/disk.img")"; }
before=$(state)
M=$T/mnt

# refuse OPTION FIELD [NAMED...] - '-o OPTION' is refused with a message that
# contains FIELD and each NAMED (default: OPTION itself, as written).
refuse() {
    local option=$1 field=$2 named
    shift 2
    [ $# -gt 0 ] || set -- "$option"
    expect_fail_mount "$M" "$field" -o "$option" "$T/disk.img"
    for named; do
        grep -qF -- "$named" "$T/refused.log" ||
            { cat "$T/refused.log" >&2; fail "the message for -o $option does not name $named"; }
    done
    [ "$(state)" = "$before" ] || fail "-o $option touched the backing file"
}

# Numbers: not a number, negative, trailing junk, too large, overflow.
refuse window=a:1Q:1 OFFSET
refuse window=a:-1:1 OFFSET
refuse window=a:0:-5 LENGTH
refuse window=a:12abc:1 OFFSET
refuse window=a:0:1x LENGTH
refuse window=a:0:4K0 LENGTH
refuse window=a:0x:1 OFFSET
refuse window=a:0xg:1 OFFSET
refuse "window=a: 1:1" OFFSET
refuse window=a::1 OFFSET
refuse window=a:0: LENGTH
refuse window=a:99999999999999999999:1 OFFSET
refuse window=a:0:9223372036854775808 LENGTH
refuse window=a:0:8E LENGTH
refuse window=a:0:9000P LENGTH
refuse window=a:0x7fffffffffffffff:2 LENGTH
refuse window=a:4P:0x7ffffffffffffff0 LENGTH
# Past the end of the 1 MiB backing file.
refuse window=a:0:1048577 LENGTH
refuse window=a:1M:1 LENGTH
refuse window=a:1048575:2 LENGTH
refuse window=a:2M:0 OFFSET
refuse window=a:1048577:end OFFSET
refuse window=a:8P:1 OFFSET
# Paths: duplicates, file-vs-directory, empty, '.' and '..' components.
refuse window=a:0:1,window=a:1:1 PATH window=a:1:1 window=a:0:1
refuse window=a/b/c:0:1,window=a/b/c:0:1 PATH window=a/b/c:0:1
refuse window=a:0:1,window=a/b:0:1 PATH window=a/b:0:1 window=a:0:1
refuse window=a/b:0:1,window=a:0:1 PATH window=a/b:0:1 window=a:0:1
refuse window=x/a:0:1,window=x/a/b/c:0:1 PATH window=x/a/b/c:0:1 window=x/a:0:1
refuse window=a//b:0:1 PATH
refuse window=/a:0:1 PATH
refuse window=a/:0:1 PATH
refuse window=:0:1 PATH
refuse window=.:0:1 PATH
refuse window=..:0:1 PATH
refuse window=a/./b:0:1 PATH
refuse window=a/../b:0:1 PATH
refuse window=a/..:0:1 PATH
# Modes and the number of fields.
refuse window=a:0:1:rx MODE
refuse window=a:0:1:RW MODE
refuse window=a:0:1: MODE
refuse window=a OFFSET
refuse window=a:0 LENGTH
refuse window=a:0:1:ro:x "too many"
refuse window=a:0:1:ro:x:y "too many"
# A good window does not save a bad one, in either order.
refuse window=good:0:1,window=a:0:1:bad MODE window=a:0:1:bad
refuse window=a:0:zz,window=good:0:1 LENGTH window=a:0:zz
expect_fail_mount "$M" "LENGTH" -o window=good:0:1 -o window=a:0:2M "$T/disk.img"
grep -qF window=a:0:2M "$T/refused.log" || fail "the second -o is not named"

# The backing file: missing (and not created), a directory.
expect_fail_mount "$M" "No such file or directory" "$T/nope.img"
grep -qF "$T/nope.img" "$T/refused.log" || fail "the missing backing file is not named"
[ ! -e "$T/nope.img" ] || fail "a missing backing file was created"
expect_fail_mount "$M" "nope.img" -o window=a:0:1 "$T/nope.img"
[ ! -e "$T/nope.img" ] || fail "a missing backing file was created"
mkdir "$T/dir"
expect_fail_mount "$M" "directory" "$T/dir"
grep -qF "$T/dir" "$T/refused.log" || fail "the directory backing file is not named"
expect_fail_mount "$M" "directory|regular" -o window=a:0:0 "$T/dir"

# No mount point: 'slicefs BACKING' alone mounts nothing anywhere.
status=0
timeout "$DEADLINE" "$SLICEFS" -f "$T/disk.img" >"$T/nomnt.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$T/nomnt.log" >&2; fail "slicefs BACKING exited $status, expected 1"; }
[ -s "$T/nomnt.log" ] || fail "slicefs BACKING printed no message"
! is_mounted "$T/disk.img" || fail "slicefs BACKING mounted over the backing file"
status=0
timeout "$DEADLINE" "$SLICEFS" >"$T/noargs.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "slicefs without arguments exited $status, expected 1"
grep -q usage "$T/noargs.log" || fail "slicefs without arguments: $(cat "$T/noargs.log")"
status=0
timeout "$DEADLINE" "$SLICEFS" -f "$T/disk.img" "$M" extra >"$T/extra.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || fail "a third positional argument: exit $status, expected 1"
grep -qF extra "$T/extra.log" || fail "a third positional argument is not named: $(cat "$T/extra.log")"
! is_mounted "$M" || fail "a third positional argument mounted $M"

# Unknown options: libfuse refuses them.
expect_fail_mount "$M" "bogus_option" -o bogus_option "$T/disk.img"
expect_fail_mount "$M" "bogus_option" -o window=a:0:1,bogus_option=3 "$T/disk.img"
expect_fail_mount "$M" "--bogus" --bogus "$T/disk.img"

[ "$(state)" = "$before" ] || fail "a refused mount touched the backing file"
! grep -qF "$T" /proc/mounts || fail "something is mounted under $T"
