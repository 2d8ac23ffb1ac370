# lib.sh - shared by the integration tests; source it first:
#     . "$(dirname "$0")/lib.sh"
#
# Gives each test a fresh temporary folder ($T), starts the real daemon in the
# foreground with a log (mount_slicefs), and on EXIT unmounts everything it
# mounted, waits (with a deadline) for the daemons it started, and removes $T.
# unmount_slicefs fails the test when the daemon does not exit 0.
# Exit 77 = skipped; under CI=true a skip is a failure.

set -euo pipefail
export LC_ALL=C

: "${SLICEFS:?set SLICEFS to the slicefs binary (ctest does)}"
: "${FILEOP:?set FILEOP to the fileop helper (ctest does)}"

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-$TEST_NAME.XXXXXX")
# The daemons keep their state (per-window times) in the test's folder,
# never in the home of whoever runs the suite.
export XDG_STATE_HOME=$T/xdg-state
# And their control sockets (slicefsctl) in it too.
export XDG_RUNTIME_DIR=$T/xdg-run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
MOUNTS=()   # mount points we mounted and have not unmounted yet
PIDS=()     # daemons we started
# Seconds for any one wait: generous, since it only tells a hang from a
# slow machine (a loaded one may take many seconds for a daemon's final
# fsync); nothing waits for it to pass.
DEADLINE=${SLICEFS_TEST_DEADLINE:-60}
AS=()       # a command prefix that mount_slicefs and expect_fail_mount run
            # slicefs under (e.g. setpriv as another user); empty: as we are

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

skip() {
    if [ "${CI:-}" = true ]; then
        fail "would skip under CI: $*"
    fi
    echo "SKIP [$TEST_NAME]: $*" >&2
    exit 77
}

