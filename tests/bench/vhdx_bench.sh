#!/bin/bash
# VHDX host benchmark: `vhdtool convert X.vhdx out.raw` against `qemu-img
# convert -f vhdx -O raw` on a 512 MiB disk with random data in ~90% of its
# blocks, as a fixed and a dynamic VHDX made by qemu-img (8 MiB blocks) and a
# dynamic VHDX made by vhdtool (2 MiB blocks), plus vhdtool alone on a 3-layer
# differencing VHDX chain (QEMU 7.2 reads no differencing VHDX). Whole
# processes timed from outside, the two tools interleaved, BENCH_RUNS runs
# each (default 5): median and range in seconds, MB/s from the median, ratio =
# qemu-img median / vhdtool median (goal >= 1.0). Warm page cache (cannot be
# dropped here). Prints figures only; exit 77 when qemu-img is missing.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VHDTOOL=${VHDTOOL_BIN:-$ROOT/build/vhdtool}
[ -x "$VHDTOOL" ] || { echo "vhdtool not built ($VHDTOOL); run make first" >&2; exit 1; }
command -v qemu-img >/dev/null || exit 77
WORK=$ROOT/build/bench-vhdx
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
trap 'rm -rf "$WORK"' EXIT
SIZE=$((512 << 20))
MB=$((SIZE / 1000000))
RUNS=${BENCH_RUNS:-5}

echo "preparing ${MB} MB of test data (random data in ~90% of the 2 MiB blocks)..."
head -c $SIZE /dev/urandom >src.raw
for ((b = 5; b < SIZE / 2097152; b += 10)); do
    dd if=/dev/zero of=src.raw bs=2M seek=$b count=1 conv=notrunc status=none
done
qemu-img convert -q -f raw -O vhdx -o subformat=fixed,block_size=8M src.raw qfixed.vhdx
qemu-img convert -q -f raw -O vhdx -o subformat=dynamic,block_size=8M src.raw qdynamic.vhdx
"$VHDTOOL" convert src.raw vdynamic.vhdx --block-size 2M >/dev/null
cp vdynamic.vhdx base.vhdx
"$VHDTOOL" create diff --parent base.vhdx mid.avhdx >/dev/null
head -c 32M /dev/urandom >piece
for off in 50M 250M 450M; do "$VHDTOOL" write mid.avhdx $off --in piece >/dev/null; done
# (a child made before its parent's writes would be refused: DataWriteGuid changes)
"$VHDTOOL" create diff --parent mid.avhdx top.avhdx >/dev/null
head -c 32M /dev/urandom >piece
for off in 66M 266M 466M; do "$VHDTOOL" write top.avhdx $off --in piece >/dev/null; done
rm -f piece
sync

# time_once CMD...: wall time of CMD in microseconds (FAIL when it fails).
time_once() {
    local t0 t1
    rm -f out.raw
    sync
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo FAIL; return; }
    t1=$(date +%s%N)
    rm -f out.raw
    echo $(((t1 - t0) / 1000))
}
# stats US...: "median min max" in seconds (FAIL if any run failed).
stats() {
    case " $* " in *" FAIL "*) echo "FAIL FAIL FAIL"; return ;; esac
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f\n", m / 1e6, v[1] / 1e6, v[NR] / 1e6 }'
}
rate() { awk -v s="$1" -v mb="$MB" 'BEGIN { if (s + 0 > 0) printf "%.0f", mb / s; else print "-" }'; }

printf '\n%-30s %22s %6s %22s %6s %7s\n' "VHDX -> raw (${MB} MB disk)" "vhdtool s (min-max)" "MB/s" \
    "qemu-img s (min-max)" "MB/s" "ratio"
for img in qfixed qdynamic vdynamic top; do
    vt=() qm=()
    for ((run = 0; run < RUNS; run++)); do
        f=$img.vhdx
        [ $img = top ] && f=top.avhdx
        vt+=("$(time_once "$VHDTOOL" convert "$f" out.raw)")
        [ $img = top ] || qm+=("$(time_once qemu-img convert -f vhdx -O raw "$f" out.raw)")
    done
    read -r vm vmin vmax < <(stats "${vt[@]}")
    name=$img
    case $img in
    qfixed) name="fixed (qemu-img, 8M blocks)" ;;
    qdynamic) name="dynamic (qemu-img, 8M blocks)" ;;
    vdynamic) name="dynamic (vhdtool, 2M blocks)" ;;
    top) name="3-layer chain (vhdtool)" ;;
    esac
    if [ $img = top ]; then
        printf '%-30s %22s %6s %22s %6s %7s\n' "$name" "$vm ($vmin-$vmax)" "$(rate "$vm")" "-" "-" "-"
    else
        read -r qmed qmin qmax < <(stats "${qm[@]}")
        ratio=$(awk -v a="$vm" -v b="$qmed" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else print "-" }')
        printf '%-30s %22s %6s %22s %6s %7s\n' "$name" "$vm ($vmin-$vmax)" "$(rate "$vm")" \
            "$qmed ($qmin-$qmax)" "$(rate "$qmed")" "$ratio"
    fi
done
