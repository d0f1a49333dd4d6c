#!/bin/bash
# The full-screen menu, lab control through EFI variables, and discovery,
# driven over the serial console. Four payload boots (no Linux):
#   1. (fresh variable store V) Down + n: "Second" becomes the one-shot next
#      boot; Down + d: "Third" becomes the default; Home, i shows entry 1's
#      chain; e, w, w switches entry 1 (configured persistent) to readonly for
#      this boot; Enter boots it: the payload's writes fail ("PAYLOAD: write
#      protected") and the VHD file is unchanged.
#   2. (same V) no key: the one-shot "Second" is highlighted and boots when the
#      countdown ends; the loader deletes VhdbootNext.
#   3. (same V) no key: the one-shot is gone; the stored default "Third" boots;
#      its inner EFI file is build/blicheck.efi, which prints the Boot Loader
#      Interface variables vhdboot published.
#   4. (fresh V, an ESP without vhdboot.conf) discovery lists the VHDs in
#      \images and \vms, hides the base of a differencing chain until b is
#      pressed, and "2" boots the 2-layer chain.
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img
VARS=$W/vars.fd
GUID=8af2f81d-2f26-4a6a-a987-2576bc46e791

guest_payload "$W/guest.img" || it_setup_fail "payload guest disk"
[ -s "$T_BUILD/blicheck.efi" ] || it_setup_fail "missing $T_BUILD/blicheck.efi (make test-build)"
mcopy -i "$W/guest.img@@1M" "$T_BUILD/blicheck.efi" ::/EFI/BOOT/BLICHECK.EFI || it_setup_fail "blicheck on the guest"
vhd_from_raw "$W/guest.img" "$W/good.vhd" dynamic || it_setup_fail "payload VHD"
esp_create "$ESP" 96 || it_setup_fail "host ESP image"
esp_put "$ESP" "$W/good.vhd" /vms/good.vhd || it_setup_fail "copy good.vhd"
SHA_GOOD=$(esp_sha "$ESP" /vms/good.vhd)
esp_conf "$ESP" <<'EOF2' || it_setup_fail "vhdboot.conf"
timeout 3
default one
entry one
  title First payload
  vhd \vms\good.vhd
  write persistent
entry two
  title Second payload
  vhd \vms\good.vhd
  write volatile
entry three
  title Third payload
  vhd \vms\good.vhd
  write volatile
  efi \EFI\BOOT\BLICHECK.EFI
EOF2
ESP_PARTUUID=$(sgdisk -i 1 "$ESP" | awk '/^Partition unique GUID:/ { print tolower($4) }')

# vars_has NAME VALUE: the variable store V holds NAME's UTF-16 name followed
# (within its record) by VALUE in UTF-16LE: a non-volatile variable was written.
vars_has() {
    python3 - "$VARS" "$1" "$2" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
name = sys.argv[2].encode('utf-16-le') + b'\0\0'
value = sys.argv[3].encode('utf-16-le')
pos = data.rfind(name)
sys.exit(0 if pos >= 0 and data.find(value, pos + len(name), pos + len(name) + 64) == pos + len(name) else 1)
PY
}

# --- boot 1: keys over serial -------------------------------------------------
export QEMU_VARS_FILE=$VARS
IT_LIMIT=150
it_boot menu-keys "$ESP" \
    'booting First payload in [0-9]+ s' '\e[B' \
    '1:^> 2\. Second payload' 'n' \
    'the next boot \(once\) is now' '\e[B' \
    '1:^> 3\. Third payload' 'd' \
    'the default entry is now' '\e[H' \
    '2:^> 1\. First payload' 'i' \
    'press a key to return to the menu' ' ' \
    '3:^> 1\. First payload' 'e' \
    '^vhdboot edit: First payload' 'w' \
    'write mode: volatile' 'w' \
    'write mode: readonly' '\r'
