#!/bin/bash
# vhdtool bcd: every generated BCD store is opened by an independent reader
# (Debian's hivex: hivexregedit --export and hivexsh), which must show every
# key and value; the device elements carry the host partition and VHD path;
# --show reads the store Windows' bcdedit wrote (../shared/data/bcd).
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
t_need_tools hivexregedit hivexsh sgdisk python3
WINBCD=${VB_BCD_STORE:-$T_ROOT/../shared/data/bcd/ntloader-template.bcd}

# check_store NAME FILE: hivex exports FILE, and every object and element that
# `vhdtool bcd --show` lists appears in the export with an Element value
# (and the reverse: hivex shows no element that --show missed).
check_store() {
    local name=$1 file=$2
    if ! hivexregedit --export "$file" '\' >"$T_TMP/export" 2>"$T_TMP/err"; then
        t_fail "$name: hivexregedit exports it" "$(head -3 "$T_TMP/err")"; return
    fi
    t_ok "$name: hivexregedit exports it"
    "$VHDTOOL" bcd --show "$file" >"$T_TMP/show" || { t_fail "$name: --show reads it"; return; }
    python3 - "$T_TMP/export" "$T_TMP/show" <<'PY' >"$T_TMP/cmp" 2>&1
import re, sys
export = open(sys.argv[1], encoding="utf-8", errors="replace").read()
show = open(sys.argv[2]).read().splitlines()
keys = set(re.findall(r"^\[(.*)\]$", export, re.M))
hivex = set()
for k in keys:
    m = re.match(r"\\Objects\\(\{[^}]*\})\\Elements\\([0-9A-Fa-f]{8})$", k)
    if m:
        hivex.add((m.group(1).lower(), m.group(2).upper()))
ours, obj = set(), None
for line in show:
    m = re.match(r"object (\{[^}]*\})", line)
    if m:
        obj = m.group(1).lower()
        if "\\Objects\\" + m.group(1) + "\\Description" not in keys:
            print("no Description key for", obj)
        continue
    m = re.match(r"    ([0-9A-Fa-f]{8}) ", line)
    if m:
        ours.add((obj, m.group(1).upper()))
blocks = export.split("\n\n")
values = sum(1 for b in blocks if '"Element"=' in b)
print("elements: vhdtool", len(ours), "hivex", len(hivex), "Element values", values)
if ours != hivex or values != len(hivex) or not ours:
    print("differ:", sorted(ours ^ hivex)); sys.exit(1)
PY
    if [ $? -eq 0 ]; then t_ok "$name: hivex and --show agree on every element ($(head -1 "$T_TMP/cmp"))"
    else t_fail "$name: hivex and --show agree on every element" "$(cat "$T_TMP/cmp")"; fi
}

# element_bytes FILE OBJECT TYPE: the Element value's bytes (hex) as hivex exports them.
element_bytes() {
    hivexregedit --export "$1" "\\Objects\\$2\\Elements\\$3" 2>/dev/null |
        python3 -c 'import sys,re; t=sys.stdin.read(); m=re.search(r"\"Element\"=hex\(\d\):([0-9a-f,\\\s]*)", t); print(re.sub(r"[^0-9a-f]", "", m.group(1)) if m else "")'
}
utf16hex() { printf '%s' "$1" | iconv -f utf-8 -t utf-16le | od -An -tx1 | tr -d ' \n'; }

ENTRY='{5668d0b7-8e1c-4e2a-9c3d-766864626f6f}'
DISK='{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}'
PART='{11223344-5566-7788-99aa-bbccddeeff00}'

# 1. GPT identity given as GUIDs.
t_check "bcd --vhd gpt:... writes a store" "$VHDTOOL" bcd --vhd "gpt:$DISK:$PART:\\vhd\\Windows 11.vhdx" \
    --out "$T_TMP/gpt.bcd" --title "Windows 11 (VHD)"
