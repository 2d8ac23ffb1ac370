#!/bin/bash
# CI: a short fuzzing run of every harness (about 30 s each; see
# scripts/fuzz.sh for the longer one). Fails on any crash, leak or
# sanitizer report, and on any kept regression input that fails again.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30} scripts/fuzz.sh
