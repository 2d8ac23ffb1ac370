#!/bin/bash
# No window reads or writes outside its declared range. Backing files of
# random bytes (sizes not page-aligned); one mount with many overlapping
# and adjacent windows over a.img, a window table over a.img and b.img,
# ro, cow and end windows among them; another mount of c.img in
# layout=chunks. Through every window: dd of random data over its whole
# length; then, once all are written (so that a spill into a neighbour
# would not be overwritten), writes across its end (cut short), at and past
# its end (ENOSPC), a client mmap store that runs past its end inside the
# last page, truncate, fallocate and copy_file_range across its end; reads
# past its end give 0 bytes. After unmount each backing file equals a copy
# patched by the same writes, in the same order, with dd (cow and ro
# windows change nothing), every byte outside the union of the windows is
# its original byte, and no backing file changed its size.
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034  # read through ${!size_var}
A_SIZE=$((3 * 1048576 + 1234))
# shellcheck disable=SC2034  # read through ${!size_var}
B_SIZE=$((1048576 + 77))
C_SIZE=$((1048576 + 4321))
for f in a b c; do
    size_var=${f^^}_SIZE
    head -c "${!size_var}" /dev/urandom >"$T/$f.img"
    cp "$T/$f.img" "$T/$f.orig"
    cp "$T/$f.img" "$T/$f.expected"
done
M=$T/mnt
C=$T/chunks

# The windows: name, backing (a, b or c), mount point, base, length, mode.
W_NAME=() W_FILE=() W_MNT=() W_BASE=() W_LEN=() W_MODE=()
win() { W_NAME+=("$1"); W_FILE+=("$2"); W_MNT+=("$3"); W_BASE+=("$4"); W_LEN+=("$5"); W_MODE+=("$6"); }
win w1 a "$M" 4096 8192 rw            # page-aligned
win w2 a "$M" 12288 8192 rw           # adjacent to w1
win w3 a "$M" 10000 5000 rw           # across the w1/w2 boundary
win w4 a "$M" 100000 54321 rw         # odd start and length
win w5 a "$M" 154321 1 rw             # one byte, adjacent to w4
win w6 a "$M" 200000 300000 rw
win w7 a "$M" 250000 100000 rw        # inside w6
win w8 a "$M" 450000 100000 rw        # across the end of w6
win w9 a "$M" 1048576 1048576 cow     # copy-on-write over w10
win w10 a "$M" 1572864 524288 rw
win r1 a "$M" 2621440 4096 ro         # read-only
win tail a "$M" 3145728 1234 rw       # up to the end of a.img
win e1 a "$M" $((A_SIZE - 700)) 700 ro  # LENGTH end, read-only
win t1 a "$M" 2097152 65536 rw        # from the table
win t2 a "$M" 2129920 65536 rw        # table, overlapping t1
win b1 b "$M" 0 4096 rw
win b2 b "$M" 8192 100000 rw
win b3 b "$M" 1048576 77 rw           # the last 77 bytes of b.img
win b4 b "$M" 500000 1000 cow
CHUNK=100000
for ((k = 0; k * CHUNK < C_SIZE; k++)); do
    len=$CHUNK
    ((k * CHUNK + len <= C_SIZE)) || len=$((C_SIZE - k * CHUNK))
    win "$(printf '%08d' "$k")" c "$C" $((k * CHUNK)) "$len" rw
done

cat >"$T/windows.tab" <<EOF
t1  2M     64K     rw   a.img
t2  2080K  64K     rw   a.img
b1  0      4K      rw   b.img
b2  8K     100000  rw   b.img
b3  1M     77      rw   b.img
b4  500000 1000    cow  b.img
EOF
# shellcheck disable=SC2054  # the commas belong to -o
mount_slicefs "$M" "$T/a.img" \
    -o window=w1:4K:8K,window=w2:12K:8K,window=w3:10000:5000,window=w4:100000:54321 \
    -o window=w5:154321:1,window=w6:200000:300000,window=w7:250000:100000 \
    -o window=w8:450000:100000,window=w9:1M:1M:cow,window=w10:1536K:512K \
    -o window=r1:2560K:4K:ro,window=tail:3M:1234,window=e1:$((A_SIZE - 700)):end:ro \
    -o table="$T/windows.tab"
