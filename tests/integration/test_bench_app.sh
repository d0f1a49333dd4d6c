#!/bin/bash
# The firmware benchmark (build/bench.efi via tests/bench/efi_bench.sh, with
# BENCH_FORMAT=vhdx: every disk as VHD and as VHDX) on 4 MiB disks (one
# pass, 256 random reads): it must print a complete table — every case, VHD
# and VHDX twins, with figures,
# none with an error — and end with "done"; then one boot of the loader with
# a 4 GiB dynamic VHD on NTFS must print its "ready in N ms" line. Structure
# only: no timing is ever checked.
. "$(dirname "$0")/lib.sh"
it_require_qemu

OUT=$T_TMP/bench.out
BLOG=$T_TMP/bench-console.log
BENCH_FORMAT=vhdx BENCH_MIB=4 BENCH_ROUNDS=1 BENCH_RANDOM=256 BENCH_READY_BOOTS=1 BENCH_LIMIT=120 BENCH_LOG=$BLOG bash "$T_ROOT/tests/bench/efi_bench.sh" >"$OUT" 2>&1
rc=$?
mkdir -p "$T_BUILD/test-logs/integration"
cp "$OUT" "$T_BUILD/test-logs/integration/bench_app.out"
[ $rc -eq 77 ] && t_need "$(tail -n 1 "$OUT")"

t_grep "bench app: header names the columns" '^case +seq MB/s +ratio +rand MB/s +ratio +io/seq +io/rand$' "$OUT"
# A row: a case name, then seq MB/s, ratio, random MB/s, ratio, and the
# volume reads per sequential and per random request ("-" where not counted).
num='[0-9]+\.[0-9]+'
row="  +$num +$num +$num +$num +($num|-) +($num|-)\$"
missing=""
for name in '\(a\) raw disk BlockIO' '\(b\) fixed VHD on FAT' '\(b\) dynamic VHD on FAT' '\(b\) 3-layer chain on FAT' \
    '\(b\) fixed VHD on NTFS' '\(b\) dynamic VHD on NTFS' '\(b\) 3-layer chain on NTFS' '\(c\) fixed VHD as a FAT file' \
    '\(b\) fixed VHDX on FAT' '\(b\) dynamic VHDX on FAT' '\(b\) 3-layer VHDX chain on FAT' \
    '\(b\) fixed VHDX on NTFS' '\(b\) dynamic VHDX on NTFS' '\(b\) 3-layer VHDX chain on NTFS' \
    '\(a\) raw, over fixed.vhdx data'; do
    grep -qE "^$name$row" "$OUT" || missing="$missing [$name]"
done
if [ -z "$missing" ]; then t_ok "bench app: all 15 cases have figures"; else
    t_fail "bench app: all 15 cases have figures" "missing or malformed:$missing"
    sed 's/^/#   /' "$OUT" | tail -n 20
fi
t_eq "bench app: the raw disk is its own reference (ratios 1.00)" 2 \
    "$(grep -E '^\(a\) raw disk BlockIO' "$OUT" | grep -oE ' 1\.00 ' | wc -l)"
t_eq "bench app: no case reports an error" 0 "$(grep -c 'error' "$OUT")"
t_grep "bench app: table complete (done)" '^done$' "$OUT"
t_grep "bench app: the loader reached StartImage of the 4 GiB VHD on NTFS and said when" \
    '^boot 1: ready in [0-9]+ ms$' "$OUT"
exit $T_FAILED
