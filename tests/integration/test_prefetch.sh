#!/bin/bash
# Random reads fill the kernel's cache around them: one 4 KiB read (with
# POSIX_FADV_RANDOM, so the kernel itself reads no more) leaves the whole
# aligned 256 KiB block around it cached (cachestat of the window), with the
# right bytes, and never past the window's end (its size stays). No such
# store while any handle may write to the backing file, nor for a growable
# window, nor with cache=never (no store thread then). A negative check
# waits first for the store thread to have worked through what the read
# could have queued (barrier). And under a storm of random reads on one
# window, writes through a client's mmap of an overlapping window show at
# once through the read window, byte for byte.
. "$(dirname "$0")/lib.sh"
requires fio

KiB=1024
MiB=1048576
head -c $((4 * MiB)) /dev/urandom >"$T/disk.img"
head -c $((2 * MiB)) /dev/urandom >"$T/marker.img"
cp "$T/disk.img" "$T/expected.img"
LEN=$((3 * MiB + 12345))

# cached FILE - pages of FILE in the kernel's cache.
cached() {
    local out
    out=$("$FILEOP" cachestat "$1")
    [[ $out =~ ^cached\ ([0-9]+)\  ]] || fail "cachestat $1: $out"
    echo "${BASH_REMATCH[1]}"
}
# stored FILE - at least the 64 pages of one block of FILE are cached.
stored() { [ "$(cached "$1")" -ge 64 ]; }
# has_store_thread - the daemon runs its store thread (named sfs-prefetch).
has_store_thread() { grep -qx sfs-prefetch /proc/"$DAEMON_PID"/task/*/comm; }

# A negative check must not pass because the store thread is merely slow.
# The thread takes blocks in order, one at a time: once a block of the
# marker window (its own backing file, which nothing writes to) queued
# after a read is stored, whatever that read could have queued has been
# done. barrier waits for that, with the deadline; each call uses the next
# block of the marker.
marks=0
marked() { [ "$(cached "$M/mark")" -ge $((marks * 64)) ]; }
barrier() {
    [ "$("$FILEOP" pread "$M/mark" $((marks * 256 * KiB + 4096)) 4096 random)" = "read 4096" ] ||
        fail "pread of the marker"
    marks=$((marks + 1))
    wait_until "marker block $marks stored (the store thread works through its queue)" marked
}

M=$T/mnt
cat >"$T/windows.tab" <<EOF
w     0   $LEN rw disk.img
r     1M  2M   ro disk.img
g     0   end  rw disk.img
mark  0   2M   ro marker.img
EOF
mount_slicefs "$M" -o table="$T/windows.tab"
has_store_thread || fail "no store thread (sfs-prefetch) with cache=auto"

# One random 4 KiB read: its whole 256 KiB block is cached, bytes right.
[ "$("$FILEOP" pread "$M/w" $((300 * KiB)) 4096 random)" = "read 4096" ] || fail "pread of w"
wait_until "after one 4 KiB read, the 64 pages of its block of w are cached" stored "$M/w"
cmp <(extract "$T/disk.img" $((256 * KiB)) $((256 * KiB))) <(extract "$M/w" $((256 * KiB)) $((256 * KiB))) ||
    fail "the prefetched block of w does not read back its bytes"
# The last, short block: stored up to the window's end, not past it.
[ "$("$FILEOP" pread "$M/w" $((3 * MiB)) 4096 random)" = "read 4096" ] || fail "pread at w's end"
[ "$(stat -c %s "$M/w")" = "$LEN" ] || fail "w's size changed to $(stat -c %s "$M/w")"
cmp <(extract "$T/disk.img" 0 "$LEN") "$M/w" || fail "w does not read back"

# A growable window is not prefetched.
[ "$("$FILEOP" pread "$M/g" $((300 * KiB)) 4096 random)" = "read 4096" ] || fail "pread of g"
barrier
n=$(cached "$M/g")
[ "$n" -lt 64 ] || fail "$n pages of the growable window g are cached after one 4 KiB read"

# Nor anything while a handle that may write is open (here on w: r lies on
# the same backing file).
exec {holder}<>"$M/w"
[ "$("$FILEOP" pread "$M/r" $((300 * KiB)) 4096 random)" = "read 4096" ] || fail "pread of r"
barrier
n=$(cached "$M/r")
[ "$n" -lt 64 ] || fail "$n pages of r are cached after one 4 KiB read while w is open for writing"
exec {holder}>&-
# Once it is closed, prefetching resumes.
[ "$("$FILEOP" pread "$M/r" $((700 * KiB)) 4096 random)" = "read 4096" ] || fail "pread of r"
wait_until "after w was closed, one 4 KiB read of r caches its block" stored "$M/r"

# A random-read storm on r (prefetching all along) while a client writes
# through its mmap of w, over r's bytes: every write shows through r at once.
# (fio's runtime is far longer than the writes take, even under load: it is
# stopped once they are done.)
fio --name=storm --filename="$M/r" --rw=randread --bs=4k --time_based --runtime=600 \
    --ioengine=psync --readonly --output="$T/fio.out" >/dev/null 2>&1 &
storm=$!
JOBS+=("$storm")
# storm_reading - a process of fio has r open: the storm is under way.
storm_reading() {
    local p
    for p in $storm $(pgrep -P "$storm"); do
        ls -l /proc/"$p"/fd 2>/dev/null | grep -qF -- "$M/r" && return 0
    done
    return 1
}
wait_until "fio opens r" storm_reading
RANDOM=7
for ((i = 0; i < 150; i++)); do
    off=$((MiB + (RANDOM * 61) % (2 * MiB - 4096)))
    byte=$(printf "\\x$(printf %x $((65 + i % 26)))")
    [ "$("$FILEOP" mmapwrite "$M/w" "$off" 100 "$byte")" = ok ] || fail "mmapwrite $i"
    printf '%s' "$(head -c 100 /dev/zero | tr '\0' "$byte")" |
        dd of="$T/expected.img" bs=1 seek="$off" conv=notrunc status=none
    cmp <(extract "$T/expected.img" "$off" 100) <(extract "$M/r" $((off - MiB)) 100) ||
        fail "write $i at $off does not show through r"
done
kill -0 "$storm" 2>/dev/null || fail "the read storm ended early: $(cat "$T/fio.out")"
kill "$storm"
wait_gone "$storm" || fail "fio did not stop"
cmp <(extract "$T/expected.img" "$MiB" $((2 * MiB))) "$M/r" || fail "r after the storm"
unmount_slicefs "$M"
cmp "$T/expected.img" "$T/disk.img" || fail "the backing file differs from the expected copy"

# cache=never: every read is a request, nothing is stored.
# There is no store thread then, so nothing can be stored later either.
mount_slicefs "$M" "$T/disk.img" -o window=w:0:$LEN,cache=never
! has_store_thread || fail "a store thread runs with cache=never"
[ "$("$FILEOP" pread "$M/w" $((300 * KiB)) 4096 random)" = "read 4096" ] || fail "pread, cache=never"
n=$(cached "$M/w")
[ "$n" -lt 64 ] || fail "$n pages cached with cache=never"
unmount_slicefs "$M"
