#!/usr/bin/env python3
"""Finds the 512-byte sectors where two equally sized raw images differ.

  sector_diff.py OLD NEW PREFIX

For each run of differing sectors (runs closer than 8 sectors are merged)
writes NEW's bytes of that run to PREFIX.N and prints "BYTE_OFFSET PREFIX.N".
Exit status 1 if the sizes differ.
"""
import sys

SECTOR = 512
MERGE_GAP = 8
CHUNK = 1 << 20


def differing_sectors(old, new):
    """Yields the sector numbers where files old and new differ."""
    base = 0
    while True:
        a, b = old.read(CHUNK), new.read(CHUNK)
        if not b:
            return
        if a != b:
            for i in range(0, len(b), SECTOR):
                if a[i:i + SECTOR] != b[i:i + SECTOR]:
                    yield base + i // SECTOR
        base += len(b) // SECTOR


def runs(sectors):
    """Groups ascending sector numbers into [first, last] runs."""
    run = None
    for s in sectors:
        if run and s - run[1] <= MERGE_GAP:
            run[1] = s
        else:
            if run:
                yield run
            run = [s, s]
    if run:
        yield run


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    old_path, new_path, prefix = argv[1:]
    with open(old_path, "rb") as old, open(new_path, "rb") as new:
        old.seek(0, 2)
        new.seek(0, 2)
        if old.tell() != new.tell():
            print(f"{old_path} and {new_path} differ in size", file=sys.stderr)
            return 1
        old.seek(0)
        new.seek(0)
        found = list(runs(differing_sectors(old, new)))
        for n, (first, last) in enumerate(found):
            new.seek(first * SECTOR)
            with open(f"{prefix}.{n}", "wb") as out:
                out.write(new.read((last - first + 1) * SECTOR))
            print(f"{first * SECTOR} {prefix}.{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
