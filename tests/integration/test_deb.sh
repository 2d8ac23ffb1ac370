#!/bin/bash
# The Debian package: scripts/build-deb.sh builds it (dpkg-buildpackage in a
# temporary copy of the tree), lints it (no lintian errors) and installs it;
# then the installed package has the binaries (slicefs, slicefsctl), their
# man pages and completions, and mounts through "mount -t fuse.slicefs" with
# nothing but the package installed. The package is removed again at the end.
#
# The build skips the unit tests (nocheck): ctest runs them on their own, and
# some time themselves, which a loaded machine can upset.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || skip "needs root (apt-get, dpkg)"
requires apt-get
requires dpkg
requires mount.fuse3

version=$(sed -n 's/^project(slicefs[^)]*VERSION \([0-9][0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$version" ] || fail "no project(slicefs VERSION ...) in CMakeLists.txt"

installed() {
    dpkg-query -W -f='${Status}' slicefs 2>/dev/null | grep -q 'install ok installed'
}

# remove - removes the package (dpkg -r) through apt-get, which waits for
# another apt or dpkg run on the machine to let go of the dpkg lock (as
# scripts/build-deb.sh does) instead of failing at once.
remove() {
    DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 remove slicefs
}

# Remove the package on exit, unless it was installed before the test.
was_installed=false
installed && was_installed=true
remove_package() {
    if ! $was_installed && installed; then
        remove >/dev/null 2>&1 || echo "cleanup: removing slicefs failed" >&2
    fi
}
on_exit() {
    local st=$?
    set +e
    remove_package
    (exit "$st")
    cleanup   # lib.sh's: unmounts, waits for daemons, removes $T, exits $st
}
trap on_exit EXIT

status=0
DEB_OUT_DIR=$T/out DEB_BUILD_OPTIONS=nocheck DEB_BUILD_PROFILES=nocheck \
    timeout 280 "$SRC/scripts/build-deb.sh" >"$T/build-deb.out" 2>"$T/build-deb.err" || status=$?
[ "$status" -eq 0 ] || { tail -n 40 "$T/build-deb.err" >&2; fail "scripts/build-deb.sh exited $status"; }
deb=$(tail -n 1 "$T/build-deb.out")
[ -f "$deb" ] || fail "build-deb.sh printed '$deb', not a .deb"
[[ $(basename "$deb") == slicefs_"$version"-*_*.deb ]] || fail "unexpected package name $deb"
grep '^[WE]: ' "$T/build-deb.err" >&2 || true   # lintian's findings, for the log
! grep -q '^E: ' "$T/build-deb.err" || fail "lintian reports errors"

# Installed: the files, the version.
installed || fail "slicefs is not installed after build-deb.sh"
[ "$(dpkg-query -W -f='${Version}' slicefs)" = "$(dpkg-deb -f "$deb" Version)" ] ||
    fail "the installed version is not the built one"
for f in /usr/bin/slicefs /usr/share/man/man1/slicefs.1.gz \
    /usr/share/bash-completion/completions/slicefs /usr/share/doc/slicefs/copyright \
    /usr/share/doc/slicefs/examples/srv-images.mount /usr/bin/slicefsctl \
    /usr/share/man/man1/slicefsctl.1.gz /usr/share/bash-completion/completions/slicefsctl; do
    dpkg -L slicefs | grep -qxF "$f" || fail "the package does not own $f"
    [ -f "$f" ] || fail "$f is missing"
done
[[ $(/usr/bin/slicefs --version) == "slicefs $version"* ]] ||
    fail "/usr/bin/slicefs --version says '$(/usr/bin/slicefs --version)'"
/usr/bin/slicefs --help >/dev/null || fail "/usr/bin/slicefs --help failed"
[ "$(/usr/bin/slicefsctl --version)" = "slicefsctl $version" ] ||
    fail "/usr/bin/slicefsctl --version says '$(/usr/bin/slicefsctl --version)'"
/usr/bin/slicefsctl --help >/dev/null || fail "/usr/bin/slicefsctl --help failed"
for page in slicefs slicefsctl; do
    MANWIDTH=80 man -l /usr/share/man/man1/$page.1.gz 2>/dev/null | grep -q '^SYNOPSIS' ||
        fail "the installed man page $page.1 does not render"
done
dpkg-deb -f "$deb" Depends | grep -q 'fuse3' || fail "the package does not depend on fuse3"

# mount -t fuse.slicefs with the packaged binary (mount.fuse3 finds it in
# /usr/bin: nothing set up by hand).
head -c 4M /dev/urandom >"$T/disk.img"
mkdir "$T/mnt"
MOUNTS+=("$T/mnt")
status=0
timeout "$DEADLINE" mount -t fuse.slicefs "$T/disk.img" "$T/mnt" -o window=w:1M:1M,ro \
    >"$T/mount.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$T/mount.log" >&2; fail "mount -t fuse.slicefs exited $status"; }
cmp "$T/mnt/w" <(tail -c +$((1024 * 1024 + 1)) "$T/disk.img" | head -c 1M) ||
    fail "window w differs"
pid=$(daemon_pid "$T/disk.img")
PIDS+=("$pid")
[ "$(readlink "/proc/$pid/exe")" = /usr/bin/slicefs ] || fail "the daemon is not /usr/bin/slicefs"
umount "$T/mnt" || fail "umount failed"
MOUNTS=()
wait_gone "$pid" || fail "daemon $pid still running after umount"

# Removal leaves nothing behind.
if ! $was_installed; then
    remove >"$T/remove.log" 2>&1 || { cat "$T/remove.log" >&2; fail "apt-get remove slicefs failed"; }
    ! installed || fail "slicefs still installed after removal"
    for f in /usr/bin/slicefs /usr/bin/slicefsctl /usr/share/bash-completion/completions/slicefs \
        /usr/share/bash-completion/completions/slicefsctl; do
        [ ! -e "$f" ] || fail "$f left after removal"
    done
fi

echo "PASS [$TEST_NAME]"
