#!/bin/bash
# RAM-disk load benchmark (`write ram`): boots build/rambench.efi under
# QEMU+OVMF (TCG) from a host disk whose FAT32 ESP holds two dynamic VHDs of
# BENCH_RAM_MIB (default 2048) MiB: \full.vhd with every block allocated and
# \sparse.vhd with every tenth block allocated, both of random data. The app
# runs, interleaved over 5 rounds after a warm-up, two reads of full.vhd from
# the raw host disk (its whole span in 8 MiB requests; its block data, the
# bytes the load reads, one 2 MiB request per block) and the loader's
# RAM-disk load of each VHD, each
# framed by console lines that tests/bench/serial_clock.py stamps with the
# host's clock (the guest's TSC is not steady on a virtual machine); this
# script prints the median and range of each, full/raw and full/sparse.
# Figures only, never a verdict.
#
# Environment: BENCH_RAM_MIB  disk size in MiB (default 2048)
#              BENCH_LIMIT    QEMU time limit in seconds (default 900)
#              BENCH_RAM_LOG  where to keep the console log (default build/bench-ramdisk.log)
# Exit status: 0 when the figures are complete ("RAMBENCH: done"), 1
# otherwise, 77 when QEMU, OVMF or a tool is missing.
. "$(dirname "$0")/../integration/lib.sh"

MIB=${BENCH_RAM_MIB:-2048}
LIMIT=${BENCH_LIMIT:-900}
LOG_KEEP=${BENCH_RAM_LOG:-$T_BUILD/bench-ramdisk.log}
APP=$T_BUILD/rambench.efi
W=$T_TMP

why=$(qemu_missing)
for tool in sgdisk mkfs.vfat mcopy; do
    command -v "$tool" >/dev/null 2>&1 || why=${why:-"$tool not installed"}
done
if [ -n "$why" ]; then
    echo "ram bench skipped: $why"
    exit 77
fi
make --no-print-directory -s -C "$T_ROOT" build/rambench.efi >/dev/null || { echo "cannot build $APP" >&2; exit 1; }
[ -x "$VHDTOOL" ] || { echo "missing $VHDTOOL (make all)" >&2; exit 1; }
bench_fail() {
    echo "ram bench: setup failed: $1" >&2
    exit 1
}

echo "preparing two ${MIB} MiB dynamic VHDs (all blocks / every tenth 2 MiB block allocated)..."
head -c $((MIB << 20)) /dev/urandom >"$W/full.raw" || bench_fail "random data"
"$VHDTOOL" convert "$W/full.raw" "$W/full.vhd" -O dynamic >/dev/null || bench_fail "full.vhd"
rm -f "$W/full.raw"
truncate -s $((MIB << 20)) "$W/sparse.raw"
for ((b = 0; b < MIB / 2; b += 10)); do
    head -c $((2 << 20)) /dev/urandom |
        dd of="$W/sparse.raw" bs=1M seek=$((b * 2)) conv=notrunc,sparse status=none || bench_fail "sparse data"
done
"$VHDTOOL" convert "$W/sparse.raw" "$W/sparse.vhd" -O dynamic >/dev/null || bench_fail "sparse.vhd"
rm -f "$W/sparse.raw"
"$VHDTOOL" info "$W/sparse.vhd" | grep -iE 'allocated|blocks' | sed 's/^/sparse.vhd: /'

bytes=$(du -cb "$W/full.vhd" "$W/sparse.vhd" | tail -n 1 | cut -f1)
VOL_MIB=$((bytes / 1048576 * 11 / 10 + 64))
DISK=$W/host.img
truncate -s $((VOL_MIB + 2))M "$DISK"
sgdisk -n 1:2048:0 -t 1:ef00 -c 1:BENCHESP "$DISK" >/dev/null || bench_fail "partition table"
mkfs.vfat -F 32 -n BENCHESP --offset 2048 "$DISK" $((VOL_MIB * 1024)) >/dev/null 2>&1 || bench_fail "mkfs.vfat"
mmd -i "$DISK@@1M" ::/EFI ::/EFI/BOOT && mcopy -i "$DISK@@1M" "$APP" ::/EFI/BOOT/BOOTX64.EFI &&
    mcopy -i "$DISK@@1M" "$W/full.vhd" "$W/sparse.vhd" ::/ || bench_fail "files on the ESP"