main_pid=$DAEMON_PID
main_log=$DAEMON_LOG
mount_slicefs "$C" "$T/c.img" -o layout=chunks:$CHUNK
chunk_pid=$DAEMON_PID
[ "$(ls "$C" | wc -l)" = $(((C_SIZE + CHUNK - 1) / CHUNK)) ] || fail "unexpected chunks: $(ls "$C")"

# to_expected I OFFSET COUNT DATAFILE - what a write of DATAFILE at OFFSET of
# window I does to its backing file: nothing for cow and ro windows.
to_expected() {
    local i=$1
    [ "${W_MODE[$i]}" = rw ] || return 0
    dd if="$4" of="$T/${W_FILE[$i]}.expected" oflag=seek_bytes seek=$((W_BASE[i] + $2)) \
        bs=64K conv=notrunc status=none
}

# --- Phase 1: every window written over its whole length ----------------
n=0
for i in "${!W_NAME[@]}"; do
    f=${W_MNT[$i]}/${W_NAME[$i]}
    len=${W_LEN[$i]}
    [ "$(stat -c %s "$f")" = "$len" ] || fail "${W_NAME[$i]}: size $(stat -c %s "$f"), expected $len"
    n=$((n + 1))
    head -c "$len" /dev/urandom >"$T/data.$n"
    if [ "${W_MODE[$i]}" = ro ]; then
        is "error EACCES" open "$f" w
        continue
    fi
    bs=$((n % 2 ? 65536 : 7000))
    dd if="$T/data.$n" of="$f" bs="$bs" conv=notrunc status=none || fail "dd over ${W_NAME[$i]} failed"
    to_expected "$i" 0 "$len" "$T/data.$n"
    # Read back at once: a window shows what was just written through it.
    cmp "$T/data.$n" "$f" || fail "${W_NAME[$i]} does not read back what was just written"
done

# --- Phase 2: writes across, at and past every window's end ---------------
letters=(A B C D E F G H I J K L M N O P Q R S T U V W X Y Z)
for i in "${!W_NAME[@]}"; do
    f=${W_MNT[$i]}/${W_NAME[$i]}
    len=${W_LEN[$i]}
    ch=${letters[$((i % 26))]}
    # Reads stop at the end.
    is "read 0" pread "$f" "$len" 100
    start=$((len > 100 ? len - 100 : 0))
    is "read $((len - start))" pread "$f" "$start" 300
    if [ "${W_MODE[$i]}" = ro ]; then
        is "error EACCES" pwrite "$f" 0 10 "$ch"
        is "error EACCES" truncate "$f" 0
        continue
    fi
    # Across the end: cut short at it.
    is "wrote $((len - start))" pwrite "$f" "$start" 300 "$ch"
    head -c $((len - start)) /dev/zero | tr '\0' "$ch" >"$T/edge"
    to_expected "$i" "$start" $((len - start)) "$T/edge"
    # At, just past and far past the end: nothing.
    is "error ENOSPC" pwrite "$f" "$len" 1 "$ch"
    is "error ENOSPC" pwrite "$f" $((len + 1)) 4096 "$ch"
    is "error ENOSPC" pwrite "$f" $((1 << 40)) 10 "$ch"
    # dd that runs on past the end stops there, with an error.
    if head -c 5000 /dev/zero | tr '\0' "$ch" |
        dd of="$f" oflag=seek_bytes seek=$((len > 3000 ? len - 3000 : 0)) bs=5000 conv=notrunc \
            status=none 2>"$T/dd.err"; then
        fail "${W_NAME[$i]}: dd past the end reported success"
    fi
    grep -q "No space left on device" "$T/dd.err" || fail "${W_NAME[$i]}: dd past the end: $(cat "$T/dd.err")"
    s=$((len > 3000 ? len - 3000 : 0))
    head -c $((len - s)) /dev/zero | tr '\0' "$ch" >"$T/edge"
    to_expected "$i" "$s" $((len - s)) "$T/edge"
done

