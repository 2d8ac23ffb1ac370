#!/bin/bash
# ls -l asks every name for security.selinux and system.posix_acl_access.
# Those namespaces answer "not supported" (user.* keeps ENODATA), so ls
# stops asking for the rest of the mount: a handful of GETXATTR round trips
# for a listing of 256 windows, not two per name; user.slicefs.* still work.
. "$(dirname "$0")/lib.sh"
requires getfattr

truncate -s 1M "$T/disk.img"
mount_slicefs "$T/mnt" "$T/disk.img" -d -o layout=chunks:4K
[ "$(ls -l "$T/mnt" | grep -c '^-')" = 256 ] || fail "ls -l does not list 256 windows"
asked=$(grep -c 'opcode: GETXATTR' "$DAEMON_LOG" || true)
[ "$asked" -le 4 ] || fail "ls -l of 256 windows made $asked GETXATTR round trips (at most 4)"
why() { getfattr -n "$1" "$2" 2>&1 || true; } # getfattr's message
why security.selinux "$T/mnt/00000001" | grep -q 'Operation not supported' ||
    fail "security.selinux is not 'not supported'"
why system.posix_acl_access "$T/mnt/00000001" | grep -q 'Operation not supported' ||
    fail "system.posix_acl_access is not 'not supported'"
why user.other "$T/mnt/00000001" | grep -q 'No such attribute' ||
    fail "user.other is not 'no such attribute'"
why user.other "$T/mnt" | grep -q 'No such attribute' ||
    fail "user.other of the root folder is not 'no such attribute'"
[ "$(getfattr --only-values -n user.slicefs.offset "$T/mnt/00000003")" = 12288 ] ||
    fail "user.slicefs.offset after ls -l"
unmount_slicefs "$T/mnt"
