# shellcheck shell=bash
# The Linux guest of the vhdtool attach test and benchmark (sourced after
# lib.sh): a busybox initramfs with build/vhdtool-static, Debian's virtio,
# nbd, loop and ext4 modules and a given /init, booted by systemd-boot from a
# dynamic VHD that vhdboot attaches (volatile) from the host ESP. Data goes
# in and out through a second virtual disk (/dev/vdb) holding a tar (the
# test) or an ext4 file system (the benchmark).

# Modules (paths under the kernel's modules folder), in load order (Debian's
# kernel builds them as modules); ext4's are loaded by an /init that mounts it.
ATTACH_GUEST_MODS="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk drivers/block/nbd drivers/block/loop lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4"

# The shell lines an /init starts with: mounts, console, modules loaded
# (two passes, so a module whose dependency comes later loads the second
# time), nbd with 4 devices, /dev/vdb waited for.
ATTACH_GUEST_BASE='#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
for pass in 1 2; do
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk loop; do
        [ -d /sys/module/$m ] || insmod /mod/$m.ko 2>/dev/null || [ $pass = 1 ] || echo "GUEST: insmod $m failed"
    done
done
insmod /mod/nbd.ko nbds_max=4 && echo "GUEST: nbd loaded"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb ] && break; sleep 1; done
'
# ATTACH_GUEST_BASE, then the second disk's tar unpacked into /w.
ATTACH_GUEST_PROLOGUE="${ATTACH_GUEST_BASE}mkdir -p /w && cd /w && tar xf /dev/vdb
"

# attach_guest_build W INIT [FILE...]: builds W/esp.img (host ESP with
# \vms\guest.vhd) whose guest runs the script INIT as /init, with the
# FILEs copied into the initramfs's /bin and, when ATTACH_GUEST_ROOT names a
# folder, its contents copied into the initramfs's root. Returns non-zero
# with a message.
attach_guest_build() {
    local w=$1 init=$2 r=$1/initrd kpkg m img=$1/guest.img; shift 2
    guest_prepare || return 1
    kpkg=$(compgen -G "$GUEST_CACHE/debs/linux-image-*.deb" | sort | tail -n 1)
    [ -n "$kpkg" ] || { echo "no cached kernel package" >&2; return 1; }
    rm -rf "$r" && mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/mod" || return 1
    cp "$GUEST_CACHE/busybox" "$r/bin/busybox" && cp "$T_BUILD/vhdtool-static" "$r/bin/vhdtool" || return 1
    for m in "$@"; do cp "$m" "$r/bin/" || return 1; done
    dpkg-deb --fsys-tarfile "$kpkg" 2>/dev/null |
        tar -x -C "$w" --wildcards $(for m in $ATTACH_GUEST_MODS; do echo "./lib/modules/*/kernel/$m.ko"; done)
    for m in $ATTACH_GUEST_MODS; do
        cp "$(ls "$w"/lib/modules/*/kernel/$m.ko | head -n 1)" "$r/mod/" ||
            { echo "$m.ko missing from $kpkg" >&2; return 1; }
    done
    if [ -n "${ATTACH_GUEST_ROOT:-}" ]; then cp -a "$ATTACH_GUEST_ROOT"/. "$r"/ || return 1; fi
    cp "$init" "$r/init" && chmod 755 "$r/init" "$r/bin"/* || return 1
    (cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$w/initrd.gz" || return 1
    guest_disk "$img" 80 72 &&
        mmd -i "$img@@1M" ::/loader ::/loader/entries &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/linux/vmlinuz" ::/vmlinuz &&
        mcopy -i "$img@@1M" "$w/initrd.gz" ::/initrd.gz &&
        printf 'timeout 0\ndefault linux.conf\n' | mcopy -i "$img@@1M" - ::/loader/loader.conf &&
        guest_sdboot_marker "$img" ATTACH &&
        vhd_from_raw "$img" "$w/guest.vhd" dynamic &&
        esp_create "$w/esp.img" 256 && esp_put "$w/esp.img" "$w/guest.vhd" /vms/guest.vhd &&
        it_conf_single "Attach guest" '\vms\guest.vhd' volatile | esp_conf "$w/esp.img"
}
