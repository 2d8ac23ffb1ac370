#!/bin/bash
# layout=archive on tar archives made by GNU tar, zip archives and ISO 9660
# images made by xorriso: --format=gnu and
# --format=posix, with --sparse (GNU sparse 0.0 in gnu, 1.0, 0.1 and 0.0 in
# posix). Every member's bytes equal tar -xO's; sparse members show their
# holes (SEEK_HOLE, st_blocks); long and UTF-8 names; hard links as a second
# window over the same bytes, symbolic links as symbolic links; the
# member's mode bits (never more than the archive's) and mtime; an in-place
# write that tar -xO sees afterwards; truncated and corrupted archives give
# warnings and skipped members, never a window outside the file.
. "$(dirname "$0")/lib.sh"
requires tar

src="$T/src"
mkdir -p "$src/dir/sub" "$T/mnt"
head -c 300000 /dev/urandom >"$src/rand.bin"
printf 'hello\n' >"$src/dir/sub/h.txt"
chmod 640 "$src/dir/sub/h.txt"
chmod 755 "$src/rand.bin"
ln "$src/rand.bin" "$src/hard.bin"
ln -s dir/sub/h.txt "$src/link"
: >"$src/empty"
long="$(printf 'long_name_%.0s' $(seq 20))é文字.txt"
printf 'long utf8\n' >"$src/dir/$long"
truncate -s 10M "$src/sparse.img"
printf 'AAAA' | dd of="$src/sparse.img" bs=1 seek=3145728 conv=notrunc status=none
head -c 5000 /dev/urandom | dd of="$src/sparse.img" bs=1 seek=9437201 conv=notrunc status=none
truncate -s 1M "$src/allhole.img"
touch -d '2001-02-03 04:05:06' "$src/dir/sub/h.txt"
files="rand.bin hard.bin empty dir/sub/h.txt dir/$long sparse.img allhole.img"

check_archive() { # ARCHIVE: mount it, compare every member with tar -xO
    local archive=$1 f
    mount_slicefs "$T/mnt" "$archive" -o layout=archive,ro
    for f in $files; do
        cmp "$src/$f" "$T/mnt/$f" || fail "$archive: member $f differs from its source"
        # tar -xO prints nothing for whichever of the two is the hard link.
        [ "$f" = hard.bin ] || [ "$f" = rand.bin ] ||
            cmp <(tar -xOf "$archive" "./$f") "$T/mnt/$f" || fail "$archive: member $f differs"
    done
    [ "$(readlink "$T/mnt/link")" = dir/sub/h.txt ] || fail "$archive: readlink"
    [ "$(stat -c %F "$T/mnt/link")" = "symbolic link" ] || fail "$archive: link type"
    [ "$(cat "$T/mnt/link")" = hello ] || fail "$archive: following the link"
    [ "$(stat -c %i "$T/mnt/hard.bin")" != "$(stat -c %i "$T/mnt/rand.bin")" ] ||
        fail "$archive: a hard link is its own window"
    [ "$(stat -c %s "$T/mnt/sparse.img")" = 10485760 ] || fail "$archive: sparse size"
    is "at 0" seek "$T/mnt/sparse.img" 0 hole
    is "at 3145728" seek "$T/mnt/sparse.img" 0 data
    is "at 0" seek "$T/mnt/allhole.img" 0 hole
    [ "$(stat -c %b "$T/mnt/sparse.img")" -lt 100 ] || fail "$archive: sparse member st_blocks"
    # The archive's mode is 0644 (ro: 0444); the member's bits narrow it.
    [ "$(stat -c %a "$T/mnt/dir/sub/h.txt")" = 440 ] || fail "$archive: mode $(stat -c %a "$T/mnt/dir/sub/h.txt")"
    [ "$(stat -c %Y "$T/mnt/dir/sub/h.txt")" = "$(stat -c %Y "$src/dir/sub/h.txt")" ] ||
        fail "$archive: mtime"
    [ "$(find "$T/mnt" -type f | wc -l)" = 7 ] || fail "$archive: $(find "$T/mnt" | sort)"
    unmount_slicefs "$T/mnt"
}

