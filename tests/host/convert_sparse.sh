#!/bin/bash
# vhdtool convert is sparse and converts in place: outputs are byte-identical
# to qemu-img convert's (and to a raw mirror for chains, which QEMU cannot
# read), raw outputs have holes where the disk reads as zeros (unallocated
# blocks through the whole chain, holes and written zeros), an existing output
# with other old contents (larger, smaller, sparse, the same) is reused in
# place with the right bytes, holes are punched only where the old file had
# data, raw -> dynamic allocates only the blocks holding non-zero bytes, and
# empty 127 GiB disks convert to sparse files either way.
source "$(dirname "$0")/../lib.sh"
VHDTOOL=${VHDTOOL_BIN:-$VHDTOOL}
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools qemu-img python3 strace
cd "$T_TMP" || exit 1

M=$((1 << 20))
K=4096
SIZE=$((16 * M + 1536))   # 8 blocks of 2 MiB and a partial ninth

# put FILE OFFSET LENGTH SOURCE: writes LENGTH bytes of /dev/SOURCE (urandom,
# zero) into FILE at OFFSET without truncating it.
put() {
    head -c "$3" "/dev/$4" | dd of="$1" bs=64K conv=notrunc oflag=seek_bytes seek="$2" status=none
}
# data_bytes FILE: bytes the file system holds data for (SEEK_DATA/SEEK_HOLE).
data_bytes() {
    python3 - "$1" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
end = os.fstat(fd).st_size
pos = total = 0
while pos < end:
    try:
        pos = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    hole = os.lseek(fd, pos, os.SEEK_HOLE)
    total += hole - pos
    pos = hole
print(total)
EOF
}
# holes FILE START:LEN...: exit 0 when every range is a hole in FILE.
holes() {
    python3 - "$@" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for r in sys.argv[2:]:
    start, length = (int(x) for x in r.split(":"))
    try:
        data = os.lseek(fd, start, os.SEEK_DATA)
    except OSError:
        continue
    if data < start + length:
        print("data at %d inside %d+%d" % (data, start, length))
        sys.exit(1)
EOF
}
same_bytes() {
    if cmp -s "$2" "$3"; then t_ok "$1"; else t_fail "$1" "$(cmp "$2" "$3" 2>&1 | head -1)"; fi
}
allocated() { "$VHDTOOL" info "$1" | awk -F': *' '/^allocated blocks/ { print $2 }'; }
fsize() { stat -c %s "$1"; }

# The disk, block by block (2 MiB each):
#  0: 1 MiB random, then 1 MiB of written zeros   4: only 4 KiB random at 9 MiB + 4 KiB
#  1: a hole                                      5: a hole
#  2: written zeros                               6: random
#  3: random but 4 KiB written zeros at +64 KiB   7: written zeros
#     and a 12 KiB hole at +1 MiB                 8 (partial, 1536 bytes): random
truncate -s $SIZE src.raw
put src.raw 0 $M urandom
put src.raw $M $M zero
put src.raw $((4 * M)) $((2 * M)) zero
put src.raw $((6 * M)) $((2 * M)) urandom
put src.raw $((6 * M + 64 * 1024)) $K zero
fallocate -p -o $((7 * M)) -l $((3 * K)) src.raw
put src.raw $((9 * M + K)) $K urandom
put src.raw $((12 * M)) $((2 * M)) urandom
put src.raw $((14 * M)) $((2 * M)) zero
put src.raw $((16 * M)) 1536 urandom
NONZERO_BLOCKS=5   # 0, 3, 4, 6, 8
EXPECT_DATA=$((M + 2 * M - 4 * K + K + 2 * M + 1536))
ZERO_RANGES="$M:$M $((2 * M)):$((4 * M)) $((6 * M + 64 * 1024)):$K $((7 * M)):$((3 * K)) $((8 * M)):$M $((9 * M)):$K $((10 * M)):$((2 * M)) $((14 * M)):$((2 * M))"

