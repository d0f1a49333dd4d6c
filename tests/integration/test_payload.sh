#!/bin/bash
# The test payload (build/payload.efi) booted by vhdboot from VHDs of every
# kind, one write mode each:
#   fixed VHD (vhdtool)          write persistent  -> marker in the file
#   dynamic VHD (vhdtool)        write volatile    -> file unchanged
#   dynamic VHD (qemu-img)       write readonly    -> "write protected"
#   3-layer differencing chain   write persistent  -> marker in the top
#       layer only; each layer holds one third of the pattern, so PASS
#       means all three were read; the parents' sha256 do not change.
# The payload reads the whole disk, checks the pattern on partition 2,
# writes 16 sectors of "VHDBOOT-WRITE-OK" there and powers off.
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img
MARK_SECTORS=16

# --- guests and VHDs -------------------------------------------------------
guest_payload "$W/full.img" || it_setup_fail "payload guest disk"
read -r P2_FIRST P2_COUNT < <(guest_part2 "$W/full.img")
MARK_OFFSET=$((P2_FIRST * 512))

# Chain: layer N's raw image holds the pattern only up to the end of third N
# (made from the full guest by zeroing the later thirds).
third=$((P2_COUNT / 3))
zero_sectors() { dd if=/dev/zero of="$1" bs=512 seek="$2" count="$3" conv=notrunc status=none; }
cp "$W/full.img" "$W/l2.img" && zero_sectors "$W/l2.img" $((P2_FIRST + 2 * third)) $((P2_COUNT - 2 * third)) ||
    it_setup_fail "chain layer 2 image"
cp "$W/l2.img" "$W/l1.img" && zero_sectors "$W/l1.img" $((P2_FIRST + third)) "$third" ||
    it_setup_fail "chain layer 1 image"

mkdir -p "$W/chain"
t_check "vhdtool convert raw -> fixed VHD" vhd_from_raw "$W/full.img" "$W/fixed.vhd" fixed
t_check "vhdtool convert raw -> dynamic VHD" vhd_from_raw "$W/full.img" "$W/dynamic.vhd" dynamic
t_check "qemu-img convert raw -> dynamic VHD" vhd_from_raw "$W/full.img" "$W/qemu.vhd" qemu-dynamic
t_check "chain: dynamic base (third 1)" vhd_from_raw "$W/l1.img" "$W/chain/base.vhd" dynamic
t_check "chain: differencing middle (third 2)" vhd_diff_layer "$W/chain/base.vhd" "$W/chain/middle.vhd" "$W/l1.img" "$W/l2.img"
t_check "chain: differencing top (third 3)" vhd_diff_layer "$W/chain/middle.vhd" "$W/chain/top.vhd" "$W/l2.img" "$W/full.img"
t_check "chain reads back as the full guest on the host" vhd_matches "$W/chain/top.vhd" "$W/full.img"

esp_create "$ESP" 256 || it_setup_fail "host ESP image"
for f in fixed dynamic qemu; do esp_put "$ESP" "$W/$f.vhd" "/vms/$f.vhd" || it_setup_fail "copy $f.vhd"; done
for f in base middle top; do esp_put "$ESP" "$W/chain/$f.vhd" "/vms/chain/$f.vhd" || it_setup_fail "copy $f.vhd"; done
SHA_DYNAMIC=$(esp_sha "$ESP" /vms/dynamic.vhd)
SHA_BASE=$(esp_sha "$ESP" /vms/chain/base.vhd)
SHA_MIDDLE=$(esp_sha "$ESP" /vms/chain/middle.vhd)

# marker_count VHD_ON_ESP: prints how many "VHDBOOT-WRITE-OK" occur in the 16 sectors.
marker_count() {
    local dir=$W/out
    rm -rf "$dir" && mkdir -p "$dir"
    mcopy -s -n -i "$ESP@@1M" "::$(dirname "$1")/*" "$dir/" >/dev/null 2>&1
    "$VHDTOOL" read "$dir/$(basename "$1")" "$MARK_OFFSET" $((MARK_SECTORS * 512)) 2>/dev/null |
        grep -ao VHDBOOT-WRITE-OK | wc -l
}

# checked_on_host VHD_ON_ESP: copies VHD's folder out of the ESP and runs
# vhdtool check on it (structure and chain still valid after the guest wrote).
checked_on_host() {
    local dir=$W/out
    rm -rf "$dir" && mkdir -p "$dir"
    mcopy -s -n -i "$ESP@@1M" "::$(dirname "$1")/*" "$dir/" >/dev/null 2>&1 &&
        "$VHDTOOL" check "$dir/$(basename "$1")"
}

# --- boots ----------------------------------------------------------------
it_conf_single "Payload, fixed VHD" '\vms\fixed.vhd' persistent | esp_conf "$ESP"
it_boot payload-fixed "$ESP"
it_expect_guest "fixed VHD (vhdtool): PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "fixed VHD: loader reports a 1-layer chain" 'vhdboot: opened chain of 1 layer'
it_expect "fixed VHD: loader installed a 16 MiB persistent disk" 'vhdboot: installed disk of 16 MiB \(persistent\)'
t_eq "persistent write: the fixed VHD holds 512 markers (16 sectors) afterwards" 512 "$(marker_count /vms/fixed.vhd)"
t_check "persistent write: vhdtool check passes on the fixed VHD" checked_on_host /vms/fixed.vhd

it_conf_single "Payload, dynamic VHD" '\vms\dynamic.vhd' volatile | esp_conf "$ESP"
it_boot payload-dynamic "$ESP"
it_expect_guest "dynamic VHD (vhdtool): PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "dynamic VHD, volatile: the payload's write succeeded in the guest" '^PAYLOAD: write ok'
t_eq "volatile write: the dynamic VHD file is unchanged" "$SHA_DYNAMIC" "$(esp_sha "$ESP" /vms/dynamic.vhd)"

it_conf_single "Payload, qemu-img VHD" '\vms\qemu.vhd' readonly | esp_conf "$ESP"
it_boot payload-qemu "$ESP"
it_expect_guest "dynamic VHD (qemu-img): PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "readonly: the payload sees a write-protected disk" '^PAYLOAD: write protected'

it_conf_single "Payload, 3-layer chain" '\vms\chain\top.vhd' persistent | esp_conf "$ESP"
it_boot payload-chain "$ESP"
it_expect_guest "3-layer differencing chain: PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "chain: loader opened 3 layers" 'vhdboot: opened chain of 3 layer'
t_eq "persistent write into the chain: the top layer holds 512 markers" 512 "$(marker_count /vms/chain/top.vhd)"
t_check "persistent write into the chain: vhdtool check passes on the chain" checked_on_host /vms/chain/top.vhd
t_eq "persistent write into the chain: base.vhd unchanged" "$SHA_BASE" "$(esp_sha "$ESP" /vms/chain/base.vhd)"
t_eq "persistent write into the chain: middle.vhd unchanged" "$SHA_MIDDLE" "$(esp_sha "$ESP" /vms/chain/middle.vhd)"

# Boot the written chain again: the loader must read back the block it
# allocated in the top layer (bitmap + data) on the next boot.
it_boot payload-chain-again "$ESP"
it_expect_guest "chain, second boot: PAYLOAD: PASS" '^PAYLOAD: PASS'
it_expect "chain, second boot: the payload finds the marker written by the first boot" '^PAYLOAD: marker already present in 16 sectors'
exit $T_FAILED
