#!/bin/bash
# Builds the libFuzzer harnesses (fuzz/) into build-fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, replays every kept crash
# input under fuzz/regressions/NAME/, then fuzzes each harness for
# FUZZ_SECONDS (default 60) from a copy of its seed corpus fuzz/corpus/NAME/.
# Exits non-zero on any crash, leak, timeout or sanitizer report; the input
# that caused it is left in build-fuzz/artifacts/NAME/.
#
#   scripts/fuzz.sh                   # about a minute per harness
#   FUZZ_SECONDS=600 scripts/fuzz.sh  # the longer run
#   scripts/fuzz.sh fuzz_table        # only the harnesses named
#   scripts/fuzz.sh --merge           # also merge new interesting inputs
#                                     # into fuzz/corpus/ (committed: review)
#
# Environment: FUZZ_SECONDS, BUILD_DIR (default build-fuzz), FUZZ_ARGS
# (extra libFuzzer flags, e.g. "-jobs=4 -workers=4" or "-dict=FILE").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
all=(fuzz_size_parse fuzz_window_spec fuzz_table fuzz_partitions fuzz_archive fuzz_state_file fuzz_control_request)

merge=false
names=()
for arg in "$@"; do
    case $arg in
    --merge) merge=true ;;
    -h | --help)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    fuzz_*) names+=("$arg") ;;
    *)
        echo "fuzz.sh: unknown argument '$arg' (harnesses: ${all[*]})" >&2
        exit 2
        ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
for name in "${names[@]}"; do
    [ -f "$root/fuzz/$name.c" ] || { echo "fuzz.sh: no harness $name" >&2; exit 2; }
done

CC=clang cmake -S "$root" -B "$build" -DSLICEFS_FUZZ=ON -DSLICEFS_TESTS=OFF \
    -DSLICEFS_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${names[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-fuzz.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
# The harnesses make their temporary files here: removed even after a crash.
mkdir "$work/tmp"
export TMPDIR=$work/tmp
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/logs"

# Returns non-zero when the log shows a sanitizer report, even if the
# process somehow exited 0.
clean_log() {
    ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$1"
}

failed=()
for name in "${names[@]}"; do
    bin=$build/fuzz/$name
    artifacts=$build/artifacts/$name
    mkdir -p "$artifacts"
    log=$build/logs/$name.log
    : >"$log"

    # 1. Every kept crash input must now pass.
    regressions=()
    if [ -d "$root/fuzz/regressions/$name" ]; then
        while IFS= read -r -d '' f; do
            regressions+=("$f")
        done < <(find "$root/fuzz/regressions/$name" -type f ! -name 'README*' -print0 | sort -z)
    fi
    if [ ${#regressions[@]} -gt 0 ]; then
        echo "== $name: replaying ${#regressions[@]} regression input(s)"
        if ! "$bin" -artifact_prefix="$artifacts/" "${regressions[@]}" >>"$log" 2>&1 ||
            ! clean_log "$log"; then
            echo "FAIL $name: a regression input fails again (log: $log)"
            tail -n 40 "$log"
            failed+=("$name")
            continue
        fi
    fi

    # 2. Fuzz from a copy of the seed corpus.
    corpus=$work/corpus/$name
    mkdir -p "$corpus"
    cp -r "$root/fuzz/corpus/$name/." "$corpus/"
    max_len=4096
    [ "$name" = fuzz_partitions ] && max_len=65536
    [ "$name" = fuzz_archive ] && max_len=131072 # an ISO's descriptors start at 32 KiB
    echo "== $name: fuzzing for ${seconds}s from $(find "$corpus" -type f | wc -l) seed(s)"
    start=$(date +%s)
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" \
        >>"$log" 2>&1 || ! clean_log "$log"; then
        echo "FAIL $name after $(($(date +%s) - start))s (log: $log; input: $artifacts/)"
        grep -E -A 30 'ERROR:|runtime error:|==[0-9]+==' "$log" | head -n 60
        ls -l "$artifacts"
        failed+=("$name")
        continue
    fi
    stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    echo "ok   $name in $(($(date +%s) - start))s: ${stats:-?};" \
        "corpus $(find "$corpus" -type f | wc -l) input(s)"

    # 3. Optionally keep what was learnt.
    if $merge; then
        before=$(find "$root/fuzz/corpus/$name" -type f | wc -l)
        "$bin" -merge=1 -max_len="$max_len" "$root/fuzz/corpus/$name" "$corpus" >>"$log" 2>&1
        after=$(find "$root/fuzz/corpus/$name" -type f | wc -l)
        echo "     merged $((after - before)) new input(s) into fuzz/corpus/$name"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: FAILED: ${failed[*]}"
    exit 1
fi
echo "fuzz.sh: all ${#names[@]} harness(es) clean"
