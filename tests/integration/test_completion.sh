#!/bin/bash
# bash completion (contrib/bash-completion/slicefs, .../slicefsctl).
# slicefs: options, -o keys and their values, files for BACKING and table=,
# directories for MOUNTPOINT. slicefsctl: options, slicefs mounts (from a
# stand-in for /proc/mounts) before folders, the commands, window paths for
# remove and resize (from "slicefsctl MOUNTPOINT list": a stub on PATH prints
# a table), files for add's BACKING and --backing.
# Drives the completion function the way bash does (COMP_LINE, COMP_POINT,
# COMP_WORDS split at COMP_WORDBREAKS) and checks the completed command
# lines. Needs neither FUSE nor the bash-completion package.
set -euo pipefail
export LC_ALL=C

: "${SLICEFS:?set SLICEFS to the slicefs binary (ctest does)}"
TEST_NAME=$(basename "$0" .sh)
COMPLETIONS=$(cd "$(dirname "$0")/../.." && pwd)/contrib/bash-completion
T=$(mktemp -d "${TMPDIR:-/tmp}/slicefs-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

for prog in slicefs slicefsctl; do
    [ -f "$COMPLETIONS/$prog" ] || fail "no completion file at $COMPLETIONS/$prog"
    bash -n "$COMPLETIONS/$prog" || fail "$COMPLETIONS/$prog has syntax errors"
done

# The driver: a clean bash that sources only the completion file of the
# line's command, then calls its function the way bash does for a command
# line LINE with the cursor at its end, and prints each command line the
# completion produces.
cat >"$T/driver.sh" <<'EOF_DRIVER'
set +e
. "$1" || exit 2
# slicefsctl's completion reads the mounts from the test's stand-in.
[ -z "${MOUNTS_FILE:-}" ] || _slicefsctl_mounts_file=$MOUNTS_FILE
LINE=$2
cmd=${LINE%% *}
spec=$(complete -p "$cmd" 2>/dev/null) || { echo "no 'complete' for $cmd" >&2; exit 2; }
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
"$func" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
# Readline replaces the text after the last space or break character.
keep=$LINE
[[ $LINE =~ ^(.*[[:space:]=:])[^[:space:]=:]*$ ]] && keep=${BASH_REMATCH[1]}
for r in "${COMPREPLY[@]}"; do printf '%s\n' "$keep$r"; done
exit 0
EOF_DRIVER

# complete_line LINE - the command lines completing LINE can produce.
complete_line() {
    bash --norc --noprofile "$T/driver.sh" "$COMPLETIONS/${1%% *}" "$1"
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

# slicefsctl: options, then mounts (slicefs ones only, blanks decoded), and
# folders where no mount fits.
C=$T/ctl
mkdir -p "$C/mnt" "$C/mnt2" "$C/other" "$C/with blank" "$C/sshfs" "$T/bin"
: >"$C/file.img"
cat >"$T/mounts" <<EOF_MOUNTS
/dev/vda / ext4 rw,relatime 0 0
disk.img $C/mnt fuse.slicefs rw,nosuid,nodev 0 0
other.img $C/with\\040blank fuse.slicefs rw,nosuid,nodev 0 0
host: $C/sshfs fuse.sshfs rw 0 0
EOF_MOUNTS
export MOUNTS_FILE=$T/mounts
expect_only "slicefsctl -" "slicefsctl --help" "slicefsctl --version"
expect_only "slicefsctl $C/" "slicefsctl $C/mnt" "slicefsctl $C/with blank"
expect_only "slicefsctl $C/m" "slicefsctl $C/mnt"
expect_only "slicefsctl $C/o" "slicefsctl $C/other"
expect_only "slicefsctl --version $C/s" "slicefsctl --version $C/sshfs"

# The commands.
expect_only "slicefsctl $C/mnt " "slicefsctl $C/mnt list" "slicefsctl $C/mnt add" \
    "slicefsctl $C/mnt remove" "slicefsctl $C/mnt resize" "slicefsctl $C/mnt reload"
expect_only "slicefsctl $C/mnt re" "slicefsctl $C/mnt remove" "slicefsctl $C/mnt resize" \
    "slicefsctl $C/mnt reload"

# Window paths: a stand-in slicefsctl on PATH prints the table of $C/mnt
# (escaped fields, a window of two extents, a comment), and nothing for any
# other command line; the completion must give it a short timeout.
cat >"$T/bin/slicefsctl" <<EOF_STUB
#!/bin/bash
[ "\$#" -eq 2 ] && [ "\$1" = "$C/mnt" ] && [ "\$2" = list ] || exit 2
[ -n "\${SLICEFSCTL_TIMEOUT:-}" ] || exit 3
cat <<'EOF_TABLE'
boot 1048576 536870912 rw /img/disk.img
data/root 0 end rw /img/a.img
data/root 0 end rw /img/b.img
# link -> boot (symbolic link)
with\\ blank 0 4096 ro /img/disk.img
back\\\\slash\\#1 0 1 rw /img/disk.img
EOF_TABLE
EOF_STUB
chmod +x "$T/bin/slicefsctl"
export PATH=$T/bin:$PATH
expect_only "slicefsctl $C/mnt remove " "slicefsctl $C/mnt remove boot" \
    "slicefsctl $C/mnt remove data/root" "slicefsctl $C/mnt remove with\\ blank" \
    "slicefsctl $C/mnt remove back\\\\slash#1"
expect_only "slicefsctl $C/mnt remove d" "slicefsctl $C/mnt remove data/root"
expect_only "slicefsctl $C/mnt resize w" "slicefsctl $C/mnt resize with\\ blank"
expect_only "slicefsctl $C/mnt resize boot "
expect_only "slicefsctl $C/mnt2 remove "
expect_only "slicefsctl $C/mnt list "

# add: SPEC (nothing to offer), then BACKING; --backing FILE.
expect_only "slicefsctl $C/mnt add "
expect_only "slicefsctl $C/mnt add x:0:1 $C/fi" "slicefsctl $C/mnt add x:0:1 $C/file.img"
expect_only "slicefsctl $C/mnt add -" "slicefsctl $C/mnt add --backing"
expect_only "slicefsctl $C/mnt add --backing $C/fi" "slicefsctl $C/mnt add --backing $C/file.img"
expect_only "slicefsctl $C/mnt add --backing $C/file.img x:0:1 "

echo "PASS [$TEST_NAME]"
