#!/bin/bash
# Permissions are enforced, not only shown (SPEC section 4, issue 17).
#
# Root mounts root-owned images with allow_other; other users (setpriv to
# uids without root's groups) get exactly what each window's owner, group
# and mode bits allow: a 0600 window cannot be read; a 0644 window can be
# read but not written, truncated, fallocated, touched or given xattrs; a
# 0666 one can be written and touched to now, but its times not set back;
# a group window only by members; a ro window by nobody; -o umask narrows.
# Every refused call leaves the backing file's bytes and mtime as they were.
# Then a plain user mounts, uses and unmounts a file of its own (without
# root, as the README promises), with and without allow_other (which needs
# user_allow_other in /etc/fuse.conf). /dev/fuse and /etc/fuse.conf are
# restored on exit.
. "$(dirname "$0")/lib.sh"
: "${SLICEFSCTL:?set SLICEFSCTL to the slicefsctl binary (ctest does)}"
requires setpriv
requires setfattr

U=65534            # nobody: mounts in part 2 (fusermount3 wants a user name)
V=4343             # another user, no name needed
G=4545             # a group U is in only when the test says so
as() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --clear-groups "$@"; }
as_member() { local who=$1; shift; setpriv --reuid="$who" --regid="$who" --groups="$G" "$@"; }
# says WANT WHO FILEOP-ARGS... - fileop run as WHO (as, as_member, root) answers WANT.
says() {
    local want=$1 who=$2 got
    shift 2
    case $who in
    root) got=$("$FILEOP" "$@") ;;
    member:*) got=$(as_member "${who#member:}" "$FILEOP" "$@") ;;
    *) got=$(as "$who" "$FILEOP" "$@") ;;
    esac
    [ "$got" = "$want" ] || fail "fileop $* as $who: got '$got', expected '$want'"
}

chmod 755 "$T"
img() { head -c 1M /dev/urandom >"$T/$1"; chown "$2" "$T/$1"; chmod "$3" "$T/$1"; }
img secret.img 0:0 0600
img shared.img 0:0 0644
img world.img 0:0 0666
img group.img 0:$G 0660
img owned.img $U:$U 0644
cat >"$T/t.tab" <<TAB
secret     0 1M rw  secret.img
shared     0 1M rw  shared.img
shared_end 0 end rw shared.img
world      0 1M rw  world.img
world_ro   0 1M ro  world.img
world_cow  0 1M cow world.img
group      0 1M rw  group.img
owned      0 1M rw  owned.img
TAB
fingerprint() { sha256sum "$T/$1" | cut -d' ' -f1; stat -c %Y.%s "$T/$1"; }
for f in secret shared world group owned; do fingerprint $f.img >"$T/$f.before"; done
unchanged() { fingerprint "$1.img" | cmp -s - "$T/$1.before" || fail "$1.img changed: $2"; }

M=$T/m
mount_slicefs "$M" -o table="$T/t.tab",allow_other

# What the windows show.
[ "$(stat -c '%a %u %g' "$M/shared")" = "644 0 0" ] || fail "shared shows $(stat -c '%a %u %g' "$M/shared")"
[ "$(stat -c '%a' "$M/world_ro")" = 444 ] || fail "world_ro shows $(stat -c %a "$M/world_ro")"
[ "$(stat -c '%a %u' "$M/world_cow")" = "666 0" ] || fail "world_cow shows $(stat -c '%a %u' "$M/world_cow")"

# 0600: another user reads nothing; its owner (root) does.
says "error EACCES" $V pread "$M/secret" 0 4096
as $V cat "$M/secret" >/dev/null 2>&1 && fail "cat of a 0600 window by another user worked"
cmp -s "$M/secret" "$T/secret.img" || fail "root cannot read its own 0600 window"

