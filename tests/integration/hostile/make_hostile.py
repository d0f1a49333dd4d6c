#!/usr/bin/env python3
"""Crafts hostile VHD files for tests/integration/test_hostile.sh.

usage: make_hostile.py OUTDIR

Writes OUTDIR/files/h/... (the files to copy to the host ESP under \\h) and
OUTDIR/cases.tsv, one line per case, tab separated:
    name  esp_path  write_mode  file_regex  problem_regex  title
esp_path uses '/' (mtools); the loader config gets it with '\\'.
file_regex must appear in the loader's error line (the file it names),
problem_regex too (what was wrong).

Every image is built from scratch here (no vhdtool), small (a few KiB: no
block is allocated unless the case needs one) and deterministic (UUIDs are
derived from the case name), then damaged so that exactly one check fires.
Checksums are recomputed after each damage unless the case is about them.
"""
import hashlib
import os
import struct
import sys

SECTOR = 512
MIB = 1 << 20
GIB = 1 << 30
UNUSED = 0xFFFFFFFF
FIXED, DYNAMIC, DIFF = 2, 3, 4


def uuid_for(name):
    """A stable 16-byte UUID for a name."""
    return hashlib.sha256(name.encode()).digest()[:16]


def checksum(data, skip_at):
    """Ones' complement of the byte sum, the 4 bytes at skip_at counted as 0."""
    total = sum(data) - sum(data[skip_at:skip_at + 4])
    return (~total) & 0xFFFFFFFF


