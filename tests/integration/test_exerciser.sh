#!/bin/bash
# Randomized exerciser (tests/helpers/exerciser.c): thousands of random
# preads, pwrites (across and past the end), client mmap reads and writes
# (msync), hole punches and syncs through one or two windows, each checked
# against a model and through every overlapping window. Four runs, each in
# its own mount: one rw window, one cow window, two overlapping rw windows,
# two overlapping cow windows, all at odd offsets and of odd sizes. After
# unmount the backing file holds exactly the model (rw) or is unchanged (cow).
# A fifth run (exerciser -r) grows and shrinks the backing file outside the
# mount while it runs, beside a growable "end" window read all the while:
# no crash, errors only where bytes are gone (EIO), every byte read is the
# model's or zero, and after unmount every byte outside the windows is its
# original byte or zero (cut off by a shrink) -- never one the run wrote.
# EXERCISER_SEED and EXERCISER_STEPS override the defaults to reproduce or
# lengthen a run.
. "$(dirname "$0")/lib.sh"

: "${EXERCISER:?set EXERCISER to the exerciser helper (ctest does)}"
SEED=${EXERCISER_SEED:-20240611}
STEPS=${EXERCISER_STEPS:-5000}

SIZE=$((8 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
M=$T/mnt

# run NAME SEED WINDOW... - mounts the backing file with the windows
# (NAME:OFFSET:LENGTH:MODE, in bytes), runs the exerciser on all of them,
# and unmounts (the daemon must exit 0). The final model is left in
# $T/NAME.model.
run() {
    local name=$1 seed=$2 spec opts="" args=()
    shift 2
    for spec in "$@"; do
        opts+="${opts:+,}window=$spec"
        args+=("$M/${spec%%:*}:${spec#*:}")
    done
    mount_slicefs "$M" "$T/disk.img" -o "$opts"
    local status=0
    "$EXERCISER" -m "$T/$name.model" "$T/disk.img" "$seed" "$STEPS" "${args[@]}" || status=$?
    [ "$status" -eq 0 ] || fail "$name: the exerciser failed (status $status, seed $seed)"
    unmount_slicefs "$M"
}

# expect_model NAME OFFSET - after an rw run: the backing file equals its
# copy from before the run with the final model put at OFFSET, so the
# writes landed exactly there and nowhere else.
expect_model() {
    dd if="$T/$1.model" of="$T/before.img" oflag=seek_bytes seek="$2" conv=notrunc status=none
    cmp "$T/before.img" "$T/disk.img" ||
        fail "$1: after unmount the backing file differs from the model put at $2"
}

# (a) One rw window of an odd size at an odd offset.
cp "$T/disk.img" "$T/before.img"
run a "$SEED" a:12345:1000003:rw
expect_model a 12345

# (b) One cow window: the backing file never changes.
sum_before=$(sha256sum <"$T/disk.img")
run b $((SEED + 1)) b:3333333:1234567:cow
[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "b: cow writes reached the backing file"

# (c) Two overlapping rw windows (span 4097 .. 4097 + 1500000).
cp "$T/disk.img" "$T/before.img"
run c $((SEED + 2)) c1:4097:999999:rw c2:700001:804096:rw
expect_model c 4097
[ "$(stat -c %s "$T/c.model")" = 1500000 ] || fail "c: the model does not cover the span"

# (d) Two overlapping cow windows.
sum_before=$(sha256sum <"$T/disk.img")
run d $((SEED + 3)) d1:5000011:777777:cow d2:5300007:1111111:cow
[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "d: cow writes reached the backing file"
[ "$(stat -c %s "$T/disk.img")" = "$SIZE" ] || fail "the backing file's size changed"

# (e) The backing file grown and shrunk outside the mount while it runs.
# Its size moves between 2 MiB and 12 MiB: the windows (1 MiB + 4097 ..
# 3.5 MiB) lose bytes and get them back as zeros; [0, 1 MiB + 4097) is
# never cut off. cache=never: every read reaches the daemon (the kernel's
# cache would keep bytes the file no longer has).
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/before.img"
E_LO=$((1048576 + 4097)) E_HI=$((3 * 1048576 + 524288))
mount_slicefs "$M" "$T/disk.img" -o cache=never \
    -o window=e1:$E_LO:2000000:rw,window=e2:$((2 * 1048576)):$((E_HI - 2 * 1048576)):rw \
    -o window=g:$((6 * 1048576)):end:rw
# The background jobs stop at the end of their current call (a killed
# loop would leave a cat holding the mount busy).
(
    RANDOM=$SEED
    while [ ! -e "$T/stop" ]; do
        truncate -s $(((2 + RANDOM % 11) * 1048576 + RANDOM)) "$T/disk.img"
        sleep 0.02
    done
) &
JOBS+=($!)
(
    while [ ! -e "$T/stop" ]; do
        cat "$M/g" >/dev/null 2>&1 || true
        head -c 4096 /dev/zero | dd of="$M/g" bs=4096 seek=$((RANDOM % 2048)) conv=notrunc \
            status=none 2>/dev/null || true
    done
) &
JOBS+=($!)
status=0
"$EXERCISER" -r "$T/disk.img" $((SEED + 4)) "$STEPS" "$M/e1:$E_LO:2000000:rw" \
    "$M/e2:$((2 * 1048576)):$((E_HI - 2 * 1048576)):rw" || status=$?
touch "$T/stop"
for pid in "${JOBS[@]}"; do
    wait_gone "$pid" || fail "e: a background job did not stop within $DEADLINE s"
done
stop_jobs
[ "$status" -eq 0 ] || fail "e: the exerciser failed with the file resized outside (status $status)"
kill -0 "$DAEMON_PID" || fail "e: the daemon died"
unmount_slicefs "$M"
cmp <(extract "$T/before.img" 0 "$E_LO") <(extract "$T/disk.img" 0 "$E_LO") ||
    fail "e: bytes before the windows changed"
# Past the windows: each byte is the original or zero (cut off and grown
# back), except in window g (6 MiB on), which the test wrote zeros into.
size=$(stat -c %s "$T/disk.img")
end=$((size < 6 * 1048576 ? size : 6 * 1048576))
if ((end > E_HI)); then
    { cmp -l <(extract "$T/before.img" "$E_HI" $((end - E_HI))) \
        <(extract "$T/disk.img" "$E_HI" $((end - E_HI))) || true; } |
        awk '$3 != 0 { bad = 1; if (n++ < 5) print "byte", $1, "was", $2, "is", $3 } END { exit bad }' ||
        fail "e: a byte between the windows changed to something else than zero"
fi
