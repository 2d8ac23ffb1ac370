#!/bin/bash
# Installs the Debian packages slicefs needs to build and test, if missing:
# every tool the build, the tests and the CI stages call is named here, not
# left to arrive as some other package's dependency. Extra package names on
# the command line are installed too (scripts/stress-suite.sh asks for
# stress-ng this way). --update refreshes the package lists even when
# nothing is missing (.ci/run).
# Run as root, or as a user with sudo: it calls apt-get through sudo then.
# Used by scripts/demo.sh, .ci/run, scripts/stress-suite.sh and
# scripts/fresh-check.sh.
# --libfuse-3.18 (after --update, if both) adds what scripts/libfuse-3.18.sh
# needs to build libfuse 3.18 from Debian's source package (meson, ninja,
# liburing, libnuma); run that script next (see README, libfuse versions).
set -euo pipefail

update=false
if [ "${1:-}" = --update ]; then
    update=true
    shift
fi
libfuse_3_18=()
if [ "${1:-}" = --libfuse-3.18 ]; then
    libfuse_3_18=(meson ninja-build liburing-dev libnuma-dev)
    shift
fi

packages=(
    build-essential cmake pkg-config   # toolchain
    libfuse3-dev fuse3                 # libfuse low-level API, fusermount3, mount.fuse3
    libblkid-dev                       # partition tables (layout=partitions)
    libxxhash-dev libssl-dev           # window digests: XXH3-128 (state), SHA-256
    liburcu-dev                        # userspace RCU: live window sets (runtime control)
    fdisk                              # sfdisk, to make test images
    libcmocka-dev                      # unit tests
    fio attr                           # integration tests (fio, getfattr/setfattr) and benchmarks
    tar zip unzip                      # archives for layout=archive (test_archive)
    archivemount                       # the comparison in scripts/bench-archive.sh
    rsync restic borgbackup xxhash     # backups with real tools (test_backup_tools), xxhsum (bench)
    util-linux mount                   # setpriv, unshare, partx; mount (test_fstab)
    procps                             # ps, pgrep
    systemd                            # systemd-escape, systemd-analyze (test_ready: the example units)
    tar                                # test_holes, the Debian source package
    man-db                             # man (test_install, test_deb)
    git                                # scripts/build-deb.sh, scripts/fresh-check.sh
    valgrind                           # unit tests under valgrind (CI)
    clang libclang-rt-14-dev           # fuzzing
    clang-format                       # the format check (CI)
    debhelper dpkg-dev lintian         # the Debian package (test_deb)
    "${libfuse_3_18[@]+"${libfuse_3_18[@]}"}"
    "$@"
)

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "install-deps: run this as root, or install sudo and run it as a user allowed to use it" >&2
    exit 1
fi
apt_get() { "${as_root[@]+"${as_root[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; }

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && ! $update; then
    echo "install-deps: everything is installed"
    exit 0
fi
apt_get update -q
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything is installed"
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
apt_get install -y -q --no-install-recommends "${missing[@]}"
