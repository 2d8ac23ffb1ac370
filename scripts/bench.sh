#!/bin/bash
# The whole speed comparison of SPEC section 6, in one run: the same bytes
# read and written through slicefs (each cache mode), through libfuse's
# passthrough_ll example, and directly on the backing file. Prints one table
# of medians, each with its ratio to the direct path measured in the same run.
#
#   scripts/bench.sh [--smoke] [--png FILE]
#
#   --smoke      tiny sizes (16 MiB window, 1 run, 1 s): checks the script
#   --png FILE   also draw the ratios with gnuplot (installs gnuplot-nox if
#                it is missing)
#
# A scratch backing file of BENCH_FILE_MB MiB is created and kept resident
# (mapped and mlocked by a helper); the window is BENCH_SIZE_MB MiB at
# BENCH_OFFSET_MB MiB. fio, ioengine=psync, buffered, 1 job:
#   seq read first  1 MiB reads of the window, the FUSE file's cache empty
#                   (fresh mount) and the backing pages in memory
#   seq re-read     the same again on the same mount
#   rand 4k read    IOPS for BENCH_RUNTIME s, from a fresh mount
#   seq write       1 MiB writes over the window, from a fresh mount (then
#                   fsync, not timed); fio opens O_RDWR
#   dd write        dd bs=1M conv=notrunc over the window on the same mount:
#                   O_WRONLY, as cp and dd of= write (then sync, not timed)
#   stat            ns per stat() of the window (the backing file for direct):
#                   the median of 10 batches' means
#   cold read       dd of the window, backing pages dropped (fadvise DONTNEED,
#                   no mlock): slicefs vs dd of the same bytes of the file
#   mount ms, peak RSS   scripts/bench-chunks.sh: 1,048,576 chunks vs 1
#   ls -l 100k entries   the same script: ls -l of 100,000 windows vs
#                   100,000 empty files in the scratch folder's file system
# passthrough_ll is compiled on the fly from libfuse3-dev's examples (or
# taken from BENCH_LIBFUSE_PREFIX/bin) and pointed at the folder holding the
# backing file; fio reads the same range of the same file through it
# (offset=, size=), as for the direct path.
# The floor: scripts/bench/minimal_ll.c, compiled on the fly against the same
# libfuse, is the smallest server that replies from a mapping (min-auto:
# keep_cache, min-never: direct I/O); "vs min" is each slicefs row against it
# (same cache mode; higher is better, stat inverted): below 1.00 is a cost of
# our own.
# Each run measures every path once, starting one path further each run.
# The issue's targets are checked on slicefs-auto (the default mode), plus
# rand 4k read on slicefs-never, and mount time and RSS of 1,048,576 chunks.
#
# Environment (defaults are the issue's; --smoke lowers the sizes):
#   SLICEFS            slicefs binary ($BUILD_DIR/slicefs, else build/slicefs)
#   BENCH_DIR          where the scratch folder goes (${TMPDIR:-/tmp}); a disk
#                      file system, for the cold read; no spaces in the path
#   BENCH_FILE_MB      backing file size, MiB (4096)
#   BENCH_OFFSET_MB    window offset, MiB (1024)
#   BENCH_SIZE_MB      window length, MiB (1024)
#   BENCH_RUNS         runs; figures are medians (3)
#   BENCH_RUNTIME      seconds of each random-read job (10)
#   BENCH_STAT_N       stat() calls per stat figure, at most 2 s of them (200000)
#   BENCH_MODES        slicefs cache modes ("auto always never")
#   BENCH_PT_MODES     passthrough_ll cache modes ("auto never always"; "" = none)
#   BENCH_MIN_MODES    minimal_ll cache modes ("auto never"; "" = none)
#   BENCH_LIBFUSE_PREFIX  the libfuse slicefs was built with, if not the
#                      system's (scripts/libfuse-3.18.sh's folder): minimal_ll
#                      and passthrough_ll use it too
#   BENCH_FUSE_OPTS    more options for every FUSE daemon, e.g. "-o io_uring"
#   BENCH_ALT_SLICEFS  a second slicefs binary to compare in the same run
#   BENCH_ALT_NAME     its label ("alt"); BENCH_ALT_MODES its modes ("auto never")
#   BENCH_COLD         0 skips the cold read (1)
#   BENCH_CHUNKS       0 skips scripts/bench-chunks.sh (1)
#   BENCH_DEADLINE     seconds any one job may take (300)
#   BENCH_RAW          a file to keep the per-run figures in
#
# A benchmark, not a test: missed targets are reported, never an error. The
# status is non-zero only when something could not be measured at all.
# Everything it mounts is unmounted, and the processes it started ended (by
# pid), on exit.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
started_at=$(date +%s)

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" | sed '$d'; }

