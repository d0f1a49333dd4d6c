#!/bin/bash
# The in-memory FAT disk vhdboot starts Windows' boot manager from
# (fs/fat_build.c), written by `vhdtool bcd --disk`: independent readers
# (fsck.fat, mtools) find a clean FAT16 volume holding exactly the boot
# manager and the BCD that was generated with it.
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools fsck.fat mdir mcopy python3
head -c 3000000 /dev/urandom >"$T_TMP/bootmgfw.efi"

t_check "bcd --disk writes the disk" "$VHDTOOL" bcd --vhd 'mbr:cafe0001:1M:\vhd\w.vhd' --out "$T_TMP/BCD" \
    --disk "$T_TMP/disk.img" --bootmgr "$T_TMP/bootmgfw.efi"
python3 - "$T_TMP/disk.img" >"$T_TMP/table" <<'PY'
import os, struct, sys
mbr = open(sys.argv[1], "rb").read(512)
for i in range(4):
    boot, ptype, start, count = struct.unpack_from("<B3xB3xII", mbr, 446 + 16 * i)
    if ptype:
        print("part%d boot=%#x type=%#x start=%d end=%d disk=%d" % (i + 1, boot, ptype, start, start + count, os.path.getsize(sys.argv[1]) // 512))
PY
t_grep "MBR: one FAT16 partition from sector 64 to the end" '^part1 boot=0x80 type=0xe start=64 end=([0-9]+) disk=\1$' "$T_TMP/table"
dd if="$T_TMP/disk.img" of="$T_TMP/part.img" bs=512 skip=64 2>/dev/null
fsck.fat -n "$T_TMP/part.img" >"$T_TMP/fsck" 2>&1; rc=$?
[ $rc -eq 0 ] && t_ok "fsck.fat: the volume is clean" || t_fail "fsck.fat: the volume is clean" "$(cat "$T_TMP/fsck")"
mdir -i "$T_TMP/disk.img@@32768" -b ::/EFI/Microsoft/Boot >"$T_TMP/dir" 2>&1
t_grep "mtools lists bootmgfw.efi by its long name" '::/EFI/Microsoft/Boot/bootmgfw.efi$' "$T_TMP/dir"
t_grep "mtools lists BCD" '::/EFI/Microsoft/Boot/BCD$' "$T_TMP/dir"
mcopy -n -i "$T_TMP/disk.img@@32768" ::/EFI/Microsoft/Boot/bootmgfw.efi "$T_TMP/out.efi" 2>/dev/null
cmp -s "$T_TMP/out.efi" "$T_TMP/bootmgfw.efi" && t_ok "bootmgfw.efi reads back byte for byte" || t_fail "bootmgfw.efi reads back byte for byte"
mcopy -n -i "$T_TMP/disk.img@@32768" ::/EFI/Microsoft/Boot/BCD "$T_TMP/out.bcd" 2>/dev/null
cmp -s "$T_TMP/out.bcd" "$T_TMP/BCD" && t_ok "the BCD on the disk is the one written by --out" || t_fail "the BCD on the disk is the one written by --out"
"$VHDTOOL" bcd --vhd 'mbr:1:1M:\x.vhd' --out "$T_TMP/x" --disk "$T_TMP/y" >/dev/null 2>&1; t_eq "--disk without --bootmgr exits 2" 2 $?
exit $T_FAILED