check_store "gpt store" "$T_TMP/gpt.bcd"
printf 'cd \\Objects\\%s\\Elements\\12000004\nlsval\n' "$ENTRY" | hivexsh "$T_TMP/gpt.bcd" >"$T_TMP/sh" 2>&1
t_grep "hivexsh shows the entry's description" '"Element"="Windows 11 \(VHD\)"' "$T_TMP/sh"
printf 'cd \\Objects\\{9dea862c-5cdd-4e70-acc1-f32b344d4795}\\Elements\\23000003\nlsval\n' | hivexsh "$T_TMP/gpt.bcd" >"$T_TMP/sh" 2>&1
t_grep "hivexsh: {bootmgr} default is the entry" "\"Element\"=\"$ENTRY\"" "$T_TMP/sh"
printf 'cd \\Objects\\%s\\Elements\\22000002\nlsval\n' "$ENTRY" | hivexsh "$T_TMP/gpt.bcd" >"$T_TMP/sh" 2>&1
t_grep "hivexsh: systemroot is \\Windows" '"Element"="\\\\Windows"' "$T_TMP/sh"
for el in 11000001 21000001; do
    hex=$(element_bytes "$T_TMP/gpt.bcd" "$ENTRY" $el)
    # locate descriptor type 8 at byte 16; the partition and disk GUIDs in
    # on-disk order; the path in UTF-16 with its NUL at the very end
    case "$hex" in
        0000000000000000000000000000000008000000*) t_ok "$el: a locate (VHD) device";;
        *) t_fail "$el: a locate (VHD) device" "${hex:0:80}";;
    esac
    [[ $hex == *44332211665588779[9]aabbccddeeff00* ]] && t_ok "$el: names the partition GUID" || t_fail "$el: names the partition GUID" "$hex"
    [[ $hex == *3d2c1b0a5f4e71608293a4b5c6d7e8f9* ]] && t_ok "$el: names the disk GUID" || t_fail "$el: names the disk GUID" "$hex"
    [[ $hex == *"$(utf16hex '\vhd\Windows 11.vhdx')0000" ]] && t_ok "$el: ends with the VHD path" || t_fail "$el: ends with the VHD path" "$hex"
done
"$VHDTOOL" bcd --show "$T_TMP/gpt.bcd" >"$T_TMP/show"
t_grep "--show decodes the VHD device" "osdevice +vhd=\[gpt disk $DISK partition $PART\]\\\\vhd\\\\Windows 11.vhdx \(locate 22000002\)" "$T_TMP/show"

# 2. MBR identity given as signature and offset.
t_check "bcd --vhd mbr:... writes a store" "$VHDTOOL" bcd --vhd 'mbr:1234abcd:1M:\win.vhd' --out "$T_TMP/mbr.bcd"
check_store "mbr store" "$T_TMP/mbr.bcd"
"$VHDTOOL" bcd --show "$T_TMP/mbr.bcd" >"$T_TMP/show"
t_grep "--show: mbr signature and offset" 'device +vhd=\[mbr signature 0x1234abcd offset 0x100000\]\\win.vhd' "$T_TMP/show"
t_grep "--show: default title" 'description +Windows \(VHD\)' "$T_TMP/show"

# 3. Identity read from a GPT disk image's partition table (sgdisk sets the GUIDs).
truncate -s 64M "$T_TMP/gpt.img"
sgdisk -U "${DISK//[\{\}]/}" -n 1:2048:+8M -t 1:ef00 -n 2:0:0 -t 2:0700 -u "2:${PART//[\{\}]/}" "$T_TMP/gpt.img" >/dev/null 2>&1
t_check "bcd --vhd IMAGE#2 (GPT) writes a store" "$VHDTOOL" bcd --vhd "$T_TMP/gpt.img#2:\\a.vhd" --out "$T_TMP/img.bcd"
check_store "gpt image store" "$T_TMP/img.bcd"
"$VHDTOOL" bcd --show "$T_TMP/img.bcd" >"$T_TMP/show"
t_grep "IMAGE#2: GUIDs from the partition table" "vhd=\[gpt disk $DISK partition $PART\]" "$T_TMP/show"