smoke=0
png=
while [ $# -gt 0 ]; do
    case $1 in
    --smoke) smoke=1 ;;
    --png)
        [ $# -ge 2 ] || { echo "bench.sh: --png needs a FILE" >&2; exit 2; }
        png=$2
        shift
        ;;
    --png=*) png=${1#--png=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -z "$png" ] || png=$(realpath -m "$png")

if [ "$smoke" = 1 ]; then
    : "${BENCH_FILE_MB:=64}" "${BENCH_OFFSET_MB:=16}" "${BENCH_SIZE_MB:=16}"
    : "${BENCH_RUNS:=1}" "${BENCH_RUNTIME:=1}" "${BENCH_STAT_N:=5000}"
fi
slicefs=${SLICEFS:-${BUILD_DIR:-$root/build}/slicefs}
file_mb=${BENCH_FILE_MB:-4096}
offset_mb=${BENCH_OFFSET_MB:-1024}
size_mb=${BENCH_SIZE_MB:-1024}
runs=${BENCH_RUNS:-3}
runtime=${BENCH_RUNTIME:-10}
stat_n=${BENCH_STAT_N:-200000}
modes=${BENCH_MODES-auto always never}
pt_modes=${BENCH_PT_MODES-auto never always}
min_modes=${BENCH_MIN_MODES-auto never}
libfuse_prefix=${BENCH_LIBFUSE_PREFIX:-}
read -ra fuse_opts <<<"${BENCH_FUSE_OPTS:-}"
alt=${BENCH_ALT_SLICEFS:-}
alt_name=${BENCH_ALT_NAME:-alt}
alt_modes=${BENCH_ALT_MODES-auto never}
first_mode=${modes%% *}
first_mode=${first_mode:-auto}
do_cold=${BENCH_COLD:-1}
do_chunks=${BENCH_CHUNKS:-1}
deadline=${BENCH_DEADLINE:-300}
pt_source=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c

die() { echo "bench.sh: $*" >&2; exit 1; }
note() { echo "bench: [$(($(date +%s) - started_at)) s] $*" >&2; }

for v in file_mb offset_mb size_mb runs runtime stat_n deadline; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || [ "$v" = offset_mb ] ||
        die "$v must be a positive integer (got '${!v}')"
done
[[ $offset_mb =~ ^[0-9]+$ ]] || die "BENCH_OFFSET_MB must be an integer"
[ $((offset_mb + size_mb)) -le "$file_mb" ] || die "the window does not fit in the backing file"
[ -x "$slicefs" ] || die "no slicefs binary at $slicefs (build it, or set SLICEFS)"
[ -z "$alt" ] || [ -x "$alt" ] || die "no binary at BENCH_ALT_SLICEFS=$alt"
[[ $alt_name =~ ^[A-Za-z0-9_.+-]+$ ]] || die "BENCH_ALT_NAME must be one word"
for tool in fio fusermount3 cc timeout dd; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -c /dev/fuse ] || die "/dev/fuse is missing"

