#!/bin/bash
# layout=partitions: windows p1, p2, ... read with libblkid, numbered as
# partx numbers them, checked against what sfdisk reports; hostile tables
# (entries past the end, overlaps, a looping EBR chain, a damaged GPT
# primary header) give warnings and skipped entries, never a crash or hang.
. "$(dirname "$0")/lib.sh"
requires sfdisk
requires partx

# list_of IMAGE [OPTIONS] - what slicefs --list prints (fails the test on error)
list_of() {
    local image=$1
    shift
    timeout "$DEADLINE" "$SLICEFS" --list -o layout=partitions "$@" "$image" 2>"$T/list.err" ||
        { cat "$T/list.err" >&2; fail "--list of $image failed"; }
}

# expected_from_sfdisk IMAGE - "pN OFFSET LENGTH" for every non-extended partition
expected_from_sfdisk() {
    partx -g -b -o NR,START,SECTORS,TYPE "$1" | while read -r nr start sectors type; do
        case "$type" in 0x5 | 0xf | 0x85) continue ;; esac
        echo "p$nr $((start * 512)) $((sectors * 512))"
    done
}

check_against_sfdisk() {
    local image=$1 got want
    got=$(list_of "$image" | awk '{print $1, $2, $3}')
    want=$(expected_from_sfdisk "$image" | sort -k2,2n)
    [ "$got" = "$want" ] || fail "$image: slicefs lists
$got
but partx says
$want"
}

# 1. MBR with primaries, an extended partition and logical partitions.
truncate -s 64M "$T/mbr.img"
sfdisk -q "$T/mbr.img" <<'TABLE'
label: dos
2048,8192,83
10240,40960,5
12288,8192,83
22528,4096,82
51200,+,83
TABLE
check_against_sfdisk "$T/mbr.img"
list_of "$T/mbr.img" | awk '{print $1}' | tr '\n' ' ' | grep -qx 'p1 p5 p6 p3 ' ||
    fail "MBR names: $(list_of "$T/mbr.img" | awk '{print $1}' | tr '\n' ' ')"

# Fill each partition with its own bytes, mount, and compare through the windows.
for n in 1 5 6 3; do
    read -r start sectors < <(partx -g -b -o START,SECTORS -n "$n" "$T/mbr.img")
    head -c $((sectors * 512)) /dev/urandom >"$T/part$n"
    dd if="$T/part$n" of="$T/mbr.img" bs=512 seek="$start" conv=notrunc status=none
done
sum_before=$(sha256sum <"$T/mbr.img")
mount_slicefs "$T/mnt" "$T/mbr.img" -o layout=partitions,ro
[ "$(ls "$T/mnt" | tr '\n' ' ')" = "p1 p3 p5 p6 " ] || fail "mounted names: $(ls "$T/mnt")"
for n in 1 5 6 3; do
    cmp "$T/part$n" "$T/mnt/p$n" || fail "p$n content differs"
done
unmount_slicefs "$T/mnt"
[ "$(sha256sum <"$T/mbr.img")" = "$sum_before" ] || fail "mounting changed the image"

# 2. GPT, and the round trip through a window table.
truncate -s 64M "$T/gpt.img"
sfdisk -q "$T/gpt.img" <<'TABLE'
label: gpt
start=2048, size=16384, name=boot
start=18432, size=32768, name=root
start=51200, size=8192
TABLE
check_against_sfdisk "$T/gpt.img"
list_of "$T/gpt.img" >"$T/gpt.tab"
"$SLICEFS" --list -o table="$T/gpt.tab" >"$T/gpt.tab2" || fail "--list of the table failed"
cmp "$T/gpt.tab" "$T/gpt.tab2" || fail "--list output does not read back unchanged"

# 3. Sources combine: partitions plus a window for the first MiB.
mount_slicefs "$T/mnt" "$T/gpt.img" -o layout=partitions,window=head:0:1M
[ "$(ls "$T/mnt" | tr '\n' ' ')" = "head p1 p2 p3 " ] || fail "combined names: $(ls "$T/mnt")"
cmp <(head -c 1M "$T/gpt.img") "$T/mnt/head" || fail "head window content"
unmount_slicefs "$T/mnt"
expect_fail_mount "$T/mnt" "'p1' is declared twice" "$T/gpt.img" -o layout=partitions,window=p1:0:1M

