#!/bin/bash
# RAM-disk load benchmark (`write ram`): boots build/rambench.efi under
# QEMU+OVMF (TCG) from a host disk whose FAT32 ESP holds two dynamic VHDs of
# BENCH_RAM_MIB (default 2048) MiB: \full.vhd with every block allocated and
# \sparse.vhd with every tenth block allocated, both of random data. Cases
# (tests/efi/rambench.c): two reads of full.vhd from the raw host disk (raw:
# its whole span in 8 MiB requests; blocks: its block data, the bytes the
# load reads, one 2 MiB request per block) and the loader's RAM-disk load of
# each VHD (full, sparse), each framed by console lines that
# tests/bench/serial_clock.py stamps with the host's clock (the guest's TSC
# is not steady on a virtual machine).
#
# Runs:
#   warm  one boot, interleaved rounds after a warm-up round: the memory a
#         case gets was used by the case before (dirty, already backed by
#         the host), as memory is on a machine that has been running;
#   cold  one boot per case and repetition, the case once on memory the
#         guest has never touched: a first load after power-on in a VM.
# Each warm run, and each cold one, is made with 1 and with 2 virtual
# processors (BENCH_RAM_SMP): with 2 the loader zeroes holes on the second
# one while the first reads (efi/efi_mp.h).
# Disk configurations (BENCH_RAM_CONFIGS, default "tcg sata nvme"):
#   tcg   the host disk as QEMU gives it: a read is a memory copy on the
#         host, faster than the emulated guest CPU writes memory;
#   sata  the same disk throttled by QEMU to 550 MB/s, a model of a SATA SSD;
#   nvme  throttled to 3 GB/s, a model of an NVMe SSD.
# The script prints the median and range of each case, full/raw and
# full/sparse, for each configuration. Figures only, never a verdict.
#
# Environment: BENCH_RAM_MIB      disk size in MiB (default 2048)
#              BENCH_RAM_CONFIGS  disk configurations (default "tcg sata nvme")
#              BENCH_RAM_SMP      processor counts (default "1 2")
#              BENCH_RAM_COLD     cold repetitions per case (default 2; 0 = none)
#              BENCH_RAM_COLD_CONFIGS  configurations with cold runs (default "tcg": on a
#                                 throttled disk the host's cost of backing fresh memory
#                                 hides the throttle)
#              BENCH_LIMIT        time limit of one QEMU run in seconds (default 900)
#              BENCH_RAM_LOG      where to keep the console logs (default build/bench-ramdisk.log)
#              BENCH_RAM_ALT_APP  a second build of rambench.efi (another commit, a trial
#                                 change): every boot is made with it too, right after
#                                 the same boot with build/rambench.efi; its figures are
#                                 printed as "alt"
# Exit status: 0 when the figures are complete (every run ends with
# "RAMBENCH: done"), 1 otherwise, 77 when QEMU, OVMF or a tool is missing.
. "$(dirname "$0")/../integration/lib.sh"

