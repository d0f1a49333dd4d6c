#!/bin/bash
# `make bench`: vhdtool attach inside a Linux guest under QEMU+OVMF (TCG:
# absolute figures are slow; the ratios are what counts). The guest's
# second virtual disk is an ext4 file system holding the same 32 MiB of
# random data as a raw file, a fixed VHD, a dynamic VHD and a 3-layer chain
# (base + two differencing layers, each holding a third of the data in
# alternating MiBs). Cases, each attached read-write:
#   loop-raw      the raw file behind a loop device (losetup, buffered): the peer
#   qemu-nbd      qemu-nbd -c serving the dynamic VHD (the host's binary and
#                 the shared libraries ldd lists, copied into the initramfs)
#   nbd-dynamic   vhdtool attach of the dynamic VHD
#   nbd-chain     vhdtool attach of the chain's top (a pristine copy of the
#                 top layer each time: its writes allocate blocks)
#   nbd-fixed     vhdtool attach --nbd of the fixed VHD
#   loop-fixed    vhdtool attach of the fixed VHD (its default: a loop device
#                 over the data, buffered like the peer)
#   loop-fixed-dio  the same with --direct-io
# Each case measures (tests/tools/blkbench.c, O_DIRECT, caches dropped
# before each): sequential 1 MiB reads of the whole disk, 2000 random 4 KiB
# reads, sequential 1 MiB writes of the whole disk, 2000 random 4 KiB
# writes (a write run ends with fsync, inside the time), then the
# sequential writes once more (the chain's top layer has every block
# then). Rounds run every case in turn (interleaved); the table gives
# median (min..max).
. "$(dirname "$0")/../integration/lib.sh"
[ -z "$(qemu_missing)" ] || { echo "QEMU/OVMF missing"; exit 77; }
command -v mkfs.ext4 >/dev/null || { echo "mkfs.ext4 missing"; exit 77; }
. "$(dirname "$0")/../integration/attach_guest.sh"
W=$T_TMP
ROUNDS=${ATTACH_BENCH_ROUNDS:-7}
SIZE=${ATTACH_BENCH_MIB:-64}
for f in "$T_BUILD/vhdtool-static" "$T_BUILD/tests-tools/blkbench"; do
    [ -x "$f" ] || { echo "missing $f (make test-build)"; exit 1; }
done

# qemu-nbd is dynamically linked in Debian: the binary, every library ldd
# names and the dynamic loader go into the initramfs at their own paths.
Q=$W/qroot
QEMU_NBD=$(command -v qemu-nbd || true)
HAVE_QEMU_NBD=0
if [ -n "$QEMU_NBD" ]; then
    mkdir -p "$Q/usr/bin" && cp -L "$QEMU_NBD" "$Q/usr/bin/qemu-nbd" && HAVE_QEMU_NBD=1
    for lib in $(ldd "$QEMU_NBD" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
        mkdir -p "$Q$(dirname "$lib")" && cp -L "$lib" "$Q$lib" || HAVE_QEMU_NBD=0
    done
fi
[ $HAVE_QEMU_NBD = 1 ] || { echo "# qemu-nbd not found on this host: no qemu-nbd row"; rm -rf "$Q"; mkdir -p "$Q"; }
CASES="loop-raw $([ $HAVE_QEMU_NBD = 1 ] && echo qemu-nbd) nbd-dynamic nbd-chain nbd-fixed loop-fixed loop-fixed-dio"
# ATTACH_BENCH_CASES picks some of them (loop-raw, the peer, is always first)
[ -n "${ATTACH_BENCH_CASES:-}" ] && CASES="loop-raw ${ATTACH_BENCH_CASES}"

cat >"$W/init" <<EOF2
${ATTACH_GUEST_BASE}
for m in crc16 mbcache jbd2 crc32c_generic ext4; do insmod /mod/\$m.ko || echo "GUEST: insmod \$m failed"; done
mkdir -p /w /tmp /var/lock /run && mount -t ext4 /dev/vdb /w || { echo "BENCH: no ext4"; poweroff -f; }
echo "BENCH-INFO: \$(grep ' /w ' /proc/mounts)"
for round in \$(seq 1 $ROUNDS); do
    for c in $CASES; do
        dev=
        case \$c in
        loop-raw) losetup /dev/loop0 /w/raw.img && dev=/dev/loop0 ;;
        qemu-nbd)
            LD_LIBRARY_PATH=/lib/x86_64-linux-gnu qemu-nbd -f vpc -c /dev/nbd3 /w/dynamic.vhd && dev=/dev/nbd3
            for i in 1 2 3 4 5 6 7 8 9 10; do [ "\$(cat /sys/block/nbd3/size)" != 0 ] && break; sleep 1; done ;;
        nbd-dynamic) dev=\$(vhdtool attach /w/dynamic.vhd) ;;
        nbd-chain) cp /w/top.orig /w/top.vhd && sync && dev=\$(vhdtool attach /w/top.vhd) ;;
        nbd-fixed) dev=\$(vhdtool attach --nbd /w/fixed.vhd) ;;
        loop-fixed) dev=\$(vhdtool attach /w/fixed.vhd) ;;
        loop-fixed-dio) dev=\$(vhdtool attach --direct-io /w/fixed.vhd) ;;
        esac
        [ -b "\$dev" ] || { echo "BENCH: \$round \$c attach failed"; continue; }
        [ \$round = 1 ] && echo "BENCH-INFO: \$c \$dev max_sectors_kb \$(cat /sys/block/\${dev#/dev/}/queue/max_sectors_kb)"
        for t in "seq $SIZE" "rand 2000" "seqw $SIZE" "randw 2000"; do
            sync
            echo 3 >/proc/sys/vm/drop_caches
            set -- \$t
            echo "BENCH: \$round \$c \$(blkbench \$1 \$dev \$2)"
        done
        # the sequential write once more: every block now allocated and marked
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo "BENCH: \$round \$c/again \$(blkbench seqw \$dev $SIZE)"
        case \$c in
        loop-raw) losetup -d /dev/loop0 ;;
        qemu-nbd)
            qemu-nbd -d /dev/nbd3 >/dev/null
            for i in 1 2 3 4 5 6 7 8 9 10; do pidof qemu-nbd >/dev/null || break; sleep 1; done ;;
        *) vhdtool detach \$dev ;;
        esac
    done
