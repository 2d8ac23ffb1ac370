#!/usr/bin/env python3
"""control_stress.py - random slicefsctl commands against a live mount, each
checked against a model of what must happen (test_control_stress.sh).

    control_stress.py SLICEFSCTL MOUNTPOINT BACKING SEED COUNT MODEL_OUT

The model starts as the mount's own `slicefsctl list` (the fixed windows,
which no command may change: they are only ever added again, which must be
refused). Then COUNT commands, drawn from random.Random(SEED) alone (the
same seed gives the same commands), each run through the slicefsctl binary:

  add SPEC      a name from a pool of 41 (some nested, d1/d2/wNN; some that
                are a folder of others, d1/d2 and d3), at a random page-
                aligned offset below LIMIT, in forms the parser must accept
                (bytes, 0x hex, K, M, s), rw by default or :rw, :ro, :cow;
                refused when the name is a window already, a folder, or
                under a window, or when it runs past the end of BACKING
  remove PATH   refused when PATH is no window
  resize PATH L refused when PATH is no window or L runs past the end
  reload        now and then: back to the windows given at mount (the
                fixed ones)

Windows that are done stay below LIMIT (the guard tail past it is never
covered); refused ones run past the end of BACKING. After each command:
its exit status is the model's (1 with a message when refused); the
kernel's view of the path agrees at once (stat: a file of the model's size
and mode, a folder, or nothing; the parent folder's listing; a window's
inode number stays the same while it lives (resized too), and a window
added again at a path gets a number the path never had); now and then
a page of a window in the quiet part of BACKING (bytes from QUIET up,
never written) reads back as BACKING's bytes there, and a handle opened
before a remove still reads the removed window's bytes. Every CHECK_EVERY
commands, and at the end, `slicefsctl list` equals the model and a walk of
the mount shows exactly its files, sizes and folders. The final model is
written to MODEL_OUT in window-table form, sorted.

Exit status 0 when everything agreed; 1 at the first disagreement (said on
stderr with the seed and the command's number).
"""
import errno
import math
import os
import random
import stat
import subprocess
import sys
import time

PAGE = 4096
MIB = 1 << 20
LIMIT = 64 * MIB  # windows that are done end at or below this
QUIET = 16 * MIB  # BACKING's bytes from here to LIMIT are never written
CHECK_EVERY = 1000

POOL = ([f"w{i:02d}" for i in range(24)] + [f"d1/w{i:02d}" for i in range(24, 30)] +
        [f"d1/d2/w{i:02d}" for i in range(30, 38)] + ["d1/d2", "d3", "d3/w38"])


class Mismatch(Exception):
    pass


class Model:
    """The windows the mount must show: path -> (offset, length, mode)."""

    def __init__(self, listing, backing):
        self.backing = backing
        self.windows = {}
        for line in listing.splitlines():
            path, off, length, mode, file = line.split(" ")
            if file != backing:
                raise Mismatch(f"fixed window on another file: {line}")
            self.windows[path] = (int(off), int(length), mode)
        self.fixed = set(self.windows)

    def folders(self):
        out = set()
        for path in self.windows:
            parts = path.split("/")
            for i in range(1, len(parts)):
                out.add("/".join(parts[:i]))
        return out

    def why_not_add(self, path, off, length, end):
        if path in self.windows:
            return "a window already"
        if path in self.folders():
            return "a folder"
        parts = path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in self.windows:
                return "under a window"
        if off + length > end:
            return "past the end"
        return None

    def table(self):
        return sorted(f"{p} {o} {n} {m} {self.backing}" for p, (o, n, m) in self.windows.items())


def size_text(rng, value):
    """value (bytes) in one of the forms the parser must accept."""
    forms = ["bytes", "hex"]
    if value % 512 == 0:
        forms.append("s")
    if value % 1024 == 0:
        forms += ["K", "KiB"]
    if value % MIB == 0 and value > 0:
        forms.append("M")
    form = rng.choice(forms)
    if form == "hex":
        return hex(value)
    if form == "s":
        return f"{value // 512}s"
    if form in ("K", "KiB"):
        return f"{value // 1024}{form}"
    if form == "M":
        return f"{value // MIB}M"
    return str(value)


def window_length(rng, off):
    """A page multiple that keeps a window at off below LIMIT, small ones
    likelier (log-uniform); sometimes 0."""
    if rng.random() < 0.05:
        return 0
    most = (LIMIT - off) // PAGE
    return PAGE * max(1, min(most, int(2 ** rng.uniform(0, math.log2(most + 1)))))


def past_end_length(rng, off, end):
    return end - off + PAGE * rng.randint(1, 4096)


