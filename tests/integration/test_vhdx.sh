#!/bin/bash
# VHDX under QEMU+OVMF: Debian's kernel (busybox initramfs printing its
# command-line marker) started by systemd-boot or GRUB from inside a VHDX
# that vhdboot attached. Boots (all volatile, so the files stay as built):
#   sd-fixed     systemd-boot, fixed VHDX made by vhdtool, on the ESP
#   sd-ntfs      systemd-boot, dynamic VHDX (qemu-img) on an NTFS partition
#                of a second disk, selected by label
#   sd-chain     systemd-boot, 3-layer differencing VHDX chain (base .vhdx,
#                two .avhdx children): the top layer's marker wins
#   sd-4k / gr-4k  systemd-boot and GRUB on a guest disk with 4096-byte
#                sectors (GPT in 4 KiB LBAs, FAT16 with 4 KiB sectors) in a
#                VHDX with 4096-byte logical sectors: published as BlockIO
#                BlockSize 4096
#   sd-dirty     a dynamic VHDX whose BAT sector in the file is zeroed and
#                whose log holds the right one (LogGuid set): it boots only
#                if the log is replayed (in memory), and the file on the ESP
#                is unchanged afterwards
. "$(dirname "$0")/lib.sh"
it_require_qemu
t_need_tools mkntfs ntfscp qemu-img python3 mkfs.vfat mcopy

W=$T_TMP
ESP=$W/esp.img
DATA=$W/data.img
NTFS=$W/ntfs.img
NTFS_MIB=96
export QEMU_DISK2=$DATA
guest_prepare || it_setup_fail "download/unpack the guest packages into $GUEST_CACHE"

# --- guests -------------------------------------------------------------------
guest_sdboot "$W/sd.img" VHDX-LAYER1 || it_setup_fail "systemd-boot guest disk"
cp "$W/sd.img" "$W/sd2.img" && guest_sdboot_marker "$W/sd2.img" VHDX-LAYER2 || it_setup_fail "layer 2 entry"
cp "$W/sd.img" "$W/sd3.img" && guest_sdboot_marker "$W/sd3.img" VHDX-LAYER3 || it_setup_fail "layer 3 entry"
cp "$W/sd.img" "$W/sd-fixed.img" && guest_sdboot_marker "$W/sd-fixed.img" VHDX-FIXED || it_setup_fail "fixed entry"
cp "$W/sd.img" "$W/sd-ntfs.img" && guest_sdboot_marker "$W/sd-ntfs.img" VHDX-NTFS || it_setup_fail "ntfs entry"
cp "$W/sd.img" "$W/sd-dirty.img" && guest_sdboot_marker "$W/sd-dirty.img" VHDX-DIRTY || it_setup_fail "dirty entry"

# fixed VHDX by vhdtool: create, then write the guest into it
"$VHDTOOL" create fixed 64M "$W/sd-fixed.vhdx" --block-size 2M >/dev/null &&
    "$VHDTOOL" write "$W/sd-fixed.vhdx" 0 --in "$W/sd-fixed.img" >/dev/null || it_setup_fail "fixed VHDX"
t_check "fixed VHDX reads back as the guest" vhd_matches "$W/sd-fixed.vhdx" "$W/sd-fixed.img"
# dynamic VHDX by qemu-img, for NTFS
qemu-img convert -q -f raw -O vhdx -o subformat=dynamic,block_size=1M "$W/sd-ntfs.img" "$W/sd-ntfs.vhdx" ||
    it_setup_fail "qemu-img dynamic VHDX"
# 3-layer chain: base by vhdtool convert, children hold the sectors that differ
mkdir -p "$W/chain"
"$VHDTOOL" convert "$W/sd.img" "$W/chain/base.vhdx" >/dev/null || it_setup_fail "chain base"
t_check "chain: differencing VHDX layer 2" vhd_diff_layer "$W/chain/base.vhdx" "$W/chain/mid.avhdx" "$W/sd.img" "$W/sd2.img"
t_check "chain: differencing VHDX layer 3" vhd_diff_layer "$W/chain/mid.avhdx" "$W/chain/top.avhdx" "$W/sd2.img" "$W/sd3.img"
t_check "chain reads back as the layer-3 guest" vhd_matches "$W/chain/top.avhdx" "$W/sd3.img"

