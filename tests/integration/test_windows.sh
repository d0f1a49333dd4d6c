#!/bin/bash
# Windows in a VHD, with a test app (build/bcdcheck.efi) posing as Windows'
# boot manager. The host: the usual FAT32 ESP with vhdboot, and a second GPT
# disk whose NTFS partition "DATA" holds two VHDs:
#   win-esp.vhd   GPT; its ESP holds \EFI\Microsoft\Boot\bootmgfw.efi (the
#                 app), a stale BCD, Fonts\wgl4_boot.ttf, en-US\bootmgfw.efi.mui
#   win-ntfs.vhd  MBR, one NTFS partition prepared for native boot:
#                 \Windows\Boot\EFI\bootmgfw.efi (the app) + en-US\..mui,
#                 \Windows\Boot\Fonts\wgl4_boot.ttf, \Windows\System32\winload.efi
# Boots:
#   esp     vhdboot finds bootmgfw on the VHD's ESP, builds the BCD and the FAT
#           disk, starts the app from it; the app reads the BCD from its own
#           device, finds the host partition the VHD device names (by GPT disk
#           and partition GUIDs, which must be sgdisk's) and the VHD file on it
#   ntfs    the same from the single NTFS partition layout
#   fathost the same VHD copied to the FAT ESP: refused (Windows needs NTFS)
#   locator a differencing child whose parent only vhdboot's search finds: warned
#   vhdx    a 3-layer differencing VHDX chain (.vhdx files) on DATA: the BCD
#           names the .vhdx, the app passes, one locator warning (VHDX keys)
#   secure  Secure Boot on, vhdboot and the app signed: the app still passes
. "$(dirname "$0")/lib.sh"
it_require_qemu
NTFS_BUILD=$T_BUILD/tests-tools/ntfs_build
t_need_tools mkntfs ntfscp sgdisk sbsign openssl
[ -x "$NTFS_BUILD" ] || t_need "$NTFS_BUILD not built (make test-build, after ntfs-3g-dev)"
[ -s "$T_BUILD/bcdcheck.efi" ] || t_need "$T_BUILD/bcdcheck.efi not built (make test-build)"
W=$T_TMP
APP=$T_BUILD/bcdcheck.efi
IT_STOP="$IT_STOP|BCDCHECK: FAIL"
head -c 4000 /dev/urandom >"$W/font.ttf"
head -c 3000 /dev/urandom >"$W/mui"
printf 'stale' >"$W/stale"

# make_ntfs IMG MIB LABEL < commands: an NTFS volume, ntfs_build commands from stdin.
make_ntfs() {
    rm -f "$1" && truncate -s "$2M" "$1" && mkntfs -F -Q -q -L "$3" -c 4096 -p 2048 "$1" >/dev/null 2>&1 &&
        "$NTFS_BUILD" "$1"
}

# --- the two Windows VHDs -------------------------------------------------------
build_vhds() {
    local app=$1 tag=$2
    guest_disk "$W/esp-$tag.img" 16 8 &&
        mmd -i "$W/esp-$tag.img@@1M" ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Microsoft/Boot/Fonts \
            ::/EFI/Microsoft/Boot/en-US &&
        mcopy -i "$W/esp-$tag.img@@1M" "$app" ::/EFI/Microsoft/Boot/bootmgfw.efi &&
        mcopy -i "$W/esp-$tag.img@@1M" "$W/stale" ::/EFI/Microsoft/Boot/BCD &&
        mcopy -i "$W/esp-$tag.img@@1M" "$W/font.ttf" ::/EFI/Microsoft/Boot/Fonts/wgl4_boot.ttf &&
        mcopy -i "$W/esp-$tag.img@@1M" "$W/mui" ::/EFI/Microsoft/Boot/en-US/bootmgfw.efi.mui &&
        vhd_from_raw "$W/esp-$tag.img" "$W/win-esp-$tag.vhd" dynamic || return 1
    printf 'mkdir /Windows\nmkdir /Windows/Boot\nmkdir /Windows/Boot/EFI\nmkdir /Windows/Boot/EFI/en-US\nmkdir /Windows/Boot/Fonts\nmkdir /Windows/System32\n' |
        make_ntfs "$W/winvol-$tag.img" 24 WINDOWS &&
        ntfscp -q "$W/winvol-$tag.img" "$app" /Windows/Boot/EFI/bootmgfw.efi &&
        ntfscp -q "$W/winvol-$tag.img" "$W/mui" /Windows/Boot/EFI/en-US/bootmgfw.efi.mui &&
        ntfscp -q "$W/winvol-$tag.img" "$W/font.ttf" /Windows/Boot/Fonts/wgl4_boot.ttf &&
        ntfscp -q "$W/winvol-$tag.img" "$W/stale" /Windows/System32/winload.efi || return 1
    rm -f "$W/ntfsdisk-$tag.img" && truncate -s 26M "$W/ntfsdisk-$tag.img" &&
        sgdisk -n 1:2048:+24M -t 1:0700 "$W/ntfsdisk-$tag.img" >/dev/null && sgdisk -m 1 "$W/ntfsdisk-$tag.img" >/dev/null 2>&1 &&
        dd if="$W/winvol-$tag.img" of="$W/ntfsdisk-$tag.img" bs=1M seek=1 conv=notrunc,sparse status=none &&
        vhd_from_raw "$W/ntfsdisk-$tag.img" "$W/win-ntfs-$tag.vhd" dynamic
}
build_vhds "$APP" plain || it_setup_fail "the Windows-like VHDs"

