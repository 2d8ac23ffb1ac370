#!/bin/bash
# Runtime control (slicefsctl): add, remove, resize and reload on a live
# mount. The kernel sees every change at once (a name cached as missing,
# attributes kept for 60 s with cache=always, pages of a shrunk window);
# fio --verify keeps running on another window and on a removed window's
# open handle; bad commands are refused with a message naming the field and
# change nothing (neither the live table nor the saved one); -o save=FILE
# comes back as it was left; another user is refused; a daemon killed while
# it saves leaves the old table or the new one; the daemon exits 0.
. "$(dirname "$0")/lib.sh"
: "${SLICEFSCTL:?set SLICEFSCTL to the slicefsctl binary (ctest does)}"
requires fio
requires setpriv

ctl() { "$SLICEFSCTL" "$@"; }
# refused WHAT FIELD CTL-ARGS... - the command must exit 1 with a message
# naming FIELD, and change neither the live table nor the saved one.
refused() {
    local what=$1 field=$2 status=0
    shift 2
    local before saved_before
    before=$(ctl "$M" list)
    saved_before=$(sha256sum <"$T/saved")
    ctl "$M" "$@" >"$T/out" 2>"$T/err" || status=$?
    [ "$status" = 1 ] || fail "$what: exit $status, not 1 ($(cat "$T/err"))"
    [ ! -s "$T/out" ] || fail "$what: printed on stdout: $(cat "$T/out")"
    grep -q "$field" "$T/err" || fail "$what: the message does not name $field: $(cat "$T/err")"
    [ "$(ctl "$M" list)" = "$before" ] || fail "$what changed the live table"
    [ "$(sha256sum <"$T/saved")" = "$saved_before" ] || fail "$what changed the saved table"
}
# size_is FILE SIZE
size_is() { [ "$(stat -c %s "$1")" = "$2" ] || fail "$1 is $(stat -c %s "$1") bytes, not $2"; }

# A save file that cannot be written refuses the mount.
truncate -s 1M "$T/small.img"
expect_fail_mount "$T/bad" "save=$T/no/such/folder/t: cannot write" "$T/small.img" \
    -o save="$T/no/such/folder/t"

# A 32 MiB image whose MiB k is filled with the letter 'A' + k.
python3 - "$T/img" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    for k in range(32):
        f.write(bytes([65 + k]) * (1 << 20))
EOF
cp "$T/img" "$T/img.orig"
head -c 4M /dev/urandom >"$T/other"
printf 'a 0 1M\nb 1M 1M\nstable 8M 4M\n' >"$T/table"
M=$T/mnt
# cache=always: the kernel keeps attributes for 60 s and names for an hour,
# so only the daemon's notifications can make it see a change.
mount_slicefs "$M" "$T/img" -o table="$T/table",save="$T/saved",cache=always
grep -q '^stable 8388608 4194304 rw ' "$T/saved" || fail "the table was not saved at mount"
ctl "$M" list >"$T/list" || fail "list"
[ "$(wc -l <"$T/list")" = 3 ] || fail "list: $(cat "$T/list")"

# fio writes and verifies the window "stable" during every change below.
fio --name=stable --filename="$M/stable" --rw=randwrite --bs=4k --size=4M --ioengine=psync --thread \
    --verify=crc32c --verify_backlog=64 --time_based --runtime=3600 \
    --output="$T/fio-stable.out" &
FIO_STABLE=$!

# add: a name the kernel has cached as missing is there at once, nested too.
! stat "$M/c" 2>/dev/null || fail "c exists before it is added"
! stat "$M/d1/d2/e" 2>/dev/null || fail "d1/d2/e exists before it is added"
ctl "$M" add c:2M:1M || fail "add c"
ctl "$M" add d1/d2/e:3M:4096:ro || fail "add d1/d2/e"
size_is "$M/c" 1048576
[ "$(head -c 4 "$M/c")" = CCCC ] || fail "c shows the wrong bytes"
[ "$(head -c 4 "$M/d1/d2/e")" = DDDD ] || fail "d1/d2/e shows the wrong bytes"
[ "$(stat -c %A "$M/d1/d2/e")" = -r--r--r-- ] || fail "d1/d2/e is not read-only"
! printf x 2>/dev/null >"$M/d1/d2/e" || fail "wrote to a ro window"
ls "$M" | grep -qx c || fail "ls does not show c"
# A window of another backing file.
ctl "$M" add --backing "$T/other" o:1M:1M || fail "add o of another file"
cmp -n 1048576 -i 1048576:0 "$T/other" "$M/o" || fail "o shows the wrong bytes"
printf 'through-o' | dd of="$M/o" conv=notrunc status=none
[ "$(dd if="$T/other" bs=1 skip=1048576 count=9 status=none)" = through-o ] ||
    fail "a write through o did not reach the other file"

