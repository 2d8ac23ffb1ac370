#!/bin/bash
# slicefsctl, the runtime control client, without a slicefs daemon: a
# command line it refuses itself (no arguments, an unknown command or
# option, a wrong number of arguments, a missing BACKING) exits 1 with a
# message and the usage on stderr, nothing on stdout and nothing sent; a
# folder that is no mount exits 2 and says so; --help and --version exit 0.
# Then a fake daemon (python3) listens where the client looks for the
# socket of a plain folder (XDG_RUNTIME_DIR points into the test's folder):
# it checks the exact bytes of each request (BACKING made absolute from the
# client's cwd, either form of add) and replies; the client prints the body
# of a "0" reply to stdout as it is, and each line of any other to stderr as
# "slicefsctl: LINE", exiting with the status. A bad reply, a socket nobody
# listens on, a daemon that never answers (SLICEFSCTL_TIMEOUT) and a socket
# in a folder others may write to all exit 2; the path a mount shows in
# user.slicefs.control is used before the computed one.
. "$(dirname "$0")/lib.sh"

: "${SLICEFSCTL:?set SLICEFSCTL to the slicefsctl binary (ctest does)}"
requires python3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^project(slicefs[^)]*VERSION \([0-9][0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")

T=$(realpath "$T")
export XDG_RUNTIME_DIR=$T/xdg
unset SLICEFSCTL_TIMEOUT
mkdir -m 700 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/slicefs"
mkdir "$T/mnt" "$T/plain"
: >"$T/backing.img"

# ctl ARGS... - runs slicefsctl within the deadline: stdout in $T/out,
# stderr in $T/err, the exit status in $rc.
ctl() {
    ctl_in . "$@"
}

# ctl_in DIR ARGS... - ctl with DIR as the current folder.
ctl_in() {
    local dir=$1
    shift
    rc=0
    (cd "$dir" && exec timeout "$DEADLINE" "$SLICEFSCTL" "$@") >"$T/out" 2>"$T/err" || rc=$?
}

# expect_status STATUS DESCRIPTION - the last ctl exited STATUS.
expect_status() {
    [ "$rc" -eq "$1" ] || { cat "$T/err" >&2; fail "$2: exit $rc, expected $1"; }
}

# refused PATTERN ARGS... - exit 1, PATTERN (fixed text) and a usage line on
# stderr, nothing on stdout.
refused() {
    local pattern=$1
    shift
    ctl "$@"
    expect_status 1 "slicefsctl $*"
    grep -qF -- "$pattern" "$T/err" || { cat "$T/err" >&2; fail "slicefsctl $*: no '$pattern'"; }
    grep -q '^usage: slicefsctl' "$T/err" || { cat "$T/err" >&2; fail "slicefsctl $*: no usage"; }
    [ ! -s "$T/out" ] || fail "slicefsctl $* wrote to stdout: $(cat "$T/out")"
}

# --- The command line, refused before anything is sent. -------------------
refused "missing MOUNTPOINT and COMMAND"
refused "missing COMMAND" "$T/mnt"
refused "unknown command 'frobnicate'" "$T/mnt" frobnicate
refused "unknown option '--frob'" --frob "$T/mnt" list
refused "usage: slicefsctl MOUNTPOINT list" "$T/mnt" list extra
refused "usage: slicefsctl MOUNTPOINT reload" "$T/mnt" reload extra
refused "usage: slicefsctl MOUNTPOINT add SPEC [BACKING]" "$T/mnt" add
refused "add takes SPEC [BACKING], not 3 arguments" "$T/mnt" add a:0:1 "$T/backing.img" c
refused "add --backing BACKING SPEC" "$T/mnt" add --backing "$T/backing.img" a:0:1 "$T/backing.img"
refused "add: --backing needs a FILE" "$T/mnt" add a:0:1 --backing
refused "add: --backing twice" "$T/mnt" add --backing=x --backing x a:0:1
refused "usage: slicefsctl MOUNTPOINT remove PATH" "$T/mnt" remove
refused "usage: slicefsctl MOUNTPOINT remove PATH" "$T/mnt" remove a b
refused "remove: unknown option '-x'" "$T/mnt" remove -x
refused "usage: slicefsctl MOUNTPOINT resize PATH LENGTH" "$T/mnt" resize a
refused "resize takes PATH LENGTH, not 3 arguments" "$T/mnt" resize a 1 2

# A missing BACKING: exit 1, named, in both forms.
for form in plain option; do
    if [ $form = plain ]; then
        ctl "$T/mnt" add a:0:1 "$T/missing.img"
    else
        ctl "$T/mnt" add --backing "$T/missing.img" a:0:1
    fi
    expect_status 1 "add, a missing BACKING ($form)"
    grep -qxF "slicefsctl: $T/missing.img: No such file or directory" "$T/err" ||
        { cat "$T/err" >&2; fail "add ($form): the missing BACKING is not named"; }
done
ctl_in "$T/plain" "$T/mnt" add a:0:1 missing.img
grep -qxF "slicefsctl: missing.img: No such file or directory" "$T/err" ||
    fail "a relative missing BACKING is not named as given: $(cat "$T/err")"

# A bad SLICEFSCTL_TIMEOUT is refused before connecting.
for bad in abc 0 -1 1e9 5s; do
    SLICEFSCTL_TIMEOUT=$bad ctl "$T/mnt" list
    expect_status 1 "SLICEFSCTL_TIMEOUT=$bad"
    grep -qF "SLICEFSCTL_TIMEOUT='$bad'" "$T/err" || fail "SLICEFSCTL_TIMEOUT=$bad is not named"
done

# --help and --version.
ctl --help
expect_status 0 "--help"
[ ! -s "$T/err" ] || fail "--help wrote to stderr: $(cat "$T/err")"
for word in "list" "add SPEC [BACKING]" "add --backing BACKING SPEC" "remove PATH" \
    "resize PATH LENGTH" "reload" "Exit status" "user.slicefs.control" "/run/slicefs" \
    "SLICEFSCTL_TIMEOUT"; do
    grep -qF -- "$word" "$T/out" || fail "--help does not mention '$word'"
done
ctl --version
expect_status 0 "--version"
[ "$(cat "$T/out")" = "slicefsctl $version" ] || fail "--version says '$(cat "$T/out")'"

# --- No mount there: exit 2, said. -----------------------------------------
ctl "$T/mnt" list
expect_status 2 "a plain folder"
grep -qF "slicefsctl: $T/mnt: not a slicefs mount" "$T/err" || fail "plain folder: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a plain folder: output on stdout"
name=$(grep -oE '[0-9a-f]{16}\.sock' "$T/err") || fail "the message names no socket: $(cat "$T/err")"
grep -qF "in $XDG_RUNTIME_DIR/slicefs," "$T/err" || fail "the message does not name the folder"
ctl "$T/nowhere" list
expect_status 2 "a missing folder"
grep -qxF "slicefsctl: $T/nowhere: No such file or directory" "$T/err" || fail "$(cat "$T/err")"
ctl "$T/backing.img" list
expect_status 2 "a file"

# The name is the mount point's absolute, symlink-free path's: the same by
# a relative path and through a symbolic link; another folder's differs.
ln -s mnt "$T/link"
ctl_in "$T" link/ list
grep -qF "$name" "$T/err" || fail "through a link: $(cat "$T/err")"
ctl "$T/plain" list
! grep -qF "$name" "$T/err" || fail "two folders, one socket name"

# --- A fake daemon. ---------------------------------------------------------
cat >"$T/fake.py" <<'EOF_FAKE'
# fake.py SOCKET WANT REPLY MODE - listens at SOCKET (bound by its name from
# its folder, so a long path works), takes one connection, reads the request
# to its end and, when it is the bytes of file WANT, replies the bytes of
# file REPLY (else a failure, and exit 1). MODE "refuse": bind and exit
# (nobody listens); "hang": never reply. Every wait has a deadline.
import os, socket, sys, time

path, want_file, reply_file, mode = sys.argv[1:5]
deadline = float(os.environ.get("DEADLINE", "60"))
os.chdir(os.path.dirname(path))
name = os.path.basename(path)
if os.path.exists(name):
    os.unlink(name)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(name)
if mode == "refuse":
    sys.exit(0)
s.listen(1)
s.settimeout(deadline)
c, _ = s.accept()
os.unlink(name)
c.settimeout(deadline)
got = b""
while True:
    data = c.recv(65536)
    if not data:
        break
    got += data
if mode == "hang":
    time.sleep(deadline)
    sys.exit(0)
want = open(want_file, "rb").read()
if got != want:
    sys.stderr.write("fake daemon: got %r, expected %r\n" % (got, want))
    c.sendall(b"2\nfake daemon: unexpected request\n")
    sys.exit(1)
c.sendall(open(reply_file, "rb").read())
c.close()
EOF_FAKE

SOCK=$XDG_RUNTIME_DIR/slicefs/$name
FAKE=

# fake_start WANT REPLY [MODE [SOCKET]] - starts the fake daemon expecting the
# request WANT (printf format, %s: $T) and replying REPLY (printf format);
# waits until it listens.
fake_start() {
    local sock=${4:-$SOCK}
    # shellcheck disable=SC2059
    printf "$1" "$T" >"$T/want"
    # shellcheck disable=SC2059
    printf "$2" >"$T/reply"
    DEADLINE=$DEADLINE python3 "$T/fake.py" "$sock" "$T/want" "$T/reply" "${3:-reply}" \
        2>"$T/fake.err" &
    FAKE=$!
    JOBS=("$FAKE")
    wait_until "the fake daemon listens at $sock" test -S "$sock"
}

# fake_done - the fake daemon ends within the deadline, having got what it
# expected.
fake_done() {
    local status=0
    wait_gone "$FAKE" || fail "the fake daemon did not end within $DEADLINE s"
    wait "$FAKE" || status=$?
    JOBS=()
    [ "$status" -eq 0 ] || { cat "$T/fake.err" >&2; fail "the fake daemon exited $status"; }
}

# Refused: status 1, the message on stderr, nothing on stdout. BACKING is
# made absolute from the client's cwd.
fake_start 'add\0x:0:4096\0%s/backing.img\0' '1\nwindow x: bad\n'
ctl_in "$T" mnt add x:0:4096 backing.img
fake_done
expect_status 1 "a refused add"
[ "$(cat "$T/err")" = "slicefsctl: window x: bad" ] || fail "refused add: stderr '$(cat "$T/err")'"
[ ! -s "$T/out" ] || fail "a refused add wrote to stdout"

# add --backing: the same request. Status 2 and a message of two lines, the
# last without a newline.
fake_start 'add\0x:0:4096\0%s/backing.img\0' '2\nfirst line\nsecond line'
ctl_in "$T/plain" ../mnt add --backing ../link/../backing.img x:0:4096
fake_done
expect_status 2 "a failed add"
[ "$(cat "$T/err")" = $'slicefsctl: first line\nslicefsctl: second line' ] ||
    fail "failed add: stderr '$(cat "$T/err")'"

# add without BACKING; a refusal without a message.
fake_start 'add\0x:0:4096\0' '1\n'
ctl "$T/mnt" add -- x:0:4096
fake_done
expect_status 1 "add without BACKING"
grep -qF "refused without saying why (status 1)" "$T/err" || fail "empty refusal: $(cat "$T/err")"

# Done: stdout is the body, byte for byte.
fake_start 'list\0' '0\nline1\nline2\n'
ctl "$T/mnt" list
fake_done
expect_status 0 "list"
printf 'line1\nline2\n' | cmp -s - "$T/out" || fail "list: stdout '$(od -c "$T/out")'"
[ ! -s "$T/err" ] || fail "list wrote to stderr: $(cat "$T/err")"

fake_start 'resize\0dir/w\0001M\0' '0\n'
ctl "$T/mnt" resize dir/w 1M
fake_done
expect_status 0 "resize"
[ ! -s "$T/out" ] || fail "resize printed '$(cat "$T/out")'"
[ ! -s "$T/err" ] || fail "resize said '$(cat "$T/err")'"

fake_start 'remove\0-odd name\0' '0\n'
ctl "$T/mnt" remove -- "-odd name"
fake_done
expect_status 0 "remove"

fake_start 'reload\0' '3\nsomething new\n'
ctl "$T/mnt" reload
fake_done
expect_status 3 "a status the client does not know"

# A reply without a status line: exit 2, the socket named.
fake_start 'list\0' 'hello\n'
ctl "$T/mnt" list
fake_done
expect_status 2 "a bad reply"
grep -qF "bad reply from $SOCK" "$T/err" || fail "bad reply: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a bad reply wrote to stdout"

# Nobody answers: the timeout, exit 2.
fake_start 'list\0' '' hang
start=$SECONDS
SLICEFSCTL_TIMEOUT=0.5 ctl "$T/mnt" list
expect_status 2 "a daemon that never answers"
[ $((SECONDS - start)) -lt 10 ] || fail "SLICEFSCTL_TIMEOUT=0.5 took $((SECONDS - start)) s"
grep -qF "no reply from $SOCK within 0.500 s" "$T/err" || fail "timeout: $(cat "$T/err")"
stop_jobs

# A socket nobody listens on: exit 2, the path and the errno text.
DEADLINE=$DEADLINE python3 "$T/fake.py" "$SOCK" /dev/null /dev/null refuse ||
    fail "cannot make a dead socket"
ctl "$T/mnt" list
expect_status 2 "a dead socket"
grep -qF "cannot connect to $SOCK: Connection refused" "$T/err" || fail "dead: $(cat "$T/err")"
rm -f "$SOCK"

# A socket in a folder others may write to is not taken (it could have been
# planted there).
fake_start 'list\0' '0\nplanted\n'
chmod 777 "$XDG_RUNTIME_DIR/slicefs"
ctl "$T/mnt" list
chmod 700 "$XDG_RUNTIME_DIR/slicefs"
expect_status 2 "a socket in a folder anyone may write to"
grep -qF "not a slicefs mount" "$T/err" || fail "planted socket: $(cat "$T/err")"
ctl "$T/mnt" list # the fake daemon's one connection
fake_done
[ "$(cat "$T/out")" = planted ] || fail "after chmod 700: '$(cat "$T/out")'"

# The socket a mount shows in user.slicefs.control comes first (a plain
# folder with the attribute plays the mount, where user xattrs work), when
# it is this mount point's socket (its name); another name is a decoy that
# could send the command to another mount, and is not taken.
ctl "$T/plain" list
plain_name=$(grep -oE '[0-9a-f]{16}\.sock' "$T/err") || fail "no socket named for plain: $(cat "$T/err")"
mkdir -m 0700 "$T/shown"
if python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.slicefs.control", sys.argv[2].encode())' \
    "$T/plain" "$T/shown/$plain_name" 2>/dev/null; then
    fake_start 'list\0' '0\nshown\n' reply "$T/shown/$plain_name"
    ctl "$T/plain" list
    fake_done
    expect_status 0 "the shown socket"
    [ "$(cat "$T/out")" = shown ] || fail "the shown socket: '$(cat "$T/out")' $(cat "$T/err")"
    fake_start 'list\0' '0\ndecoy\n' reply "$T/decoy.sock"
    python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.slicefs.control", sys.argv[2].encode())' \
        "$T/plain" "$T/decoy.sock"
    ctl "$T/plain" list
    expect_status 2 "a decoy socket in the attribute"
    [ "$(cat "$T/out")" != decoy ] || fail "the decoy socket was used"
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"list\0"); s.shutdown(socket.SHUT_WR); s.recv(64)' "$T/decoy.sock"
    fake_done
else
    echo "note [$TEST_NAME]: no user xattrs in $T; the attribute is not tried" >&2
fi

echo "PASS [$TEST_NAME]"
