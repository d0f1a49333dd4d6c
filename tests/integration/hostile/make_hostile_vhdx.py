"""Hostile VHDX files for tests/integration/test_hostile.sh (called by
make_hostile.py's build with its Cases collector).

Each image is a minimal VHDX built here from MS-VHDX (no vhdtool): file
identifier, two headers, two region tables, BAT region at 1 MiB and metadata
region at 2 MiB (no log unless the case needs one), 3 MiB in all; GUIDs are
derived from the case name. One problem each: both header CRCs bad, regions
overlapping, a block past the end of the file, a disk too large for its BAT
(the chunk-ratio arithmetic), a log entry writing outside the file, parent
cycles, a parent whose DataWriteGuid differs from parent_linkage, and a VHD
parent under a VHDX child.
"""
import hashlib
import struct
import uuid

MIB = 1 << 20
BAT_GUID = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08")
META_GUID = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E")
ITEMS = {
    "params": uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B"),
    "size": uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8"),
    "page83": uuid.UUID("BECA12AB-B2E6-4523-93EF-C309E000C746"),
    "logical": uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F"),
    "physical": uuid.UUID("CDA348C7-445D-4471-9CC9-E9885251C556"),
    "locator": uuid.UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C"),
}
LOCATOR_TYPE = uuid.UUID("B04AEFB7-D19E-4A81-B789-25B8E9445913")


def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def guid_for(name, what):
    return uuid.UUID(bytes=hashlib.sha256((name + "/" + what).encode()).digest()[:16], version=4)


def seal(buf, at, length):
    struct.pack_into("<I", buf, at + 4, 0)
    struct.pack_into("<I", buf, at + 4, crc32c(bytes(buf[at:at + length])))


class Vhdx:
    """A dynamic (or differencing) VHDX of 8 MiB with 1 MiB blocks."""

    def __init__(self, name, size=8 * MIB, parent=None, rel=None):
        self.name = name
        self.size = size
        self.data_write = guid_for(name, "data")
        self.parent = parent          # a Vhdx (its data_write is the linkage) or a GUID
        self.rel = rel
        self.log = None               # (offset, length, log_guid, entry bytes)
        self.bat = {}                 # payload index -> entry
        self.bat_region = (1 * MIB, MIB)
        self.meta_region = (2 * MIB, MIB)

    def image(self):
        f = bytearray(3 * MIB)
        f[0:8] = b"vhdxfile"
        f[8:8 + 10] = "hostile".encode("utf-16-le")[:10]
        log_off, log_len, log_guid = 0, 0, uuid.UUID(int=0)
        if self.log:
            log_off, log_len, log_guid, entry = self.log
            f.extend(bytes(max(0, log_off + log_len - len(f))))
            f[log_off:log_off + len(entry)] = entry
        for h, seq in ((64 << 10, 1), (128 << 10, 2)):
            struct.pack_into("<4sIQ16s16s16sHHIQ", f, h, b"head", 0, seq, guid_for(self.name, "file").bytes_le,
                             self.data_write.bytes_le, log_guid.bytes_le, 0, 1, log_len, log_off)
            seal(f, h, 4096)
        for rt in (192 << 10, 256 << 10):
            struct.pack_into("<4sIII", f, rt, b"regi", 0, 2, 0)
            struct.pack_into("<16sQII", f, rt + 16, BAT_GUID.bytes_le, self.bat_region[0], self.bat_region[1], 1)
            struct.pack_into("<16sQII", f, rt + 48, META_GUID.bytes_le, self.meta_region[0], self.meta_region[1], 1)
            seal(f, rt, 64 << 10)
        m = 2 * MIB
        items = [("params", 8, 4), ("size", 8, 6), ("page83", 16, 6), ("logical", 4, 6), ("physical", 4, 6)]
        loc = b""
        if self.parent is not None:
            link = self.parent.data_write if isinstance(self.parent, Vhdx) else self.parent
            pairs = [("parent_linkage", "{%s}" % link), ("relative_path", self.rel)]
            loc = bytearray(20 + 12 * len(pairs))
            loc[0:16] = LOCATOR_TYPE.bytes_le
            struct.pack_into("<HH", loc, 16, 0, len(pairs))
            for i, (k, v) in enumerate(pairs):
                kb, vb = k.encode("utf-16-le"), v.encode("utf-16-le")
                struct.pack_into("<IIHH", loc, 20 + 12 * i, len(loc), len(loc) + len(kb), len(kb), len(vb))
                loc += kb + vb
            items.append(("locator", len(loc), 4))
        struct.pack_into("<8sHH", f, m, b"metadata", 0, len(items))
        at = 64 << 10
        for i, (k, length, flags) in enumerate(items):
            struct.pack_into("<16sIII", f, m + 32 + 32 * i, ITEMS[k].bytes_le, at, length, flags)
            at += 4096
        at = m + (64 << 10)
        struct.pack_into("<II", f, at, MIB, 2 if self.parent is not None else 0)
        struct.pack_into("<Q", f, at + 4096, self.size)
        f[at + 8192:at + 8192 + 16] = guid_for(self.name, "page83").bytes_le
        struct.pack_into("<I", f, at + 3 * 4096, 512)
        struct.pack_into("<I", f, at + 4 * 4096, 4096)
        if loc:
            f[at + 5 * 4096:at + 5 * 4096 + len(loc)] = loc
        for index, entry in self.bat.items():
            struct.pack_into("<Q", f, 1 * MIB + 8 * index, entry)
        return bytes(f)


