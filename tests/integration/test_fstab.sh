#!/bin/bash
# mount(8) and fstab: "mount -t fuse.slicefs SOURCE DIR -o ..." and fstab
# lines (noauto, ro, allow_other, table=, layout=partitions, layout=chunks:)
# work through mount.fuse3, which runs "slicefs SOURCE DIR -o OPTIONS"; an
# unknown option is refused by name and nothing is mounted; umount and
# fusermount3 -u end the daemon.
#
# mount(8) runs its helpers with a fixed search path (/usr/local/sbin,
# /usr/local/bin, /usr/sbin, ...; not the caller's $PATH), so mount.fuse3
# finds "slicefs" only where an installation puts it. To test the build
# without installing it, the test runs itself again in a private mount
# namespace in which a folder holding "slicefs -> $SLICEFS" is bind-mounted
# on /usr/local/sbin. Nothing outside the namespace sees that, or the test's
# mounts.
. "$(dirname "$0")/lib.sh"

if [ -z "${SLICEFS_FSTAB_INNER:-}" ]; then
    requires mount
    requires unshare
    requires mount.fuse3
    requires sfdisk
    unshare -m --propagation private true 2>/dev/null || skip "cannot make a mount namespace (unshare -m)"
    [ -d /usr/local/sbin ] || skip "/usr/local/sbin is missing"
    # The inner run's files (and so its daemons' command lines) are all
    # under $T, which the backstop below relies on.
    status=0
    SLICEFS_FSTAB_INNER=1 TMPDIR=$T unshare -m --propagation private bash "$0" || status=$?
    # Backstop: no daemon of the inner run may outlive it (its own EXIT trap
    # unmounts everything it mounted; this catches a daemon it missed).
    if leftover=$(pgrep -f -- "$T/"); then
        for pid in $leftover; do
            kill -KILL "$pid" 2>/dev/null
        done
        fail "slicefs daemons left running after the test: $leftover"
    fi
    exit "$status"
fi

# --- inside the private mount namespace ---------------------------------

T=$(realpath "$T")   # mount(8) and /proc/mounts show canonical paths
mkdir "$T/bin"
ln -s "$SLICEFS" "$T/bin/slicefs"
mount --bind "$T/bin" /usr/local/sbin || fail "cannot bind-mount $T/bin on /usr/local/sbin"
export PATH=$T/bin:$PATH
# What mount.fuse3's shell finds without a PATH:
[ "$(env -i /bin/sh -c 'command -v slicefs')" = /usr/local/sbin/slicefs ] ||
    fail "the test's slicefs is not first in the default search path"

# try_mount DIR ARGS... - runs "mount ARGS...", which must succeed and leave
# DIR mounted with type fuse.slicefs; sets PID to its daemon.
try_mount() {
    local dir=$1 status=0
    shift
    mkdir -p "$dir"
    MOUNTS+=("$dir")   # before mounting: the EXIT trap unmounts it whatever happens
    timeout "$DEADLINE" mount "$@" >"$T/mount.log" 2>&1 || status=$?
    [ "$status" -eq 0 ] || { cat "$T/mount.log" >&2; fail "mount $* exited $status"; }
    # Straight after mount returns: the mount is live (no wait).
    grep -q " $dir fuse.slicefs " /proc/mounts || fail "mount $* did not mount $dir as fuse.slicefs"
    PID=$(daemon_pid "$dir( |\$)")   # each mount point's name is on its daemon's command line
    PIDS+=("$PID")
}

# try_umount DIR COMMAND... - unmounts DIR with COMMAND; its daemon must exit.
try_umount() {
    local dir=$1
    shift
    "$@" "$dir" || fail "$* $dir failed"
    forget_mount "$dir"
    wait_gone "$PID" || fail "daemon $PID for $dir still running $DEADLINE s after $*"
    ! is_mounted "$dir" || fail "$dir still mounted after $*"
}

# mount_options DIR - the options of DIR's line in /proc/mounts.
mount_options() {
    awk -v d="$1" '$2 == d { print $4 }' /proc/mounts
}

