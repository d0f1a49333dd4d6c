#!/bin/bash
# Firmware benchmark: boots build/bench.efi under QEMU+OVMF (TCG) on a host
# disk with a FAT32 ESP and an NTFS data partition that both hold the same
# fixed VHD, dynamic VHD and 3-layer differencing chain (\fixed.vhd,
# \dynamic.vhd, \top.vhd -> \middle.vhd -> \base.vhd), and prints the app's
# table: sequential (1 MiB) and random (4 KiB) read MB/s through
#   (a) the raw host disk BlockIO,
#   (b) vhdboot's virtual disk on FAT and on NTFS,
#   (c) the fixed VHD read as a file through the firmware's FAT driver,
# with the ratio of each to (a). Then boots the loader itself (vhdboot.efi)
# from the same disk a few times, with an entry for a 4 GiB dynamic VHD on
# the NTFS partition, and prints its "vhdboot: ready in N ms" line (loader
# start to StartImage) for each boot. With BENCH_FORMAT=vhdx the volumes
# also hold the same disks as VHDX (\fixed.vhdx, ...): (b) has a VHDX row
# after each VHD row, and (a) is also read over fixed.vhdx's data (a control
# for where a file lies on the disk). Figures only, never a verdict.
#
# Environment: BENCH_MIB  virtual disk size in MiB (default 256)
#              BENCH_ROUNDS  passes over all cases (default 3)
#              BENCH_RANDOM  random requests per case and pass (default 2048)
#              BENCH_PROFILE=1  adds rows that take the virtual disk stack apart
#              BENCH_READY_BOOTS  loader boots timed to StartImage (default 3)
#              BENCH_LIMIT  QEMU time limit in seconds (default 900)
#              BENCH_LOG  where to keep the console log (default build/bench-efi.log)
# Exit status: 0 when the table is complete ("BENCH: done"), 1 otherwise,
# 77 when QEMU, OVMF or a tool is missing.
. "$(dirname "$0")/../integration/lib.sh"

MIB=${BENCH_MIB:-256}
LIMIT=${BENCH_LIMIT:-900}
LOG_KEEP=${BENCH_LOG:-$T_BUILD/bench-efi.log}
APP=$T_BUILD/bench.efi
W=$T_TMP

why=$(qemu_missing)
for tool in sgdisk mkfs.vfat mcopy mkntfs ntfscp; do
    command -v "$tool" >/dev/null 2>&1 || why=${why:-"$tool not installed"}
done
if [ -n "$why" ]; then
    echo "efi bench skipped: $why"
    exit 77
fi
# `make bench` builds the loader and vhdtool; the app is built here.
make --no-print-directory -s -C "$T_ROOT" build/bench.efi >/dev/null || { echo "cannot build $APP" >&2; exit 1; }
[ -x "$VHDTOOL" ] || { echo "missing $VHDTOOL (make all)" >&2; exit 1; }
make --no-print-directory -s -C "$T_ROOT" build/vhdboot.efi build/payload.efi >/dev/null ||
    { echo "cannot build the loader and payload" >&2; exit 1; }

# bench_fail WHAT: reports a setup failure and exits.
bench_fail() {
    echo "efi bench: setup failed: $1" >&2
    exit 1
}

# --- the VHDs: random data in every sector, so no block is a hole ----------
echo "preparing ${MIB} MiB VHDs (fixed, dynamic, 3-layer chain)..."
head -c $((MIB << 20)) /dev/urandom >"$W/disk.raw" || bench_fail "random data"
# All files sit in the root folder of both volumes (ntfscp makes no folders).
V=$W/vhds
mkdir -p "$V"
"$VHDTOOL" convert "$W/disk.raw" "$V/fixed.vhd" -O fixed >/dev/null || bench_fail "fixed VHD"
"$VHDTOOL" convert "$W/disk.raw" "$V/dynamic.vhd" -O dynamic >/dev/null || bench_fail "dynamic VHD"
"$VHDTOOL" convert "$W/disk.raw" "$V/base.vhd" -O dynamic >/dev/null || bench_fail "chain base"
# BENCH_FORMAT=vhdx (tests/bench/efi_vhdx_bench.sh): the same disks as VHDX
# too, beside them (*.vhdx; fixed and dynamic with 2 MiB blocks, a chain of
# .vhdx layers); the app then runs each VHD case and its VHDX twin in the
# same rounds, one after the other.
EXTS=vhd
if [ "${BENCH_FORMAT:-vhd}" = vhdx ]; then
    EXTS="vhd vhdx"
    "$VHDTOOL" create fixed "$MIB"M "$V/fixed.vhdx" --format vhdx --block-size 2M >/dev/null &&
        "$VHDTOOL" write "$V/fixed.vhdx" 0 --in "$W/disk.raw" >/dev/null || bench_fail "fixed VHDX"
    "$VHDTOOL" convert "$W/disk.raw" "$V/dynamic.vhdx" -O vhdx >/dev/null || bench_fail "dynamic VHDX"
    "$VHDTOOL" convert "$W/disk.raw" "$V/base.vhdx" -O vhdx >/dev/null || bench_fail "VHDX chain base"