mib=1048576
off_b=$((offset_mb * mib))
len_b=$((size_mb * mib))

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/slicefs-bench.XXXXXX")
# The daemons keep their state (per-window times) here, not in $HOME.
export XDG_STATE_HOME=$work/state
data=$work/data
mnt=$work/mnt
bin=$work/bin
logs=$work/logs
results=$work/results
backing=$data/backing.img
mkdir "$data" "$mnt" "$bin" "$logs"
: >"$results"

MOUNTS=() # mounted by us, not yet unmounted
PIDS=()   # started by us, not yet reaped
failures=0

# wait_gone PID SECONDS: 0 once PID has ended, 1 at the deadline.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

forget() { # forget LIST VALUE: drops VALUE from the array LIST
    local -n list=$1
    local kept=() x
    for x in "${list[@]}"; do [ "$x" = "$2" ] || kept+=("$x"); done
    list=("${kept[@]+"${kept[@]}"}")
}

# stop PID: SIGTERM, then SIGKILL if it is still there after 10 s; reaps it.
stop() {
    local pid=$1
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 10; then
            note "process $pid ignored SIGTERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    forget PIDS "$pid"
}

cleanup() {
    local status=$? m pid
    set +e
    trap - EXIT INT TERM
    for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
        fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
    done
    # Daemons end by themselves once unmounted; the locker needs a signal.
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        if ! wait_gone "$pid" 10; then
            kill -TERM "$pid" 2>/dev/null
            wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

is_mounted() { grep -qs " $1 fuse" /proc/mounts; }

# --- helpers compiled on the fly -------------------------------------------

cc -O2 -o "$bin/mlock_file" "$root/scripts/bench/mlock_file.c"
cc -O2 -o "$bin/stat_loop" "$root/scripts/bench/stat_loop.c"
# The libfuse slicefs runs on: the system's, or a static one in a folder.
fuse_pc() {
    if [ -n "$libfuse_prefix" ]; then
        PKG_CONFIG_PATH=$libfuse_prefix/lib/pkgconfig pkg-config --static --cflags --libs fuse3
    else
        pkg-config --cflags --libs fuse3
    fi
}
minimal=
if [ -n "$min_modes" ]; then
    read -ra fuse_flags <<<"$(fuse_pc)"
    cc -O2 -o "$bin/minimal_ll" "$root/scripts/bench/minimal_ll.c" "${fuse_flags[@]}" ||
        die "scripts/bench/minimal_ll.c did not compile"
    minimal=$bin/minimal_ll
fi
pt=
if [ -n "$pt_modes" ] && [ -n "$libfuse_prefix" ]; then
    if [ -x "$libfuse_prefix/bin/passthrough_ll" ]; then
        pt=$libfuse_prefix/bin/passthrough_ll
    else
        note "no $libfuse_prefix/bin/passthrough_ll: passthrough_ll left out"
    fi
elif [ -n "$pt_modes" ]; then
    if [ ! -r "$pt_source" ]; then
        note "no $pt_source (libfuse3-dev): passthrough_ll left out"
    elif ! command -v pkg-config >/dev/null; then
        note "no pkg-config: passthrough_ll left out"
    elif read -ra fuse_flags <<<"$(pkg-config --cflags --libs fuse3)" &&
        cc -O2 -o "$bin/passthrough_ll" "$pt_source" "${fuse_flags[@]}" \
            2>"$logs/passthrough_ll.cc"; then
        pt=$bin/passthrough_ll
    else
        cat "$logs/passthrough_ll.cc" >&2
        note "passthrough_ll did not compile: left out"
    fi
fi

# --- the paths compared -------------------------------------------------------
# Each is "KIND MODE LABEL"; KIND is direct, slicefs, alt or pt.

PATHS=("direct - direct")
for m in $modes; do PATHS+=("slicefs $m slicefs-$m"); done
if [ -n "$minimal" ]; then
    for m in $min_modes; do PATHS+=("min $m min-$m"); done
fi
if [ -n "$alt" ]; then
    for m in $alt_modes; do PATHS+=("alt $m $alt_name-$m"); done
fi
if [ -n "$pt" ]; then
    for m in $pt_modes; do PATHS+=("pt $m pt_ll-$m"); done
fi
for p in "${PATHS[@]}"; do
    read -r kind mode _ <<<"$p"
    case $kind:$mode in
    direct:- | slicefs:auto | slicefs:always | slicefs:never | alt:auto | alt:always | alt:never | \
        pt:auto | pt:always | pt:never | min:auto | min:never) ;;
    *) die "unknown cache mode '$mode' in $p" ;;
    esac