it_expect "menu: title line" '^vhdboot menu'
it_expect "menu: the default entry is highlighted with a countdown" '^> 1\. First payload'
it_expect "menu: the other entries are listed" '^  3\. Third payload'
it_expect "menu: a help line lists the keys" 'e edit, d default, i info'
it_expect "menu: Down moves the highlight" '^> 2\. Second payload'
it_expect "menu: n stores the one-shot next boot" "the next boot \(once\) is now 'Second payload' \(id two\)"
it_expect "menu: d stores the default" "the default entry is now 'Third payload' \(id three\)"
it_expect "menu: i shows the chain's layers" '^  layer 1: \\vms\\good\.vhd'
it_expect "menu: i shows type, size and UUID" '^    dynamic, 16 MiB, UUID [0-9a-f]{8}-[0-9a-f]{4}-'
it_expect "menu: e shows the edit screen" '^vhdboot edit: First payload \(this boot only\)'
it_expect "menu: the edited entry boots" '^vhdboot: selected 1\. First payload'
it_expect "edit: the disk is installed readonly" 'vhdboot: installed disk of 16 MiB \(readonly\)'
it_expect_guest "edit: the payload's writes fail: PAYLOAD: write protected" '^PAYLOAD: write protected'
t_eq "edit: the persistent entry's VHD is unchanged after the readonly boot" "$SHA_GOOD" "$(esp_sha "$ESP" /vms/good.vhd)"
if vars_has VhdbootDefault three; then t_ok "VhdbootDefault = three is in the non-volatile store"; else
    t_fail "VhdbootDefault = three is in the non-volatile store"; fi
if vars_has VhdbootNext two; then t_ok "VhdbootNext = two is in the non-volatile store"; else
    t_fail "VhdbootNext = two is in the non-volatile store"; fi

# --- boot 2: the one-shot ---------------------------------------------------------
it_boot menu-oneshot "$ESP"
it_expect "one-shot: the loader reads VhdbootNext" "^vhdboot: VhdbootNext selects entry 'two'"
it_expect "one-shot: its entry is highlighted" '^> 2\. Second payload'
it_expect "one-shot: countdown for it" 'booting Second payload in [0-9]+ s'
it_expect "one-shot: the countdown ends and it boots" '^vhdboot: selected 2\. Second payload'
it_expect_guest "one-shot: PAYLOAD: PASS" '^PAYLOAD: PASS'

# --- boot 3: one-shot cleared, the default stays --------------------------------
it_boot menu-default "$ESP"
it_reject "default: VhdbootNext was cleared after one use" 'VhdbootNext'
it_expect "default: the loader reads VhdbootDefault" "^vhdboot: VhdbootDefault selects entry 'three'"
it_expect "default: times out to the stored default" '^vhdboot: selected 3\. Third payload'
it_expect "default: the volatile entry's disk" 'vhdboot: installed disk of 16 MiB \(volatile\)'
it_expect_guest "BLI: the inner EFI file ran and read the variables" '^BLI: DONE'
it_expect "BLI: LoaderEntrySelected is the booted entry (volatile, NUL-terminated)" '^BLI: LoaderEntrySelected=three \(attributes 0x6, NUL-terminated\)'
it_expect "BLI: LoaderEntries lists every entry id" '^BLI: LoaderEntries=one\|two\|three \(attributes 0x6'
it_expect "BLI: LoaderInfo names vhdboot" '^BLI: LoaderInfo=vhdboot [^ ]+ \(attributes 0x6, NUL'
it_expect "BLI: LoaderDevicePartUUID is the host ESP's partition GUID" "^BLI: LoaderDevicePartUUID=${ESP_PARTUUID:-none} "
it_expect "BLI: LoaderFirmwareType" '^BLI: LoaderFirmwareType=UEFI [0-9]'
init_us=$(sed -n 's/^BLI: LoaderTimeInitUSec=\([0-9]*\) .*/\1/p' "$IT_LOG")
exec_us=$(sed -n 's/^BLI: LoaderTimeExecUSec=\([0-9]*\) .*/\1/p' "$IT_LOG")
if [ -n "$init_us" ] && [ -n "$exec_us" ] && [ "$init_us" -gt 0 ] && [ "$exec_us" -gt "$init_us" ]; then
    t_ok "BLI: LoaderTimeInitUSec < LoaderTimeExecUSec ($init_us < $exec_us)"
