#!/bin/bash
# Host benchmark: `vhdtool convert` against `qemu-img convert` as a user runs
# them — whole processes timed from outside (wall, and CPU = user + sys of the
# process and its threads), the two tools interleaved (A B, then B A, ...),
# median and spread (min-max) of BENCH_RUNS runs (default 7), with the output
# file absent and already present (holding the previous run's result).
#
# Images: a 1 GiB disk with random data in 90 % of its 2 MiB blocks (every
# tenth block a hole) as raw, fixed VHD, dynamic VHD and a 3-layer chain; an
# empty 127 GiB dynamic VHD and an empty (sparse) 127 GiB raw file.
# QEMU does not read differencing VHD chains: that row times vhdtool alone.
#
# Before each timed run: `sync` (so the previous run's dirty pages do not
# throttle this one); inputs are in the page cache (one untimed run first;
# caches cannot be dropped here). Neither tool fsyncs its output.
# Environment: BENCH_RUNS (5-9 is sensible), BENCH_ROWS (a regex of row names).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VHDTOOL=${VHDTOOL_BIN:-$ROOT/build/vhdtool}
[ -x "$VHDTOOL" ] || { echo "vhdtool not built ($VHDTOOL); run make first" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "qemu-img missing (make deps installs it)" >&2; exit 77; }
RUNS=${BENCH_RUNS:-7}
ROWS=${BENCH_ROWS:-.}
WORK=$ROOT/build/bench-tmp
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1

# 2080 cylinders x 16 heads x 63 sectors: a CHS-exact size just under 1 GiB,
# so every reader sizes the VHDs alike.
SIZE=1073479680
BIG=$((127 << 30))
echo "preparing a $((SIZE >> 20)) MiB disk (random data in 90 % of the 2 MiB blocks) and empty 127 GiB disks..."
truncate -s $SIZE src.raw
blocks=$((SIZE / 2097152))
head -c $((blocks * 2097152)) /dev/urandom | dd of=src.raw bs=2M conv=notrunc iflag=fullblock status=none
for ((b = 5; b < blocks; b += 10)); do
    fallocate -p -o $((b * 2097152)) -l 2097152 src.raw 2>/dev/null ||
        dd if=/dev/zero of=src.raw bs=2M seek=$b count=1 conv=notrunc status=none
done
"$VHDTOOL" convert src.raw fixed.vhd -O fixed
"$VHDTOOL" convert src.raw dynamic.vhd -O dynamic
# The chain: base = the dynamic image; mid and top each rewrite 3 x 64 MiB.
cp dynamic.vhd base.vhd
"$VHDTOOL" create diff --parent base.vhd mid.vhd >/dev/null
"$VHDTOOL" create diff --parent mid.vhd top.vhd >/dev/null
head -c 64M /dev/urandom >piece
for off in 100M 500M 900M; do "$VHDTOOL" write mid.vhd $off --in piece; done
head -c 64M /dev/urandom >piece
for off in 132M 532M 932M; do "$VHDTOOL" write top.vhd $off --in piece; done
rm -f piece
"$VHDTOOL" create dynamic $BIG empty.vhd --exact-size >/dev/null
truncate -s $BIG empty.raw
sync

# timed CMD...: runs CMD (output discarded) and prints "WALL CPU" in seconds,
# or "FAIL" when it exits non-zero.
timed() {
    local TIMEFORMAT='%3R %3U %3S' t
    t=$({ time "$@" >/dev/null 2>&1; } 2>&1) || { echo FAIL; return; }
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$t"
}

# stats FILE COLUMN: "median min max" of a column of numbers (FAIL if any failed).
stats() {
    grep -q FAIL "$1" && { echo "FAIL FAIL FAIL"; return; }
    awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
        { v[NR] = $1 }
        END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}

# cell MEDIAN MIN MAX: "0.412 (0.40-0.45)".
cell() { case $1 in FAIL | n/a) echo "$1" ;; *) printf '%.3f (%.3f-%.3f)' "$1" "$2" "$3" ;; esac; }
# ratio A B: B / A as "1.23x" (above 1: vhdtool, A, is faster).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", b / a; else print "-" }'; }

printf '\n%-24s %-7s | %-21s %-21s %6s | %-21s %-21s %6s\n' "conversion" "output" \
    "vhdtool wall s" "qemu-img wall s" "ratio" "vhdtool CPU s" "qemu-img CPU s" "ratio"

# row NAME OUT MODE "VHDTOOL ARGS" "QEMU-IMG ARGS": one table row; MODE is
# absent (OUT removed before each run) or present (OUT left from the last run).
row() {
    local name=$1 out=$2 mode=$3 vt=$4 qm=$5 run
    [[ "$name" =~ $ROWS ]] || return 0
    : >vt.times
    : >qm.times
    # One untimed run of each: inputs into the page cache, OUT exists.
    # shellcheck disable=SC2086
    "$VHDTOOL" $vt >/dev/null 2>&1
    # shellcheck disable=SC2086
    [ -z "$qm" ] || qemu-img $qm >/dev/null 2>&1
    for ((run = 0; run < RUNS; run++)); do
        local first=vt second=qm
        ((run % 2)) && first=qm second=vt
        for who in $first $second; do
            [ "$who" = qm ] && [ -z "$qm" ] && continue
            [ "$mode" = absent ] && rm -f "$out"
            sync
            # shellcheck disable=SC2086
            if [ "$who" = vt ]; then timed "$VHDTOOL" $vt >>vt.times; else timed qemu-img $qm >>qm.times; fi
        done
    done
    rm -f "$out"
    local vw vc qw qc
    vw=$(stats vt.times 1) vc=$(stats vt.times 2)
    if [ -n "$qm" ]; then
        qw=$(stats qm.times 1) qc=$(stats qm.times 2)
    else
        qw="n/a" qc="n/a"
    fi
    # shellcheck disable=SC2086
    printf '%-24s %-7s | %-21s %-21s %6s | %-21s %-21s %6s\n' "$name" "$mode" \
        "$(cell $vw)" "$(cell $qw)" "$(ratio ${vw%% *} ${qw%% *})" \
        "$(cell $vc)" "$(cell $qc)" "$(ratio ${vc%% *} ${qc%% *})"
}

for mode in absent present; do
    row "fixed 1G -> raw" out.raw $mode "convert fixed.vhd out.raw" "convert -f vpc -O raw fixed.vhd out.raw"
    row "dynamic 1G -> raw" out.raw $mode "convert dynamic.vhd out.raw" "convert -f vpc -O raw dynamic.vhd out.raw"
    row "raw 1G -> dynamic" out.vhd $mode "convert src.raw out.vhd -O dynamic" \
        "convert -f raw -O vpc -o subformat=dynamic,force_size=on src.raw out.vhd"
    row "3-layer chain 1G -> raw" out.raw $mode "convert top.vhd out.raw" ""
    row "empty dyn 127G -> raw" out.raw $mode "convert empty.vhd out.raw" "convert -f vpc -O raw empty.vhd out.raw"
    row "empty raw 127G -> dyn" out.vhd $mode "convert empty.raw out.vhd -O dynamic" \
        "convert -f raw -O vpc -o subformat=dynamic,force_size=on empty.raw out.vhd"
done
echo
echo "Median (min-max) of $RUNS interleaved runs per tool, whole processes timed from outside;"
echo "CPU = user + sys. ratio = qemu-img / vhdtool (above 1: vhdtool is faster). sync before every"
echo "run, inputs in the page cache, outputs not fsync'ed; the machine may be shared, so expect noise."