# 0644: read yes; everything that writes, no.
as $V cat "$M/shared" | cmp -s - "$T/shared.img" || fail "another user cannot read a 0644 window"
says "error EACCES" $V pwrite "$M/shared" 0 5 P
says "error EACCES" $V open "$M/shared" w
says "error EACCES" $V open "$M/shared" trunc
says "error EACCES" $V truncate "$M/shared" 0
says "error EACCES" $V truncate "$M/shared_end" 0
says "error EACCES" $V fallocate "$M/shared" punch 0 4096
says "error EPERM" $V utimens "$M/shared" 0
says "error EACCES" $V utimens "$M/shared" now
says "error EACCES" $V setxattr "$M/shared" user.note x
says "error EACCES" $V setxattr "$M/shared" user.slicefs.offset 0
says "error EPERM" $V chmod "$M/shared" 644
says "error EPERM" $V chmod "$M/shared" 666
printf PWNED | as $V dd of="$M/shared" conv=notrunc status=none 2>/dev/null &&
    fail "dd into a 0644 window by another user worked"
as $V truncate -s 0 "$M/shared" 2>/dev/null && fail "truncate of a 0644 window by another user worked"
as $V touch -d @0 "$M/shared" 2>/dev/null && fail "touch -d @0 of a 0644 window by another user worked"
unchanged shared "refused calls on the 0644 window"
[ "$(stat -c %s "$T/shared.img")" = 1048576 ] || fail "shared.img changed size"

# 0666: a writer may write and touch to now, but only the owner sets times.
says "wrote 5" $V pwrite "$M/world" 0 5 W
[ "$(head -c 5 "$T/world.img")" = WWWWW ] || fail "a write allowed by 0666 did not arrive"
says "ok" $V utimens "$M/world" now
says "error EPERM" $V utimens "$M/world" 1000
[ "$(stat -c %Y "$M/world")" != 1000 ] || fail "a non-owner set the window's mtime"
# ro drops the write bits for everyone; cow writes stay in root's overlay.
says "error EACCES" $V pwrite "$M/world_ro" 0 5 R
says "error EACCES" root pwrite "$M/world_ro" 0 5 R
says "wrote 5" $V pwrite "$M/world_cow" 100 5 C
[ "$(extract "$M/world_cow" 100 5)" = CCCCC ] || fail "cow write not visible"
[ "$(extract "$T/world.img" 100 5)" != CCCCC ] || fail "cow write reached world.img"

# Group: members (supplementary group) read and write, others nothing.
says "error EACCES" $V pread "$M/group" 0 4096
unchanged group "before a member wrote"
says "read 4096" member:$V pread "$M/group" 0 4096
says "wrote 3" member:$V pwrite "$M/group" 0 3 G
[ "$(head -c 3 "$T/group.img")" = GGG ] || fail "a member's write did not arrive"

# The owner of a backing file owns its window: sets its times (the
# window's own, kept in the state; the file's stay), writes it.
says "ok" $U utimens "$M/owned" 1000
[ "$(stat -c %Y "$M/owned")" = 1000 ] || fail "the owner could not set its window's times"
[ "$(stat -c %Y "$T/owned.img")" != 1000 ] || fail "touch on a window set the backing file's times"
says "wrote 4" $U pwrite "$M/owned" 0 4 O
unmount_slicefs "$M"
unchanged secret "the whole first mount"
unchanged shared "the whole first mount"

# -o umask narrows what every window and folder shows, and is enforced.
mount_slicefs "$M" -o table="$T/t.tab",allow_other,umask=077
[ "$(stat -c %a "$M/shared")" = 600 ] || fail "umask=077: shared shows $(stat -c %a "$M/shared")"
[ "$(stat -c %a "$M")" = 500 ] || fail "umask=077: the root folder shows $(stat -c %a "$M")"
says "error EACCES" $V pread "$M/shared" 0 1
unmount_slicefs "$M"
expect_fail_mount "$T/bad" "umask=8: use an octal number" -o table="$T/t.tab",umask=8
expect_fail_mount "$T/bad" "umask=1777: use an octal number" -o table="$T/t.tab",umask=1777

