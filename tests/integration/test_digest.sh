#!/bin/bash
# Digests for verification (issue 13): slicefs --digest prints sha256sum -c
# lines for every window (chunks, declared windows, odd names escaped as
# sha256sum escapes them), and `sha256sum -c` of them passes in the mount;
# user.slicefs.sha256 of a window is the SHA-256 of its bytes, follows a
# write, and is kept for an unchanged window; bad input is refused.
. "$(dirname "$0")/lib.sh"
requires sha256sum
requires getfattr

img=$T/disk.img
head -c 3M /dev/urandom >"$img"
truncate -s 5M "$img"                       # a hole at the end
M=$T/m
# A window named "new<newline>line\slash", written in a table's escapes.
printf '%s\n' 'new\nline\\slash 1M 100' >"$T/odd.tab"
SRC=layout=chunks:1M,window=hdr:0:4K,table=$T/odd.tab
"$SLICEFS" --digest -o "$SRC" "$img" >"$T/list" ||
    fail "--digest failed"
[ "$(wc -l <"$T/list")" = 7 ] || { cat "$T/list" >&2; fail "--digest did not print 7 windows (5 chunks, hdr, the odd one)"; }
grep -q '^\\[0-9a-f]\{64\}  new\\nline\\\\slash$' "$T/list" || { cat "$T/list" >&2; fail "an odd name is not escaped as sha256sum does"; }
[ "$(grep '  00000004$' "$T/list" | cut -c1-64)" = "$(head -c 1M /dev/zero | sha256sum | cut -c1-64)" ] ||
    fail "the digest of a hole is not the digest of zeros"

mount_slicefs "$M" "$img" -o "$SRC"
(cd "$M" && sha256sum --quiet -c "$T/list") || fail "sha256sum -c of --digest's list failed in the mount"
want=$(sha256sum <"$M/00000001" | cut -c1-64)
[ "$(getfattr --only-values -n user.slicefs.sha256 "$M/00000001")" = "$want" ] ||
    fail "user.slicefs.sha256 is not the SHA-256 of the window"
getfattr -d -m user.slicefs "$M/hdr" | grep -q '^user.slicefs.sha256=' || fail "listxattr does not list sha256"
is "wrote 1" pwrite "$M/00000001" 7 1 Z
want=$(sha256sum <"$M/00000001" | cut -c1-64)
[ "$(getfattr --only-values -n user.slicefs.sha256 "$M/00000001")" = "$want" ] ||
    fail "user.slicefs.sha256 did not follow a write"
unmount_slicefs "$M"
# After the mount, --digest sees the written chunk.
"$SLICEFS" --digest -o layout=chunks:1M "$img" | grep -q "^$want  00000001\$" ||
    fail "--digest does not see the written chunk"

# Bad input: refused, status 1, nothing printed.
status=0
"$SLICEFS" --digest -o window=a:4M:2M "$img" >"$T/out" 2>"$T/err" || status=$?
[ "$status" = 1 ] && grep -q "LENGTH" "$T/err" && [ ! -s "$T/out" ] ||
    fail "--digest of a window past the end: status $status, $(cat "$T/err")"
status=0
"$SLICEFS" --digest "$img" "$T/m" >/dev/null 2>"$T/err" || status=$?
[ "$status" = 1 ] && grep -q "takes no MOUNTPOINT" "$T/err" || fail "--digest with a mount point was not refused"
echo ok
