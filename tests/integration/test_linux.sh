#!/bin/bash
# Real guests: Debian's kernel with a busybox initramfs, started by
# systemd-boot or GRUB from inside a VHD that vhdboot attached. The kernel
# command line carries a marker (different for every disk, and for every
# layer of a chain), which the initramfs prints as "GUEST-MARKER: <marker>"
# before powering off; seeing the right marker proves that systemd-boot/GRUB,
# the kernel and the initramfs were all read through the virtual disk, and
# for a chain, that the top layer's data won.
#   systemd-boot: fixed (vhdtool), dynamic (vhdtool), dynamic (qemu-img),
#                 3-layer chain (LAYER1 -> LAYER2 -> LAYER3)
#   GRUB:         dynamic (vhdtool), 3-layer chain
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img
guest_prepare || it_setup_fail "download/unpack the guest packages into $GUEST_CACHE"

# chain_from_raws KIND BASE_RAW...: builds a dynamic base from the first raw
# image and one differencing layer per further image, in $W/KIND/; the top
# layer is $W/KIND/layerN.vhd.
chain_from_raws() {
    local kind=$1 n=1 prev_raw="" prev_vhd="" raw; shift
    mkdir -p "$W/$kind"
    for raw in "$@"; do
        if [ -z "$prev_vhd" ]; then
            vhd_from_raw "$raw" "$W/$kind/layer1.vhd" dynamic || return 1
        else
            vhd_diff_layer "$prev_vhd" "$W/$kind/layer$n.vhd" "$prev_raw" "$raw" || return 1
        fi
        prev_raw=$raw prev_vhd=$W/$kind/layer$n.vhd n=$((n + 1))
    done
}

# --- systemd-boot guests ----------------------------------------------------
guest_sdboot "$W/sd.img" SD-LAYER1 || it_setup_fail "systemd-boot guest disk"
cp "$W/sd.img" "$W/sd2.img" && guest_sdboot_marker "$W/sd2.img" SD-LAYER2 || it_setup_fail "layer 2 entry"
cp "$W/sd2.img" "$W/sd3.img" && guest_sdboot_marker "$W/sd3.img" SD-LAYER3 || it_setup_fail "layer 3 entry"
for kind in fixed dynamic qemu; do
    cp "$W/sd.img" "$W/sd-$kind.img" && guest_sdboot_marker "$W/sd-$kind.img" "SD-${kind^^}" ||
        it_setup_fail "systemd-boot guest for $kind"
done
t_check "systemd-boot guest -> fixed VHD (vhdtool)" vhd_from_raw "$W/sd-fixed.img" "$W/sd-fixed.vhd" fixed
t_check "systemd-boot guest -> dynamic VHD (vhdtool)" vhd_from_raw "$W/sd-dynamic.img" "$W/sd-dynamic.vhd" dynamic
t_check "systemd-boot guest -> dynamic VHD (qemu-img)" vhd_from_raw "$W/sd-qemu.img" "$W/sd-qemu.vhd" qemu-dynamic
t_check "systemd-boot 3-layer chain, one boot entry marker per layer" \
    chain_from_raws sdchain "$W/sd.img" "$W/sd2.img" "$W/sd3.img"

# --- GRUB guests ------------------------------------------------------------
guest_grub "$W/gr.img" GRUB-LAYER1 || it_setup_fail "GRUB guest disk"
cp "$W/gr.img" "$W/gr2.img" && guest_grub_marker "$W/gr2.img" GRUB-LAYER2 || it_setup_fail "GRUB layer 2 config"
cp "$W/gr2.img" "$W/gr3.img" && guest_grub_marker "$W/gr3.img" GRUB-LAYER3 || it_setup_fail "GRUB layer 3 config"
cp "$W/gr.img" "$W/gr-dynamic.img" && guest_grub_marker "$W/gr-dynamic.img" GRUB-DYNAMIC || it_setup_fail "GRUB dynamic config"
t_check "GRUB guest -> dynamic VHD (vhdtool)" vhd_from_raw "$W/gr-dynamic.img" "$W/gr-dynamic.vhd" dynamic
t_check "GRUB 3-layer chain, one grub.cfg marker per layer" \
    chain_from_raws grchain "$W/gr.img" "$W/gr2.img" "$W/gr3.img"

# --- host ESP ---------------------------------------------------------------
esp_create "$ESP" 512 || it_setup_fail "host ESP image"
for kind in fixed dynamic qemu; do esp_put "$ESP" "$W/sd-$kind.vhd" "/vms/sd-$kind.vhd" || it_setup_fail "copy sd-$kind.vhd"; done
esp_put "$ESP" "$W/gr-dynamic.vhd" /vms/gr-dynamic.vhd || it_setup_fail "copy gr-dynamic.vhd"
for c in sdchain grchain; do
    for n in 1 2 3; do esp_put "$ESP" "$W/$c/layer$n.vhd" "/vms/$c/layer$n.vhd" || it_setup_fail "copy $c layer $n"; done
done

# linux_boot NAME TITLE VHD MARKER: boots VHD (volatile, so the files stay as
# built) and checks that the guest printed MARKER and powered off.
linux_boot() {
    local name=$1 title=$2 vhd=$3 marker=$4
    it_conf_single "$title" "$vhd" volatile | esp_conf "$ESP"
    it_boot "$name" "$ESP"
    it_expect_guest "$title: GUEST-MARKER: $marker" "^GUEST-MARKER: $marker\$"
}

linux_boot linux-sd-fixed "systemd-boot, fixed VHD" '\vms\sd-fixed.vhd' SD-FIXED
it_expect "systemd-boot, fixed VHD: loader started the guest's BOOTX64.EFI" '^vhdboot: starting .*BOOTX64.EFI'
# systemd-boot waits for a key briefly even with timeout 0; WaitForEvent fails
# ("Unsupported") if vhdboot started it above TPL_APPLICATION, e.g. because a
# firmware lock was taken re-entrantly; booted directly (tests/integration/
# mkguest.sh sdboot IMG, then OVMF on IMG), it never says this.
it_reject "systemd-boot, fixed VHD: inner boot manager can wait for events (runs at TPL_APPLICATION)" 'Error waiting for events'
linux_boot linux-sd-dynamic "systemd-boot, dynamic VHD" '\vms\sd-dynamic.vhd' SD-DYNAMIC
linux_boot linux-sd-qemu "systemd-boot, qemu-img dynamic VHD" '\vms\sd-qemu.vhd' SD-QEMU
linux_boot linux-sd-chain "systemd-boot, 3-layer chain" '\vms\sdchain\layer3.vhd' SD-LAYER3
it_expect "systemd-boot chain: loader opened 3 layers" 'vhdboot: opened chain of 3 layer'
it_reject "systemd-boot chain: no older layer's marker" 'GUEST-MARKER: SD-LAYER[12]'
linux_boot linux-grub-dynamic "GRUB, dynamic VHD" '\vms\gr-dynamic.vhd' GRUB-DYNAMIC
linux_boot linux-grub-chain "GRUB, 3-layer chain" '\vms\grchain\layer3.vhd' GRUB-LAYER3
it_expect "GRUB chain: loader opened 3 layers" 'vhdboot: opened chain of 3 layer'
it_reject "GRUB chain: no older layer's marker" 'GUEST-MARKER: GRUB-LAYER[12]'

exit $T_FAILED