class Driver:
    def __init__(self, ctl, mnt, backing, seed, count):
        self.ctl, self.mnt, self.backing = ctl, mnt, backing
        self.seed, self.count = seed, count
        self.rng = random.Random(seed)
        self.end = os.stat(backing).st_size
        self.backing_fd = os.open(backing, os.O_RDONLY)
        self.step = 0
        self.inos = {}  # path -> the inode number of the window there now
        self.old_inos = {}  # path -> the numbers of the windows removed from there
        self.stats = {"done": 0, "refused": 0, "reload": 0, "content": 0, "kept_handle": 0}
        out = self.run("list")
        if out.returncode != 0:
            raise Mismatch(f"slicefsctl list: exit {out.returncode}: {out.stderr}")
        self.model = Model(out.stdout, backing)

    def run(self, *args):
        return subprocess.run([self.ctl, self.mnt, *args], capture_output=True, text=True,
                              timeout=120)

    def fail(self, what):
        raise Mismatch(f"seed {self.seed}, command {self.step}: {what}")

    # ---- commands ----------------------------------------------------------

    def next_command(self):
        """(args, expected status, model change or None), drawn from rng."""
        rng, m = self.rng, self.model
        op = rng.choices(["add", "remove", "resize", "reload"], [450, 300, 247, 3])[0]
        if op == "reload":
            return ["reload"], None, ("reload", None, None)
        path = rng.choice(POOL)
        if op == "add":
            if rng.random() < 0.03:
                path = rng.choice(sorted(m.fixed))
            off = PAGE * rng.randrange(LIMIT // PAGE)
            length = (past_end_length(rng, off, self.end) if rng.random() < 0.1
                      else window_length(rng, off))
            mode = rng.choices(["", "rw", "ro", "cow"], [60, 10, 15, 15])[0]
            spec = f"{path}:{size_text(rng, off)}:{size_text(rng, length)}"
            if mode:
                spec += ":" + mode
            why = m.why_not_add(path, off, length, self.end)
            change = None if why else ("set", path, (off, length, mode or "rw"))
            return ["add", spec], why, change
        if op == "remove":
            why = None if path in m.windows else "no window"
            return ["remove", path], why, None if why else ("del", path, None)
        # resize: past the end, or a length that keeps the window below LIMIT
        off = m.windows[path][0] if path in m.windows else PAGE * rng.randrange(LIMIT // PAGE)
        length = (past_end_length(rng, off, self.end) if rng.random() < 0.15
                  else window_length(rng, off))
        why = ("no window" if path not in m.windows else
               "past the end" if off + length > self.end else None)
        change = None if why else ("set", path, (off, length, m.windows[path][2]))
        return ["resize", path, size_text(rng, length)], why, change

    def forget_ino(self, path):
        """The window at path was removed: a window added there later is another."""
        if path in self.inos:
            self.old_inos.setdefault(path, set()).add(self.inos.pop(path))

    def one(self):
        args, why, change = self.next_command()
        path = args[1].split(":")[0] if len(args) > 1 else None
        kept = self.maybe_keep_handle(path) if args[0] == "remove" and why is None else None
        out = self.run(*args)
        want = 1 if why else 0
        if out.returncode != want:
            self.fail(f"slicefsctl {' '.join(args)}: exit {out.returncode}, expected {want}"
                      f" ({why or 'done'}); stderr: {out.stderr.strip()}")
        if why and not out.stderr.startswith("slicefsctl: "):
            self.fail(f"slicefsctl {' '.join(args)}: refused without a message")
        if why:
            self.stats["refused"] += 1
        else:
            self.stats["done" if path is not None else "reload"] += 1
            kind, p, value = change
            if kind == "set":
                self.model.windows[p] = value
            elif kind == "del":
                del self.model.windows[p]
                self.forget_ino(p)
            else:
                for gone in set(self.model.windows) - set(self.model.fixed):
                    self.forget_ino(gone)
                self.model.windows = {f: self.model.windows[f] for f in self.model.fixed}
        if path is None:
            for p in POOL + sorted(self.model.fixed):
                self.check_path(p)
            return
        self.check_path(path)
        if kept is not None:
            self.check_kept_handle(*kept)
        if not why and change[0] == "set" and self.rng.random() < 0.3:
            self.check_content(path)

    # ---- checks --------------------------------------------------------------

    def check_path(self, path):
        """The kernel's view of path (and of its folder's listing) is the model's."""
        m = self.model
        full = os.path.join(self.mnt, path)
        try:
            st = os.lstat(full)
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENOTDIR):
                self.fail(f"stat {path}: {e}")
            st = None
        if path in m.windows:
            off, length, mode = m.windows[path]
            if st is None or not stat.S_ISREG(st.st_mode):
                self.fail(f"{path} should be a window of {length} bytes; stat: {st}")
            if st.st_size != length:
                self.fail(f"{path}: stat size {st.st_size}, the model {length}")
            if (mode == "ro") != (st.st_mode & 0o222 == 0):
                self.fail(f"{path}: mode {mode} but permission bits {oct(st.st_mode)}")
            if path not in self.inos and st.st_ino in self.old_inos.get(path, ()):
                self.fail(f"{path}: added again with the inode number {st.st_ino} of a window "
                          "removed from there")
            if self.inos.setdefault(path, st.st_ino) != st.st_ino:
                self.fail(f"{path}: inode number {st.st_ino}, earlier {self.inos[path]}")
        elif path in m.folders():
            if st is None or not stat.S_ISDIR(st.st_mode):
                self.fail(f"{path} should be a folder; stat: {st}")
        elif st is not None:
            self.fail(f"{path} should not exist; stat: {st}")
        parent, _, name = path.rpartition("/")
        if parent and parent not in m.folders():
            return
        try:
            listed = name in os.listdir(os.path.join(self.mnt, parent))
        except OSError as e:
            self.fail(f"listing '{parent}': {e}")
        if listed != (st is not None):
            self.fail(f"'{parent or '/'}' lists {name}: {listed}, but stat says"
                      f" {'it is there' if st is not None else 'it is not'}")

    def quiet(self, off, length):
        return length > 0 and off >= QUIET and off + length <= LIMIT

    def check_content(self, path):
        """A page of a quiet window reads back as BACKING's bytes there."""
        off, length, _ = self.model.windows[path]
        if not self.quiet(off, length):
            return
        at = PAGE * self.rng.randrange((length + PAGE - 1) // PAGE)
        n = min(PAGE, length - at)
        with open(os.path.join(self.mnt, path), "rb") as f:
            f.seek(at)
            got = f.read(n)
        if got != os.pread(self.backing_fd, n, off + at):
            self.fail(f"{path} ({off} {length}): bytes at {at} are not those of BACKING at "
                      f"{off + at} (stale pages?)")
        self.stats["content"] += 1

    def maybe_keep_handle(self, path):
        """Sometimes: a handle on a quiet window about to be removed, its
        first page read (so the kernel may cache it)."""
        off, length, _ = self.model.windows[path]
        if not self.quiet(off, length) or self.rng.random() >= 0.2:
            return None
        fd = os.open(os.path.join(self.mnt, path), os.O_RDONLY)
        os.pread(fd, PAGE, 0)
        return fd, path, off, length

    def check_kept_handle(self, fd, path, off, length):
        try:
            at = PAGE * ((length - 1) // PAGE)
            got = os.pread(fd, PAGE, at)
        except OSError as e:
            self.fail(f"a handle of the removed window {path}: pread: {e}")
        finally:
            os.close(fd)
        if got != os.pread(self.backing_fd, length - at, off + at):
            self.fail(f"a handle of the removed window {path} ({off} {length}) reads other bytes")
        self.stats["kept_handle"] += 1

    def check_all(self):
        """slicefsctl list and a walk of the mount both equal the model."""
        out = self.run("list")
        if out.returncode != 0:
            self.fail(f"slicefsctl list: exit {out.returncode}: {out.stderr.strip()}")
        got, want = sorted(out.stdout.splitlines()), self.model.table()
        if got != want:
            self.fail("slicefsctl list is not the model:\n  only listed: "
                      f"{sorted(set(got) - set(want))}\n  only in the model: "
                      f"{sorted(set(want) - set(got))}")
        files, folders = {}, set()
        for root, dirs, names in os.walk(self.mnt):
            rel = os.path.relpath(root, self.mnt)
            for d in dirs:
                folders.add(os.path.normpath(os.path.join(rel, d)))
            for n in names:
                files[os.path.normpath(os.path.join(rel, n))] = os.lstat(
                    os.path.join(root, n)).st_size
        want_files = {p: n for p, (_, n, _) in self.model.windows.items()}
        if files != want_files or folders != self.model.folders():
            self.fail(f"the mount shows files {sorted(files.items())} and folders "
                      f"{sorted(folders)}; the model {sorted(want_files.items())} and "
                      f"{sorted(self.model.folders())}")

    def main(self, model_out):
        start = time.monotonic()
        for self.step in range(1, self.count + 1):
            self.one()
            if self.step % CHECK_EVERY == 0 or self.step == self.count:
                self.check_all()
        took = time.monotonic() - start
        with open(model_out, "w") as f:
            f.writelines(line + "\n" for line in self.model.table())
        s = self.stats
        print(f"control_stress: seed {self.seed}: {self.count} commands in {took:.1f} s "
              f"({1000 * took / max(1, self.count):.2f} ms each): {s['done']} done, "
              f"{s['refused']} refused as the model said, {s['reload']} reloads; "
              f"{s['content']} content checks, "
              f"{s['kept_handle']} handles kept across a remove; "
              f"{len(self.model.windows)} windows at the end")


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__.split("\n\n")[1])
    ctl, mnt, backing, seed, count, model_out = sys.argv[1:]
    try:
        Driver(ctl, mnt, backing, int(seed), int(count)).main(model_out)
    except Mismatch as e:
        print(f"control_stress: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
