#!/bin/bash
# SIGTERM, SIGINT, SIGHUP and a (lazy) unmount while I/O is in flight (fio
# writing and reading one window, a writer of logged records another): the
# daemon exits 0 within the deadline, leaves no mount, and has written back
# every dirty page (cachestat(2) of the backing file shows none left), and
# every write acknowledged before the signal is in the backing file. The
# clients get an error rather than hang. Last, ten lazy unmounts while one
# process holds 200 windows open and then exits: exit 0 each time.
. "$(dirname "$0")/lib.sh"
requires fio

# bash starts background commands with SIGINT ignored, and libfuse leaves
# an ignored signal alone: start the daemon with default dispositions (as
# test_unmount_signals.sh does), through exec so that $! is its pid.
cat >"$T/slicefs-default-signals" <<WRAPPER
#!/bin/sh
exec env --default-signal=INT,TERM,HUP "$SLICEFS" "\$@"
WRAPPER
chmod +x "$T/slicefs-default-signals"
SLICEFS=$T/slicefs-default-signals

MiB=1048576
RECSIZE=1000
SLOTS=$((8 * MiB / RECSIZE))
head -c $((16 * MiB)) /dev/urandom >"$T/disk.img"
M=$T/mnt

for how in TERM INT HUP unmount; do
    mount_slicefs "$M" "$T/disk.img" -o window=w:1M:8M,window=f:10M:4M
    pid=$DAEMON_PID
    "$FILEOP" records "$M/w" "$RECSIZE" "$SLOTS" "$T/w.$how.log" 30 >"$T/w.$how.out" &
    writer=$!
    JOBS+=("$writer")
    # allow_file_create=0: when fio reopens the file after the mount went
    # away, it must fail, not create a file under the bare mount point.
    fio --name=inflight --filename="$M/f" --allow_file_create=0 --rw=randrw --bsrange=4k-256k --size=4M \
        --time_based --runtime=30 --ioengine=psync --numjobs=2 --group_reporting \
        --output="$T/fio.$how.out" >/dev/null 2>&1 &
    fio_pid=$!
    JOBS+=("$fio_pid")

    # Signal once both are well under way.
    for ((i = 0; i < DEADLINE * 20; i++)); do
        [ -s "$T/w.$how.log" ] && [ "$(wc -l <"$T/w.$how.log")" -ge 3000 ] && break
        sleep 0.05
    done
    sleep 0.5
    kill -0 "$writer" 2>/dev/null || fail "$how: the writer ended early: $(cat "$T/w.$how.out")"
    kill -0 "$fio_pid" 2>/dev/null || fail "$how: fio ended early: $(cat "$T/fio.$how.out")"
    echo "$how: before: $("$FILEOP" cachestat "$T/disk.img") (pages of the backing file)"

    if [ "$how" = unmount ]; then
        # Busy: a plain unmount is refused and changes nothing; a lazy one
        # detaches at once, and the daemon ends when the last file closes.
        if fusermount3 -u "$M" 2>"$T/busy.err"; then
            fail "fusermount3 -u of a busy mount succeeded"
        fi
        is_mounted "$M" || fail "a refused unmount unmounted"
        fusermount3 -u -z "$M" || fail "fusermount3 -u -z failed"
        forget_mount "$M"
        ! is_mounted "$M" || fail "lazy unmount left $M in /proc/mounts"
        sleep 0.5
        kill "$writer" "$fio_pid" 2>/dev/null || true
    else
        kill -s "$how" "$pid"
    fi
    wait_gone "$pid" || fail "$how: the daemon is still running $DEADLINE s later"
    status=0
    wait "$pid" || status=$?
    job_ends "$writer" "$how: the writer"
    job_ends "$fio_pid" "$how: fio"
    JOBS=()
    if is_mounted "$M"; then
        fusermount3 -u "$M" || fusermount3 -u -z "$M"
        forget_mount "$M"
        fail "$how: the daemon exited ($status) but left $M mounted"
    fi
    forget_mount "$M"
    [ -z "$(ls -A "$M")" ] || fail "$how: the bare mount point is not empty: $(ls -A "$M")"

    # Written back: not a dirty page of the backing file is left.
    after=$("$FILEOP" cachestat "$T/disk.img")
    echo "$how: after:  $after"
    [[ $after =~ ^cached\ [0-9]+\ dirty\ 0\ writeback\ 0$ ]] ||
        fail "$how: the daemon exited with dirty pages not written back: $after"
    # Every acknowledged record is in the file.
    [ "$(wc -l <"$T/w.$how.log")" -ge 3000 ] || fail "$how: too few records"
    result=$("$FILEOP" checkrecords "$T/disk.img" "$MiB" "$RECSIZE" "$SLOTS" "$T/w.$how.log")
    [[ $result == checked* ]] || fail "$how: acknowledged records missing: $result"
    echo "$how: $(wc -l <"$T/w.$how.log") records acknowledged, $result"
    if [ "$how" != unmount ]; then
        grep -Eq '^error (ENOTCONN|ECONNABORTED|short) after [0-9]+$' "$T/w.$how.out" ||
            fail "$how: the writer: $(cat "$T/w.$how.out"), expected an error"
    fi
    # Checked last, so that the data checks above have run.
    [ "$status" -eq 0 ] || { cat "$DAEMON_LOG" >&2; fail "$how: the daemon exited with status $status"; }
    # After a lazy unmount the connection is torn down when the last file
    # closes; a worker that was taking a request off the queue at that
    # moment gets ECONNABORTED from the kernel (fuse_dev_do_read: the
    # processing queue is already disconnected), which libfuse reports with
    # perror. Seen once in a loaded run; the data checks above still hold.
    benign=('^slicefs: mounted' '^slicefs: backing file' '^slicefs: window digests ')
    [ "$how" != unmount ] || benign+=('^fuse: reading device: Software caused connection abort$')
    grep -v "${benign[@]/#/-e}" "$DAEMON_LOG" >"$T/unexpected.log" || true
    [ ! -s "$T/unexpected.log" ] || fail "$how: unexpected daemon messages: $(cat "$T/unexpected.log")"