# --- Phase 3: mmap, truncate, fallocate, copy_file_range -------------------
lower=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
for i in "${!W_NAME[@]}"; do
    [ "${W_MODE[$i]}" = rw ] || continue
    f=${W_MNT[$i]}/${W_NAME[$i]}
    len=${W_LEN[$i]}
    ch=${lower[$((i % 26))]}
    # A client's shared mapping: a store that runs past the end, inside
    # the last page (legal in a mapping), reaches only the window's bytes.
    pagesize=4096
    mapped=$(((len + pagesize - 1) / pagesize * pagesize))
    if ((mapped > len)); then
        s=$((len > 10 ? len - 10 : 0))
        is "ok" mmapwrite "$f" "$s" $((mapped - s)) "$ch"
        head -c $((len - s)) /dev/zero | tr '\0' "$ch" >"$T/edge"
        to_expected "$i" "$s" $((len - s)) "$T/edge"
    fi
    # Nothing crosses the end: fallocate, truncate up.
    is "error EINVAL" fallocate "$f" punch $((len > 1 ? len - 1 : 0)) 2
    is "error EINVAL" fallocate "$f" zero "$len" 4096
    is "error EFBIG" truncate "$f" $((len + 1))
    # copy_file_range from the start of another window (in the same mount,
    # at least as long as what is copied) into this one, across its end:
    # cut short at the end.
    if [ "${W_MNT[$i]}" = "$C" ]; then
        src=$C/00000000 src_file=c src_base=0
        [ "${W_NAME[$i]}" != 00000000 ] || src=$C/00000001 src_base=$CHUNK
    else
        src=$M/w10 src_file=a src_base=1572864
        [ "${W_NAME[$i]}" != w10 ] || src=$M/w6 src_base=200000
    fi
    if ((len > 1)); then
        s=$((len / 2))
        is "copied $((len - s))" copy "$src" 0 "$f" "$s" $((len - s + 5000))
        extract "$T/$src_file.expected" "$src_base" $((len - s)) >"$T/edge"
        to_expected "$i" "$s" $((len - s)) "$T/edge"
    fi
done
# truncate inside a few windows: zeros from there to the window's end only.
for name in w4 t1 w7 b3 00000003 00000010; do
    for i in "${!W_NAME[@]}"; do
        [ "${W_NAME[$i]}" = "$name" ] || continue
        len=${W_LEN[$i]}
        is "ok" truncate "${W_MNT[$i]}/$name" $((len / 3))
        head -c $((len - len / 3)) /dev/zero >"$T/edge"
        to_expected "$i" $((len / 3)) $((len - len / 3)) "$T/edge"
    done
done

# Live: every rw window shows exactly the expected bytes (overlapping
# writes made through other windows included).
for i in "${!W_NAME[@]}"; do
    [ "${W_MODE[$i]}" = rw ] || continue
    cmp <(extract "$T/${W_FILE[$i]}.expected" "${W_BASE[$i]}" "${W_LEN[$i]}") "${W_MNT[$i]}/${W_NAME[$i]}" ||
        fail "${W_NAME[$i]} does not read back the last writes that cover it"
done

kill -0 "$main_pid" && kill -0 "$chunk_pid" || fail "a daemon died"
unmount_slicefs "$C" "$chunk_pid"
DAEMON_LOG=$main_log
unmount_slicefs "$M" "$main_pid"

# --- After unmount ----------------------------------------------------------
for f in a b c; do
    size_var=${f^^}_SIZE
    [ "$(stat -c %s "$T/$f.img")" = "${!size_var}" ] || fail "$f.img changed its size"
    # Outside the union of the windows: the original bytes.
    for i in "${!W_NAME[@]}"; do
        if [ "${W_FILE[$i]}" = "$f" ]; then echo "${W_BASE[$i]} ${W_LEN[$i]}"; fi
    done | sort -n | awk -v size="${!size_var}" '
        BEGIN { end = 0 }
        { if ($1 > end) print end, $1 - end; if ($1 + $2 > end) end = $1 + $2 }
        END { if (size > end) print end, size - end }' >"$T/$f.gaps"
    while read -r off count; do
        cmp <(extract "$T/$f.orig" "$off" "$count") <(extract "$T/$f.img" "$off" "$count") ||
            fail "$f.img: bytes $off..$((off + count)), outside every window, changed"
    done <"$T/$f.gaps"
    # Everywhere: exactly the writes, in their order.
    cmp "$T/$f.expected" "$T/$f.img" || fail "$f.img differs from the copy patched by the same writes"
done
echo "gaps checked: a $(wc -l <"$T/a.gaps"), b $(wc -l <"$T/b.gaps"), c $(wc -l <"$T/c.gaps")"
[ "$(wc -l <"$T/a.gaps")" = 6 ] && [ "$(wc -l <"$T/b.gaps")" = 3 ] || fail "test bug: not the gaps planned"