# try_refused DIR PATTERN ARGS... - "mount ARGS..." must fail with a message
# matching PATTERN, and mount nothing, and leave no daemon.
try_refused() {
    local dir=$1 pattern=$2 status=0
    shift 2
    mkdir -p "$dir"
    MOUNTS+=("$dir")
    timeout "$DEADLINE" mount "$@" >"$T/refused.log" 2>&1 || status=$?
    [ "$status" -ne 0 ] || fail "mount $* succeeded; it should have been refused"
    [ "$status" -ne 124 ] || fail "mount $* hung"
    grep -Eq -- "$pattern" "$T/refused.log" ||
        { cat "$T/refused.log" >&2; fail "mount $*: message does not match '$pattern'"; }
    ! is_mounted "$dir" || fail "refused mount $* left $dir mounted"
    ! pgrep -f -- "$dir( |\$)" >/dev/null || fail "refused mount $* left a daemon"
}

# Images: random bytes; parts.img also gets an MBR with two partitions.
head -c 8M /dev/urandom >"$T/disk.img"
head -c 8M /dev/urandom >"$T/parts.img"
printf 'label: dos\nstart=2048, size=4096, type=83\nstart=6144, size=8192, type=83\n' |
    sfdisk --no-reread --no-tell-kernel -q "$T/parts.img" >/dev/null || fail "sfdisk failed"
mkdir "$T/tables"
printf '# windows.tab\nt1  0   1M  ro  ../disk.img\nsub/t2  2M  1M  rw  ../disk.img\nt3  0  64K  ro  ../parts.img\n' \
    >"$T/tables/windows.tab"
sum_before=$(sha256sum <"$T/disk.img")

# 1. mount -t fuse.slicefs SOURCE DIR -o ...
try_mount "$T/m-cmdline" -t fuse.slicefs "$T/disk.img" "$T/m-cmdline" \
    -o window=a:1M:2M,window=dir/b:0:end,window=c:5M:4K:ro
cmp "$T/m-cmdline/a" <(extract "$T/disk.img" 1M 2M) || fail "-t fuse.slicefs: window a differs"
cmp "$T/m-cmdline/dir/b" "$T/disk.img" || fail "-t fuse.slicefs: window dir/b differs"
cmp "$T/m-cmdline/c" <(extract "$T/disk.img" 5M 4K) || fail "-t fuse.slicefs: window c differs"
is "error EACCES" open "$T/m-cmdline/c" w
is "wrote 10" pwrite "$T/m-cmdline/a" 0 10 z   # rw: the mount is writable
head -c 10 /dev/zero | tr '\0' z | cmp - <(extract "$T/disk.img" 1M 10) ||
    fail "a write through -t fuse.slicefs did not reach the image"
try_umount "$T/m-cmdline" umount
sum_before=$(sha256sum <"$T/disk.img")

# 2. fstab lines, each mounted with "mount --fstab FILE DIR".
FSTAB=$T/fstab
cat >"$FSTAB" <<EOF
# slicefs test fstab
$T/disk.img  $T/m-ro      fuse.slicefs  noauto,ro,allow_other,window=a:1M:2M,window=b:0:end  0  0
$T/tables/windows.tab  $T/m-table  fuse.slicefs  noauto,table=$T/tables/windows.tab  0  0
$T/parts.img  $T/m-parts   fuse.slicefs  noauto,layout=partitions,ro  0  0
$T/disk.img  $T/m-chunks  fuse.slicefs  noauto,nofail,layout=chunks:1M,allow_other,default_permissions  0  0
$SLICEFS#$T/disk.img  $T/m-hash  fuse  noauto,window=h:4K:4K  0  0
$T/disk.img  $T/m-unknown  fuse.slicefs  noauto,window=a:0:1M,frobnicate=3  0  0
$T/disk.img  $T/m-badwin   fuse.slicefs  noauto,window=big:0:64M  0  0
$T/disk.img  $T/m-badval   fuse.slicefs  noauto,cache=sometimes  0  0
EOF