MIB=${BENCH_RAM_MIB:-2048}
CONFIGS=${BENCH_RAM_CONFIGS:-tcg sata nvme}
SMPS=${BENCH_RAM_SMP:-1 2}
COLD=${BENCH_RAM_COLD:-2}
COLD_CONFIGS=${BENCH_RAM_COLD_CONFIGS:-tcg}
ALT_APP=${BENCH_RAM_ALT_APP:-}
[ -z "$ALT_APP" ] || [ -s "$ALT_APP" ] || { echo "BENCH_RAM_ALT_APP: no file $ALT_APP" >&2; exit 1; }
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
: >"$W/all.log"
# bench_boot APP NAME THROTTLE SMP SETTINGS: one QEMU boot of APP with SMP
# processors, rambench.cfg set to SETTINGS and the host disk read at most
# THROTTLE bytes/s (0 = not throttled); its console log with host
# timestamps goes to $W/NAME.log. Returns 1 when the run did not end with
# "RAMBENCH: done".
bench_boot() {
    local app=$1 name=$2 throttle=$3 smp=$4 settings=$5 opts=""
    [ "$throttle" = 0 ] || opts=",throttling.bps-read=$throttle"
    mcopy -o -i "$DISK@@1M" "$app" ::/EFI/BOOT/BOOTX64.EFI || bench_fail "the app on the ESP"
    echo "$settings" | mcopy -o -i "$DISK@@1M" - ::/EFI/BOOT/rambench.cfg || bench_fail "rambench.cfg"
    cp "$OVMF_VARS" "$W/vars.fd"
    python3 "$T_ROOT/tests/bench/serial_clock.py" "$W/$name.log" 'RAMBENCH: (done|error)|X64 Exception Type' -- \
        timeout --kill-after=5 "$LIMIT" "$QEMU" -machine q35 -accel tcg -m "$GUEST_MIB" -smp "$smp" \
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
        -drive "if=pflash,format=raw,unit=1,file=$W/vars.fd" \
        -drive "if=none,id=disk0,format=raw,file=$DISK$opts" -device virtio-blk-pci,drive=disk0,bootindex=0 \
        -nographic -serial mon:stdio -no-reboot -net none
    local rc=$?
    { echo "=== $name (throttle $throttle B/s; $smp processors; $settings)"; cat "$W/$name.log"; } >>"$W/all.log"
    if ! grep -q 'RAMBENCH: done' "$W/$name.log"; then
        echo "$name: $(qemu_verdict $rc)" >&2
        grep -E 'RAMBENCH: error|Exception' "$W/$name.log" >&2
        return 1
    fi
}

# boot_each NAME THROTTLE SMP SETTINGS: bench_boot with the app, then (with
# BENCH_RAM_ALT_APP) the same with the alternative app as alt-NAME.
boot_each() {
    bench_boot "$APP" "$@" || return 1
    [ -z "$ALT_APP" ] || bench_boot "$ALT_APP" "alt-$1" "${@:2}"
}

throttle_of() {
    case $1 in
    tcg) echo 0 ;;
    sata) echo 550000000 ;;
    nvme) echo 3000000000 ;;
    *) bench_fail "unknown configuration $1 (tcg, sata, nvme)" ;;
    esac
}
ok=1
t0=$SECONDS
for cfg in $CONFIGS; do
    thr=$(throttle_of "$cfg")
    for smp in $SMPS; do
        echo "booting the RAM-disk benchmark under QEMU+OVMF (TCG, ${GUEST_MIB} MiB), disk $cfg, $smp processor(s): warm rounds..."
        if [ "$cfg" = tcg ]; then
            boot_each "$cfg-smp$smp-warm" "$thr" "$smp" "rounds 5" || ok=0
        else # the whole span reads as the blocks do on a throttled disk: left out
            boot_each "$cfg-smp$smp-warm" "$thr" "$smp" "rounds 3 blocks full sparse" || ok=0
        fi
    done
    case " $COLD_CONFIGS " in *" $cfg "*) ;; *) continue ;; esac
    [ "$COLD" -gt 0 ] && echo "... disk $cfg: cold runs, one boot each ($COLD per case and processor count)"
    for ((rep = 1; rep <= COLD; rep++)); do
        cases=(blocks full sparse)
        for ((k = 0; k < 3; k++)); do # the order rotates with the repetition
            c=${cases[(k + rep) % 3]}
            for smp in $SMPS; do
                boot_each "$cfg-smp$smp-cold-$rep-$c" "$thr" "$smp" "rounds 0 $c" || ok=0
            done
        done
    done
done
mkdir -p "$(dirname "$LOG_KEEP")"
cp "$W/all.log" "$LOG_KEEP"
echo "QEMU runs took $((SECONDS - t0)) s (consoles with host timestamps in $LOG_KEEP)"
[ $ok = 1 ] || exit 1
echo
# Each case's time: from its begin line to its end line, on the host's clock.
python3 - "$W" "$MIB" "$COLD" "$COLD_CONFIGS" "$SMPS" "$ALT_APP" $CONFIGS <<'PY'
import os, re, sys, statistics
w, mib, cold, cold_configs, smps, alt, configs = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(),
                                                  sys.argv[5].split(), sys.argv[6], sys.argv[7:])
names = {"raw": "raw disk, full.vhd's span, 8 MiB requests",
         "blocks": "raw disk, full.vhd's blocks, 2 MiB requests",
         "full": "ram load, full.vhd (all blocks)", "sparse": "ram load, sparse.vhd (10 % of blocks)"}