# resize: the size kernel cached is replaced at once, both ways; pages past
# a shrunk end are gone; a handle opened before sees the new size.
size_is "$M/a" 1048576
exec 5<"$M/a"
ctl "$M" resize a 8192 || fail "resize a 8192"
size_is "$M/a" 8192
[ "$(wc -c <"$M/a")" = 8192 ] || fail "a still reads past its new end"
[ "$("$FILEOP" pread "$M/a" 8192 16)" = "read 0" ] || fail "a byte past the shrunk end is readable"
[ "$(dd bs=4096 skip=2 count=1 status=none <&5 | wc -c)" = 0 ] ||
    fail "a handle opened before the shrink reads past the new end"
exec 5<&-
ctl "$M" resize a 3M || fail "resize a 3M"
size_is "$M/a" 3145728
[ "$(dd if="$M/a" bs=1M skip=2 count=1 status=none | head -c 3)" = CCC ] ||
    fail "a grown a shows the wrong bytes"
grep -q '^a 0 3145728 rw ' "$T/saved" || fail "the resize was not saved"

# remove: the name goes at once (with its folders); an open handle keeps
# working until closed, while fio verifies through one.
fio --name=doomed --filename="$M/b" --rw=randwrite --bs=4k --size=1M --ioengine=psync --thread \
    --verify=crc32c --verify_backlog=16 --time_based --runtime=3 \
    --output="$T/fio-doomed.out" &
FIO_DOOMED=$!
wait_until "fio has b open" sh -c "ls -l /proc/$FIO_DOOMED/fd 2>/dev/null | grep -q '$M/b'"
exec 6<>"$M/c"
ctl "$M" remove c || fail "remove c"
! stat "$M/c" 2>/dev/null || fail "c is still there after remove"
ctl "$M" remove b || fail "remove b"
! stat "$M/b" 2>/dev/null || fail "b is still there after remove"
! ls "$M" | grep -qx b || fail "ls still shows b"
ctl "$M" remove d1/d2/e || fail "remove d1/d2/e"
! stat "$M/d1" 2>/dev/null || fail "the folder d1 outlived its only window"
# The same name again: a window of its own, while the old handle keeps the old one.
ctl "$M" add b:5M:4096 || fail "add b again"
[ "$(head -c 2 "$M/b")" = FF ] || fail "the new b shows the wrong bytes"
ctl "$M" add c:6M:4096 || fail "add c again"
[ "$(stat -c %i "$M/c")" != "$(stat -L -c %i /proc/self/fd/6)" ] ||
    fail "the new c shares its inode number with the removed one"
[ "$(head -c 4 <&6)" = CCCC ] || fail "the removed c's handle does not read its bytes"
printf 'via-old-handle' >&6
exec 6<&-
[ "$(dd if="$T/img" bs=1 skip=$((2 * 1048576 + 4)) count=14 status=none)" = via-old-handle ] ||
    fail "a write through the removed window's handle did not reach its bytes"
job_ends "$FIO_DOOMED" "fio on the removed window"
wait "$FIO_DOOMED" || fail "fio on the removed window's handle failed: $(cat "$T/fio-doomed.out")"
grep -q 'err= 0' "$T/fio-doomed.out" || fail "fio on the removed window: $(cat "$T/fio-doomed.out")"

# A folder that goes away while a process is in it, and comes back: what
# the kernel cached in it meanwhile (a miss, looked up from inside) must
# not hide a window added there.
ctl "$M" add g1/g2/w1:4M:4096 || fail "add g1/g2/w1"
(cd "$M/g1/g2" && exec sleep 600) &
INSIDE=$!
wait_until "a process is in g1/g2" sh -c "[ \"\$(readlink /proc/$INSIDE/cwd)\" = '$M/g1/g2' ]"
ctl "$M" remove g1/g2/w1 || fail "remove g1/g2/w1"
! stat "$M/g1" 2>/dev/null || fail "g1 outlived its only window"
! stat "/proc/$INSIDE/cwd/w2" 2>/dev/null || fail "w2 exists before it is added"
ctl "$M" add g1/g2/w2:4M:8192 || fail "add g1/g2/w2"
size_is "$M/g1/g2/w2" 8192
kill "$INSIDE"
wait "$INSIDE" 2>/dev/null || true

