#!/bin/sh
# Installs the Debian packages vhdboot needs to build, test and demo.
# Does nothing when all are present; uses sudo when not root.
set -e
PKGS="build-essential gnu-efi ovmf qemu-system-x86 qemu-utils mtools dosfstools gdisk
ntfs-3g ntfs-3g-dev libcmocka-dev clang libclang-rt-14-dev llvm libvhdi-utils sbsigntool
systemd-boot-efi grub-efi-amd64-bin grub-common busybox-static cpio gzip xz-utils zstd
efibootmgr python3 openssl coreutils mmdebstrap e2fsprogs util-linux dpkg"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
