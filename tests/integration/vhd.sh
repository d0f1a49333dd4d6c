# shellcheck shell=bash
# VHD helpers (sourced by lib.sh): VHD files made from raw guest disks with
# build/vhdtool (or qemu-img, as a second, independent producer), and
# differencing layers that carry exactly the sectors that differ between two
# raw images, so that a chain's top layer really holds the newest data.

# vhd_from_raw RAW OUT KIND: KIND fixed or dynamic (vhdtool convert) or
# qemu-dynamic / qemu-fixed (qemu-img convert, creator "qemu": CHS size rule).
vhd_from_raw() {
    local raw=$1 out=$2 kind=$3
    rm -f "$out"
    case $kind in
        fixed | dynamic) "$VHDTOOL" convert "$raw" "$out" -O "$kind" ;;
        qemu-fixed | qemu-dynamic)
            qemu-img convert -q -f raw -O vpc -o subformat="${kind#qemu-}" "$raw" "$out" ;;
        *) echo "vhd_from_raw: unknown kind $kind" >&2; return 2 ;;
    esac
}

# vhd_diff_layer PARENT CHILD OLD_RAW NEW_RAW: creates CHILD as a differencing
# disk of PARENT (whose content is OLD_RAW) and writes into it, with
# vhdtool write, every 512-byte sector where NEW_RAW differs from OLD_RAW.
# Afterwards CHILD's chain reads as NEW_RAW. Prints nothing on success.
vhd_diff_layer() {
    local parent=$1 child=$2 old=$3 new=$4
    rm -f "$child"
    "$VHDTOOL" create diff --parent "$parent" "$child" >/dev/null &&
        python3 "$IT_DIR/sector_diff.py" "$old" "$new" "$T_TMP/diffrun" |
        while read -r offset file; do
            "$VHDTOOL" write "$child" "$offset" --in "$file" >/dev/null || exit 1
        done
    local rc=("${PIPESTATUS[@]}")
    [ "${rc[0]}" -eq 0 ] && [ "${rc[1]:-0}" -eq 0 ] && [ "${rc[2]:-0}" -eq 0 ]
}

# vhd_matches VHD RAW: true when reading the whole disk VHD (through its chain)
# gives exactly RAW's bytes.
vhd_matches() {
    "$VHDTOOL" read "$1" 0 "$(stat -c %s "$2")" --out "$T_TMP/readback" >/dev/null &&
        cmp -s "$T_TMP/readback" "$2"
    local rc=$?
    rm -f "$T_TMP/readback"
    return $rc
}