rm -f "$W/full.vhd" "$W/sparse.vhd"
# One sequential rewrite: every region sits in the host page cache alike.
dd if="$DISK" of="$DISK.seq" bs=4M conv=sparse status=none && mv "$DISK.seq" "$DISK" || bench_fail "rewriting the disk image"

# Memory: the disk plus the loader's margin in one free range. QEMU's q35
# puts at most 2 GiB below 4 GiB, so the rest (above 4 GiB) must hold it.
GUEST_MIB=$((2048 + MIB * 2 + 512))
cp "$OVMF_VARS" "$W/vars.fd"
echo "booting the RAM-disk benchmark under QEMU+OVMF (TCG, ${GUEST_MIB} MiB)..."
t0=$SECONDS
python3 "$T_ROOT/tests/bench/serial_clock.py" "$W/bench.log" 'RAMBENCH: (done|error)|X64 Exception Type' -- \
    timeout --kill-after=5 "$LIMIT" "$QEMU" -machine q35 -accel tcg -m "$GUEST_MIB" -smp 1 \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
    -drive "if=pflash,format=raw,unit=1,file=$W/vars.fd" \
    -drive "if=none,id=disk0,format=raw,file=$DISK" -device virtio-blk-pci,drive=disk0,bootindex=0 \
    -nographic -serial mon:stdio -no-reboot -net none
rc=$?
mkdir -p "$(dirname "$LOG_KEEP")"
cp "$W/bench.log" "$LOG_KEEP"
echo "QEMU: $(qemu_verdict $rc) after $((SECONDS - t0)) s (console with host timestamps in $LOG_KEEP)"
grep -q 'RAMBENCH: done' "$W/bench.log" || { grep -E 'RAMBENCH: error|Exception' "$W/bench.log"; exit 1; }
echo
# Each case's time: from its begin line to its end line, on the host's clock.
python3 - "$W/bench.log" "$MIB" <<'PY'
import re, sys, statistics
log, mib = sys.argv[1], int(sys.argv[2])
begin, times, holes = {}, {}, []
for line in open(log, encoding="utf-8"):
    stamp, _, text = line.rstrip("\n").partition(" ")
    m = re.search(r"RAMBENCH: (begin|end) (\d+) (\w+)", text)
    if m:
        key = (int(m.group(2)), m.group(3))
        if m.group(1) == "begin":
            begin[key] = float(stamp)
        elif key in begin and key[0] > 0:  # round 0 is the warm-up
            times.setdefault(key[1], []).append(float(stamp) - begin[key])
    m = re.search(r"vhdboot: loaded (\d+) MiB of data in \d+ ms .*; (\d+) MiB of holes zeroed", text)
    if m and int(m.group(1)) < mib:
        holes.append(int(m.group(1)))
names = {"raw": "raw disk, full.vhd's span, 8 MiB requests",
         "blocks": "raw disk, full.vhd's blocks, 2 MiB requests",
         "full": "ram load, full.vhd (all blocks)", "sparse": "ram load, sparse.vhd (10 % of blocks)"}
med = {}
print("%-46s %8s %14s %10s" % ("case (host clock, %d rounds)" % len(times.get("raw", [])), "median", "range", "MB/s"))
for case in ("raw", "blocks", "full", "sparse"):
    t = sorted(times.get(case, []))
    if not t:
        print("%s: no times" % case); sys.exit(1)
    med[case] = statistics.median(t)
    print("%-46s %6.0f ms %5.0f-%5.0f ms %10.1f" % (names[case], med[case] * 1000, t[0] * 1000, t[-1] * 1000,
                                                 mib * 1048576 / med[case] / 1e6))
# Ratios from the medians, and the median of the ratios within each round
# (the cases of one round ran back to back, under the same host load).
def paired(a, b):
    r = sorted(x / y for x, y in zip(times[a], times[b]))
    return "%.2f (per round: median %.2f, %.2f-%.2f)" % (med[a] / med[b], statistics.median(r), r[0], r[-1])
print("full load throughput / raw read of the same bytes (blocks): %s; goal >= 0.90" % paired("blocks", "full"))
print("full load throughput / raw read of the file's span in 8 MiB requests: %s" % paired("raw", "full"))
print("10 %% image vs full image, times faster: %s; goal >= 5" % paired("full", "sparse"))
PY
