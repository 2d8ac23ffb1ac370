#!/bin/bash
# fsync and fdatasync on windows succeed (rw, ro through a read-only fd,
# cow), dd conv=fsync / oflag=sync / oflag=dsync writes work and land in the
# backing file. Where the backing file system delays allocation (ext4, xfs),
# the written range is checked to be really written back (no delalloc
# extents left) once fsync or the synchronous write has returned.
. "$(dirname "$0")/lib.sh"

# delalloc FILE FROM TO - true when an extent of FILE overlapping bytes
# [FROM, TO) is still waiting for allocation (dirty, not written back).
delalloc() {
    filefrag -v -b4096 "$1" 2>/dev/null | sed 's/\.\. */../g' | awk -v from=$(($2 / 4096)) -v to=$((($3 + 4095) / 4096)) '
        /delalloc/ { split($2, r, /\.\./); lo = r[1] + 0; hi = r[2] + 0;
                     if (lo < to && hi >= from) found = 1 }
        END { exit !found }'
}

CAN_SEE_WRITEBACK=0
probe_delalloc() {
    command -v filefrag >/dev/null || return 0
    truncate -s 1M "$T/probe"
    printf x | dd of="$T/probe" conv=notrunc status=none
    delalloc "$T/probe" 0 4096 && CAN_SEE_WRITEBACK=1
    rm -f "$T/probe"
}
probe_delalloc
[ "$CAN_SEE_WRITEBACK" = 1 ] ||
    echo "note: $(stat -f -c %T "$T") shows no delayed allocation; fsync durability not observed" >&2

# written_back FROM TO WHAT - the range of the backing file is written back.
written_back() {
    [ "$CAN_SEE_WRITEBACK" = 1 ] || return 0
    ! delalloc "$T/disk.img" "$1" "$2" ||
        fail "$3 returned but backing bytes [$1, $2) are not written back"
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
is ok fsync "$M/w"
written_back $((W + 12345)) $((W + 12345 + 70000)) "fsync"
put w "$W" 200000 5000
is ok fdatasync "$M/w"
written_back $((W + 200000)) $((W + 205000)) "fdatasync"
put w "$W" 300000 4096
is ok fsync "$M/w" r                 # fsync through a read-only fd
written_back $((W + 300000)) $((W + 304096)) "fsync on a read-only fd"
is ok fsync "$M/w" w
is ok fdatasync "$M/w" w

# dd's own syncing.
put w "$W" 400000 100000 conv=fsync
written_back $((W + 400000)) $((W + 500000)) "dd conv=fsync"
put w "$W" 600001 65536 conv=fdatasync
written_back $((W + 600001)) $((W + 665537)) "dd conv=fdatasync"
put w "$W" 700000 131072 oflag=sync bs=32768
written_back $((W + 700000)) $((W + 831072)) "dd oflag=sync"
put w "$W" 900000 20000 oflag=dsync bs=4096
written_back $((W + 900000)) $((W + 920000)) "dd oflag=dsync"
put v $((6 * 1048576)) 0 8192 conv=fsync
written_back $((6 * 1048576)) $((6 * 1048576 + 8192)) "dd conv=fsync into v"

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
