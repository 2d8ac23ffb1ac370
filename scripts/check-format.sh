#!/bin/bash
# Checks that every C file in the repository is formatted by the one
# .clang-format at its root; lists the files that are not. Fix them with:
#   git ls-files '*.c' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed" >&2; exit 2; }
bad=()
while IFS= read -r f; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
    echo "check-format: not formatted by .clang-format: ${bad[*]}" >&2
    exit 1
fi
echo "check-format: $(git ls-files '*.c' '*.h' | wc -l) files formatted"
