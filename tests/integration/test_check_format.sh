#!/bin/bash
# scripts/check-format.sh works on an exported tree (no .git, as from a
# tarball or git archive): it checks every C file it finds there, fails
# naming a misformatted one, and fails when it finds no C file at all.
# Needs neither FUSE nor git; needs clang-format (skips without it, except
# under CI=true).
set -euo pipefail
export LC_ALL=C
TEST_NAME=$(basename "$0" .sh)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}
if ! command -v clang-format >/dev/null; then
    [ "${CI:-}" != true ] || fail "would skip under CI: clang-format is not installed"
    echo "SKIP [$TEST_NAME]: clang-format is not installed" >&2
    exit 77
fi

# The exported tree: the sources without .git and without build folders.
tree=$T/tree
mkdir "$tree"
(cd "$SRC" && find . -mindepth 1 -maxdepth 1 ! -name .git ! -name 'build*' -exec cp -a {} "$tree/" \;)
[ ! -e "$tree/.git" ] || fail "the copy has a .git"
count=$(cd "$SRC" && scripts/check-format.sh --list | wc -l)
[ "$count" -gt 10 ] || fail "check-format.sh --list finds only $count files in the source tree"

out=$("$tree/scripts/check-format.sh" 2>&1) || fail "the exported tree does not pass: $out"
[ "$out" = "check-format: $count files formatted" ] || fail "exported tree: '$out', expected $count files"

printf 'int  badly( void ){return 0;}\n' >>"$tree/src/core/error.c"
status=0
out=$("$tree/scripts/check-format.sh" 2>&1) || status=$?
[ "$status" -eq 1 ] || fail "a misformatted file: exit $status, expected 1 ($out)"
[[ $out == *src/core/error.c* ]] || fail "the message does not name src/core/error.c: $out"

find "$tree" -name '*.[ch]' -delete
status=0
out=$("$tree/scripts/check-format.sh" 2>&1) || status=$?
[ "$status" -eq 1 ] || fail "a tree without C files: exit $status, expected 1 ($out)"
[[ $out == *"no C files"* ]] || fail "a tree without C files: $out"
echo "PASS [$TEST_NAME]"