done
umount /w
echo "BENCH: DONE"
poweroff -f
EOF2
ATTACH_GUEST_ROOT=$Q attach_guest_build "$W" "$W/init" "$T_BUILD/tests-tools/blkbench" >/dev/null ||
    { echo "guest build failed"; exit 1; }
D=$W/d2
mkdir -p "$D"
MIB=$((1 << 20))
head -c $((SIZE * MIB)) /dev/urandom >"$D/raw.img"
"$VHDTOOL" convert "$D/raw.img" "$D/fixed.vhd" -O fixed >/dev/null 2>&1 &&
    "$VHDTOOL" convert "$D/raw.img" "$D/dynamic.vhd" -O dynamic >/dev/null 2>&1 &&
    "$VHDTOOL" create dynamic $((SIZE * MIB)) "$D/base.vhd" --exact-size >/dev/null 2>&1 &&
    "$VHDTOOL" create diff --parent "$D/base.vhd" "$D/mid.vhd" >/dev/null &&
    "$VHDTOOL" create diff --parent "$D/mid.vhd" "$D/top.vhd" >/dev/null || { echo "VHD setup failed"; exit 1; }
# every third MiB in each layer: reads alternate between the layers
for i in $(seq 0 $((SIZE - 1))); do
    layer=$D/base.vhd
    [ $((i % 3)) = 1 ] && layer=$D/mid.vhd
    [ $((i % 3)) = 2 ] && layer=$D/top.vhd
    dd if="$D/raw.img" bs=$MIB skip=$i count=1 status=none >"$W/piece"
    "$VHDTOOL" write "$layer" $((i * MIB)) --in "$W/piece" >/dev/null || { echo "chain write failed"; exit 1; }
done
"$VHDTOOL" convert "$D/top.vhd" "$W/flat.raw" -O raw >/dev/null 2>&1 && cmp -s "$W/flat.raw" "$D/raw.img" ||
    { echo "the chain does not read as the raw data"; exit 1; }
cp "$D/top.vhd" "$D/top.orig"
rm -f "$W/disk2.img" && mkfs.ext4 -q -F -L bench -d "$D" "$W/disk2.img" $((SIZE * 8 + 64))M || { echo "mkfs.ext4 failed"; exit 1; }
QEMU_MEM=1024 QEMU_DISK2=$W/disk2.img IT_LIMIT=1500 IT_STOP='Kernel panic|X64 Exception Type|BENCH: DONE' \
    it_boot attach-bench "$W/esp.img" >/dev/null
grep -q '^BENCH: DONE' "$IT_LOG" || { echo "the guest did not finish; see $T_BUILD/test-logs/integration/attach-bench.log"; exit 1; }
grep -E '^BENCH: [0-9]+ \S+ attach failed|^BENCH-INFO|spliced' "$IT_LOG" | sed 's/^/# /' | sort | uniq -c | sed 's/^ *//' | head -20
# table: median (min..max) of the rounds; the ratio to loop-raw's median,
# and for the NBD rows also to qemu-nbd's
python3 - "$IT_LOG" "$ROUNDS" "$CASES" "$SIZE" <<'PY'
import re, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r'^BENCH: (\d+) (\S+) (seq|rand|seqw|randw) ([\d.]+) ', line)
    if m:
        rows.setdefault((m.group(2), m.group(3)), []).append(float(m.group(4)))
cases = sys.argv[3].split()
kinds = [("seq", "seq read MiB/s"), ("rand", "rand read 4K/s"), ("seqw", "seq write MiB/s"), ("randw", "rand write 4K/s")]
print(f"attach benchmark (guest, TCG, {sys.argv[4]} MiB on ext4, caches dropped; median (min..max) of {sys.argv[2]} interleaved rounds)")
def fmt(v):
    return f"{statistics.median(v):.0f} ({min(v):.0f}..{max(v):.0f})"
def ratio(case, kind, peer):
    v, p = rows.get((case, kind)), rows.get((peer, kind))
    return f"{statistics.median(v) / statistics.median(p):.2f}" if v and p else "-"
print("| case | " + " | ".join(f"{label} | x loop | x qemu-nbd" for _, label in kinds) + " |")
for case in cases:
    cells = []
    for kind, _ in kinds:
        v = rows.get((case, kind))
        cells += [fmt(v) if v else "-", ratio(case, kind, "loop-raw"), ratio(case, kind, "qemu-nbd")]
    print(f"| {case} | " + " | ".join(cells) + " |")
print("sequential writes again, over what the first run wrote: " + ", ".join(
    f"{case} {fmt(rows[(case + '/again', 'seqw')])} x{ratio(case + '/again', 'seqw', 'loop-raw/again')}"
    for case in cases if (case + "/again", "seqw") in rows))
PY