fi
# middle and top each rewrite two eighths of the disk with new random data,
# so a sequential read meets all three layers in turn. Each child is made
# after its parent's writes (a VHDX parent's DataWriteGuid changes on write).
eighth=$((MIB << 17))
head -c $eighth /dev/urandom >"$W/piece"
for x in $EXTS; do
    "$VHDTOOL" create diff --parent "$V/base.$x" "$V/middle.$x" >/dev/null || bench_fail "chain middle ($x)"
    for i in 1 5; do "$VHDTOOL" write "$V/middle.$x" $((i * eighth)) --in "$W/piece" >/dev/null || bench_fail "middle layer ($x)"; done
    "$VHDTOOL" create diff --parent "$V/middle.$x" "$V/top.$x" >/dev/null || bench_fail "chain top ($x)"
    for i in 3 7; do "$VHDTOOL" write "$V/top.$x" $((i * eighth)) --in "$W/piece" >/dev/null || bench_fail "top layer ($x)"; done
done
rm -f "$W/piece" "$W/disk.raw"

# The loader's boot: a 4 GiB dynamic VHD holding a GPT disk whose ESP has the
# payload as \EFI\BOOT\BOOTX64.EFI (it is stopped as soon as the loader
# says it is ready, so what the payload does never counts). Only the ESP's
# blocks and the backup GPT are allocated (about 40 MiB).
BIG_SIZE=$((4 << 30))
truncate -s $BIG_SIZE "$W/big.raw"
sgdisk -n 1:2048:+32M -t 1:ef00 "$W/big.raw" >/dev/null || bench_fail "partition table of big.vhd"
mkfs.vfat -F 16 --offset 2048 "$W/big.raw" $((32 * 1024)) >/dev/null 2>&1 &&
    mmd -i "$W/big.raw@@1M" ::/EFI ::/EFI/BOOT &&
    mcopy -i "$W/big.raw@@1M" "$T_BUILD/payload.efi" ::/EFI/BOOT/BOOTX64.EFI || bench_fail "ESP of big.vhd"
"$VHDTOOL" create dynamic $BIG_SIZE "$W/big.vhd" --exact-size >/dev/null &&
    head -c $((34 << 20)) "$W/big.raw" | "$VHDTOOL" write "$W/big.vhd" 0 --in - >/dev/null &&
    tail -c $((1 << 20)) "$W/big.raw" | "$VHDTOOL" write "$W/big.vhd" $((BIG_SIZE - (1 << 20))) --in - >/dev/null ||
    bench_fail "big.vhd"
rm -f "$W/big.raw"

# --- the host disk: GPT, p1 FAT32 ESP (app + VHDs), p2 NTFS (VHDs) ----------
bytes=$(du -cb "$V" "$W/big.vhd" | tail -n 1 | cut -f1)
VOL_MIB=$((bytes / 1048576 * 11 / 10 + 48))
DISK=$W/host.img
NTFS=$W/ntfs.img
truncate -s $((2 * VOL_MIB + 2))M "$DISK"
sgdisk -n 1:2048:+${VOL_MIB}M -t 1:ef00 -c 1:BENCHESP -n 2:0:0 -t 2:0700 -c 2:BENCHNTFS "$DISK" >/dev/null ||
    bench_fail "partition table"