# --- the host: NTFS partition DATA on a second GPT disk -------------------------
DATA=$W/data.img
printf 'mkdir /vms\n' | make_ntfs "$W/datavol.img" 96 DATA &&
    ntfscp -q "$W/datavol.img" "$W/win-esp-plain.vhd" /vms/win-esp.vhd &&
    ntfscp -q "$W/datavol.img" "$W/win-ntfs-plain.vhd" /vms/win-ntfs.vhd || it_setup_fail "NTFS host volume"
rm -f "$DATA" && truncate -s 98M "$DATA" && sgdisk -n 1:2048:+96M -t 1:0700 "$DATA" >/dev/null &&
    dd if="$W/datavol.img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "second disk"
DISK_GUID=$(sgdisk -p "$DATA" | awk '/Disk identifier \(GUID\):/ { print tolower($4) }')
PART_GUID=$(sgdisk -i 1 "$DATA" | awk '/Partition unique GUID:/ { print tolower($4) }')
export QEMU_DISK2=$DATA
ESP=$W/esp.img
esp_create "$ESP" 64 && esp_put "$ESP" "$W/win-esp-plain.vhd" /vms/win-esp.vhd || it_setup_fail "host ESP"

# --- boots ----------------------------------------------------------------------------
it_conf_single "Windows 11 (VHD test)" 'DATA:\vms\win-esp.vhd' | esp_conf "$ESP"
it_boot win-esp "$ESP"
it_expect "esp: vhdboot finds the boot manager on the VHD's ESP" \
    '^vhdboot: Windows boot manager found on its EFI system partition \(3 files\)'
it_expect "esp: the BCD names the VHD on DATA" "^vhdboot: BCD: device and osdevice vhd=\[NTFS volume 'DATA'\]\\\\vms\\\\win-esp\.vhd"
it_expect "esp: bootmgfw started from the FAT disk" '^vhdboot: starting \\EFI\\Microsoft\\Boot\\bootmgfw\.efi'
it_expect "esp: the app reads the generated BCD (not the stale one): entry and title" \
    '^BCDCHECK: default entry \{5668d0b7-8e1c-4e2a-9c3d-766864626f6f\} "Windows 11 \(VHD test\)" path \\Windows\\system32\\winload\.efi systemroot \\Windows'
it_expect "esp: osdevice names sgdisk's disk and partition GUIDs" \
    "^BCDCHECK: osdevice vhd=\[gpt disk \{$DISK_GUID\} partition \{$PART_GUID\}\]\\\\vms\\\\win-esp\.vhd \(locate 22000002\)"
it_expect "esp: resources copied next to bootmgfw" '^BCDCHECK: resources: Fonts.wgl4_boot\.ttf present, en-US.bootmgfw\.efi\.mui present'
it_expect_guest "esp: BCDCHECK: PASS (host partition found, the path is the VHD)" \
    '^BCDCHECK: PASS the VHD device names \\vms\\win-esp\.vhd on the NTFS host partition'

it_conf_single "Windows native NTFS layout" 'DATA:\vms\win-ntfs.vhd' | esp_conf "$ESP"
it_boot win-ntfs "$ESP"
it_expect "ntfs: found on the VHD's NTFS partition" \
    '^vhdboot: Windows boot manager found on its NTFS partition \(\\Windows\\Boot\\EFI\) \(3 files\)'
