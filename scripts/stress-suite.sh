#!/bin/bash
# Runs the whole test suite N times in a row (default 20) under a CPU and
# I/O load in the background, counting the runs that fail and which tests
# failed: the tests must not depend on the machine being idle. Run as root
# or with sudo, like the suite itself.
#
#   scripts/stress-suite.sh [N]
#
# The load is stress-ng (installed through scripts/install-deps.sh if
# missing): STRESS_ARGS, default "--cpu 2 --hdd 1 --hdd-bytes 64M", started
# afresh for each run with a time limit (--timeout) longer than a run may
# last, and stopped by its PID when the run ends (and on exit). Each run is
# ctest on one build (scripts/build.sh, in $BUILD_DIR or ./build), with
# CI=true; every run's output is kept in the log folder it names.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-20}
build=${BUILD_DIR:-$root/build}
stress_args=${STRESS_ARGS:---cpu 2 --hdd 1 --hdd-bytes 64M}
run_limit=1800 # seconds: ctest's own limit for one run, and the load's

command -v stress-ng >/dev/null || "$root/scripts/install-deps.sh" stress-ng
"$root/scripts/build.sh" >/dev/null

logs=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-stress.XXXXXX")
load_dir=$logs/load
mkdir "$load_dir"
load_pid=
stop_load() {
    [ -n "$load_pid" ] || return 0
    kill "$load_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 600; i++)); do
        kill -0 "$load_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$load_pid" 2>/dev/null && kill -KILL "$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null || true
    load_pid=
}
suite_pid=
stop_suite() { # on INT or TERM: the run under way (its process group) ends first
    if [ -n "$suite_pid" ]; then
        kill -TERM -- "-$suite_pid" 2>/dev/null || true
        wait "$suite_pid" 2>/dev/null || true
    fi
    exit 130
}
trap 'stop_load; rm -rf "$load_dir"' EXIT
trap stop_suite INT TERM

export CI=true
failed_runs=0
: >"$logs/failed-tests"
start=$SECONDS
for ((run = 1; run <= runs; run++)); do
    # shellcheck disable=SC2086 # STRESS_ARGS is a list of options
    stress-ng $stress_args --temp-path "$load_dir" --timeout "${run_limit}s" --quiet &
    load_pid=$!
    t0=$SECONDS
    status=0
    # In the background, so that a signal reaches stop_suite at once, and
    # in a process group of its own (setsid), which stop_suite ends whole.
    (cd "$build" && exec setsid ctest --no-tests=error -j1 --timeout "$run_limit" --output-on-failure) \
        >"$logs/run-$run.log" 2>&1 &
    suite_pid=$!
    wait "$suite_pid" || status=$?
    suite_pid=
    kill -0 "$load_pid" 2>/dev/null || echo "stress-suite: the load ended early in run $run" >&2
    stop_load
    summary=$(grep -E 'tests passed' "$logs/run-$run.log" | tail -n 1)
    if [ "$status" -ne 0 ]; then
        failed_runs=$((failed_runs + 1))
        sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) .*/\1/p' "$logs/run-$run.log" | tee -a "$logs/failed-tests" |
            sed "s/^/stress-suite: run $run failed: /"
    fi
    echo "stress-suite: run $run/$runs: $((SECONDS - t0)) s, ${summary:-no summary} (exit $status)"
done
echo "stress-suite: $runs runs under load ($stress_args) in $((SECONDS - start)) s: $failed_runs failed"
if [ -s "$logs/failed-tests" ]; then
    echo "stress-suite: failed tests (count):"
    sort "$logs/failed-tests" | uniq -c
fi
echo "stress-suite: logs in $logs"
[ "$failed_runs" -eq 0 ]
