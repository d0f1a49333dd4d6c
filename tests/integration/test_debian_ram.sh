#!/bin/bash
# A Debian 12 system whose root is on the RAM disk of `write ram`: the guest
# built by debian_guest.sh (systemd-boot, Debian's kernel, an initramfs made
# by initramfs-tools with vhdboot's package installed, whose hook adds nfit
# and nd_pmem) is converted to a dynamic VHD; vhdboot loads it into memory
# and OVMF publishes it in the NFIT. The guest must reach multi-user with its
# root on /dev/pmem0p2 (its test unit prints the root device, writes 8 MiB
# and a marker, and powers off), and the VHD file must stay byte-identical.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/debian_guest.sh"
it_require_qemu
t_need_tools mmdebstrap dpkg-deb unshare mkfs.ext4

W=$T_TMP
ESP=$W/esp.img
make -s -C "$T_ROOT" deb >/dev/null 2>&1 || it_setup_fail "make deb"
DEB=$(ls "$T_BUILD"/vhdboot_*_amd64.deb | head -n 1)
LAYER=$(deb_layer "$DEB") || it_setup_fail "Debian guest with the package (see build/guest-cache/*.log)"
if grep -qE 'kernel/drivers/(acpi/nfit/nfit|nvdimm/nd_pmem)\.ko' <(lsinitramfs "$LAYER"/boot/initrd.img-* 2>/dev/null ||
    (cd "$W" && zcat "$LAYER"/boot/initrd.img-* | cpio -t 2>/dev/null)); then
    t_ok "the package's initramfs holds nfit and nd_pmem"
else
    t_fail "the package's initramfs holds nfit and nd_pmem"
fi
deb_disk "$LAYER" "$W/debian.img" || it_setup_fail "Debian guest disk"
vhd_from_raw "$W/debian.img" "$W/debian.vhd" dynamic || it_setup_fail "Debian VHD"
SIZE=$(stat -c %s "$W/debian.img")
rm -f "$W/debian.img"
esp_create "$ESP" $(( $(stat -c %s "$W/debian.vhd") / 1048576 + 96 )) || it_setup_fail "host ESP image"
esp_put "$ESP" "$W/debian.vhd" /vms/debian.vhd || it_setup_fail "copy debian.vhd"
rm -f "$W/debian.vhd"
SHA=$(esp_sha "$ESP" /vms/debian.vhd)
it_conf_single "Debian in RAM" '\vms\debian.vhd' ram | esp_conf "$ESP"

# The disk (about 1 GiB) plus the margin in one free range, and memory for Linux.
QEMU_MEM=2048 IT_LIMIT=900 IT_STOP='VHDBOOT-TEST: done|Kernel panic|vhdboot: returning to menu|X64 Exception Type' \
    it_boot debian-ram "$ESP"
it_expect "ram: the Debian disk is loaded and installed" "^vhdboot: installed RAM disk of $((SIZE >> 20)) MiB \(ram\)"
it_expect "guest: the kernel finds the RAM disk in the NFIT" 'nfit ACPI0012:00'
it_expect "guest: nd_pmem makes it /dev/pmem0 with the guest's two partitions" ' pmem0: p1 p2$'
it_expect "guest: the root file system is mounted from /dev/pmem0p2" 'EXT4-fs \(pmem0p2\): mounted filesystem'
it_expect "guest: multi-user.target reached" 'Reached target multi-user\.target'
it_expect "guest: its test unit sees the root on /dev/pmem0p2" 'VHDBOOT-TEST: root=/dev/pmem0p2 '
it_expect "guest: it writes to its root" 'VHDBOOT-TEST: wrote=boot-'
it_expect "guest: its test unit finished" 'VHDBOOT-TEST: done'
t_eq "the VHD file is byte-identical after the guest wrote to its root" "$SHA" "$(esp_sha "$ESP" /vms/debian.vhd)"
exit $T_FAILED
