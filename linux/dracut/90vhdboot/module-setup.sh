#!/bin/bash
# dracut module "vhdboot": the same boot and shutdown steps as the
# initramfs-tools scripts (shared vhdboot-lib.sh): attach the virtual disk the
# loader booted from before the root= lookup, release it at shutdown.

# check: include whenever vhdtool is installed (the record decides at boot).
check() {
    require_binaries vhdtool || return 1
    return 0
}

# depends: udev gives /dev/disk/by-partuuid; shutdown gives /run/initramfs.
depends() {
    echo udev-rules shutdown
    return 0
}

# installkernel: nbd, FUSE, FAT with its code pages, efivarfs, nfit and
# nd_pmem (the RAM disk of `write ram`), ntfs3 when the kernel has it;
# always, not only for the host's own hardware.
installkernel() {
    hostonly='' instmods nbd loop fuse fat vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1 efivarfs
    hostonly='' instmods nfit nd_pmem   # `write ram`: the RAM disk in the ACPI NFIT
    hostonly='' instmods ntfs3 2>/dev/null
    return 0
}

# install: vhdtool, the shell tools the shared script uses, ntfs-3g as
# "@ntfs-3g" (spared by systemd's shutdown), the hooks.
install() {
    inst_multiple vhdtool blkid readlink awk sort tr head grep ls sleep mount umount modprobe ln mkdir cat rm sync
    if ntfs3g=$(command -v ntfs-3g); then
        inst_binary "$ntfs3g"
        ln -sf ntfs-3g "${initdir}${ntfs3g%/*}/@ntfs-3g"
    fi
    inst_simple /usr/lib/vhdboot/vhdboot-lib.sh
    inst_hook initqueue/settled 40 "$moddir/vhdboot-attach.sh"
    # pre-shutdown: before dracut kills what uses /oldroot (our daemon serves
    # the root from a file on a host volume mounted below it) and unmounts it
    inst_hook pre-shutdown 10 "$moddir/vhdboot-shutdown.sh"
}
