#!/bin/bash
# Host benchmark: vhdtool convert vs qemu-img convert -f vpc -O raw on a
# ~1 GiB fixed and dynamic VHD with data in most blocks, and vhdtool alone on
# a 3-layer differencing chain (QEMU does not read chains). Prints MB/s.
# Page caches cannot be dropped here: every run is made twice and the better
# time is kept (BENCH_RUNS=N for more runs), so both tools read from a warm cache.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VHDTOOL=${VHDTOOL_BIN:-$ROOT/build/vhdtool}
[ -x "$VHDTOOL" ] || { echo "vhdtool not built ($VHDTOOL); run make first" >&2; exit 1; }
HAVE_QEMU=1
command -v qemu-img >/dev/null || HAVE_QEMU=0
WORK=$ROOT/build/bench-tmp
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# 2080 cylinders x 16 heads x 63 sectors: a CHS-exact size just under 1 GiB,
# so QEMU (which reads the CHS size for unknown creators) sees the same disk.
SIZE=1073479680
RUNS=${BENCH_RUNS:-2}
MB=$((SIZE / 1000000))

echo "preparing ${MB} MB of test data (random data in ~90% of the 2 MiB blocks)..."
truncate -s $SIZE src.raw
# Random data everywhere except every tenth 2 MiB block, which stays a hole.
blocks=$((SIZE / 2097152))
head -c $((blocks * 2097152)) /dev/urandom | dd of=src.raw bs=2M conv=notrunc iflag=fullblock status=none
for ((b = 5; b < blocks; b += 10)); do
    fallocate -p -o $((b * 2097152)) -l 2097152 src.raw 2>/dev/null ||
        dd if=/dev/zero of=src.raw bs=2M seek=$b count=1 conv=notrunc status=none
done
"$VHDTOOL" convert src.raw fixed.vhd -O fixed
"$VHDTOOL" convert src.raw dynamic.vhd -O dynamic
# A 3-layer chain: base = dynamic image; mid and top each rewrite 64 MiB.
cp dynamic.vhd base.vhd
"$VHDTOOL" create diff --parent base.vhd mid.vhd >/dev/null
"$VHDTOOL" create diff --parent mid.vhd top.vhd >/dev/null
head -c 64M /dev/urandom >piece
for off in 100M 500M 900M; do "$VHDTOOL" write mid.vhd $off --in piece; done
head -c 64M /dev/urandom >piece
for off in 132M 532M 932M; do "$VHDTOOL" write top.vhd $off --in piece; done
rm -f piece
sync

# time_once CMD...: syncs (so earlier dirty pages do not throttle this run),
# runs CMD writing out.raw, prints the wall time in microseconds or FAIL.
time_once() {
    local t0 t1
    rm -f out.raw
    sync
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || { echo FAIL; return; }
    t1=$(date +%s%N)
    rm -f out.raw
    echo $(( (t1 - t0) / 1000 ))
}
# better A B: the smaller of two microsecond counts (FAIL wins).
better() { if [ "$1" = FAIL ] || [ "$2" = FAIL ]; then echo FAIL; elif [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }
secs() { [ "$1" = FAIL ] && echo FAIL || awk -v us="$1" 'BEGIN { printf "%.3f", us / 1e6 }'; }
rate() { awk -v s="$1" -v mb="$MB" 'BEGIN { if (s + 0 > 0) printf "%.0f", mb / s; else print "-" }'; }

printf '\n%-26s %10s %9s %10s %9s %8s\n' "input (${MB} MB disk)" "vhdtool s" "MB/s" "qemu-img s" "MB/s" "ratio"
for kind in fixed dynamic; do
    # Interleaved: vhdtool, qemu-img, vhdtool, qemu-img, ...; best of each.
    vt="" qm=FAIL
    for ((run = 0; run < RUNS; run++)); do
        t=$(time_once "$VHDTOOL" convert $kind.vhd out.raw)
        vt=$([ -z "$vt" ] && echo "$t" || better "$vt" "$t")
        if [ $HAVE_QEMU = 1 ]; then
            t=$(time_once qemu-img convert -f vpc -O raw $kind.vhd out.raw)
            qm=$([ $run = 0 ] && echo "$t" || better "$qm" "$t")
        fi
    done
    vt=$(secs "$vt")
    if [ $HAVE_QEMU = 1 ]; then
        qm=$(secs "$qm")
        ratio=$(awk -v a="$vt" -v b="$qm" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else print "-" }')
    else
        qm="n/a" ratio="-"
    fi
    printf '%-26s %10s %9s %10s %9s %8s\n' "$kind VHD -> raw" "$vt" "$(rate "$vt")" "$qm" "$(rate "$qm")" "$ratio"
done
vt=""
for ((run = 0; run < RUNS; run++)); do
    t=$(time_once "$VHDTOOL" convert top.vhd out.raw)
    vt=$([ -z "$vt" ] && echo "$t" || better "$vt" "$t")
done
vt=$(secs "$vt")
printf '%-26s %10s %9s %10s %9s %8s\n' "3-layer chain -> raw" "$vt" "$(rate "$vt")" "n/a" "-" "-"
echo
echo "ratio = qemu-img time / vhdtool time (above 1: vhdtool is faster)."
echo "Best of $RUNS interleaved runs each (sync before every run), warm page cache (caches cannot be"
echo "dropped here); the output is not fsync'ed by either tool; the machine may be shared, so expect noise."
