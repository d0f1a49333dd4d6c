#!/bin/bash
# The dracut module of the .deb, in a Debian 12 root that has dracut instead
# of initramfs-tools (mmdebstrap, cached in build/guest-cache): the package
# installs, dracut lists the module, and an initramfs built with it (for the
# root's own kernel, not host-only) holds vhdtool, the shared script, the
# initqueue and shutdown hooks, @ntfs-3g and the modules nbd, vfat, nls_cp437,
# efivarfs, fuse, nfit and nd_pmem (`write ram`). (No boot: the boot path is
# the initramfs-tools one in test_debian.sh, which shares vhdboot-lib.sh with
# this module.)
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/debian_guest.sh"
# The guest root is unpacked, chrooted into (dpkg -i, update-initramfs) and
# turned into ext4 with its owners: that needs root.
[ "$(id -u)" = 0 ] || t_need "root (mmdebstrap, chroot and mke2fs -d of the guest root)"
t_need_tools mmdebstrap dpkg-deb unshare
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
         'hooks/shutdown/10-vhdboot-shutdown.sh' 'bin/@ntfs-3g' 'kernel/drivers/block/nbd.ko' \
         'kernel/fs/fat/vfat.ko' 'kernel/fs/nls/nls_cp437.ko' 'kernel/fs/efivarfs/efivarfs.ko' 'kernel/fs/fuse/fuse.ko' \
         'kernel/drivers/acpi/nfit/nfit.ko' 'kernel/drivers/nvdimm/nd_pmem.ko'; do
    if grep -qF -- "$f" "$LIST"; then t_ok "dracut initramfs holds $f"; else
        t_fail "dracut initramfs holds $f" "lsinitrd lists no such file"; fi
done
exit $T_FAILED