it_expect "ntfs: resources (\\Windows\\Boot\\Fonts -> Fonts, en-US)" '^BCDCHECK: resources: Fonts.wgl4_boot\.ttf present, en-US.bootmgfw\.efi\.mui present'
it_expect_guest "ntfs: BCDCHECK: PASS" '^BCDCHECK: PASS the VHD device names \\vms\\win-ntfs\.vhd on the NTFS host partition'

it_conf_single "Windows on FAT" '\vms\win-esp.vhd' | esp_conf "$ESP"
it_boot win-fathost "$ESP"
it_expect "fathost: refused: Windows needs the VHD on NTFS" \
    "^vhdboot: error: .vms.win-esp\.vhd: Windows boots from a VHD only when the file is on an NTFS volume, and this one is on FAT32 volume 'HOSTESP'"
it_expect "fathost: back at the menu" '^vhdboot: returning to menu'
it_reject "fathost: the boot manager was not started" '^BCDCHECK|starting .*bootmgfw'

# --- a differencing child whose parent Windows would not find by its locators ---------
# The child's W2ru/W2ku point at ../a/base.vhd; on DATA both sit in \vms, where
# only vhdboot's last-resort search (the header name's last component) finds it.
mkdir -p "$W/loc/a" "$W/loc/b" && cp "$W/win-esp-plain.vhd" "$W/loc/a/base.vhd" &&
    "$VHDTOOL" create diff --parent "$W/loc/a/base.vhd" "$W/loc/b/child.vhd" >/dev/null &&
    ntfscp -q "$W/datavol.img" "$W/loc/a/base.vhd" /vms/base.vhd &&
    ntfscp -q "$W/datavol.img" "$W/loc/b/child.vhd" /vms/child.vhd &&
    dd if="$W/datavol.img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "child on DATA"
it_conf_single "Windows child" 'DATA:\vms\child.vhd' | esp_conf "$ESP"
it_boot win-locator "$ESP"
it_expect "locator: the parent is found, with a warning naming the fix" \
    '^vhdboot: warning: .vms.child\.vhd: its parent .vms.base\.vhd was found by vhdboot.s own search, not by the W2ru/W2ku locators Windows uses; fix them with: vhdtool set-parent .vms.child\.vhd .vms.base\.vhd'
it_expect_guest "locator: the boot goes on: BCDCHECK: PASS for the child" '^BCDCHECK: PASS the VHD device names \\vms\\child\.vhd'
IT_LOG=$W/win-esp.log it_reject "locator: no warning for a VHD without parents (the esp boot)" '^vhdboot: warning'

# --- VHDX: a 3-layer differencing chain of .vhdx files ------------------------------
# win-base.vhdx (the ESP layout) <- win-mid.vhdx (relative_path .\win-base.vhdx,
# which Windows finds) <- win-top.vhdx (made in another folder: its
# relative_path ..\xa\win-mid.vhdx and absolute path miss on DATA, where only
# vhdboot's last-resort search finds the parent): the BCD names the .vhdx,
# the app passes, and exactly one warning names the VHDX locator keys.
XL=$W/xloc
mkdir -p "$XL/xa" "$XL/xb" &&
    "$VHDTOOL" convert "$W/esp-plain.img" "$XL/xa/win-base.vhdx" -O vhdx >/dev/null &&
    "$VHDTOOL" create diff --parent "$XL/xa/win-base.vhdx" "$XL/xa/win-mid.vhdx" >/dev/null &&
    "$VHDTOOL" write "$XL/xa/win-mid.vhdx" $((12 << 20)) --pattern 0x4d --length 4096 >/dev/null &&
    "$VHDTOOL" create diff --parent "$XL/xa/win-mid.vhdx" "$XL/xb/win-top.vhdx" >/dev/null &&
    ntfscp -q "$W/datavol.img" "$XL/xa/win-base.vhdx" /vms/win-base.vhdx &&
    ntfscp -q "$W/datavol.img" "$XL/xa/win-mid.vhdx" /vms/win-mid.vhdx &&
    ntfscp -q "$W/datavol.img" "$XL/xb/win-top.vhdx" /vms/win-top.vhdx &&
    dd if="$W/datavol.img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "VHDX chain on DATA"