# 4. Identity from an MBR image: signature 0xdeadbeef, partition 1 at LBA 4096.
python3 - "$T_TMP/mbr.img" <<'PY'
import struct, sys
mbr = bytearray(512)
struct.pack_into("<I", mbr, 440, 0xdeadbeef)
mbr[446 + 4] = 0x07
struct.pack_into("<II", mbr, 446 + 8, 4096, 20480)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "wb") as f:
    f.write(mbr); f.truncate(16 << 20)
PY
t_check "bcd --vhd IMAGE#1 (MBR) writes a store" "$VHDTOOL" bcd --vhd "$T_TMP/mbr.img#1:\\b.vhd" --out "$T_TMP/img2.bcd"
check_store "mbr image store" "$T_TMP/img2.bcd"
"$VHDTOOL" bcd --show "$T_TMP/img2.bcd" >"$T_TMP/show"
t_grep "IMAGE#1: signature and byte offset" 'vhd=\[mbr signature 0xdeadbeef offset 0x200000\]\\b.vhd' "$T_TMP/show"
"$VHDTOOL" bcd --vhd "$T_TMP/mbr.img#3:\\b.vhd" --out "$T_TMP/x.bcd" >/dev/null 2>"$T_TMP/err"
[ $? -eq 1 ] && grep -q "no partition 3" "$T_TMP/err" && t_ok "a missing partition is refused, named" || t_fail "a missing partition is refused, named" "$(cat "$T_TMP/err")"

# 5. The store Windows' bcdedit wrote.
if [ -f "$WINBCD" ]; then
    check_store "Windows-made store" "$WINBCD"
    "$VHDTOOL" bcd --show "$WINBCD" >"$T_TMP/show"
    t_grep "--show: Windows' store has 10 objects" ': 10 objects$' "$T_TMP/show"
    t_grep "--show: Windows' VHD device decoded" 'device +vhd=\[mbr signature 0x43da9ab1 offset 0x1f500000\]\\0+\.vhd \(locate 12000002\)' "$T_TMP/show"
    t_grep "--show: Windows' partition device decoded" 'osdevice +partition=mbr signature 0x43da9ab1 offset 0x1f500000' "$T_TMP/show"
    t_grep "--show: {bootmgr} timeout" 'timeout +0x1$' "$T_TMP/show"
else
    t_skip "Windows-made store" "$WINBCD absent (../shared not present)"
fi

# 6. Usage and hostile input.
"$VHDTOOL" bcd --vhd 'mbr:1:1M:\x.vhd' >/dev/null 2>&1; t_eq "--vhd without --out exits 2" 2 $?
"$VHDTOOL" bcd --vhd 'nonsense:\x.vhd' --out "$T_TMP/x.bcd" >/dev/null 2>&1; t_eq "a bad PARTITION exits 2" 2 $?
"$VHDTOOL" bcd --show "$T_TMP/mbr.img" >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not a BCD store" "$T_TMP/err" && t_ok "--show refuses a non-hive, naming it" || t_fail "--show refuses a non-hive" "rc $rc: $(cat "$T_TMP/err")"
cp "$T_TMP/gpt.bcd" "$T_TMP/bad.bcd"; printf '\xff' | dd of="$T_TMP/bad.bcd" bs=1 seek=4200 conv=notrunc 2>/dev/null
"$VHDTOOL" bcd --show "$T_TMP/bad.bcd" >/dev/null 2>&1; rc=$?
[ $rc -le 1 ] && t_ok "--show survives a damaged store (exit $rc)" || t_fail "--show survives a damaged store" "exit $rc"
exit $T_FAILED
