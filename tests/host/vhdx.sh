#!/bin/bash
# VHDX through vhdtool, against qemu-img and libvhdi:
#  - images qemu-img makes (fixed and dynamic, block sizes 1, 8 and 32 MiB,
#    log sizes 1 and 4 MiB, with data, zero blocks and holes) read
#    byte-identical to `qemu-img convert -O raw`, and pass check;
#  - VHDX that vhdtool writes (create, write, convert from raw and from VHD,
#    a 4096-byte-sector one) read identically through qemu-img (512-byte
#    sectors: QEMU 7.2 reads no other) and show the same size, sector size and
#    DataWriteGuid in vhdiinfo; VHDX -> VHD -> raw keeps the bytes;
#  - a 3-layer differencing VHDX chain made by vhdtool reads like a raw mirror
#    given the same writes; a child of a changed parent and a VHD child of a
#    VHDX are refused by name;
#  - the real-world VHDX images of ../shared/data/realworld-vhdx read as its
#    PROVENANCE.md says (dirty logs replayed in memory, file unchanged), and
#    `check --repair` replays a dirty log so that qemu-img reads the copy the
#    same way. Skipped with a notice only when that folder is absent.
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools qemu-img vhdiinfo python3 openssl bunzip2 unzip
# libvhdi's Python binding (Debian python3-libvhdi) lives with the system Python
PYVHDI=/usr/bin/python3
"$PYVHDI" -c 'import pyvhdi' 2>/dev/null || t_need "python3-libvhdi (pyvhdi) not importable by $PYVHDI"
cd "$T_TMP"
# libvhdi_read TOP [PARENT...]: the whole virtual disk as libvhdi reads it
# (each file opened, parents attached with set_parent), on stdout.
libvhdi_read() {
    "$PYVHDI" - "$@" <<'PY'
import pyvhdi, sys
files = []
for path in sys.argv[1:]:
    f = pyvhdi.file()
    f.open(path)
    files.append(f)
for child, parent in zip(files, files[1:]):
    child.set_parent(parent)
top = files[0]
left = top.get_media_size()
out = sys.stdout.buffer
while left:
    n = min(left, 1 << 22)
    out.write(top.read_buffer(n))
    left -= n
PY
}

# A 48 MiB raw disk: every third MiB zero, the others a byte pattern, and a
# partial last chunk, so zero blocks and block-boundary runs both occur.
python3 - <<'PY'
with open('pat.raw', 'wb') as f:
    for i in range(48):
        f.write(bytes(1 << 20) if i % 3 == 0 else bytes([(i * 37 + 1) & 255]) * (1 << 20))
PY

# --- images made by qemu-img
for sub in dynamic fixed; do
    for bs in 1M 8M 32M; do
        for log in 1M 4M; do
            n="qemu $sub block $bs log $log"
            qemu-img convert -q -f raw -O vhdx -o subformat=$sub,block_size=$bs,log_size=$log pat.raw q.vhdx
            qemu-img convert -q -f vhdx -O raw q.vhdx q.raw
            "$VHDTOOL" read q.vhdx 0 48M >v.raw 2>err.txt
            t_check "$n: reads as qemu-img convert" cmp q.raw v.raw
            t_check "$n: check passes" "$VHDTOOL" check q.vhdx
        done
    done
done
qemu-img create -q -f vhdx -o subformat=dynamic q-empty.vhdx 3G
t_eq "qemu empty 3 GiB dynamic: all zero" \
    "$(head -c $((3 << 30)) /dev/zero | t_sha256)" "$("$VHDTOOL" read q-empty.vhdx 0 3G | t_sha256)"

