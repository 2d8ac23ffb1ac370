#!/bin/bash
# Extended attributes user.slicefs.{offset,length,backing,mode} describe each
# window and are read-only.
. "$(dirname "$0")/lib.sh"
requires getfattr
requires setfattr

truncate -s 8M "$T/disk.img"
mount_slicefs "$T/mnt" "$T/disk.img" -o window=a/b:1M:2M:ro,window=c:3M:end,layout=chunks:4M
attr() { getfattr --only-values -n "user.slicefs.$2" "$T/mnt/$1"; }
[ "$(attr a/b offset)" = 1048576 ] || fail "offset of a/b"
[ "$(attr a/b length)" = 2097152 ] || fail "length of a/b"
[ "$(attr a/b mode)" = ro ] || fail "mode of a/b"
[ "$(attr a/b backing)" = "$(realpath "$T/disk.img")" ] || fail "backing of a/b"
[ "$(attr c mode)" = rw ] || fail "mode of c"
[ "$(attr c length)" = 5242880 ] || fail "length of c"
[ "$(attr 00000001 offset)" = 4194304 ] || fail "offset of chunk 1"
getfattr -d -m '^user\.slicefs\.' "$T/mnt/c" | grep -c '^user\.slicefs\.' | grep -qx 5 ||
    fail "listxattr does not show the five attributes"
[ "$($FILEOP open "$T/mnt/c" r)" = ok ] || fail "open"
setfattr -n user.slicefs.offset -v 0 "$T/mnt/c" 2>/dev/null && fail "setfattr of user.slicefs.offset succeeded"
setfattr -x user.slicefs.mode "$T/mnt/c" 2>/dev/null && fail "removing user.slicefs.mode succeeded"
setfattr -n user.other -v 1 "$T/mnt/c" 2>/dev/null && fail "setfattr of another attribute succeeded"
getfattr -n user.slicefs.nope "$T/mnt/c" >/dev/null 2>&1 && fail "an unknown attribute exists"
[ "$(attr c offset)" = 3145728 ] || fail "offset changed"
unmount_slicefs "$T/mnt"
