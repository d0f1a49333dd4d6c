#!/bin/bash
# vhdtool boot-next / boot-default against a plain folder standing in for
# efivarfs: the exact bytes of the variable files (attribute word 0x7 then
# the entry id as UTF-16LE without a terminator), reading back, replacing,
# clearing, and refusals.
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }
GUID=8af2f81d-2f26-4a6a-a987-2576bc46e791
DIR=$T_TMP/efivars
mkdir -p "$DIR"

# expect_rc NAME RC CMD...: passes when CMD exits with RC (output in $T_TMP/out, err).
expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then t_ok "$name"; else t_fail "$name" "exit $rc, expected $want: $*"; sed 's/^/# /' "$T_TMP/err" | head -5; fi
}
# expected_bytes ID: the hex dump a variable holding ID must have.
expected_bytes() { { printf '\x07\x00\x00\x00'; printf '%s' "$1" | iconv -f UTF-8 -t UTF-16LE; } | od -An -tx1 | tr -d ' \n'; }
actual_bytes() { od -An -tx1 "$1" | tr -d ' \n'; }

for cmd in boot-next boot-default; do
    expect_rc "$cmd --help exits 0" 0 "$VHDTOOL" "$cmd" --help
    t_grep "$cmd --help documents the variable and its format" "UTF-16LE without a terminator" "$T_TMP/out"
done

expect_rc "boot-next writes the variable" 0 "$VHDTOOL" boot-next --efivars "$DIR" lab2
t_eq "VhdbootNext holds attributes 0x7 + UTF-16LE id" "$(expected_bytes lab2)" "$(actual_bytes "$DIR/VhdbootNext-$GUID")"
expect_rc "boot-next without ENTRY shows the value" 0 "$VHDTOOL" boot-next --efivars "$DIR"
t_grep "boot-next shows the entry id" "^VhdbootNext: lab2 \(attributes 0x7\)" "$T_TMP/out"

expect_rc "a longer id replaces a shorter one" 0 "$VHDTOOL" boot-next --efivars "$DIR" "DATA:vms/win10 lab.vhd"
t_eq "no bytes of the old value remain" "$(expected_bytes "DATA:vms/win10 lab.vhd")" "$(actual_bytes "$DIR/VhdbootNext-$GUID")"
expect_rc "a shorter id replaces a longer one" 0 "$VHDTOOL" boot-next --efivars "$DIR" x
t_eq "the short value is exact" "$(expected_bytes x)" "$(actual_bytes "$DIR/VhdbootNext-$GUID")"
expect_rc "non-ASCII ids are stored as UTF-16" 0 "$VHDTOOL" boot-default --efivars "$DIR" "vms/übung.vhd"
t_eq "VhdbootDefault holds the UTF-16LE of a non-ASCII id" "$(expected_bytes "vms/übung.vhd")" "$(actual_bytes "$DIR/VhdbootDefault-$GUID")"
expect_rc "boot-default shows it" 0 "$VHDTOOL" boot-default --efivars "$DIR"
t_grep "boot-default reads back the non-ASCII id" "^VhdbootDefault: vms/übung.vhd" "$T_TMP/out"

# A value written by another tool with a trailing NUL is read back too.
{ printf '\x07\x00\x00\x00'; printf 'abc\0' | iconv -f UTF-8 -t UTF-16LE; } >"$DIR/VhdbootNext-$GUID"
expect_rc "a terminated value written elsewhere is shown" 0 "$VHDTOOL" boot-next --efivars "$DIR"
t_grep "the terminator is not part of the id" "^VhdbootNext: abc \(" "$T_TMP/out"
printf '\x07\x00\x00\x00\x41' >"$DIR/VhdbootNext-$GUID"
expect_rc "an odd-length value is refused" 1 "$VHDTOOL" boot-next --efivars "$DIR"
t_grep "the refusal names the file" "VhdbootNext-$GUID" "$T_TMP/err"

expect_rc "--clear deletes the variable" 0 "$VHDTOOL" boot-next --efivars "$DIR" --clear
t_check "the file is gone" test ! -e "$DIR/VhdbootNext-$GUID"
expect_rc "--clear of an absent variable is fine" 0 "$VHDTOOL" boot-next --efivars "$DIR" --clear
expect_rc "an absent variable shows as not set" 0 "$VHDTOOL" boot-next --efivars "$DIR"
t_grep "not set" "^VhdbootNext: not set" "$T_TMP/out"

expect_rc "an empty id is refused" 2 "$VHDTOOL" boot-next --efivars "$DIR" ""
expect_rc "two ids are refused" 2 "$VHDTOOL" boot-next --efivars "$DIR" a b
expect_rc "--clear with an id is refused" 2 "$VHDTOOL" boot-next --efivars "$DIR" --clear a
expect_rc "an overlong id is refused" 1 "$VHDTOOL" boot-next --efivars "$DIR" "$(printf 'x%.0s' {1..300})"
t_check "a refused id leaves no file" test ! -e "$DIR/VhdbootNext-$GUID"
expect_rc "a missing efivars folder fails" 1 "$VHDTOOL" boot-default --efivars "$T_TMP/nope" a
t_grep "the failure names the folder and the option" "nope: no such folder.*--efivars" "$T_TMP/err"
if [ "$(id -u)" -ne 0 ]; then
    chmod 555 "$DIR"
    expect_rc "an unwritable folder fails" 1 "$VHDTOOL" boot-next --efivars "$DIR" a
    chmod 755 "$DIR"
else
    t_skip "an unwritable folder fails" "running as root"
fi
exit $T_FAILED
