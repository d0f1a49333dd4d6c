#!/bin/bash
# Every image vhdtool writes reads at exactly its size everywhere: for sizes
# at each branch boundary of the VHD specification's CHS algorithm (and odd
# sizes no geometry represents), images made by `create` (fixed and dynamic,
# rounded and --exact-size), `convert` (raw -> fixed and dynamic) and `merge`
# must show that size in qemu-img 7.2 (which sizes unknown creators by
# geometry unless the geometry is the maximum), vhdiinfo (libvhdi) and
# vhdtool, and `qemu-img compare` must find them identical to a raw disk with
# the same first and last sectors (a disk read short loses its last sector).
# Files are sparse; convert runs only up to ~250 MiB (it reads every byte of
# the raw input), create and merge up to 2040 GiB.
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools qemu-img vhdiinfo
cd "$T_TMP"

# Sizes in 512-byte sectors. The algorithm's branches: 17 sectors per track
# with 4..16 heads (it leaves that branch when cylinders*heads reaches
# heads*1024, e.g. 4096*17, and past 16 heads), 31 up to 16384*31, 63 up to
# 65535*16*63, 255 up to the cap 65535*16*255.
BIG=$((65535 * 16 * 63)) MAX=$((65535 * 16 * 255))
SMALL="6144 $((4096 * 17 - 1)) $((4096 * 17)) $((4096 * 17 + 1)) $((16384 * 17)) $((16385 * 17))
       $((16384 * 31 - 1)) $((16384 * 31)) $((16384 * 31 + 1)) $((24 * 2048)) $((963 * 8 * 17 + 1))"
LARGE="$((BIG - 1)) $BIG $((BIG + 1)) $((MAX - 1)) $MAX $((MAX + 1)) $((2040 * 2048 * 1024))"

# json_size FILE KEY: the number after "KEY": in a JSON file.
json_size() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1" | head -1; }

# mark_raw FILE SIZE: a sparse raw disk of SIZE bytes whose first sector is
# 'A's and last sector 'Z's.
mark_raw() {
    truncate -s 0 "$1" && truncate -s "$2" "$1"
    head -c 512 /dev/zero | tr '\0' A | dd of="$1" conv=notrunc status=none
    head -c 512 /dev/zero | tr '\0' Z | dd of="$1" bs=512 seek=$(($2 / 512 - 1)) conv=notrunc status=none
}

# mark_vhd FILE SIZE: writes the same two sectors into a VHD through vhdtool.
mark_vhd() {
    "$VHDTOOL" write "$1" 0 --pattern 0x41 --length 512 >/dev/null &&
        "$VHDTOOL" write "$1" $(($2 - 512)) --pattern 0x5a --length 512 >/dev/null
}

# reads_exactly NAME FILE SIZE: qemu-img, vhdiinfo and vhdtool see SIZE bytes,
# and qemu-img compare finds FILE identical to the marked raw disk of SIZE.
reads_exactly() {
    local name=$1 file=$2 size=$3
    qemu-img info -f vpc --output=json "$file" >q.json 2>&1
    t_eq "$name: qemu-img virtual size" "$size" "$(json_size q.json virtual-size)"
    [ -f "ref_$size.raw" ] || mark_raw "ref_$size.raw" "$size"
    if out=$(qemu-img compare -f vpc -F raw "$file" "ref_$size.raw" 2>&1); then t_ok "$name: qemu-img compare"
    else t_fail "$name: qemu-img compare" "$out"; fi
    t_eq "$name: vhdiinfo media size" "$size" \
        "$(vhdiinfo "$file" 2>&1 | sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p')"
    "$VHDTOOL" info --json "$file" >v.json 2>&1
    t_eq "$name: vhdtool disk size" "$size" "$(json_size v.json disk_size)"
}

# created NAME TYPE SIZE [--exact-size]: vhdtool create, marked, checked at the
# size vhdtool reports (rounded up unless --exact-size).
created() {
    local name=$1 type=$2 size=$3 made
    rm -f img.vhd
    if ! "$VHDTOOL" create "$type" "$size" img.vhd "${@:4}" >/dev/null 2>err.txt; then
        t_fail "$name: create" "$(cat err.txt)"; return
    fi
    "$VHDTOOL" info --json img.vhd >v.json
    made=$(json_size v.json disk_size)
    [ $# -gt 3 ] && t_eq "$name: --exact-size keeps the size" "$size" "$made"
    mark_vhd img.vhd "$made" || t_fail "$name: write the marks"
    reads_exactly "$name" img.vhd "$made"
}

# merged NAME SIZE: a dynamic base of SIZE, a child with the marks, merged.
merged() {
    local name=$1 size=$2
    rm -f base.vhd child.vhd
    if "$VHDTOOL" create dynamic "$size" base.vhd --exact-size >/dev/null &&
        "$VHDTOOL" create diff --parent base.vhd child.vhd >/dev/null && mark_vhd child.vhd "$size" &&
        "$VHDTOOL" merge child.vhd >/dev/null 2>err.txt; then
        reads_exactly "$name" base.vhd "$size"
    else
        t_fail "$name: create, write and merge" "$(cat err.txt 2>/dev/null)"
    fi
}

for sectors in $SMALL $LARGE; do
    size=$((sectors * 512))
    for type in fixed dynamic; do
        created "$sectors sectors: create $type" $type $size
        created "$sectors sectors: create $type --exact-size" $type $size --exact-size
    done
    merged "$sectors sectors: merge" $size
    case " $SMALL " in *[[:space:]]$sectors[[:space:]]*) ;; *) continue ;; esac
    mark_raw in.raw $size
    for type in fixed dynamic; do
        rm -f conv.vhd
        if "$VHDTOOL" convert in.raw conv.vhd -O $type 2>err.txt; then
            reads_exactly "$sectors sectors: convert raw -> $type" conv.vhd $size
        else
            t_fail "$sectors sectors: convert raw -> $type" "$(cat err.txt)"
        fi
    done
    rm -f ref_*.raw
done
exit $T_FAILED
