#!/bin/bash
# Per-window times, stable identity and the state file (SPEC section 4,
# "Identity, times and digests"; issue 13).
#
# Over a 4 MiB image in 1 MiB chunks plus a window "all" over everything:
# every write through a chunk moves its mtime and ctime, also a write to an
# already dirty page, and moves only the windows over the written bytes;
# touch sets one window's times, never the backing file's; inode numbers and
# times are the same after a remount, also with a window added; a file
# handle stays valid across a remount; an outside change (between mounts, or
# while mounted) moves only the windows over it; cache=auto never serves
# stale pages when the backing file's mtime is set back after an outside
# write; a corrupt, truncated or foreign state is reported and rebuilt; a
# daemon killed while it writes its state leaves a state that is whole.
. "$(dirname "$0")/lib.sh"

img=$T/disk.img
head -c 4M /dev/urandom >"$img"
M=$T/m
S=$T/s.state
OPTS=layout=chunks:1M,window=all:0:4M,state=$S

ns() { stat -c %.9Y "$1" | tr -d .; }      # mtime in ns
cns() { stat -c %.9Z "$1" | tr -d .; }     # ctime in ns
names=(00000000 00000001 00000002 00000003 all)
snapshot() { local n; for n in "${names[@]}"; do echo "$n $(ns "$M/$n") $(stat -c %i "$M/$n")"; done; }
# moved BEFORE AFTER NAME... - exactly the named windows' mtimes moved.
moved() {
    local before=$1 after=$2 n want b a
    shift 2
    for n in "${names[@]}"; do
        want=no
        [[ " $* " == *" $n "* ]] && want=yes
        b=$(awk -v n="$n" '$1 == n {print $2}' "$before")
        a=$(awk -v n="$n" '$1 == n {print $2}' "$after")
        if [ $want = yes ] && [ "$a" -le "$b" ]; then fail "$n's mtime did not move ($b -> $a)"; fi
        if [ $want = no ] && [ "$a" != "$b" ]; then fail "$n's mtime moved ($b -> $a)"; fi
    done
}
# wait_for COMMAND... - until it succeeds, within the deadline.
wait_for() {
    local i
    for ((i = 0; i < DEADLINE * 20; i++)); do "$@" && return 0; sleep 0.05; done
    fail "timed out waiting for: $*"
}

mount_slicefs "$M" "$img" -o "$OPTS"
wait_digests
backing_mtime=$(ns "$img")
snapshot >"$T/t0"
# A first mount: every window shows the backing file's times.
for n in "${names[@]}"; do [ "$(ns "$M/$n")" = "$backing_mtime" ] || fail "$n's first mtime is not the file's"; done

# Every write moves the written window's mtime and ctime, a dirty page too.
prev=$(ns "$M/00000001") prevc=$(cns "$M/00000001")
for i in 1 2 3 4 5 6 7 8 9 10; do
    is "wrote 10" pwrite "$M/00000001" 100 10 "$i"
    now=$(ns "$M/00000001") nowc=$(cns "$M/00000001")
    [ "$now" -gt "$prev" ] || fail "write $i to a dirty page did not move the mtime ($prev -> $now)"
    [ "$nowc" -gt "$prevc" ] || fail "write $i did not move the ctime"
    prev=$now prevc=$nowc
done
snapshot >"$T/t1"
moved "$T/t0" "$T/t1" 00000001 all

# Truncation (zero-fill), punch-hole and copy_file_range are changes too.
is "ok" fallocate "$M/00000002" punch 0 4096
snapshot >"$T/t2"
moved "$T/t1" "$T/t2" 00000002 all
is "copied 100" copy "$M/00000000" 0 "$M/00000003" 10 100
snapshot >"$T/t3"
moved "$T/t2" "$T/t3" 00000003 all

# touch sets that window's times only; the backing file's stay.
bm=$(ns "$img")
touch -d @1000 "$M/00000000"
[ "$(stat -c %Y "$M/00000000")" = 1000 ] || fail "touch -d did not set the window's mtime"
[ "$(ns "$img")" = "$bm" ] || fail "touch on a window changed the backing file's mtime"
snapshot >"$T/t4"
unmount_slicefs "$M"

# Remount: the same inode numbers and times; with a window added, too.
mount_slicefs "$M" "$img" -o "$OPTS"
snapshot >"$T/t5"
cmp -s "$T/t4" "$T/t5" || { diff "$T/t4" "$T/t5" >&2; fail "times or inode numbers changed across a remount"; }
[ "$(stat -c %Y "$M/00000000")" = 1000 ] || fail "the touched time did not survive a remount"
read -r _ htype hex < <("$FILEOP" handle "$M/00000002")
[ -n "$hex" ] || fail "no file handle for a window"
unmount_slicefs "$M"
mount_slicefs "$M" "$img" -o "$OPTS,window=extra:8K:4K"
snapshot >"$T/t6"
cmp -s "$T/t4" "$T/t6" || { diff "$T/t4" "$T/t6" >&2; fail "a window added moved other windows' times or numbers"; }
is "ino $(stat -c %i "$M/00000002") size 1048576" byhandle "$M" "$htype" "$hex"
unmount_slicefs "$M"

