#!/bin/bash
# A real Debian 12 system runs with its root on a VHD: vhdboot boots it, the
# initramfs (our .deb's hook) attaches the chain with vhdtool through NBD,
# systemd reaches multi-user where a unit prints the root device, writes a
# file and powers off; at shutdown the virtual disk is detached and the host
# volumes end clean. Host disk 1: GPT, FAT32 ESP (the loader, FAT VHDs);
# disk 2: MBR, NTFS. The guest is built once (build/guest-cache) with
# mmdebstrap from Debian's registry (the machine's apt sources). Eight boots:
#   fat-dyn       dynamic VHD on FAT, persistent: writes a marker
#   fat-volatile  the same VHD, write volatile: sees the marker of fat-dyn
#                 (second boot), writes into memory: the file is unchanged
#   chain         3 layers: base on NTFS, middle and top on FAT, persistent;
#                 the guest ends with a reboot (the same shutdown path)
#   chain-ro      the same chain, write readonly: the guest's write fails,
#                 every file is unchanged
#   ntfs-fixed    fixed VHD on NTFS (ntfs-3g in the initramfs), persistent,
#                 through a loop device (its partitions scanned)
#   hibernated    the same with hiberfil.sys saying "hibernated": the volume
#                 will not mount read-write; one console line, the boot goes
#                 on the normal path (no root there: it ends, no hang)
#   vhdx          a dynamic VHDX on FAT, persistent
#   powerloss     fat-dyn's VHD, QEMU killed while the guest writes
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/debian_guest.sh"
it_require_qemu
NTFS_BUILD=$T_BUILD/tests-tools/ntfs_build
[ -x "$NTFS_BUILD" ] || t_need "$NTFS_BUILD not built (make test-build, after ntfs-3g-dev)"
# The guest root is unpacked, chrooted into (dpkg -i, update-initramfs) and
# turned into ext4 with its owners: that needs root.
[ "$(id -u)" = 0 ] || t_need "root (mmdebstrap, chroot and mke2fs -d of the guest root)"
t_need_tools mmdebstrap mkntfs ntfscp ntfscat ntfsinfo sgdisk mkfs.ext4 debugfs e2fsck fsck.vfat dpkg-deb unshare

W=$T_TMP
ESP=$W/esp.img
DATA=$W/data.img
NTFS_MIB=1800
export QEMU_DISK2=$DATA
QEMU_MEM=${DEBIAN_QEMU_MEM:-768}
IT_LIMIT=${DEBIAN_BOOT_LIMIT:-600}
IT_STOP='vhdboot: returning to menu|Kernel panic|X64 Exception Type|VHDBOOT-TEST: writing'

# --- the guest --------------------------------------------------------------------
make -s -C "$T_ROOT" deb >/dev/null 2>&1 || it_setup_fail "make deb"
DEB=$(ls "$T_BUILD"/vhdboot_*_amd64.deb | head -n 1)
t_check "make deb builds $(basename "$DEB")" test -s "$DEB"
t_check "the package holds vhdtool, the loader, the hook and scripts, the dracut module" sh -c "
    dpkg-deb -c '$DEB' | grep -q ' ./usr/bin/vhdtool\$' &&
    dpkg-deb -c '$DEB' | grep -q ' ./usr/lib/vhdboot/vhdboot.efi\$' &&
    dpkg-deb -c '$DEB' | grep -q ' ./usr/share/initramfs-tools/hooks/vhdboot\$' &&
    dpkg-deb -c '$DEB' | grep -q ' ./usr/share/initramfs-tools/scripts/local-top/vhdboot\$' &&
    dpkg-deb -c '$DEB' | grep -q ' ./usr/lib/dracut/modules.d/90vhdboot/module-setup.sh\$'"
LAYER=$(deb_layer "$DEB") || it_setup_fail "Debian guest with the package (see build/guest-cache/*.log)"
t_check "the guest's initramfs has vhdtool, nbd, vfat, efivarfs, @ntfs-3g and the shutdown program" sh -c "
    l=\$(chroot '$LAYER' lsinitramfs /boot/\$(basename '$(ls "$LAYER"/boot/initrd.img-* | head -n 1)'));
    for f in usr/bin/vhdtool kernel/drivers/block/nbd.ko kernel/fs/fat/vfat.ko kernel/fs/efivarfs/efivarfs.ko \
             kernel/fs/nls/nls_cp437.ko bin/@ntfs-3g usr/lib/vhdboot/shutdown scripts/local-top/vhdboot; do
        echo \"\$l\" | grep -q \"\$f\$\" || { echo \"missing \$f\"; exit 1; }
    done"
