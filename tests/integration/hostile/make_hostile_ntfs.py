#!/usr/bin/env python3
"""Crafts damaged NTFS volumes for tests/integration/test_hostile.sh.

usage: make_hostile_ntfs.py BUILDER OUTDIR

BUILDER is build/tests-tools/ntfs_build (libntfs-3g); mkntfs and sgdisk must
be installed. Builds one 8 MiB NTFS volume per case (label NH<n>) holding
/a.vhd (plain data, not a VHD), /frag.vhd (one run per cluster, so it has an
attribute list) and /d with 100 small files, damages exactly one structure,
and puts all volumes as GPT partitions on OUTDIR/ntfs-disk.img (the test's
second disk). Writes OUTDIR/ntfs-cases.tsv in the format of make_hostile.py
(esp_path is LABEL:/path here, or a bare /path for BARE_CASES). The first case is undamaged: the loader
reads /a.vhd through NTFS and refuses it as a VHD, proving the volumes work.
"""
import os
import struct
import subprocess
import sys

VOLUME_MIB = 8


def le16(b, o):
    return struct.unpack_from("<H", b, o)[0]


def le32(b, o):
    return struct.unpack_from("<I", b, o)[0]


def le64(b, o):
    return struct.unpack_from("<Q", b, o)[0]


class Volume:
    """An NTFS image in memory with the geometry needed to find records."""

    def __init__(self, data):
        self.img = bytearray(data)
        self.cluster = le16(data, 0x0B) * data[0x0D]
        self.mft = le64(data, 0x30) * self.cluster
        v = struct.unpack_from("b", data, 0x40)[0]
        self.rec_size = 1 << -v if v < 0 else v * self.cluster

    def attrs(self, rec):
        """(offset, type) of each attribute of the record at byte offset rec."""
        off = rec + le16(self.img, rec + 0x14)
        while off + 8 <= rec + self.rec_size and le32(self.img, off) != 0xFFFFFFFF:
            length = le32(self.img, off + 4)
            if length == 0:
                break
            yield off, le32(self.img, off)
            off += length

    def record_named(self, name):
        """Byte offset of the record whose $FILE_NAME is name (ASCII)."""
        for i in range(512):
            rec = self.mft + i * self.rec_size
            if self.img[rec:rec + 4] != b"FILE":
                continue
            for off, kind in self.attrs(rec):
                if kind == 0x30 and self.img[off + 8] == 0:
                    fn = off + le16(self.img, off + 0x14)
                    n = self.img[fn + 0x40]
                    if self.img[fn + 0x42:fn + 0x42 + 2 * n].decode("utf-16-le", "replace") == name:
                        return rec
        raise SystemExit("no MFT record named " + name)

    def attr_of(self, rec, kind):
        for off, k in self.attrs(rec):
            if k == kind:
                return off
        raise SystemExit("no attribute 0x%x" % kind)

    def first_run(self, attr):
        """(byte offset, byte length) of the first run of a non-resident attribute."""
        p = attr + le16(self.img, attr + 0x20)
        lsz, osz = self.img[p] & 15, self.img[p] >> 4
        length = int.from_bytes(self.img[p + 1:p + 1 + lsz], "little")
        lcn = int.from_bytes(self.img[p + 1 + lsz:p + 1 + lsz + osz], "little", signed=True)
        return lcn * self.cluster, length * self.cluster

    def attr_list(self, rec):
        """Byte offset and length of the attribute list of the record at rec."""
        a = self.attr_of(rec, 0x20)
        if self.img[a + 8] == 0:
            return a + le16(self.img, a + 0x14), le32(self.img, a + 0x10)
        return self.first_run(a)[0], le64(self.img, a + 0x30)

    def data_entry(self, lst, length, n):
        """Byte offset of the n-th $DATA entry of an attribute list."""
        pos = lst
        while pos + 0x1A <= lst + length and le16(self.img, pos + 4):
            if le32(self.img, pos) == 0x80:
                if n == 0:
                    return pos
                n -= 1
            pos += le16(self.img, pos + 4)
        raise SystemExit("no $DATA entry")


def damage_runlist(v, negative):
    data = v.attr_of(v.record_named("a.vhd"), 0x80)
    p = data + le16(v.img, data + 0x20)
    lsz, osz = v.img[p] & 15, v.img[p] >> 4
    if negative:
        v.img[p + lsz + osz] |= 0x80
    else:
        v.img[p + 1 + lsz:p + 1 + lsz + osz] = b"\xff" * osz
        v.img[p + lsz + osz] = 0x7F


def damage_alist(v, how):
    rec = v.record_named("frag.vhd")
    base = (rec - v.mft) // v.rec_size
    lst, length = v.attr_list(rec)
    e1 = v.data_entry(lst, length, 1)
    if how == "loop":       # an extension entry pointing back at the base record
        ref = le64(v.img, e1 + 0x10)
        struct.pack_into("<Q", v.img, e1 + 0x10, base | (ref & 0xFFFF000000000000))
    else:                   # two entries for the same extent
        e2 = v.data_entry(lst, length, 2)
        v.img[e2 + 8:e2 + 24] = v.img[e1 + 8:e1 + 24]


def damage_dir_blocks(v, how):
    alloc = v.attr_of(v.record_named("d"), 0xA0)
    first, run_bytes = v.first_run(alloc)
    damaged = 0
    for off in range(0, run_bytes - 4095, 4096):
        block = first + off
        if v.img[block:block + 4] != b"INDX":
            continue
        entry = block + 0x18 + le32(v.img, block + 0x18)
        if how == "entry":
            struct.pack_into("<H", v.img, entry + 8, 0xFFF8)
        else:
            struct.pack_into("<H", v.img, entry + 0x0A, 0x7FF0)
        damaged += 1
    if not damaged:
        raise SystemExit("no INDX block in /d")