# An outside change between mounts moves only the windows over it.
printf 'outside' | dd of="$img" bs=1 seek=$((3 * 1048576 + 5)) conv=notrunc status=none
mount_slicefs "$M" "$img" -o "$OPTS"
snapshot >"$T/t7"
moved "$T/t6" "$T/t7" 00000003 all

# While mounted, too: at the next stat (after the attribute timeout).
printf 'again' | dd of="$img" bs=1 seek=$((2 * 1048576 + 9)) conv=notrunc status=none
c2=$(ns "$M/00000002")
chunk2_moved() { [ "$(ns "$M/00000002")" -gt "$c2" ]; }
wait_for chunk2_moved
snapshot >"$T/t8"
moved "$T/t7" "$T/t8" 00000002 all

# cache=auto: an outside write, then the backing file's mtime set back (as a
# tool that restores times does): the next open never serves stale pages.
cat "$M/00000001" >/dev/null
old_mtime=$(stat -c %.9Y "$img")
printf 'NEWBYTES' | dd of="$img" bs=1 seek=$((1048576 + 64)) conv=notrunc status=none
touch -d "@$old_mtime" "$img"
[ "$(extract "$M/00000001" 64 8)" = NEWBYTES ] || fail "stale pages served after the mtime was set back"
unmount_slicefs "$M"

# A damaged state is reported, not trusted, and made anew.
for damage in corrupt truncate foreign; do
    case $damage in
    corrupt) printf 'XXXXXXXX' | dd of="$S" bs=1 seek=300 conv=notrunc status=none ;;
    truncate) truncate -s 200 "$S" ;;
    foreign) cp "$S" "$T/keep"; head -c 4M /dev/zero >"$T/other.img"
             mount_slicefs "$M" "$T/other.img" -o state="$S"; unmount_slicefs "$M" ;;
    esac
    mount_slicefs "$M" "$img" -o "$OPTS"
    grep -q "state file '$S' .*not used" "$DAEMON_LOG" || { cat "$DAEMON_LOG" >&2; fail "a $damage state was not reported"; }
    unmount_slicefs "$M"
    mount_slicefs "$M" "$img" -o "$OPTS"
    ! grep -q "not used" "$DAEMON_LOG" || { cat "$DAEMON_LOG" >&2; fail "the state was not made anew after a $damage one"; }
    unmount_slicefs "$M"
done

# SIGKILL while the state is written (a big state: 1,048,576 chunks, 64 MiB):
# the next mount finds a whole state, old or new, and no leftover.
truncate -s 64G "$T/big.img"
for delay in 0 0.02 0.05 0.1 0.2; do
    mount_slicefs "$M" "$T/big.img" -o layout=chunks:64K,state="$T/big.state"
    pid=$DAEMON_PID
    is "wrote 3" pwrite "$M/00000007" 0 3 k
    fusermount3 -u "$M"
    forget_mount "$M"
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" || fail "daemon $pid did not die"
    wait "$pid" 2>/dev/null || true
    mount_slicefs "$M" "$T/big.img" -o layout=chunks:64K,state="$T/big.state"
    ! grep -q "not used" "$DAEMON_LOG" || { cat "$DAEMON_LOG" >&2; fail "state broken by SIGKILL after ${delay}s"; }
    unmount_slicefs "$M"
    ls "$T" | grep -q 'big.state.tmp' && fail "a leftover state file after SIGKILL (${delay}s)"
done

# -o nostate: the backing file's times, and touch sets them.
mount_slicefs "$M" "$img" -o layout=chunks:1M,nostate
[ "$(ns "$M/00000000")" = "$(ns "$img")" ] || fail "nostate: a window's mtime is not the file's"
touch -d @2000 "$M/00000001"
[ "$(stat -c %Y "$img")" = 2000 ] || fail "nostate: touch did not set the backing file's mtime"
unmount_slicefs "$M"

# The default state folder: $XDG_STATE_HOME/slicefs (lib.sh sets it).
mount_slicefs "$M" "$img" -o layout=chunks:1M
unmount_slicefs "$M"
ls "$XDG_STATE_HOME"/slicefs/*.state >/dev/null || fail "no state in the default folder ($XDG_STATE_HOME)"
# A default folder that cannot be made: a warning, and a mount without state.
XDG_STATE_HOME=/proc/no-such-folder mount_slicefs "$M" "$img" -o layout=chunks:1M
grep -q "state folder '/proc/no-such-folder/slicefs'.*(no state)" "$DAEMON_LOG" ||
    { cat "$DAEMON_LOG" >&2; fail "no warning for a default state folder that cannot be made"; }
[ "$(ns "$M/00000000")" = "$(ns "$img")" ] || fail "without state, a window's mtime is not the file's"
unmount_slicefs "$M"
# One asked for (-o state=) that cannot be made: refused, nothing mounted.
expect_fail_mount "$M" "state file '/proc/no-such-folder/x[^']*': No such file or directory" \
    "$img" -o layout=chunks:1M,state=/proc/no-such-folder/x
echo ok