done

# --- mounting -------------------------------------------------------------------

DPID=       # the daemon serving $mnt
TARGET=     # the file a measurement reads
TARGET_OFF= # where the window's bytes start in TARGET

# fuse_mount KIND MODE: mounts $mnt and sets DPID, TARGET and TARGET_OFF.
fuse_mount() {
    local kind=$1 mode=$2 log=$logs/$1-$2.log i
    case $kind in
    slicefs | alt)
        local exe=$slicefs
        [ "$kind" = slicefs ] || exe=$alt
        "$exe" -f "$backing" "$mnt" -o "window=w:$off_b:$len_b" -o "cache=$mode" \
            "${fuse_opts[@]+"${fuse_opts[@]}"}" >>"$log" 2>&1 &
        TARGET=$mnt/w
        TARGET_OFF=0
        ;;
    min)
        "$minimal" "$backing" "$off_b" "$len_b" "$mnt" -f -o "cache=$mode" \
            "${fuse_opts[@]+"${fuse_opts[@]}"}" >>"$log" 2>&1 &
        TARGET=$mnt/w
        TARGET_OFF=0
        ;;
    pt)
        "$pt" -f -o "source=$data" -o "cache=$mode" "${fuse_opts[@]+"${fuse_opts[@]}"}" "$mnt" \
            >>"$log" 2>&1 &
        TARGET=$mnt/backing.img
        TARGET_OFF=$off_b
        ;;
    esac
    DPID=$!
    PIDS+=("$DPID")
    for ((i = 0; i < 400; i++)); do
        if is_mounted "$mnt"; then
            MOUNTS+=("$mnt")
            return 0
        fi
        kill -0 "$DPID" 2>/dev/null || { cat "$log" >&2; die "$kind cache=$mode exited before mounting"; }
        sleep 0.05
    done
    cat "$log" >&2
    die "$kind cache=$mode did not mount within 20 s"
}

fuse_unmount() {
    local i
    for ((i = 0; ; i++)); do
        fusermount3 -u "$mnt" 2>/dev/null && break
        [ "$i" -lt 50 ] || { fusermount3 -u -z "$mnt" || true; break; }
        sleep 0.1 # busy: a reader still closing
    done
    forget MOUNTS "$mnt"
    wait_gone "$DPID" 20 || note "daemon $DPID still running 20 s after unmount"
    stop "$DPID"
}

# --- measuring --------------------------------------------------------------------

# fio_job RW BS [fio options...]: one fio job on TARGET over the window's
# bytes; prints fio's terse (version 3) line.
fio_job() {
    local rw=$1 bs=$2
    shift 2
    timeout -k 10 "$deadline" fio --name=bench --filename="$TARGET" --rw="$rw" --bs="$bs" \
        --offset="$TARGET_OFF" --size="$len_b" --ioengine=psync --direct=0 --numjobs=1 \
        --invalidate=0 --fallocate=none --allow_file_create=0 \
        --output-format=terse --terse-version=3 "$@" 2>>"$logs/fio.err" | grep '^3;'
}

RUN=0
record() { echo "$1 $2 $RUN $3" >>"$results"; }

# measure MEASURE LABEL COMMAND...: runs COMMAND, records its output; a
# failure is reported and counted, and the run goes on.
measure() {
    local m=$1 label=$2 value
    shift 2
    if value=$("$@") && [[ $value =~ ^[0-9.]+$ ]]; then
        record "$m" "$label" "$value"
    else
        note "FAILED: $m on $label (run $RUN); see the lines above"
        tail -n 5 "$logs/fio.err" >&2 2>/dev/null || true
        failures=$((failures + 1))
    fi
}

