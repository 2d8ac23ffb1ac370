#!/bin/bash
# bash completion (contrib/bash-completion/slicefs): options, -o keys and
# their values, files for BACKING and table=, directories for MOUNTPOINT.
# Drives the completion function the way bash does (COMP_LINE, COMP_POINT,
# COMP_WORDS split at COMP_WORDBREAKS) and checks the completed command
# lines. Needs neither FUSE nor the bash-completion package.
set -euo pipefail
export LC_ALL=C

: "${SLICEFS:?set SLICEFS to the slicefs binary (ctest does)}"
TEST_NAME=$(basename "$0" .sh)
COMPLETION=$(cd "$(dirname "$0")/../.." && pwd)/contrib/bash-completion/slicefs
T=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

[ -f "$COMPLETION" ] || fail "no completion file at $COMPLETION"
bash -n "$COMPLETION" || fail "$COMPLETION has syntax errors"

# The driver: a clean bash that sources only the completion file, then
# calls its function the way bash does for a command line LINE with the
# cursor at its end, and prints each command line the completion produces.
cat >"$T/driver.sh" <<'EOF_DRIVER'
set +e
. "$1" || exit 2
LINE=$2
spec=$(complete -p slicefs 2>/dev/null) || { echo "no 'complete' for slicefs" >&2; exit 2; }
func=$(sed -n 's/.*-F \([^ ]*\).*/\1/p' <<<"$spec")
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
COMP_LINE=$LINE
COMP_POINT=${#LINE}
# Split like readline: white space separates words, and each run of
# word-break characters (= and :) is a word of its own.
COMP_WORDS=()
for w in $LINE; do
    while [[ $w =~ ^([^=:]*)([=:]+)(.*)$ ]]; do
        [ -n "${BASH_REMATCH[1]}" ] && COMP_WORDS+=("${BASH_REMATCH[1]}")
        COMP_WORDS+=("${BASH_REMATCH[2]}")
        w=${BASH_REMATCH[3]}
    done
    [ -n "$w" ] && COMP_WORDS+=("$w")
done
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$func" slicefs "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
# Readline replaces the text after the last space or break character.
keep=$LINE
[[ $LINE =~ ^(.*[[:space:]=:])[^[:space:]=:]*$ ]] && keep=${BASH_REMATCH[1]}
for r in "${COMPREPLY[@]}"; do printf '%s\n' "$keep$r"; done
exit 0
EOF_DRIVER

# complete_line LINE - the command lines completing LINE can produce.
complete_line() {
    bash --norc --noprofile "$T/driver.sh" "$COMPLETION" "$1"
}

# expect LINE COMPLETED... - completing LINE offers every COMPLETED line.
expect() {
    local line=$1 want out
    shift
    out=$(complete_line "$line") || fail "completing '$line' failed"
    for want in "$@"; do
        grep -qxF -- "$want" <<<"$out" ||
            fail "completing '$line' does not offer '$want'; it offers: $(tr '\n' '|' <<<"$out")"
    done
}

# expect_only LINE COMPLETED... - completing LINE offers exactly these lines.
expect_only() {
    local line=$1 out want
    shift
    out=$(complete_line "$line") || fail "completing '$line' failed"
    want=$(printf '%s\n' "$@" | sort)
    [ "$(sort <<<"$out")" = "$want" ] ||
        fail "completing '$line' offers '$(tr '\n' '|' <<<"$out")', expected '$(tr '\n' '|' <<<"$want")'"
}

# Options.
expect "slicefs -" "slicefs -o" "slicefs -f" "slicefs -d" "slicefs -s" "slicefs -h" \
    "slicefs -V" "slicefs --help" "slicefs --version" "slicefs --list"
expect_only "slicefs --ve" "slicefs --version"
expect_only "slicefs --li" "slicefs --list"

# -o keys.
expect "slicefs -o " "slicefs -o window=" "slicefs -o table=" "slicefs -o layout=" \
    "slicefs -o sectorsize=" "slicefs -o cache=" "slicefs -o ro" "slicefs -o create" \
    "slicefs -o extend" "slicefs -o allow_other" "slicefs -o default_permissions" \
    "slicefs -o max_read=" "slicefs -o max_threads=" "slicefs -o clone_fd" "slicefs -o debug"
expect_only "slicefs -o ro,cr" "slicefs -o ro,create"
expect_only "slicefs -o allow_o" "slicefs -o allow_other"
expect_only "slicefs -o ro,allow_other,def" "slicefs -o ro,allow_other,default_permissions"
expect_only "slicefs -oro,ext" "slicefs -oro,extend"

# Every -o option that --help lists can be completed.
help_keys=$("$SLICEFS" --help | grep -oE '^ +(-[a-zA-Z] +)?-o [a-z_]+' | sed 's/.*-o //' | sort -u)
[ -n "$help_keys" ] || fail "slicefs --help lists no -o options"
offered=$(complete_line "slicefs -o " | sed 's/^slicefs -o //; s/=$//')
for key in $help_keys; do
    grep -qxF "$key" <<<"$offered" || fail "--help lists -o $key, completion does not offer it"
done

# Values.
expect_only "slicefs -o layout=p" "slicefs -o layout=partitions"
expect_only "slicefs -o layout=" "slicefs -o layout=archive" "slicefs -o layout=chunks:" \
    "slicefs -o layout=partitions"
expect_only "slicefs -o ro,layout=ch" "slicefs -o ro,layout=chunks:"
expect_only "slicefs -oro,layout=part" "slicefs -oro,layout=partitions"
expect_only "slicefs -o cache=" "slicefs -o cache=auto" "slicefs -o cache=always" \
    "slicefs -o cache=never"
expect_only "slicefs -o ro,cache=n" "slicefs -o ro,cache=never"
expect_only "slicefs -o sectorsize=" "slicefs -o sectorsize=512" "slicefs -o sectorsize=4096"
expect_only "slicefs -o sectorsize=4" "slicefs -o sectorsize=4096"
expect_only "slicefs -o window=a:0:1M:c" "slicefs -o window=a:0:1M:cow"

# Files and directories.
mkdir "$T/mnt" "$T/mnt2"
: >"$T/disk.img"
: >"$T/windows.tab"
expect_only "slicefs -o table=$T/win" "slicefs -o table=$T/windows.tab"
expect_only "slicefs -o ro,table=$T/win" "slicefs -o ro,table=$T/windows.tab"
expect_only "slicefs $T/di" "slicefs $T/disk.img"
expect_only "slicefs -o ro $T/di" "slicefs -o ro $T/disk.img"
# MOUNTPOINT: directories only, not the image.
expect_only "slicefs $T/disk.img $T/" "slicefs $T/disk.img $T/mnt" "slicefs $T/disk.img $T/mnt2"
expect_only "slicefs -o layout=partitions $T/disk.img $T/m" \
    "slicefs -o layout=partitions $T/disk.img $T/mnt" \
    "slicefs -o layout=partitions $T/disk.img $T/mnt2"

echo "PASS [$TEST_NAME]"
