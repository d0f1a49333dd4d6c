#!/bin/bash
# The VhdbootDisk handoff variable under QEMU+OVMF. The guest's boot file is
# build/handoffcheck.efi, which prints the variable the loader set before
# starting it, then returns (a failed boot): the loader must delete the
# variable and return to its menu. Esc leaves the loader for the firmware's
# UEFI Shell, where dmpstore shows the variable is gone (a BLI variable the
# loader also set is the control that dmpstore sees volatile variables).
# The printed record is decoded on the host with vhdtool handoff: a 2-layer
# chain (differencing on a dynamic base) on the host ESP's GPT partition,
# write mode volatile, every path, UUID and the virtual size.
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