seq_read() { fio_job read 1M | awk -F';' '{printf "%.1f\n", $7 / 1024}'; }
rand_read() {
    fio_job randread 4k --time_based --runtime="$runtime" | awk -F';' '{print $8}'
}
seq_write() {
    fio_job write 1M | awk -F';' '{printf "%.1f\n", $48 / 1024}'
    sync "$backing" # not timed: keeps dirty pages from piling up across jobs
}
stat_ns() { "$bin/stat_loop" "$TARGET" "$stat_n" 2; }
dd_write() {
    local start end
    start=$(date +%s%N)
    timeout -k 10 "$deadline" dd if=/dev/zero of="$TARGET" bs=1M seek=$((TARGET_OFF / mib)) \
        count="$size_mb" conv=notrunc status=none
    end=$(date +%s%N)
    awk -v mb="$size_mb" -v ns=$((end - start)) 'BEGIN {printf "%.1f\n", mb / (ns / 1e9)}'
    sync "$backing"
}

# measure_path KIND MODE LABEL: every fio figure and the stat figure.
measure_path() {
    local kind=$1 mode=$2 label=$3 fuse=1
    [ "$kind" != direct ] || fuse=0
    note "run $RUN/$runs: $label"
    if [ "$fuse" = 1 ]; then
        fuse_mount "$kind" "$mode"
    else
        TARGET=$backing
        TARGET_OFF=$off_b
    fi
    measure seq_first "$label" seq_read
    measure seq_reread "$label" seq_read
    measure stat "$label" stat_ns
    if [ "$fuse" = 1 ]; then # an empty FUSE cache again
        fuse_unmount
        fuse_mount "$kind" "$mode"
    fi
    measure rand4k "$label" rand_read
    if [ "$fuse" = 1 ]; then # writes, too, from a fresh mount
        fuse_unmount
        fuse_mount "$kind" "$mode"
    fi
    measure seq_write "$label" seq_write
    measure dd_write "$label" dd_write
    [ "$fuse" = 0 ] || fuse_unmount
}

# dd_mibs FILE SKIP_MIB: MiB/s of dd reading the window's size from FILE.
dd_mibs() {
    local start end
    start=$(date +%s%N)
    timeout -k 10 "$deadline" dd if="$1" of=/dev/null bs=1M skip="$2" count="$size_mb" status=none
    end=$(date +%s%N)
    awk -v mb="$size_mb" -v ns=$((end - start)) 'BEGIN {printf "%.1f\n", mb / (ns / 1e9)}'
}

# drop_backing: the backing file's pages out of memory (nothing maps it now).
drop_backing() {
    local left
    left=$("$bin/mlock_file" drop "$backing")
    if awk -v l="$left" 'BEGIN {exit !(l > 5)}'; then
        note "warning: $left% of the backing file still in memory after DONTNEED"
    fi
}

# --- setup --------------------------------------------------------------------------

note "creating a ${file_mb} MiB backing file in $data"
dd if=/dev/zero of="$backing" bs=1M count="$file_mb" conv=fsync status=none

"$bin/mlock_file" lock "$backing" >"$logs/lock.out" 2>"$logs/lock.err" &
locker=$!
PIDS+=("$locker")
for ((i = 0; i < deadline * 10; i++)); do
    grep -qs '^locked' "$logs/lock.out" && break
    kill -0 "$locker" 2>/dev/null || { cat "$logs/lock.err" >&2; die "the page locker exited"; }
    sleep 0.1
done
grep -q '^locked' "$logs/lock.out" || die "the page locker did not finish within $deadline s"
lock_note="mlocked"
if [ -s "$logs/lock.err" ]; then
    cat "$logs/lock.err" >&2
    lock_note="mapped, NOT mlocked"
fi
resident_before=$("$bin/mlock_file" resident "$backing")