deb_disk "$LAYER" "$W/guest.img" || it_setup_fail "guest disk"
read -r ROOT_OFF ROOT_LEN < <(deb_root_range)
t_check "dynamic VHD of the guest" vhd_from_raw "$W/guest.img" "$W/dyn.vhd" dynamic
t_check "dynamic VHDX of the guest" "$VHDTOOL" convert "$W/guest.img" "$W/dyn.vhdx" -O vhdx
t_check "fixed VHD of the guest" vhd_from_raw "$W/guest.img" "$W/fixed.vhd" fixed
mkdir -p "$W/chain"
cp "$W/dyn.vhd" "$W/chain/base.vhd" &&
    "$VHDTOOL" create diff --parent "$W/chain/base.vhd" "$W/chain/mid.vhd" >/dev/null &&
    "$VHDTOOL" create diff --parent "$W/chain/mid.vhd" "$W/chain/top.vhd" >/dev/null || it_setup_fail "the chain"

# --- host volumes ----------------------------------------------------------------------
esp_create "$ESP" 2048 || it_setup_fail "host ESP"
esp_put "$ESP" "$W/dyn.vhd" /vms/dyn.vhd && esp_put "$ESP" "$W/chain/mid.vhd" /vms/chain/mid.vhd &&
    esp_put "$ESP" "$W/chain/top.vhd" /vms/chain/top.vhd || it_setup_fail "VHDs on the ESP"
ntfs_img=$W/ntfs.img
rm -f "$ntfs_img" && truncate -s "${NTFS_MIB}M" "$ntfs_img" &&
    mkntfs -F -Q -q -L DATA -c 4096 -p 2048 "$ntfs_img" >/dev/null 2>&1 &&
    printf 'mkdir /vms\nmkdir /vms/chain\n' | "$NTFS_BUILD" "$ntfs_img" &&
    ntfscp -q "$ntfs_img" "$W/chain/base.vhd" /vms/chain/base.vhd && ntfscp -q "$ntfs_img" "$W/fixed.vhd" /vms/fixed.vhd ||
    it_setup_fail "NTFS volume"
rm -f "$DATA" && truncate -s $((NTFS_MIB + 2))M "$DATA" &&
    sgdisk -n 1:2048:+"${NTFS_MIB}M" -t 1:0700 "$DATA" >/dev/null && sgdisk -m 1 "$DATA" >/dev/null 2>&1 &&
    printf '\x5d\x4c\x3b\x2a' | dd of="$DATA" bs=1 seek=440 conv=notrunc status=none &&
    dd if="$ntfs_img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "NTFS disk"
rm -f "$ntfs_img"
MBR_PARTUUID=$(printf '%08x-01' "$(od -An -tu4 -j440 -N4 "$DATA")")

# ntfs_out OUT: copies the NTFS partition out of the second disk (sparse).
ntfs_out() { dd if="$DATA" of="$1" bs=1M skip=1 count="$NTFS_MIB" conv=sparse status=none; }
# ntfs_clean IMG: true when the NTFS volume's dirty flag (bit 0) is clear.
ntfs_clean() {
    local f
    f=$(ntfsinfo -m -f "$1" 2>/dev/null | awk '/Volume Flags:/ { print $3; exit }')
    [ -n "$f" ] && [ $((f & 1)) -eq 0 ]
}
# root_file VHD PATH: prints PATH of the guest's root file system, read
# through the VHD's chain with vhdtool (no loop device, no mount).
root_file() {
    "$VHDTOOL" read "$1" "$ROOT_OFF" "$ROOT_LEN" --out "$W/root-now.img" >/dev/null &&
        debugfs -R "cat $2" "$W/root-now.img" 2>/dev/null
}
# root_fsck VHD: e2fsck -fn on the guest's root read through VHD.
root_fsck() {
    "$VHDTOOL" read "$1" "$ROOT_OFF" "$ROOT_LEN" --out "$W/root-now.img" >/dev/null &&
        e2fsck -fn "$W/root-now.img" >/dev/null 2>&1
}
# marker NAME: the marker the last boot's guest reported writing.
marker() { sed -n 's/.*VHDBOOT-TEST: wrote=\(boot-[0-9a-f-]*\).*/\1/p' "$IT_LOG" | head -n 1; }
# esp_clean: fsck.vfat -n finds the host ESP clean.
esp_clean() {
    dd if="$ESP" of="$W/esp-part.img" bs=1M skip=1 conv=sparse status=none &&
        fsck.vfat -n "$W/esp-part.img" >"$W/fsck.out" 2>&1 && ! grep -qi 'dirty' "$W/fsck.out"
}
# guest_common CASE [KIND]: what every boot that reached the guest shows;
# KIND is the attached device's kind (nbd, or loop for a fixed VHD).
guest_common() {
    local kind=${2:-nbd}
    it_expect_guest "$1: the guest reached multi-user, ran the test unit and powered off" 'VHDBOOT-TEST: done'
    it_expect "$1: the root file system is on the attached disk (/dev/$kind)" "VHDBOOT-TEST: root=/dev/$kind[0-9]+p2 attached=/dev/$kind[0-9]+ "
    it_reject "$1: the boot did not fall back" '^vhdboot: (continuing|the boot record|host volume|layer|vhdtool attach)'
    it_expect "$1: the return-to-initramfs program is in place" 'VHDBOOT-TEST: host=.* shutdown-program=yes'
    it_expect "$1: at shutdown the disk was detached and the host unmounted" '^vhdboot: virtual disk detached, host volumes unmounted'
}

