#!/bin/bash
# vhdtool attach / detach on this machine: refusals that need no kernel
# support always run; the attach itself runs when the nbd module can be
# loaded here (modprobe nbd), else it is skipped with a named notice (the
# guest test tests/integration/test_attach.sh always runs it under QEMU).
source "$(dirname "$0")/../lib.sh"
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }

expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then t_ok "$name"; else t_fail "$name" "exit $rc, expected $want: $*"; sed 's/^/# /' "$T_TMP/err" | head -5; fi
}

"$VHDTOOL" create dynamic 16M "$T_TMP/base.vhd" >/dev/null 2>&1 &&
    "$VHDTOOL" create diff --parent "$T_TMP/base.vhd" "$T_TMP/child.vhd" >/dev/null 2>&1 &&
    "$VHDTOOL" create dynamic 16M "$T_TMP/other.vhd" >/dev/null 2>&1 || { t_fail "setup: VHDs"; exit 1; }
expect_rc "attach --help exits 0" 0 "$VHDTOOL" attach --help
expect_rc "attach without FILE: usage error" 2 "$VHDTOOL" attach
expect_rc "attach with two modes: usage error" 2 "$VHDTOOL" attach --read-only --volatile "$T_TMP/child.vhd"
expect_rc "attach with a bad device name: usage error" 2 "$VHDTOOL" attach --device /dev/sda "$T_TMP/child.vhd"
expect_rc "attach of a missing file fails" 1 "$VHDTOOL" attach "$T_TMP/none.vhd"
expect_rc "attach with a PARENT that is not the parent fails" 1 "$VHDTOOL" attach --read-only "$T_TMP/child.vhd" "$T_TMP/other.vhd"
t_grep "the message names the wrong parent" "other.vhd: not the parent of" "$T_TMP/err"
expect_rc "detach of a bad device name: usage error" 2 "$VHDTOOL" detach /dev/sdb

if ! command -v modprobe >/dev/null 2>&1 || ! modprobe nbd 2>/dev/null || [ ! -e /sys/module/nbd ]; then
    t_skip "attach on this machine" "the nbd module cannot be loaded here (no modprobe/modules or not permitted); tests/integration/test_attach.sh covers attach in a guest"
    exit $T_FAILED
fi
expect_rc "attach --read-only prints the device" 0 "$VHDTOOL" attach --read-only "$T_TMP/child.vhd"
dev=$(cat "$T_TMP/out")
t_grep "the device is /dev/nbdN" '^/dev/nbd[0-9]+$' "$T_TMP/out"
if [ -b "$dev" ]; then
    t_eq "the device reads like the chain" "$("$VHDTOOL" convert "$T_TMP/child.vhd" "$T_TMP/flat.raw" -O raw >/dev/null 2>&1; sha256sum <"$T_TMP/flat.raw" | cut -d' ' -f1)" \
        "$(sha256sum <"$dev" | cut -d' ' -f1)"
    expect_rc "detach" 0 "$VHDTOOL" detach "$dev"
fi
exit $T_FAILED