else t_fail "BLI: LoaderTimeInitUSec < LoaderTimeExecUSec" "init [$init_us] exec [$exec_us]"; fi
unset QEMU_VARS_FILE

# --- boot 4: discovery ------------------------------------------------------------
DESP=$W/desp.img
mkdir -p "$W/chain"
cp "$W/good.vhd" "$W/chain/base.vhd" &&
    "$VHDTOOL" create diff --parent "$W/chain/base.vhd" "$W/chain/child.vhd" >/dev/null &&
    vhd_from_raw "$W/guest.img" "$W/other.vhd" fixed || it_setup_fail "VHDs for discovery"
esp_create "$DESP" 96 || it_setup_fail "discovery ESP image"
esp_put "$DESP" "$W/chain/base.vhd" /vms/base.vhd &&
    esp_put "$DESP" "$W/chain/child.vhd" /vms/child.vhd &&
    esp_put "$DESP" "$W/other.vhd" /images/other.vhd &&
    esp_put "$DESP" "$W/other.vhd" /elsewhere/ignored.vhd || it_setup_fail "copy VHDs for discovery"
it_boot menu-discovery "$DESP" \
    'booting .* in [0-9]+ s' 'b' \
    'showing differencing bases' 'b' \
    'hiding differencing bases' '2'
it_expect "discovery: without vhdboot.conf the loader discovers" '^vhdboot: no vhdboot.conf next to the loader: discovering VHDs'
it_expect "discovery: finds the three VHDs in \\images and \\vms" '^vhdboot: discovery found 3 VHD'
it_expect "discovery: lists \\images\\other.vhd first, with size, type and depth" '^> 1\. \\images\\other\.vhd  \(16 MiB fixed, 1 layer\)'
it_expect "discovery: the child shows its chain depth" '^  2\. \\vms\\child\.vhd  \(16 MiB differencing, 2 layers\)'
it_expect "discovery: b shows the base" '^  2\. \\vms\\base\.vhd  \(base, 16 MiB dynamic, 1 layer\)'
it_reject "discovery: folders outside the list are not searched" 'ignored\.vhd'
n_base=$(grep -c 'vms\\base\.vhd' "$IT_LOG")
t_eq "discovery: the base is listed only while b is on" 1 "$n_base"
it_expect "discovery: 2 boots the chain" '^vhdboot: selected 2\. \\vms\\child\.vhd'
it_expect "discovery: the chain has 2 layers" 'vhdboot: opened chain of 2 layer'
it_expect_guest "discovery: PAYLOAD: PASS" '^PAYLOAD: PASS'

# --- boot 5: discovery on NTFS, LoaderEntryOneShot, chain details on NTFS --------
# A second disk holds an NTFS partition "VMDATA" with \vms\x.vhd (differencing)
# and its base \vms\base.vhd; the guest's boot file is blicheck. The ESP has
# no vhdboot.conf and \vms\first.vhd; the loader is started from the UEFI
# Shell, whose startup.nsh first sets LoaderEntryOneShot as
# `bootctl set-oneshot VMDATA:vms/x.vhd` would (NUL-terminated UTF-16 under
# the Boot Loader Interface GUID).
NTFS_BUILD=$T_BUILD/tests-tools/ntfs_build
t_need_tools mkntfs ntfscp
[ -x "$NTFS_BUILD" ] || t_need "$NTFS_BUILD not built (make test-build, after ntfs-3g-dev)"
NESP=$W/nesp.img DATA=$W/ndata.img NTFS=$W/ntfs.img
mkdir -p "$W/nt"
cp "$W/guest.img" "$W/nt/guest.img" &&
    mcopy -o -i "$W/nt/guest.img@@1M" "$T_BUILD/blicheck.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    vhd_from_raw "$W/nt/guest.img" "$W/nt/base.vhd" dynamic &&
    "$VHDTOOL" create diff --parent "$W/nt/base.vhd" "$W/nt/x.vhd" >/dev/null || it_setup_fail "NTFS-discovery VHDs"
