#!/bin/bash
# vhdboot started from the UEFI Shell, not as the removable-media boot file:
# the host ESP holds the loader as \EFI\vhdboot\vhdboot.efi (so OVMF falls
# back to its Shell) and a \startup.nsh that runs
#   1. vhdboot.efi \vms\missing.vhd   a VHD path as load option, file absent:
#      error naming the file, back to the menu; Esc leaves vhdboot and the
#      Shell goes on with the next line;
#   2. vhdboot.efi                   no options: reads \EFI\vhdboot\vhdboot.conf
#      next to the loader, whose entry names its VHD relative to the
#      loader's folder (disks\rel.vhd); the payload must PASS.
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img
guest_payload "$W/good.img" || it_setup_fail "payload guest disk"
t_check "payload VHD" vhd_from_raw "$W/good.img" "$W/good.vhd" dynamic

# A host ESP without \EFI\BOOT\BOOTX64.EFI: the loader lives in its own folder.
esp_create "$ESP" 64 || it_setup_fail "host ESP image"
esp_del "$ESP" /EFI/BOOT/BOOTX64.EFI || it_setup_fail "remove the removable-media loader"
esp_put "$ESP" "$T_BUILD/vhdboot.efi" /EFI/vhdboot/vhdboot.efi &&
    esp_put "$ESP" "$W/good.vhd" /EFI/vhdboot/disks/rel.vhd || it_setup_fail "copy the loader and the VHD"
printf 'timeout 0\r\ndefault rel\r\nentry rel\r\n  title Relative to the loader\r\n  vhd disks\\rel.vhd\r\n  write readonly\r\n' |
    mcopy -i "$ESP@@1M" - ::/EFI/vhdboot/vhdboot.conf || it_setup_fail "vhdboot.conf next to the loader"
printf 'fs0:\r\n\\EFI\\vhdboot\\vhdboot.efi \\vms\\missing.vhd\r\n\\EFI\\vhdboot\\vhdboot.efi\r\n' |
    mcopy -i "$ESP@@1M" - ::/startup.nsh || it_setup_fail "startup.nsh"

IT_STOP='PAYLOAD: FAIL|X64 Exception Type|Kernel panic'
IT_LIMIT=90
it_boot shell-options "$ESP" \
    'Press ESC in [0-9]+ seconds' '\r' \
    '1:vhdboot: returning to menu' '\e'

# attempt N: the console from the N-th "vhdboot <version>" banner up to the next.
attempt() { awk -v n="$1" '/^vhdboot [^:]/ && !/^vhdboot menu/ { k++ } k == n' "$IT_LOG"; }
a1=$(attempt 1) a2=$(attempt 2)
if grep -E '^vhdboot: error: ' <<<"$a1" | grep -qE 'missing\.vhd.*not found|not found.*missing\.vhd'; then
    t_ok "load option: a missing VHD is reported by name"
else
    t_fail "load option: a missing VHD is reported by name"; sed 's/^/#   /' <<<"$a1" | tail -n 15
fi
if grep -qE "$IT_GUEST_OUTPUT|^vhdboot: starting " <<<"$a1"; then t_fail "load option, missing VHD: nothing was started"; else
    t_ok "load option, missing VHD: nothing was started"; fi
if grep -q '^vhdboot menu' <<<"${a1#*returning to menu}" && [ -n "$a2" ]; then
    t_ok "Esc in the menu leaves vhdboot (the Shell ran the next line)"
else
    t_fail "Esc in the menu leaves vhdboot (the Shell ran the next line)"; tail -n 15 "$IT_LOG" | sed 's/^/#   /'
fi
if grep -qE '^vhdboot: opening .*disks\\rel\.vhd' <<<"$a2"; then t_ok "no options: vhdboot.conf next to the loader, relative VHD path"; else
    t_fail "no options: vhdboot.conf next to the loader, relative VHD path"; sed 's/^/#   /' <<<"$a2" | head -n 15
fi
it_expect "no options: readonly entry from that config" '^vhdboot: installed disk of 16 MiB \(readonly\)'
it_expect_guest "no options: PAYLOAD: PASS" '^PAYLOAD: PASS'
exit $T_FAILED