# 4. A damaged GPT primary header: libblkid falls back to the backup header.
cp "$T/gpt.img" "$T/gpt-damaged.img"
printf 'XXXXXXXX' | dd of="$T/gpt-damaged.img" bs=1 seek=512 conv=notrunc status=none
got=$(list_of "$T/gpt-damaged.img" | awk '{print $1, $2, $3}')
want=$(list_of "$T/gpt.img" | awk '{print $1, $2, $3}')
[ "$got" = "$want" ] || fail "damaged primary GPT: got '$got', want '$want' (from the backup)"

# Hand-made MBRs. mbr_entry IMAGE SLOT TYPE START SECTORS writes one entry.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
    $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
mbr_entry() { # IMAGE SECTOR SLOT TYPE START SECTORS (SECTOR: where the table is)
    local entry
    entry="\\x00\\x00\\x02\\x00\\x$(printf %02x "$4")\\x00\\x00\\x00$(le32 "$5")$(le32 "$6")"
    printf "$entry" | dd of="$1" bs=1 seek=$(($2 * 512 + 446 + 16 * $3)) conv=notrunc status=none
    printf '\x55\xaa' | dd of="$1" bs=1 seek=$(($2 * 512 + 510)) conv=notrunc status=none
}

# 5. Entries past the end, overlapping, and empty: warned and skipped.
truncate -s 16M "$T/hostile.img"   # 32768 sectors
mbr_entry "$T/hostile.img" 0 0 0x83 2048 4096      # p1 fine
mbr_entry "$T/hostile.img" 0 1 0x83 4096 4096      # p2 overlaps p1
mbr_entry "$T/hostile.img" 0 2 0x83 30000 8192     # p3 runs past the end
mbr_entry "$T/hostile.img" 0 3 0x83 4294967295 4294967295  # p4 absurd
list_of "$T/hostile.img" >"$T/hostile.tab"
[ "$(awk '{print $1, $2, $3}' "$T/hostile.tab")" = "p1 1048576 2097152" ] ||
    fail "hostile MBR: $(cat "$T/hostile.tab")"
grep -q "p2.*overlaps" "$T/list.err" || fail "no overlap warning: $(cat "$T/list.err")"
grep -q "p3.*past the end" "$T/list.err" || fail "no past-the-end warning for p3"
grep -q "p4.*past the end" "$T/list.err" || fail "no past-the-end warning for p4"

# 6. An EBR chain that loops back on itself: no hang, no window outside the file.
truncate -s 16M "$T/loop.img"
mbr_entry "$T/loop.img" 0 0 0x05 2048 8192         # extended container
mbr_entry "$T/loop.img" 2048 0 0x83 63 1000        # logical p5 (relative to its EBR)
mbr_entry "$T/loop.img" 2048 1 0x05 0 8192         # next EBR: itself
list_of "$T/loop.img" >"$T/loop.tab"
awk -v size=$((16 * 1024 * 1024)) '$2 + $3 > size { bad = 1 } END { exit bad }' "$T/loop.tab" ||
    fail "a window lies outside the file: $(cat "$T/loop.tab")"
grep -q '^p5 ' "$T/loop.tab" || fail "the first logical partition is missing: $(cat "$T/loop.tab")"

# 7. No partition table at all: refused (exit 1, a clear message) by --list
# and by a mount, unless another source gives windows.
truncate -s 1M "$T/blank.img"
status=0
timeout "$DEADLINE" "$SLICEFS" --list -o layout=partitions "$T/blank.img" >"$T/list.out" \
    2>"$T/list.err" || status=$?
[ "$status" = 1 ] || fail "--list of a blank image exited $status, expected 1"
[ ! -s "$T/list.out" ] || fail "windows from a blank image: $(cat "$T/list.out")"
grep -q "no partition table found in .*nothing to mount" "$T/list.err" ||
    fail "no clear message for a blank image: $(cat "$T/list.err")"
expect_fail_mount "$T/blank-mnt" "no partition table found in .*nothing to mount" \
    "$T/blank.img" -o layout=partitions
mount_slicefs "$T/blank-mnt" "$T/blank.img" -o layout=partitions,window=all:0:end
[ "$(ls "$T/blank-mnt")" = all ] || fail "blank image with another source: $(ls "$T/blank-mnt")"
grep -q "no partition table" "$DAEMON_LOG" || fail "no warning for a blank image with another source"
unmount_slicefs "$T/blank-mnt"
