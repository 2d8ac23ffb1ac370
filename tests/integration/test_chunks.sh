#!/bin/bash
# layout=chunks:SIZE: fixed-width names that sort, the last chunk short, the
# content of every chunk; a 1,048,576-chunk mount of a sparse 1 TiB file
# starts and lists like a small one (computed windows, no memory per chunk).
. "$(dirname "$0")/lib.sh"

# 10 MiB + 5 bytes in 1 MiB chunks: 11 chunks, the last one 5 bytes.
head -c $((10 * 1048576 + 5)) /dev/urandom >"$T/data.img"
mount_slicefs "$T/mnt" "$T/data.img" -o layout=chunks:1M,ro
names=$(ls "$T/mnt" | tr '\n' ' ')
[ "$names" = "00000000 00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008 00000009 00000010 " ] ||
    fail "chunk names: $names"
[ "$(stat -c %s "$T/mnt/00000010")" = 5 ] || fail "last chunk is not 5 bytes"
[ "$(stat -c %s "$T/mnt/00000003")" = 1048576 ] || fail "chunk 3 is not 1 MiB"
cat "$T"/mnt/* | cmp - "$T/data.img" || fail "the chunks, concatenated, differ from the file"
cmp <(dd if="$T/data.img" bs=1M skip=7 count=1 status=none) "$T/mnt/00000007" ||
    fail "chunk 7 content"
[ ! -e "$T/mnt/00000011" ] || fail "a chunk past the end exists"
[ ! -e "$T/mnt/0000001" ] || fail "a short name resolves"
unmount_slicefs "$T/mnt"

# Chunks combine with a window=; a clash of names is refused.
mount_slicefs "$T/mnt" "$T/data.img" -o layout=chunks:4M,window=header:0:512
[ "$(ls "$T/mnt" | tr '\n' ' ')" = "00000000 00000001 00000002 header " ] ||
    fail "combined: $(ls "$T/mnt")"
unmount_slicefs "$T/mnt"
expect_fail_mount "$T/mnt" "also chunk 1 of layout=chunks:4M" "$T/data.img" \
    -o layout=chunks:4M,window=00000001:0:1
expect_fail_mount "$T/mnt" "layout=chunks:0: SIZE" "$T/data.img" -o layout=chunks:0
expect_fail_mount "$T/mnt" "layout=chunks:1X: SIZE" "$T/data.img" -o layout=chunks:1X
expect_fail_mount "$T/mnt" "unknown layout" "$T/data.img" -o layout=stripes

# Writes through a chunk land at the right place of the backing file.
cp "$T/data.img" "$T/expect.img"
mount_slicefs "$T/mnt" "$T/data.img" -o layout=chunks:1M
printf 'CHUNK-5' | dd of="$T/mnt/00000005" bs=1 seek=100 conv=notrunc status=none
printf 'CHUNK-5' | dd of="$T/expect.img" bs=1 seek=$((5 * 1048576 + 100)) conv=notrunc status=none
unmount_slicefs "$T/mnt"
cmp "$T/data.img" "$T/expect.img" || fail "a write through a chunk landed elsewhere"

# Scale: 1 TiB sparse in 1 MiB chunks = 1,048,576 chunks.
truncate -s 1T "$T/huge.img"
mount_slicefs "$T/mnt" "$T/huge.img" -o layout=chunks:1M,ro
count=$(ls -f "$T/mnt" | grep -c '^[0-9]')
[ "$count" = 1048576 ] || fail "ls counts $count chunks, not 1048576"
[ "$(stat -c %s "$T/mnt/01048575")" = 1048576 ] || fail "stat of the last chunk"
rss=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
[ "$rss" -lt 65536 ] || fail "daemon peak RSS is $rss KiB with 1M chunks (computed windows should cost nothing)"
unmount_slicefs "$T/mnt"
