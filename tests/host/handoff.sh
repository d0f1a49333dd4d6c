#!/bin/bash
# vhdtool handoff: the kernel-command-line form and an efivarfs-style file
# decode to the same shell assignments, eval'd values are exact (quotes,
# MBR and GPT volumes, a layer on another volume), the binary file carries
# attributes 0x6 then the record, and every refusal gives its exit code
# (2 no record, 1 corrupt or unknown version).
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }

expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then t_ok "$name"; else t_fail "$name" "exit $rc, expected $want: $*"; sed 's/^/# /' "$T_TMP/err" | head -5; fi
}

U=10111213-1415-1617-1819-1a1b1c1d1e1f
P=33323130-3534-3736-3839-3a3b3c3d3e3f
D=23222120-2524-2726-2829-2a2b2c2d2e2f
TEXT="v1,mode=volatile,size=4194304,uuid=$U,host=ntfs:gpt:$P:$D,layer=differencing:$U:/vms/it%27s%20a%20%24x.vhd,layer=fixed:$U:/base/b.vhd:fat:mbr:a1b2c3d4:2:2048"

expect_rc "handoff decodes vhdboot.disk= among other parameters" 0 \
    "$VHDTOOL" handoff --cmdline "BOOT_IMAGE=/vmlinuz root=UUID=abc vhdboot.disk=$TEXT quiet"
cp "$T_TMP/out" "$T_TMP/from-text"
(
    eval "$(cat "$T_TMP/from-text")"
    [ "$VHDBOOT_VERSION" = 1 ] && [ "$VHDBOOT_HOST_FS" = ntfs ] && [ "$VHDBOOT_HOST_PARTUUID" = "$P" ] &&
        [ "$VHDBOOT_HOST_DISKUUID" = "$D" ] && [ "$VHDBOOT_MODE" = volatile ] && [ "$VHDBOOT_LAYERS" = 2 ] &&
        [ "$VHDBOOT_LAYER_0_PATH" = "/vms/it's a \$x.vhd" ] && [ "$VHDBOOT_LAYER_0_TYPE" = differencing ] &&
        [ -z "${VHDBOOT_LAYER_0_PARTUUID+set}" ] && [ "$VHDBOOT_LAYER_1_PATH" = /base/b.vhd ] &&
        [ "$VHDBOOT_LAYER_1_FS" = fat ] && [ "$VHDBOOT_LAYER_1_PARTUUID" = a1b2c3d4-02 ] &&
        [ "$VHDBOOT_SIZE" = 4194304 ] && [ "$VHDBOOT_UUID" = "$U" ]
) && t_ok "eval of the assignments gives every value exactly" || t_fail "eval of the assignments" "$(cat "$T_TMP/from-text")"

expect_rc "handoff --write-efivar writes the binary record" 0 \
    "$VHDTOOL" handoff --cmdline "$TEXT" --write-efivar "$T_TMP/var"
t_eq "the variable file starts with attributes 0x6 and the magic" "0600000056484442" \
    "$(head -c 8 "$T_TMP/var" | od -An -tx1 | tr -d ' \n')"
expect_rc "handoff --efivar decodes it" 0 "$VHDTOOL" handoff --efivar "$T_TMP/var"
t_eq "binary and text forms give the same assignments" "$(cat "$T_TMP/from-text")" "$(cat "$T_TMP/out")"
expect_rc "handoff --text prints the text form" 0 "$VHDTOOL" handoff --efivar "$T_TMP/var" --text
t_eq "the text form round-trips" "$TEXT" "$(cat "$T_TMP/out")"

MBR="v1,mode=persistent,size=1048576,uuid=$U,host=fat:mbr:0badcafe:1:63,layer=dynamic:$U:/d.vhd"
expect_rc "an MBR host decodes" 0 "$VHDTOOL" handoff --cmdline "$MBR"
t_grep "MBR host: signature, number, start and Linux PARTUUID" \
    "^VHDBOOT_HOST_PARTUUID='0badcafe-01'$" "$T_TMP/out"
t_eq "MBR host fields" "VHDBOOT_HOST_MBRSIG='0badcafe' VHDBOOT_HOST_PARTNO='1' VHDBOOT_HOST_START='63'" \
    "$(grep -E '^VHDBOOT_HOST_(MBRSIG|PARTNO|START)=' "$T_TMP/out" | tr '\n' ' ' | sed 's/ $//')"

# refusals
expect_rc "no record: exit 2" 2 "$VHDTOOL" handoff --efivar "$T_TMP/missing"
expect_rc "no vhdboot.disk= on the command line: exit 2" 2 "$VHDTOOL" handoff --cmdline "root=/dev/sda1 quiet"
cp "$T_TMP/var" "$T_TMP/bad"
printf '\x55' | dd of="$T_TMP/bad" bs=1 seek=60 conv=notrunc status=none
expect_rc "a flipped byte: exit 1" 1 "$VHDTOOL" handoff --efivar "$T_TMP/bad"
t_grep "the message names the CRC mismatch" "CRC-32 mismatch" "$T_TMP/err"
cp "$T_TMP/var" "$T_TMP/v2"
printf '\x02' | dd of="$T_TMP/v2" bs=1 seek=12 conv=notrunc status=none
expect_rc "an unknown version: exit 1" 1 "$VHDTOOL" handoff --efivar "$T_TMP/v2"
t_grep "the message names the version" "version 2" "$T_TMP/err"
expect_rc "a corrupt text: exit 1" 1 "$VHDTOOL" handoff --cmdline "vhdboot.disk=v1,mode=sideways"
t_grep "the message names the field" "mode is not" "$T_TMP/err"
expect_rc "two sources: usage error" 2 "$VHDTOOL" handoff --efivar x --cmdline y
exit $T_FAILED
