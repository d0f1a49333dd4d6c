#!/bin/bash
# The VhdbootDisk handoff variable under QEMU+OVMF. The guest's boot file is
# build/handoffcheck.efi, which prints the variable the loader set before
# starting it, then returns (a failed boot): the loader must delete the
# variable and return to its menu. Esc leaves the loader for the firmware's
# UEFI Shell, where dmpstore shows the variable is gone (a BLI variable the
# loader also set is the control that dmpstore sees volatile variables).
# The printed record is decoded on the host with vhdtool handoff: a 2-layer
# chain (differencing on a dynamic base) on the host ESP's GPT partition,
# write mode volatile, every path, UUID and the virtual size. A second boot
# (read-only) takes the base from a second disk with an MBR partition table:
# the base layer's record names its own volume (MBR signature, partition 1,
# start 2048, FAT) and its path there. A third boot (read-only) is a VHDX
# chain: a differencing VHDX over a fixed VHDX, named by disk type and
# DataWriteGuid.
. "$(dirname "$0")/lib.sh"
it_require_qemu
W=$T_TMP
GUID=8af2f81d-2f26-4a6a-a987-2576bc46e791
[ -s "$T_BUILD/handoffcheck.efi" ] || it_setup_fail "missing $T_BUILD/handoffcheck.efi (make test-build)"

guest_disk "$W/guest.img" 16 6 &&
    mcopy -i "$W/guest.img@@1M" "$T_BUILD/handoffcheck.efi" ::/EFI/BOOT/BOOTX64.EFI || it_setup_fail "guest disk"
vhd_from_raw "$W/guest.img" "$W/base.vhd" dynamic || it_setup_fail "base VHD"
"$VHDTOOL" create diff --parent "$W/base.vhd" "$W/child.vhd" >/dev/null || it_setup_fail "child VHD"
esp_create "$W/esp.img" 64 || it_setup_fail "host ESP"
esp_put "$W/esp.img" "$W/base.vhd" /vms/lab/base.vhd && esp_put "$W/esp.img" "$W/child.vhd" "/vms/lab/my child.vhd" ||
    it_setup_fail "VHDs on the ESP"
it_conf_single "Handoff check" '\vms\lab\my child.vhd' volatile | esp_conf "$W/esp.img" || it_setup_fail "vhdboot.conf"
PARTUUID=$(sgdisk -i 1 "$W/esp.img" | awk '/^Partition unique GUID:/ { print tolower($4) }')
DISKUUID=$(sgdisk -p "$W/esp.img" | awk '/^Disk identifier \(GUID\):/ { print tolower($4) }')

