#!/usr/bin/env python3
"""Regenerates the seed disk images in corpus/fuzz_partitions/.

Each seed is the first 64 KiB (or less) of a 4 MiB image: fuzz_partitions
pads its input back to about 4 MiB with zeros. Well-formed tables come from
sfdisk (fdisk package); hostile ones are patched by hand or built from bytes
here (GPT needs CRC32s). Usage: fuzz/make-partition-seeds.py [OUTDIR]
"""
import os
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib

IMAGE = 4 * 1024 * 1024
KEEP = 64 * 1024


def sfdisk(script, size=IMAGE):
    with tempfile.NamedTemporaryFile() as f:
        f.truncate(size)
        f.flush()
        subprocess.run(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", f.name],
                       input=script.encode(), check=True)
        f.seek(0)
        return bytearray(f.read(KEEP))


def mbr_entry(boot, ptype, start, size):
    return struct.pack("<B3sB3sII", boot, b"\0\0\0", ptype, b"\0\0\0", start, size)


def mbr(entries, size=512):
    img = bytearray(size)
    for i, e in enumerate(entries):
        img[446 + 16 * i:446 + 16 * (i + 1)] = mbr_entry(*e)
    img[510:512] = b"\x55\xaa"
    return img


def gpt(sector, parts, disk_sectors, num_entries=128, entry_size=128):
    """A protective MBR, a primary GPT header and its entries (no backup)."""
    entries = bytearray(num_entries * entry_size if num_entries < 1024 else 128 * entry_size)
    linux = uuid.UUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4").bytes_le
    for i, (first, last) in enumerate(parts):
        entries[i * entry_size:i * entry_size + 56] = struct.pack(
            "<16s16sQQQ", linux, uuid.uuid4().bytes_le, first, last, 0)
    entries_sectors = (len(entries) + sector - 1) // sector
    header = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, 1,
                         disk_sectors - 1, 2 + entries_sectors,
                         disk_sectors - 2 - entries_sectors, uuid.uuid4().bytes_le, 2,
                         num_entries, entry_size, zlib.crc32(bytes(entries)))
    header = header[:16] + struct.pack("<I", zlib.crc32(header)) + header[20:]
    img = mbr([(0, 0xEE, 1, min(disk_sectors - 1, 0xFFFFFFFF))], size=sector)
    img += header + bytes(sector - len(header)) + entries
    return img[:KEEP]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_partitions")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    seeds["mbr-primary"] = sfdisk("label: dos\nstart=64, size=1024, type=83\n"
                                  "start=2048, size=4096, type=83\n")[:512]
    # EBRs at sectors 32, 63 and 89: all inside the kept 64 KiB.
    seeds["mbr-logical"] = sfdisk("label: dos\nstart=8, size=16, type=83\n"
                                  "start=32, size=8000, type=5\nstart=40, size=16, type=83\n"
                                  "start=64, size=16, type=83\nstart=90, size=4000, type=83\n")[:90 * 512]
    seeds["gpt"] = sfdisk("label: gpt\nstart=40, size=88, type=linux\n"
                          "start=2048, size=2048, type=linux\n"
                          "start=4096, size=4000, type=linux\n")[:34 * 512]
    # p2 runs past the end of a 4 MiB image.
    seeds["mbr-past-end"] = sfdisk("label: dos\nstart=64, size=1024, type=83\n"
                                   "start=4096, size=20000, type=83\n", size=16 * IMAGE)[:512]
    seeds["mbr-overlap"] = mbr([(0, 0x83, 64, 2048), (0, 0x83, 1024, 2048),
                                (0, 0x83, 64, 2048), (0, 0x83, 0, 0)])
    seeds["mbr-huge"] = mbr([(0x80, 0x83, 0xFFFFFF00, 0xFFFFFFFF), (0, 0x83, 1, 0xFFFFFFFF),
                             (0, 0x83, 0xFFFFFFFF, 1), (0, 0x83, 8191, 1)])
    # An extended partition whose first EBR links back to itself.
    loop = mbr([(0, 0x83, 8, 16), (0, 0x05, 32, 8000)], size=KEEP // 2)
    ebr = mbr([(0, 0x83, 8, 16), (0, 0x05, 0, 8000)])
    loop[32 * 512:33 * 512] = ebr
    seeds["mbr-ebr-loop"] = loop[:33 * 512]
    # Two EBRs that link to each other.
    pingpong = mbr([(0, 0x0F, 32, 8000)], size=KEEP // 2)
    pingpong[32 * 512:33 * 512] = mbr([(0, 0x83, 2, 4), (0, 0x05, 16, 100)])
    pingpong[48 * 512:49 * 512] = mbr([(0, 0x83, 2, 4), (0, 0x05, 0, 100)])
    seeds["mbr-ebr-pingpong"] = pingpong[:49 * 512]
    # 4096-byte sectors: 1024 of them in 4 MiB.
    seeds["gpt-4k"] = gpt(4096, [(6, 100), (256, 767)], 1024)
    seeds["gpt-hostile"] = gpt(512, [(34, 100), (50, 200), (8000, 9000), (300, 200),
                                     (2**63, 2**64 - 1)], 8192)
    seeds["gpt-many-entries"] = gpt(512, [(34, 99)], 8192, num_entries=100000)
    seeds["zeros"] = bytes(512)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
