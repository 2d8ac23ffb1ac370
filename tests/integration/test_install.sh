#!/bin/bash
# "cmake --install" puts the binaries (slicefs, slicefsctl), their man pages
# and bash completions under the chosen prefix (and under DESTDIR, as
# packaging does); the installed binaries report the project's version and
# list their options, and slicefs mounts.
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
for prog in slicefs slicefsctl; do
    [ -x "$P/bin/$prog" ] || fail "no executable $P/bin/$prog"
    [ -f "$P/share/man/man1/$prog.1" ] || fail "no man page $P/share/man/man1/$prog.1"
    c=$P/share/bash-completion/completions/$prog
    [ -f "$c" ] || fail "no bash completion $c"
    cmp "$c" "$SRC/contrib/bash-completion/$prog" ||
        fail "the installed $prog completion differs from contrib/"
done

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

# slicefsctl: its version, its help.
CTL=$P/bin/slicefsctl
out=$("$CTL" --version) || fail "$CTL --version failed"
[ "$out" = "slicefsctl $version" ] || fail "slicefsctl --version says '$out'"
"$CTL" --help >"$T/ctl-help.txt" || fail "$CTL --help failed"
for word in list add remove resize reload user.slicefs.control; do
    grep -qw -- "$word" "$T/ctl-help.txt" || fail "slicefsctl --help does not mention $word"
done

# The man pages render, without warnings, name the same version, and are
# the ones from doc/.
for prog in slicefs slicefsctl; do
    man=$P/share/man/man1/$prog.1
    MANWIDTH=80 man --warnings -l "$man" >"$T/man.txt" 2>"$T/man.err" || fail "man -l $man failed"
    [ ! -s "$T/man.err" ] || { cat "$T/man.err" >&2; fail "man -l $man warns"; }
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS"; do
        grep -q "^$section" "$T/man.txt" || fail "the rendered $prog.1 has no $section"
    done
    grep -q "^\.TH ${prog^^} 1 .*\"slicefs $version\"" "$man" ||
        fail "$prog.1's .TH does not say slicefs $version: $(grep '^\.TH' "$man")"
    cmp "$man" "$SRC/doc/$prog.1" || fail "the installed $prog.1 differs from doc/"
done
grep -q '^COMMANDS' "$T/man.txt" || fail "slicefsctl.1 has no COMMANDS"

# The completion files load and register for their commands.
for prog in slicefs slicefsctl; do
    bash --norc --noprofile -c '. "$1" && complete -p "$2"' _ \
        "$P/share/bash-completion/completions/$prog" "$prog" >/dev/null ||
        fail "the installed completion does not register for $prog"
done

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
for f in usr/bin/slicefs usr/share/man/man1/slicefs.1 usr/share/bash-completion/completions/slicefs \
    usr/bin/slicefsctl usr/share/man/man1/slicefsctl.1 \
    usr/share/bash-completion/completions/slicefsctl; do
    [ -f "$T/stage/$f" ] || fail "staged install lacks /$f"
done

echo "PASS [$TEST_NAME]"