def damage_root_entry(v):
    root = v.attr_of(v.mft + 5 * v.rec_size, 0x90)
    node = root + le16(v.img, root + 0x14) + 0x10
    struct.pack_into("<H", v.img, node + le32(v.img, node) + 8, 0x7FF8)


# name, path on the volume, damage, problem regex, title
CASES = [
    ("ntfs-pristine", "/a.vhd", None, r"no 'conectix' footer", "NTFS control: file read, not a VHD"),
    ("ntfs-fixup", "/a.vhd", lambda v: v.img.__setitem__(v.record_named("a.vhd") + 510,
                                                          v.img[v.record_named("a.vhd") + 510] ^ 0x55),
     r"fixup mismatch", "NTFS torn fixup in the file's record"),
    ("ntfs-mft-fixup", "/a.vhd", lambda v: v.img.__setitem__(v.mft + 1022, v.img[v.mft + 1022] ^ 1),
     # the volume cannot be mounted at all: the loader lists the volumes it
     # could read and, as unreadable, this one with the reader's reason
     r"no NTFS or FAT volume with label 'NH3' \(volumes: [^);]*NH2[^);]*; unreadable: partition 3 of disk [0-9]+ "
     r"\(NTFS\): MFT record 0 \(\$MFT\): fixup mismatch", "NTFS torn fixup in $MFT's own record"),
    ("ntfs-usa", "/a.vhd", lambda v: struct.pack_into("<H", v.img, v.record_named("a.vhd") + 6, 9),
     r"update sequence array", "NTFS bad update sequence count"),
    ("ntfs-run-past", "/a.vhd", lambda v: damage_runlist(v, False), r"past the end of the volume",
     "NTFS runlist past the volume"),
    ("ntfs-run-neg", "/a.vhd", lambda v: damage_runlist(v, True), r"leaves the volume",
     "NTFS runlist before the volume start"),
    ("ntfs-alist-loop", "/frag.vhd", lambda v: damage_alist(v, "loop"), r"no matching attribute",
     "NTFS attribute list pointing back at itself"),
    ("ntfs-alist-dup", "/frag.vhd", lambda v: damage_alist(v, "dup"), r"gap, overlap or loop",
     "NTFS attribute list with a repeated extent"),
    ("ntfs-root-entry", "/d/entry-42.txt", damage_root_entry, r"invalid length",
     "NTFS root index entry out of bounds"),
    ("ntfs-indx-entry", "/d/entry-42.txt", lambda v: damage_dir_blocks(v, "entry"), r"invalid length",
     "NTFS index block entry out of bounds"),
    ("ntfs-indx-key", "/d/entry-42.txt", lambda v: damage_dir_blocks(v, "key"), r"out-of-bounds key",
     "NTFS index key out of bounds"),
]

# Cases on no volume of their own (name, bare path, problem regex, title): a
# bare path is looked for on every volume, so the unreadable one is named
# (after the first refusal met, here NH9's damaged root directory).
BARE_CASES = [
    ("ntfs-bare-missing", "/nowhere.vhd",
     r": (cannot open: not found|directory record 5: .*invalid length [0-9]+) "
     r"\(unreadable: partition 3 of disk [0-9]+ \(NTFS\): MFT record 0 \(\$MFT\): fixup",
     "File on no volume while one NTFS volume is unreadable"),
]


def build_volume(builder, path, label):
    with open(path, "wb") as f:
        f.truncate(VOLUME_MIB << 20)
    subprocess.run(["mkntfs", "-F", "-Q", "-q", "-c", "512", "-L", label, path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    script = ["file /a.vhd 100000 51", "frag /frag.vhd 600000 52", "mkdir /d"]
    script += ["file /d/entry-%02d.txt 1 53" % i for i in range(100)]
    subprocess.run([builder, path], input=("\n".join(script) + "\n").encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(builder, out):
    os.makedirs(out, exist_ok=True)
    disk = os.path.join(out, "ntfs-disk.img")
    with open(disk, "wb") as f:
        f.truncate((len(CASES) * (VOLUME_MIB + 1) + 2) << 20)
    args = ["sgdisk"]
    for i in range(len(CASES)):
        args += ["-n", "%d:0:+%dM" % (i + 1, VOLUME_MIB), "-t", "%d:0700" % (i + 1)]
    subprocess.run(args + [disk], check=True, stdout=subprocess.DEVNULL)
    lines = []
    for i, (name, path, damage, problem, title) in enumerate(CASES):
        label = "NH%d" % (i + 1)
        vol_path = os.path.join(out, label + ".img")
        build_volume(builder, vol_path, label)
        with open(vol_path, "rb") as f:
            v = Volume(f.read())
        if damage:
            damage(v)
        first = int(subprocess.run(["sgdisk", "-i", str(i + 1), disk], check=True, capture_output=True,
                                   text=True).stdout.split("First sector: ")[1].split()[0])
        with open(disk, "r+b") as f:
            f.seek(first * 512)
            f.write(v.img)
        os.unlink(vol_path)
        base = path.split("/")[-1].replace(".", r"\.")
        lines.append("\t".join([name, label + ":" + path, "persistent", base, problem, title]))
    for name, path, problem, title in BARE_CASES:
        base = path.split("/")[-1].replace(".", r"\.")
        lines.append("\t".join([name, path, "persistent", base, problem, title]))
    with open(os.path.join(out, "ntfs-cases.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%d NTFS cases" % len(lines))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_hostile_ntfs.py BUILDER OUTDIR")
    main(sys.argv[1], sys.argv[2])
