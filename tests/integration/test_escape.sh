#!/bin/bash
# Issue 11: a growable window ("end", rw) whose backing file grows outside
# the mount past what its mapping covers never reaches past the mapping:
# its size stops at the end of the mapping, reads there are empty, writes
# fail with EFBIG (said once in the log), the daemon stays up and exits 0,
# and no byte of another backing file is ever returned. Three forms: the
# default 1 TiB reserve and a file grown to 1 TiB + 64 MiB (the issue's
# repro); a small reserve (SLICEFS_GROW_RESERVE=8M) with a second backing
# file mapped next to it; and a reserve that shrank under an address-space
# limit (ulimit -v). Then the file shrinks and grows back.
. "$(dirname "$0")/lib.sh"
requires truncate
MiB=1048576
TiB=$((1 << 40))

# setup - a.img (4 MiB of random bytes) and secret.img (1 MiB of 'S'), and
# a table: secret read-only, g growable over a.img.
setup() {
    rm -f "$T/a.img" "$T/secret.img"
    head -c $((4 * MiB)) /dev/urandom >"$T/a.img"
    head -c $MiB /dev/zero | tr '\0' S >"$T/secret.img"
    cat >"$T/t.tab" <<TAB
sec 0 1M  ro secret.img
g   0 end rw a.img
TAB
}

# no_secret FILE - FILE (bytes read through the mount) holds no run of the
# secret's bytes.
no_secret() {
    if grep -q SSSSSSSSSSSSSSSS "$1"; then
        fail "$1: bytes of secret.img came through window g"
    fi
}

# --- The issue's repro: 1 TiB + 64 MiB on the default 1 TiB reserve ------
setup
mount_slicefs "$T/mnt" -o table="$T/t.tab"
map_end=$((TiB + 4 * MiB))
truncate -s $((TiB + 64 * MiB)) "$T/a.img"
sleep 1.1 # the attribute timeout of cache=auto
size=$(stat -c %s "$T/mnt/g")
[ "$size" = "$map_end" ] || fail "g is $size bytes, expected the mapping's end $map_end"
seek=$(((TiB + 32 * MiB) / 4096))
if head -c 4096 /dev/urandom |
    dd of="$T/mnt/g" bs=4k count=1 seek="$seek" conv=notrunc status=none 2>"$T/dd.err"; then
    fail "a write past the mapping succeeded"
fi
grep -q "File too large" "$T/dd.err" || fail "write past the mapping: $(cat "$T/dd.err")"
is "read 0" pread "$T/mnt/g" $((TiB + 32 * MiB)) 4096
is "error EFBIG" pwrite "$T/mnt/g" $((TiB + 32 * MiB)) 4096
is "error EFBIG" truncate "$T/mnt/g" $((TiB + 8 * MiB))
is "error EFBIG" fallocate "$T/mnt/g" alloc $((TiB + 8 * MiB)) 4096
# Up to the mapping's end everything works: a write across it is cut short.
is "wrote 10" pwrite "$T/mnt/g" $((map_end - 10)) 4096 Z
is "read 10" pread "$T/mnt/g" $((map_end - 10)) 4096
cmp -n $((4 * MiB)) "$T/mnt/g" "$T/a.img" || fail "g's first bytes are not a.img's"
[ "$(grep -c "stop at the end of its mapping" "$DAEMON_LOG")" = 1 ] ||
    { cat "$DAEMON_LOG" >&2; fail "the limit is not logged exactly once"; }
kill -0 "$DAEMON_PID" || fail "the daemon died"
unmount_slicefs "$T/mnt"
[ "$(stat -c %s "$T/a.img")" = $((TiB + 64 * MiB)) ] || fail "a.img changed its size"

# --- A small reserve, a second backing file mapped beside it -------------
setup
SLICEFS_GROW_RESERVE=8M mount_slicefs "$T/mnt" -o table="$T/t.tab"
truncate -s $((64 * MiB)) "$T/a.img"
sleep 1.1
[ "$(stat -c %s "$T/mnt/g")" = $((12 * MiB)) ] || fail "g is $(stat -c %s "$T/mnt/g") bytes, expected 12 MiB"
cat "$T/mnt/g" >"$T/g.read" || fail "reading g failed"
no_secret "$T/g.read"
cmp "$T/g.read" <(head -c $((12 * MiB)) "$T/a.img") || fail "g does not read as a.img's first 12 MiB"
for off in $((12 * MiB)) $((13 * MiB)) $((32 * MiB)) $((64 * MiB - 4096)); do
    is "read 0" pread "$T/mnt/g" "$off" 4096
    is "error EFBIG" pwrite "$T/mnt/g" "$off" 4096
done
cmp "$T/mnt/sec" "$T/secret.img" || fail "sec changed"
# Shrunk and grown back: the window follows; the bytes cut off are zeros.
truncate -s $MiB "$T/a.img"
sleep 1.1
[ "$(stat -c %s "$T/mnt/g")" = $MiB ] || fail "g did not follow the shrink"
truncate -s $((6 * MiB)) "$T/a.img"
sleep 1.1
[ "$(stat -c %s "$T/mnt/g")" = $((6 * MiB)) ] || fail "g did not follow the regrowth"
cat "$T/mnt/g" >"$T/g.read" || fail "reading g after the regrowth failed"
cmp "$T/g.read" "$T/a.img" || fail "g after the regrowth is not a.img"
kill -0 "$DAEMON_PID" || fail "the daemon died"
unmount_slicefs "$T/mnt"

# --- A reserve cut down by an address-space limit (ulimit -v) -------------
# AddressSanitizer reserves terabytes of shadow memory: no limit there.
if [ "${SLICEFS_SANITIZED:-0}" != 1 ]; then
    setup
    cat >"$T/limited" <<SH
#!/bin/bash
ulimit -v $((3 * 1024 * 1024))
exec "$SLICEFS" "\$@"
SH
    chmod +x "$T/limited"
    SLICEFS=$T/limited mount_slicefs "$T/mnt" -o table="$T/t.tab"
    truncate -s $((8 * 1024 * MiB)) "$T/a.img"
    sleep 1.1
    size=$(stat -c %s "$T/mnt/g")
    ((size > 4 * MiB && size < 3 * 1024 * MiB)) || fail "g is $size bytes under a 3 GiB limit"
    extract "$T/mnt/g" $((size - 4 * MiB)) $((4 * MiB)) >"$T/g.tail"
    no_secret "$T/g.tail"
    cmp "$T/g.tail" <(head -c $((4 * MiB)) /dev/zero) || fail "g's last bytes are not a.img's (zeros)"
    is "read 0" pread "$T/mnt/g" "$size" 4096
    is "read 0" pread "$T/mnt/g" $((4 * 1024 * MiB)) 4096
    is "error EFBIG" pwrite "$T/mnt/g" $((4 * 1024 * MiB)) 4096
    kill -0 "$DAEMON_PID" || fail "the daemon died"
    unmount_slicefs "$T/mnt"
fi
echo "ok"