# --- boot 2: the base on another disk (MBR, FAT), the child on the host ESP ---
# An MBR disk written by hand (signature 0x1badcafe, one FAT partition at 2048).
python3 - "$W/mbr.img" <<'PY' || it_setup_fail "MBR disk"
import struct, sys
size = 48 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    mbr = bytearray(512)
    struct.pack_into("<I", mbr, 440, 0x1BADCAFE)
    struct.pack_into("<B3sB3sII", mbr, 446, 0, b"\xfe\xff\xff", 0x0C, b"\xfe\xff\xff", 2048, size // 512 - 2048)
    mbr[510:512] = b"\x55\xaa"
    f.write(mbr)
PY
mkfs.vfat -F 32 -n OTHERDISK --offset 2048 "$W/mbr.img" $(((48 - 1) * 1024)) >/dev/null 2>&1 &&
    mmd -i "$W/mbr.img@@1M" ::/store && mcopy -i "$W/mbr.img@@1M" "$W/base.vhd" ::/store/base.vhd ||
    it_setup_fail "base on the MBR disk"
# the child's relative locator ..\store\base.vhd, from \vms\child2.vhd, names
# \store\base.vhd: not on the child's volume, found on the other disk
mkdir -p "$W/store" "$W/vms" && cp "$W/base.vhd" "$W/store/base.vhd" &&
    "$VHDTOOL" create diff --parent "$W/store/base.vhd" "$W/vms/child2.vhd" >/dev/null ||
    it_setup_fail "child of the base in \\store"
cp "$W/esp.img" "$W/esp2.img" && esp_put "$W/esp2.img" "$W/vms/child2.vhd" /vms/child2.vhd &&
    it_conf_single "Handoff check 2" '\vms\child2.vhd' readonly | esp_conf "$W/esp2.img" || it_setup_fail "ESP 2"
IT_STOP='X64 Exception Type|HANDOFF: DONE'
IT_LIMIT=240
QEMU_DISK2=$W/mbr.img it_boot handoff-var-mbr "$W/esp2.img"
it_expect "two volumes: the boot file saw VhdbootDisk" '^HANDOFF: attributes 0x6 bytes [0-9]+'
grep -E '^HANDOFF-HEX: ' "$IT_LOG" | sed 's/^HANDOFF-HEX: //' | tr -d '\n ' | xxd -r -p >"$W/record2"
{ printf '\x06\x00\x00\x00'; cat "$W/record2"; } >"$W/efivar2"
"$VHDTOOL" handoff --efivar "$W/efivar2" >"$W/vars2" 2>"$W/err2" && t_ok "two volumes: the record decodes" ||
    t_fail "two volumes: the record decodes" "$(cat "$W/err2")"
(
    eval "$(cat "$W/vars2")"
    t_eq "two volumes: mode" readonly "$VHDBOOT_MODE"
    t_eq "two volumes: top layer on the host ESP" "/vms/child2.vhd $PARTUUID" "$VHDBOOT_LAYER_0_PATH $VHDBOOT_HOST_PARTUUID"
    t_eq "two volumes: the base's path on its own volume" /store/base.vhd "$VHDBOOT_LAYER_1_PATH"
    t_eq "two volumes: the base's volume (MBR signature-partition, as Linux names it)" "1badcafe-01 fat" \
        "${VHDBOOT_LAYER_1_PARTUUID:-} ${VHDBOOT_LAYER_1_FS:-}"
    exit $T_FAILED
) || T_FAILED=1
"$VHDTOOL" handoff --efivar "$W/efivar2" --text >"$W/text2"
t_grep "two volumes: the text form names the MBR volume with its start" ':/store/base.vhd:fat:mbr:1badcafe:1:2048$' "$W/text2"

# --- boot 3: a VHDX chain (differencing VHDX over a fixed VHDX) ----------------
# The record names VHDX layers by their disk type (the handoff has no format
# field: vhdtool attach tells the formats apart by content) and by the
# DataWriteGuid each had when the loader opened it (read-only: unchanged).
mkdir -p "$W/x" && "$VHDTOOL" convert "$W/guest.img" "$W/x/base.vhdx" -O vhdx-fixed >/dev/null &&
    "$VHDTOOL" create diff --parent "$W/x/base.vhdx" "$W/x/child.vhdx" >/dev/null || it_setup_fail "VHDX chain"
cp "$W/esp.img" "$W/esp3.img" && esp_put "$W/esp3.img" "$W/x/base.vhdx" /vms/x/base.vhdx &&
    esp_put "$W/esp3.img" "$W/x/child.vhdx" /vms/x/child.vhdx &&
    it_conf_single "Handoff check 3" '\vms\x\child.vhdx' readonly | esp_conf "$W/esp3.img" || it_setup_fail "ESP 3"
IT_STOP='X64 Exception Type|HANDOFF: DONE'
IT_LIMIT=240
it_boot handoff-var-vhdx "$W/esp3.img"
it_expect "VHDX: the boot file saw VhdbootDisk" '^HANDOFF: attributes 0x6 bytes [0-9]+'
grep -E '^HANDOFF-HEX: ' "$IT_LOG" | sed 's/^HANDOFF-HEX: //' | tr -d '\n ' | xxd -r -p >"$W/record3"
{ printf '\x06\x00\x00\x00'; cat "$W/record3"; } >"$W/efivar3"
"$VHDTOOL" handoff --efivar "$W/efivar3" >"$W/vars3" 2>"$W/err3" && t_ok "VHDX: the record decodes" ||
    t_fail "VHDX: the record decodes" "$(cat "$W/err3")"
dwg() { "$VHDTOOL" info "$1" | awk '/^DataWriteGuid:/ { print $2; exit }'; }
XBASE_UUID=$(dwg "$W/x/base.vhdx")
XCHILD_UUID=$(dwg "$W/x/child.vhdx")
(
    eval "$(cat "$W/vars3")"
    t_eq "VHDX: 2 layers" 2 "$VHDBOOT_LAYERS"
    t_eq "VHDX: top layer path and type" "/vms/x/child.vhdx differencing" "$VHDBOOT_LAYER_0_PATH $VHDBOOT_LAYER_0_TYPE"
    t_eq "VHDX: base path and type (a fixed VHDX)" "/vms/x/base.vhdx fixed" "$VHDBOOT_LAYER_1_PATH $VHDBOOT_LAYER_1_TYPE"
    t_eq "VHDX: layer UUIDs are the DataWriteGuids" "$XCHILD_UUID $XBASE_UUID" "$VHDBOOT_LAYER_0_UUID $VHDBOOT_LAYER_1_UUID"
    t_eq "VHDX: virtual size" "$(stat -c %s "$W/guest.img")" "$VHDBOOT_SIZE"
    exit $T_FAILED
) || T_FAILED=1
[ -n "$XBASE_UUID" ] && [ "$XBASE_UUID" != "$XCHILD_UUID" ] && t_ok "VHDX: the two DataWriteGuids are known and differ" ||
    t_fail "VHDX: the two DataWriteGuids are known and differ" "$XBASE_UUID $XCHILD_UUID"

# --- boot 1 (below): one volume, then the deletion after a failed boot ---------
IT_STOP='X64 Exception Type|dmpstore: done'
IT_LIMIT=240
it_boot handoff-var "$W/esp.img" \
    '^HANDOFF: DONE' '' \
    '1:vhdboot: returning to menu' '\e' \
    '^Shell> ' 'dmpstore VhdbootDisk -guid 8af2f81d-2f26-4a6a-a987-2576bc46e791\r' \
    '2:^Shell> ' 'dmpstore LoaderEntries -guid 4a67b082-0a4c-41cf-b6c7-440b29bb8c4f\r' \
    '3:^Shell> ' 'echo dmpstore: done\r'

it_expect "the guest's boot file saw VhdbootDisk, volatile (attributes 0x6)" '^HANDOFF: attributes 0x6 bytes [0-9]+'
grep -E '^HANDOFF-HEX: ' "$IT_LOG" | sed 's/^HANDOFF-HEX: //' | tr -d '\n ' | xxd -r -p >"$W/record"
{ printf '\x06\x00\x00\x00'; cat "$W/record"; } >"$W/efivar"
if "$VHDTOOL" handoff --efivar "$W/efivar" >"$W/vars" 2>"$W/err"; then
    t_ok "vhdtool handoff decodes the record the loader set"
else
    t_fail "vhdtool handoff decodes the record the loader set" "$(cat "$W/err")"
fi
BASE_UUID=$("$VHDTOOL" info "$W/base.vhd" | awk '/^uuid:/ { print $2; exit }')
CHILD_UUID=$("$VHDTOOL" info "$W/child.vhd" | awk '/^uuid:/ { print $2; exit }')
SIZE=$("$VHDTOOL" info "$W/base.vhd" | awk '/^disk size:/ { print $3; exit }')
(
    eval "$(cat "$W/vars")"
    t_eq "record: host file system" fat "$VHDBOOT_HOST_FS"
    t_eq "record: host partition GUID (as sgdisk shows it)" "$PARTUUID" "$VHDBOOT_HOST_PARTUUID"
    t_eq "record: host disk GUID" "$DISKUUID" "$VHDBOOT_HOST_DISKUUID"
    t_eq "record: write mode" volatile "$VHDBOOT_MODE"
    t_eq "record: 2 layers" 2 "$VHDBOOT_LAYERS"
    t_eq "record: top layer path" "/vms/lab/my child.vhd" "$VHDBOOT_LAYER_0_PATH"
    t_eq "record: top layer type" differencing "$VHDBOOT_LAYER_0_TYPE"
    t_eq "record: top layer UUID" "$CHILD_UUID" "$VHDBOOT_LAYER_0_UUID"
    t_eq "record: base path (found next to the child)" /vms/lab/base.vhd "$VHDBOOT_LAYER_1_PATH"
    t_eq "record: base type" dynamic "$VHDBOOT_LAYER_1_TYPE"
    t_eq "record: base UUID" "$BASE_UUID" "$VHDBOOT_LAYER_1_UUID"
    t_eq "record: the base is on the host volume (no own volume)" "" "${VHDBOOT_LAYER_1_PARTUUID:-}"
    t_eq "record: virtual size" "$SIZE" "$VHDBOOT_SIZE"
    t_eq "record: virtual disk UUID = top layer's" "$CHILD_UUID" "$VHDBOOT_UUID"
    exit $T_FAILED
) || T_FAILED=1
it_expect "the failed boot returned to the menu" '^vhdboot: returning to menu'
# dmpstore's answer for each name, up to the next prompt
segment() { awk -v n="$1" '/^Shell> /{ k++ } k == n' "$IT_LOG"; }
if segment 1 | grep -q 'VhdbootDisk'; then
    if segment 1 | grep -qiE 'not found|no matching'; then t_ok "after the failed boot VhdbootDisk is deleted"; else
        t_fail "after the failed boot VhdbootDisk is deleted" "$(segment 1 | head -n 8)"; fi
else
    t_fail "the firmware shell ran dmpstore VhdbootDisk" "$(tail -n 15 "$IT_LOG")"
fi
if segment 2 | grep -qE 'Variable .*LoaderEntries'; then t_ok "control: dmpstore shows the loader's volatile BLI variable"; else
    t_fail "control: dmpstore shows the loader's volatile BLI variable" "$(segment 2 | head -n 8)"; fi
exit $T_FAILED