# --- Part 2: a plain user mounts, uses and unmounts, without root. ---------
# /dev/fuse is 0600 on these machines (udev makes it 0666 elsewhere).
fuse_mode=$(stat -c %a /dev/fuse)
cp -p /etc/fuse.conf "$T/fuse.conf.saved" 2>/dev/null || : >"$T/fuse.conf.absent"
cleanup_extra() {
    chmod "$fuse_mode" /dev/fuse
    if [ -e "$T/fuse.conf.absent" ]; then rm -f /etc/fuse.conf; else cp -p "$T/fuse.conf.saved" /etc/fuse.conf; fi
}
chmod 0666 /dev/fuse
sed -i '/^[[:space:]]*user_allow_other/d' /etc/fuse.conf 2>/dev/null || true

mkdir "$T/u" "$T/u/m" "$T/u/m2"
cp "$T/owned.img" "$T/u/mine.img"
chown -R $U:$U "$T/u"
chmod 0644 "$T/u/mine.img"
# The user's daemon keeps its state, and its control socket, where the user
# may write.
mkdir -m 0700 "$T/u/run"
chown $U:$U "$T/u/run"
AS=(env XDG_STATE_HOME="$T/u/state" XDG_RUNTIME_DIR="$T/u/run" setpriv --reuid=$U --regid=$U
    --clear-groups)

# Without user_allow_other, allow_other is refused, and nothing is mounted.
expect_fail_mount "$T/u/m" "user_allow_other" "$T/u/mine.img" -o allow_other

mount_slicefs "$T/u/m" "$T/u/mine.img" -o window=w:4K:64K
[ "$(as $U stat -c %U "$T/u/m/w")" = nobody ] || fail "the user's window is not shown as the user's"
says "wrote 8" $U pwrite "$T/u/m/w" 0 8 u
[ "$(extract "$T/u/mine.img" 4096 8)" = uuuuuuuu ] || fail "the user's write did not arrive"
as $U cat "$T/u/m/w" | cmp -s - <(extract "$T/u/mine.img" 4096 65536) || fail "the user reads other bytes"
# Without allow_other, nobody else gets in, not even root.
says "error EACCES" root pread "$T/u/m/w" 0 1
# Its control socket serves the user, and root (who finds it by name: the
# mount itself refuses root), and nobody else.
"${AS[@]}" "$SLICEFSCTL" "$T/u/m" add u2:0:4096 || fail "the user's slicefsctl add"
as $U cat "$T/u/m/u2" | cmp -s - <(extract "$T/u/mine.img" 0 4096) ||
    fail "the user's added window shows other bytes"
XDG_RUNTIME_DIR="$T/u/run" "$SLICEFSCTL" "$T/u/m" remove u2 || fail "root's slicefsctl on the user's mount"
status=0
env XDG_RUNTIME_DIR="$T/u/run" setpriv --reuid=$V --regid=$V --clear-groups "$SLICEFSCTL" \
    "$T/u/m" list >/dev/null 2>&1 || status=$?
[ "$status" != 0 ] || fail "a third user reached the user's control socket"
! as $U stat "$T/u/m/u2" 2>/dev/null || fail "u2 outlived root's remove"
# The user unmounts it; the daemon exits 0.
as $U fusermount3 -u "$T/u/m" || fail "the user could not unmount"
forget_mount "$T/u/m"
wait_gone "$DAEMON_PID" || fail "the user's daemon still runs after unmount"
status=0; wait "$DAEMON_PID" || status=$?
[ "$status" = 0 ] || { cat "$DAEMON_LOG" >&2; fail "the user's daemon exited $status"; }

# With user_allow_other, the user shares the mount; others get the bits.
echo user_allow_other >>/etc/fuse.conf
mount_slicefs "$T/u/m2" "$T/u/mine.img" -o window=w:0:64K,window=c:0:64K:cow,allow_other
says "read 4096" $V pread "$T/u/m2/w" 0 4096
says "error EACCES" $V pwrite "$T/u/m2/w" 0 1 v
says "error EACCES" $V pwrite "$T/u/m2/c" 0 1 v
says "error EPERM" $V utimens "$T/u/m2/w" 0
says "wrote 1" $U pwrite "$T/u/m2/c" 0 1 c
unmount_slicefs "$T/u/m2"
[ "$(head -c 1 "$T/u/mine.img")" != v ] || fail "another user's refused write arrived"
[ "$(head -c 1 "$T/u/mine.img")" != c ] || fail "a cow write reached the file"
AS=()
echo "ok"
