#!/bin/bash
# I/O errors from the backing storage. The backing file lies on faultfs, a
# FUSE file system of this test suite that fails the reads and writes of
# chosen byte ranges with EIO (tests/helpers/faultfs.c). Through slicefs:
# a read of a bad range gets EIO at the caller of read(); a partial-page
# write into a bad range (the daemon's store must read the page in first)
# gets EIO; fsync after a write whose write-back fails gets EIO, and so does
# every later fsync of any window of that backing file - even once the
# storage works again, never a late success - while fsync of another
# backing file works. Every other range and window keeps working
# throughout, the daemon stays up, and at unmount it reports the failed
# write-back and exits 1 (slicefs.1, EXIT STATUS), having written back
# every other dirty page.
. "$(dirname "$0")/lib.sh"
: "${FAULTFS:?set FAULTFS to the faultfs helper (ctest does)}"
requires getfattr

FF_MNT=      # the faultfs mount point, while mounted
FF_PID=
# After lib.sh's cleanup has ended the jobs and slicefs (which holds a file
# of faultfs): faultfs.
cleanup_extra() {
    if [ -n "$FF_MNT" ]; then
        fusermount3 -u "$FF_MNT" 2>/dev/null || fusermount3 -u -z "$FF_MNT" 2>/dev/null || true
    fi
    if [ -n "$FF_PID" ] && ! wait_gone "$FF_PID"; then
        echo "cleanup: faultfs $FF_PID did not exit; killing it" >&2
        kill -KILL "$FF_PID" 2>/dev/null || true
    fi
}

# faults LINE... - replaces faultfs's bad ranges ("read OFF LEN",
# "write OFF LEN"); none when called without arguments.
faults() {
    printf '%s\n' "# bad ranges" "$@" >"$T/faults.new"
    mv "$T/faults.new" "$T/faults"
}

# injected KIND OFFSET - faultfs logged a failure of KIND at OFFSET.
injected() {
    grep -Eq "^faultfs: injected EIO: $1 [0-9]+ at $2\$" "$T/faultfs.log" ||
        fail "faultfs never failed a $1 at $2: the access did not reach the storage"
}

KiB=1024
MiB=1048576
head -c $((6 * MiB)) /dev/urandom >"$T/real.img"
head -c "$MiB" /dev/urandom >"$T/other.img"
cp "$T/real.img" "$T/expected.img"
cp "$T/other.img" "$T/expected-other.img"

faults
FF_MNT=$T/ff
mkdir -p "$FF_MNT"
"$FAULTFS" --control "$T/faults" "$T/real.img" "$FF_MNT" 2>"$T/faultfs.log" &
FF_PID=$!
for ((i = 0; i < DEADLINE * 20; i++)); do
    is_mounted "$FF_MNT" && break
    kill -0 "$FF_PID" 2>/dev/null || { cat "$T/faultfs.log" >&2; fail "faultfs did not start"; }
    sleep 0.05
done
is_mounted "$FF_MNT" || fail "faultfs did not mount within $DEADLINE s"
LOWER=$FF_MNT/real.img
cmp "$T/real.img" "$LOWER" || fail "faultfs does not pass the file through"

# Windows a, b, c, d over the file on faultfs; o over a file elsewhere.
cat >"$T/windows.tab" <<EOF
a  0   1M  rw  ff/real.img
b  1M  1M  rw  ff/real.img
c  2M  2M  rw  ff/real.img
d  4M  1M  rw  ff/real.img
o  0   1M  rw  other.img
EOF
M=$T/mnt
mount_slicefs "$M" -o table="$T/windows.tab"

# Readers on d and o for the whole test; they stop only at an error (or
# after 60 s): alive at the end means they never saw one.
"$FILEOP" loop read "$M/d" 0 "$MiB" 65536 60 direct >"$T/reader-d.out" &
JOBS+=($!)
"$FILEOP" loop read "$M/o" 0 "$MiB" 65536 60 direct >"$T/reader-o.out" &
JOBS+=($!)

# --- Reads of a bad range -------------------------------------------------
BAD_READ=$((MiB + 256 * KiB))     # b's page at 256 KiB
BAD_STORE=$((MiB + 768 * KiB))    # b's page at 768 KiB
faults "read $BAD_READ 4096" "read $BAD_STORE 4096"
is "ok" dropcache "$LOWER"
is "error EIO" pread "$M/b" $((256 * KiB)) 4096
is "error EIO" pread "$M/b" $((256 * KiB + 4095)) 1
injected read "$BAD_READ"
if dd if="$M/b" of=/dev/null bs=64K status=none 2>"$T/dd.err"; then
    fail "dd through b read past a bad range without an error"
fi
grep -q "Input/output error" "$T/dd.err" || fail "dd through b: $(cat "$T/dd.err")"
kill -0 "$DAEMON_PID" || fail "the daemon died on a read error of its backing storage"
# The rest of b and the other windows read their bytes.
cmp <(extract "$T/expected.img" "$MiB" $((128 * KiB))) <(extract "$M/b" 0 $((128 * KiB))) ||
    fail "b's first 128 KiB, far from the bad range, do not read back"
cmp <(extract "$T/expected.img" $((MiB + 512 * KiB)) $((64 * KiB))) \
    <(extract "$M/b" $((512 * KiB)) $((64 * KiB))) || fail "b at 512 KiB does not read back"
