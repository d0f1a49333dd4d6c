#!/usr/bin/env python3
"""Writes or checks the payload's test pattern in a raw disk image.

Every sector at disk LBA n holds n as a little-endian u64 in bytes 0..7, and
byte i (8..511) is (n*31 + i) & 0xff.

  pattern.py IMG FIRST_LBA COUNT          write COUNT sectors from FIRST_LBA
  pattern.py --check IMG FIRST_LBA COUNT  exit 1 naming the first bad sector
"""
import struct
import sys

SECTOR = 512


def sector(lba):
    """Returns the 512 pattern bytes of disk LBA lba."""
    tail = bytes(((lba * 31 + i) & 0xFF) for i in range(8, SECTOR))
    return struct.pack("<Q", lba) + tail


def main(argv):
    check = len(argv) > 1 and argv[1] == "--check"
    args = argv[2:] if check else argv[1:]
    if len(args) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, first, count = args[0], int(args[1]), int(args[2])
    with open(path, "rb" if check else "r+b") as f:
        f.seek(first * SECTOR)
        for lba in range(first, first + count):
            if check:
                if f.read(SECTOR) != sector(lba):
                    print(f"{path}: sector {lba} does not hold the pattern", file=sys.stderr)
                    return 1
            else:
                f.write(sector(lba))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
