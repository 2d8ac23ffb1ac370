#!/bin/bash
# Resource limits and hostile surroundings:
# - ulimit -n 16: the daemon mounts and serves (concurrent O_DIRECT readers
#   on several windows, writes, fsync); a table that needs more backing
#   files than the limit allows is refused (exit 1, the table line and
#   "Too many open files"), as is a limit too low to open /dev/fuse or the
#   state file;
# - a backing file on a read-only file system: an explicit rw window is
#   refused at mount (exit 1, the window and MODE named), the default mode
#   falls back to ro (writes EACCES, no write bits), cow still works and
#   writes nothing;
# - mount points: not a directory, already a slicefs mount ("already a FUSE
#   mount"), missing: each refused with exit 1, a message, nothing mounted.
. "$(dirname "$0")/lib.sh"
requires getfattr
[ "$(id -u)" = 0 ] || skip "needs root to mount a read-only tmpfs"

RO_FS=       # the read-only file system, while mounted
# After lib.sh's cleanup has ended slicefs: the read-only file system.
cleanup_extra() {
    if [ -n "$RO_FS" ]; then
        umount "$RO_FS" 2>/dev/null || umount -l "$RO_FS" 2>/dev/null || true
    fi
}

# refused PATTERN COMMAND... - COMMAND (slicefs run some way) exits 1 with a
# message matching PATTERN, within the deadline.
refused() {
    local pattern=$1 status=0
    shift
    timeout "$DEADLINE" "$@" >"$T/refused.log" 2>&1 || status=$?
    [ "$status" -eq 1 ] || { cat "$T/refused.log" >&2; fail "$* exited $status, expected 1"; }
    grep -Eq -- "$pattern" "$T/refused.log" ||
        { cat "$T/refused.log" >&2; fail "message for '$*' does not match '$pattern'"; }
}

MiB=1048576
head -c $((4 * MiB)) /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/expected.img"
M=$T/mnt

# --- ulimit -n 16 -----------------------------------------------------------
# with_fds N COMMAND... - runs COMMAND with only fds 0, 1 and 2 open (none
# inherited from ctest) and at most N of them.
cat >"$T/with-fds" <<'WRAPPER'
#!/bin/bash
fds=(/proc/$$/fd/*)
for f in "${fds[@]}"; do
    n=${f##*/}
    if [ "$n" -gt 2 ] && [ -e "/proc/$$/fd/$n" ]; then exec {n}>&-; fi
done
ulimit -n "$1" || exit 99
shift
exec "$@"
WRAPPER
chmod +x "$T/with-fds"
cat >"$T/slicefs-16-fds" <<WRAPPER
#!/bin/sh
exec "$T/with-fds" 16 "$SLICEFS" "\$@"
WRAPPER
chmod +x "$T/slicefs-16-fds"
REAL_SLICEFS=$SLICEFS
SLICEFS=$T/slicefs-16-fds
mount_slicefs "$M" "$T/disk.img" -o window=a:0:1M,window=b:1M:1M,window=c:2M:2M
SLICEFS=$REAL_SLICEFS
[ "$(awk '$1 == "Max" && $3 == "files" { print $4 }' "/proc/$DAEMON_PID/limits")" = 16 ] ||
    fail "the daemon does not run with 16 open files at most"
# Eight concurrent readers keep several request threads busy at once.
readers=()
for i in 1 2 3 4 5 6 7 8; do
    w=$(printf 'a\nb\nc' | sed -n "$(( (i % 3) + 1 ))p")
    "$FILEOP" loop read "$M/$w" 0 "$MiB" 65536 2 direct >"$T/reader.$i.out" &
    readers+=($!)
done
for pid in "${readers[@]}"; do
    wait_gone "$pid" || { kill "${readers[@]}" 2>/dev/null; fail "a reader hangs under ulimit -n 16"; }
    wait "$pid" || true
done
for i in 1 2 3 4 5 6 7 8; do
    grep -Eq '^passes [1-9][0-9]*$' "$T/reader.$i.out" ||
        fail "reader $i under ulimit -n 16: $(cat "$T/reader.$i.out")"
done
is "wrote 100000" pwrite "$M/c" 5000 100000 u
head -c 100000 /dev/zero | tr '\0' u |
    dd of="$T/expected.img" oflag=seek_bytes seek=$((2 * MiB + 5000)) conv=notrunc status=none
is "ok" fsync "$M/c"
cmp <(extract "$T/expected.img" 0 "$MiB") "$M/a" || fail "a under ulimit -n 16"
cmp <(extract "$T/expected.img" $((2 * MiB)) $((2 * MiB))) "$M/c" || fail "c under ulimit -n 16"
unmount_slicefs "$M"
cmp "$T/expected.img" "$T/disk.img" || fail "the writes made under ulimit -n 16 are not in the file"

# More backing files than descriptors: refused, naming the line.
: >"$T/many.tab"
for i in $(seq 1 20); do
    head -c 8192 /dev/urandom >"$T/part$i.img"
    echo "w$i 0 4K rw part$i.img" >>"$T/many.tab"
