#!/bin/bash
# Configures and builds slicefs into build/ (or $BUILD_DIR). Extra arguments
# go to cmake's configure step, e.g. -DSLICEFS_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DSLICEFS_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
