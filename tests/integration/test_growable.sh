#!/bin/bash
# Growable windows and sizing options: -o create makes a missing backing
# file, -o extend grows one sparsely so every window fits (and a refused
# mount undoes both); a rw window whose LENGTH is "end" behaves like the
# backing file itself (writes past its end and truncate change the file's
# size), while fixed windows keep their size; an "end" window follows the
# file when it grows outside the mount.
. "$(dirname "$0")/lib.sh"

# -o create,extend: a new sparse backing file sized for its windows.
mount_slicefs "$T/mnt" "$T/new.img" -o create,extend,window=head:0:1M,window=tail:1M:end
[ "$(stat -c %s "$T/new.img")" = 1048576 ] || fail "new.img is $(stat -c %s "$T/new.img") bytes"
[ "$(stat -c %b "$T/new.img")" -lt 64 ] || fail "new.img is not sparse"
[ "$(stat -c %s "$T/mnt/tail")" = 0 ] || fail "tail is not empty"

# The growable window takes a 3 MB file with cp (O_TRUNC, then writes past its end).
head -c 3000000 /dev/urandom >"$T/data"
cp "$T/data" "$T/mnt/tail" || fail "cp into the growable window"
[ "$(stat -c %s "$T/mnt/tail")" = 3000000 ] || fail "tail did not grow"
[ "$(stat -c %s "$T/new.img")" = $((1048576 + 3000000)) ] || fail "new.img did not grow"
cmp "$T/data" "$T/mnt/tail" || fail "tail content"
[ "$(stat -c %s "$T/mnt/head")" = 1048576 ] || fail "head changed size"
# Appending grows it too; a fixed window still refuses past its end.
printf 'APPENDED' >>"$T/mnt/tail"
[ "$(stat -c %s "$T/mnt/tail")" = 3000008 ] || fail "append did not grow tail"
[ "$("$FILEOP" pwrite "$T/mnt/head" 1048576 1)" = "error ENOSPC" ] || fail "head grew"
# truncate shrinks (and grows) the backing file through the window.
truncate -s 100 "$T/mnt/tail"
[ "$(stat -c %s "$T/new.img")" = 1048676 ] || fail "truncate did not shrink new.img"
truncate -s 2M "$T/mnt/tail"
[ "$(stat -c %s "$T/new.img")" = $((3 * 1048576)) ] || fail "truncate did not grow new.img"
cmp -n 100 "$T/data" "$T/mnt/tail" || fail "the first 100 bytes did not survive"
cmp -n $((2 * 1048576 - 100)) -i 100:0 "$T/mnt/tail" /dev/zero || fail "regrown bytes are not zero"
[ "$(getfattr --only-values -n user.slicefs.length "$T/mnt/tail")" = 2097152 ] ||
    fail "user.slicefs.length does not follow the size"
# size_is FILE SIZE - FILE's size (as stat sees it now) is SIZE.
size_is() { [ "$(stat -c %s "$1")" = "$2" ]; }
# Growth outside the mount: an end window follows once the kernel's
# attributes expire (cache=auto: 1 s); waited for, with the deadline.
truncate -s 5M "$T/new.img"
wait_until "tail follows the outside growth to 4 MiB" size_is "$T/mnt/tail" $((4 * 1048576))
unmount_slicefs "$T/mnt"

# fallocate on a growable window behaves like on its file (as ext4 does;
# the issue's examples on a 100000-byte "end" window): punch-hole and
# keep-size allocation across the end succeed and keep the size; zero-range
# past the end grows the file; a fixed window still refuses with EINVAL.
requires fallocate
head -c $((4096 + 100000)) /dev/urandom >"$T/fa.img"
cp "$T/fa.img" "$T/fa.orig"
mount_slicefs "$T/mnt" "$T/fa.img" -o window=tail:4096:end,window=fixed:0:4096
fallocate -p -o 98000 -l 8192 "$T/mnt/tail" || fail "punch-hole across the end of tail"
[ "$(stat -c %s "$T/mnt/tail")" = 100000 ] || fail "punch-hole changed tail's size"
cmp -n 98000 "$T/mnt/tail" <(extract "$T/fa.orig" 4096 98000) || fail "punch-hole hit bytes before it"
cmp -i 98000:0 -n 2000 "$T/mnt/tail" /dev/zero || fail "punch-hole did not zero the end of tail"
is "ok" fallocate "$T/mnt/tail" keep 90000 65536
[ "$(stat -c %s "$T/mnt/tail")" = 100000 ] || fail "keep-size allocation changed tail's size"
fallocate -z -o 200000 -l 4096 "$T/mnt/tail" || fail "zero-range past the end of tail"
[ "$(stat -c %s "$T/mnt/tail")" = 204096 ] || fail "zero-range past the end did not grow tail"
[ "$(stat -c %s "$T/fa.img")" = $((4096 + 204096)) ] || fail "zero-range did not grow fa.img"
cmp -i 100000:0 -n 104096 "$T/mnt/tail" /dev/zero || fail "tail past its old end is not zeros"
is "ok" fallocate "$T/mnt/tail" alloc 300000 4096
[ "$(stat -c %s "$T/mnt/tail")" = 304096 ] || fail "allocation past the end did not grow tail"
is "error EINVAL" fallocate "$T/mnt/fixed" punch 4000 200
cmp -n 4096 "$T/mnt/fixed" "$T/fa.orig" || fail "the fixed window changed"
unmount_slicefs "$T/mnt"

# A ro "end" window follows the file too, but is never growable.
mount_slicefs "$T/mnt" "$T/new.img" -o window=all:0:end:ro
truncate -s 6M "$T/new.img"
wait_until "the ro end window follows the outside growth to 6 MiB" size_is "$T/mnt/all" $((6 * 1048576))
[ "$("$FILEOP" open "$T/mnt/all" w)" = "error EACCES" ] || fail "ro end window writable"
unmount_slicefs "$T/mnt"

# -o extend of an existing file; without it, the same window is refused.
head -c 1M /dev/urandom >"$T/small.img"
cp "$T/small.img" "$T/small.orig"
expect_fail_mount "$T/mnt" "past the end" "$T/small.img" -o window=w:512K:4M
mount_slicefs "$T/mnt" "$T/small.img" -o extend,window=w:512K:4M
[ "$(stat -c %s "$T/small.img")" = $((512 * 1024 + 4 * 1048576)) ] || fail "extend size"
cmp -n 1048576 "$T/small.img" "$T/small.orig" || fail "extend changed existing bytes"
unmount_slicefs "$T/mnt"

# A refused mount undoes -o create and -o extend: nothing is left written.
truncate -s 1M "$T/keep.img"
expect_fail_mount "$T/mnt" "'x' is declared twice" "$T/made.img" -o create,extend,window=x:0:1M,window=x:0:1M
[ ! -e "$T/made.img" ] || fail "a refused mount left the created file behind"
expect_fail_mount "$T/mnt" "unknown option" "$T/keep.img" -o extend,window=x:0:8M,bogus_option
[ "$(stat -c %s "$T/keep.img")" = 1048576 ] || fail "a refused mount left keep.img extended"
expect_fail_mount "$T/mnt" "No such file" "$T/absent.img" -o window=x:0:1M
[ ! -e "$T/absent.img" ] || fail "without create, a backing file was created"
