#!/bin/bash
# Runtime control under load (issue 15): 10,000 random slicefsctl commands
# (add, remove, resize, now and then reload; seeded and reproducible: the
# seed is printed, and SLICEFS_STRESS_SEED=N runs the same commands again)
# against a live mount while fio writes with verification through a fixed
# window the commands never touch, a reader re-reads another fixed window
# and compares it each time, and a walker lists the whole mount over and
# over.
#
# The backing file: 64 MiB (fio's window at 0, the reader's at 16 MiB, the
# rest random bytes nobody writes) and a guard tail of 8 MiB of a known
# pattern that no window ever covers. control_stress.py draws the commands
# and checks each one's exit status against its model (refused: a name that
# is a window, a folder or under a window already, a missing name, a length
# past the end of the file) and the kernel's view of the path at once (see
# its header). At the end: `slicefsctl list`, the -o save=FILE table and a
# walk of the mount (find: names, sizes, folders) all equal the model; fio
# saw no verify error and its data is in the backing file after unmount;
# every read of the reader matched; the guard tail is byte for byte its
# pattern; the daemon exits 0.
#
# SLICEFS_STRESS_COMMANDS sets the number of commands (10000).
. "$(dirname "$0")/lib.sh"

: "${SLICEFSCTL:?set SLICEFSCTL to the slicefsctl binary (ctest does)}"
requires fio
requires python3
T=$(realpath "$T")
SEED=${SLICEFS_STRESS_SEED:-$(( $(date +%s%N) % 1000000007 ))}
COUNT=${SLICEFS_STRESS_COMMANDS:-10000}
echo "test_control_stress: seed $SEED (SLICEFS_STRESS_SEED=$SEED repeats these commands)," \
    "$COUNT commands"
MIB=1048576
img=$T/img
mnt=$T/mnt

# 64 MiB of random bytes, then the guard tail.
head -c $((64 * MIB)) /dev/urandom >"$img"
head -c $((8 * MIB)) <(yes 'slicefs guard tail: no window covers these bytes') >"$T/guard.ref"
cat "$T/guard.ref" >>"$img"
extract "$img" $((16 * MIB)) $((4 * MIB)) >"$T/stable.ref"
extract "$img" $((20 * MIB)) $MIB >"$T/ro.ref"
guard_intact() {
    extract "$img" $((64 * MIB)) $((8 * MIB)) | cmp - "$T/guard.ref" ||
        fail "the guard tail changed $1"
}

# Fixed windows: fio's, the reader's, a ro one, and a cow one (so that cow
# windows may be added while mounted).
mount_slicefs "$mnt" "$img" -o window=fio:0:16M,window=stable:16M:4M \
    -o window=ro:20M:1M:ro,window=cow:21M:1M:cow -o "save=$T/live.table"

# fio writes the whole time, one job after another, each verifying what it
# wrote while writing (verify_backlog) and at its end.
FIO_JOB=(--name=verify --filename="$mnt/fio" --rw=randwrite --bs=4k --size=16M
    --ioengine=psync --verify=crc32c --verify_backlog=256 --verify_fatal=1
    --allow_file_create=0 --fallocate=none)
# (Ended early, by the EXIT trap's stop_jobs, it ends its fio too.)
(
    i=0 job=
    trap '[ -z "$job" ] || kill "$job" 2>/dev/null; exit 1' TERM
    while [ ! -e "$T/stop" ]; do
        i=$((i + 1))
        fio "${FIO_JOB[@]}" --randseed=$((SEED + i)) >"$T/fio.$i.log" 2>&1 &
        job=$!
        wait "$job" || { echo "$i" >"$T/fio.failed"; exit 1; }
        job=
        echo "$i" >"$T/fio.rounds"
    done
) &
FIO_LOOP=$!
JOBS+=("$FIO_LOOP")
# The reader: the window no command changes, compared on every read.
(
    n=0
    while [ ! -e "$T/stop" ]; do
        cmp "$mnt/stable" "$T/stable.ref" >"$T/reader.cmp" 2>&1 ||
            { echo "read $n" >"$T/reader.failed"; exit 1; }
        n=$((n + 1))
        echo "$n" >"$T/reader.rounds"
    done
) &
READER=$!
JOBS+=("$READER")
# The walker: lookups and listings racing every command (names come and go
# under it, so its errors are expected; it must only never hang).
(
    while [ ! -e "$T/stop" ]; do
        find "$mnt" -printf '%s\n' >/dev/null 2>&1 || true
        sleep 0.05
    done
) &
WALKER=$!
JOBS+=("$WALKER")
wait_until "fio started" test -e "$T/fio.1.log"