requires() {
    command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

is_mounted() {
    grep -q " $(realpath -m "$1") fuse" /proc/mounts
}

# Waits until the process pid has ended, at most DEADLINE seconds.
# Returns 0 when it ended, 1 on timeout.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < DEADLINE * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# wait_until DESCRIPTION COMMAND... - runs COMMAND until it succeeds; fails
# the test (naming DESCRIPTION) if it has not within DEADLINE seconds.
wait_until() {
    local what=$1 end=$((SECONDS + DEADLINE))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || fail "not within $DEADLINE s: $what"
        sleep 0.05
    done
}

# show_stuck PID - what a process that did not end (and its threads and
# children) is doing, for the log: state, wait channel, kernel stack.
show_stuck() {
    local p t
    for p in "$1" $(pgrep -P "$1"); do
        echo "--- $p: $(ps -o stat=,etime=,time=,args= -p "$p")" >&2
        for t in /proc/"$p"/task/*; do
            echo "    thread $(basename "$t") $(cat "$t/comm" 2>/dev/null): $(cat "$t/wchan" 2>/dev/null)" >&2
            sed 's/^/        /' "$t/stack" >&2 2>/dev/null || true
        done
    done
}

# job_ends PID WHAT - the background job PID must end by itself within the
# deadline (if not, where it is stuck is shown); it is reaped.
job_ends() {
    if ! wait_gone "$1"; then
        show_stuck "$1"
        fail "$2 did not end within $DEADLINE s"
    fi
    wait "$1" || true
}

JOBS=()     # background jobs of the test (not daemons): ended first

# Ends the test's background jobs (TERM, then KILL after the deadline).
stop_jobs() {
    local pid
    for pid in "${JOBS[@]+"${JOBS[@]}"}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${JOBS[@]+"${JOBS[@]}"}"; do
        if ! wait_gone "$pid"; then
            # Stuck in a request a hung daemon never answers (state D: not
            # even KILL ends it): only aborting the connection frees it.
            abort_mounts
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" || echo "cleanup: job $pid does not end" >&2
        fi
        wait "$pid" 2>/dev/null || true
    done
    JOBS=()
}

# abort_mounts - aborts the FUSE connection of every mount the test still
# has (/sys/fs/fuse/connections; fusectl mounted for it if need be): every
# request waiting on it fails, so its callers end and it can be unmounted.
# For a daemon that hangs; the test fails anyway.
abort_mounts() {
    local m dev
    for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
        dev=$(awk -v m="$(realpath -m "$m")" '$5 == m {print $3}' /proc/self/mountinfo | tail -1)
        [ -n "$dev" ] || continue
        [ -d /sys/fs/fuse/connections/"${dev#*:}" ] ||
            mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null || true
        echo 1 >/sys/fs/fuse/connections/"${dev#*:}"/abort 2>/dev/null &&
            echo "cleanup: aborted the FUSE connection of $m (its daemon hangs)" >&2
    done
}

# On exit: the jobs end, every mount is unmounted, every daemon must end
# within the deadline; then a test's own cleanup_extra (if it defines one:
# what must come after, such as the file system the backing file lies on).
cleanup() {
    local status=$? m pid
    set +e
    stop_jobs
    for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
        fusermount3 -u "$m" 2>/dev/null || {
            abort_mounts
            fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
        }
    done
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        if ! wait_gone "$pid"; then
            echo "cleanup: daemon $pid did not exit; killing it" >&2
            show_stuck "$pid"
            kill -KILL "$pid" 2>/dev/null
            status=1
        fi
    done
    if declare -F cleanup_extra >/dev/null; then
        cleanup_extra
    fi
    rm -rf "$T"
    exit "$status"
}
trap cleanup EXIT

[ -c /dev/fuse ] || skip "/dev/fuse is missing"
requires fusermount3

# mount_slicefs MOUNTPOINT ARGS... - runs "slicefs -f ARGS... MOUNTPOINT",
# waits for the mount to be live, and records the daemon's pid in
# DAEMON_PID and its log in DAEMON_LOG.
mount_slicefs() {
    local mnt=$1
    shift
    mkdir -p "$mnt"
    DAEMON_LOG="$T/daemon.$(( ${#PIDS[@]} + 1 )).log"
    "${AS[@]+"${AS[@]}"}" "$SLICEFS" -f "$@" "$mnt" >"$DAEMON_LOG" 2>&1 &
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    local i
    for ((i = 0; i < DEADLINE * 20; i++)); do
        if is_mounted "$mnt"; then
            MOUNTS+=("$mnt")
            return 0
        fi
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
            cat "$DAEMON_LOG" >&2
            fail "slicefs $* exited before mounting $mnt"
        fi
        sleep 0.05
    done
    cat "$DAEMON_LOG" >&2
    fail "slicefs did not mount $mnt within $DEADLINE s"
}

# unmount_slicefs MOUNTPOINT [PID] - unmounts, and requires the daemon
# (default: the last one started) to exit within the deadline and the mount
# to be gone. A daemon this shell started in the foreground must exit with
# status 0; one that detached (daemon_pid) is not our child, so its status
# cannot be seen.
unmount_slicefs() {
    local mnt=$1 pid=${2:-$DAEMON_PID} status=0 child=false
    [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$$" ] && child=true
    fusermount3 -u "$mnt" || fail "fusermount3 -u $mnt failed"
    forget_mount "$mnt"
    if ! wait_gone "$pid"; then
        show_stuck "$pid"
        tail -n 20 "$DAEMON_LOG" >&2 2>/dev/null || true
        fail "daemon $pid still running $DEADLINE s after unmount"
    fi
    ! is_mounted "$mnt" || fail "$mnt still mounted after fusermount3 -u"
    $child || return 0
    wait "$pid" || status=$?
    [ "$status" -eq 0 ] || { cat "$DAEMON_LOG" >&2; fail "daemon exited with status $status"; }
}

# daemon_pid PATTERN - the pid of the one daemon whose command line matches
# PATTERN (pgrep -f, an extended regular expression), for a daemon that
# detached (started without -f, or by mount): fails unless there is exactly
# one. Add it to PIDS, so that the EXIT trap waits for it.
daemon_pid() {
    local pids
    pids=$(pgrep -f -- "$1") || fail "no slicefs daemon for $1"
    [ "$(wc -l <<<"$pids")" -eq 1 ] || fail "several daemons for $1: $pids"
    echo "$pids"
}

# expect_fail_mount MOUNTPOINT PATTERN ARGS... - slicefs must refuse with
# status 1 and a message matching PATTERN, and mount nothing.
expect_fail_mount() {
    local mnt=$1 pattern=$2 status=0
    shift 2
    mkdir -p "$mnt"
    timeout "$DEADLINE" "${AS[@]+"${AS[@]}"}" "$SLICEFS" -f "$@" "$mnt" >"$T/refused.log" 2>&1 ||
        status=$?
    [ "$status" -eq 1 ] || { cat "$T/refused.log" >&2; fail "slicefs $* exited $status, expected 1"; }
    grep -Eq -- "$pattern" "$T/refused.log" ||
        { cat "$T/refused.log" >&2; fail "message for '$*' does not match '$pattern'"; }
    ! is_mounted "$mnt" || fail "slicefs $* left $mnt mounted"
}

# forget_mount MOUNTPOINT - the test unmounted it (or saw it go) itself.
forget_mount() {
    local m kept=()
    for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
        [ "$m" = "$1" ] || kept+=("$m")
    done
    MOUNTS=("${kept[@]+"${kept[@]}"}")
}

# is WANT FILEOP-ARGS... - fileop's one-line answer must be WANT.
is() {
    local want=$1 got
    shift
    got=$("$FILEOP" "$@")
    [ "$got" = "$want" ] || fail "fileop $*: got '$got', expected '$want'"
}

# extract FILE OFFSET COUNT - COUNT bytes of FILE from byte OFFSET.
extract() {
    dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=64K status=none
}

# patch FILE OFFSET COUNT BYTE - what "fileop pwrite FILE OFFSET COUNT BYTE"
# does, done to a copy.
patch() {
    head -c "$3" /dev/zero | tr '\0' "$4" |
        dd of="$1" oflag=seek_bytes seek="$2" conv=notrunc status=none
}

# wait_digests - waits (within the deadline) until the last daemon started
# has digested the windows no mount had digested (its log says so), so that
# a change outside the mount is then found window by window.
wait_digests() {
    local i
    for ((i = 0; i < DEADLINE * 20; i++)); do
        grep -q "window digests ready" "$DAEMON_LOG" && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$DAEMON_LOG" >&2
    fail "the window digests were not ready within $DEADLINE s"
}
