#!/bin/bash
# Cross-checks vhdtool against QEMU and libvhdi on fixed and dynamic VHDs:
# QEMU-made images read identically through vhdtool and qemu-img; vhdtool-made
# images read identically through qemu-img (convert and compare) and are
# accepted by vhdiinfo with the right media size.
source "$(dirname "$0")/../lib.sh"
VHDTOOL=${VHDTOOL_BIN:-$VHDTOOL}
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools qemu-img vhdiinfo
cd "$T_TMP"

# A size that CHS represents exactly: 963 cylinders x 8 heads x 17 sectors x
# 512 bytes (about 64 MiB); tests/host/size_rule.sh covers the other sizes.
SIZE=67055616

# random_raw FILE SIZE: a sparse raw image with random data in a few ranges,
# some unaligned, some crossing 2 MiB block boundaries, the rest holes.
random_raw() {
    truncate -s "$2" "$1"
    local off len
    for spec in 0:65536 1049077:300000 4194000:2098000 20971520:4096 41943552:1000000 $(($2 - 70000)):70000; do
        off=${spec%%:*} len=${spec##*:}
        head -c "$len" /dev/urandom | dd of="$1" bs=64K conv=notrunc oflag=seek_bytes seek="$off" status=none
    done
}
random_raw src.raw $SIZE

# same_bytes NAME A B: passes when files A and B have identical contents.
same_bytes() {
    if cmp -s "$2" "$3"; then t_ok "$1"; else t_fail "$1" "$(cmp "$2" "$3" 2>&1 | head -1)"; fi
}

# --- QEMU-made images read through vhdtool exactly as through qemu-img ---
for opts in subformat=fixed subformat=dynamic subformat=fixed,force_size=on subformat=dynamic,force_size=on; do
    tag=${opts//[,=]/_}
    if ! qemu-img convert -f raw -O vpc -o "$opts" src.raw "q_$tag.vhd" 2>q.err; then
        t_fail "qemu-img makes $opts" "$(cat q.err)"; continue
    fi
    qemu-img convert -f vpc -O raw "q_$tag.vhd" "q_$tag.qemu.raw"
    t_check "vhdtool converts qemu $opts to raw" "$VHDTOOL" convert "q_$tag.vhd" "q_$tag.vt.raw"
    same_bytes "qemu $opts: vhdtool raw == qemu-img raw" "q_$tag.vt.raw" "q_$tag.qemu.raw"
    t_check "vhdtool check accepts qemu $opts" "$VHDTOOL" check "q_$tag.vhd"
    qsize=$(qemu-img info -f vpc --output=json "q_$tag.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
    vsize=$("$VHDTOOL" info --json "q_$tag.vhd" | sed -n 's/.*"disk_size": \([0-9]*\).*/\1/p')
    t_eq "qemu $opts: disk size agrees with qemu-img" "$qsize" "$vsize"
done
for fmt in fixed dynamic fixed,force_size=on dynamic,force_size=on; do
    qemu-img create -q -f vpc -o subformat=$fmt "empty_$fmt.vhd" 8M
    qemu-img convert -f vpc -O raw "empty_$fmt.vhd" "empty_$fmt.qemu.raw"
    "$VHDTOOL" convert "empty_$fmt.vhd" "empty_$fmt.vt.raw"
    same_bytes "empty qemu-img create $fmt reads identically" "empty_$fmt.vt.raw" "empty_$fmt.qemu.raw"
done
# Reading a byte range of a QEMU dynamic image matches the raw source.
"$VHDTOOL" read q_subformat_dynamic.vhd 4193000 5000 --out piece.bin
dd if=src.raw bs=1000 skip=4193 count=5 status=none >piece.ref
same_bytes "read of an unaligned range of a qemu dynamic image" piece.bin piece.ref

# --- vhdtool-made images read through qemu-img and vhdiinfo ---
# check_made NAME FILE: qemu-img reads FILE as src.raw, vhdiinfo agrees on size.
check_made() {
    local name=$1 file=$2
    if qemu-img convert -f vpc -O raw "$file" "$file.qemu.raw" 2>q.err; then
        same_bytes "$name: qemu-img reads the same bytes" "$file.qemu.raw" src.raw
    else
        t_fail "$name: qemu-img reads it" "$(cat q.err)"
    fi
    if qemu-img compare -q -f vpc -F raw "$file" src.raw; then t_ok "$name: qemu-img compare says identical"
    else t_fail "$name: qemu-img compare says identical"; fi
    local media
    media=$(vhdiinfo "$file" 2>&1 | sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p')
    t_eq "$name: vhdiinfo media size" "$SIZE" "$media"
}
t_check "vhdtool convert raw -> fixed" "$VHDTOOL" convert src.raw vt_fixed.vhd -O fixed
check_made "vhdtool fixed" vt_fixed.vhd
t_check "vhdtool convert raw -> dynamic" "$VHDTOOL" convert -p src.raw vt_dynamic.vhd
check_made "vhdtool dynamic" vt_dynamic.vhd
t_check "vhdtool convert raw -> dynamic, 512K blocks" "$VHDTOOL" convert src.raw vt_dyn512k.vhd --block-size 512K
check_made "vhdtool dynamic 512K blocks" vt_dyn512k.vhd
# All-zero blocks stay unallocated: src.raw has data in 6 of its 2 MiB blocks... count them.
blocks=$(python3 -c "
import sys
data=open('src.raw','rb').read(); bs=2<<20
print(sum(1 for i in range(0,len(data),bs) if data[i:i+bs].strip(b'\0')))")
alloc=$("$VHDTOOL" info --json vt_dynamic.vhd | sed -n 's/.*"allocated_blocks": \([0-9]*\).*/\1/p')
t_eq "dynamic output allocates only non-zero blocks" "$blocks" "$alloc"
# Raw and fixed outputs are sparse: fewer blocks on disk than the size.
used=$(( $(stat -c %b vt_fixed.vhd) * 512 ))
[ "$used" -lt $((SIZE / 2)) ] && t_ok "fixed output is sparse ($used bytes used)" || t_fail "fixed output is sparse" "$used bytes used"

# Images built with create + write, read back by qemu-img.
t_check "vhdtool create dynamic" "$VHDTOOL" create dynamic $SIZE cw_dyn.vhd
t_check "vhdtool create fixed" "$VHDTOOL" create fixed $SIZE cw_fixed.vhd
for f in cw_dyn.vhd cw_fixed.vhd; do
    for spec in 0:65536 1049077:300000 4194000:2098000 20971520:4096 41943552:1000000 $((SIZE - 70000)):70000; do
        off=${spec%%:*} len=${spec##*:}
        dd if=src.raw bs=64K iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none >piece
        "$VHDTOOL" write "$f" "$off" --in piece || t_fail "write $off+$len into $f"
    done
    check_made "create+write $f" "$f"
done

# create rounds a size that CHS cannot represent (30 MiB) up to one it can,
# and QEMU sees the disk vhdtool made.
for t in fixed dynamic; do
    "$VHDTOOL" create $t 30M "r_$t.vhd" 2>/dev/null
    qsize=$(qemu-img info -f vpc --output=json "r_$t.vhd" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
    vsize=$("$VHDTOOL" info --json "r_$t.vhd" | sed -n 's/.*"disk_size": \([0-9]*\).*/\1/p')
    t_eq "create $t 30M: qemu-img sees the size vhdtool made" "$vsize" "$qsize"
    [ "${vsize:-0}" -ge $((30 << 20)) ] && t_ok "create $t 30M: rounded up, not down" || t_fail "create $t 30M: rounded up" "size $vsize"
done
"$VHDTOOL" create dynamic 30M r_exact.vhd --exact-size
t_eq "create --exact-size keeps 30 MiB" "$((30 << 20))" "$("$VHDTOOL" info --json r_exact.vhd | sed -n 's/.*"disk_size": \([0-9]*\).*/\1/p')"

# Round trip: vhdtool dynamic -> fixed -> raw keeps every byte.
"$VHDTOOL" convert vt_dynamic.vhd rt_fixed.vhd -O fixed && "$VHDTOOL" convert rt_fixed.vhd rt.raw
same_bytes "dynamic -> fixed -> raw round trip" rt.raw src.raw
exit $T_FAILED
