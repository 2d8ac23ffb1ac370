#!/bin/bash
# Builds libfuse 3.18 from Debian's own source package into a folder of the
# build tree, for a slicefs that uses what 3.18 offers on a Debian 12 whose
# system libfuse is 3.14: FUSE over io_uring, direct I/O that keeps a
# client's mmap working. Never touches /etc/apt or the system's libfuse.
#
#   scripts/libfuse-3.18.sh [PREFIX]       (default: build/libfuse-3.18)
#   SUITE=trixie LIBFUSE=3.17 scripts/libfuse-3.18.sh   (3.17, for the checks
#                                          of what 3.17 has and 3.18 adds)
#   BUILD_DIR=build-3.18 scripts/build.sh -DSLICEFS_LIBFUSE_PREFIX=PREFIX
#
# PREFIX gets a static libfuse3.a, its headers and fuse3.pc (so slicefs
# needs nothing at run time and `slicefs --version` names 3.18), and the
# example passthrough_ll that scripts/bench.sh compares against.
# Needs network access to the Debian mirror the machine already uses (the
# suite is $SUITE, sid by default) and, from Debian: meson, ninja-build,
# liburing-dev, libnuma-dev, dpkg-dev (install-deps.sh --libfuse-3.18 adds
# them). Takes about 20 s to build on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=${LIBFUSE:-3.18}
prefix=$(realpath -m "${1:-$root/build/libfuse-$want}")
suite=${SUITE:-sid}

if [ -f "$prefix/lib/pkgconfig/fuse3.pc" ] &&
    grep -q "^Version: $want" "$prefix/lib/pkgconfig/fuse3.pc"; then
    echo "libfuse-$want: already built in $prefix"
    exit 0
fi
for tool in meson ninja dpkg-source; do
    command -v "$tool" >/dev/null || { echo "libfuse-$want: $tool is missing (scripts/install-deps.sh --libfuse-3.18)" >&2; exit 1; }
done

# The mirror the machine already uses, from its own apt sources.
mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]*/debian/?( |$)' | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian/}

tmp=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/src"
echo "deb-src ${mirror%/} $suite main" >"$tmp/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$tmp/lists" -o APT::Sandbox::User=root -q)
echo "libfuse-$want: fetching the fuse3 source package of Debian $suite from $mirror"
apt-get "${apt_opts[@]}" update >/dev/null
(cd "$tmp/src" && apt-get "${apt_opts[@]}" source --download-only fuse3 >/dev/null)
(cd "$tmp/src" && dpkg-source -x --no-check ./*.dsc libfuse >/dev/null)
version=$(sed -n "s/^ *version: '\([0-9.]*\)'.*/\1/p" "$tmp/src/libfuse/meson.build" | head -n1)
case "$version" in
$want | $want.*) ;;
*) echo "libfuse-$want: Debian $suite has libfuse '$version', not $want (try SUITE=...)" >&2; exit 1 ;;
esac

echo "libfuse-$want: building libfuse $version (static) into $prefix"
meson setup "$tmp/build" "$tmp/src/libfuse" --prefix="$prefix" --libdir=lib \
    --buildtype=release -Ddefault_library=static -Dexamples=true -Dutils=false \
    -Dtests=false -Ddisable-mtab=true >/dev/null
ninja -C "$tmp/build" >/dev/null
rm -rf "$prefix"
# libfuse3.a, its headers and fuse3.pc (Libs.private: -luring -lnuma ...).
meson install -C "$tmp/build" --no-rebuild --quiet >/dev/null
mkdir -p "$prefix/bin"
cp "$tmp/build/example/passthrough_ll" "$prefix/bin/"
echo "libfuse-$want: done: $prefix (libfuse $version)"
