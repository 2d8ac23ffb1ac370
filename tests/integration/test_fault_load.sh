#!/bin/bash
# Load: for FAULT_LOAD_SECONDS (30 here; FAULT_LOAD_SECONDS=300 ctest -R
# fault_load for the long run), fio writes and verifies (crc32c, seeds new
# every run) four windows with four I/O styles at once - buffered psync,
# O_DIRECT libaio at depth 16, a client's shared mmap, buffered with fsync -
# while storms of stat, ls -lR, getfattr, open/close and reads of an
# overlapping read-only window run beside them. No verification error, no
# failed storm call, no crash; the daemon's memory, sampled every second
# (VmRSS, and RssAnon apart from it), stays within the bounds below; it
# exits 0 at unmount.
. "$(dirname "$0")/lib.sh"
requires fio
requires getfattr

LOAD=${FAULT_LOAD_SECONDS:-30}
RSS_BOUND_KIB=$((64 * 1024))   # VmRSS may grow this much over its start
ANON_BOUND_KIB=$((32 * 1024))  # of which heap and stacks (RssAnon) this much
# (the windows total 32 MiB: the mapped file pages the daemon touches are
# part of VmRSS, as RssFile, and stay below that.)
if [ "${SLICEFS_SANITIZED:-0}" = 1 ]; then
    # AddressSanitizer holds freed memory in a 256 MiB quarantine and keeps
    # shadow memory beside the heap: the bound allows for both.
    RSS_BOUND_KIB=$((768 * 1024))
    ANON_BOUND_KIB=$((512 * 1024))
fi

MiB=1048576
head -c $((32 * MiB)) /dev/urandom >"$T/disk.img"
M=$T/mnt
# j0..j3: one fio job each; all: a read-only view over j0..j2; a few
# small windows in folders for the name storms.
mount_slicefs "$M" "$T/disk.img" \
    -o window=j0:0:6M,window=j1:6M:6M,window=j2:12M:6M,window=j3:18M:6M \
    -o window=all:0:18M:ro,window=dir/a:24M:1M,window=dir/b:25M:1M,window=dir/sub/c:26M:6M
pid=$DAEMON_PID
END=$((SECONDS + LOAD))

# kib FIELD - a field of the daemon's /proc status, in KiB.
kib() {
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"
}

# The sampler: one line a second while the daemon lives and the load runs.
(
    while ((SECONDS < END + 2)) && [ -e "/proc/$pid/status" ]; do
        echo "$(kib VmRSS) $(kib RssAnon) $(kib RssFile)"
        sleep 1
    done
) >"$T/rss.samples" &
JOBS+=($!)
START_RSS=$(kib VmRSS)
START_ANON=$(kib RssAnon)

# storm NAME COMMAND... - runs COMMAND over and over until the load ends;
# every failure is noted in $T/storm.errors.
storm() {
    local name=$1
    shift
    (
        n=0
        while ((SECONDS < END)); do
            "$@" >/dev/null 2>"$T/storm.$name.err" || echo "$name: $(cat "$T/storm.$name.err")" >>"$T/storm.errors"
            n=$((n + 1))
        done
        echo "$n" >"$T/storm.$name.count"
    ) &
    JOBS+=($!)
    STORMS+=($!)
}
STORMS=()
stat_all() { stat "$M"/j0 "$M"/j1 "$M"/j2 "$M"/j3 "$M"/all "$M"/dir/a "$M"/dir/b "$M"/dir/sub/c "$M"/dir "$M"; }
open_close() {
    local w
    for w in j0 j1 j2 j3 all dir/a dir/b dir/sub/c; do
        : <"$M/$w" || return 1
    done
    [ "$("$FILEOP" open "$M/dir/a" rw)" = ok ]
}
read_view() { dd if="$M/all" of=/dev/null bs=1M count=2 skip=$((RANDOM % 16)) status=none; }
xattrs() { getfattr -d -m user.slicefs "$M/j1" "$M/dir/sub/c" | grep -q 'user.slicefs.length="6291456"'; }
storm stat stat_all
storm ls ls -lR "$M"
storm open open_close
storm read read_view
storm xattr xattrs

# fio, run after run until the time is up; every run draws new seeds, so
# a stale block from an earlier run fails verification too.
run=0
while ((SECONDS < END)); do
    run=$((run + 1))
    left=$((END - SECONDS))
    ((left > 0)) || break
    # allow_file_create=0: a dead mount must fail fio, not give it a fresh
    # local file to verify.
    fio --output="$T/fio.$run.out" --runtime="$left" --randrepeat=0 --rw=randwrite \
        --allow_file_create=0 \
        --bsrange=4k-1m --size=6M --verify=crc32c --verify_fatal=1 --verify_backlog=64 \
        --do_verify=1 --verify_state_save=0 \
        --name=j0 --filename="$M/j0" --ioengine=psync \
        --name=j1 --filename="$M/j1" --ioengine=libaio --iodepth=16 --direct=1 \
        --name=j2 --filename="$M/j2" --ioengine=mmap \
        --name=j3 --filename="$M/j3" --ioengine=sync --fsync=16 ||
        { cat "$T/fio.$run.out" >&2; fail "fio run $run failed (verification or I/O error)"; }
    kill -0 "$pid" || fail "the daemon died under load"
done
echo "fio: $run runs in $LOAD s"
# The storms end by themselves once the time is up (each finishes the
# round it is in); then the sampler is stopped.
for p in "${STORMS[@]}"; do
    wait_gone "$p" || fail "a storm did not end within $DEADLINE s of the end of the load"
done
stop_jobs

# The storms ran, and never failed.
for s in stat ls open read xattr; do
    [ -s "$T/storm.$s.count" ] || fail "storm $s did not finish"
    echo "storm $s: $(cat "$T/storm.$s.count") rounds"
    [ "$(cat "$T/storm.$s.count")" -gt 0 ] || fail "storm $s never ran"
done
[ ! -s "$T/storm.errors" ] || fail "storm calls failed: $(head -5 "$T/storm.errors")"

# Memory: every sample within the bounds.
echo "daemon memory at start: VmRSS $START_RSS KiB, RssAnon $START_ANON KiB"
echo "samples (VmRSS RssAnon RssFile, KiB):"
cat "$T/rss.samples"
[ "$(wc -l <"$T/rss.samples")" -ge $((LOAD / 2)) ] || fail "too few memory samples"
while read -r rss anon _; do
    ((rss - START_RSS <= RSS_BOUND_KIB)) ||
        fail "VmRSS $rss KiB is more than $RSS_BOUND_KIB KiB over its start ($START_RSS KiB)"
    ((anon - START_ANON <= ANON_BOUND_KIB)) ||
        fail "RssAnon $anon KiB is more than $ANON_BOUND_KIB KiB over its start ($START_ANON KiB)"
done <"$T/rss.samples"

kill -0 "$pid" || fail "the daemon died"
unmount_slicefs "$M"
grep -v -e '^slicefs: mounted' -e '^slicefs: backing file' -e '^slicefs: window digests ' "$DAEMON_LOG" >"$T/unexpected.log" || true
[ ! -s "$T/unexpected.log" ] || fail "unexpected daemon messages: $(head -5 "$T/unexpected.log")"