def log_entry(log_guid, target, file_size):
    """One valid log entry (sequence 1, tail at itself) writing 4 KiB at target."""
    e = bytearray(8192)
    e[0:4] = b"loge"
    struct.pack_into("<IIQII16sQQ", e, 8, 8192, 0, 1, 1, 0, log_guid.bytes_le, file_size, file_size)
    e[64:68] = b"desc"
    struct.pack_into("<4s8sQQ", e, 68, b"\xab" * 4, b"\xab" * 8, target, 1)
    e[4096:4100] = b"data"
    struct.pack_into("<I", e, 4100, 0)
    e[4104:8188] = b"\xab" * 4084
    struct.pack_into("<I", e, 8188, 1)
    seal(e, 0, 8192)
    return bytes(e)


def build_vhdx(c, vhd_image):
    """Adds the VHDX cases to the Cases collector c. vhd_image(name) gives a
    dynamic VHD (for the mixed-chain case)."""
    img = bytearray(Vhdx("x-headers").image())
    img[(64 << 10) + 100] ^= 1
    img[(128 << 10) + 100] ^= 1
    c.case("vhdx-headers", "x/headers.vhdx", bytes(img), r"both VHDX headers are unusable", "VHDX: both headers bad")

    d = Vhdx("x-overlap")
    d.bat_region = (2 * MIB, MIB)
    c.case("vhdx-region-overlap", "x/overlap.vhdx", d.image(), r"BAT region .* overlaps the metadata region",
           "VHDX: BAT region over the metadata")

    d = Vhdx("x-bat-eof")
    d.bat[0] = (1 << 30) | 6
    c.case("vhdx-bat-eof", "x/bat-eof.vhdx", d.image(), r"block 0 at offset 1073741824 .*not inside the file",
           "VHDX: block past the end of the file")

    d = Vhdx("x-chunk", size=64 << 40)
    c.case("vhdx-chunk-ratio", "x/chunk.vhdx", d.image(), r"chunk ratio 4096\) need .* BAT entries",
           "VHDX: 64 TiB disk, 1 MiB BAT region")

    d = Vhdx("x-log")
    g = guid_for("x-log", "log")
    d.log = (3 * MIB, MIB, g, log_entry(g, 1 << 40, 4 * MIB))
    c.case("vhdx-log-outside", "x/log.vhdx", d.image(), r"log entry 1 writes 4096 bytes at 1099511627776, outside",
           "VHDX: log entry outside the file", write="readonly")

    a = Vhdx("x-cycle-a", rel=".\\b.avhdx")
    b = Vhdx("x-cycle-b", rel=".\\a.avhdx")
    a.parent, b.parent = b, a
    c.put("xc/b.avhdx", b.image())
    c.case("vhdx-cycle", "xc/a.avhdx", a.image(), r"parent chain has a cycle", "VHDX: parent cycle", write="readonly")

    p = Vhdx("x-link-parent")
    c.put("xl/parent.vhdx", p.image())
    child = Vhdx("x-link-child", parent=guid_for("x-link", "other"), rel=".\\parent.vhdx")
    c.case("vhdx-linkage", "xl/child.avhdx", child.image(), r"DataWriteGuid .* parent_linkage",
           "VHDX: parent with another DataWriteGuid", write="volatile")

    c.put("xm/base.vhd", vhd_image("x-mixed-base"))
    child = Vhdx("x-mixed-child", parent=guid_for("x-mixed", "any"), rel=".\\base.vhd")
    c.case("vhdx-mixed", "xm/child.avhdx", child.image(), r"VHD and VHDX cannot be mixed",
           "VHDX child of a VHD parent", write="readonly")
