#!/bin/bash
# table=FILE: windows over several backing files, BACKING relative to the
# table's folder, each backing file opened once; --list prints the same
# format and its output mounts again unchanged; bad lines are refused with
# FILE:LINE: FIELD.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/images" "$T/elsewhere"
head -c 3M /dev/urandom >"$T/images/a.img"
head -c 2M /dev/urandom >"$T/images/b.img"
cat >"$T/images/windows.tab" <<'TAB'
# path        offset  length  mode  backing
first         0       1M      ro    a.img
dir/second    1M      end     rw    a.img

b/all         0       end     rw    b.img     # a comment after the fields
b/tail        0x180000 512K   ro    ./b.img
with\ space   4K      4K      ro    b.img
TAB
# From another working directory: BACKING is relative to the table's folder.
cd "$T/elsewhere"
mount_slicefs "$T/mnt" -o table="$T/images/windows.tab"
cmp <(head -c 1M "$T/images/a.img") "$T/mnt/first" || fail "first"
cmp <(tail -c +1048577 "$T/images/a.img") "$T/mnt/dir/second" || fail "dir/second"
cmp "$T/images/b.img" "$T/mnt/b/all" || fail "b/all"
cmp <(tail -c 524288 "$T/images/b.img") "$T/mnt/b/tail" || fail "b/tail"
cmp <(dd if="$T/images/b.img" bs=4K skip=1 count=1 status=none) "$T/mnt/with space" ||
    fail "a path with a space"
[ "$(getfattr --only-values -n user.slicefs.backing "$T/mnt/b/tail")" = "$T/images/b.img" ] ||
    fail "b/tail's backing is not b.img"
# Each backing file is opened once, however many windows use it.
opened=$(ls -l "/proc/$DAEMON_PID/fd" | grep -c "$T/images/b.img") || true
[ "$opened" = 1 ] || fail "b.img is open $opened times in the daemon"
unmount_slicefs "$T/mnt"

# --list prints the table; its output mounts again and lists identically.
"$SLICEFS" --list -o table="$T/images/windows.tab" >"$T/listed.tab" || fail "--list failed"
[ "$(wc -l <"$T/listed.tab")" = 5 ] || fail "--list printed $(wc -l <"$T/listed.tab") lines"
grep -q '^with\\ space 4096 4096 ro ' "$T/listed.tab" || fail "escaped path: $(cat "$T/listed.tab")"
"$SLICEFS" --list -o table="$T/listed.tab" | cmp - "$T/listed.tab" || fail "round trip differs"
mount_slicefs "$T/mnt" -o table="$T/listed.tab"
cmp "$T/images/b.img" "$T/mnt/b/all" || fail "remounted b/all"
unmount_slicefs "$T/mnt"

# --list for the other sources; the window= windows mount again from it.
"$SLICEFS" --list -o window=x:1K:2K:ro,window=y/z:0:end "$T/images/a.img" >"$T/opt.tab"
printf 'x 1024 2048 ro %s\ny/z 0 end rw %s\n' "$T/images/a.img" "$T/images/a.img" |
    cmp - "$T/opt.tab" || fail "--list of window= options: $(cat "$T/opt.tab")"

# Bad lines: FILE:LINE: FIELD: why; status 1; nothing mounted.
bad() { # LINE-TEXT PATTERN
    printf '# ok\nfine 0 1K ro a.img\n%s\n' "$1" >"$T/images/bad.tab"
    expect_fail_mount "$T/mnt" "$2" -o table="$T/images/bad.tab"
}
bad 'x 1Q 1K ro a.img' "bad.tab:3: OFFSET: '1Q'"
bad 'x 0 zz ro a.img' "bad.tab:3: LENGTH"
bad 'x 0 1K rx a.img' "bad.tab:3: MODE: 'rx'"
bad 'x 0' "bad.tab:3: LENGTH: missing"
bad 'x 0 1K ro a.img extra' "bad.tab:3: too many fields"
bad 'x 0 1K ro missing.img' "bad.tab:3: backing file '.*missing.img'"
bad 'x 0 4M ro a.img' "bad.tab:3: LENGTH: offset 0 \\+ length 4194304"
# (Consecutive lines with one PATH are extents of one window: a duplicate
# is a PATH declared again after another.)
bad "$(printf 'other 0 1K ro a.img\nfine 0 1K ro b.img')" \
    "bad.tab:4: PATH: 'fine' is declared twice \\(also by .*bad.tab:2\\)"
bad 'a/../b 0 1K ro a.img' "bad.tab:3: PATH"
expect_fail_mount "$T/mnt" "table=$T/nope.tab: No such file" -o table="$T/nope.tab"
# A table without BACKING fields needs the command line's BACKING.
printf 'w 0 1K\n' >"$T/images/nobacking.tab"
expect_fail_mount "$T/mnt" "nobacking.tab:1: BACKING: no backing file given" \
    -o table="$T/images/nobacking.tab"
mount_slicefs "$T/mnt" "$T/images/b.img" -o table="$T/images/nobacking.tab"
cmp <(head -c 1K "$T/images/b.img") "$T/mnt/w" || fail "table window over the command line's BACKING"
unmount_slicefs "$T/mnt"