# --- 1: dynamic VHD on FAT, persistent ---------------------------------------------------
esp_sha "$ESP" /vms/dyn.vhd >"$W/dyn.before"
it_conf_single "Debian dynamic on FAT" '\vms\dyn.vhd' persistent | esp_conf "$ESP"
it_boot debian-fat-dyn "$ESP"
guest_common fat-dyn
it_expect "fat-dyn: the host ESP was mounted read-write in the initramfs" 'VHDBOOT-TEST: host=/dev/vda1,vfat,rw'
M1=$(marker)
esp_get "$ESP" /vms/dyn.vhd "$W/dyn-after1.vhd"
t_eq "fat-dyn: the marker the guest wrote is in the VHD (vhdtool read)" "${M1:-none}" \
    "$(root_file "$W/dyn-after1.vhd" /var/lib/vhdboot-test/marker)"
t_check "fat-dyn: vhdtool check passes" "$VHDTOOL" check "$W/dyn-after1.vhd"
t_check "fat-dyn: the guest's root file system is clean (e2fsck -fn)" root_fsck "$W/dyn-after1.vhd"
t_check "fat-dyn: the host FAT volume is clean (fsck.vfat -n)" esp_clean

# --- 2: the same VHD, volatile ----------------------------------------------------------------
it_conf_single "Debian dynamic volatile" '\vms\dyn.vhd' volatile | esp_conf "$ESP"
it_boot debian-fat-volatile "$ESP"
guest_common fat-volatile
it_expect "fat-volatile: second boot sees the first boot's file" "VHDBOOT-TEST: previous=${M1:-none}\$"
it_expect "fat-volatile: the guest's write succeeded (into memory)" 'VHDBOOT-TEST: wrote=boot-'
t_eq "fat-volatile: the VHD is byte for byte unchanged" "$(sha256sum <"$W/dyn-after1.vhd" | cut -c1-64)" \
    "$(esp_sha "$ESP" /vms/dyn.vhd)"
t_check "fat-volatile: the host FAT volume is clean" esp_clean

# --- 3: 3-layer chain, base on NTFS, persistent ------------------------------------------------
ntfs_out "$W/ntfs-before.img"
BASE_SHA=$(ntfscat "$W/ntfs-before.img" /vms/chain/base.vhd | sha256sum | cut -c1-64)
MID_SHA=$(esp_sha "$ESP" /vms/chain/mid.vhd)
it_conf_single "Debian chain" '\vms\chain\top.vhd' persistent | esp_conf "$ESP"
# this boot ends in a reboot, not a poweroff: the same shutdown path must run
printf 'reboot\n' | mcopy -o -i "$ESP@@1M" - ::/vhdboot-test.mode
it_boot debian-chain "$ESP"
mdel -i "$ESP@@1M" ::/vhdboot-test.mode
guest_common chain
it_expect "chain: the guest ended with a reboot" 'reboot: Restarting system'
it_expect "chain: the loader opened 3 layers" '^vhdboot: opened chain of 3 layer'
M3=$(marker)
mkdir -p "$W/c3"
esp_get "$ESP" /vms/chain/top.vhd "$W/c3/top.vhd" && esp_get "$ESP" /vms/chain/mid.vhd "$W/c3/mid.vhd"
ntfs_out "$W/ntfs-now.img"
ntfscat "$W/ntfs-now.img" /vms/chain/base.vhd >"$W/c3/base.vhd"
t_eq "chain: the marker is in the top layer (read through the chain)" "${M3:-none}" \
    "$(root_file "$W/c3/top.vhd" /var/lib/vhdboot-test/marker)"