# Inputs: qemu-img's fixed and dynamic VHDs, vhdtool's dynamic VHD with an
# all-zero block allocated, and two chains with raw mirrors.
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size=on src.raw q-fixed.vhd
qemu-img convert -q -f raw -O vpc -o subformat=dynamic,force_size=on src.raw q-dyn.vhd
"$VHDTOOL" convert src.raw v-dyn.vhd -O dynamic
t_eq "raw -> dynamic allocates only the $NONZERO_BLOCKS blocks holding non-zero bytes" "$NONZERO_BLOCKS" "$(allocated v-dyn.vhd)"
t_check "raw -> dynamic reads back in qemu-img" qemu-img compare -q -f vpc -F raw v-dyn.vhd src.raw
t_check "raw -> dynamic passes check" "$VHDTOOL" check v-dyn.vhd
"$VHDTOOL" write v-dyn.vhd $((4 * M)) --pattern 0 --length $((2 * M))   # block 2: allocated zeros
t_eq "writing zeros allocated block 2" "$((NONZERO_BLOCKS + 1))" "$(allocated v-dyn.vhd)"

cp v-dyn.vhd base.vhd
"$VHDTOOL" create diff --parent base.vhd mid.vhd >/dev/null
"$VHDTOOL" create diff --parent mid.vhd top.vhd >/dev/null
cp src.raw chain.raw
head -c $M /dev/urandom >piece
"$VHDTOOL" write mid.vhd $((5 * M)) --in piece &&
    dd if=piece of=chain.raw bs=64K conv=notrunc oflag=seek_bytes seek=$((5 * M)) status=none
head -c $((64 * 1024)) /dev/urandom >piece
"$VHDTOOL" write mid.vhd $((10 * M + K)) --in piece &&
    dd if=piece of=chain.raw bs=64K conv=notrunc oflag=seek_bytes seek=$((10 * M + K)) status=none
"$VHDTOOL" write top.vhd $((12 * M)) --pattern 0 --length $M && put chain.raw $((12 * M)) $M zero
head -c $K /dev/urandom >piece
"$VHDTOOL" write top.vhd $((15 * M)) --in piece &&
    dd if=piece of=chain.raw bs=64K conv=notrunc oflag=seek_bytes seek=$((15 * M)) status=none
"$VHDTOOL" convert src.raw f-base.vhd -O fixed
"$VHDTOOL" create diff --parent f-base.vhd f-top.vhd >/dev/null
cp src.raw f-chain.raw
head -c 8192 /dev/urandom >piece
"$VHDTOOL" write f-top.vhd $((2 * M + 512)) --in piece &&
    dd if=piece of=f-chain.raw bs=64K conv=notrunc oflag=seek_bytes seek=$((2 * M + 512)) status=none
t_check "the fixed base made by vhdtool is sparse" holes f-base.vhd $((2 * M)):$((4 * M)) $((10 * M)):$((2 * M))

# ---- to raw, output absent: identical to qemu-img's output, as sparse ----
for in in src.raw q-fixed.vhd q-dyn.vhd v-dyn.vhd; do
    fmt=vpc
    [ "$in" = src.raw ] && fmt=raw
    rm -f out.raw
    t_check "$in -> raw" "$VHDTOOL" convert "$in" out.raw
    same_bytes "$in -> raw: the disk's bytes" src.raw out.raw
    qemu-img convert -f $fmt -O raw "$in" q.raw
    same_bytes "$in -> raw: the bytes of qemu-img convert" q.raw out.raw
    ours=$(data_bytes out.raw) theirs=$(data_bytes q.raw)
    if [ "$ours" -le "$EXPECT_DATA" ] && [ "$ours" -le "$theirs" ]; then
        t_ok "$in -> raw: sparse ($ours data bytes; disk's non-zero 4 KiB pieces $EXPECT_DATA, qemu-img's output $theirs)"
    else
        t_fail "$in -> raw: sparse" "$ours data bytes, expected at most $EXPECT_DATA and qemu-img's $theirs"
    fi
    # shellcheck disable=SC2086
    t_check "$in -> raw: holes where the disk reads as zeros" holes out.raw $ZERO_RANGES
done
FRESH_DATA=$(data_bytes out.raw)

