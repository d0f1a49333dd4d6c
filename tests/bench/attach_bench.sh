#!/bin/bash
# `make bench`: read throughput of vhdtool attach inside a Linux guest under
# QEMU+OVMF (TCG: absolute figures are slow; the ratios are what counts).
# The same 32 MiB of random data as a raw file behind a loop device (the
# peer), and behind vhdtool attach --read-only as a fixed VHD, a dynamic
# VHD and a 3-layer chain (base + two differencing layers, each holding a
# third of the data); also a loop device straight over the fixed VHD file
# (the kernel-only path attach takes for a fixed VHD; --nbd forces NBD). All files sit in the
# guest's tmpfs. Each round runs every case in turn (interleaved), three
# rounds; sequential = 1 MiB O_DIRECT reads of the whole disk, random =
# 2000 4 KiB O_DIRECT reads (tests/tools/blkbench.c). qemu-nbd is not in the
# guest (no static build in Debian), so it has no row.
. "$(dirname "$0")/../integration/lib.sh"
[ -z "$(qemu_missing)" ] || { echo "QEMU/OVMF missing"; exit 77; }
. "$(dirname "$0")/../integration/attach_guest.sh"
W=$T_TMP
for f in "$T_BUILD/vhdtool-static" "$T_BUILD/tests-tools/blkbench"; do
    [ -x "$f" ] || { echo "missing $f (make test-build)"; exit 1; }
done
cat >"$W/init" <<EOF2
$ATTACH_GUEST_PROLOGUE
cases="loop-raw nbd-fixed nbd-dynamic nbd-chain loop-fixed"
for round in 1 2 3; do
    for c in \$cases; do
        case \$c in
        loop-raw) losetup -r /dev/loop0 /w/raw.img; dev=/dev/loop0 ;;
        loop-fixed) losetup -r /dev/loop0 /w/fixed.vhd; dev=/dev/loop0 ;;
        nbd-fixed) dev=\$(vhdtool attach --nbd --read-only /w/fixed.vhd) ;;
        nbd-dynamic) dev=\$(vhdtool attach --read-only /w/dynamic.vhd) ;;
        nbd-chain) dev=\$(vhdtool attach --read-only /w/top.vhd) ;;
        esac
        echo 3 >/proc/sys/vm/drop_caches
        echo "BENCH: \$round \$c \$(blkbench seq \$dev 32)"
        echo "BENCH: \$round \$c \$(blkbench rand \$dev 2000)"
        case \$c in loop-*) losetup -d /dev/loop0 ;; *) vhdtool detach \$dev ;; esac
    done
done
echo "BENCH: DONE"
poweroff -f
EOF2
attach_guest_build "$W" "$W/init" "$T_BUILD/tests-tools/blkbench" >/dev/null || { echo "guest build failed"; exit 1; }
D=$W/d2
mkdir -p "$D"
MIB=$((1 << 20))
head -c $((32 * MIB)) /dev/urandom >"$D/raw.img"
"$VHDTOOL" convert "$D/raw.img" "$D/fixed.vhd" -O fixed >/dev/null 2>&1 &&
    "$VHDTOOL" convert "$D/raw.img" "$D/dynamic.vhd" -O dynamic >/dev/null 2>&1 &&
    "$VHDTOOL" create dynamic $((32 * MIB)) "$D/base.vhd" --exact-size >/dev/null 2>&1 &&
    "$VHDTOOL" create diff --parent "$D/base.vhd" "$D/mid.vhd" >/dev/null &&
    "$VHDTOOL" create diff --parent "$D/mid.vhd" "$D/top.vhd" >/dev/null || { echo "VHD setup failed"; exit 1; }
# every third MiB in each layer: reads alternate between the layers
for i in $(seq 0 31); do
    layer=$D/base.vhd
    [ $((i % 3)) = 1 ] && layer=$D/mid.vhd
    [ $((i % 3)) = 2 ] && layer=$D/top.vhd
    dd if="$D/raw.img" bs=$MIB skip=$i count=1 status=none >"$W/piece"
    "$VHDTOOL" write "$layer" $((i * MIB)) --in "$W/piece" >/dev/null || { echo "chain write failed"; exit 1; }
done
"$VHDTOOL" convert "$D/top.vhd" "$W/flat.raw" -O raw >/dev/null 2>&1 && cmp -s "$W/flat.raw" "$D/raw.img" ||
    { echo "the chain does not read as the raw data"; exit 1; }
(cd "$D" && tar cf "$W/disk2.img" raw.img fixed.vhd dynamic.vhd base.vhd mid.vhd top.vhd) || exit 1
QEMU_MEM=1024 QEMU_DISK2=$W/disk2.img IT_LIMIT=900 IT_STOP='Kernel panic|X64 Exception Type|BENCH: DONE' \
    it_boot attach-bench "$W/esp.img" >/dev/null
grep -q '^BENCH: DONE' "$IT_LOG" || { echo "the guest did not finish; see $T_BUILD/test-logs/integration/attach-bench.log"; exit 1; }
# table: median (min..max) of the three rounds, and the ratio to loop-raw's median
python3 - "$IT_LOG" <<'PY'
import re, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'^BENCH: (\d) (\S+) (seq|rand) ([\d.]+) ', line)
    if m:
        rows.setdefault((m.group(2), m.group(3)), []).append(float(m.group(4)))
print("attach benchmark (guest, TCG, 32 MiB, read-only; median (min..max) of 3 interleaved rounds)")
print(f"{'case':<13} {'seq MiB/s':>24} {'x loop':>7} {'rand 4K reads/s':>26} {'x loop':>7}")
for case in ["loop-raw", "nbd-fixed", "nbd-dynamic", "nbd-chain", "loop-fixed"]:
    out = f"{case:<13}"
    for kind in ["seq", "rand"]:
        v = rows.get((case, kind), [])
        base = rows.get(("loop-raw", kind), [])
        if not v:
            out += f" {'-':>24} {'-':>7}"
            continue
        med = statistics.median(v)
        ratio = med / statistics.median(base) if base else float('nan')
        out += f" {med:>10.1f} ({min(v):.1f}..{max(v):.1f})".rjust(25) + f" {ratio:>7.2f}"
    print(out)
PY
