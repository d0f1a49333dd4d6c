#!/usr/bin/env python3
"""Writes the vhdboot test pattern into a raw disk image.

usage: mkpattern.py IMG FIRST_LBA COUNT

Every sector LBA in [FIRST_LBA, FIRST_LBA + COUNT) gets 512 bytes: bytes 0..7
are LBA (little-endian, counted from the start of the disk) and byte i for
i >= 8 is (LBA * 31 + i) & 0xff. tests/efi/payload.c checks this pattern on
GPT partition 2 of the virtual disk. The image must already be large enough.
"""
import os
import struct
import sys

SECTOR = 512


def sector(lba):
    """Returns the 512 pattern bytes of one sector."""
    base = (lba * 31) & 0xFF
    tail = bytes((base + i) & 0xFF for i in range(8, SECTOR))
    return struct.pack("<Q", lba) + tail


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    img, first, count = argv[1], int(argv[2], 0), int(argv[3], 0)
    if first < 0 or count < 0:
        sys.stderr.write("mkpattern: FIRST_LBA and COUNT must not be negative\n")
        return 2
    size = os.path.getsize(img)
    if (first + count) * SECTOR > size:
        sys.stderr.write("mkpattern: %s: %d bytes, too small for LBA %d..%d\n"
                         % (img, size, first, first + count - 1))
        return 1
    with open(img, "r+b") as f:
        f.seek(first * SECTOR)
        batch = []
        for lba in range(first, first + count):
            batch.append(sector(lba))
            if len(batch) == 2048:
                f.write(b"".join(batch))
                batch = []
        f.write(b"".join(batch))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