# --- VHDX written by vhdtool, read by qemu-img and libvhdi
"$VHDTOOL" convert pat.raw w.vhdx >/dev/null
"$VHDTOOL" write w.vhdx 5000000 --pattern 0xc3 --length 3000000 >/dev/null
"$VHDTOOL" read w.vhdx 0 48M >w.raw
python3 - <<'PY'
d = bytearray(open('pat.raw', 'rb').read())
d[5000000:8000000] = b'\xc3' * 3000000
open('w.want', 'wb').write(d)
PY
t_check "vhdtool convert raw -> vhdx + write: reads as written" cmp w.raw w.want
qemu-img convert -q -f vhdx -O raw w.vhdx wq.raw
t_check "vhdtool-written VHDX: qemu-img reads the same bytes" cmp wq.raw w.want
t_check "vhdtool-written VHDX: qemu-img check" qemu-img check -q -f vhdx w.vhdx
t_check "vhdtool-written VHDX: vhdtool check" "$VHDTOOL" check w.vhdx
guid=$("$VHDTOOL" info --json w.vhdx | python3 -c 'import json,sys; print(json.load(sys.stdin)["vhdx"]["data_write_guid"])')
vhdiinfo w.vhdx >vi.txt 2>&1
t_grep "vhdiinfo: size of the vhdtool-written VHDX" "Media size.*\(50331648 bytes\)" vi.txt
t_grep "vhdiinfo: identifier is the DataWriteGuid" "Identifier[[:space:]]*: $guid" vi.txt
t_check "libvhdi reads the vhdtool-written dynamic VHDX byte for byte" cmp <(libvhdi_read w.vhdx) w.want
"$VHDTOOL" create fixed 16M f4k.vhdx --sector-size 4096 --block-size 1M >/dev/null
"$VHDTOOL" write f4k.vhdx 8192 --pattern 0x4b --length 12288 >/dev/null
vhdiinfo f4k.vhdx >vi4.txt 2>&1
t_grep "vhdiinfo: 4096-byte sectors of a vhdtool 4Kn VHDX" "Bytes per sector[[:space:]]*: 4096" vi4.txt
t_grep "vhdiinfo: fixed type of the 4Kn VHDX" "Disk type[[:space:]]*: Fixed" vi4.txt
t_check "libvhdi reads the 4Kn VHDX as vhdtool does" cmp <(libvhdi_read f4k.vhdx) <("$VHDTOOL" read f4k.vhdx 0 16M)
t_eq "4Kn VHDX reads what was written" "$(printf '4b%.0s' $(seq 12288))" \
    "$("$VHDTOOL" read f4k.vhdx 8192 12288 | od -An -tx1 -v | tr -d ' \n')"
"$VHDTOOL" create dynamic 40M d.vhdx --block-size 2M >/dev/null
qemu-img info d.vhdx >qi.txt 2>&1
t_grep "qemu-img: block size of a vhdtool dynamic VHDX" "cluster_size: 2097152" qi.txt

# VHD <-> VHDX conversions keep the bytes
"$VHDTOOL" convert w.vhdx w.vhd >/dev/null
"$VHDTOOL" convert w.vhd w2.vhdx >/dev/null
"$VHDTOOL" convert -O raw w2.vhdx w2.raw >/dev/null
t_check "VHDX -> VHD -> VHDX -> raw keeps every byte" cmp w2.raw w.want
"$VHDTOOL" convert -O vhdx-fixed w.vhd wf.vhdx >/dev/null
"$VHDTOOL" info wf.vhdx >wf.txt 2>&1
t_grep "convert -O vhdx-fixed: a fixed VHDX, every block present" "payload blocks: +24: 24 FULLY_PRESENT" wf.txt
qemu-img convert -q -f vhdx -O raw wf.vhdx wf.raw
t_check "the fixed VHDX made from a VHD reads the same in qemu-img" cmp wf.raw w.want
qemu-img convert -q -f vpc -O raw w.vhd wv.raw
t_check "the VHD made from a VHDX reads the same in qemu-img" cmp <(head -c 50331648 wv.raw) w.want

# vhd_same DISK RAW: DISK (through its chain) reads exactly RAW.
vhd_same() { cmp -s <("$VHDTOOL" read "$1" 0 "$(stat -c %s "$2")") "$2"; }

