#!/bin/bash
# "cmake --install" puts the binary, the man page and the bash completion
# under the chosen prefix (and under DESTDIR, as packaging does); the
# installed binary reports the project's version, lists its options, and
# mounts.
. "$(dirname "$0")/lib.sh"

: "${BUILD_DIR:?set BUILD_DIR to the cmake build folder (ctest does)}"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
requires cmake
requires man

# The one version: project(slicefs VERSION x.y.z) in CMakeLists.txt.
version=$(sed -n 's/^project(slicefs[^)]*VERSION \([0-9][0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$version" ] || fail "no project(slicefs VERSION ...) in $SRC/CMakeLists.txt"

P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log" >&2; fail "cmake --install --prefix $P failed"; }

BIN=$P/bin/slicefs
MAN=$P/share/man/man1/slicefs.1
COMP=$P/share/bash-completion/completions/slicefs
[ -x "$BIN" ] || fail "no executable $BIN"
[ -f "$MAN" ] || fail "no man page $MAN"
[ -f "$COMP" ] || fail "no bash completion $COMP"
cmp "$COMP" "$SRC/contrib/bash-completion/slicefs" || fail "installed completion differs from contrib/"

# --version: the project's version, exit 0.
out=$("$BIN" --version) || fail "$BIN --version failed"
[[ $(head -n 1 <<<"$out") =~ ^slicefs\ $version([^0-9.]|$) ]] ||
    fail "--version says '$out', CMakeLists.txt says $version"
out=$("$BIN" -V) || fail "$BIN -V failed"
[[ $out == "slicefs $version"* ]] || fail "-V says '$out'"

# --help: exit 0, every slicefs option.
"$BIN" --help >"$T/help.txt" || fail "$BIN --help failed"
for opt in 'window=' 'table=' 'layout=chunks:' 'layout=partitions' 'sectorsize=' 'cache=' \
    '--list' '-o ro' '-o create' '-o extend' '--help' '--version' 'allow_other'; do
    grep -qF -- "$opt" "$T/help.txt" || fail "--help does not list $opt"
done

# The man page renders, without warnings, names the same version, and is
# the one from doc/.
MANWIDTH=80 man --warnings -l "$MAN" >"$T/man.txt" 2>"$T/man.err" || fail "man -l $MAN failed"
[ ! -s "$T/man.err" ] || { cat "$T/man.err" >&2; fail "man -l $MAN warns"; }
for section in NAME SYNOPSIS DESCRIPTION OPTIONS; do
    grep -q "^$section" "$T/man.txt" || fail "the rendered man page has no $section"
done
grep -q "^\.TH SLICEFS 1 .*\"slicefs $version\"" "$MAN" ||
    fail "the man page's .TH does not say slicefs $version: $(grep '^\.TH' "$MAN")"

# The completion file loads and registers for slicefs.
bash --norc --noprofile -c '. "$1" && complete -p slicefs' _ "$COMP" >/dev/null ||
    fail "the installed completion does not register for slicefs"

# A real mount with the installed binary.
head -c 4M /dev/urandom >"$T/disk.img"
SLICEFS=$BIN mount_slicefs "$T/mnt" "$T/disk.img" -o window=w:1M:1M,layout=chunks:2M
cmp "$T/mnt/w" <(tail -c +$((1024 * 1024 + 1)) "$T/disk.img" | head -c 1M) ||
    fail "window w of the installed slicefs differs"
cmp "$T/mnt/00000001" <(tail -c +$((2 * 1024 * 1024 + 1)) "$T/disk.img") ||
    fail "chunk 00000001 of the installed slicefs differs"
unmount_slicefs "$T/mnt"

# Staged, as a package build does it: DESTDIR plus the /usr prefix.
DESTDIR=$T/stage cmake --install "$BUILD_DIR" --prefix /usr >"$T/stage.log" 2>&1 ||
    { cat "$T/stage.log" >&2; fail "DESTDIR=... cmake --install --prefix /usr failed"; }
for f in usr/bin/slicefs usr/share/man/man1/slicefs.1 usr/share/bash-completion/completions/slicefs; do
    [ -f "$T/stage/$f" ] || fail "staged install lacks /$f"
done

echo "PASS [$TEST_NAME]"
