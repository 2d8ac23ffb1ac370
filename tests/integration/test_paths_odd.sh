#!/bin/bash
# Window paths with odd bytes: spaces, a comma (escaped in -o), UTF-8 and
# invalid UTF-8, quotes, '#', a leading '-', control bytes, 255-byte
# components, a 1000-folder-deep path and a 4095-byte path given with -o
# window=; tab, newline, backslash, space, '#' and carriage return through
# a window table's escapes. Each one works: find lists exactly these files,
# ls -b shows the escaped names, stat gives the length, cat reads exactly
# the window's bytes, and slicefs --list writes a table that mounts the
# same names again. A 256-byte component, a path over 4095 bytes and a NUL
# byte are refused before mounting: exit 1, a message that names the
# option or line, the field and the reason - also when the path is long.
. "$(dirname "$0")/lib.sh"

head -c 1M /dev/urandom >"$T/p.img"
M=$T/mnt

N255=$(printf 'n%.0s' $(seq 255))
DEEP=$(printf 'd/%.0s' $(seq 1000))leaf                      # 2004 bytes
LONG=$(for c in a b c d e f g h i j k l m n o p; do printf '%s/' "$c${N255:1}"; done)
LONG=${LONG%/}                                                 # 16 x 255 + 15 = 4095 bytes
[ "${#LONG}" = 4095 ] || fail "test bug: LONG is ${#LONG} bytes"

# The windows: path in the mount, offset, length (all distinct).
NAMES=() OFFS=() LENS=()
add() { NAMES+=("$1"); OFFS+=("$2"); LENS+=("$3"); }
add "with space" 0 4096
add "ü/日本語 ✓" 4096 4097
add "a,b" 12288 100
add "$N255" 16384 4096
add "$DEEP" 20480 5000
add "-dash" 32768 1
add "#hash" 36864 4096
add "quo'te\"s" 40960 4096
add "$LONG" 45056 4096
# Through the table's escapes (and raw bytes).
add $'tab\there' 49152 4096
add $'new\nline' 53248 4096
add 'back\slash' 57344 4096
add 'sp ace#not-comment' 61440 4096
add $'cr\rx' 65536 4096
add $'bad\377utf8' 69632 4096
add $'ctl\001x' 73728 4096
add $'dir with\ttab/new\nfile' 77824 12345

cat >"$T/odd.tab" <<'EOF'
# window table with escapes
tab\there           48K   4K
new\nline           52K   4K
back\\slash         56K   4K
sp\ ace\#not-comment 60K  4K   # a trailing comment
EOF
printf 'cr\\\rx 64K 4K\n' >>"$T/odd.tab"
printf 'bad\377utf8 68K 4K\n' >>"$T/odd.tab"
printf 'ctl\001x 72K 4K\n' >>"$T/odd.tab"
printf 'dir\\ with\\ttab/new\\nfile 76K 12345 rw p.img\n' >>"$T/odd.tab"

# shellcheck disable=SC2054  # the commas belong to -o
OPTS=(-o "window=with space:0:4K" -o "window=ü/日本語 ✓:4K:4097" -o 'window=a\,b:12K:100'
      -o "window=$N255:16K:4K" -o "window=$DEEP:20K:5000" -o "window=-dash:32K:1"
      -o "window=#hash:36K:4K" -o "window=quo'te\"s:40K:4K" -o "window=$LONG:44K:4K"
      -o table="$T/odd.tab")

