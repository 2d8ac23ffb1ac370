#!/bin/bash
# The backing file shrinks under a live mount (another process truncates it
# while reads and writes are running): every access to the lost pages gets
# EIO - a read, which the kernel copies out of the mapping, and a write,
# which the daemon itself stores into it - while the daemon stays up, the
# windows still wholly inside the file keep working (a writer and a reader
# run on one of them all along, and every write they acknowledged is in the
# file afterwards), and stat, ls and xattrs keep working. Once the file
# grows back, every window works again and reads zeros where the data was
# lost. The daemon exits 0 at unmount, and the file holds exactly the bytes
# it should. Last, copy_file_range from and into lost pages gets EIO too and
# leaves the backing file's size alone.
. "$(dirname "$0")/lib.sh"

MiB=1048576
SIZE=$((8 * MiB))
SHRUNK=$((4 * MiB + 12345))   # not page-aligned: the page of the new end stays
head -c "$SIZE" /dev/urandom >"$T/disk.img"
cp "$T/disk.img" "$T/expected.img"
M=$T/mnt

# keep: always inside; load: the concurrent writer and reader; cross: from
# 3 MiB across the new end; edge: starts at 4 MiB, its first 12345 bytes
# stay; lost and mid: wholly past the new end.
mount_slicefs "$M" "$T/disk.img" \
    -o window=keep:0:1M,window=load:1M:1M,window=cross:3M:2M,window=edge:4M:1M \
    -o window=lost:5M:1M,window=mid:6M:1M

# The load on another window: records written (and acknowledged) for 15 s,
# and O_DIRECT reads of the same window, both stopping at the first error.
RECSIZE=1000
SLOTS=$((MiB / RECSIZE))
"$FILEOP" records "$M/load" "$RECSIZE" "$SLOTS" "$T/records.log" 15 >"$T/records.out" &
WRITER=$!
JOBS+=("$WRITER")
"$FILEOP" loop read "$M/load" 0 "$MiB" 65536 15 direct >"$T/loadread.out" &
READER=$!
JOBS+=("$READER")
# The accesses that the truncation interrupts: reads of lost (O_DIRECT, so
# every one reaches the daemon) and writes into mid, 30 s at most.
"$FILEOP" loop read "$M/lost" 0 "$MiB" 65536 30 direct >"$T/midread.out" &
MIDREAD=$!
JOBS+=("$MIDREAD")
"$FILEOP" loop write "$M/mid" 0 "$MiB" 65536 30 >"$T/midwrite.out" &
MIDWRITE=$!
JOBS+=("$MIDWRITE")

# Truncate once all four are under way.
for ((i = 0; i < DEADLINE * 20; i++)); do
    [ -s "$T/records.log" ] && [ "$(wc -l <"$T/records.log")" -ge 200 ] && break
    sleep 0.05
done
[ "$(wc -l <"$T/records.log")" -ge 200 ] || fail "the records writer made no progress: $(cat "$T/records.out")"
sleep 0.2
for pid in "$WRITER" "$READER" "$MIDREAD" "$MIDWRITE"; do
    kill -0 "$pid" 2>/dev/null || fail "a background job ended before the truncation"
done
truncate -s "$SHRUNK" "$T/disk.img"
truncate -s "$SHRUNK" "$T/expected.img"

# The interrupted reader and writer end with EIO (not a crash, not a hang,
# not a short count).
job_ends "$MIDREAD" "the reader of lost"
grep -Eq '^error EIO at [0-9]+ after [0-9]+ passes$' "$T/midread.out" ||
    fail "reads of lost during the truncation: $(cat "$T/midread.out"), expected error EIO"
job_ends "$MIDWRITE" "the writer into mid"
grep -Eq '^error EIO at [0-9]+ after [0-9]+ passes$' "$T/midwrite.out" ||
    fail "writes into mid during the truncation: $(cat "$T/midwrite.out"), expected error EIO"
kill -0 "$DAEMON_PID" || fail "the daemon died when the backing file shrank"
# The load on the other window is still running, undisturbed.
# (still running, or ended by its clock without an error: a loaded machine
# may have taken that long).
kill -0 "$WRITER" 2>/dev/null || grep -Eq '^wrote [0-9]+$' "$T/records.out" ||
    fail "the writer on load stopped: $(cat "$T/records.out")"
kill -0 "$READER" 2>/dev/null || grep -Eq '^passes [1-9][0-9]*$' "$T/loadread.out" ||
    fail "the reader on load stopped: $(cat "$T/loadread.out")"

# Reads of lost pages: EIO, from the first byte of a page to its last.
is "error EIO" pread "$M/lost" 0 4096
is "error EIO" pread "$M/lost" $((MiB - 1)) 1
is "error EIO" pread "$M/mid" 12345 100
is "error EIO" pread "$M/cross" $((MiB + 16384)) 4096
is "error EIO" pread "$M/edge" 16384 1
is "error EIO" pread "$M/edge" $((MiB - 4096)) 4096
# Writes into lost pages (partial pages: the daemon's own store faults).
is "error EIO" pwrite "$M/lost" 100 200 w
is "error EIO" pwrite "$M/mid" 4096 4096 w
is "error EIO" pwrite "$M/edge" 20000 10 w
is "error EIO" pwrite "$M/cross" $((MiB + 20000)) 70000 w
# A read with cat, and dd of a whole lost window, fail too.
if cat "$M/lost" >/dev/null 2>"$T/cat.err"; then fail "cat of a lost window succeeded"; fi
grep -q "Input/output error" "$T/cat.err" || fail "cat of lost: $(cat "$T/cat.err")"
kill -0 "$DAEMON_PID" || fail "the daemon died on accesses to lost pages"