# 4Kn guests: GPT in 4 KiB LBAs (written here: sgdisk assumes 512-byte
# sectors on files), FAT16 with 4 KiB sectors at 1 MiB
guest4k_disk() {
    local img=$1
    rm -f "$img" && truncate -s 64M "$img" &&
        python3 - "$img" <<'PY' &&
import struct, sys, uuid, zlib
img, ss, total = sys.argv[1], 4096, 64 * 1024 * 1024 // 4096
last = total - 1
def entry(tguid, first, end, name):
    return (uuid.UUID(tguid).bytes_le + uuid.uuid4().bytes_le + struct.pack('<QQQ', first, end, 0) +
            name.encode('utf-16-le').ljust(72, b'\0'))
entries = entry('C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 256, 256 + 12288 - 1, 'ESP')
entries += entry('0FC63DAF-8483-4772-8E79-3D69D8477DE4', 256 + 12288, last - 5, 'data')
entries = entries.ljust(128 * 128, b'\0')
disk_guid = uuid.uuid4().bytes_le
def header(my, alt, table):
    h = struct.pack('<8sIIIIQQQQ16sQIII', b'EFI PART', 0x10000, 92, 0, 0, my, alt, 6, last - 5, disk_guid,
                    table, 128, 128, zlib.crc32(entries))
    h = h[:16] + struct.pack('<I', zlib.crc32(h)) + h[20:]
    return h.ljust(ss, b'\0')
mbr = bytearray(512)
mbr[446:462] = struct.pack('<B3sB3sII', 0, b'\0\x02\0', 0xEE, b'\xff\xff\xff', 1, min(last, 0xFFFFFFFF))
mbr[510:512] = b'\x55\xaa'
with open(img, 'r+b') as f:
    f.write(bytes(mbr).ljust(ss, b'\0'))
    f.write(header(1, last, 2))
    f.write(entries)
    f.seek((last - 4) * ss)
    f.write(entries)
    f.write(header(last, 1, last - 4))
PY
        mkfs.vfat -F 16 -S 4096 -s 1 -n GUESTESP --offset 256 "$img" $((48 * 1024)) >/dev/null 2>&1 &&
        mmd -i "$img@@1M" ::/EFI ::/EFI/BOOT
}
guest4k_disk "$W/sd4k.img" && mmd -i "$W/sd4k.img@@1M" ::/loader ::/loader/entries &&
    mcopy -i "$W/sd4k.img@@1M" "$GUEST_CACHE/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    mcopy -i "$W/sd4k.img@@1M" "$GUEST_CACHE/linux/vmlinuz" ::/vmlinuz &&
    mcopy -i "$W/sd4k.img@@1M" "$GUEST_CACHE/initrd.gz" ::/initrd.gz &&
    printf 'timeout 0\ndefault linux.conf\n' | mcopy -i "$W/sd4k.img@@1M" - ::/loader/loader.conf &&
    guest_sdboot_marker "$W/sd4k.img" VHDX-4K-SD || it_setup_fail "4Kn systemd-boot guest"
guest_grub "$W/gr.img" VHDX-4K-GRUB || it_setup_fail "GRUB guest (for its standalone GRUB)"
guest4k_disk "$W/gr4k.img" &&
    mcopy -i "$W/gr4k.img@@1M" "$GUEST_CACHE/grubx64-standalone.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    mcopy -i "$W/gr4k.img@@1M" "$GUEST_CACHE/linux/vmlinuz" ::/vmlinuz &&
    mcopy -i "$W/gr4k.img@@1M" "$GUEST_CACHE/initrd.gz" ::/initrd.gz &&
    guest_grub_marker "$W/gr4k.img" VHDX-4K-GRUB || it_setup_fail "4Kn GRUB guest"
for g in sd4k gr4k; do
    "$VHDTOOL" create dynamic 64M "$W/$g.vhdx" --sector-size 4096 --block-size 1M >/dev/null &&
        "$VHDTOOL" write "$W/$g.vhdx" 0 --in "$W/$g.img" >/dev/null || it_setup_fail "4Kn VHDX $g"
    "$VHDTOOL" info "$W/$g.vhdx" >"$W/$g.info" 2>&1
    t_grep "$g.vhdx has 4096-byte logical sectors" "sector size: +4096 logical" "$W/$g.info"
done

# dirty log: the BAT's first 4 KiB zeroed in the file, the right bytes in a log entry
"$VHDTOOL" convert "$W/sd-dirty.img" "$W/sd-dirty.vhdx" >/dev/null || it_setup_fail "dirty VHDX base"
python3 - "$W/sd-dirty.vhdx" <<'PY' || it_setup_fail "dirty log"
import struct, sys, uuid
def crc32c(data):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
p = sys.argv[1]
f = bytearray(open(p, 'rb').read())
h = 128 << 10 if struct.unpack_from('<Q', f, (128 << 10) + 8)[0] > struct.unpack_from('<Q', f, (64 << 10) + 8)[0] else 64 << 10
log_len, log_off = struct.unpack_from('<IQ', f, h + 68)
rt = 192 << 10
bat = None
for i in range(struct.unpack_from('<I', f, rt + 8)[0]):
    e = rt + 16 + 32 * i
    if uuid.UUID(bytes_le=bytes(f[e:e + 16])) == uuid.UUID('2DC27766-F623-4200-9D64-115E9BFD4A08'):
        bat = struct.unpack_from('<Q', f, e + 16)[0]
sector = bytes(f[bat:bat + 4096])
assert any(sector), 'the BAT sector holds entries'
guid = uuid.uuid4().bytes_le
e = bytearray(8192)
e[0:4] = b'loge'
struct.pack_into('<IIQII16sQQ', e, 8, 8192, 0, 1, 1, 0, guid, len(f), len(f))
e[64:68] = b'desc'
struct.pack_into('<4s8sQQ', e, 68, sector[4092:4096], sector[0:8], bat, 1)
e[4096:4100] = b'data'
struct.pack_into('<I', e, 4100, 0)
e[4104:8188] = sector[8:4092]
struct.pack_into('<I', e, 8188, 1)
struct.pack_into('<I', e, 4, crc32c(bytes(e)))
f[log_off:log_off + 8192] = e
f[bat:bat + 4096] = bytes(4096)
for hh in (64 << 10, 128 << 10):
    f[hh + 48:hh + 64] = guid
    f[hh + 4:hh + 8] = bytes(4)
    struct.pack_into('<I', f, hh + 4, crc32c(bytes(f[hh:hh + 4096])))
open(p, 'wb').write(f)
PY
"$VHDTOOL" info "$W/sd-dirty.vhdx" >"$W/dirty.info" 2>&1
t_grep "dirty VHDX: vhdtool sees a dirty log" "log: +dirty, replayed in memory" "$W/dirty.info"
t_check "dirty VHDX: reads as the guest after replay" vhd_matches "$W/sd-dirty.vhdx" "$W/sd-dirty.img"

# --- NTFS data disk (MBR, NTFS "VHDXDATA" at 1 MiB) -----------------------------
truncate -s "${NTFS_MIB}M" "$NTFS" &&
    mkntfs -F -Q -q -L VHDXDATA -p 2048 -H 255 -S 63 "$NTFS" >/dev/null 2>&1 &&
    ntfscp -q "$NTFS" "$W/sd-ntfs.vhdx" /sd-ntfs.vhdx || it_setup_fail "NTFS volume"
rm -f "$DATA" && truncate -s $((NTFS_MIB + 2))M "$DATA" &&
    python3 -c 'import struct, sys
entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 7, b"\xfe\xff\xff", 2048, int(sys.argv[2]) * 2048)
with open(sys.argv[1], "r+b") as f:
    f.seek(446); f.write(entry); f.seek(510); f.write(b"\x55\xaa")' "$DATA" "$NTFS_MIB" &&
    dd if="$NTFS" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "data disk"

