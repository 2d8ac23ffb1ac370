#!/bin/bash
# The daemon killed with SIGKILL in the middle of a write-heavy run: every
# write that had returned to its caller is in the backing file (the pages
# of a shared mapping outlive the process), nothing outside the windows
# changed, the writers get an error instead of hanging, the dead mount is
# left as the kernel leaves it (ENOTCONN), fusermount3 -u clears it, and
# the mount point takes a new mount that reads the same records.
. "$(dirname "$0")/lib.sh"

MiB=1048576
head -c $((16 * MiB)) /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/orig.img"
M=$T/mnt
# w: odd-sized records that straddle pages; v: page-sized ones; the two
# windows lie apart, with untouched bytes around them.
mount_slicefs "$M" "$T/disk.img" -o window=w:1M:8M,window=v:10M:4M

# Two writers, 30 s at most each; each logs a record only once its pwrite
# has returned it whole.
W_SIZE=1000
W_SLOTS=$((8 * MiB / W_SIZE))
V_SIZE=4096
V_SLOTS=$((4 * MiB / V_SIZE))
"$FILEOP" records "$M/w" "$W_SIZE" "$W_SLOTS" "$T/w.log" 30 >"$T/w.out" &
W_PID=$!
JOBS+=("$W_PID")
"$FILEOP" records "$M/v" "$V_SIZE" "$V_SLOTS" "$T/v.log" 30 >"$T/v.out" &
V_PID=$!
JOBS+=("$V_PID")

# Kill once both have written thousands of records (and wrapped around v).
for ((i = 0; i < DEADLINE * 20; i++)); do
    if [ -s "$T/w.log" ] && [ -s "$T/v.log" ] &&
        [ "$(wc -l <"$T/w.log")" -ge 5000 ] && [ "$(wc -l <"$T/v.log")" -ge $((V_SLOTS + 500)) ]; then
        break
    fi
    sleep 0.05
done
kill -0 "$W_PID" 2>/dev/null || fail "writer w ended early: $(cat "$T/w.out")"
kill -0 "$V_PID" 2>/dev/null || fail "writer v ended early: $(cat "$T/v.out")"
[ "$(wc -l <"$T/w.log")" -ge 5000 ] || fail "writer w made too little progress"
kill -KILL "$DAEMON_PID"
wait_gone "$DAEMON_PID" || fail "the daemon survived SIGKILL"
status=0
wait "$DAEMON_PID" || status=$?
[ "$status" -eq 137 ] || fail "the daemon's status after SIGKILL is $status, expected 137"

# The writers see the dead connection (not a hang, not a false success).
for job in w v; do
    pid_var=${job^^}_PID
    wait_gone "${!pid_var}" || fail "writer $job hangs on the dead mount"
    wait "${!pid_var}" || true
    # ENOTCONN; or a short count, when the kernel had split the record into
    # two requests and only the first was answered (not acknowledged, so
    # not logged either).
    grep -Eq '^error (ENOTCONN|ECONNABORTED|short) after [0-9]+$' "$T/$job.out" ||
        fail "writer $job after SIGKILL: $(cat "$T/$job.out"), expected error ENOTCONN"
done
JOBS=()
echo "records acknowledged before SIGKILL: w $(wc -l <"$T/w.log"), v $(wc -l <"$T/v.log")"

# Every acknowledged record is in the backing file.
result=$("$FILEOP" checkrecords "$T/disk.img" "$MiB" "$W_SIZE" "$W_SLOTS" "$T/w.log")
[[ $result == checked* ]] || fail "window w, after SIGKILL: $result"
result=$("$FILEOP" checkrecords "$T/disk.img" $((10 * MiB)) "$V_SIZE" "$V_SLOTS" "$T/v.log")
[ "$result" = "checked $((V_SLOTS - 1))" ] || fail "window v, after SIGKILL: $result (expected all slots but the one in flight)"
# Nothing outside the windows moved.
cmp <(extract "$T/orig.img" 0 "$MiB") <(extract "$T/disk.img" 0 "$MiB") || fail "bytes before w changed"
cmp <(extract "$T/orig.img" $((9 * MiB)) "$MiB") <(extract "$T/disk.img" $((9 * MiB)) "$MiB") ||
    fail "bytes between w and v changed"
cmp <(extract "$T/orig.img" $((14 * MiB)) $((2 * MiB))) <(extract "$T/disk.img" $((14 * MiB)) $((2 * MiB))) ||
    fail "bytes after v changed"
[ "$(stat -c %s "$T/disk.img")" = $((16 * MiB)) ] || fail "the backing file's size changed"

# The kernel keeps the dead mount: accesses fail with ENOTCONN.
is_mounted "$M" || fail "the dead mount vanished by itself"
[ "$("$FILEOP" open "$M/w" r)" = "error ENOTCONN" ] || fail "open on the dead mount: not ENOTCONN"
# fusermount3 -u clears it, and the mount point is an empty folder again.
fusermount3 -u "$M" || fail "fusermount3 -u of the dead mount failed"
forget_mount "$M"
! is_mounted "$M" || fail "$M is still mounted after fusermount3 -u"
[ -d "$M" ] && [ -z "$(ls -A "$M")" ] || fail "the mount point is not an empty folder again"

# A new mount there reads the same records.
mount_slicefs "$M" "$T/disk.img" -o window=w:1M:8M,window=v:10M:4M
result=$("$FILEOP" checkrecords "$M/w" 0 "$W_SIZE" "$W_SLOTS" "$T/w.log")
[[ $result == checked* ]] || fail "window w through the new mount: $result"
result=$("$FILEOP" checkrecords "$M/v" 0 "$V_SIZE" "$V_SLOTS" "$T/v.log")
[ "$result" = "checked $((V_SLOTS - 1))" ] || fail "window v through the new mount: $result"
unmount_slicefs "$M"
