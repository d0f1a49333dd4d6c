#!/bin/bash
# Loader smoke run (not part of the suite): builds a guest GPT disk holding
# build/payload.efi and a pattern partition, turns it into a VHD, puts it on a
# host ESP with build/vhdboot.efi and a vhdboot.conf, boots OVMF and looks for
# "PAYLOAD: PASS".
#   usage: tests/integration/smoke_loader.sh [persistent|volatile|readonly] [fixed|dynamic|chain]
# chain: a dynamic base with two differencing layers made by build/vhdtool.
# Keeps its files in build/smoke/ and prints the console log path.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=${1:-persistent}
SUBFORMAT=${2:-fixed}
DIR=$ROOT/build/smoke
export MTOOLS_SKIP_CHECK=1
mkdir -p "$DIR"
cd "$DIR"
rm -f guest.img guest.vhd host.img vars.fd console.log

# Guest disk: 1 MiB-aligned ESP (20 MiB, FAT16) + "pattern" partition (8 MiB).
truncate -s 40M guest.img
sgdisk -n 1:2048:+20M -t 1:ef00 -n 2:0:+8M -t 2:8300 -c 2:pattern guest.img >/dev/null
mkfs.vfat -n GUESTESP --offset 2048 guest.img 20480 >/dev/null 2>&1
mmd -i guest.img@@1M ::/EFI ::/EFI/BOOT
mcopy -i guest.img@@1M "$ROOT/build/payload.efi" ::/EFI/BOOT/BOOTX64.EFI
first=$(sgdisk -i 2 guest.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
last=$(sgdisk -i 2 guest.img | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
python3 "$ROOT/tools/mkpattern.py" guest.img "$first" $((last - first + 1))
rm -rf layers
if [ "$SUBFORMAT" = chain ]; then
    mkdir layers
    qemu-img convert -q -f raw -O vpc -o subformat=dynamic,force_size=on guest.img layers/base.vhd
    "$ROOT/build/vhdtool" create diff --parent layers/base.vhd layers/mid.vhd >/dev/null
    "$ROOT/build/vhdtool" create diff --parent layers/mid.vhd guest.vhd >/dev/null
else
    qemu-img convert -q -f raw -O vpc -o subformat="$SUBFORMAT",force_size=on guest.img guest.vhd
fi

# Host disk: one ESP with the loader, its config and the VHD.
truncate -s 120M host.img
sgdisk -n 1:2048:0 -t 1:ef00 host.img >/dev/null
mkfs.vfat -F 32 -n HOSTESP --offset 2048 host.img $(( (120 - 1) * 1024 - 64 )) >/dev/null
printf 'timeout 0\r\nentry smoke\r\n  title Smoke test\r\n  vhd \\vms\\guest.vhd\r\n  write %s\r\n' "$MODE" >vhdboot.conf
mmd -i host.img@@1M ::/EFI ::/EFI/BOOT ::/vms
mcopy -i host.img@@1M "$ROOT/build/vhdboot.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i host.img@@1M vhdboot.conf ::/EFI/BOOT/vhdboot.conf
mcopy -i host.img@@1M guest.vhd ::/vms/guest.vhd
[ -d layers ] && mcopy -i host.img@@1M layers/base.vhd layers/mid.vhd ::/vms/

cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
timeout 180 qemu-system-x86_64 -machine q35 -accel tcg -m 512 -smp 1 \
    -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
    -drive if=pflash,format=raw,unit=1,file=vars.fd \
    -drive if=none,id=d0,format=raw,file=host.img -device virtio-blk-pci,drive=d0,bootindex=0 \
    -nographic -serial mon:stdio -no-reboot -net none </dev/null >console.log 2>&1 || true
sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' console.log | grep -aE '^(vhdboot|PAYLOAD)' || true
echo "console: $DIR/console.log"
grep -aq 'PAYLOAD: PASS' console.log