def chs(size):
    """CHS geometry for a disk size (the VHD specification's algorithm)."""
    sectors = min(size // SECTOR, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cyl_heads = sectors // spt
    else:
        spt = 17
        cyl_heads = sectors // spt
        heads = max((cyl_heads + 1023) // 1024, 4)
        if cyl_heads >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cyl_heads = sectors // spt
        if cyl_heads >= heads * 1024:
            spt, heads = 63, 16
            cyl_heads = sectors // spt
    return min(cyl_heads // heads, 65535), heads, spt


def footer(kind, size, data_offset, uuid):
    """A 512-byte footer with a correct checksum."""
    c, h, s = chs(size)
    f = bytearray(SECTOR)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQI", f, 8, 2, 0x00010000, data_offset, 0x2E000000)
    f[28:32] = b"vbht"
    struct.pack_into(">I4sQQHBBI", f, 32, 0x00010000, b"Wi2k", size, size, c, h, s, kind)
    f[68:84] = uuid
    seal_footer(f)
    return f


def seal_footer(f):
    struct.pack_into(">I", f, 64, checksum(f, 64))


def seal_header(h):
    struct.pack_into(">I", h, 36, checksum(h, 36))


class Dynamic:
    """A dynamic or differencing VHD under construction.

    Layout: footer copy @0, header @512, BAT @1536, locator data (one
    512-byte sector each), allocated blocks, footer."""

    HDR = 512
    BAT = 1536

    def __init__(self, name, size=8 * MIB, block=2 * MIB, kind=DYNAMIC, parent=None, locators=None,
                 blocks=()):
        self.uuid = uuid_for(name)
        self.size, self.block, self.kind = size, block, kind
        self.entries = (size + block - 1) // block
        bat_bytes = (self.entries * 4 + SECTOR - 1) // SECTOR * SECTOR
        self.footer = footer(kind, size, self.HDR, self.uuid)
        self.header = bytearray(1024)
        h = self.header
        h[0:8] = b"cxsparse"
        struct.pack_into(">QQIII", h, 8, 0xFFFFFFFFFFFFFFFF, self.BAT, 0x00010000, self.entries, block)
        self.bat = bytearray(b"\xff" * bat_bytes)
        self.body = bytearray()           # everything after the BAT
        at = self.BAT + bat_bytes
        if parent is not None:
            h[40:56] = parent.uuid
            name_utf16 = ("\\h\\" + parent.file).encode("utf-16-be")[:510]
            h[64:64 + len(name_utf16)] = name_utf16
            for i, (code, path) in enumerate(locators if locators is not None else
                                             [("W2ru", ".\\" + parent.file.split("/")[-1])]):
                data = path.encode("utf-16-le")
                struct.pack_into(">4sIIIQ", h, 576 + 24 * i, code.encode(), SECTOR, len(data), 0, at)
                self.body += data.ljust(SECTOR, b"\0")
                at += SECTOR
        bitmap = ((block // SECTOR + 7) // 8 + SECTOR - 1) // SECTOR * SECTOR
        for index in blocks:
            struct.pack_into(">I", self.bat, index * 4, at // SECTOR)
            self.body += b"\xff" * bitmap + bytes([0x5A]) * block
            at += bitmap + block
        self.data_end = at

    def image(self, reseal=True):
        """The file's bytes (checksums recomputed unless reseal is False)."""
        if reseal:
            seal_footer(self.footer)
            seal_header(self.header)
        return bytes(self.footer + self.header + self.bat + self.body + self.footer)


def fixed(name, size=1 * MIB):
    """A fixed VHD of size bytes (zeros)."""
    return bytes(size) + footer(FIXED, size, 0xFFFFFFFFFFFFFFFF, uuid_for(name))


class Cases:
    """Collects files and case lines."""

    def __init__(self, out):
        self.out = out
        self.lines = []

    def put(self, rel, data):
        path = os.path.join(self.out, "files", "h", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def case(self, name, rel, data, problem, title, write="persistent", file_regex=None):
        """One case whose entry boots \\h\\rel; data (if not None) is written there."""
        if data is not None:
            self.put(rel, data)
        base = rel.split("/")[-1].replace(".", r"\.")
        self.lines.append("\t".join([name, "/h/" + rel, write, file_regex or base, problem, title]))


def dyn_with(name, edit, **kw):
    """A dynamic image of the default shape with edit(d) applied before sealing."""
    d = Dynamic(name, **kw)
    edit(d)
    return d.image()


def build(out):
    c = Cases(out)

    # --- file size and footer ------------------------------------------------
    c.case("empty", "empty.vhd", b"", r"too small to hold a VHD footer", "Empty file")
    c.case("tiny", "tiny.vhd", b"conectix" + bytes(292), r"too small to hold a VHD footer", "300-byte file")
    whole = Dynamic("cut-in-bat").image()
    c.case("cut-in-bat", "cut-in-bat.vhd", whole[:1536 + 256], r"no 'conectix' footer",
           "Truncated inside the block table")
    d = Dynamic("cut-block", blocks=[1])
    img = d.image()
    c.case("cut-block", "cut-block.vhd", img[:len(img) - SECTOR - MIB] + bytes(d.footer),
           r"block 1 .*extends past the footer", "Truncated in a block, footer re-appended")
    c.case("fixed-short", "fixed-short.vhd", bytes(64 * 1024) + footer(FIXED, 8 * MIB, 2**64 - 1,
                                                                          uuid_for("fixed-short")),
           r"fixed disk of 8388608 bytes but only 65536 bytes", "Fixed disk larger than its file")
    short = footer(FIXED, 512, 2**64 - 1, uuid_for("footer-511-only"))[:511]
    c.case("footer-511-only", "footer-511-only.vhd", short, r"fixed disk of 512 bytes but only 0 bytes",
           "Only a 511-byte footer")
    d = Dynamic("footer-511-bad")
    img = bytearray(d.image())
    img = img[:-1]                               # old 511-byte footer form
    img[-511 + 24] ^= 0x40                      # timestamp changed, checksum not
    c.case("footer-511-bad", "footer-511-bad.vhd", bytes(img), r"footer checksum mismatch",
           "511-byte footer with a bad checksum")
    img = bytearray(Dynamic("bad-cookie").image())
    img[-SECTOR:-SECTOR + 8] = b"conectiz"
    img[0:8] = b"conectiz"
    c.case("bad-cookie", "bad-cookie.vhd", bytes(img), r"no 'conectix' footer", "Bad footer cookie")
    img = bytearray(Dynamic("footer-sum").image())
    img[-SECTOR + 40] ^= 1                       # original size, checksum left stale
    c.case("footer-sum", "footer-sum.vhd", bytes(img), r"footer checksum mismatch", "Bad footer checksum")

    def footer_field(name, fmt, offset, value, problem, title, **kw):
        d = Dynamic(name, **kw)
        struct.pack_into(fmt, d.footer, offset, value)
        c.case(name, name + ".vhd", d.image(), problem, title)

    footer_field("version2", ">I", 12, 0x00020000, r"unsupported footer version", "Footer version 2.0")
    footer_field("disk-type", ">I", 60, 7, r"unknown disk type 7", "Disk type 7")
    footer_field("size-huge", ">Q", 48, (2040 << 30) + MIB, r"invalid disk size", "Disk size over 2040 GiB")
    footer_field("size-max64", ">Q", 48, 2**64 - SECTOR, r"invalid disk size", "Disk size 2^64-512")
    footer_field("size-odd", ">Q", 48, 8 * MIB + 100, r"invalid disk size", "Disk size not sector aligned")
    footer_field("size-zero", ">Q", 48, 0, r"invalid disk size", "Disk size 0")
    footer_field("hdr-past-eof", ">Q", 16, 64 * MIB, r"dynamic header offset 67108864 is outside the file",
                 "Data offset past the end of the file")
    footer_field("hdr-wrap", ">Q", 16, 2**64 - 512, r"dynamic header offset .* is outside the file",
                 "Data offset near 2^64 (overflow)")
    footer_field("hdr-in-footer", ">Q", 16, 0, r"dynamic header offset 0 is outside the file",
                 "Data offset 0 (the footer copy)")

    # --- dynamic header ------------------------------------------------------
    def header_field(name, fmt, offset, value, problem, title, **kw):
        d = Dynamic(name, **kw)
        struct.pack_into(fmt, d.header, offset, value)
        c.case(name, name + ".vhd", d.image(), problem, title)

    d = Dynamic("hdr-cookie")
    d.header[0:8] = b"cxsparsf"
    c.case("hdr-cookie", "hdr-cookie.vhd", d.image(), r"no 'cxsparse' dynamic header", "Bad header cookie")
    d = Dynamic("hdr-sum")
    img = bytearray(d.image())
    img[512 + 100] ^= 1                          # parent name area, checksum left stale
    c.case("hdr-sum", "hdr-sum.vhd", bytes(img), r"dynamic header checksum mismatch", "Bad header checksum")
    header_field("hdr-version", ">I", 24, 0x00030000, r"unsupported dynamic header version",
                 "Header version 3.0")
    header_field("block-zero", ">I", 32, 0, r"invalid block size 0 ", "Block size 0")
    header_field("block-npot", ">I", 32, 3 * MIB, r"invalid block size 3145728", "Block size 3 MiB")
    header_field("block-huge", ">I", 32, 0x80000000, r"invalid block size 2147483648", "Block size 2 GiB")
    header_field("entries-few", ">I", 28, 3, r"block table has 3 entries, a disk of 8388608 bytes needs 4",
                 "Max table entries too small")
    header_field("entries-huge", ">I", 28, 0xFFFFFFFF, r"block table at offset 1536 .* does not fit",
                 "Max table entries 2^32-1")
    d = Dynamic("too-many-blocks")
    struct.pack_into(">QQ", d.footer, 40, 2040 << 30, 2040 << 30)
    struct.pack_into(">II", d.header, 28, 0xFFFFFFFF, 4096)
    c.case("too-many-blocks", "too-many-blocks.vhd", d.image(), r"more than the supported",
           "2040 GiB of 4 KiB blocks")
    header_field("bat-past-eof", ">Q", 16, 1 << 40, r"block table at offset 1099511627776 .* does not fit",
                 "Block table past the end of the file")
    header_field("bat-wrap", ">Q", 16, 2**64 - 1024, r"block table at offset .* does not fit",
                 "Block table offset near 2^64 (overflow)")
    header_field("bat-on-header", ">Q", 16, 1024, r"block table at offset 1024 overlaps the dynamic header",
                 "Block table over the header")

    # --- BAT entries ---------------------------------------------------------
    def bat_entry(name, index, value, problem, title, blocks=()):
        d = Dynamic(name, blocks=blocks)
        struct.pack_into(">I", d.bat, index * 4, value)
        c.case(name, name + ".vhd", d.image(), problem, title)

    bat_entry("bat-entry-eof", 1, 0x100000, r"block 1 at offset 536870912 .*extends past the footer",
              "Block past the end of the file")
    bat_entry("bat-entry-max", 2, 0xFFFFFFFE, r"block 2 at offset 2199023254528 .*extends past the footer",
              "Block at sector 2^32-2 (64-bit sum)")
    bat_entry("bat-on-meta", 0, 3, r"block 0 at offset 1536 overlaps the block table at offset 1536",
              "Block over the block table", blocks=[1])
    bat_entry("bat-on-copy", 1, 0, r"block 1 at offset 0 overlaps the footer copy",
              "Block over the footer copy", blocks=[0])

    # Two blocks overlapping each other (found by sorting the entries): a
    # write to one would corrupt the other, so open refuses, naming both.
    d = Dynamic("bat-overlap", blocks=[0, 1])
    first = struct.unpack_from(">I", d.bat, 0)[0]
    struct.pack_into(">I", d.bat, 4, first + 8)
    c.case("bat-overlap", "bat-overlap.vhd", d.image(),
           r"block 1 at offset %d overlaps block 0 at offset %d" % ((first + 8) * SECTOR, first * SECTOR),
           "Blocks overlapping each other")

    # --- parent locators (differencing disks) --------------------------------
    parent = Dynamic("loc-parent")
    parent.file = "loc/parent.vhd"
    c.put(parent.file, parent.image())

    def locator(name, edit, problem, title):
        d = Dynamic(name, kind=DIFF, parent=parent)
        edit(d.header, 576)
        c.case(name, "loc/" + name + ".vhd", d.image(), problem, title)

    locator("loc-offset-eof", lambda h, o: struct.pack_into(">Q", h, o + 16, 1 << 32),
            r"parent locator 0 \(W2ru\)", "Locator data past the end of the file")
    locator("loc-offset-wrap", lambda h, o: struct.pack_into(">Q", h, o + 16, 2**64 - 16),
            r"parent locator 0 \(W2ru\)", "Locator offset near 2^64 (overflow)")
    locator("loc-len-space", lambda h, o: struct.pack_into(">I", h, o + 8, 4096),
            r"parent locator 0 \(W2ru\): data length 4096 exceeds its space", "Locator longer than its space")
    locator("loc-odd", lambda h, o: struct.pack_into(">I", h, o + 8, struct.unpack_from(">I", h, o + 8)[0] - 1),
            r"parent locator 0 \(W2ru\): odd UTF-16 length", "Odd UTF-16 locator length")
    locator("loc-space-huge", lambda h, o: struct.pack_into(">II", h, o + 4, 0xFFFFFE00, 0xFFFFFE00),
            r"parent locator 0 \(W2ru\)", "Locator space and length 4 GiB")

    # A block over the parent locator's data (right after the block table).
    d = Dynamic("bat-on-locator", kind=DIFF, parent=parent, blocks=[0])
    loc_at = struct.unpack_from(">Q", d.header, 576 + 16)[0]
    struct.pack_into(">I", d.bat, 4, loc_at // SECTOR)
    c.case("bat-on-locator", "loc/bat-on-locator.vhd", d.image(),
           r"block 1 at offset %d overlaps parent locator data at offset %d" % (loc_at, loc_at),
           "Block over the parent locator data")

    # --- chains --------------------------------------------------------------
    # A -> B -> A: each names the other as parent, UUIDs matching.
    a = Dynamic("cycle-a", kind=DIFF)
    b = Dynamic("cycle-b", kind=DIFF)
    a.file, b.file = "cycle/a.vhd", "cycle/b.vhd"
    a2 = Dynamic("cycle-a", kind=DIFF, parent=b)
    b2 = Dynamic("cycle-b", kind=DIFF, parent=a)
    c.put(b.file, b2.image())
    c.case("cycle", a.file, a2.image(), r"parent chain has a cycle", "Parent cycle A -> B -> A",
           file_regex=r"a\.vhd")
    s = Dynamic("self", kind=DIFF)
    s.file = "self/self.vhd"
    c.case("self-parent", s.file, Dynamic("self", kind=DIFF, parent=s).image(), r"parent chain has a cycle",
           "Disk that is its own parent")

    # 33 layers: base + 32 differencing disks (the limit is 32 layers).
    below = Dynamic("deep-0")
    below.file = "deep/l00.vhd"
    c.put(below.file, below.image())
    for i in range(1, 33):
        layer = Dynamic("deep-%d" % i, kind=DIFF, parent=below)
        layer.file = "deep/l%02d.vhd" % i
        if i < 32:
            c.put(layer.file, layer.image())
        below = layer
    c.case("deep", below.file, layer.image(), r"parent chain deeper than 32 layers", "Chain of 33 layers",
           write="readonly")

    big = Dynamic("size-parent", size=16 * MIB)
    big.file = "size/parent.vhd"
    c.put(big.file, big.image())
    c.case("parent-size", "size/child.vhd", Dynamic("size-child", kind=DIFF, parent=big).image(),
           r"parent .*parent\.vhd has size 16777216, child has 8388608", "Parent of another size")

    real = Dynamic("uuid-real")
    real.file = "uuid/parent.vhd"
    c.put(real.file, Dynamic("uuid-other").image())
    c.case("parent-uuid", "uuid/child.vhd", Dynamic("uuid-child", kind=DIFF, parent=real).image(),
           r"parent UUID differs", "Parent with another UUID", write="volatile")

    broken = Dynamic("broken-parent")
    broken.file = "brokenp/parent.vhd"
    img = bytearray(broken.image())
    img[512 + 40] ^= 0xFF                        # header checksum now wrong
    c.put(broken.file, bytes(img))
    c.case("parent-broken", "brokenp/child.vhd", Dynamic("broken-child", kind=DIFF, parent=broken).image(),
           r"parent\.vhd: dynamic header checksum mismatch", "Parent with a bad header", file_regex=r"parent\.vhd")

    gone = Dynamic("climb-parent")
    gone.file = "climb/parent.vhd"
    c.put(gone.file, gone.image())
    d = Dynamic("climb-child", kind=DIFF, parent=gone, locators=[("W2ru", "..\\..\\..\\..\\parent.vhd")])
    d.header[64:576] = "\\nowhere\\missing.vhd".encode("utf-16-be").ljust(512, b"\0")
    c.case("parent-climbs", "climb/child.vhd", d.image(),
           r"climbs above|parent not found", "Parent path above the volume root", write="readonly")
    d = Dynamic("noname-child", kind=DIFF, parent=gone, locators=[])
    d.header[64:576] = bytes(512)
    c.case("parent-unnamed", "climb/noname.vhd", d.image(), r"parent not found", "Differencing disk naming no parent")

    # --- VHDX (make_hostile_vhdx.py) ---------------------------------------------
    from make_hostile_vhdx import build_vhdx
    build_vhdx(c, lambda name: Dynamic(name).image())

    with open(os.path.join(out, "cases.tsv"), "w") as f:
        f.write("\n".join(c.lines) + "\n")
    return len(c.lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py OUTDIR")
    n = build(sys.argv[1])
    print("%d cases" % n)
