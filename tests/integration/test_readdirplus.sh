#!/bin/bash
# Directory listings carry each entry's attributes (READDIRPLUS): `ls -l`
# of a folder of windows sends no LOOKUP per name (counted in the daemon's
# -d log), and what stat then shows - size, blocks, mode, inode, times - is
# exactly what a fresh lookup of the same path reports on a second mount:
# windows of every mode, folders, chunks, a sparse range.
. "$(dirname "$0")/lib.sh"

MiB=1048576
truncate -s $((3 * MiB + 5)) "$T/disk.img"
# Data in the first and last MiB only: the middle chunk is a hole.
head -c "$MiB" /dev/urandom | dd of="$T/disk.img" conv=notrunc status=none
head -c 1000 /dev/urandom | dd of="$T/disk.img" bs=1 seek=$((2 * MiB + 4096)) conv=notrunc status=none
chmod 640 "$T/disk.img"

OPTS=(-o layout=chunks:1M -o window=hdr:0:4K:ro,window=d/w:1M:1M:rw,window=d/e/c:4K:8K:cow)

# statlist DIR - one line per entry below DIR: name, size, blocks, mode,
# inode, type, mtime (of files; a folder's is its mount's start); in path
# order.
statlist() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
        stat -c '%n %s %b %A %i %F %Y' "$p"
    done) | awk '$6 == "directory" {$7 = "-"} {print}'   # (folders: the mount's time)
}

# Fresh mount, plain stat by path: each name is looked up.
mount_slicefs "$T/fresh" "$T/disk.img" "${OPTS[@]}"
statlist "$T/fresh" >"$T/by-lookup.txt"
unmount_slicefs "$T/fresh"
[ "$(wc -l <"$T/by-lookup.txt")" -eq 9 ] || fail "expected 9 entries: $(cat "$T/by-lookup.txt")"

# Mount with the request log; list first, then stat what was listed.
M=$T/mnt
mount_slicefs "$M" -d "$T/disk.img" "${OPTS[@]}"
log=$DAEMON_LOG
before=$(grep -c 'opcode: LOOKUP' "$log" || true)
ls -l "$M" >"$T/ls-root.txt" || fail "ls -l of the mount failed"
ls -l "$M/d" >"$T/ls-d.txt" || fail "ls -l of a folder failed"
after=$(grep -c 'opcode: LOOKUP' "$log" || true)
grep -q 'opcode: READDIRPLUS' "$log" || fail "the kernel never asked for READDIRPLUS"
[ "$after" -eq "$before" ] ||
    fail "ls -l sent $((after - before)) LOOKUP requests; the listing should carry the attributes"
[ "$(grep -c '' "$T/ls-root.txt")" -eq 7 ] || fail "ls -l of the root: $(cat "$T/ls-root.txt")"
grep -Eq '^-r--r----- .* 4096 .* hdr$' "$T/ls-root.txt" || fail "hdr in ls -l: $(cat "$T/ls-root.txt")"
grep -Eq '^-rw-r----- .* 1048576 .* w$' "$T/ls-d.txt" || fail "d/w in ls -l: $(cat "$T/ls-d.txt")"

# Attributes from the listing equal those of a lookup.
statlist "$M" >"$T/by-listing.txt"
diff "$T/by-lookup.txt" "$T/by-listing.txt" >"$T/diff.txt" ||
    fail "attributes from the listing differ from a lookup's: $(cat "$T/diff.txt")"
# And they are true: the hole chunk allocates nothing, the data chunk all.
grep -q '^./00000001 1048576 0 ' "$T/by-listing.txt" || fail "the hole chunk: $(grep 00000001 "$T/by-listing.txt")"
grep -q '^./00000000 1048576 2048 ' "$T/by-listing.txt" || fail "the data chunk: $(grep 00000000 "$T/by-listing.txt")"
unmount_slicefs "$M"