for format in gnu posix; do
    tar --format=$format --sparse -cf "$T/$format.tar" -C "$src" .
    check_archive "$T/$format.tar"
done
for version in 0.0 0.1; do
    tar --format=posix --sparse --sparse-version=$version -cf "$T/p$version.tar" -C "$src" .
    check_archive "$T/p$version.tar"
done

# An in-place write through a member: tar -xO sees it, the size stays.
cp "$T/posix.tar" "$T/rw.tar"
mount_slicefs "$T/mnt" "$T/rw.tar" -o layout=archive
printf 'WRITTEN' | dd of="$T/mnt/rand.bin" bs=1 seek=1000 conv=notrunc status=none
is "error ENOSPC" pwrite "$T/mnt/rand.bin" 300000 1 x
is "error ENOSPC" pwrite "$T/mnt/sparse.img" 0 1 x
unmount_slicefs "$T/mnt"
[ "$(tar -xOf "$T/rw.tar" ./rand.bin | dd bs=1 skip=1000 count=7 status=none)" = WRITTEN ] ||
    fail "tar -xO does not see the write"
tar -tf "$T/rw.tar" >/dev/null || fail "tar no longer reads the archive"

# --list prints the members as a table that mounts the same windows.
"$SLICEFS" --list -o layout=archive "$T/gnu.tar" >"$T/listed" || fail "--list"
grep -q '^sparse.img hole ' "$T/listed" || fail "--list shows no hole: $(cat "$T/listed")"
mount_slicefs "$T/mnt" -o table="$T/listed",ro
cmp <(tar -xOf "$T/gnu.tar" ./sparse.img) "$T/mnt/sparse.img" || fail "listed table: sparse.img"
unmount_slicefs "$T/mnt"

# A truncated archive: the members that fit, a warning for the one cut.
head -c 200000 "$T/gnu.tar" >"$T/cut.tar"
mount_slicefs "$T/mnt" "$T/cut.tar" -o layout=archive,ro
grep -q "run past the end of the archive" "$DAEMON_LOG" || fail "no warning for the cut member"
for f in $(ls "$T/mnt"); do
    [ -f "$T/mnt/$f" ] && ! [ -L "$T/mnt/$f" ] && { cat "$T/mnt/$f" >/dev/null || fail "read of $f"; }
done
unmount_slicefs "$T/mnt"

# A corrupted header ends the walk with a warning; a member header whose
# size points past the end is skipped.
cp "$T/gnu.tar" "$T/bad.tar"
block=$(tar -R -tf "$T/gnu.tar" | sed -n 's|^block \([0-9]*\): ./dir/sub/h.txt$|\1|p')
[ -n "$block" ] || fail "no block number for dir/sub/h.txt"
printf '\377\377\377' | dd of="$T/bad.tar" bs=1 seek=$((block * 512 + 10)) conv=notrunc status=none
mount_slicefs "$T/mnt" "$T/bad.tar" -o layout=archive,ro
grep -q "damaged header" "$DAEMON_LOG" || fail "no warning for the damaged header"
unmount_slicefs "$T/mnt"

