#!/usr/bin/env python3
"""vhdboot fuzzing: encodes a volume image in the sparse input format of
tests/fuzz/support.c (fuzz_volume_init): 2 bytes volume size in KiB, then
records [offset u32 LE][length u16 LE][bytes] for each run of non-zero
512-byte sectors.

usage: sparse_encode.py IMAGE OUT [--zero OFFSET:LENGTH ...]
--zero blanks byte ranges first (e.g. a log file the reader never reads),
so seeds stay small."""
import struct
import sys

SECTOR = 512
MAX_RUN = 65024  # a multiple of 512 that fits in the u16 length


def main():
    image, out = sys.argv[1], sys.argv[2]
    data = bytearray(open(image, 'rb').read())
    args = sys.argv[3:]
    while args:
        if args[0] != '--zero' or len(args) < 2:
            sys.exit(__doc__)
        off, length = (int(x, 0) for x in args[1].split(':'))
        data[off:off + length] = bytes(min(length, max(0, len(data) - off)))
        args = args[2:]
    kib = len(data) // 1024
    if not 1 <= kib <= 65535:
        sys.exit('volume size out of range for the encoding')
    enc = bytearray(struct.pack('<H', kib))
    pos = 0
    while pos < len(data):
        if not any(data[pos:pos + SECTOR]):
            pos += SECTOR
            continue
        end = pos
        while end < len(data) and end - pos < MAX_RUN and any(data[end:end + SECTOR]):
            end += SECTOR
        enc += struct.pack('<IH', pos, end - pos) + data[pos:end]
        pos = end
    open(out, 'wb').write(enc)


main()