cmp <(extract "$T/expected.img" 0 "$MiB") "$M/a" || fail "a does not read back"
cmp <(extract "$T/expected.img" $((2 * MiB)) $((2 * MiB))) "$M/c" || fail "c does not read back"

# --- A write into a page the daemon cannot read in --------------------------
is "error EIO" pwrite "$M/b" $((768 * KiB + 100)) 200 s
injected read "$BAD_STORE"
kill -0 "$DAEMON_PID" || fail "the daemon died on a store into an unreadable page"
# A partial-page write elsewhere in b lands.
is "wrote 200" pwrite "$M/b" $((512 * KiB + 100)) 200 p
patch "$T/expected.img" $((MiB + 512 * KiB + 100)) 200 p
cmp <(extract "$T/expected.img" $((MiB + 512 * KiB)) 4096) <(extract "$M/b" $((512 * KiB)) 4096) ||
    fail "a write next to the bad range does not read back"

# The storage heals: the same read and the same write now work, with the
# right bytes.
faults
is "read 4096" pread "$M/b" $((256 * KiB)) 4096
cmp <(extract "$T/expected.img" "$BAD_READ" 4096) <(extract "$M/b" $((256 * KiB)) 4096) ||
    fail "the healed range does not read back its bytes"
is "wrote 200" pwrite "$M/b" $((768 * KiB + 100)) 200 s
patch "$T/expected.img" $((BAD_STORE + 100)) 200 s
cmp <(extract "$T/expected.img" "$MiB" "$MiB") "$M/b" || fail "b after healing"
for w in a b c d o; do
    is "ok" fsync "$M/$w"
done

# --- A write-back that fails --------------------------------------------------
BAD_WRITE=$((3 * MiB))            # c's page at 1 MiB
faults "write $BAD_WRITE 4096"
is "wrote 4096" pwrite "$M/c" "$MiB" 4096 W
is "wrote 1000" pwrite "$M/d" 5000 1000 D
patch "$T/expected.img" $((4 * MiB + 5000)) 1000 D
is "error EIO" fsync "$M/c"
injected write "$BAD_WRITE"
# Sticky: the same window again, other windows of the file, fdatasync.
is "error EIO" fsync "$M/c"
is "error EIO" fsync "$M/d"
is "error EIO" fdatasync "$M/a"
kill -0 "$DAEMON_PID" || fail "the daemon died on a failed write-back"
# Reads and writes still work, and the window of the other file syncs.
cmp <(extract "$T/expected.img" 0 "$MiB") "$M/a" || fail "a after the failed write-back"
is "wrote 3000" pwrite "$M/o" 10000 3000 O
patch "$T/expected-other.img" 10000 3000 O
is "ok" fsync "$M/o"
cmp "$T/expected-other.img" "$T/other.img" || fail "o's fsynced write is not in other.img"

# The storage heals; the lost write stays reported: never a late success.
faults
is "wrote 2000" pwrite "$M/a" 123 2000 A
patch "$T/expected.img" 123 2000 A
is "error EIO" fsync "$M/a"
is "error EIO" fsync "$M/c"
is "error EIO" fsync "$M/b"
if printf 'dsync' | dd of="$M/d" oflag=dsync conv=notrunc status=none 2>"$T/dsync.err"; then
    fail "an O_DSYNC write succeeded after a failed write-back"
fi
grep -q "Input/output error" "$T/dsync.err" || fail "O_DSYNC write: $(cat "$T/dsync.err")"
# Its bytes did land in the page, and are written back at unmount.
printf 'dsync' | dd of="$T/expected.img" oflag=seek_bytes seek=$((4 * MiB)) conv=notrunc status=none

# The readers on d and o never saw an error.
for pid in "${JOBS[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a reader of a good window stopped: $(cat "$T"/reader-*.out)"
done
stop_jobs
kill -0 "$DAEMON_PID" || fail "the daemon died"

# --- Unmount: the failed write-back is reported, everything else written --
fusermount3 -u "$M" || fail "fusermount3 -u $M failed"
MOUNTS=()
wait_gone "$DAEMON_PID" || fail "the daemon is still running $DEADLINE s after unmount"
status=0
wait "$DAEMON_PID" || status=$?
[ "$status" -eq 1 ] || { cat "$DAEMON_LOG" >&2; fail "after a failed write-back the daemon exited $status, expected 1"; }
grep -q "^slicefs: writing back the backing files failed: Input/output error$" "$DAEMON_LOG" ||
    { cat "$DAEMON_LOG" >&2; fail "the daemon did not report the failed final write-back"; }
! is_mounted "$M" || fail "$M is still mounted"

# The page whose write-back failed holds its old bytes; every other write
# (made before and after the failure) reached the file.
cmp "$T/expected.img" "$T/real.img" || fail "the backing file differs from the expected copy"
cmp "$T/expected-other.img" "$T/other.img" || fail "other.img differs from the expected copy"

fusermount3 -u "$FF_MNT" || fail "fusermount3 -u $FF_MNT failed"
FF_MNT=
wait_gone "$FF_PID" || fail "faultfs did not exit after unmount"
status=0
wait "$FF_PID" || status=$?
[ "$status" -eq 0 ] || fail "faultfs exited $status: $(cat "$T/faultfs.log")"
FF_PID=