start=$SECONDS
python3 "$(dirname "$0")/control_stress.py" "$SLICEFSCTL" "$mnt" "$img" "$SEED" "$COUNT" \
    "$T/model" || {
    tail -n 80 "$DAEMON_LOG" >&2
    fail "the commands (seed $SEED) did not do what the model says"
}
echo "test_control_stress: the commands took $((SECONDS - start)) s under load"

touch "$T/stop"
job_ends "$FIO_LOOP" "the fio loop"
job_ends "$READER" "the reader"
job_ends "$WALKER" "the walker"
JOBS=()
if [ -e "$T/fio.failed" ]; then
    cat "$T/fio.$(cat "$T/fio.failed").log" >&2
    fail "fio job $(cat "$T/fio.failed") failed (seed $SEED)"
fi
[ -s "$T/fio.rounds" ] || fail "no fio job ended while the commands ran"
! grep -il 'verify.*fail\|bad magic\|crc32c.*wanted' "$T"/fio.*.log ||
    fail "fio reported a verify error"
[ ! -e "$T/reader.failed" ] ||
    fail "the unchanged window read wrong at $(cat "$T/reader.failed"): $(cat "$T/reader.cmp")"
[ -s "$T/reader.rounds" ] || fail "the reader never read the window whole"
echo "test_control_stress: $(cat "$T/fio.rounds") fio jobs verified," \
    "$(cat "$T/reader.rounds") reads of the unchanged window"

# The live table, three ways, is the model's.
"$SLICEFSCTL" "$mnt" list | sort >"$T/list" || fail "slicefsctl list"
diff "$T/model" "$T/list" >&2 || fail "slicefsctl list is not the model (seed $SEED)"
grep -v '^#' "$T/live.table" | sort | diff "$T/model" - >&2 ||
    fail "the saved table is not the model (seed $SEED)"
awk '{print "f", $1, $3}' "$T/model" >"$T/want.tree"
awk '{n = split($1, p, "/"); d = p[1]; for (i = 2; i <= n; i++) {print "d", d; d = d "/" p[i]}}' \
    "$T/model" >>"$T/want.tree"
(cd "$mnt" && find . -mindepth 1 -printf '%y %P %s\n') |
    awk '$1 == "d" {print "d", $2; next} {print}' | sort -u >"$T/got.tree"
sort -u "$T/want.tree" | diff - "$T/got.tree" >&2 ||
    fail "the mount's names and sizes are not the model's (seed $SEED)"
ls -R "$mnt" >/dev/null || fail "ls -R of the mount"
cmp "$mnt/stable" "$T/stable.ref" || fail "the unchanged window at the end"
cmp "$mnt/ro" "$T/ro.ref" || fail "the ro window changed"
guard_intact "while mounted"

unmount_slicefs "$mnt"
guard_intact "after unmount"
cmp <(extract "$img" $((16 * MIB)) $((4 * MIB))) "$T/stable.ref" ||
    fail "the bytes of the unchanged window changed in the backing file"
# The last fio job's data reached the backing file: verified there directly.
last=$(cat "$T/fio.rounds")
fio "${FIO_JOB[@]/#--filename=*/--filename=$img}" --randseed=$((SEED + last)) --verify_only \
    >"$T/fio.direct.log" 2>&1 || { cat "$T/fio.direct.log" >&2; fail "fio's data is not in $img"; }
echo "test_control_stress: ok (seed $SEED)"