note "warm-up"
RUN=0
TARGET=$backing TARGET_OFF=$off_b
fio_job read 1M >/dev/null
fuse_mount slicefs "$first_mode"
fio_job read 1M >/dev/null
fuse_unmount
if [ -n "$pt" ]; then
    fuse_mount pt auto
    fio_job read 1M >/dev/null
    fuse_unmount
fi

# --- the runs: every path once per run, starting one further on each run ----------

for ((RUN = 1; RUN <= runs; RUN++)); do
    n=${#PATHS[@]}
    for ((k = 0; k < n; k++)); do
        read -r kind mode label <<<"${PATHS[(k + RUN - 1) % n]}"
        measure_path "$kind" "$mode" "$label"
    done
done
resident_after=$("$bin/mlock_file" resident "$backing")

# --- cold data: no mlock, pages dropped -------------------------------------------

cold_label=
if [ "$do_cold" = 1 ]; then
    stop "$locker"
    cold_mode=$first_mode
    cold_label=slicefs-$cold_mode
    for ((RUN = 1; RUN <= runs; RUN++)); do
        note "run $RUN/$runs: cold read, direct and $cold_label"
        drop_backing
        TARGET=$backing
        measure cold direct dd_mibs "$backing" "$offset_mb"
        drop_backing
        fuse_mount slicefs "$cold_mode"
        measure cold "$cold_label" dd_mibs "$TARGET" 0
        fuse_unmount
    done
fi

# --- mount time and peak RSS: 1,048,576 chunks vs 1 --------------------------------

if [ "$do_chunks" = 1 ]; then
    note "scripts/bench-chunks.sh $runs"
    if SLICEFS=$slicefs timeout -k 10 "$deadline" "$root/scripts/bench-chunks.sh" "$runs" \
        >"$logs/chunks.out" 2>"$logs/chunks.err"; then
        RUN=median
        while read -r size count mount_ms rss _; do
            case $size in
            1T) record mount_ms 1-chunk "$mount_ms"; record rss_kib 1-chunk "$rss" ;;
            1M) record mount_ms "$count-chunks" "$mount_ms"; record rss_kib "$count-chunks" "$rss" ;;
            esac
        done < <(awk 'NR > 1 {print $1, $2, $3, $4, $5}' "$logs/chunks.out")
        # ls -l of 100,000 entries: windows, and files on the scratch file system.
        ls_windows=$(awk '$1 == "slicefs" && $2 == "windows" {print $3}' "$logs/chunks.out")
        ls_files=$(awk '$1 == "files" && $2 == "on" {print $4}' "$logs/chunks.out")
        [ -z "$ls_files" ] || record ls_100k files "$ls_files"
        [ -z "$ls_windows" ] || record ls_100k windows "$ls_windows"

    else
        cat "$logs/chunks.err" >&2
        note "FAILED: scripts/bench-chunks.sh"
        failures=$((failures + 1))
    fi
fi

# --- the table ----------------------------------------------------------------------

median_of() { # median_of MEASURE LABEL
    awk -v m="$1" -v p="$2" '$1 == m && $2 == p {print $4}' "$results" | sort -g |
        awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}

# target MEASURE LABEL: the issue's target for this figure, if it has one.
target() {
    case $1:$2 in
    seq_first:slicefs-auto) echo ">=0.50" ;;
    seq_reread:slicefs-auto) echo ">=0.90" ;;
    rand4k:slicefs-auto) echo ">=0.35" ;;
    rand4k:slicefs-never) echo ">=0.10" ;;
    seq_write:slicefs-auto) echo ">=0.50" ;;
    dd_write:slicefs-auto) echo ">=0.50" ;;
    stat:slicefs-auto) echo "<=1.20" ;;
    mount_ms:*-chunks | rss_kib:*-chunks) echo "<=1.20" ;;
    ls_100k:windows) echo "<=2.00" ;;
    esac
}

