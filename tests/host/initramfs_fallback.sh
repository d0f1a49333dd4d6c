#!/bin/bash
# The initramfs step's refusals, run on the host with the real vhdtool and
# real mounts (ntfs-3g) of a GPT disk's two NTFS partitions on loop devices; each bad
# input prints one "vhdboot:" line naming the problem, leaves nothing mounted
# and lets the boot go on (vb_read_record / vb_attach return, no hang):
# no record (silent), a corrupt record, a host partition that is not there,
# a missing layer, an NTFS host hibernated by Windows (ntfs-3g refuses
# read-write). Also: layer paths resolve without regard to case.
# Needs root and loop devices (skipped with a notice otherwise).
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools mkntfs ntfscp ntfs-3g sgdisk
if [ "$(id -u)" != 0 ] || ! losetup -f >/dev/null 2>&1 || [ ! -c /dev/fuse ]; then
    t_skip "initramfs fallback paths" "needs root, a free loop device and /dev/fuse"
    exit 0
fi
LIB=$T_ROOT/linux/vhdboot-lib.sh
IMG=$T_TMP/disk.img
OK_PU=7e57fa70-0000-4000-8000-000000000001
NTFS_PU=7e57fa70-0000-4000-8000-000000000002
truncate -s 80M "$IMG" &&
    sgdisk -n 1:2048:+32M -t 1:0700 -u 1:$OK_PU -n 2:0:+40M -t 2:0700 -u 2:$NTFS_PU "$IMG" >/dev/null &&
    "$VHDTOOL" create dynamic 4M "$T_TMP/a.vhd" >/dev/null 2>&1 &&
    truncate -s 32M "$T_TMP/ok.img" && mkntfs -F -Q -q -L OK "$T_TMP/ok.img" >/dev/null 2>&1 &&
    ntfscp -q "$T_TMP/ok.img" "$T_TMP/a.vhd" /a.vhd &&
    dd if="$T_TMP/ok.img" of="$IMG" bs=1M seek=1 conv=notrunc status=none &&
    truncate -s 40M "$T_TMP/ntfs.img" && mkntfs -F -Q -q -L HIB "$T_TMP/ntfs.img" >/dev/null 2>&1 &&
    printf 'HIBR' >"$T_TMP/hib" && head -c 4092 /dev/zero >>"$T_TMP/hib" &&
    ntfscp -q "$T_TMP/ntfs.img" "$T_TMP/a.vhd" /a.vhd &&
    ntfscp -q "$T_TMP/ntfs.img" "$T_TMP/hib" /hiberfil.sys &&
    dd if="$T_TMP/ntfs.img" of="$IMG" bs=1M seek=$((2048 * 512 / 1048576 + 32)) conv=notrunc status=none ||
    { t_fail "setup: test disk"; exit 1; }
# One loop device per partition (offset, size): kernels here do not scan
# partition tables of loop devices, so there is no by-partuuid link; the
# lookup by PARTUUID itself runs in the guest boots (test_debian.sh).
OK_DEV=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((32 << 20)) "$IMG") || {
    t_skip "initramfs fallback paths" "losetup failed"; exit 0; }
NTFS_DEV=$(losetup -f --show -o $((2048 * 512 + (32 << 20))) --sizelimit $((40 << 20)) "$IMG") || {
    losetup -d "$OK_DEV"; t_skip "initramfs fallback paths" "losetup failed"; exit 0; }
MNT=$T_TMP/mnt
cleanup() {
    grep -o " $MNT/[^ ]*" /proc/mounts | while read -r m; do umount "$m" 2>/dev/null; done
    losetup -d "$OK_DEV" "$NTFS_DEV" 2>/dev/null
    rm -rf "$T_TMP"
}
trap cleanup EXIT
mkdir -p "$T_TMP/bin" && ln -s "$(command -v ntfs-3g)" "$T_TMP/bin/@ntfs-3g"

# step TEXT: runs the boot step (record from TEXT, then attach) in a subshell
# with the library; stderr in $T_TMP/msg; prints the step's status.
step() {
    rm -rf "$MNT" "$T_TMP/link"
    (
        PATH=$T_TMP/bin:$PATH VB_MNT=$MNT VB_LINK=$T_TMP/link VB_TOOL=$VHDTOOL VB_WAIT=1
        . "$LIB"
        eval "vb_find_by_partuuid() $(declare -f vb_find_partition | tail -n +2)"
        vb_find_partition() {
            case $1 in
                "$OK_PU") echo "$OK_DEV" ;;
                "$NTFS_PU") echo "$NTFS_DEV" ;;
                *) vb_find_by_partuuid "$1" ;;
            esac
        }
        mkdir -p "$VB_STATE"
        VB_HANDOFF="--cmdline $1"
        vb_read_record || exit 10
        vb_attach || exit 11
        exit 0
    ) 2>"$T_TMP/msg"
    echo $?
}
mounted() { grep -c " $MNT/" /proc/mounts; }
U=10111213-1415-1617-1819-1a1b1c1d1e1f
rec() { echo "v1,mode=$1,size=4194304,uuid=$U,host=$2,layer=dynamic:$U:$3"; }

t_eq "no record: the step returns quietly" "10:" "$(step 'root=UUID=x quiet'):$(cat "$T_TMP/msg")"
t_eq "corrupt record: refused" 10 "$(step 'vhdboot.disk=v9,mode=bogus')"
t_grep "corrupt record: the console line says the record is unusable" '^vhdboot: the boot record is unusable: .+' "$T_TMP/msg"
t_eq "missing host partition: refused" 11 "$(step "$(rec persistent fat:gpt:7e57fa70-0000-4000-8000-0000000000ff /vms/a.vhd)")"
t_grep "missing host partition: named" '^vhdboot: host partition PARTUUID=7e57fa70-0000-4000-8000-0000000000ff not found' "$T_TMP/msg"
t_eq "missing layer: refused" 11 "$(step "$(rec persistent ntfs:gpt:$OK_PU /vms/gone.vhd)")"
t_grep "missing layer: the line names the layer's path" '^vhdboot: layer 0 is missing: /vms/gone.vhd on the host volume' "$T_TMP/msg"
t_eq "missing layer: the host volume was unmounted again" 0 "$(mounted)"
t_eq "hibernated NTFS host: refused" 11 "$(step "$(rec persistent ntfs:gpt:$NTFS_PU /a.vhd)")"
t_grep "hibernated NTFS host: the line names the volume and ntfs-3g's reason" \
    "^vhdboot: host volume $NTFS_DEV \(ntfs\) (will not mount rw|mounted read-only, not read-write).*[Hh]ibernat" "$T_TMP/msg"
t_eq "hibernated NTFS host: nothing left mounted" 0 "$(mounted)"

# vb_resolve: exact names first, else a case-insensitive match per component.
mkdir -p "$T_TMP/ci/VMs/Lab" && : >"$T_TMP/ci/VMs/Lab/Child.VHD"
t_eq "layer paths resolve without regard to case" "$T_TMP/ci/VMs/Lab/Child.VHD" \
    "$(. "$LIB"; vb_resolve "$T_TMP/ci" /vms/lab/child.vhd)"
t_eq "a missing component resolves to nothing" "" "$(. "$LIB"; vb_resolve "$T_TMP/ci" /vms/nope/child.vhd)"
exit $T_FAILED
