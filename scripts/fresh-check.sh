#!/bin/bash
# Proves the README's two commands on a really fresh system: builds a
# minimal Debian 12 root (debootstrap --variant=minbase bookworm, from the
# mirror this machine's apt uses), mounts /proc, /sys, a /dev of its own (a
# tmpfs with the usual device nodes) and a devpts on /dev/pts in it,
# copies in a git archive of HEAD, and runs there, as root and as a
# newcomer would, with CI=true:
#     scripts/demo.sh
#     scripts/run-tests.sh
# The root is entered with chroot from inside a new mount namespace
# (unshare -m), and is itself a mount point, so that tests which make their
# own mount namespace (test_fstab) work as on a real machine. Everything it
# mounts is unmounted on exit, also on failure; the root is then removed.
#
# With --ci it then runs .ci/run there too (what CI runs on a clean clone).
#
# Usage (as root):  scripts/fresh-check.sh [--ci] [WORKDIR]
# WORKDIR (default: a new folder under /var/tmp) must be on a disk file
# system with a few GiB free. The log is WORKDIR/fresh-check.log (kept).
# Not run by CI: it needs root, the network to the mirror, and 10-15
# minutes (--ci: half an hour more).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

# --inside ROOT LOG: the part that runs in the new mount namespace (made
# private, so nothing mounted here reaches the host's mount table): mounts
# the file systems a root needs, runs the README's commands, unmounts.
if [ "${1:-}" = --inside ]; then
    ROOT=$2
    LOG=$3
    commands=(scripts/demo.sh scripts/run-tests.sh)
    [ "${4:-}" != --ci ] || commands+=(.ci/run)
    MOUNTED=()
    unmount_all() {
        local status=$? i
        set +e
        for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
            umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}"
        done
        exit "$status"
    }
    trap unmount_all EXIT
    mount_in() { # ARGS... TARGET: mount, and remember TARGET
        mount "$@"
        MOUNTED+=("${!#}")
    }
    mount_in --bind "$ROOT" "$ROOT" # "/" inside is a mount point (unshare -m, --propagation need one)
    mount_in -t proc proc "$ROOT/proc"
    mount_in -t sysfs sysfs "$ROOT/sys"
    # A /dev of its own, as udev would make it on a fresh machine (fuse
    # 0666): what the tests do to its nodes (chmod /dev/fuse) stays there.
    mount_in -t tmpfs -o mode=0755,nosuid,size=16M dev "$ROOT/dev"
    for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0 fuse:10:229; do
        IFS=: read -r name major minor <<<"$node"
        mknod -m 0666 "$ROOT/dev/$name" c "$major" "$minor"
    done
    mkdir -m 0755 "$ROOT/dev/pts"
    mkdir -m 1777 "$ROOT/dev/shm"
    ln -s pts/ptmx "$ROOT/dev/ptmx"
    ln -s /proc/self/fd "$ROOT/dev/fd"
    ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
    ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
    ln -s /proc/self/fd/2 "$ROOT/dev/stderr"
    mount_in -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$ROOT/dev/pts"
    # as_newcomer COMMAND: COMMAND in the fresh root, from a clean login shell.
    as_newcomer() {
        chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI=true \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            /bin/bash -lc "cd /root/slicefs && $1"
    }
    for command in "${commands[@]}"; do
        printf '\n=== %s (as root, CI=true) ===\n' "$command" >>"$LOG"
        SECONDS=0
        as_newcomer "$command" >>"$LOG" 2>&1 || { echo "fresh-check: $command failed after ${SECONDS}s" >>"$LOG"; exit 1; }
        echo "fresh-check: took ${SECONDS}s: $command" >>"$LOG"
    done
    exit 0
fi

ci=
if [ "${1:-}" = --ci ]; then
    ci=--ci
    shift
fi
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: run as root (debootstrap, mount, chroot)" >&2; exit 1; }
command -v git >/dev/null || { echo "fresh-check: needs git (for git archive)" >&2; exit 1; }
command -v debootstrap >/dev/null || "$repo/scripts/install-deps.sh" debootstrap

# The Debian mirror of this machine's apt: the first URI that serves bookworm.
mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") print uri }
             /^$/ { uri = "" }' "$f"
    done
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $3 == "bookworm" { print $2 }' || true
}
MIRROR=$(mirror | sed -n 1p)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

work=${1:-$(mktemp -d /var/tmp/slicefs-fresh.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
ROOT=$work/root
LOG=$work/fresh-check.log

# The mounts live in the namespace of the --inside part and end with it; in
# case one is left here all the same, it is unmounted. The root is removed
# only when nothing is mounted under it.
cleanup() {
    local status=$? m left
    set +e
    while read -r m; do
        umount -l "$m"
    done < <(findmnt -rn -o TARGET | grep -F "$ROOT" | sort -r)
    left=$(findmnt -rn -o TARGET | grep -cF "$ROOT")
    if [ "$left" -eq 0 ]; then
        rm -rf --one-file-system "$ROOT"
    else
        echo "fresh-check: $left mounts left under $ROOT; not removing it" >&2
        status=1
    fi
    echo "fresh-check: log in $LOG" >&2
    exit "$status"
}
trap cleanup EXIT

say() { printf '\n=== %s (%ds) ===\n' "$*" $SECONDS | tee -a "$LOG"; }
: >"$LOG"
SECONDS=0
say "debootstrap --variant=minbase bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >>"$LOG" 2>&1 ||
    { tail -n 30 "$LOG" >&2; echo "fresh-check: debootstrap failed" >&2; exit 1; }
t_bootstrap=$SECONDS

# What reaches the mirror here (its sources and Acquire settings, name
# resolution) - not what the project needs: no package is preinstalled.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$ROOT/etc/apt/sources.list.d/" && : >"$ROOT/etc/apt/sources.list"
done
grep -l '^Acquire::' /etc/apt/apt.conf.d/* 2>/dev/null | xargs -r cp -t "$ROOT/etc/apt/apt.conf.d/"

mkdir -p "$ROOT/root/slicefs"
git -C "$repo" archive HEAD | tar -x -C "$ROOT/root/slicefs"
echo "fresh-check: testing $(git -C "$repo" rev-parse HEAD)" | tee -a "$LOG"

status=0
unshare -m --propagation private "$repo/scripts/fresh-check.sh" --inside "$ROOT" "$LOG" $ci || status=$?
t_all=$SECONDS
summary=$(grep -E 'tests passed|tests failed' "$LOG" | paste -sd ';' -)
grep -E '^[[:space:]]*[0-9]+ - |\*\*\*Failed|Not Run|Skipped|would skip' "$LOG" >&2 || true
say "done"
grep '^fresh-check: took' "$LOG" || true
echo "fresh-check: debootstrap ${t_bootstrap}s, all ${t_all}s; ${summary:-no ctest summary}" | tee -a "$LOG"
[ "$status" -eq 0 ] || { tail -n 40 "$LOG" >&2; echo "fresh-check: FAIL ($status)" >&2; exit 1; }
echo "fresh-check: PASS"
