#!/bin/bash
# Names come only from the windows: create, mkdir, unlink, rename, rmdir,
# link and symlink fail with EPERM at the top and in subdirectories; window
# paths make nested directories; stat of a window shows its length and the
# backing file's owner, permission bits and times; statfs reports the
# backing file's file system.
. "$(dirname "$0")/lib.sh"

head -c 64K /dev/urandom >"$T/disk.img"
chown 4321:8765 "$T/disk.img"
chmod 0640 "$T/disk.img"
touch -d '2020-01-02 03:04:05.123456789' "$T/disk.img"
M=$T/mnt
mount_slicefs "$M" "$T/disk.img" \
    -o window=top:0:4K,window=a/b/c:4K:4K,window=a/b/d:8K:100,window=a/e:12K:4K \
    -o window=z/y/x/w:16K:1K,window=A:0:1

# The tree, sorted like ls sorts in the C locale.
[ "$(ls "$M" | tr '\n' ' ')" = "A a top z " ] || fail "ls of the root: $(ls "$M" | tr '\n' ' ')"
[ "$(ls "$M/a" | tr '\n' ' ')" = "b e " ] || fail "ls a: $(ls "$M/a" | tr '\n' ' ')"
[ "$(ls "$M/a/b" | tr '\n' ' ')" = "c d " ] || fail "ls a/b: $(ls "$M/a/b" | tr '\n' ' ')"
[ "$(ls -a "$M/z/y" | tr '\n' ' ')" = ". .. x " ] || fail "ls -a z/y: $(ls -a "$M/z/y" | tr '\n' ' ')"
(cd "$M" && find . | sort) >"$T/find.out"
printf '%s\n' . ./A ./a ./a/b ./a/b/c ./a/b/d ./a/e ./top ./z ./z/y ./z/y/x ./z/y/x/w |
    cmp - "$T/find.out" || fail "find lists: $(tr '\n' ' ' <"$T/find.out")"
for d in a a/b z z/y z/y/x; do
    [ "$(stat -c %F "$M/$d")" = directory ] || fail "$d is not a directory"
done
for f in A top a/b/c a/b/d a/e z/y/x/w; do
    [ "$(stat -c %F "$M/$f")" = "regular file" ] || fail "$f is not a regular file"
done
cmp <(dd if="$T/disk.img" bs=4K skip=1 count=1 status=none) "$M/a/b/c" || fail "a/b/c content"
[ -e "$M/a/b/nothing" ] && fail "a/b/nothing exists"
[ -e "$M/b" ] && fail "b exists at the top"

# stat of a window: size = length, owner and mode and times of the backing file.
[ "$(stat -c %s "$M/a/b/d")" = 100 ] || fail "a/b/d's size: $(stat -c %s "$M/a/b/d")"
[ "$(stat -c %s "$M/z/y/x/w")" = 1024 ] || fail "z/y/x/w's size"
for f in top a/b/d; do
    [ "$(stat -c %u:%g "$M/$f")" = 4321:8765 ] || fail "$f's owner: $(stat -c %u:%g "$M/$f")"
    [ "$(stat -c %a "$M/$f")" = 640 ] || fail "$f's mode: $(stat -c %a "$M/$f")"
    [ "$(stat -c %A "$M/$f")" = -rw-r----- ] || fail "$f's mode: $(stat -c %A "$M/$f")"
    [ "$(stat -c %y "$M/$f")" = "$(stat -c %y "$T/disk.img")" ] ||
        fail "$f's mtime $(stat -c %y "$M/$f") is not the backing file's $(stat -c %y "$T/disk.img")"
done

# statfs: the backing file's file system.
[ "$(stat -f -c '%s %S %b' "$M")" = "$(stat -f -c '%s %S %b' "$T")" ] ||
    fail "statfs: '$(stat -f -c '%s %S %b' "$M")' is not the backing file system's '$(stat -f -c '%s %S %b' "$T")'"
[ "$(stat -f -c '%s %S %b' "$M/a/b")" = "$(stat -f -c '%s %S %b' "$T")" ] || fail "statfs of a/b"

# Names are made only by the windows: EPERM, at the top and below.
for dir in "$M" "$M/a" "$M/a/b"; do
    is "error EPERM" create "$dir/new"
    is "error EPERM" mkdir "$dir/newdir"
    is "error EPERM" symlink "$dir/sl" "$M/top"
    is "error EPERM" link "$M/top" "$dir/hard"
    is "error EPERM" rename "$M/top" "$dir/moved"
done
is "error EPERM" unlink "$M/top"
is "error EPERM" unlink "$M/a/b/c"
is "error EPERM" unlink "$M/z/y/x/w"
is "error EPERM" rename "$M/a/b/c" "$M/a/b/d"       # onto an existing window
is "error EPERM" rename "$M/a/b/c" "$M/a/b/c2"
is "error EPERM" rename "$M/a" "$M/a2"               # a directory
is "error EPERM" rename "$M/a/e" "$M/z/e"           # across directories
is "error EPERM" link "$M/a/b/c" "$M/a/b/c2"
is "error EPERM" rmdir "$M/a/b"
is "error EPERM" rmdir "$M/z/y/x"
is "error EPERM" rmdir "$M/a"
status=0
mkdir "$M/a/mk" 2>"$T/mkdir.err" || status=$?
[ "$status" -ne 0 ] || fail "mkdir succeeded"
grep -q "Operation not permitted" "$T/mkdir.err" || fail "mkdir: $(cat "$T/mkdir.err")"
status=0
rm -f "$M/top" 2>"$T/rm.err" || status=$?
[ "$status" -ne 0 ] || fail "rm succeeded"
# Nothing appeared or went away.
(cd "$M" && find . | sort) | cmp - "$T/find.out" || fail "the tree changed"
unmount_slicefs "$M"
