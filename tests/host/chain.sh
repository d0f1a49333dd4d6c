#!/bin/bash
# A 3-layer differencing chain made and written with vhdtool, mirrored into a
# raw file with dd: flattening equals the mirror, parents are never written,
# check passes, merge keeps the data, set-parent follows a moved base and
# refuses a parent with the wrong UUID.
source "$(dirname "$0")/../lib.sh"
VHDTOOL=${VHDTOOL_BIN:-$VHDTOOL}
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
cd "$T_TMP"
mkdir -p lab/base lab/mid
SIZE=$((24 << 20))
RANDOM=4242   # reproducible ranges

same_bytes() {
    if cmp -s "$2" "$3"; then t_ok "$1"; else t_fail "$1" "$(cmp "$2" "$3" 2>&1 | head -1)"; fi
}
# write_ranges DISK N: N random writes (random byte offsets and lengths up to
# 400 KiB, some crossing 2 MiB blocks) into DISK through vhdtool, mirrored
# into mirror.raw. Returns non-zero when a write fails.
write_ranges() {
    local disk=$1 n=$2 i off len
    for ((i = 0; i < n; i++)); do
        off=$(( (RANDOM * 32768 + RANDOM) % (SIZE - 500000) ))
        len=$(( (RANDOM * 32768 + RANDOM) % 400000 + 1 ))
        (( i % 3 == 0 )) && off=$(( off / 512 * 512 ))          # some sector-aligned
        (( i % 4 == 1 )) && off=$(( (off / 2097152 + 1) * 2097152 - len / 2 ))  # straddle a block edge
        head -c "$len" /dev/urandom >piece
        "$VHDTOOL" write "$disk" "$off" --in piece || return 1
        dd if=piece of=mirror.raw bs=64K conv=notrunc oflag=seek_bytes seek="$off" status=none || return 1
    done
}

truncate -s $SIZE mirror.raw
t_check "create base (dynamic)" "$VHDTOOL" create dynamic $SIZE lab/base/base.vhd --exact-size
write_ranges lab/base/base.vhd 6 && t_ok "write base" || t_fail "write base"
base_sum=$(sha256sum <lab/base/base.vhd)
t_check "create mid (diff of base, other folder)" "$VHDTOOL" create diff --parent lab/base/base.vhd lab/mid/mid.vhd
write_ranges lab/mid/mid.vhd 8 && t_ok "write mid" || t_fail "write mid"
mid_sum=$(sha256sum <lab/mid/mid.vhd)
t_check "create top (diff of mid)" "$VHDTOOL" create diff --parent lab/mid/mid.vhd lab/top.vhd
write_ranges lab/top.vhd 10 && t_ok "write top" || t_fail "write top"
# A pattern write too (the --pattern path), with its mirror.
"$VHDTOOL" write lab/top.vhd 3000001 --pattern 0xA5 --length 70000 &&
    head -c 70000 /dev/zero | tr '\0' '\245' | dd of=mirror.raw bs=64K conv=notrunc oflag=seek_bytes seek=3000001 status=none
t_eq "base unchanged by writes to mid and top" "$base_sum" "$(sha256sum <lab/base/base.vhd)"
t_eq "mid unchanged by writes to top" "$mid_sum" "$(sha256sum <lab/mid/mid.vhd)"

"$VHDTOOL" info lab/top.vhd >info.txt
t_grep "info shows the 3-layer chain" "^  2  dynamic +.*/lab/base/base.vhd" info.txt
t_grep "info shows the W2ru locator of top" "W2ru \.\\\\mid\\\\mid.vhd" info.txt
"$VHDTOOL" info lab/mid/mid.vhd >info_mid.txt
t_grep "mid's W2ru climbs to the base folder" "W2ru \.\.\\\\base\\\\base.vhd" info_mid.txt
t_check "check passes on the chain" "$VHDTOOL" check lab/top.vhd
t_check "convert flattens the chain" "$VHDTOOL" convert lab/top.vhd flat.raw
same_bytes "flattened chain equals the mirror" flat.raw mirror.raw
"$VHDTOOL" read lab/top.vhd 2097000 1000 --out piece.bin
dd if=mirror.raw bs=1000 skip=2097 count=1 status=none >piece.ref
same_bytes "read across a block edge equals the mirror" piece.bin piece.ref
base_before=$(sha256sum <lab/base/base.vhd)
"$VHDTOOL" convert lab/top.vhd lab/base/base.vhd -O raw >/dev/null 2>out.txt
t_eq "convert refuses to overwrite a layer of its own chain" 1 "$?"
t_eq "the refused convert left the base alone" "$base_before" "$(sha256sum <lab/base/base.vhd)"
t_check "convert the chain to a dynamic VHD" "$VHDTOOL" convert lab/top.vhd flat.vhd
"$VHDTOOL" convert flat.vhd flat2.raw
same_bytes "flattened dynamic VHD equals the mirror" flat2.raw mirror.raw

