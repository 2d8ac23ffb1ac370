#!/bin/bash
# cache=never: every read and write is a request (direct I/O). Where
# libfuse offers FUSE_CAP_DIRECT_IO_ALLOW_MMAP (3.16 and later) a client's
# shared mmap of a window still works and stays coherent with reads and
# writes; with an older libfuse it fails with ENODEV, as before.
. "$(dirname "$0")/lib.sh"
requires dd

truncate -s 4M "$T/disk.img"
M=$T/mnt
mount_slicefs "$M" "$T/disk.img" -o cache=never,window=a:1M:2M
libfuse=$("$SLICEFS" --version | sed -n 's/.*(libfuse \([0-9]*\.[0-9]*\).*/\1/p')
result=$($FILEOP mmapwrite "$M/a" 8192 100 z)
case $libfuse in
3.1[0-5])
    [ "$result" = "error ENODEV" ] || fail "libfuse $libfuse: mmap under cache=never gave '$result'"
    ;;
*)
    [ "$result" = ok ] || fail "libfuse $libfuse: mmap under cache=never gave '$result'"
    [ "$(dd if="$M/a" bs=1 skip=8192 count=100 status=none | tr -d z | wc -c)" = 0 ] ||
        fail "a direct read does not see the mapping's stores"
    [ "$(dd if="$T/disk.img" bs=1 skip=$((1048576 + 8192)) count=100 status=none | tr -d z | wc -c)" = 0 ] ||
        fail "the backing file does not hold the mapping's stores"
    [ "$($FILEOP pwrite "$M/a" 8192 100 q)" = "wrote 100" ] || fail "a direct write"
    [ "$($FILEOP mmapwrite "$M/a" 8292 1 z)" = ok ] || fail "a second store"
    [ "$(dd if="$M/a" bs=1 skip=8192 count=100 status=none | tr -d q | wc -c)" = 0 ] ||
        fail "the direct write over the mapped page was lost"
    ;;
esac
unmount_slicefs "$M"