title_of() {
    case $1 in
    seq_first) echo "seq read first" ;;
    seq_reread) echo "seq re-read" ;;
    rand4k) echo "rand 4k read" ;;
    seq_write) echo "seq write" ;;
    dd_write) echo "dd write" ;;
    stat) echo "stat" ;;
    cold) echo "cold read (dd)" ;;
    mount_ms) echo "mount (chunks)" ;;
    rss_kib) echo "peak RSS (chunks)" ;;
    ls_100k) echo "ls -l 100k entries" ;;
    esac
}

unit_of() {
    case $1 in
    rand4k) echo IOPS ;;
    stat) echo ns/call ;;
    mount_ms | ls_100k) echo ms ;;
    rss_kib) echo KiB ;;
    *) echo MiB/s ;;
    esac
}

labels() { # every label that has figures for MEASURE, in PATHS order
    local p
    if [ "$1" = mount_ms ] || [ "$1" = rss_kib ]; then
        printf '%s\n' 1-chunk 1048576-chunks
        return
    fi
    if [ "$1" = ls_100k ]; then
        printf '%s\n' files windows
        return
    fi
    for p in "${PATHS[@]}"; do
        read -r _ _ label <<<"$p"
        echo "$label"
    done
}

# vs_min MEASURE LABEL: a slicefs (or alt) row against minimal_ll in the
# same cache mode (always: against min-auto); "" where there is none.
vs_min() {
    local mode=${2##*-} a b
    case $2 in slicefs-* | "$alt_name"-*) ;; *) return 0 ;; esac
    [ "$mode" != always ] || mode=auto
    a=$(median_of "$1" "$2")
    b=$(median_of "$1" "min-$mode")
    [ -n "$a" ] && [ -n "$b" ] || return 0
    awk -v a="$a" -v b="$b" -v inv="$([ "$1" = stat ] && echo 1 || echo 0)" \
        'BEGIN {r = inv ? (a > 0 ? b / a : 0) : (b > 0 ? a / b : 0); printf("%.2f", r)}'
}

met=0
missed=0
chart_rows=()
table() {
    local m label base med ratio tgt verdict row vsmin
    printf '# slicefs benchmark: %s MiB window at %s MiB of a %s MiB backing file (%s, %s%% resident before, %s%% after)\n' \
        "$size_mb" "$offset_mb" "$file_mb" "$lock_note" "$resident_before" "$resident_after"
    printf '# fio psync buffered 1 job; seq bs=1M, rand bs=4k for %s s; medians of %s run(s); %s; kernel %s\n' \
        "$runtime" "$runs" "$(fio --version)" "$(uname -r)"
    printf '# %s; FUSE options: %s; fs.fuse.max_pages_limit %s\n' "$("$slicefs" --version)" \
        "${BENCH_FUSE_OPTS:-none}" "$(cat /proc/sys/fs/fuse/max_pages_limit 2>/dev/null || echo -)"
    printf '# ratio = median / median of the direct path (mount, peak RSS: of 1 chunk; ls -l: of files); stat, mount, RSS, ls: lower is better\n'
    printf '# vs min = the row against min-MODE of the same cache mode (higher is better, stat inverted)\n'
    printf '%-18s %-16s %12s %-8s %7s %7s  %s\n' measure path median unit ratio "vs min" target
    for m in seq_first seq_reread rand4k seq_write dd_write stat cold mount_ms rss_kib ls_100k; do
        base=$(median_of "$m" "$(labels "$m" | head -n 1)")
        [ -n "$base" ] || continue
        row=$(title_of "$m")
        for label in $(labels "$m"); do
            med=$(median_of "$m" "$label")
            [ -n "$med" ] || continue
            ratio=$(awk -v a="$med" -v b="$base" 'BEGIN {r = b > 0 ? a / b : 0; printf(r < 0.1 ? "%.3f" : "%.2f", r)}')
            tgt=$(target "$m" "$label")
            verdict=
            if [ -n "$tgt" ]; then
                if awk -v r="$ratio" -v t="${tgt:2}" -v op="${tgt:0:2}" \
                    'BEGIN {exit !(op == ">=" ? r >= t : r <= t)}'; then
                    verdict="$tgt met"
                    met=$((met + 1))
                else
                    verdict="$tgt MISSED"
                    missed=$((missed + 1))
                fi
            fi
            case $(unit_of "$m") in
            IOPS | ms | KiB) med=$(printf '%.0f' "$med") ;;
            *) med=$(printf '%.1f' "$med") ;;
            esac
            vsmin=$(vs_min "$m" "$label")
            printf '%-18s %-16s %12s %-8s %7s %7s  %s\n' "$(title_of "$m")" "$label" "$med" \
                "$(unit_of "$m")" "$ratio" "$vsmin" "$verdict"
            # The chart: every ratio higher-is-better (stat inverted).
            if [ "$m" != mount_ms ] && [ "$m" != rss_kib ] && [ "$m" != ls_100k ]; then
                [ "$m" != stat ] || ratio=$(awk -v a="$med" -v b="$base" 'BEGIN {printf("%.3f", (a > 0 ? b / a : 0))}')
                chart_rows+=("$m $label $ratio")
            fi
        done
    done
}
table
echo "# targets: $met met, $missed missed; elapsed $(($(date +%s) - started_at)) s"
[ -z "${BENCH_RAW:-}" ] || cp "$results" "$BENCH_RAW"

