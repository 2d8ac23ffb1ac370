#!/bin/bash
# What runtime control costs (issue 15), in one run:
#
# (a) Latency of one command: N alternating `add c:...` / `remove c` of a
#     small window, each timed alone,
#       - through slicefsctl (its process start included; timed by the
#         shell with $EPOCHREALTIME around each call), and
#       - through a persistent client (scripts/bench/ctl_client.py: the
#         protocol spoken directly, one connection per command, no process
#         start),
#     each against `list` timed the same way (the same exchange, no change
#     published): median and p99 in ms, and the ratio of the medians.
# (b) Throughput of an unrelated window while commands run: fio on a fixed
#     window w (seq read 1M, rand read 4k, seq write 1M; psync, buffered,
#     1 job) in runs that alternate "busy" (ctl_client.py adds and removes
#     another window, not overlapping w, in a loop in the background, as
#     fast as it can: on a small machine it takes CPU from fio as well),
#     "paced" (the same loop at BENCH_PACED_RATE commands a second: what
#     the commands themselves cost the window's requests) and "idle" (no
#     commands), and the same jobs on the same bytes of the backing file
#     ("direct", the usual baseline); every run measures all four,
#     starting one further each run: medians of R runs in MB/s, each
#     condition against idle, and idle and busy against direct. The FUSE jobs start with
#     w's page cache dropped (fio's invalidate=1): reads reach the daemon;
#     the backing file stays resident (mapped and mlocked by a helper).
#
#   scripts/bench-control.sh [--smoke]
#
#   --smoke   tiny settings (N=50, R=1, 1 s, 32 MiB): checks the script
#
# Environment:
#   SLICEFS, SLICEFSCTL  the binaries ($BUILD_DIR or build/)
#   BENCH_DIR            where the scratch folder goes (${TMPDIR:-/tmp})
#   BENCH_N              commands timed per latency figure (2000)
#   BENCH_RUNS           runs of (b); figures are medians (5)
#   BENCH_RUNTIME        seconds of each rand 4k read job (5)
#   BENCH_SIZE_MB        w's length, MiB (256); the backing file is twice it
#   BENCH_PACED_RATE     commands a second of the paced loop (100)
#   BENCH_DEADLINE       seconds any one job may take (300)
#
# A benchmark, not a test: it reports, and fails only when something could
# not be measured. Everything it mounts is unmounted, and every process it
# started ended (by pid), on exit.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
started_at=$(date +%s)
usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" | sed '$d'; }

smoke=0
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench-control.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$smoke" = 1 ]; then
    : "${BENCH_N:=50}" "${BENCH_RUNS:=1}" "${BENCH_RUNTIME:=1}" "${BENCH_SIZE_MB:=32}"
fi
build=${BUILD_DIR:-$root/build}
slicefs=${SLICEFS:-$build/slicefs}
ctl=${SLICEFSCTL:-$build/slicefsctl}
n=${BENCH_N:-2000}
runs=${BENCH_RUNS:-5}
runtime=${BENCH_RUNTIME:-5}
size_mb=${BENCH_SIZE_MB:-256}
paced_rate=${BENCH_PACED_RATE:-100}
deadline=${BENCH_DEADLINE:-300}
client=$root/scripts/bench/ctl_client.py

die() { echo "bench-control.sh: $*" >&2; exit 1; }
note() { echo "bench-control: [$(($(date +%s) - started_at)) s] $*" >&2; }

for v in n runs runtime size_mb paced_rate deadline; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -eq 0 ]; then
        die "$v must be a positive integer (got '${!v}')"
    fi
done
[ -x "$slicefs" ] || die "no slicefs binary at $slicefs (build it, or set SLICEFS)"
[ -x "$ctl" ] || die "no slicefsctl binary at $ctl (build it, or set SLICEFSCTL)"
for tool in fio fusermount3 python3 cc timeout; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (\$EPOCHREALTIME)"
[ -c /dev/fuse ] || die "/dev/fuse is missing"

mib=1048576
off_b=$((size_mb * mib / 2)) # w: from the middle of the first half
len_b=$((size_mb * mib))
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/slicefs-bench-control.XXXXXX")
export XDG_STATE_HOME=$work/state XDG_RUNTIME_DIR=$work/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
backing=$work/backing.img
mnt=$work/mnt
logs=$work/logs
mkdir "$mnt" "$logs"
: >"$work/results"

PIDS=()    # started by us, not yet reaped
mounted=0
dpid=