# --- host ESP -------------------------------------------------------------------
esp_create "$ESP" 512 || it_setup_fail "host ESP image"
for f in sd-fixed.vhdx sd4k.vhdx gr4k.vhdx sd-dirty.vhdx; do esp_put "$ESP" "$W/$f" "/vms/$f" || it_setup_fail "copy $f"; done
for f in base.vhdx mid.avhdx top.avhdx; do esp_put "$ESP" "$W/chain/$f" "/vms/chain/$f" || it_setup_fail "copy $f"; done
SHA_DIRTY=$(esp_sha "$ESP" /vms/sd-dirty.vhdx)

# vhdx_boot NAME TITLE PATH MARKER: boots PATH volatile and expects MARKER.
vhdx_boot() {
    it_conf_single "$2" "$3" volatile | esp_conf "$ESP"
    it_boot "$1" "$ESP"
    it_expect_guest "$2: GUEST-MARKER: $4" "^GUEST-MARKER: $4\$"
}
vhdx_boot vhdx-sd-fixed "systemd-boot, fixed VHDX" '\vms\sd-fixed.vhdx' VHDX-FIXED
it_expect "fixed VHDX: installed a 64 MiB disk" 'vhdboot: installed disk of 64 MiB \(volatile\)'
vhdx_boot vhdx-sd-ntfs "systemd-boot, dynamic VHDX on NTFS" 'VHDXDATA:\sd-ntfs.vhdx' VHDX-NTFS
vhdx_boot vhdx-sd-chain "systemd-boot, 3-layer VHDX chain" '\vms\chain\top.avhdx' VHDX-LAYER3
it_expect "VHDX chain: loader opened 3 layers" 'vhdboot: opened chain of 3 layer'
it_reject "VHDX chain: no older layer's marker" 'GUEST-MARKER: VHDX-LAYER[12]'
vhdx_boot vhdx-sd-4k "systemd-boot, 4Kn VHDX" '\vms\sd4k.vhdx' VHDX-4K-SD
it_expect "4Kn VHDX (systemd-boot): published with 4096-byte blocks" 'vhdboot: installed disk of 64 MiB, 4096-byte sectors'
vhdx_boot vhdx-gr-4k "GRUB, 4Kn VHDX" '\vms\gr4k.vhdx' VHDX-4K-GRUB
it_expect "4Kn VHDX (GRUB): published with 4096-byte blocks" 'vhdboot: installed disk of 64 MiB, 4096-byte sectors'
vhdx_boot vhdx-sd-dirty "systemd-boot, VHDX with a dirty log" '\vms\sd-dirty.vhdx' VHDX-DIRTY
t_eq "dirty VHDX: the file is unchanged after the boot" "$SHA_DIRTY" "$(esp_sha "$ESP" /vms/sd-dirty.vhdx)"

