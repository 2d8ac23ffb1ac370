#!/bin/bash
# A ':ro' window refuses opening for writing with EACCES, shows no write
# permission bits, reads fine, refuses truncate; '-o ro' makes every window
# read-only (the kernel mount is read-only: EROFS). The backing file is never
# changed.
. "$(dirname "$0")/lib.sh"

head -c 2M /dev/urandom >"$T/disk.img"
chmod 0644 "$T/disk.img"
touch -d '2001-02-03 04:05:06' "$T/disk.img"
sum_before=$(sha256sum <"$T/disk.img")
mtime_before=$(stat -c %Y "$T/disk.img")
M=$T/mnt

# A ro window next to a rw one in a read-write mount.
mount_slicefs "$M" "$T/disk.img" -o window=r:4096:64K:ro,window=sub/r2:12345:777:ro,window=w:1M:64K
[ "$(stat -c %A "$M/r")" = -r--r--r-- ] || fail "ro window's mode is $(stat -c %A "$M/r")"
[ "$(stat -c %A "$M/sub/r2")" = -r--r--r-- ] || fail "sub/r2's mode is $(stat -c %A "$M/sub/r2")"
[ "$(stat -c %A "$M/w")" = -rw-r--r-- ] || fail "rw window's mode is $(stat -c %A "$M/w")"
for r in r sub/r2; do
    is "error EACCES" open "$M/$r" w
    is "error EACCES" open "$M/$r" rw
    is "error EACCES" open "$M/$r" trunc
    is "error EACCES" open "$M/$r" sync
    is "error EACCES" pwrite "$M/$r" 0 1
    is "error EACCES" truncate "$M/$r" 0
    is "error EACCES" truncate "$M/$r" 100
    is "ok" open "$M/$r" r
done
status=0
(echo hi >"$M/r") 2>"$T/sh.err" || status=$?
[ "$status" -ne 0 ] || fail "shell redirection into a ro window succeeded"
grep -q "Permission denied" "$T/sh.err" || fail "redirection into ro: $(cat "$T/sh.err")"
status=0
truncate -s 0 "$M/r" 2>"$T/tr.err" || status=$?
[ "$status" -ne 0 ] || fail "truncate -s 0 of a ro window succeeded"
cmp <(extract "$T/disk.img" 4096 65536) "$M/r" || fail "ro window: content"
cmp <(extract "$T/disk.img" 12345 777) "$M/sub/r2" || fail "sub/r2: content"
# The rw window beside it still opens for writing.
is "ok" open "$M/w" rw
unmount_slicefs "$M"
[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "the ro windows changed the backing file"

# -o ro: every window is ro, even one asked rw or cow, and the whole-file one.
mount_slicefs "$M" "$T/disk.img" -o ro -o window=a:0:1M:rw,window=b:1M:1M,window=c:0:4K:cow
grep -q " $(realpath "$M") fuse[^ ]* ro[,\ ]" /proc/mounts || fail "-o ro did not mount read-only"
for w in a b c; do
    [ "$(stat -c %A "$M/$w")" = -r--r--r-- ] || fail "-o ro: $w's mode is $(stat -c %A "$M/$w")"
    is "error EROFS" open "$M/$w" w
    is "error EROFS" open "$M/$w" rw
    is "error EROFS" open "$M/$w" trunc
    is "error EROFS" pwrite "$M/$w" 0 1
    is "error EROFS" truncate "$M/$w" 0
    is "ok" open "$M/$w" r
done
status=0
printf x 2>/dev/null | dd of="$M/a" conv=notrunc status=none 2>"$T/dd.err" || status=$?
[ "$status" -ne 0 ] || fail "dd into an -o ro window succeeded"
grep -q "Read-only file system" "$T/dd.err" || fail "dd into -o ro: $(cat "$T/dd.err")"
cmp <(extract "$T/disk.img" 0 1048576) "$M/a" || fail "-o ro: a's content"
cmp <(extract "$T/disk.img" 1048576 1048576) "$M/b" || fail "-o ro: b's content"
unmount_slicefs "$M"

mount_slicefs "$M" "$T/disk.img" -o ro
[ "$(stat -c %A "$M/disk.img")" = -r--r--r-- ] || fail "-o ro whole-file window is writable"
is "error EROFS" open "$M/disk.img" w
cmp "$T/disk.img" "$M/disk.img" || fail "-o ro whole-file window: content"
unmount_slicefs "$M"

[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "read-only mounts changed the backing file"
[ "$(stat -c %Y "$T/disk.img")" = "$mtime_before" ] || fail "read-only mounts changed the backing file's mtime"