# Bad commands: exit 1, a message naming the field, nothing changed.
refused "a duplicate name" PATH add stable:4M:1M
refused "a window past the end" LENGTH add x:31M:2M
refused "an offset past the end" OFFSET add x:40M:1
refused "a bad number" OFFSET add x:12Q:1
refused "a missing field" LENGTH add x:0
refused "a bad mode" MODE add x:0:1:rwx
refused "a path with .." PATH add ../x:0:1
ctl "$M" add f/g:4M:4096 || fail "add f/g"
refused "removing a missing window" PATH remove nope
refused "removing a folder" folder remove f
refused "resizing a folder" folder resize f 1
refused "resizing past the end" LENGTH resize c 40M
refused "a bad length" LENGTH resize c lots
refused "an unknown command" "unknown command" frobnicate
refused "too many arguments" usage remove c c
status=0
ctl "$M" add x:0:1 "$T/missing" 2>"$T/err" || status=$?
[ "$status" = 1 ] && grep -q missing "$T/err" || fail "a missing backing file: $status $(cat "$T/err")"

# reload: the table file read again, the difference applied.
printf 'a 0 3M\nstable 8M 4M\nr1 6M 4096\nsub/r2 7M 4096 ro\n' >"$T/table"
ctl "$M" reload || fail "reload"
ctl "$M" list | cut -d' ' -f1 | sort >"$T/names"
printf '%s\n' a r1 stable sub/r2 | diff - "$T/names" >&2 || fail "reload: the live table is not the file's"
[ "$(head -c 2 "$M/sub/r2")" = HH ] || fail "sub/r2 shows the wrong bytes"
! stat "$M/f/g" 2>/dev/null || fail "f/g outlived the reload"
printf 'a 0 3M\nbroken line\n' >"$T/table"
refused "a reload of a broken table" "table:2" reload
# A folder that becomes a window, and back, in one reload each.
stat "$M/sub/r2" >/dev/null || fail "sub/r2"
printf 'a 0 3M\nstable 8M 4M\nr1 6M 4096\nsub 7M 8192\n' >"$T/table"
ctl "$M" reload || fail "reload: sub a window"
size_is "$M/sub" 8192
printf 'a 0 3M\nstable 8M 4M\nr1 6M 4096\nsub/r2 7M 4096 ro\n' >"$T/table"
ctl "$M" reload || fail "reload: sub a folder again"
size_is "$M/sub/r2" 4096
# A FIFO named as a backing file is refused at once, not waited on.
mkfifo "$T/fifo"
status=0
timeout 20 "$SLICEFSCTL" "$M" add q:0:1 "$T/fifo" 2>"$T/err" || status=$?
[ "$status" = 1 ] && grep -q "fifo" "$T/err" || fail "a FIFO as backing file: $status $(cat "$T/err")"
ctl "$M" list >/dev/null || fail "the control socket no longer answers after a FIFO"
# A backing file inside this very mount: refused (its requests would wait
# on this daemon), by its name and through a link.
refused "a backing file inside the mount" "inside this mount" add q:0:1 "$M/a"
ln -s "$M/a" "$T/link-inside"
refused "a link to a file inside the mount" "inside this mount" add q:0:1 "$T/link-inside"


# The window fio verifies was never touched, and verified clean.
kill -0 "$FIO_STABLE" || fail "fio on the stable window ended early: $(cat "$T/fio-stable.out")"
kill -INT "$FIO_STABLE"
job_ends "$FIO_STABLE" "fio on the stable window"
wait "$FIO_STABLE" || true
grep -q 'err= 0' "$T/fio-stable.out" || fail "fio on the stable window: $(cat "$T/fio-stable.out")"
if grep -qiE 'verify (failed|error)|bad magic|bad header' "$T/fio-stable.out"; then
    fail "fio reported a verify failure: $(cat "$T/fio-stable.out")"
fi

# Another user: refused by the socket's folder, and by SO_PEERCRED where
# the folder lets them reach it.
status=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SLICEFSCTL" "$M" list \
    >"$T/out" 2>"$T/err" || status=$?
[ "$status" = 2 ] || fail "another user reached the socket: $status $(cat "$T/err")"
socket=$(getfattr --absolute-names --only-values -n user.slicefs.control "$M")
chmod 711 "$T" "$XDG_RUNTIME_DIR" "$(dirname "$socket")"
chmod 666 "$socket"
status=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SLICEFSCTL" "$M" remove a \
    >"$T/out" 2>"$T/err" || status=$?