# A damaged trailing footer: check reports it, --repair restores it from the
# copy at offset 0 (next to top, so its relative locator still resolves).
cp lab/top.vhd lab/damaged.vhd
end=$(stat -c %s lab/damaged.vhd)
printf 'XXXX' | dd of=lab/damaged.vhd bs=1 seek=$((end - 512 + 64)) conv=notrunc status=none
"$VHDTOOL" check lab/damaged.vhd >out.txt 2>&1
t_eq "check of a damaged footer exits 1" 1 "$?"
t_grep "check names the file and the checksum" "damaged\.vhd.*checksum" out.txt
"$VHDTOOL" check --repair lab/damaged.vhd >out.txt 2>&1
t_eq "check --repair exits 0" 0 "$?"
t_grep "repair says what it does before doing it" "repairing: rewriting the trailing footer" out.txt
cmp -s <(head -c 512 lab/damaged.vhd) <(tail -c 512 lab/damaged.vhd) && t_ok "repaired footer equals the copy" ||
    t_fail "repaired footer equals the copy"
"$VHDTOOL" convert lab/damaged.vhd repaired.raw
same_bytes "repaired image still equals the mirror" repaired.raw mirror.raw
rm -f lab/damaged.vhd

# Merge top into mid: the chain mid -> base now holds the same data.
t_check "merge top into mid" "$VHDTOOL" merge lab/top.vhd
t_eq "merge does not write the grandparent" "$base_sum" "$(sha256sum <lab/base/base.vhd)"
[ -e lab/top.vhd ] && t_ok "merge keeps the child without --delete-child" || t_fail "merge keeps the child"
"$VHDTOOL" convert lab/mid/mid.vhd merged.raw
same_bytes "merged mid equals the mirror" merged.raw mirror.raw
t_check "check passes after merge" "$VHDTOOL" check lab/top.vhd

# Move the base: the chain breaks, set-parent repairs it.
mkdir -p moved
mv lab/base/base.vhd moved/base-moved.vhd
"$VHDTOOL" info lab/mid/mid.vhd >/dev/null 2>err.txt
rc=$?
t_eq "info after moving the base exits 1" 1 "$rc"
t_grep "info names the missing parent" "parent not found" err.txt
t_check "set-parent to the moved base" "$VHDTOOL" set-parent lab/mid/mid.vhd moved/base-moved.vhd
"$VHDTOOL" info lab/mid/mid.vhd >info_moved.txt
t_grep "W2ru now points at the moved base" "W2ru \.\.\\\\\.\.\\\\moved\\\\base-moved.vhd" info_moved.txt
t_grep "parent name is the new absolute path" "parent name: +\\\\.*\\\\moved\\\\base-moved.vhd" info_moved.txt
t_check "check passes after set-parent" "$VHDTOOL" check lab/top.vhd
"$VHDTOOL" convert lab/top.vhd moved.raw
same_bytes "chain after set-parent equals the mirror" moved.raw mirror.raw

# A parent with another UUID is refused, naming both UUIDs; nothing changes.
"$VHDTOOL" create dynamic $SIZE impostor.vhd --exact-size >/dev/null
want=$("$VHDTOOL" info --json lab/mid/mid.vhd | sed -n 's/.*"parent_uuid": "\(.*\)".*/\1/p')
have=$("$VHDTOOL" info --json impostor.vhd | sed -n 's/.*"uuid": "\(.*\)".*/\1/p')
mid_sum=$(sha256sum <lab/mid/mid.vhd)
"$VHDTOOL" set-parent lab/mid/mid.vhd impostor.vhd >out.txt 2>&1
rc=$?
t_eq "set-parent with a wrong-UUID parent exits 1" 1 "$rc"
t_grep "refusal names the expected parent UUID" "$want" out.txt
t_grep "refusal names the impostor's UUID" "$have" out.txt
t_eq "refused set-parent leaves the child untouched" "$mid_sum" "$(sha256sum <lab/mid/mid.vhd)"

# A new path longer than the locator space the child reserved: refused, unchanged.
long=deep/$(printf 'd%.0s' $(seq 1 200))/$(printf 'e%.0s' $(seq 1 200))
mkdir -p "$long"
cp moved/base-moved.vhd "$long/base.vhd"
mid_sum=$(sha256sum <lab/mid/mid.vhd)
"$VHDTOOL" set-parent lab/mid/mid.vhd "$long/base.vhd" >out.txt 2>&1
t_eq "set-parent with a path too long for the locator space exits 1" 1 "$?"
t_grep "the refusal says the path does not fit" "needs [0-9]+ bytes but the file reserves only" out.txt
t_eq "the too-long set-parent leaves the child untouched" "$mid_sum" "$(sha256sum <lab/mid/mid.vhd)"

# merge --delete-child removes the child after a verified merge.
t_check "merge --delete-child" "$VHDTOOL" merge --delete-child lab/top.vhd
[ -e lab/top.vhd ] && t_fail "child deleted" || t_ok "child deleted"
exit $T_FAILED