# What is still inside the file works: reads give the right bytes, writes land.
cmp <(extract "$T/expected.img" 0 "$MiB") "$M/keep" || fail "keep does not read back after the truncation"
is "read 12345" pread "$M/edge" 0 12345
cmp <(extract "$T/expected.img" $((4 * MiB)) 12345) <(head -c 12345 "$M/edge") ||
    fail "the bytes of edge still inside the file are wrong"
cmp <(extract "$T/expected.img" $((3 * MiB)) $((MiB + 12345))) <(head -c $((MiB + 12345)) "$M/cross") ||
    fail "the bytes of cross still inside the file are wrong"
is "wrote 5000" pwrite "$M/keep" 777 5000 K
patch "$T/expected.img" 777 5000 K
is "wrote 3000" pwrite "$M/cross" $((MiB - 1000)) 3000 C
patch "$T/expected.img" $((3 * MiB + MiB - 1000)) 3000 C
is "wrote 100" pwrite "$M/edge" 12000 100 E
patch "$T/expected.img" $((4 * MiB + 12000)) 100 E
is "ok" fsync "$M/keep"
is "ok" fsync "$M/cross"

# Names and attributes do not depend on the data: stat, ls, xattrs work.
for w in keep load cross edge lost mid; do
    stat "$M/$w" >/dev/null || fail "stat $w failed after the truncation"
done
[ "$(stat -c %s "$M/lost")" = "$MiB" ] || fail "lost changed its size: $(stat -c %s "$M/lost")"
[ "$(stat -c %s "$M/cross")" = $((2 * MiB)) ] || fail "cross changed its size"
[ "$(ls "$M" | tr '\n' ' ')" = "cross edge keep load lost mid " ] || fail "ls: $(ls "$M" | tr '\n' ' ')"
[ "$(getfattr --only-values -n user.slicefs.offset "$M/lost" 2>/dev/null)" = $((5 * MiB)) ] ||
    fail "getfattr on lost failed after the truncation"
[ "$(stat -f -c %T "$M")" != "" ] || fail "statfs failed"

# The file grows back: the lost range reads as zeros and takes writes again.
truncate -s "$SIZE" "$T/disk.img"
truncate -s "$SIZE" "$T/expected.img"
cmp <(head -c "$MiB" /dev/zero) "$M/lost" || fail "lost does not read back as zeros after the file grew back"
cmp <(head -c "$MiB" /dev/zero) "$M/mid" || fail "mid (written before the truncation) does not read back as zeros"
cmp <(extract "$T/expected.img" $((3 * MiB)) $((2 * MiB))) "$M/cross" ||
    fail "cross after the file grew back: not its bytes followed by zeros"
cmp <(extract "$T/expected.img" $((4 * MiB)) "$MiB") "$M/edge" || fail "edge after the file grew back"
is "wrote 200" pwrite "$M/lost" 100 200 l
patch "$T/expected.img" $((5 * MiB + 100)) 200 l
is "wrote 65536" pwrite "$M/mid" 4096 65536 m
patch "$T/expected.img" $((6 * MiB + 4096)) 65536 m
is "read 4096" pread "$M/lost" 0 4096
cmp <(extract "$T/expected.img" $((5 * MiB)) "$MiB") "$M/lost" || fail "lost does not read back what was written"
is "ok" fsync "$M/lost"
is "ok" fsync "$M/mid"

# The load ran through all of it without an error.
job_ends "$WRITER" "the records writer on load"
grep -Eq '^wrote [0-9]+$' "$T/records.out" || fail "the writer on load: $(cat "$T/records.out")"
job_ends "$READER" "the reader on load"
grep -Eq '^passes [1-9][0-9]*$' "$T/loadread.out" || fail "the reader on load: $(cat "$T/loadread.out")"
JOBS=()

kill -0 "$DAEMON_PID" || fail "the daemon died"
unmount_slicefs "$M"

# Every record the writer saw acknowledged is in the file; everything else
# is exactly the expected copy.
result=$("$FILEOP" checkrecords "$T/disk.img" "$MiB" "$RECSIZE" "$SLOTS" "$T/records.log")
[[ $result == checked* ]] || fail "records written through load during the truncation: $result"
cmp <(extract "$T/expected.img" 0 "$MiB") <(extract "$T/disk.img" 0 "$MiB") ||
    fail "the backing file's first MiB differs from the expected copy"
cmp <(extract "$T/expected.img" $((2 * MiB)) $((6 * MiB))) <(extract "$T/disk.img" $((2 * MiB)) $((6 * MiB))) ||
    fail "the backing file from 2 MiB on differs from the expected copy"
[ "$(stat -c %s "$T/disk.img")" = "$SIZE" ] || fail "the backing file's size changed"
grep -v -e '^slicefs: mounted' -e '^slicefs: backing file' -e '^slicefs: window digests ' -e '^fuse: writing device: Bad address$' \
    "$DAEMON_LOG" >"$T/unexpected.log" || true
[ ! -s "$T/unexpected.log" ] || fail "unexpected daemon messages: $(cat "$T/unexpected.log")"

# copy_file_range meets lost pages like read and write do: EIO, and a
# window of fixed length never changes the backing file's size.
mount_slicefs "$M" "$T/disk.img" -o window=keep:0:1M,window=lost:5M:1M
truncate -s "$SHRUNK" "$T/disk.img"
is "error EIO" copy "$M/lost" 0 "$M/keep" 0 4096
is "error EIO" copy "$M/keep" 0 "$M/lost" 4096 4096
[ "$(stat -c %s "$T/disk.img")" = "$SHRUNK" ] ||
    fail "copy_file_range into a lost range changed the backing file's size to $(stat -c %s "$T/disk.img")"
truncate -s "$SIZE" "$T/disk.img"
unmount_slicefs "$M"
