#!/bin/bash
# Checks that every C file in the tree is formatted by the one .clang-format
# at its root; lists the files that are not. Files are found with find, so
# the check works the same in a git clone and in an exported tree (a
# tarball, git archive); build folders (build*) are left out. Finding no
# file at all is a failure, not a pass. Fix the files with:
#   scripts/check-format.sh --list | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."

c_files() {
    find . \( -name '.git' -o -name 'build*' -o -name 'obj-*' -o -path ./debian/slicefs \) -prune -o \
        -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | LC_ALL=C sort
}
if [ "${1:-}" = --list ]; then
    c_files
    exit 0
fi

command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed" >&2; exit 2; }
[ -f .clang-format ] || { echo "check-format: no .clang-format in $(pwd)" >&2; exit 2; }
mapfile -t files < <(c_files)
if [ ${#files[@]} -eq 0 ]; then
    echo "check-format: no C files found under $(pwd)" >&2
    exit 1
fi
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "check-format: not formatted by .clang-format: ${bad[*]}" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files formatted"