truncate -s 40M "$NTFS" && mkntfs -F -Q -q -L VMDATA -c 4096 -p 2048 "$NTFS" >/dev/null 2>&1 &&
    printf 'mkdir /vms\n' | "$NTFS_BUILD" "$NTFS" &&
    ntfscp -q "$NTFS" "$W/nt/base.vhd" /vms/base.vhd && ntfscp -q "$NTFS" "$W/nt/x.vhd" /vms/x.vhd &&
    truncate -s 42M "$DATA" && sgdisk -n 1:2048:+40M -t 1:0700 "$DATA" >/dev/null &&
    dd if="$NTFS" of="$DATA" bs=1M seek=1 conv=notrunc status=none || it_setup_fail "NTFS second disk"
esp_create "$NESP" 64 && esp_del "$NESP" /EFI/BOOT/BOOTX64.EFI &&
    esp_put "$NESP" "$T_BUILD/vhdboot.efi" /EFI/vhdboot/vhdboot.efi &&
    esp_put "$NESP" "$W/good.vhd" /vms/first.vhd || it_setup_fail "ESP for NTFS discovery"
printf 'fs0:\r\nsetvar LoaderEntryOneShot -guid 4a67b082-0a4c-41cf-b6c7-440b29bb8c4f -nv -bs -rt =L"VMDATA:vms/x.vhd"\r\n\\EFI\\vhdboot\\vhdboot.efi\r\n' |
    mcopy -i "$NESP@@1M" - ::/startup.nsh || it_setup_fail "startup.nsh"
export QEMU_DISK2=$DATA
IT_LIMIT=120
IT_STOP='vhdboot: returning to menu|Kernel panic|PAYLOAD: FAIL|X64 Exception Type' # the Shell's prompt is expected here
it_boot menu-ntfs "$NESP" \
    'Press ESC in [0-9]+ seconds' '\r' \
    'booting .* in [0-9]+ s' 'i' \
    'press a key to return to the menu' ' ' \
    '2:^> 2\. VMDATA:' '\r'
unset QEMU_DISK2
it_expect "NTFS discovery: finds the VHDs on FAT and NTFS (base included in the count)" '^vhdboot: discovery found 3 VHD'
it_expect "NTFS discovery: the ESP's VHD is listed first" '^  1\. \\vms\\first\.vhd  \(16 MiB dynamic, 1 layer\)'
it_expect "NTFS discovery: the NTFS child is listed with its chain depth" '^> 2\. VMDATA:\\vms\\x\.vhd  \(16 MiB differencing, 2 layers\)'
it_reject "NTFS discovery: the NTFS base is hidden" 'VMDATA:\\vms\\base\.vhd  \('
it_expect "LoaderEntryOneShot (as bootctl set-oneshot writes it) selects the entry" "^vhdboot: LoaderEntryOneShot selects entry 'VMDATA:vms/x\.vhd'"
it_expect "NTFS i: the chain details open on NTFS" '^chain of 2 layer\(s\), write mode persistent, on NTFS volume .VMDATA.'
it_expect "NTFS i: the base layer is listed" '^  layer 2: \\vms\\base\.vhd'
it_expect "NTFS discovery: the one-shot entry boots" '^vhdboot: selected 2\. VMDATA:\\vms\\x\.vhd'
it_expect_guest "NTFS discovery: the chain's boot file ran (BLI: DONE)" '^BLI: DONE'
it_expect "BLI: LoaderEntryOneShot was deleted when read" '^BLI: LoaderEntryOneShot absent'
it_expect "BLI: LoaderFeatures says entry default and one-shot are honoured" '^BLI: LoaderFeatures=0xc \(attributes 0x6\)'
it_expect "BLI: LoaderEntrySelected is the discovered NTFS entry" '^BLI: LoaderEntrySelected=VMDATA:vms/x\.vhd '
exit $T_FAILED
