#!/usr/bin/env python3
"""ctl_client.py - a persistent runtime-control client for
scripts/bench-control.sh: speaks the control protocol
(include/slicefs/control_protocol.h) itself, so that no process starts per
command. One connection per command, as the protocol says.

    ctl_client.py latency MOUNTPOINT N NAME SPEC_REST
        N commands alternating "add NAME:SPEC_REST" and "remove NAME", then
        N "list" commands; prints "add|remove|list MICROSECONDS" per command
    ctl_client.py loop MOUNTPOINT NAME SPEC_REST [RATE]
        add and remove NAME until SIGTERM, as fast as it can or at RATE
        commands per second; then prints the number of commands done and
        the seconds they took ("commands N seconds S")

The socket is the one the mount shows in user.slicefs.control. Any command
not done (a status other than 0) ends it with status 1.
"""
import os
import signal
import socket
import sys
import time


def command(path, *args):
    """Runs one command; returns the reply's body (the status must be 0)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(b"".join(a.encode() + b"\0" for a in args))
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\n")
    if head != b"0":
        sys.exit(f"ctl_client: {' '.join(args)}: status {head!r}: {body.decode(errors='replace')}")
    return body


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("latency", "loop"):
        sys.exit(__doc__)
    mode, mnt = sys.argv[1], sys.argv[2]
    path = os.getxattr(mnt, "user.slicefs.control").decode()
    if mode == "latency":
        n, name, rest = int(sys.argv[3]), sys.argv[4], sys.argv[5]
        out = []
        for i in range(2 * n):
            args = (("add", f"{name}:{rest}") if i % 2 == 0 else ("remove", name)) if i < n \
                else ("list",)
            start = time.perf_counter_ns()
            command(path, *args)
            out.append(f"{args[0]} {(time.perf_counter_ns() - start) / 1000:.1f}\n")
        if n % 2 == 1:
            command(path, "remove", name)
        sys.stdout.writelines(out)
        return
    name, rest = sys.argv[3], sys.argv[4]
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    done, start = 0, time.monotonic()
    while not stop:
        command(path, "add", f"{name}:{rest}")
        command(path, "remove", name)
        done += 2
        if rate > 0:
            time.sleep(max(0, start + done / rate - time.monotonic()))
    print(f"commands {done} seconds {time.monotonic() - start:.3f}")


if __name__ == "__main__":
    main()