read -r P2_START P2_END < <(sgdisk -i 2 "$DISK" | awk '/First sector/ { f = $3 } /Last sector/ { l = $3 } END { print f, l }')
# mkfs.vfat sizes clusters by the whole image, not the volume: on a small
# volume (the test's 4 MiB disks) that leaves FAT32 too few clusters, which
# mtools then reads as no FAT32 at all; 512-byte clusters keep it valid.
small=""
[ "$VOL_MIB" -lt 512 ] && small="-s 1"
mkfs.vfat -F 32 $small -n BENCHESP --offset 2048 "$DISK" $((VOL_MIB * 1024)) >/dev/null 2>&1 || bench_fail "mkfs.vfat"
mmd -i "$DISK@@1M" ::/EFI ::/EFI/BOOT && mcopy -i "$DISK@@1M" "$APP" ::/EFI/BOOT/BOOTX64.EFI &&
    mcopy -i "$DISK@@1M" $(for x in $EXTS; do echo "$V"/*."$x"; done) ::/ &&
    printf "rounds %s\nrandom %s\nprofile %s\n" "${BENCH_ROUNDS:-3}" "${BENCH_RANDOM:-2048}" "${BENCH_PROFILE:-0}" | mcopy -i "$DISK@@1M" - ::/EFI/BOOT/bench.cfg || bench_fail "files on the ESP"
truncate -s $(((P2_END - P2_START + 1) * 512)) "$NTFS"
mkntfs -F -Q -q -L VBBENCH -p "$P2_START" -H 255 -S 63 "$NTFS" >/dev/null 2>&1 || bench_fail "mkntfs"
ntfs_put() { ntfscp -q "$NTFS" "$1" "$2" >/dev/null 2>&1; }
for x in $EXTS; do
    for f in fixed dynamic base middle top; do
        ntfs_put "$V/$f.$x" "/$f.$x" || bench_fail "ntfscp $f.$x"
    done
done
ntfs_put "$W/big.vhd" "/big.vhd" || bench_fail "ntfscp big.vhd"
rm -f "$W/big.vhd"
dd if="$NTFS" of="$DISK" bs=1M seek=$((P2_START * 512)) oflag=seek_bytes conv=notrunc,sparse status=none ||
    bench_fail "NTFS partition into the disk"
rm -rf "$NTFS" "$V"
# Rewrite the image in one sequential pass: every region then sits in the
# host page cache the same way (mtools and dd left pieces of very different
# sizes), and every case reads from memory.
dd if="$DISK" of="$DISK.seq" bs=4M conv=sparse status=none && mv "$DISK.seq" "$DISK" || bench_fail "rewriting the disk image"

# --- one boot ----------------------------------------------------------------
echo "booting the benchmark app under QEMU+OVMF (TCG)..."
t0=$SECONDS
qemu_run "$W/bench.log" "$LIMIT" 'BENCH: done|BENCH: error|X64 Exception Type' "$DISK"
rc=$?
mkdir -p "$(dirname "$LOG_KEEP")"
cp "$W/bench.log" "$LOG_KEEP"
echo "QEMU: $(qemu_verdict $rc) after $((SECONDS - t0)) s (console in $LOG_KEEP)"
echo
sed -n 's/^BENCH: //p' "$W/bench.log"
grep -q '^BENCH: done' "$W/bench.log" || exit 1

# --- the loader, timed to StartImage ---------------------------------------
mcopy -o -i "$DISK@@1M" "$T_BUILD/vhdboot.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    printf 'timeout 0\ndefault big\nentry big\n  title 4 GiB dynamic VHD on NTFS\n  vhd VBBENCH:\\big.vhd\n' |
    mcopy -o -i "$DISK@@1M" - ::/EFI/BOOT/vhdboot.conf || bench_fail "the loader on the ESP"
echo
echo "loader start to StartImage, 4 GiB dynamic VHD on NTFS (vhdboot: ready in N ms):"
times=()
for ((i = 1; i <= ${BENCH_READY_BOOTS:-3}; i++)); do
    qemu_run "$W/ready.log" 120 'vhdboot: ready in|vhdboot: error|X64 Exception Type' "$DISK"
    ms=$(sed -n 's/^vhdboot: ready in \([0-9]*\) ms.*/\1/p' "$W/ready.log" | head -n 1)
    if [ -z "$ms" ]; then
        echo "boot $i: no ready line ($(grep -m1 -E 'vhdboot: error|Exception' "$W/ready.log"))"
        cp "$W/ready.log" "$LOG_KEEP.ready"
        exit 1
    fi
    times+=("$ms")
    echo "boot $i: ready in $ms ms"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "ready in: median $(sed -n "$(((${#times[@]} + 1) / 2))p" <<<"$sorted") ms, range $(head -n 1 <<<"$sorted")-$(tail -n 1 <<<"$sorted") ms over ${#times[@]} boots"
