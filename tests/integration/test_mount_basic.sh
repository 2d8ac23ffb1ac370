#!/bin/bash
# Mount the whole-file default window and three window= windows; read them
# with cat/cmp, check sizes, and unmount cleanly (daemon exit status 0).
. "$(dirname "$0")/lib.sh"

head -c 8M /dev/urandom >"$T/disk.img"
sum_before=$(sha256sum <"$T/disk.img")

# The default: one window, the whole file, named after it.
mount_slicefs "$T/mnt" "$T/disk.img"
[ "$(ls "$T/mnt")" = disk.img ] || fail "default window is not named disk.img: $(ls "$T/mnt")"
cmp "$T/disk.img" "$T/mnt/disk.img" || fail "whole-file window differs from the backing file"
unmount_slicefs "$T/mnt"

mount_slicefs "$T/mnt" "$T/disk.img" \
    -o window=boot:1M:2M,window=data/root:3M:end:rw,window=hdr:0:4K:ro
[ "$(stat -c %s "$T/mnt/boot")" = 2097152 ] || fail "boot size"
[ "$(stat -c %s "$T/mnt/data/root")" = 5242880 ] || fail "data/root size"
[ "$(stat -c %F "$T/mnt/data")" = directory ] || fail "data is not a directory"
cmp <(dd if="$T/disk.img" bs=1M skip=1 count=2 status=none) "$T/mnt/boot" || fail "boot content"
cmp <(dd if="$T/disk.img" bs=1M skip=3 status=none) "$T/mnt/data/root" || fail "root content"
cmp <(head -c 4096 "$T/disk.img") "$T/mnt/hdr" || fail "hdr content"
unmount_slicefs "$T/mnt"

[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "reading changed the backing file"