# --- the chart ------------------------------------------------------------------------

chart() {
    if ! command -v gnuplot >/dev/null; then
        note "installing gnuplot-nox"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >"$logs/apt.log" 2>&1 ||
            { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$logs/apt.log" 2>&1 &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >>"$logs/apt.log" 2>&1; } ||
            { cat "$logs/apt.log" >&2; return 1; }
    fi
    local dat=$work/chart.dat m label p cols=() row line rm rl rv r any
    for p in "${PATHS[@]}"; do
        read -r _ _ label <<<"$p"
        cols+=("$label")
    done
    {
        printf '"measure"'
        printf ' "%s"' "${cols[@]}"
        echo
        for m in seq_first seq_reread rand4k seq_write dd_write stat cold; do
            case $m in
            stat) line='"stat (direct ns / ns)"' ;;
            *) line="\"$(title_of "$m")\"" ;;
            esac
            any=0
            for label in "${cols[@]}"; do
                r=-
                for row in "${chart_rows[@]+"${chart_rows[@]}"}"; do
                    read -r rm rl rv <<<"$row"
                    if [ "$rm" = "$m" ] && [ "$rl" = "$label" ]; then r=$rv any=1; fi
                done
                line+=" $r"
            done
            [ "$any" = 0 ] || echo "$line"
        done
    } >"$dat"
    cat >"$work/chart.gp" <<EOF
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1400,650 font ",10"
} else {
    set terminal png size 1400,650
}
set output "$png"
set title "slicefs: ratio to the backing file used directly (${size_mb} MiB window, medians of ${runs} run(s); higher is better)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing "-"
set ylabel "ratio to direct"
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set grid ytics
set key outside right top vertical noenhanced
set xtics noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 dt 2 lc rgb "black" front
colors = "#4d4d4d #1b9e77 #66a61e #e6ab02 #d95f02 #7570b3 #e7298a #a6761d #1f78b4 #b2df8a #fb9a99 #cab2d6"
plot for [i=2:$((${#cols[@]} + 1))] "$dat" using i:xtic(1) title columnheader(i) \
    lc rgb word(colors, (i - 2) % words(colors) + 1)
EOF
    gnuplot "$work/chart.gp" 2>"$logs/gnuplot.err" || { cat "$logs/gnuplot.err" >&2; return 1; }
    note "chart written to $png"
}
if [ -n "$png" ]; then
    chart || { note "FAILED: the chart"; failures=$((failures + 1)); }
fi

[ "$failures" -eq 0 ] || die "$failures figure(s) could not be measured"
