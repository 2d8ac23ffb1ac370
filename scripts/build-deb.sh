#!/bin/bash
# Builds the Debian package (dpkg-buildpackage -us -uc -b) from a temporary
# copy of this tree, so no build artefact ever lands in the repository;
# checks the .deb with lintian (any error fails); installs it with apt-get
# and runs the installed slicefs. The last line printed is the .deb's path.
#
#   sudo scripts/build-deb.sh             # build, lint, install, run
#   scripts/build-deb.sh --no-install     # build and lint only
#
# The .deb, .buildinfo, .changes and build.log go to $DEB_OUT_DIR (default:
# a new folder under ${TMPDIR:-/tmp}). Installs what the build needs (from
# debian/control's Build-Depends) when it is missing. DEB_BUILD_OPTIONS=nocheck
# (with DEB_BUILD_PROFILES=nocheck) skips the unit tests in the build.
set -euo pipefail
export LC_ALL=C.UTF-8

root=$(cd "$(dirname "$0")/.." && pwd)
install=true
for arg in "$@"; do
    case $arg in
    --no-install) install=false ;;
    *) echo "usage: $0 [--no-install]" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
# Waits for another apt or dpkg run rather than failing at once.
APT=(apt-get -q -o DPkg::Lock::Timeout=120)
apt_install() {
    $SUDO "${APT[@]}" update
    DEBIAN_FRONTEND=noninteractive $SUDO "${APT[@]}" install -y --no-install-recommends "$@"
}

# The tools, then the build dependencies that debian/control names.
tools=()
command -v dpkg-buildpackage >/dev/null || tools+=(dpkg-dev)
command -v lintian >/dev/null || tools+=(lintian)
command -v dh >/dev/null || tools+=(debhelper)
[ ${#tools[@]} -eq 0 ] || apt_install "${tools[@]}"
if ! (cd "$root" && dpkg-checkbuilddeps) 2>/dev/null; then
    $SUDO "${APT[@]}" update
    DEBIAN_FRONTEND=noninteractive $SUDO "${APT[@]}" build-dep -y --no-install-recommends "$root"
fi

# The version: CMake's project() and debian/changelog must agree.
cmake_version=$(sed -n 's/^project(slicefs[^)]*VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version)
if [ "${deb_version%-*}" != "$cmake_version" ]; then
    echo "build-deb: debian/changelog says $deb_version, CMakeLists.txt says $cmake_version" >&2
    exit 1
fi

out=${DEB_OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/slicefs-deb.XXXXXX")}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-debbuild.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The tree as git sees it (tracked and new files, not what .gitignore
# ignores, so no build folder); without git, everything but build*/ and .git.
src=$work/slicefs-$cmake_version
mkdir "$src"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -C "$src" -xf -
else
    tar -C "$root" --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - . |
        tar -C "$src" -xf -
fi

echo "build-deb: building slicefs $deb_version in $src" >&2
start=$SECONDS
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed (log above)" >&2
    exit 1
}
echo "build-deb: dpkg-buildpackage took $((SECONDS - start)) s" >&2
cp "$work/build.log" "$out/build.log"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$work/slicefs_${deb_version}_$arch.deb
[ -f "$deb" ] || { echo "build-deb: no $deb" >&2; exit 1; }
for f in "$work"/slicefs_"$deb_version"_"$arch".{deb,buildinfo,changes}; do
    [ -f "$f" ] && cp "$f" "$out/"
done
deb=$out/$(basename "$deb")

# Contents: the binaries, their man pages and bash completions.
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/slicefs ./usr/share/man/man1/slicefs.1.gz \
    ./usr/share/bash-completion/completions/slicefs ./usr/share/doc/slicefs/copyright \
    ./usr/bin/slicefsctl ./usr/share/man/man1/slicefsctl.1.gz \
    ./usr/share/bash-completion/completions/slicefsctl; do
    grep -q " $f\$" <<<"$contents" || { echo "build-deb: $deb lacks $f" >&2; exit 1; }
done

# lintian: errors fail; warnings and below are shown.
echo "build-deb: lintian $deb" >&2
lintian --fail-on error --display-info "$deb" >&2 || {
    echo "build-deb: lintian reports errors" >&2
    exit 1
}

if $install; then
    DEBIAN_FRONTEND=noninteractive $SUDO "${APT[@]}" install -y --reinstall "$deb" >&2
    got=$(/usr/bin/slicefs --version)
    echo "build-deb: installed: $got" >&2
    [[ $got == "slicefs $cmake_version"* ]] || {
        echo "build-deb: the installed slicefs says '$got', expected $cmake_version" >&2
        exit 1
    }
fi
echo "$deb"