# zip: stored members (zip -0) are windows equal to unzip -p's output;
# deflated ones (zip -9 of compressible files) are warned of and skipped.
if command -v zip >/dev/null && command -v unzip >/dev/null; then
    (cd "$src" && zip -q -0 -r --symlinks "$T/stored.zip" .)
    mount_slicefs "$T/mnt" "$T/stored.zip" -o layout=archive
    for f in $files; do
        cmp "$src/$f" "$T/mnt/$f" || fail "stored.zip: member $f differs from its source"
        cmp <(unzip -p "$T/stored.zip" "$f") "$T/mnt/$f" || fail "stored.zip: $f differs from unzip -p"
    done
    [ "$(readlink "$T/mnt/link")" = dir/sub/h.txt ] || fail "stored.zip: readlink"
    [ "$(stat -c %a "$T/mnt/dir/sub/h.txt")" = 640 ] || fail "stored.zip: mode"
    printf 'ZIPPED' | dd of="$T/mnt/dir/sub/h.txt" bs=1 seek=0 conv=notrunc status=none
    unmount_slicefs "$T/mnt"
    # The data is written in place: unzip -p sees it (its CRC now differs).
    [ "$(unzip -p "$T/stored.zip" dir/sub/h.txt 2>/dev/null)" = ZIPPED ] || fail "stored.zip: in-place write"
    (cd "$src" && zip -q -9 -r --symlinks "$T/deflated.zip" .)
    mount_slicefs "$T/mnt" "$T/deflated.zip" -o layout=archive,ro
    grep -q "member 'allhole.img' is compressed (method 8)" "$DAEMON_LOG" || fail "no warning for a deflated member"
    [ ! -e "$T/mnt/allhole.img" ] || fail "a deflated member is shown"
    cmp "$src/dir/sub/h.txt" "$T/mnt/dir/sub/h.txt" || fail "deflated.zip: the stored h.txt"
    unmount_slicefs "$T/mnt"
    # A central directory that points past the end: warned of, skipped.
    head -c 5000 "$T/stored.zip" >"$T/cut.zip"
    tail -c 2000 "$T/stored.zip" >>"$T/cut.zip"
    "$SLICEFS" --list -o layout=archive "$T/cut.zip" >"$T/cut.list" 2>"$T/cut.err" || true
    grep -q "zip:" "$T/cut.err" || fail "no warning for a cut zip: $(cat "$T/cut.err")"
fi

head -c 10240 /dev/urandom >"$T/junk"
expect_fail_mount "$T/mnt" "neither an uncompressed tar archive" "$T/junk" -o layout=archive

# ISO 9660 with Rock Ridge (xorriso): files, long and UTF-8 names, modes,
# symbolic links; a file of several extents (4 GiB and more) when
# SLICEFS_TEST_BIG=1 (it writes a 4.2 GiB image).
if command -v xorriso >/dev/null; then
    xorriso -as mkisofs -R -o "$T/image.iso" "$src" 2>/dev/null
    mount_slicefs "$T/mnt" "$T/image.iso" -o layout=archive,ro
    for f in $files; do
        cmp "$src/$f" "$T/mnt/$f" || fail "image.iso: member $f differs from its source"
    done
    [ "$(readlink "$T/mnt/link")" = dir/sub/h.txt ] || fail "image.iso: readlink"
    [ "$(stat -c %a "$T/mnt/dir/sub/h.txt")" = 440 ] || fail "image.iso: mode"
    [ "$(stat -c %Y "$T/mnt/dir/sub/h.txt")" = "$(stat -c %Y "$src/dir/sub/h.txt")" ] ||
        fail "image.iso: mtime"
    unmount_slicefs "$T/mnt"
    if [ "${SLICEFS_TEST_BIG:-0}" = 1 ]; then
        mkdir "$T/big"
        truncate -s 4200M "$T/big/big.bin"
        printf 'HEAD' | dd of="$T/big/big.bin" conv=notrunc status=none
        printf 'TAIL' | dd of="$T/big/big.bin" bs=1 seek=$((4200 * 1048576 - 4)) conv=notrunc status=none
        xorriso -as mkisofs -iso-level 3 -R -o "$T/big.iso" "$T/big" 2>/dev/null
        rm -rf "$T/big"
        "$SLICEFS" --list -o layout=archive "$T/big.iso" >"$T/big.list"
        [ "$(grep -c '^big.bin ' "$T/big.list")" -ge 2 ] || fail "big.iso: not several extents: $(cat "$T/big.list")"
        mount_slicefs "$T/mnt" "$T/big.iso" -o layout=archive,ro
        [ "$(stat -c %s "$T/mnt/big.bin")" = $((4200 * 1048576)) ] || fail "big.iso: size"
        [ "$(head -c 4 "$T/mnt/big.bin")" = HEAD ] || fail "big.iso: head"
        [ "$(tail -c 4 "$T/mnt/big.bin")" = TAIL ] || fail "big.iso: tail"
        unmount_slicefs "$T/mnt"
    fi
fi
