#!/bin/bash
# The dracut module of the .deb, in a Debian 12 root that has dracut instead
# of initramfs-tools (mmdebstrap, cached in build/guest-cache): the package
# installs, dracut lists the module, and an initramfs built with it (for the
# root's own kernel, not host-only) holds vhdtool, the shared script, the
# initqueue and pre-shutdown hooks, @ntfs-3g and the modules nbd, vfat, nls_cp437,
# efivarfs, fuse, nfit and nd_pmem (`write ram`). Then that root, with the
# initramfs dracut built, boots through vhdboot from a dynamic VHD on the
# host ESP: the root file system must be the attached NBD disk, the test
# unit's file must land in the VHD, and at poweroff the pre-shutdown hook
# must detach the disk and leave the FAT volume clean.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/debian_guest.sh"
it_require_qemu
# The guest root is unpacked, chrooted into (dpkg -i, update-initramfs) and
# turned into ext4 with its owners: that needs root.
[ "$(id -u)" = 0 ] || t_need "root (mmdebstrap, chroot and mke2fs -d of the guest root)"
t_need_tools mmdebstrap dpkg-deb unshare sgdisk mkfs.ext4 debugfs fsck.vfat
make -s -C "$T_ROOT" deb >/dev/null 2>&1 || { t_fail "make deb"; exit 1; }
DEB=$(ls "$T_BUILD"/vhdboot_*_amd64.deb | head -n 1)
deb_dracut_base || { t_fail "setup: Debian root with dracut (see build/guest-cache/mmdebstrap-dracut.log)"; exit 1; }
R=$T_TMP/root
mkdir -p "$R" && tar -C "$R" -xf "$GUEST_CACHE/debian-dracut.tar" || { t_fail "setup: unpack"; exit 1; }
cp "$DEB" "$R/tmp/vhdboot.deb"
t_check "the package installs next to dracut (no initramfs-tools)" deb_chroot "$R" dpkg -i /tmp/vhdboot.deb
t_check "dracut lists the vhdboot module" sh -c "$(declare -f deb_chroot); deb_chroot '$R' dracut --no-kernel --list-modules 2>/dev/null | grep -qx vhdboot"
KVER=$(ls "$R/usr/lib/modules" | head -n 1)
t_check "dracut builds an initramfs with the module" deb_chroot "$R" dracut --force --no-hostonly --kver "$KVER" \
    --add vhdboot /tmp/vhdboot-initrd.img
LIST=$T_TMP/list
deb_chroot "$R" lsinitrd /tmp/vhdboot-initrd.img >"$LIST" 2>/dev/null
for f in usr/bin/vhdtool usr/lib/vhdboot/vhdboot-lib.sh 'hooks/initqueue/settled/40-vhdboot-attach.sh' \
         'hooks/pre-shutdown/10-vhdboot-shutdown.sh' 'bin/@ntfs-3g' 'kernel/drivers/block/nbd.ko' \
         'kernel/fs/fat/vfat.ko' 'kernel/fs/nls/nls_cp437.ko' 'kernel/fs/efivarfs/efivarfs.ko' 'kernel/fs/fuse/fuse.ko' \
         'kernel/drivers/acpi/nfit/nfit.ko' 'kernel/drivers/nvdimm/nd_pmem.ko'; do
    if grep -qF -- "$f" "$LIST"; then t_ok "dracut initramfs holds $f"; else
        t_fail "dracut initramfs holds $f" "lsinitrd lists no such file"; fi
done

# --- a boot: the dracut initramfs attaches a dynamic VHD on FAT ----------------------
W=$T_TMP
ESP=$W/esp.img
deb_chroot "$R" dracut --force --no-hostonly --kver "$KVER" --add vhdboot "/boot/initrd.img-$KVER" \
    >"$W/dracut.log" 2>&1 || it_setup_fail "dracut initramfs in /boot (see $W/dracut.log)"
deb_guest_files "$R" && deb_disk "$R" "$W/guest.img" || it_setup_fail "guest disk"
read -r ROOT_OFF ROOT_LEN < <(deb_root_range)
vhd_from_raw "$W/guest.img" "$W/dyn.vhd" dynamic && rm -f "$W/guest.img" || it_setup_fail "dynamic VHD"
esp_create "$ESP" 2048 && esp_put "$ESP" "$W/dyn.vhd" /vms/dyn.vhd || it_setup_fail "host ESP"
it_conf_single "Debian with dracut, dynamic on FAT" '\vms\dyn.vhd' persistent | esp_conf "$ESP"
QEMU_MEM=${DEBIAN_QEMU_MEM:-768} IT_LIMIT=${DEBIAN_BOOT_LIMIT:-600} it_boot debian-dracut "$ESP"
it_expect_guest "dracut boot: the guest reached multi-user, ran the test unit and powered off" 'VHDBOOT-TEST: done'
it_expect "dracut boot: the root file system is on the attached NBD disk" \
    'VHDBOOT-TEST: root=/dev/nbd[0-9]+p2 attached=/dev/nbd[0-9]+ '
it_expect "dracut boot: at shutdown the disk was detached and the host unmounted" \
    '^vhdboot: virtual disk detached, host volumes unmounted'
M=$(sed -n 's/.*VHDBOOT-TEST: wrote=\(boot-[0-9a-f-]*\).*/\1/p' "$IT_LOG" | head -n 1)
esp_get "$ESP" /vms/dyn.vhd "$W/dyn-after.vhd"
"$VHDTOOL" read "$W/dyn-after.vhd" "$ROOT_OFF" "$ROOT_LEN" --out "$W/root.img" >/dev/null 2>&1
t_eq "dracut boot: the marker the guest wrote is in the VHD" "${M:-none}" \
    "$(debugfs -R "cat /var/lib/vhdboot-test/marker" "$W/root.img" 2>/dev/null)"
t_check "dracut boot: vhdtool check passes" "$VHDTOOL" check "$W/dyn-after.vhd"
t_check "dracut boot: the guest's root file system is clean (e2fsck -fn)" e2fsck -fn "$W/root.img"
dd if="$ESP" of="$W/esp-part.img" bs=1M skip=1 conv=sparse status=none
t_check "dracut boot: the host FAT volume is clean (fsck.vfat -n)" sh -c "fsck.vfat -n '$W/esp-part.img' >'$W/fsck.out' 2>&1 && ! grep -qi dirty '$W/fsck.out' || { cat '$W/fsck.out'; exit 1; }"
exit $T_FAILED