# --- discovery without vhdboot.conf: .vhdx/.avhdx listed, bases hidden, i shows the VHDX layers
DESP=$W/desp.img
esp_create "$DESP" 256 || it_setup_fail "discovery ESP image"
esp_put "$DESP" "$W/sd-fixed.vhdx" /images/fixed.vhdx || it_setup_fail "copy fixed.vhdx"
for f in base.vhdx mid.avhdx top.avhdx; do esp_put "$DESP" "$W/chain/$f" "/vms/$f" || it_setup_fail "copy $f"; done
it_boot vhdx-discovery "$DESP" \
    'booting .* in [0-9]+ s' 'i' \
    'press a key to return to the menu' ' ' \
    '2:^> 1\. \\images' '2'
it_expect "discovery: finds the five VHDX files (four on the ESP, one on NTFS)" '^vhdboot: discovery found 5 VHD'
it_expect "discovery: lists the fixed VHDX" '^> 1\. \\images\\fixed\.vhdx  \(64 MiB fixed, 1 layer\)'
it_expect "discovery: lists the chain's top .avhdx with its depth" '^  2\. \\vms\\top\.avhdx  \(64 MiB differencing, 3 layers\)'
it_expect "discovery: lists the VHDX on NTFS" '^  3\. VHDXDATA:\\sd-ntfs\.vhdx  \(64 MiB dynamic, 1 layer\)'
it_reject "discovery: the chain's bases are hidden" '^  [0-9]\. \\vms\\(base|mid)\.'
it_expect "chain details: a VHDX layer shows format, sector size and DataWriteGuid" \
    "^    VHDX fixed, 64 MiB, 512-byte sectors, DataWriteGuid $("$VHDTOOL" info --json "$W/sd-fixed.vhdx" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["vhdx"]["data_write_guid"])')\$"
it_expect_guest "discovery: 2 boots the 3-layer VHDX chain: GUEST-MARKER: VHDX-LAYER3" '^GUEST-MARKER: VHDX-LAYER3$'
exit $T_FAILED
