#!/bin/bash
# Hostile VHD files booted by the real loader under QEMU+OVMF.
#
# hostile/make_hostile.py crafts ~50 damaged images at test time (truncated
# files, bad cookies and checksums, sizes and offsets that overflow, BAT
# entries past the end, over metadata or over each other, bad parent
# locators, parent cycles, a 33-layer chain, ...), each with the problem its
# error line must name.
# All go on one host ESP under \h. Each boot's vhdboot.conf lists up to 15
# of them plus a last "end" entry; the console is driven over the serial
# line: digits pick entries 1-9, Up arrows (wrapping from entry 1 to the
# last) pick 10-15, one Up picks the end entry, whose selection stops QEMU.
# Every case must print "vhdboot: error: <file>: <problem>", return to the
# menu and start nothing; no boot may crash (OVMF exception banner), reboot
# or hang; and every file on the ESP must be byte-identical afterwards.
. "$(dirname "$0")/lib.sh"
MAX_PER_BOOT=15

W=$T_TMP
ESP=$W/esp.img
python3 "$IT_DIR/hostile/make_hostile.py" "$W/hostile" >/dev/null || it_setup_fail "make_hostile.py"
mapfile -t CASES <"$W/hostile/cases.tsv"
BOOTS=$(((${#CASES[@]} + MAX_PER_BOOT - 1) / MAX_PER_BOOT))
PER_BOOT=$(((${#CASES[@]} + BOOTS - 1) / BOOTS))
it_require_qemu

esp_create "$ESP" 128 || it_setup_fail "host ESP image"
mcopy -s -i "$ESP@@1M" "$W/hostile/files/h" ::/ || it_setup_fail "copy the hostile files to the ESP"
(cd "$W/hostile/files" && find h -type f | LC_ALL=C sort | xargs sha256sum) >"$W/before.sha256" ||
    it_setup_fail "checksums of the hostile files"

# keys_for N COUNT: the keys that pick entry N (1-based) of a COUNT-entry menu
# whose highlight starts on entry 1.
keys_for() {
    local n=$1 count=$2 keys="" i
    if [ "$n" -le 9 ]; then printf '%s' "$n"; return; fi
    for ((i = n; i <= count; i++)); do keys+='\e[A'; done
    printf '%s' "$keys\r"
}

# segment N: the console from the N-th "vhdboot: opening" line up to the next.
segment() {
    awk -v n="$1" '/^vhdboot: opening /{ k++ } k == n' "$IT_LOG"
}

# check_case N LINE: TAP line for the case in LINE, the N-th attempt of the boot.
check_case() {
    local n=$1 name path mode file problem title seg why=""
    IFS=$'\t' read -r name path mode file problem title <<<"$2"
    seg=$(segment "$n")
    if ! grep -q "^vhdboot: opening .*${path//\//\\\\}\$" <<<"$seg"; then
        why="attempt $n did not open ${path//\//\\}"
    elif ! grep -E '^vhdboot: error: ' <<<"$seg" | grep -E -- "$file" | grep -qE -- "$problem"; then
        why="no error line naming /$file/ and /$problem/"
    elif ! grep -q '^vhdboot: returning to menu' <<<"$seg" || ! grep -q '^vhdboot menu' <<<"$seg"; then
        why="did not return to the menu"
    elif grep -qE -- "$IT_GUEST_OUTPUT|^vhdboot: starting " <<<"$seg"; then
        why="something was started"
    fi
    if [ -z "$why" ]; then t_ok "hostile $name ($mode): $title: refused, back at the menu"; else
        t_fail "hostile $name ($mode): $title: refused, back at the menu" "$why; console:"
        sed 's/^/#   /' <<<"$seg" | head -n 12
    fi
}

# boot_group NAME: boots the ESP with vhdboot.conf listing the cases in
# ${group[@]} plus the end entry, tries each in turn and prints their TAP lines.
boot_group() {
    local name=$1 count=$((${#group[@]} + 1)) i steps banners
    {
        printf 'timeout 30\ndefault c1\n'
        for i in "${!group[@]}"; do
            IFS=$'\t' read -r _ path mode _ _ title <<<"${group[i]}"
            printf 'entry c%d\n  title %s\n  vhd %s\n  write %s\n' $((i + 1)) "$title" "${path//\//\\}" "$mode"
        done
        printf 'entry end\n  title End of group %s\n  vhd \\h\\none.vhd\n' "$name"
    } | esp_conf "$ESP" || it_setup_fail "vhdboot.conf for boot $name"
    steps=('booting .* in [0-9]+ s' "$(keys_for 1 "$count")")
    for ((i = 2; i <= count; i++)); do
        steps+=("$((i - 1)):^vhdboot: returning to menu" "$(keys_for "$i" "$count")")
    done
    it_boot "hostile-$name" "$ESP" "${steps[@]}"
    for i in "${!group[@]}"; do check_case $((i + 1)) "${group[i]}"; done
    it_expect "boot $name: all ${#group[@]} entries tried, the end entry reached (no hang)" \
        "^vhdboot: selected $count\. End of group"
    it_reject "boot $name: no firmware exception" 'X64 Exception|!!!! '
    banners=$(grep -E '^vhdboot [^ ]+$' "$IT_LOG" | grep -vc '^vhdboot menu$')
    if [ "$banners" -eq 1 ] && [ "$IT_RC" -eq 2 ]; then
        t_ok "boot $name: the loader started once (no reboot)"
    else
        t_fail "boot $name: the loader started once (no reboot)" "$banners banners, $(qemu_verdict $IT_RC)"
    fi
}

IT_STOP='^vhdboot: selected [0-9]+\. End of group|X64 Exception Type|^Shell> |PAYLOAD:'
IT_LIMIT=${HOSTILE_LIMIT:-150}
for ((b = 0; b < BOOTS; b++)); do
    group=("${CASES[@]:b*PER_BOOT:PER_BOOT}")
    boot_group $((b + 1))
done

# --- NTFS: damaged volumes on a second disk ------------------------------------
NTFS_BUILD=$T_BUILD/tests-tools/ntfs_build
t_need_tools mkntfs sgdisk
[ -x "$NTFS_BUILD" ] || t_need "$NTFS_BUILD not built (make test-build, after ntfs-3g-dev)"
if python3 "$IT_DIR/hostile/make_hostile_ntfs.py" "$NTFS_BUILD" "$W/ntfs" >/dev/null; then
    mapfile -t group <"$W/ntfs/ntfs-cases.tsv"
    disk_sha=$(sha256sum <"$W/ntfs/ntfs-disk.img")
    QEMU_DISK2=$W/ntfs/ntfs-disk.img boot_group ntfs
    t_eq "NTFS disk byte-identical after the boot" "$disk_sha" "$(sha256sum <"$W/ntfs/ntfs-disk.img")"
else
    t_fail "NTFS hostile volumes" "make_hostile_ntfs.py failed"
fi

# --- nothing was written ------------------------------------------------------
rm -rf "$W/after" && mkdir -p "$W/after"
if mcopy -s -n -i "$ESP@@1M" ::/h "$W/after/" && (cd "$W/after" && sha256sum --quiet -c "$W/before.sha256"); then
    t_ok "all $(wc -l <"$W/before.sha256") files byte-identical after the boots"
else
    t_fail "all files byte-identical after the boots" "sha256 mismatch or missing file (see above)"
fi
if [ "$(cd "$W/after" && find h -type f | wc -l)" -eq "$(wc -l <"$W/before.sha256")" ]; then
    t_ok "no file was added under \\h"
else t_fail "no file was added under \\h" "$(cd "$W/after" && find h -type f | wc -l) files now"; fi
exit $T_FAILED