# check_mount MOUNTPOINT - the mount shows exactly NAMES, with their bytes.
check_mount() {
    local mnt=$1 i name dir base
    (cd "$mnt" && find . -type f -print0 | LC_ALL=C sort -z) >"$T/found"
    for name in "${NAMES[@]}"; do printf './%s\0' "$name"; done | LC_ALL=C sort -z >"$T/wanted"
    cmp -s "$T/wanted" "$T/found" ||
        fail "find lists other files than the windows: $(tr '\0' '|' <"$T/found" | cut -c1-400)"
    for i in "${!NAMES[@]}"; do
        name=${NAMES[$i]}
        # Reach the file from its folder: the 4095-byte path plus the
        # mount point is longer than PATH_MAX.
        dir=.
        base=$name
        if [[ $name == */* ]]; then
            dir=${name%/*}
            base=${name##*/}
        fi
        (
            cd "$mnt" || exit 1
            cd -- "$dir" || exit 1
            [ "$(stat -c %s -- "$base")" = "${LENS[$i]}" ] || exit 2
            cmp -s <(extract "$T/p.img" "${OFFS[$i]}" "${LENS[$i]}") <(cat -- "$base") || exit 3
            [ "$(getfattr --only-values -n user.slicefs.offset -- "$base" 2>/dev/null)" = "${OFFS[$i]}" ] || exit 4
        ) || fail "window $(printf '%q' "$name" | cut -c1-80): cd, stat, cat or getfattr failed (step $?)"
    done
    # ls shows the names, escaped where they hold control bytes.
    ls -b "$mnt" >"$T/ls.out" || fail "ls -b failed"
    for want in 'with\ space' 'tab\there' 'new\nline' 'back\\slash' 'cr\rx' 'ctl\001x' \
        '#hash' '-dash' "quo'te\"s" "$N255" 'sp\ ace#not-comment' '\303\274' 'dir\ with\ttab' \
        'bad\377utf8'; do
        grep -qxF -- "$want" "$T/ls.out" || fail "ls -b does not show $want: $(tr '\n' '|' <"$T/ls.out" | cut -c1-300)"
    done
    [ "$(ls "$mnt/ü")" = "日本語 ✓" ] || fail "ls of a UTF-8 folder: $(ls -b "$mnt/ü")"
    # (ls -lR itself cannot: it stats by full path, over PATH_MAX here.)
    (cd "$mnt" && find . -ls >/dev/null) || fail "find -ls of the mount failed"
}

mount_slicefs "$M" "$T/p.img" "${OPTS[@]}"
check_mount "$M"
# Writes find the right bytes too.
tab_name=$'tab\there'
printf 'odd' | dd of="$M/$tab_name" conv=notrunc status=none || fail "write through tab<TAB>here"
printf 'odd' | dd of="$T/p.img" oflag=seek_bytes seek=49152 conv=notrunc status=none
unmount_slicefs "$M"
cmp <(extract "$T/p.img" 49152 3) <(printf 'odd') || fail "the write through a tab name went elsewhere"

# --list writes a table that mounts the same windows again.
"$SLICEFS" --list "$T/p.img" "${OPTS[@]}" >"$T/listed.tab" || fail "slicefs --list failed"
[ "$(grep -c '' "$T/listed.tab")" = "${#NAMES[@]}" ] ||
    fail "--list wrote $(grep -c '' "$T/listed.tab") lines for ${#NAMES[@]} windows"
mount_slicefs "$M" -o table="$T/listed.tab"
check_mount "$M"
unmount_slicefs "$M"

# --- Refused --------------------------------------------------------------
R=$T/refused
N256=${N255}x
expect_fail_mount "$R" "^slicefs: window=$N256:0:1: PATH: '$N256' has a component of 256 bytes \(the limit is 255\)$" \
    "$T/p.img" -o "window=$N256:0:1"
expect_fail_mount "$R" "^slicefs: window=x/$N256/y:0:1: PATH: 'x/$N256/y' has a component of 256 bytes \(the limit is 255\)$" \
    "$T/p.img" -o "window=x/$N256/y:0:1"
printf '%s 0 1\n' "a/$N256" >"$T/c256.tab"
expect_fail_mount "$R" "^slicefs: $T/c256.tab:1: PATH: 'a/$N256' has a component of 256 bytes \(the limit is 255\)$" \
    -o table="$T/c256.tab" "$T/p.img"
printf 'ok 0 1\n%s 0 1\n' "${LONG}x" >"$T/long.tab"
expect_fail_mount "$R" "^slicefs: $T/long.tab:2: PATH: path is 4096 bytes long \(the limit is 4095\)$" \
    -o table="$T/long.tab" "$T/p.img"
printf 'a\0b 0 1\n' >"$T/nul.tab"
expect_fail_mount "$R" "^slicefs: $T/nul.tab:1: the line holds a NUL byte$" -o table="$T/nul.tab" "$T/p.img"
# A path that is long and also has a bad component: the reason must
# survive the length of the message.
printf '%s 0 1\n' "${DEEP%leaf}$N256" >"$T/deep256.tab"
expect_fail_mount "$R" "^slicefs: $T/deep256.tab:1: PATH: .*has a component of 256 bytes \(the limit is 255\)$" \
    -o table="$T/deep256.tab" "$T/p.img"
# The same over-long path as an option: the message must still say why.
expect_fail_mount "$R" "PATH: path is 4096 bytes long \(the limit is 4095\)$" \
    "$T/p.img" -o "window=${LONG}x:0:1"