# --- differencing chain against a raw mirror
mkdir -p vms
cp pat.raw mirror.raw
"$VHDTOOL" convert pat.raw vms/base.vhdx >/dev/null
"$VHDTOOL" create diff --parent vms/base.vhdx vms/mid.avhdx >/dev/null
"$VHDTOOL" write vms/mid.avhdx 3M --pattern 0x3d --length 700K >/dev/null
dd if=/dev/zero bs=1K count=700 status=none | tr '\0' '\075' | dd of=mirror.raw bs=1K seek=3072 conv=notrunc status=none
"$VHDTOOL" create diff --parent vms/mid.avhdx vms/top.avhdx >/dev/null
"$VHDTOOL" write vms/top.avhdx 3500000 --pattern 0x70 --length 123457 >/dev/null
python3 - <<'PY'
d = bytearray(open('mirror.raw', 'rb').read())
d[3500000:3500000 + 123457] = b'\x70' * 123457
open('mirror.raw', 'wb').write(d)
PY
"$VHDTOOL" read vms/top.avhdx 0 48M >chain.raw
t_check "3-layer differencing VHDX chain reads like the raw mirror" cmp chain.raw mirror.raw
t_check "libvhdi reads the 3-layer chain like the raw mirror" \
    cmp <(libvhdi_read vms/top.avhdx vms/mid.avhdx vms/base.vhdx) mirror.raw
"$VHDTOOL" info vms/top.avhdx >ci.txt 2>&1
t_grep "info lists the 3 layers" "2  dynamic .*vms/base.vhdx" ci.txt
t_check "check passes on the chain" "$VHDTOOL" check vms/top.avhdx
cmp -s <("$VHDTOOL" read vms/base.vhdx 0 48M) pat.raw && t_ok "the parents were not written" || t_fail "the parents were not written"
cp vms/mid.avhdx mid.keep
"$VHDTOOL" write vms/mid.avhdx 0 --pattern 0x01 --length 512 >/dev/null
"$VHDTOOL" read vms/top.avhdx 0 512 >/dev/null 2>err.txt && t_fail "a changed parent is refused" ||
    t_grep "a changed parent is refused (DataWriteGuid vs parent_linkage)" "parent_linkage" err.txt
cp mid.keep vms/mid.avhdx
"$VHDTOOL" create dynamic 48M vhd-base.vhd --exact-size >/dev/null
"$VHDTOOL" create diff --parent vhd-base.vhd --format vhdx x.avhdx >err.txt 2>&1 && t_fail "VHDX child of a VHD refused" ||
    t_grep "VHDX child of a VHD refused" "do not mix" err.txt

# set-parent after moving the base, then merge the top layer down
mkdir -p moved
mv vms/base.vhdx moved/base-moved.vhdx
t_check "set-parent points mid.avhdx at the moved base" "$VHDTOOL" set-parent vms/mid.avhdx moved/base-moved.vhdx
t_check "after set-parent the chain reads like the raw mirror" vhd_same vms/top.avhdx mirror.raw
vhdiinfo vms/mid.avhdx >vp.txt 2>&1
t_grep "vhdiinfo sees the new parent path" 'Parent filename.*moved.base-moved\.vhdx' vp.txt
"$VHDTOOL" set-parent vms/top.avhdx moved/base-moved.vhdx >err.txt 2>&1 && t_fail "set-parent to a non-parent refused" ||
    t_grep "set-parent to a non-parent refused" "parent_linkage is" err.txt
t_check "merge top.avhdx into mid.avhdx" "$VHDTOOL" merge vms/top.avhdx
t_check "mid.avhdx now reads like the raw mirror" vhd_same vms/mid.avhdx mirror.raw
t_check "check passes after merge" "$VHDTOOL" check vms/mid.avhdx

# --- the real-world images
RW=${VHDX_REALWORLD:-$T_ROOT/../shared/data/realworld-vhdx}
if [ ! -d "$RW" ]; then
    echo "# real-world VHDX folder $RW is absent; skipping those checks"
    t_skip "real-world VHDX images" "$RW absent"
    exit $T_FAILED
