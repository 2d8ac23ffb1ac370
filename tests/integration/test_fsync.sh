#!/bin/bash
# fsync and fdatasync on windows succeed (rw, ro through a read-only fd,
# cow), dd conv=fsync / oflag=sync / oflag=dsync writes work and land in the
# backing file, and once fsync, fdatasync or the synchronous write has
# returned, the backing file has no dirty page and none under writeback
# left in the kernel's page cache (cachestat(2) of the backing file): its
# bytes have reached the disk. That the pages were dirty before an explicit
# fsync is checked too, so the check cannot pass vacuously (a sync by some
# other process may clean them first: then that one step proves nothing, and
# at least one of the four must have seen them dirty).
. "$(dirname "$0")/lib.sh"

# pages KIND - KIND (dirty or writeback) pages of the backing file now.
pages() {
    local out
    out=$("$FILEOP" cachestat "$T/disk.img")
    [[ $out =~ ^cached\ [0-9]+\ dirty\ ([0-9]+)\ writeback\ ([0-9]+)$ ]] ||
        skip "cachestat(2) of the backing file: $out (Linux 6.5 or later needed)"
    case $1 in
    dirty) echo "${BASH_REMATCH[1]}" ;;
    writeback) echo "${BASH_REMATCH[2]}" ;;
    esac
}

# written_back WHAT - nothing of the backing file is dirty or under writeback.
written_back() {
    local d w
    d=$(pages dirty)
    w=$(pages writeback)
    [ "$d" -eq 0 ] && [ "$w" -eq 0 ] ||
        fail "$1 returned but $d pages of the backing file are dirty and $w under writeback"
}

# dirty_before - the write just made left dirty pages (counted in SEEN).
SEEN=0
dirty_before() {
    if [ "$(pages dirty)" -gt 0 ]; then
        SEEN=$((SEEN + 1))
    else
        echo "note: the pages were clean before fsync (written back by someone else)" >&2
    fi
}

SIZE=$((8 * 1024 * 1024))
truncate -s "$SIZE" "$T/disk.img"      # sparse: writes into holes allocate
cp --sparse=always "$T/disk.img" "$T/expected.img"
M=$T/mnt
W=1048576                              # window w: 1M..3M
mount_slicefs "$M" "$T/disk.img" \
    -o window=w:1M:2M,window=r:0:1M:ro,window=c:5M:1M:cow,window=v:6M:1M

# put FILE-IN-MOUNT BASE OFFSET COUNT DD-OPTIONS... - a dd write of fresh
# bytes, and the same bytes into the expected copy at BASE+OFFSET.
n=0
put() {
    local f=$1 base=$2 off=$3 count=$4
    shift 4
    n=$((n + 1))
    head -c "$count" /dev/urandom >"$T/data.$n"
    dd if="$T/data.$n" of="$M/$f" oflag=seek_bytes seek="$off" conv=notrunc status=none "$@" ||
        fail "dd $* into $f failed"
    dd if="$T/data.$n" of="$T/expected.img" oflag=seek_bytes seek=$((base + off)) \
        conv=notrunc status=none
    # The backing file has the bytes at once (the mapping is shared).
    cmp "$T/data.$n" <(extract "$T/disk.img" $((base + off)) "$count") ||
        fail "dd $* into $f: the bytes are not in the backing file"
}

# fsync / fdatasync of plain writes.
put w "$W" 12345 70000
dirty_before
is ok fsync "$M/w"
written_back "fsync"
put w "$W" 200000 5000
dirty_before
is ok fdatasync "$M/w"
written_back "fdatasync"
put w "$W" 300000 4096
dirty_before
is ok fsync "$M/w" r                 # fsync through a read-only fd
written_back "fsync on a read-only fd"
is ok fsync "$M/w" w
is ok fdatasync "$M/w" w

# dd's own syncing.
put w "$W" 400000 100000 conv=fsync
written_back "dd conv=fsync"
put w "$W" 600001 65536 conv=fdatasync
written_back "dd conv=fdatasync"
put w "$W" 700000 131072 oflag=sync bs=32768
written_back "dd oflag=sync"
put w "$W" 900000 20000 oflag=dsync bs=4096
written_back "dd oflag=dsync"
put v $((6 * 1048576)) 0 8192 conv=fsync
written_back "dd conv=fsync into v"
put v $((6 * 1048576)) 100000 5000
dirty_before
is ok fsync "$M/v"
written_back "fsync of v"
[ "$SEEN" -ge 1 ] || fail "the pages were never seen dirty before an fsync: the checks proved nothing"

# ro windows: fsync and fdatasync on a read-only fd.
is ok fsync "$M/r" r
is ok fdatasync "$M/r" r
is "error EACCES" fsync "$M/r" rw    # the open for writing is what fails
# cow windows: fsync succeeds and writes nothing to the backing file.
printf 'cow-bytes' | dd of="$M/c" conv=notrunc status=none
is ok fsync "$M/c"
is ok fdatasync "$M/c"
is ok fsync "$M/c" r
[ "$(extract "$M/c" 0 9)" = cow-bytes ] || fail "the cow write does not read back"
cmp <(head -c 9 /dev/zero) <(extract "$T/disk.img" $((5 * 1048576)) 9) ||
    fail "fsync of a cow window wrote to the backing file"

cmp "$T/expected.img" "$T/disk.img" || fail "the backing file differs while mounted"
unmount_slicefs "$M"
cmp "$T/expected.img" "$T/disk.img" || fail "the backing file differs after unmount"