it_conf_single "Windows 11 (VHDX test)" 'DATA:\vms\win-top.vhdx' | esp_conf "$ESP"
it_boot win-vhdx "$ESP"
it_expect "vhdx: opened the 3-layer VHDX chain" '^vhdboot: opened chain of 3 layer'
it_expect "vhdx: the BCD names the .vhdx on DATA" "^vhdboot: BCD: device and osdevice vhd=\[NTFS volume 'DATA'\]\\\\vms\\\\win-top\.vhdx"
it_expect "vhdx: osdevice names sgdisk's disk and partition GUIDs and the .vhdx path" \
    "^BCDCHECK: osdevice vhd=\[gpt disk \{$DISK_GUID\} partition \{$PART_GUID\}\]\\\\vms\\\\win-top\.vhdx \(locate 22000002\)"
it_expect "vhdx: the top's parent, found by vhdboot's search only, is warned about with the VHDX locator keys" \
    '^vhdboot: warning: .vms.win-top\.vhdx: its parent .vms.win-mid\.vhdx was found by vhdboot.s own search, not by the relative_path/volume_path/absolute_win32_path locators Windows uses; fix them with: vhdtool set-parent .vms.win-top\.vhdx .vms.win-mid\.vhdx'
it_reject "vhdx: no warning for the middle layer (its relative_path finds the base)" '^vhdboot: warning: .vms.win-mid'
it_expect_guest "vhdx: BCDCHECK: PASS (the host partition holds the .vhdx)" \
    '^BCDCHECK: PASS the VHD device names \\vms\\win-top\.vhdx on the NTFS host partition'

# --- Secure Boot: signed vhdboot and a signed app -----------------------------------------
SB_CODE=${SB_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
SB_VARS=${SB_VARS:-/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd}
SB_KEY=${SB_KEY:-/usr/share/ovmf/PkKek-1-snakeoil.key}
SB_CERT=${SB_CERT:-/usr/share/ovmf/PkKek-1-snakeoil.pem}
[ -r "$SB_CODE" ] && [ -r "$SB_VARS" ] && [ -r "$SB_KEY" ] || t_need "Secure Boot OVMF and snakeoil key (package ovmf)"
openssl pkey -in "$SB_KEY" -passin pass:snakeoil -out "$W/db.key" 2>/dev/null || it_setup_fail "snakeoil key"
sign() { sbsign --key "$W/db.key" --cert "$SB_CERT" --output "$2" "$1" >/dev/null 2>&1; }
sign "$T_BUILD/vhdboot.efi" "$W/vhdboot-signed.efi" && sign "$APP" "$W/bcdcheck-signed.efi" || it_setup_fail "signing"
build_vhds "$W/bcdcheck-signed.efi" signed || it_setup_fail "signed VHDs"
ntfscp -q -f "$W/datavol.img" "$W/win-esp-signed.vhd" /vms/win-esp.vhd &&
    ntfscp -q "$W/datavol.img" "$W/win-esp-plain.vhd" /vms/win-unsigned.vhd &&
    dd if="$W/datavol.img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "signed VHD on DATA"
mcopy -o -i "$ESP@@1M" "$W/vhdboot-signed.efi" ::/EFI/BOOT/BOOTX64.EFI || it_setup_fail "signed loader"
it_conf_single "Windows under Secure Boot" 'DATA:\vms\win-esp.vhd' | esp_conf "$ESP"
cat >"$W/qemu-secboot" <<EOF
#!/bin/sh
exec $QEMU -machine smm=on -global driver=cfi.pflash01,property=secure,value=on "\$@"
EOF
chmod +x "$W/qemu-secboot"
QEMU=$W/qemu-secboot OVMF_CODE=$SB_CODE OVMF_VARS=$SB_VARS it_boot win-secure "$ESP"
it_expect_guest "secure: the signed boot manager starts from the FAT disk: BCDCHECK: PASS" '^BCDCHECK: PASS'
it_conf_single "Unsigned boot manager" 'DATA:\vms\win-unsigned.vhd' | esp_conf "$ESP"
QEMU=$W/qemu-secboot OVMF_CODE=$SB_CODE OVMF_VARS=$SB_VARS it_boot win-unsigned "$ESP"
it_expect "secure: an unsigned boot manager is refused by the firmware, named" \
    '^vhdboot: error: Secure Boot refused \\EFI\\Microsoft\\Boot\\bootmgfw\.efi'
it_reject "secure: the unsigned one never ran" '^BCDCHECK'
exit $T_FAILED