# ro, allow_other, noauto: mounted read-only; writes refused by the kernel.
try_mount "$T/m-ro" --fstab "$FSTAB" "$T/m-ro"
opts=$(mount_options "$T/m-ro")
[[ ,$opts, == *,ro,* ]] || fail "fstab ro: mounted with '$opts'"
[[ ,$opts, == *,allow_other,* ]] || fail "fstab allow_other: mounted with '$opts'"
cmp "$T/m-ro/a" <(extract "$T/disk.img" 1M 2M) || fail "fstab ro: window a differs"
cmp "$T/m-ro/b" "$T/disk.img" || fail "fstab ro: window b differs"
is "error EROFS" open "$T/m-ro/a" w
is "error EROFS" open "$T/m-ro/b" rw
is "error EROFS" truncate "$T/m-ro/a" 0
[ "$(stat -c %A "$T/m-ro/a")" = -r--r--r-- ] || fail "fstab ro: mode of a is $(stat -c %A "$T/m-ro/a")"
try_umount "$T/m-ro" fusermount3 -u

# table=FILE (the table as the source).
try_mount "$T/m-table" --fstab "$FSTAB" "$T/m-table"
cmp "$T/m-table/t1" <(extract "$T/disk.img" 0 1M) || fail "fstab table=: t1 differs"
cmp "$T/m-table/sub/t2" <(extract "$T/disk.img" 2M 1M) || fail "fstab table=: sub/t2 differs"
cmp "$T/m-table/t3" <(extract "$T/parts.img" 0 64K) || fail "fstab table=: t3 differs"
is "error EACCES" open "$T/m-table/t1" w
try_umount "$T/m-table" umount

# layout=partitions,ro.
try_mount "$T/m-parts" --fstab "$FSTAB" "$T/m-parts"
[ "$(cd "$T/m-parts" && echo *)" = "p1 p2" ] || fail "fstab layout=partitions: $(ls "$T/m-parts")"
cmp "$T/m-parts/p1" <(extract "$T/parts.img" $((2048 * 512)) $((4096 * 512))) ||
    fail "fstab layout=partitions: p1 differs"
cmp "$T/m-parts/p2" <(extract "$T/parts.img" $((6144 * 512)) $((8192 * 512))) ||
    fail "fstab layout=partitions: p2 differs"
is "error EROFS" open "$T/m-parts/p1" w
try_umount "$T/m-parts" umount

# layout=chunks:1M (with nofail, which mount.fuse3 drops).
try_mount "$T/m-chunks" --fstab "$FSTAB" "$T/m-chunks"
[ "$(ls "$T/m-chunks" | wc -l)" -eq 8 ] || fail "fstab layout=chunks:1M: $(ls "$T/m-chunks")"
cmp "$T/m-chunks/00000005" <(extract "$T/disk.img" 5M 1M) || fail "fstab chunks: 00000005 differs"
[[ ,$(mount_options "$T/m-chunks"), == *,default_permissions,* ]] ||
    fail "fstab default_permissions: mounted with '$(mount_options "$T/m-chunks")'"
try_umount "$T/m-chunks" fusermount3 -u

# PROGRAM#SOURCE with type fuse: a slicefs outside the standard path.
try_mount "$T/m-hash" --fstab "$FSTAB" "$T/m-hash"
cmp "$T/m-hash/h" <(extract "$T/disk.img" 4K 4K) || fail "fstab fuse PROGRAM#SOURCE: h differs"
try_umount "$T/m-hash" umount

# Refusals: by name, nothing mounted, no daemon left.
try_refused "$T/m-unknown" 'frobnicate' --fstab "$FSTAB" "$T/m-unknown"
try_refused "$T/m-badwin" 'window=big:0:64M' --fstab "$FSTAB" "$T/m-badwin"
try_refused "$T/m-badval" 'cache=sometimes' --fstab "$FSTAB" "$T/m-badval"
try_refused "$T/m-unknown2" 'no_such_option' -t fuse.slicefs "$T/disk.img" "$T/m-unknown2" \
    -o window=a:0:1M,no_such_option

[ "$(sha256sum <"$T/disk.img")" = "$sum_before" ] || fail "the image changed"
echo "PASS [$TEST_NAME]"