chmod 700 "$T" "$XDG_RUNTIME_DIR" "$(dirname "$socket")"
[ "$status" = 1 ] && grep -q "not allowed" "$T/err" ||
    fail "another user was not refused by SO_PEERCRED: $status $(cat "$T/err")"
stat "$M/a" >/dev/null || fail "another user's command removed a"

# -o save=FILE: unmounted and mounted again from it, the mount is as it was left.
printf 'a 0 3M\nstable 8M 4M\nr1 6M 4096\nsub/r2 7M 4096 ro\n' >"$T/table"
ctl "$M" add late:13M:8192 || fail "add late"
ctl "$M" list >"$T/left"
unmount_slicefs "$M"
grep -q "^late 13631488 8192 rw " "$T/saved" || fail "the last change was not saved"
mount_slicefs "$M" "$T/img" -o table="$T/saved",save="$T/saved"
ctl "$M" list | diff "$T/left" - >&2 || fail "the saved table did not come back as it was left"
[ "$(head -c 2 "$M/late")" = NN ] || fail "late shows the wrong bytes after the remount"
unmount_slicefs "$M"

# Nothing else changed: the image differs from the original only where
# the writes above went (fio's two windows, the removed c's handle).
python3 - "$T/img" "$T/img.orig" <<'EOF_CMP' || fail "bytes no write went to changed"
import sys
now, was = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
MiB = 1 << 20
written = [(MiB, 2 * MiB), (2 * MiB + 4, 2 * MiB + 18), (8 * MiB, 12 * MiB)]
at = 0
for lo, hi in written + [(len(was), len(was))]:
    if now[at:lo] != was[at:lo]:
        sys.exit("bytes in [%d, %d) changed" % (at, lo))
    at = hi
EOF_CMP

# reload of layout=partitions: a partition added to the table appears, one
# resized takes its new size.
if command -v sfdisk >/dev/null; then
    truncate -s 64M "$T/disk.img"
    printf 'label: gpt\nstart=2048, size=16384\n' | sfdisk -q "$T/disk.img"
    mount_slicefs "$M" "$T/disk.img" -o layout=partitions,cache=always
    size_is "$M/p1" $((16384 * 512))
    ! stat "$M/p2" 2>/dev/null || fail "p2 before it exists"
    printf 'label: gpt\nstart=2048, size=32768\nstart=40960, size=8192\n' | sfdisk -q "$T/disk.img"
    ctl "$M" reload || fail "reload of the partition table"
    size_is "$M/p1" $((32768 * 512))
    size_is "$M/p2" $((8192 * 512))
    unmount_slicefs "$M"
elif [ "${CI:-}" = true ]; then
    fail "sfdisk is missing"
fi

# A daemon SIGKILLed while it saves leaves the old table or the new one:
# 16,384 chunks make a save of about 600 kB; the command takes about 0.1 s
# here, so the kills land before, during and after it.
for delay in 0 0.02 0.04 0.06 0.08 0.1 0.13 0.17 0.25; do
    truncate -s 64M "$T/chunks.img"
    rm -f "$T/chunks.saved"
    mount_slicefs "$M" "$T/chunks.img" -o layout=chunks:4K,save="$T/chunks.saved",nostate
    cp "$T/chunks.saved" "$T/chunks.old"
    ctl "$M" add extra:0:4096 >/dev/null 2>&1 &
    CTL=$!
    sleep "$delay"
    kill -KILL "$DAEMON_PID"
    wait "$CTL" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    fusermount3 -u "$M" 2>/dev/null || umount -l "$M"
    forget_mount "$M"
    [ "$delay" = 0 ] || grep -q "replaced a stale socket" "$DAEMON_LOG" ||
        fail "the socket of the daemon killed before was not replaced: $(cat "$DAEMON_LOG")"
    if cmp -s "$T/chunks.saved" "$T/chunks.old"; then
        echo "SIGKILL after $delay s: the old table"
    else
        grep -v '^extra ' "$T/chunks.saved" | cmp -s - "$T/chunks.old" &&
            [ "$(grep -c '^extra 0 4096 ' "$T/chunks.saved")" = 1 ] ||
            fail "SIGKILL after $delay s left a table that is neither the old nor the new one"
        echo "SIGKILL after $delay s: the new table"
    fi
done
echo "PASS [$TEST_NAME]"