wait_gone() { # wait_gone PID SECONDS: 0 once PID has ended, 1 at the deadline
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}
forget_pid() {
    local kept=() p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do [ "$p" = "$1" ] || kept+=("$p"); done
    PIDS=("${kept[@]+"${kept[@]}"}")
}
# stop PID: SIGTERM, then SIGKILL if still there after 10 s; reaps it.
stop() {
    if kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        wait_gone "$1" 10 || { kill -KILL "$1" 2>/dev/null || true; }
    fi
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}
cleanup() {
    local status=$? p
    set +e
    trap - EXIT INT TERM
    # The command loop first (it uses the mount), the daemon last.
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        [ "$p" = "$dpid" ] || stop "$p"
    done
    if [ "$mounted" = 1 ]; then
        fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
    fi
    if [ -n "$dpid" ]; then
        wait_gone "$dpid" 30 || note "daemon $dpid still running 30 s after unmount"
        stop "$dpid"
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
p99() { sort -n | awk '{a[NR] = $1} END {if (NR) {i = int(NR * 0.99 + 0.999); if (i > NR) i = NR; print a[i]}}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f\n", a / b}'; }

# --- setup ---------------------------------------------------------------------

note "a $((2 * size_mb)) MiB backing file in $work"
head -c $((2 * size_mb * mib)) /dev/urandom >"$backing"
cc -O2 -o "$work/mlock_file" "$root/scripts/bench/mlock_file.c"
"$work/mlock_file" lock "$backing" >"$logs/lock.out" 2>"$logs/lock.err" &
PIDS+=("$!")
for ((i = 0; i < deadline * 10; i++)); do
    grep -qs '^locked' "$logs/lock.out" && break
    sleep 0.1
done
grep -q '^locked' "$logs/lock.out" || die "the page locker did not lock the backing file"
[ ! -s "$logs/lock.err" ] || note "warning: $(cat "$logs/lock.err")"

# w for fio; the commands add and remove c, a page at the start, far from w.
"$slicefs" -f "$backing" "$mnt" -o "window=w:$off_b:$len_b" >"$logs/daemon.log" 2>&1 &
dpid=$!
PIDS+=("$dpid")
for ((i = 0; i < 400; i++)); do
    grep -qs " $mnt fuse" /proc/mounts && { mounted=1; break; }
    kill -0 "$dpid" 2>/dev/null || { cat "$logs/daemon.log" >&2; die "slicefs exited before mounting"; }
    sleep 0.05
done
[ "$mounted" = 1 ] || die "slicefs did not mount within 20 s"
small="0:4096"

# --- (a) latency -----------------------------------------------------------------

note "(a) $n commands through slicefsctl, then $n list"
for ((i = 0; i < 2 * n; i++)); do
    if ((i >= n)); then
        args=(list)
    elif ((i % 2 == 0)); then
        args=(add "c:$small")
    else
        args=(remove c)
    fi
    t0=$EPOCHREALTIME
    "$ctl" "$mnt" "${args[@]}" >/dev/null || die "slicefsctl ${args[*]} failed"
    t1=$EPOCHREALTIME
    echo "${args[0]} $((${t1/./} - ${t0/./}))" >>"$work/lat.ctl"
done
((n % 2 == 0)) || "$ctl" "$mnt" remove c
note "(a) $n commands through the persistent client, then $n list"
python3 "$client" latency "$mnt" "$n" c "$small" >"$work/lat.py" || die "ctl_client.py latency failed"

# lat FILE OPS FUNC: FUNC (median, p99) of the ms of FILE's lines whose op is in OPS.
lat() { awk -v ops=" $2 " 'index(ops, " " $1 " ") {printf "%.3f\n", $2 / 1000}' "$1" | "$3"; }

# --- (b) throughput ----------------------------------------------------------------

# fio_job FILE OFFSET INVALIDATE RW BS [options]: prints MB/s (terse v3).
fio_job() {
    local file=$1 off=$2 inval=$3 rw=$4 bs=$5 line
    shift 5
    line=$(timeout -k 10 "$deadline" fio --name=bench --filename="$file" --rw="$rw" --bs="$bs" \
        --offset="$off" --size="$len_b" --ioengine=psync --direct=0 --numjobs=1 \
        --invalidate="$inval" --fallocate=none --allow_file_create=0 \
        --output-format=terse --terse-version=3 "$@" 2>>"$logs/fio.err" | grep '^3;') || return 1
    case $rw in
    write) awk -F';' '{printf "%.1f\n", $48 / 1024 * 1.048576}' <<<"$line" ;;
    *) awk -F';' '{printf "%.1f\n", $7 / 1024 * 1.048576}' <<<"$line" ;;
    esac
}