done
! grep -qF "$T" /proc/mounts || fail "something is still mounted under $T"

# A lazy unmount while one process holds many windows open, then that
# process exits, closing them all at once: the kernel tears the connection
# down while release requests are still being read. The daemon must exit 0
# every time (as after any unmount), not take the teardown for an error.
head -c 1M /dev/zero >"$T/small.img"
mkfifo "$T/go"
runs=10 bad=0 why=
for ((run = 1; run <= runs; run++)); do
    mount_slicefs "$M" "$T/small.img" -o layout=chunks:4K
    pid=$DAEMON_PID
    (
        for ((k = 0; k < 200; k++)); do
            # shellcheck disable=SC2034  # fd only has to stay open
            exec {fd}<>"$M/$(printf '%08d' "$k")"
        done
        echo open >"$T/holder.state"
        read -r -t 30 _ <"$T/go" || true   # a builtin: no child shares the fds
    ) &
    holder=$!
    JOBS+=("$holder")
    for ((i = 0; i < DEADLINE * 20; i++)); do
        [ -s "$T/holder.state" ] && break
        sleep 0.05
    done
    [ -s "$T/holder.state" ] || fail "the holder did not open the windows"
    rm -f "$T/holder.state"
    fusermount3 -u -z "$M" || fail "fusermount3 -u -z failed"
    forget_mount "$M"
    # shellcheck disable=SC2016  # $1 is the inner shell's
    timeout "$DEADLINE" bash -c 'echo go >"$1"' _ "$T/go" || fail "the holder is gone"
    job_ends "$holder" "the holder"
    JOBS=()
    wait_gone "$pid" || fail "lazy unmount $run: the daemon is still running $DEADLINE s after the last close"
    status=0
    wait "$pid" || status=$?
    if [ "$status" -ne 0 ]; then
        bad=$((bad + 1))
        why=$(grep -v -e '^slicefs: mounted' -e '^slicefs: backing file' -e '^slicefs: window digests ' "$DAEMON_LOG" | head -1)
    fi
done
[ "$bad" -eq 0 ] || fail "after a lazy unmount the daemon exited non-zero in $bad of $runs runs: $why"
