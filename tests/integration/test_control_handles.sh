#!/bin/bash
# A removed window's open handles keep working until closed (SPEC, Runtime
# control), also when the same path comes back as another window, and
# closing them is safe while their last request is still being finished.
#
# 1. A handle opened on q (at 20 MiB of the backing file) before
#    `remove q`: it reads q's bytes (and fstat works) after the remove, and after
#    `add q:30M:64K` (the same path on the same file: the same inode
#    number) it still reads and writes the bytes at 20 MiB. A write through
#    it must not land at 30 MiB, in the new q, and the new q reads its own
#    bytes. With cache=never (the daemon's own answer) and cache=auto.
# 2. Add, open, read, remove, read a page not read yet (a small read the
#    daemon answers from the removed window and then prefetches around),
#    close: many times. The daemon keeps answering and exits 0 (a set freed
#    by the close while the read's prefetch still used it is a
#    use-after-free: AddressSanitizer aborts on it, SLICEFS_SANITIZE=ON).
. "$(dirname "$0")/lib.sh"

: "${SLICEFSCTL:?set SLICEFSCTL to the slicefsctl binary (ctest does)}"
requires python3
T=$(realpath "$T")
MIB=1048576
head -c $((64 * MIB)) /dev/urandom >"$T/img"
# Each part is tried whatever the other found; the test fails at the end
# with everything that went wrong.
PROBLEMS=()

for cache in never auto; do
    mount_slicefs "$T/mnt" "$T/img" -o "window=fixed:0:1M,cache=$cache"
    if ! python3 - "$SLICEFSCTL" "$T/mnt" "$T/img" "$cache" <<'EOF'
import os, subprocess, sys
ctl, mnt, img, cache = sys.argv[1:]
MIB = 1 << 20
def run(*args):
    r = subprocess.run([ctl, mnt, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"slicefsctl {' '.join(args)}: exit {r.returncode}: {r.stderr}")
def backing(off, n):
    with open(img, "rb") as f:
        f.seek(off)
        return f.read(n)
def fail(what):
    sys.exit(f"cache={cache}: {what}")
old, new = backing(20 * MIB, 4096), backing(30 * MIB, 4096)
run("add", "q:20M:64K")
fd = os.open(mnt + "/q", os.O_RDWR)
if os.pread(fd, 4096, 0) != old:
    fail("q does not read its bytes")
run("remove", "q")
if os.pread(fd, 4096, 0) != old:
    fail("after remove q, its handle does not read q's bytes")
# fstat (the kernel asks without the handle; cache=never: it always asks).
try:
    if os.fstat(fd).st_size != 64 * 1024:
        fail("after remove q, fstat of its handle gives another size")
except OSError as e:
    fail(f"after remove q, fstat of its handle fails: {e}")
run("add", "q:30M:64K")
got = os.pread(fd, 4096, 0)
if got != old:
    fail("after remove q and add q:30M:64K, the removed q's handle reads "
         + ("the new q's bytes (at 30 MiB)" if got == new else "other bytes"))
os.pwrite(fd, b"W" * 4096, 0)
os.fsync(fd)
if backing(30 * MIB, 4096) != new:
    fail("a write through the removed q's handle landed in the new q (at 30 MiB)")
if backing(20 * MIB, 4096) != b"W" * 4096:
    fail("a write through the removed q's handle is not at 20 MiB, where q was")
os.close(fd)
with open(mnt + "/q", "rb") as f:
    if f.read(4096) != new:
        fail("the new q does not read its own bytes (at 30 MiB)")
EOF
    then
        PROBLEMS+=("cache=$cache: a removed window's handle, its path added again")
    fi
    unmount_slicefs "$T/mnt"
done

mount_slicefs "$T/mnt" "$T/img" -o window=fixed:0:1M
if ! python3 - "$SLICEFSCTL" "$T/mnt" <<'EOF'
import os, subprocess, sys
ctl, mnt = sys.argv[1:]
for i in range(300):
    for args in (["add", "r:20M:1M"], ["remove", "r"]):
        r = subprocess.run([ctl, mnt, *args], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"round {i}: slicefsctl {' '.join(args)}: exit {r.returncode}: {r.stderr}")
        if args[0] == "add":
            fd = os.open(mnt + "/r", os.O_RDONLY)
            os.pread(fd, 4096, 0)
    os.pread(fd, 4096, 512 << 10)
    os.close(fd)
EOF
then
    tail -n 60 "$DAEMON_LOG" >&2
    PROBLEMS+=("handles of removed windows closed after a read")
fi
if kill -0 "$DAEMON_PID" 2>/dev/null; then
    unmount_slicefs "$T/mnt"
else
    forget_mount "$T/mnt"
    fusermount3 -u "$T/mnt" 2>/dev/null || true
    wait "$DAEMON_PID" || PROBLEMS+=("the daemon died (status $?)")
fi
[ ${#PROBLEMS[@]} -eq 0 ] || fail "$(printf '%s; ' "${PROBLEMS[@]}")"
