#!/bin/bash
# The daemon exits 0 and leaves no mount after fusermount3 -u, SIGTERM,
# SIGINT and SIGHUP (also while a window is held open), and the data written
# just before is in the backing file afterwards.
. "$(dirname "$0")/lib.sh"

# bash starts background commands of a script with SIGINT ignored, and
# libfuse leaves an ignored signal alone (as nohup expects): start the daemon
# with the default dispositions, as a terminal or a service manager would.
cat >"$T/slicefs-default-signals" <<WRAPPER
#!/bin/sh
exec env --default-signal=INT,TERM,HUP "$SLICEFS" "\$@"
WRAPPER
chmod +x "$T/slicefs-default-signals"
SLICEFS=$T/slicefs-default-signals

SIZE=$((4 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/expected.img"
M=$T/mnt

# write_some TAG - writes fresh bytes through two windows (no fsync), and
# the same bytes into the expected copy.
write_some() {
    head -c 70000 /dev/urandom >"$T/data.$1"
    dd if="$T/data.$1" of="$M/w" oflag=seek_bytes seek=4097 conv=notrunc status=none ||
        fail "$1: dd into w failed"
    dd if="$T/data.$1" of="$T/expected.img" oflag=seek_bytes seek=$((1048576 + 4097)) \
        conv=notrunc status=none
    printf '%s' "$1-was-here" | dd of="$M/disk/all" oflag=seek_bytes seek=$((SIZE - 100)) \
        conv=notrunc status=none || fail "$1: dd into all failed"
    printf '%s' "$1-was-here" | dd of="$T/expected.img" oflag=seek_bytes seek=$((SIZE - 100)) \
        conv=notrunc status=none
}

# stop_by SIGNAL - sends SIGNAL to the daemon, which must exit 0 within the
# deadline, leaving nothing mounted.
stop_by() {
    local sig=$1 pid=$DAEMON_PID status=0
    kill -s "$sig" "$pid"
    wait_gone "$pid" || fail "SIG$sig: the daemon is still running $DEADLINE s later"
    wait "$pid" || status=$?
    if is_mounted "$M"; then
        fusermount3 -u "$M" || fusermount3 -u -z "$M"
        forget_mount "$M"
        fail "SIG$sig: the daemon exited ($status) but left $M mounted"
    fi
    forget_mount "$M"
    [ "$status" -eq 0 ] || { cat "$DAEMON_LOG" >&2; fail "SIG$sig: the daemon exited with status $status"; }
}

mount_it() {
    mount_slicefs "$M" "$T/disk.img" -o window=w:1M:1M,window=disk/all:0:end
}

mount_it
write_some umount
unmount_slicefs "$M"
cmp "$T/expected.img" "$T/disk.img" || fail "fusermount3 -u: the writes are not in the backing file"

for sig in TERM INT HUP; do
    mount_it
    write_some "$sig"
    stop_by "$sig"
    cmp "$T/expected.img" "$T/disk.img" || fail "SIG$sig: the writes are not in the backing file"
done

# A signal while a window is open (written through and still open).
for sig in TERM HUP; do
    mount_it
    exec 3<>"$M/w"
    write_some "open-$sig"
    printf 'through-fd3' >&3
    printf 'through-fd3' |
        dd of="$T/expected.img" oflag=seek_bytes seek=1048576 conv=notrunc status=none
    stop_by "$sig"
    exec 3>&-
    cmp "$T/expected.img" "$T/disk.img" || fail "SIG$sig with an open file: the writes are not in the backing file"
done
! grep -qF "$T" /proc/mounts || fail "something is still mounted under $T"
