#!/bin/bash
# The whole tour on a fresh Debian machine: install what is missing, build,
# then make a disk image, mount windows of it, use them with ordinary tools,
# and unmount. Run from anywhere; it works in a temporary folder it removes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
slicefs=${BUILD_DIR:-$root/build}/slicefs

work=$(mktemp -d /tmp/slicefs-demo.XXXXXX)
cleanup() {
    if grep -q " $work/mnt fuse" /proc/mounts; then fusermount3 -u "$work/mnt"; fi
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

cd "$work"
say "make a 64 MiB sparse disk image with recognisable content"
truncate -s 64M disk.img
printf 'HEADER' | dd of=disk.img conv=notrunc status=none
head -c 1M /dev/urandom >boot.src
dd if=boot.src of=disk.img bs=1M seek=1 conv=notrunc status=none
mkdir mnt

run "$slicefs" disk.img mnt -o window=boot:1M:1M,window=data/root:2M:end:rw,window=hdr:0:4K:ro
run ls -l mnt mnt/data
run sha256sum mnt/boot boot.src
say "dd if=mnt/data/root bs=1M skip=10 count=2 | wc -c"
dd if=mnt/data/root bs=1M skip=10 count=2 status=none | wc -c
say "head -c 6 mnt/hdr"
head -c 6 mnt/hdr; echo
say "echo hello >mnt/hdr   (a ro window refuses writes)"
if (echo hello >mnt/hdr) 2>/dev/null; then echo "unexpected: write succeeded"; exit 1; else echo "refused, as it should be"; fi
say "printf 'restored boot' >restored.img; cp restored.img mnt/boot"
printf 'restored boot' >restored.img
cp restored.img mnt/boot
say "the window now holds exactly those bytes, then zeros:"
head -c 20 mnt/boot | od -c | head -2
run fusermount3 -u mnt
say "after unmount, the backing file holds the write at offset 1 MiB:"
dd if=disk.img bs=1 skip=1048576 count=13 status=none; echo
echo
echo "demo finished: slicefs mounted, served, wrote back and unmounted cleanly."