t_eq "chain: the base on NTFS is unchanged" "$BASE_SHA" "$(sha256sum <"$W/c3/base.vhd" | cut -c1-64)"
t_eq "chain: the middle layer is unchanged" "$MID_SHA" "$(esp_sha "$ESP" /vms/chain/mid.vhd)"
t_check "chain: vhdtool check passes on the top layer" "$VHDTOOL" check "$W/c3/top.vhd"
t_check "chain: the NTFS volume is clean (ntfsinfo: no dirty flag)" ntfs_clean "$W/ntfs-now.img"
t_check "chain: the host FAT volume is clean" esp_clean

# --- 4: the chain, readonly ---------------------------------------------------------------------
TOP_SHA=$(esp_sha "$ESP" /vms/chain/top.vhd)
it_conf_single "Debian chain readonly" '\vms\chain\top.vhd' readonly | esp_conf "$ESP"
it_boot debian-chain-ro "$ESP"
it_expect_guest "chain-ro: the guest reached multi-user and powered off" 'VHDBOOT-TEST: done'
it_expect "chain-ro: the root is the attached disk" 'VHDBOOT-TEST: root=/dev/nbd[0-9]+p2 '
it_expect "chain-ro: the guest sees the chain boot's file" "VHDBOOT-TEST: previous=${M3:-none}\$"
it_expect "chain-ro: the guest's write fails" 'VHDBOOT-TEST: write-failed'
t_eq "chain-ro: the top layer is unchanged" "$TOP_SHA" "$(esp_sha "$ESP" /vms/chain/top.vhd)"
t_eq "chain-ro: the middle layer is unchanged" "$MID_SHA" "$(esp_sha "$ESP" /vms/chain/mid.vhd)"
ntfs_out "$W/ntfs-now.img"
t_eq "chain-ro: the base is unchanged" "$BASE_SHA" "$(ntfscat "$W/ntfs-now.img" /vms/chain/base.vhd | sha256sum | cut -c1-64)"
t_check "chain-ro: the NTFS volume is clean" ntfs_clean "$W/ntfs-now.img"
t_check "chain-ro: the host FAT volume is clean" esp_clean

# --- 5: fixed VHD on NTFS, persistent -------------------------------------------------------------
it_conf_single "Debian fixed on NTFS" "PARTUUID=$MBR_PARTUUID:\\vms\\fixed.vhd" persistent | esp_conf "$ESP"
it_boot debian-ntfs-fixed "$ESP"
guest_common ntfs-fixed loop
it_expect "ntfs-fixed: the NTFS host was mounted read-write through ntfs-3g" 'VHDBOOT-TEST: host=/dev/vdb1,fuseblk,rw'
M5=$(marker)
ntfs_out "$W/ntfs-now.img"
ntfscat "$W/ntfs-now.img" /vms/fixed.vhd >"$W/fixed-now.vhd"
t_eq "ntfs-fixed: the marker is in the VHD on NTFS" "${M5:-none}" "$(root_file "$W/fixed-now.vhd" /var/lib/vhdboot-test/marker)"
t_check "ntfs-fixed: vhdtool check passes" "$VHDTOOL" check "$W/fixed-now.vhd"
t_check "ntfs-fixed: the guest's root file system is clean" root_fsck "$W/fixed-now.vhd"
t_check "ntfs-fixed: the NTFS volume is clean (ntfsinfo: no dirty flag)" ntfs_clean "$W/ntfs-now.img"

# --- 6: the NTFS host hibernated by Windows: refused, the boot falls back ------------------------
# hiberfil.sys starting "HIBR": ntfs-3g mounts such a volume read-only only.
printf 'HIBR' >"$W/hib" && head -c 4092 /dev/zero >>"$W/hib" &&
    ntfscp -q "$W/ntfs-now.img" "$W/hib" /hiberfil.sys &&
    dd if="$W/ntfs-now.img" of="$DATA" bs=1M seek=1 conv=notrunc,sparse status=none || it_setup_fail "hibernated NTFS"