done
mkdir -p "$M"
refused "^slicefs: .*many\.tab:[0-9]+: backing file '.*part[0-9]+\.img': Too many open files$" \
    "$T/with-fds" 16 "$SLICEFS" -f -o table="$T/many.tab" "$M"
! is_mounted "$M" || fail "the refused table left $M mounted"
# Too few descriptors to open /dev/fuse (without a state file, which would
# come first), or the state file.
refused "^fuse: failed to open /dev/fuse: Too many open files$" \
    "$T/with-fds" 4 "$SLICEFS" -f -o nostate "$T/disk.img" "$M"
! is_mounted "$M" || fail "slicefs under ulimit -n 4 left $M mounted"
refused "^slicefs: state file '.*\.state\.tmp\.[0-9]+': Too many open files$" \
    "$T/with-fds" 4 "$SLICEFS" -f -o state="$T/disk.state" "$T/disk.img" "$M"
! is_mounted "$M" || fail "slicefs under ulimit -n 4 left $M mounted"

# --- A backing file on a read-only file system ------------------------------
RO_FS=$T/rofs
mkdir -p "$RO_FS"
mount -t tmpfs -o size=16M tmpfs "$RO_FS" || skip "cannot mount a tmpfs"
head -c "$MiB" /dev/urandom >"$RO_FS/ro.img"
cp "$RO_FS/ro.img" "$T/ro-copy.img"
mount -o remount,ro "$RO_FS" || fail "cannot remount the tmpfs read-only"
[ "$("$FILEOP" open "$RO_FS/ro.img" rw)" = "error EROFS" ] || fail "the tmpfs is not read-only"

expect_fail_mount "$M" "^slicefs: window=w:0:4K:rw: MODE: rw, but '$RO_FS/ro.img' cannot be opened for writing$" \
    "$RO_FS/ro.img" -o window=w:0:4K:rw
printf 'w 0 4K rw %s\n' "$RO_FS/ro.img" >"$T/rw.tab"
expect_fail_mount "$M" "^slicefs: $T/rw.tab:1: MODE: rw, but '$RO_FS/ro.img' cannot be opened for writing$" \
    -o table="$T/rw.tab"

# The default mode is ro there: no write bits, writes refused, reads work.
mount_slicefs "$M" "$RO_FS/ro.img" -o window=w:0:512K,window=x:512K:512K:cow
[ "$(getfattr --only-values -n user.slicefs.mode "$M/w" 2>/dev/null)" = ro ] || fail "the default mode on a read-only file is not ro"
[ "$(stat -c %A "$M/w")" = "-r--r--r--" ] || fail "w's permission bits: $(stat -c %A "$M/w")"
is "error EACCES" open "$M/w" w
is "error EACCES" open "$M/w" rw
is "error EACCES" pwrite "$M/w" 0 10 z
is "error EACCES" truncate "$M/w" 0
cmp <(extract "$T/ro-copy.img" 0 $((512 * 1024))) "$M/w" || fail "w does not read its bytes"
# cow needs no write access to the file.
is "wrote 4096" pwrite "$M/x" 4096 4096 c
[ "$("$FILEOP" pread "$M/x" 0 8192)" = "read 8192" ] || fail "x does not read"
[ "$(extract "$M/x" 4096 4)" = cccc ] || fail "x does not show its own write"
unmount_slicefs "$M"
cmp "$T/ro-copy.img" "$RO_FS/ro.img" || fail "the file on the read-only file system changed"
# The whole-file default too.
mount_slicefs "$M" "$RO_FS/ro.img"
[ "$(getfattr --only-values -n user.slicefs.mode "$M/ro.img" 2>/dev/null)" = ro ] || fail "the whole-file window is not ro"
is "error EACCES" open "$M/ro.img" w
unmount_slicefs "$M"
umount "$RO_FS" || fail "cannot unmount the tmpfs"
RO_FS=

# --- Mount points -----------------------------------------------------------
: >"$T/plain-file"
refused "^slicefs: mount point '$T/plain-file' is not a directory$" \
    "$SLICEFS" -f "$T/disk.img" "$T/plain-file"
[ -f "$T/plain-file" ] && [ ! -s "$T/plain-file" ] || fail "the plain file was changed"

# (libfuse's command-line parser says it first, naming the mount point.)
refused "^fuse: bad mount point \`$T/missing': No such file or directory$" \
    "$SLICEFS" -f "$T/disk.img" "$T/missing"
[ ! -e "$T/missing" ] || fail "slicefs created the missing mount point"

mount_slicefs "$M" "$T/disk.img" -o window=a:0:1M
first=$DAEMON_PID
refused "^slicefs: mount point '$M' is already a FUSE mount \(unmount it first: fusermount3 -u $M\)$" \
    "$SLICEFS" -f "$T/disk.img" -o window=other:1M:1M "$M"
# The first mount is untouched.
[ "$(ls "$M")" = a ] || fail "the first mount changed: $(ls "$M")"
cmp <(extract "$T/disk.img" 0 "$MiB") "$M/a" || fail "the first mount no longer reads"
[ "$(grep -c " $M fuse" /proc/mounts)" = 1 ] || fail "$M is mounted more than once"
unmount_slicefs "$M" "$first"