fi
# unpacked name | source file | sha256 of the whole virtual disk (PROVENANCE.md, after replay) | dirty
REAL=(
"iotest-dirtylog-10G-4M.vhdx|qemu-iotest-dirtylog-10G-4M.vhdx.bz2|179cefe8b0587f123393eedf2aa7aa8d25798591178e6bc3950a09762f38f96f|dirty"
"iotest-dynamic-1G.vhdx|qemu-iotest-dynamic-1G.vhdx.bz2|d3d112d8dab7fd360609f7d5a7b769904b7a2a7d7b6b8c535f65a23293c05478|clean"
"test-disk2vhd.vhdx|qemu-test-disk2vhd.vhdx.bz2|96d964042be9b58dda1725567abfb0cf9fd8380e2118754afa979c2ad445938a|clean"
"fixed.vhdx|dissect-fixed.vhdx.gz|bc0be4623b15aa84216fb31ba24e3b621ec7f1c72d198c990ac0eced222d9f62|clean"
"dynamic.vhdx|dissect-dynamic.vhdx.gz|8e2b5e9265d694b42b81819e3bff29770eff4ed0f4f9f311693ff3dbdc93efac|clean"
"config2_base.vhdx|coreos-hyperv-config2_base.vhdx.bz2|afce9cca367ebfa91a673d612bcb6fc32b12a80211207f7a7b1cd3aed3cac19d|clean"
"basic.vhdx|goatrodeo-basicvhdx.zip|5784f47fb5872477cbd74b5afb1a7a521a1f45827561c615908ed2efe7be95ef|clean"
"test.vhdx|velociraptor-test.vhdx.zip|762ca4030df6cf834f5121ed2ecf52fe6cfd3294673406867ef94b9e0990143e|clean"
"small_ntfs_test.vhdx|adiskreader-small_ntfs_test.vhdx.gz|759cc6aaf5af4887c977d8b0638e3f6567dea807a0b1b0cc7310bcaec36ed2fc|dirty"
"vhdx-log-replay.vhdx|discutils-vhdx-log-replay.vhdx.gz|3ba3b309425b7ff5e8e0199edceed95226250f880c53b24e8eae93865f3fad5e|dirty"
"btrfs.vhdx|discutils-btrfs.vhdx.gz|0b959f9cb4e18348ad8b646f152178282542c8304f02fddf765e3fd1a1de6864|clean"
"swap.vhdx|discutils-swap.vhdx.gz|60dd30b4c74361427d1089510cabb36e2eeda0cc4747f467ea43173acd358c49|clean"
"xfs.vhdx|discutils-xfs.vhdx.gz|8ca2bd2d91f1c6ada47128fc2f8d38587e73954ede5a664fe2bb09c19606060e|clean"
"xfs5.vhdx|discutils-xfs5.vhdx.gz|edc5d630b2da0ddb08992afb58ded06ffb56b884e184b4974fda16e31b7e6817|clean"
"lvm2.vhdx|discutils-lvm2.vhdx.gz|f7dc6812a3b12a35f3ec895ce981bd59ff4558270fc80cd812c9cd522bff1295|clean"
)
mkdir -p rw
unpack() {
    case $1 in
    *.bz2) bunzip2 -c "$RW/$1" >"rw/$2" ;;
    *.gz) gunzip -c "$RW/$1" >"rw/$2" ;;
    *.zip) unzip -p "$RW/$1" "$2" >"rw/$2" ;;
    esac
}
for row in "${REAL[@]}"; do
    IFS='|' read -r name src want state <<<"$row"
    unpack "$src" "$name"
    f=rw/$name
    before=$(t_sha256 <"$f")
    size=$("$VHDTOOL" info --json "$f" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk_size"])')
    got=$("$VHDTOOL" read "$f" 0 "$size" | t_sha256)
    t_eq "$name ($state): virtual disk hash as PROVENANCE.md" "$want" "$got"
    "$VHDTOOL" info "$f" >info.txt 2>&1
    if [ "$state" = dirty ]; then
        t_grep "$name: info reports the dirty log" "log: +dirty, replayed in memory" info.txt
        t_eq "$name: reading did not change the file" "$before" "$(t_sha256 <"$f")"
        "$VHDTOOL" check "$f" >chk.txt 2>&1 && t_fail "$name: check reports the dirty log" ||
            t_grep "$name: check reports the dirty log" "log is not empty" chk.txt
    else
        t_check "$name: check passes" "$VHDTOOL" check "$f"
    fi
    [ "$name" = iotest-dirtylog-10G-4M.vhdx ] || [ "$name" = small_ntfs_test.vhdx ] || rm -f "$f"
done
# check --repair replays into the file; qemu-img then opens it read-only and agrees
for name in iotest-dirtylog-10G-4M.vhdx small_ntfs_test.vhdx; do
    f=rw/$name
    t_check "$name: check --repair replays the log" "$VHDTOOL" check --repair "$f"
    t_check "$name: clean after repair" "$VHDTOOL" check "$f"
    want=$(printf '%s\n' "${REAL[@]}" | grep "^$name|" | cut -d'|' -f3)
    qemu-img convert -q -f vhdx -O raw "$f" repaired.raw
    t_eq "$name: qemu-img reads the repaired file as PROVENANCE.md" "$want" "$(t_sha256 <repaired.raw)"
    rm -f "$f" repaired.raw
done
# ovm-win: 500 GiB dirty; the replayed view in 1 MiB slices
unzip -p "$RW/ovm-win-sourcecode.vhdx.zip" sourcecode.vhdx >rw/sourcecode.vhdx
for slice in "0|b668d621c9971d6b0d142f09a576f1de4dedac01288a5a5240eb7d71d8f52808" \
             "125G|a9369d0e91c85dd1ec35cf5167c5ebff804861ecfcfa9f4a76441f48c6403f9e" \
             "250G|db8ac2603d2aedac937620ffc3856df8850c9bdacde2d6e942445714b9c976f3" \
             "375G|435499b3f08c6ed2be4b9040ba2c68f50b82d606895cb8e92acbfa24140a1c20" \
             "100G|30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58"; do
    IFS='|' read -r off want <<<"$slice"
    t_eq "sourcecode.vhdx (dirty, 500 GiB): 1 MiB at $off" "$want" \
        "$("$VHDTOOL" read rw/sourcecode.vhdx "$off" 1M | t_sha256)"
done
rm -f rw/sourcecode.vhdx
# the differencing image: its parent is not published; a stand-in empty 8 GiB
# parent with the DataWriteGuid of parent_linkage gives libvhdi's view
gunzip -c "$RW/dissect-differencing.avhdx.gz" >rw/differencing.avhdx
parent="rw/Generation 1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx"
"$VHDTOOL" create dynamic 8G "$parent" --format vhdx --block-size 2M >/dev/null
python3 - "$parent" <<'PY'
import struct, sys, uuid
p = sys.argv[1]
f = bytearray(open(p, 'rb').read(4 << 20))
g = uuid.UUID('ff34003b-11ed-4cf8-a166-b2be05e20b80').bytes_le
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF
for h in (64 << 10, 128 << 10):
    f[h + 32:h + 48] = g
    f[h + 4:h + 8] = bytes(4)
    struct.pack_into('<I', f, h + 4, crc32c(bytes(f[h:h + 4096])))
with open(p, 'r+b') as out:
    out.write(f[:256 << 10])
PY
"$VHDTOOL" info rw/differencing.avhdx >di.txt 2>&1
t_grep "differencing.avhdx: parent_linkage" "parent_linkage: +\{ff34003b-11ed-4cf8-a166-b2be05e20b80\}" di.txt
t_grep "differencing.avhdx: 32 PARTIALLY_PRESENT blocks" "32 PARTIALLY_PRESENT" di.txt
t_grep "differencing.avhdx: resolves the stand-in parent by relative_path" "1  dynamic .*Generation 1_49C4BAF3" di.txt
t_eq "differencing.avhdx over an empty parent: libvhdi's whole-disk hash" \
    fc5c91bfd8f7ee388cf482dc7eb6cef64b39a7e1bd043516ee95887b839f2b78 \
    "$("$VHDTOOL" read rw/differencing.avhdx 0 8G | t_sha256)"
exit $T_FAILED