# ---- chains (QEMU cannot read them): the raw mirrors ----
for c in top:chain f-top:f-chain; do
    top=${c%%:*}.vhd mirror=${c##*:}.raw
    rm -f out.raw
    t_check "$top (chain) -> raw" "$VHDTOOL" convert $top out.raw
    same_bytes "$top -> raw: the mirror's bytes" $mirror out.raw
done
rm -f out.raw
"$VHDTOOL" convert top.vhd out.raw
t_check "chain -> raw: holes where no layer allocates and where zeros were written" \
    holes out.raw $((2 * M)):$((2 * M)) $((12 * M)):$M $((14 * M)):$M
rm -f out.vhd
"$VHDTOOL" convert top.vhd out.vhd -O dynamic
t_check "chain -> dynamic reads as the mirror" qemu-img compare -q -f vpc -F raw out.vhd chain.raw
# blocks 0, 2 (mid's data), 3, 4, 5 (mid's data), 6 (half zeroed), 7 (top's 4 KiB), 8
t_eq "chain -> dynamic allocates only blocks with non-zero bytes" 8 "$(allocated out.vhd)"

# ---- in place: an existing raw output with other old contents ----
# punches LOG: the number of fallocate(PUNCH_HOLE) calls strace logged.
punches() { grep -c 'fallocate(.*FALLOC_FL_PUNCH_HOLE' "$1"; }
inplace() { # NAME: converts q-dyn.vhd over out.raw as it is, checks the result
    local name=$1
    t_check "in place ($name): converts" strace -f -o trace.log -e trace=fallocate,ftruncate,openat "$VHDTOOL" convert q-dyn.vhd out.raw
    same_bytes "in place ($name): the disk's bytes" src.raw out.raw
    t_eq "in place ($name): the disk's size" $SIZE "$(fsize out.raw)"
    t_eq "in place ($name): as sparse as a new output" "$FRESH_DATA" "$(data_bytes out.raw)"
    if grep -q 'O_TRUNC' trace.log || grep -q 'ftruncate([0-9]*, 0)' trace.log; then
        t_fail "in place ($name): not truncated first" "$(grep -E 'O_TRUNC|ftruncate' trace.log | head -3)"
    else
        t_ok "in place ($name): not truncated first"
    fi
}
head -c $((24 * M)) /dev/urandom >out.raw
inplace "larger, random"
t_eq "in place: holes punched where the old random data was" 1 "$([ "$(punches trace.log)" -gt 0 ] && echo 1)"
"$VHDTOOL" convert q-dyn.vhd out.raw
strace -f -o trace.log -e trace=fallocate "$VHDTOOL" convert q-dyn.vhd out.raw
t_eq "in place over the same result: no hole punched (the old file has holes there)" 0 "$(punches trace.log)"
inplace "the same result"
head -c $M /dev/urandom >out.raw
inplace "smaller, random"
rm -f out.raw
truncate -s $((20 * M)) out.raw
# shellcheck disable=SC2086
for r in $ZERO_RANGES; do put out.raw "${r%%:*}" "${r##*:}" urandom; done
inplace "sparse, data only where the disk reads as zeros"
: >out.raw
inplace "empty"

# ---- in place: fixed and dynamic outputs ----
head -c $((24 * M)) /dev/urandom >out.vhd
t_check "fixed output in place" "$VHDTOOL" convert q-dyn.vhd out.vhd -O fixed
t_check "fixed output in place reads as the disk" qemu-img compare -q -f vpc -F raw out.vhd src.raw
t_eq "fixed output in place: disk and footer" $((SIZE + 512)) "$(fsize out.vhd)"
t_check "fixed output in place: holes where the disk reads as zeros" holes out.vhd $((2 * M)):$((4 * M))
t_check "fixed output in place passes check" "$VHDTOOL" check out.vhd
rm -f fresh.vhd
"$VHDTOOL" convert src.raw fresh.vhd -O dynamic
head -c $((40 * M)) /dev/urandom >out.vhd
t_check "dynamic output over a larger random file" "$VHDTOOL" convert src.raw out.vhd -O dynamic
t_check "dynamic output in place reads as the disk" qemu-img compare -q -f vpc -F raw out.vhd src.raw
t_check "dynamic output in place passes check" "$VHDTOOL" check out.vhd
t_eq "dynamic output in place: old tail cut (size of a new output)" "$(fsize fresh.vhd)" "$(fsize out.vhd)"
t_eq "dynamic output in place: only non-zero blocks allocated" $NONZERO_BLOCKS "$(allocated out.vhd)"
head -c $M /dev/urandom >out.vhd
t_check "dynamic output over a smaller random file" "$VHDTOOL" convert src.raw out.vhd -O dynamic
t_check "dynamic output over a smaller file reads as the disk" qemu-img compare -q -f vpc -F raw out.vhd src.raw

# ---- other block sizes: only blocks holding non-zero bytes are allocated ----
# nonzero_blocks FILE BLOCK: how many BLOCK-byte pieces of FILE hold a non-zero byte.
nonzero_blocks() {
    python3 - "$1" "$2" <<'EOF'
import sys
bs = int(sys.argv[2])
with open(sys.argv[1], "rb") as f:
    n = 0
    while True:
        b = f.read(bs)
        if not b:
            break
        n += b.count(0) != len(b)
print(n)
EOF
}
for bs in 4096 524288 8388608; do
    rm -f out.vhd
    t_check "raw -> dynamic with $bs-byte blocks" "$VHDTOOL" convert src.raw out.vhd -O dynamic --block-size $bs
    t_check "raw -> dynamic with $bs-byte blocks reads as the disk" qemu-img compare -q -f vpc -F raw out.vhd src.raw
    t_eq "raw -> dynamic with $bs-byte blocks: only blocks with non-zero bytes" \
        "$(nonzero_blocks src.raw $bs)" "$(allocated out.vhd)"
    t_check "raw -> dynamic with $bs-byte blocks passes check" "$VHDTOOL" check out.vhd
done
rm -f out.vhd
"$VHDTOOL" convert q-dyn.vhd out.vhd -O dynamic --block-size 524288
rm -f out.raw
t_check "dynamic with 512 KiB blocks -> raw" "$VHDTOOL" convert out.vhd out.raw
same_bytes "dynamic with 512 KiB blocks -> raw: the disk's bytes" src.raw out.raw
# shellcheck disable=SC2086
t_check "dynamic with 512 KiB blocks -> raw: holes where the disk reads as zeros" holes out.raw $ZERO_RANGES

# ---- a raw input whose size is not a multiple of 512 (padded for VHD output) ----
head -c $((3 * M + 100)) /dev/urandom >odd.raw
cp odd.raw odd-padded.raw
truncate -s $((3 * M + 512)) odd-padded.raw
for o in fixed dynamic; do
    head -c $((5 * M)) /dev/urandom >odd.vhd
    "$VHDTOOL" convert odd.raw odd.vhd -O $o
    t_check "odd-sized raw -> $o, in place, reads as the padded disk" qemu-img compare -q -f vpc -F raw odd.vhd odd-padded.raw
done

# ---- empty 127 GiB disks ----
BIG=$((127 << 30))
"$VHDTOOL" create dynamic $BIG empty.vhd --exact-size >/dev/null
empties=(empty.vhd)
RW=$T_ROOT/../shared/data/realworld-vhd
for f in qemu-virtualpc-dynamic.vhd qemu-hyperv2012r2-dynamic.vhd; do
    [ -f "$RW/$f" ] && empties+=("$RW/$f")
done
[ ${#empties[@]} -eq 3 ] || t_skip "empty 127 GiB real-world images" "$RW absent"
for in in "${empties[@]}"; do
    name=$(basename "$in")
    size=$("$VHDTOOL" info "$in" | awk '/^disk size/ { print $3 }')
    rm -f out.raw
    t_check "$name -> raw" "$VHDTOOL" convert "$in" out.raw
    t_eq "$name -> raw: the disk's size" "$size" "$(fsize out.raw)"
    t_eq "$name -> raw: no data written" 0 "$(data_bytes out.raw)"
    qemu-img convert -f vpc -O raw "$in" q.raw
    t_check "$name -> raw: same as qemu-img's" qemu-img compare -q -f raw -F raw out.raw q.raw
    head -c $((8 * M)) /dev/urandom >out.raw
    t_check "$name -> raw over a random file" "$VHDTOOL" convert "$in" out.raw
    t_eq "$name -> raw over a random file: no data left" 0 "$(data_bytes out.raw)"
    t_eq "$name -> raw over a random file: the disk's size" "$size" "$(fsize out.raw)"
done
rm -f out.raw q.raw
truncate -s $BIG empty.raw
rm -f out.vhd
t_check "empty sparse 127 GiB raw -> dynamic" "$VHDTOOL" convert empty.raw out.vhd -O dynamic
t_eq "empty raw -> dynamic: no block allocated" 0 "$(allocated out.vhd)"
t_eq "empty raw -> dynamic: metadata only" 1 "$([ "$(fsize out.vhd)" -lt $M ] && echo 1)"
t_check "empty raw -> dynamic reads as zeros in qemu-img" qemu-img compare -q -f vpc -F raw out.vhd empty.raw
exit $T_FAILED
