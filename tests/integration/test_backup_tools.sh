#!/bin/bash
# Backups you can trust (issue 13): Debian's rsync, restic and borg back up
# an image in 1 MiB chunks twice; between the two, one chunk changes -
# through the mount, or outside it while unmounted (then the mount is made
# again) - and the second backup reads and stores exactly that chunk:
# rsync --link-dest copies one file and hard-links the rest, restic reports
# one changed file, borg lists one modified file.
. "$(dirname "$0")/lib.sh"
requires rsync
requires restic
requires borg

img=$T/disk.img
head -c 8M /dev/urandom >"$img"
M=$T/m
OPTS=layout=chunks:1M
export RESTIC_PASSWORD=slicefs RESTIC_REPOSITORY=$T/restic RESTIC_CACHE_DIR=$T/restic-cache
export BORG_BASE_DIR=$T/borg-base BORG_REPO=$T/borg BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
restic init -q >/dev/null
borg init -e none >/dev/null 2>&1

# backup N - one backup of the mount with each tool; logs in $T/*.N.
backup() {
    local n=$1 prev=$(( $1 - 1 ))
    if [ "$n" = 1 ]; then
        rsync -a "$M/" "$T/rsync.1/"
    else
        rsync -a --link-dest="$T/rsync.$prev" "$M/" "$T/rsync.$n/"
    fi
    (cd "$M" && restic backup --host slicefs . >"$T/restic.$n" 2>&1) ||
        { cat "$T/restic.$n" >&2; fail "restic backup $n failed"; }
    (cd "$M" && borg create --stats --list --filter=AME "::b$n" . >"$T/borg.$n" 2>&1) ||
        { cat "$T/borg.$n" >&2; fail "borg create $n failed"; }
    diff -r "$M" "$T/rsync.$n" >/dev/null || fail "backup $n (rsync) differs from the mount"
}

# borg_stored N - what backup N stored anew (deduplicated), in bytes.
borg_stored() {
    awk '/^This archive:/ {v = $(NF - 1); u = $NF;
        m = u == "kB" ? 1e3 : u == "MB" ? 1e6 : u == "GB" ? 1e9 : 1; printf "%d\n", v * m}' "$T/borg.$1"
}

# check N CHUNK [LAST|first] - backup N read and stored only CHUNK anew
# (borg may also re-read LAST, the chunk changed before; "first": borg's
# files cache holds nothing yet, it only stored one chunk).
check() {
    local n=$1 chunk=$2 last=${3:-} new
    new=$(find "$T/rsync.$n" -type f -links 1 -printf '%f\n')
    [ "$new" = "$chunk" ] || fail "rsync --link-dest backup $n copied '$(echo $new)', expected $chunk"
    grep -Eq 'Files: +0 new, +1 changed, +7 unmodified' "$T/restic.$n" ||
        { cat "$T/restic.$n" >&2; fail "restic backup $n did not see exactly one changed file"; }
    [ "$(borg_stored "$n")" -lt 1500000 ] ||
        { cat "$T/borg.$n" >&2; fail "borg create $n stored more than one chunk"; }
    [ "$last" = first ] && return
    [ "$(grep -c '^M ' "$T/borg.$n")" = 1 ] && grep -Eq "^M (\./)?$chunk\$" "$T/borg.$n" ||
        { cat "$T/borg.$n" >&2; fail "borg create $n did not process exactly $chunk as modified"; }
    ! grep -Ev "^[AM] (\./)?($chunk|$last)\$" "$T/borg.$n" | grep -q '^[AM] ' ||
        { cat "$T/borg.$n" >&2; fail "borg create $n read other chunks again"; }
}

mount_slicefs "$M" "$img" -o "$OPTS"
wait_digests   # the first mount's digests, so the outside change below is found by chunk
backup 1
# A change through the mount.
is "wrote 4096" pwrite "$M/00000005" 12345 4096 q
backup 2
check 2 00000005 first
unmount_slicefs "$M"

# A change outside the mount, seen at the next mount.
printf 'outside' | dd of="$img" bs=1 seek=$((2 * 1048576 + 77)) conv=notrunc status=none
mount_slicefs "$M" "$img" -o "$OPTS"
backup 3
check 3 00000002 00000005
# No change at all: nothing stored anew.
backup 4
[ -z "$(find "$T/rsync.4" -type f -links 1)" ] || fail "an unchanged mount was copied again by rsync"
grep -Eq 'Files: +0 new, +0 changed, +8 unmodified' "$T/restic.4" || { cat "$T/restic.4" >&2; fail "restic saw changes where there were none"; }
! grep -Ev '^A (\./)?00000002$' "$T/borg.4" | grep -q '^[AM] ' || { cat "$T/borg.4" >&2; fail "borg saw changes where there were none"; }
[ "$(borg_stored 4)" -lt 100000 ] || { cat "$T/borg.4" >&2; fail "borg stored data of an unchanged mount"; }
unmount_slicefs "$M"
echo ok
