#!/bin/bash
# -o cache=auto|always|never, and O_DIRECT: what each mode guarantees when
# the backing file is written outside the mount, and that aligned O_DIRECT
# reads and writes work through a window.
. "$(dirname "$0")/lib.sh"

head -c 4M /dev/urandom >"$T/disk.img"
stamp=1600000000
outside_write() { # BYTE: overwrite the first 4 KiB of the window behind slicefs's back
    head -c 4096 /dev/zero | tr '\0' "$1" |
        dd of="$T/disk.img" bs=4096 seek=256 conv=notrunc status=none
    stamp=$((stamp + 100))
    touch -m -d "@$stamp" "$T/disk.img" # an mtime of its own, not the clock's
}
ctime() { stat -c %.9Z "$T/disk.img"; }
ctime_moved() { # BEFORE: the ctime differs from BEFORE, else it is touched again
    [ "$(ctime)" != "$1" ] || { touch -m -d "@$stamp" "$T/disk.img"; false; }
}
first_byte() { head -c 1 "$T/mnt/w"; }

for mode in auto always never; do
    outside_write A
    mount_slicefs "$T/mnt" "$T/disk.img" -o window=w:1M:1M,cache=$mode
    [ "$(first_byte)" = A ] || fail "cache=$mode: first read"
    # cache=auto goes by the ctime, which a coarse clock may give the first
    # write too: the change is complete once the ctime has moved.
    before=$(ctime)
    outside_write B
    wait_until "cache=$mode: the ctime of disk.img moves" ctime_moved "$before"
    got=$(first_byte)
    case $mode in
    auto | never) [ "$got" = B ] || fail "cache=$mode: an outside write is not seen at the next open (got $got)" ;;
    always) [ "$got" = A ] || fail "cache=always: pages were not kept across opens (got $got)" ;;
    esac
    # Writes through the mount are seen at once in every mode.
    printf 'C' | dd of="$T/mnt/w" conv=notrunc status=none
    [ "$(first_byte)" = C ] || fail "cache=$mode: a write through the mount is not seen"
    # Aligned O_DIRECT reads and writes work.
    head -c 65536 /dev/urandom >"$T/direct.bin"
    dd if="$T/direct.bin" of="$T/mnt/w" bs=4096 seek=16 oflag=direct conv=notrunc status=none ||
        fail "cache=$mode: O_DIRECT write"
    dd if="$T/mnt/w" of="$T/back.bin" bs=4096 skip=16 count=16 iflag=direct status=none ||
        fail "cache=$mode: O_DIRECT read"
    cmp "$T/direct.bin" "$T/back.bin" || fail "cache=$mode: O_DIRECT round trip"
    cmp "$T/direct.bin" <(dd if="$T/disk.img" bs=4096 skip=$((256 + 16)) count=16 status=none) ||
        fail "cache=$mode: the O_DIRECT write did not reach the backing file"
    unmount_slicefs "$T/mnt"
done
expect_fail_mount "$T/mnt" "cache=sometimes: use auto, always or never" "$T/disk.img" -o cache=sometimes
