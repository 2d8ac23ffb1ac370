#!/bin/bash
# Builds slicefs and runs the whole test suite: cmocka unit tests and the
# integration tests that mount the real daemon. Needs /dev/fuse and
# fusermount3; tests skip (status 77) without them, except under CI=true,
# where a skip is a failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/build.sh" "$@"
cd "$build"
ctest --output-on-failure --no-tests=error -j1