FIXED_SHA=$(sha256sum <"$W/fixed-now.vhd" | cut -c1-64)
it_conf_single "Debian fixed on hibernated NTFS" "PARTUUID=$MBR_PARTUUID:\\vms\\fixed.vhd" persistent | esp_conf "$ESP"
it_boot debian-ntfs-hibernated "$ESP"
it_expect "hibernated: the console names the volume and why it is refused" \
    'vhdboot: host volume /dev/vdb1 \(ntfs\) mounted read-only, not read-write.*[Hh]ibernat'
it_expect "hibernated: the boot goes on without the virtual disk" 'vhdboot: continuing the boot without the virtual disk'
it_expect_guest "hibernated: no hang: the normal root lookup gives up and the guest ends" 'UUID=5e1f0c3a-7d2b-4c11-9a6e-0b5d2c7f4e01 does not exist'
it_reject "hibernated: the guest never ran from the disk read-only" 'VHDBOOT-TEST: root='
ntfs_out "$W/ntfs-now.img"
t_eq "hibernated: the VHD on NTFS is unchanged" "$FIXED_SHA" "$(ntfscat "$W/ntfs-now.img" /vms/fixed.vhd | sha256sum | cut -c1-64)"

# --- 7: a dynamic VHDX on FAT, persistent ------------------------------------------------------------
esp_put "$ESP" "$W/dyn.vhdx" /vms/dyn.vhdx || it_setup_fail "the VHDX on the ESP"
it_conf_single "Debian dynamic VHDX on FAT" '\vms\dyn.vhdx' persistent | esp_conf "$ESP"
it_boot debian-vhdx "$ESP"
guest_common vhdx
M7=$(marker)
esp_get "$ESP" /vms/dyn.vhdx "$W/dyn-after.vhdx"
t_eq "vhdx: the marker the guest wrote is in the VHDX (vhdtool read)" "${M7:-none}" \
    "$(root_file "$W/dyn-after.vhdx" /var/lib/vhdboot-test/marker)"
t_check "vhdx: vhdtool check passes" "$VHDTOOL" check "$W/dyn-after.vhdx"
t_check "vhdx: the guest's root file system is clean (e2fsck -fn)" root_fsck "$W/dyn-after.vhdx"
t_check "vhdx: the host FAT volume is clean (fsck.vfat -n)" esp_clean

# --- 8: power loss during writes ----------------------------------------------------------------------
printf 'powerloss\n' | mcopy -o -i "$ESP@@1M" - ::/vhdboot-test.mode
it_conf_single "Debian power loss" '\vms\dyn.vhd' persistent | esp_conf "$ESP"
it_boot debian-powerloss "$ESP"
it_expect "powerloss: QEMU was stopped while the guest wrote" 'VHDBOOT-TEST: writing'
esp_get "$ESP" /vms/dyn.vhd "$W/dyn-lost.vhd"
# Killed while the file grew, the host FAT may have recorded the new size
# before the new footer's bytes (FAT orders neither): then check reports the
# damaged trailing footer only, and the next writable open (the loader's,
# vhdtool's) rewrites it from the copy at offset 0 — here check --repair.
if ! "$VHDTOOL" check "$W/dyn-lost.vhd" >"$W/lost-check.txt" 2>&1; then
    grep -q 'trailing footer is damaged' "$W/lost-check.txt" && grep -q '1 problem found' "$W/lost-check.txt" &&
        "$VHDTOOL" check --repair "$W/dyn-lost.vhd" >/dev/null 2>&1
    echo "# powerloss: $(grep -c . "$W/lost-check.txt") check line(s) before the repair: $(tr '\n' ' ' <"$W/lost-check.txt" | cut -c1-300)"
fi
t_check "powerloss: vhdtool check passes on the VHD (after --repair when only the trailing footer was lost)" \
    "$VHDTOOL" check "$W/dyn-lost.vhd"
t_eq "powerloss: the first boot's marker is still there" "${M1:-none}" \
    "$(root_file "$W/dyn-lost.vhd" /var/lib/vhdboot-test/marker)"
# root_file left the root partition in root-now.img: replay its journal.
e2fsck -fy "$W/root-now.img" >/dev/null 2>&1
t_check "powerloss: after its journal replay the guest's root file system checks clean" e2fsck -fn "$W/root-now.img"

exit $T_FAILED
