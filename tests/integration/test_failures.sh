#!/bin/bash
# Broken VHDs and the menu, in one boot. vhdboot.conf lists five entries:
#   1 a fixed VHD whose footer checksum is corrupt
#   2 a differencing disk whose parent file is missing
#   3 a differencing disk whose parent was replaced by another VHD of the
#     same size (parent UUID differs)
#   4 a VHD whose disk has no \EFI\BOOT\BOOTX64.EFI
#   5 a good payload VHD
# The countdown shows; a Down arrow stops it and moves the highlight to entry
# 2, Enter starts it. Each failure must print "vhdboot: error: ..." naming
# the file and the problem, then "vhdboot: returning to menu", and start
# nothing; the menu then waits for a key: "1", "3", "4" pick the other broken
# entries and "5" the good one, which must boot (PAYLOAD: PASS): so the
# loader also recovers cleanly after each failure. (Arrows are used only on
# the first menu, where the highlight is surely the default entry.)
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img

# --- the broken disks -------------------------------------------------------
guest_payload "$W/good.img" || it_setup_fail "payload guest disk"
guest_disk "$W/noboot.img" 16 6 && guest_pattern "$W/noboot.img" || it_setup_fail "guest disk without a boot file"
t_check "good payload VHD" vhd_from_raw "$W/good.img" "$W/good.vhd" dynamic
t_check "VHD without a boot file" vhd_from_raw "$W/noboot.img" "$W/noboot.vhd" dynamic

# 1: fixed VHD, checksum field (footer offset 64) overwritten.
vhd_from_raw "$W/good.img" "$W/badsum.vhd" fixed || it_setup_fail "fixed VHD for the checksum case"
printf '\xde\xad\xbe\xef' | dd of="$W/badsum.vhd" bs=1 seek=$(($(stat -c %s "$W/badsum.vhd") - 512 + 64)) conv=notrunc status=none
t_check "corrupted footer is refused by vhdtool check too" bash -c '! "$1" check "$2" >/dev/null 2>&1' _ "$VHDTOOL" "$W/badsum.vhd"

# 2: child whose parent is not copied to the ESP.
mkdir -p "$W/orphan" "$W/wrong" "$W/other"
vhd_from_raw "$W/good.img" "$W/orphan/base.vhd" dynamic &&
    "$VHDTOOL" create diff --parent "$W/orphan/base.vhd" "$W/orphan/child.vhd" >/dev/null ||
    it_setup_fail "differencing disk for the missing-parent case"

# 3: child of one base, then that base replaced by another VHD of the same size.
vhd_from_raw "$W/good.img" "$W/wrong/base.vhd" dynamic &&
    "$VHDTOOL" create diff --parent "$W/wrong/base.vhd" "$W/wrong/child.vhd" >/dev/null &&
    vhd_from_raw "$W/good.img" "$W/other/base.vhd" dynamic ||
    it_setup_fail "differencing disk for the wrong-parent case"

esp_create "$ESP" 128 || it_setup_fail "host ESP image"
esp_put "$ESP" "$W/badsum.vhd" /vms/badsum.vhd &&
    esp_put "$ESP" "$W/orphan/child.vhd" /vms/orphan/child.vhd &&
    esp_put "$ESP" "$W/wrong/child.vhd" /vms/wrong/child.vhd &&
    esp_put "$ESP" "$W/other/base.vhd" /vms/wrong/base.vhd &&
    esp_put "$ESP" "$W/noboot.vhd" /vms/noboot.vhd &&
    esp_put "$ESP" "$W/good.vhd" /vms/good.vhd || it_setup_fail "copy the VHDs to the host ESP"

esp_conf "$ESP" <<'EOF' || it_setup_fail "vhdboot.conf"
timeout 30
default badsum
entry badsum
  title Corrupt footer checksum
  vhd \vms\badsum.vhd
entry orphan
  title Missing parent
  vhd \vms\orphan\child.vhd
entry wrong
  title Wrong parent UUID
  vhd \vms\wrong\child.vhd
entry noboot
  title No boot file inside
  vhd \vms\noboot.vhd
entry good
  title Good payload
  vhd \vms\good.vhd
  write volatile
EOF

# --- one boot through all five entries ---------------------------------------
# Returning to the menu is expected here: only a crash or a payload failure ends early.
IT_STOP='PAYLOAD: FAIL|^Shell> |X64 Exception Type'
IT_LIMIT=120
it_boot failures-and-menu "$ESP" \
    'booting Corrupt footer checksum in [0-9]+ s' '\e[B' \
    '1:^> 2\. Missing parent' '\r' \
    '1:vhdboot: returning to menu' '1' \
    '2:vhdboot: returning to menu' '3' \
    '3:vhdboot: returning to menu' '4' \
    '4:vhdboot: returning to menu' '5'

it_expect "menu: shows the menu and a countdown" '^booting Corrupt footer checksum in [0-9]+ s'
it_expect "menu: entries are numbered, the default highlighted" '^> 1\. Corrupt footer checksum'

# segment N: prints the console from the N-th "vhdboot: opening" line up to
# the next one (what happened to the N-th boot attempt).
segment() {
    awk -v n="$1" '/^vhdboot: opening /{ k++ } k == n' "$IT_LOG"
}
# check_failure N NAME FILE_REGEX PROBLEM_REGEX: the N-th attempt printed an
# error naming the file and the problem, returned to the menu, started nothing.
check_failure() {
    local n=$1 name=$2 file=$3 problem=$4 seg
    seg=$(segment "$n")
    if [ -z "$seg" ]; then t_fail "$name: attempted" "no boot attempt number $n in the console"; tail -n 20 "$IT_LOG" | sed 's/^/#   /'; return; fi
    if grep -E '^vhdboot: error: ' <<<"$seg" | grep -E -- "$file" | grep -qE -- "$problem"; then
        t_ok "$name: error names the file and the problem"
    else
        t_fail "$name: error names the file and the problem" "wanted an error line with /$file/ and /$problem/; got:"
        sed 's/^/#   /' <<<"$seg" | head -n 15
    fi
    if grep -q '^vhdboot: returning to menu' <<<"$seg"; then t_ok "$name: returns to the menu"; else
        t_fail "$name: returns to the menu"; fi
    if grep -qE -- "$IT_GUEST_OUTPUT|^vhdboot: starting " <<<"$seg"; then
        t_fail "$name: nothing was started" "$(grep -E -- "$IT_GUEST_OUTPUT|^vhdboot: starting " <<<"$seg" | head -n 3)"
    else t_ok "$name: nothing was started"; fi
}

check_failure 1 "missing parent" 'child\.vhd' 'parent not found.*base\.vhd'
check_failure 2 "corrupt footer checksum" 'badsum\.vhd' 'checksum'
check_failure 3 "wrong parent UUID" 'child\.vhd|base\.vhd' 'parent UUID'
check_failure 4 "no boot file inside the VHD" 'noboot\.vhd' 'no boot file found'
it_expect "menu: a Down arrow moves the highlight" '^> 2\. Missing parent'
it_expect "menu: Enter boots the highlighted entry" '^vhdboot: selected 2\. Missing parent'
it_expect "menu: a digit picks that entry" '^vhdboot: selected 3\. Wrong parent UUID'
if segment 5 | grep -q '^PAYLOAD: PASS'; then t_ok "after four failures the fifth entry boots: PAYLOAD: PASS"; else
    t_fail "after four failures the fifth entry boots: PAYLOAD: PASS" "($(qemu_verdict $IT_RC))"
    tail -n 20 "$IT_LOG" | sed 's/^/#   /'
fi
exit $T_FAILED
