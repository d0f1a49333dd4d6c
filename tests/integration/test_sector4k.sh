#!/bin/bash
# Host extents on a disk with 4096-byte logical blocks: the loader reads and
# writes VHD files through the whole disk's BlockIO (fs/disk_window.c), so
# every request must be cut to whole 4 KiB blocks. A dynamic VHD made by
# qemu-img keeps its block data one 512-byte bitmap sector after a sector
# boundary (vhdtool puts new blocks' data on 4 KiB boundaries; qemu-img and
# older files do not), so on a
# 4 KiB-cluster NTFS volume nearly every read and write of the guest is
# misaligned to the disk's blocks: reads go through the bounce buffer and
# the payload's 16-sector write is read-modify-written. One boot (second
# disk: virtio-blk with logical_block_size=4096, MBR, NTFS with 4 KiB
# sectors), write persistent:
#   the payload sees its whole pattern (PAYLOAD: PASS) and its write lands:
#   the file on NTFS then holds the markers, every other byte of the disk is
#   as before, and vhdtool check passes.
. "$(dirname "$0")/lib.sh"
it_require_qemu
t_need_tools mkntfs ntfscp ntfscat ntfsfix qemu-img

W=$T_TMP
ESP=$W/esp.img
DATA=$W/data4k.img
NTFS=$W/ntfs.img
NTFS_MIB=48
MARK_SECTORS=16
export QEMU_DISK2=$DATA QEMU_DISK2_OPTS=logical_block_size=4096,physical_block_size=4096

guest_payload "$W/full.img" || it_setup_fail "payload guest disk"
read -r P2_FIRST P2_COUNT < <(guest_part2 "$W/full.img")
MARK_OFFSET=$((P2_FIRST * 512))
t_check "dynamic payload VHD made by qemu-img (its blocks' data not 4 KiB aligned)" \
    qemu-img convert -q -f raw -O vpc -o subformat=dynamic,force_size=on "$W/full.img" "$W/p.vhd"
# file_offset VHD OFFSET: prints where disk byte OFFSET of the dynamic VHD
# sits in its file (from the header's BAT; the block's bitmap comes first).
file_offset() {
    python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read(); off = int(sys.argv[2])
hdr = struct.unpack(">Q", d[16:24])[0]
bat, = struct.unpack(">Q", d[hdr + 16:hdr + 24]); bs, = struct.unpack(">I", d[hdr + 32:hdr + 36])
entry, = struct.unpack(">I", d[bat + 4 * (off // bs):bat + 4 * (off // bs) + 4])
print((entry + ((bs // 512 + 7) // 8 + 511) // 512) * 512 + off % bs)' "$@"
}

# NTFS with 4096-byte sectors at 1 MiB (256 blocks of 4 KiB) of an MBR disk
# whose table counts 4 KiB sectors (one entry: type 7, LBA start, count).
truncate -s "${NTFS_MIB}M" "$NTFS" &&
    mkntfs -F -Q -q -L DATA4K -s 4096 -c 4096 -p 256 -H 255 -S 63 "$NTFS" >/dev/null 2>&1 &&
    ntfscp -q "$NTFS" "$W/p.vhd" /p.vhd || it_setup_fail "4K-sector NTFS volume"
rm -f "$DATA" && truncate -s $((NTFS_MIB + 2))M "$DATA" &&
    python3 -c 'import struct, sys
entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 7, b"\xfe\xff\xff", 256, int(sys.argv[2]) * 256)
with open(sys.argv[1], "r+b") as f:
    f.seek(446); f.write(entry); f.seek(510); f.write(b"\x55\xaa")' "$DATA" "$NTFS_MIB" &&
    dd if="$NTFS" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "4K-sector data disk"

at=$(file_offset "$W/p.vhd" "$MARK_OFFSET")
if [ $((at % 4096)) -ne 0 ]; then t_ok "4K: the payload's write lands at file offset $at, off the 4 KiB blocks"; else
    t_fail "4K: the payload's write lands off the 4 KiB blocks" "file offset $at"; fi

esp_create "$ESP" 64 || it_setup_fail "host ESP image"
it_conf_single "Dynamic VHD on 4K-sector NTFS" 'DATA4K:\p.vhd' persistent | esp_conf "$ESP"
IT_LIMIT=180 it_boot sector4k "$ESP"
it_expect "4K: the loader found the VHD on the 4K-sector NTFS volume" '^vhdboot: installed disk of 16 MiB \(persistent\)'
it_expect_guest "4K: the payload read its whole pattern through the misaligned extents: PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "4K: the payload's write succeeded" '^PAYLOAD: write ok'

dd if="$DATA" of="$W/ntfs-now.img" bs=1M skip=1 count="$NTFS_MIB" status=none &&
    ntfscat "$W/ntfs-now.img" /p.vhd >"$W/p-now.vhd" || it_setup_fail "reading the VHD back from NTFS"
t_eq "4K: the file on NTFS holds the $((MARK_SECTORS * 32)) markers" $((MARK_SECTORS * 32)) \
    "$("$VHDTOOL" read "$W/p-now.vhd" "$MARK_OFFSET" $((MARK_SECTORS * 512)) 2>/dev/null | grep -ao VHDBOOT-WRITE-OK | wc -l)"
# the whole disk, with the marker sectors taken from the original
"$VHDTOOL" read "$W/p-now.vhd" 0 "$(stat -c %s "$W/full.img")" >"$W/now.raw" 2>/dev/null &&
    dd if="$W/full.img" of="$W/now.raw" bs=512 seek="$P2_FIRST" skip="$P2_FIRST" count=$MARK_SECTORS conv=notrunc status=none
t_check "4K: every byte around the written sectors is unchanged" cmp -s "$W/now.raw" "$W/full.img"
t_check "4K: vhdtool check passes on the written file" "$VHDTOOL" check "$W/p-now.vhd"
t_check "4K: the NTFS volume is still consistent (ntfsfix -n)" ntfsfix -n "$W/ntfs-now.img"
exit $T_FAILED