failures=0
# measure RUN COND: the three jobs on w (busy, paced, idle) or on the
# backing file (direct).
measure() {
    local run=$1 cond=$2 file=$mnt/w off=0 inval=1 job value loop='' rate
    if [ "$cond" = direct ]; then
        file=$backing off=$off_b inval=0
    fi
    if [ "$cond" = busy ] || [ "$cond" = paced ]; then
        rate=0
        [ "$cond" = busy ] || rate=$paced_rate
        python3 "$client" loop "$mnt" c "$small" "$rate" >"$logs/loop.$cond.$run" 2>&1 &
        loop=$!
        PIDS+=("$loop")
        sleep 0.2 # under way
    fi
    for job in seq_read rand_read seq_write; do
        case $job in
        seq_read) value=$(fio_job "$file" "$off" "$inval" read 1M) ;;
        rand_read) value=$(fio_job "$file" "$off" "$inval" randread 4k --time_based --runtime="$runtime") ;;
        seq_write) value=$(fio_job "$file" "$off" "$inval" write 1M) ;;
        esac || { note "FAILED: $job $cond (run $run)"; tail -n 5 "$logs/fio.err" >&2; failures=$((failures + 1)); continue; }
        echo "$job $cond $run $value" >>"$work/results"
        sync "$backing" # not timed: no dirty pages carried into the next job
    done
    if [ -n "$loop" ]; then
        stop "$loop"
        awk -v c="$cond" -v run="$run" '$1 == "commands" {print "rate", c, run, $2 / $4}' \
            "$logs/loop.$cond.$run" >>"$work/results"
        if ! grep -q '^commands' "$logs/loop.$cond.$run"; then
            cat "$logs/loop.$cond.$run" >&2
            note "FAILED: the $cond command loop (run $run)"
            failures=$((failures + 1))
        fi
    fi
}

conds=(direct idle paced busy)
for ((run = 1; run <= runs; run++)); do
    for ((k = 0; k < ${#conds[@]}; k++)); do
        cond=${conds[(k + run - 1) % ${#conds[@]}]}
        note "(b) run $run/$runs: $cond"
        measure "$run" "$cond"
    done
done
"$ctl" "$mnt" list >"$work/final.list" || die "slicefsctl list at the end"
[ "$(wc -l <"$work/final.list")" = 1 ] || die "windows left over: $(cat "$work/final.list")"

# --- the table -------------------------------------------------------------------

fig() { awk -v j="$1" -v c="$2" '$1 == j && $2 == c {print $4}' "$work/results" | median; }
echo
echo "# (a) latency of one command, ms ($n add/remove alternating; $n list as the baseline)"
echo "| client | add/remove median | p99 | list median | p99 | add/remove / list (medians) |"
echo "|---|---|---|---|---|---|"
for c in ctl py; do
    label="slicefsctl (process start included)"
    [ "$c" = ctl ] || label="persistent client (no process start)"
    m=$(lat "$work/lat.$c" "add remove" median)
    lm=$(lat "$work/lat.$c" list median)
    echo "| $label | $m | $(lat "$work/lat.$c" "add remove" p99) | $lm | $(lat "$work/lat.$c" list p99) | $(ratio "$m" "$lm") |"
done
echo
echo "# (b) fio on w ($size_mb MiB) while commands run, MB/s, medians of $runs runs"
echo "| job | direct | idle | paced | busy | paced / idle | busy / idle | idle / direct | busy / direct |"
echo "|---|---|---|---|---|---|---|---|---|"
for job in seq_read rand_read seq_write; do
    d=$(fig "$job" direct) i=$(fig "$job" idle) p=$(fig "$job" paced) b=$(fig "$job" busy)
    label=${job/_/ }
    [ "$job" != rand_read ] || label="rand 4k read"
    echo "| $label | $d | $i | $p | $b | $(ratio "$p" "$i") | $(ratio "$b" "$i") |" \
        "$(ratio "$i" "$d") | $(ratio "$b" "$d") |"
done
echo
printf 'commands a second in the background (medians): busy %.0f, paced %.0f (asked %s)\n' \
    "$(fig rate busy)" "$(fig rate paced)" "$paced_rate"
note "done"
[ "$failures" -eq 0 ] || { note "$failures measurement(s) failed"; exit 1; }