def times_of(path, warm):
    """{case: [seconds]} from one log (warm: rounds after round 0; cold: round 0), and the sparse
    load's own report [(zero ms, MiB written)]."""
    begin, times, holes = {}, {}, []
    for line in open(path, encoding="utf-8"):
        stamp, _, text = line.rstrip("\n").partition(" ")
        m = re.search(r"RAMBENCH: (begin|end) (\d+) (\w+)", text)
        if m:
            key = (int(m.group(2)), m.group(3))
            if m.group(1) == "begin":
                begin[key] = float(stamp)
            elif key in begin and (key[0] > 0) == warm:
                times.setdefault(key[1], []).append(float(stamp) - begin[key])
        m = re.search(r"vhdboot: loaded (\d+) MiB of data in \d+ ms .*; (\d+) MiB of holes zeroed on \d+ processors?, "
                      r"adding (\d+) ms to the reads, (\d+) MiB of them written", text)
        if m and int(m.group(2)) > 0:
            holes.append((int(m.group(3)), int(m.group(4))))
    if warm:
        holes = holes[1:]  # the warm-up round's
    return times, holes

def show(label, times, holes):
    med = {}
    print("%-52s %8s %14s %10s" % (label, "median", "range", "MB/s"))
    for case in ("raw", "blocks", "full", "sparse"):
        t = sorted(times.get(case, []))
        if not t:
            continue
        med[case] = statistics.median(t)
        print("  %-50s %6.0f ms %5.0f-%5.0f ms %10.1f" % (names[case], med[case] * 1000, t[0] * 1000, t[-1] * 1000,
                                                        mib * 1048576 / med[case] / 1e6))
    if holes:
        z = sorted(h[0] for h in holes)
        wr = sorted(h[1] for h in holes)
        print("  sparse load's holes (its own TSC figures): %d ms added to the reads (median, %d-%d), %d-%d MiB of "
              "them written" % (statistics.median(z), z[0], z[-1], wr[0], wr[-1]))
    # Ratios from the medians, and the median of the ratios within each round
    # (the cases of one round ran back to back, under the same host load).
    def paired(a, b):
        r = sorted(x / y for x, y in zip(times[a], times[b]))
        return "%.2f (paired: median %.2f, %.2f-%.2f)" % (med[a] / med[b], statistics.median(r), r[0], r[-1])
    if "blocks" in med and "full" in med:
        print("  full load throughput / raw read of the same bytes (blocks): %s; goal >= 0.90" % paired("blocks", "full"))
    if "raw" in med and "full" in med:
        print("  full load throughput / raw read of the file's span in 8 MiB requests: %s" % paired("raw", "full"))
    if "full" in med and "sparse" in med:
        print("  10 %% image vs full image, times faster: %s; goal >= 5" % paired("full", "sparse"))

labels = {"tcg": "disk as QEMU gives it (a read is a host memory copy)",
          "sata": "disk throttled to 550 MB/s (a model of a SATA SSD)",
          "nvme": "disk throttled to 3 GB/s (a model of an NVMe SSD)"}
for cfg, pre in [(c, p) for c in configs for p in ([""] + (["alt-"] if alt else []))]:
    app = "alt (%s)" % alt if pre else "build/rambench.efi"
    print("== %s: %s; %s" % (cfg, labels.get(cfg, cfg), app))
    for smp in smps:
        times, holes = times_of(os.path.join(w, "%s%s-smp%s-warm.log" % (pre, cfg, smp)), True)
        show("%s cpu, warm: one boot, %d interleaved rounds after a warm-up" % (smp, len(times.get("full", []))),
             times, holes)
    for smp in smps if cold and cfg in cold_configs else []:
        times, holes = {}, []
        for rep in range(1, cold + 1):
            for case in ("blocks", "full", "sparse"):
                t, h = times_of(os.path.join(w, "%s%s-smp%s-cold-%d-%s.log" % (pre, cfg, smp, rep, case)), False)
                for k, v in t.items():
                    times.setdefault(k, []).extend(v)
                holes += h
        show("%s cpu, cold: one boot per case, first touch of the memory (%d each)" % (smp, cold), times, holes)
    print()
PY
