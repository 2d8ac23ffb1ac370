#!/bin/bash
# Installs the Debian packages slicefs needs to build and test, if missing.
# Run as root (or through sudo). Used by scripts/demo.sh and .ci/run.
set -euo pipefail

packages=(
    build-essential cmake pkg-config   # toolchain
    libfuse3-dev fuse3                 # libfuse low-level API, fusermount3
    libblkid-dev                       # partition tables (layout=partitions)
    libxxhash-dev libssl-dev           # window digests: XXH3-128 (state), SHA-256
    fdisk                              # sfdisk, to make test images
    libcmocka-dev                      # unit tests
    fio attr                           # integration tests and benchmarks
    tar zip unzip                      # archives for layout=archive (test_archive)
    archivemount                       # the comparison in scripts/bench-archive.sh
    rsync restic borgbackup xxhash     # backups with real tools (test_backup_tools), xxhsum (bench)
    valgrind                           # unit tests under valgrind (CI)
    clang libclang-rt-14-dev           # fuzzing
    clang-format                       # the format check (CI)
    debhelper dpkg-dev lintian         # the Debian package (test_deb)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
