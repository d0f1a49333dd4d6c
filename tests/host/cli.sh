#!/bin/bash
# vhdtool command line: every subcommand's --help exits 0, bad usage exits 2,
# a missing file exits 1 with a message naming it.
source "$(dirname "$0")/../lib.sh"
VHDTOOL=${VHDTOOL_BIN:-$VHDTOOL}
[ -x "$VHDTOOL" ] || { t_fail "vhdtool is built" "$VHDTOOL missing"; exit 1; }

# expect_rc NAME RC CMD...: passes when CMD exits with RC.
expect_rc() {
    local name=$1 want=$2; shift 2
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then t_ok "$name"; else t_fail "$name" "exit $rc, expected $want: $*"; sed 's/^/# /' "$T_TMP/err" | head -5; fi
}

for cmd in create info check convert merge set-parent read write boot-next boot-default install; do
    expect_rc "$cmd --help exits 0" 0 "$VHDTOOL" "$cmd" --help
    t_grep "$cmd --help prints its usage" "^usage: vhdtool $cmd" "$T_TMP/out"
done
expect_rc "--version exits 0" 0 "$VHDTOOL" --version
t_grep "--version prints the version" "^vhdtool " "$T_TMP/out"
expect_rc "--help exits 0" 0 "$VHDTOOL" --help
expect_rc "no command exits 2" 2 "$VHDTOOL"
expect_rc "unknown command exits 2" 2 "$VHDTOOL" frobnicate

# Bad usage: wrong argument counts, unknown options and values.
"$VHDTOOL" create dynamic 8M "$T_TMP/ok.vhd" --exact-size >/dev/null 2>&1
expect_rc "create without type" 2 "$VHDTOOL" create
expect_rc "create unknown type" 2 "$VHDTOOL" create sparse 8M "$T_TMP/x.vhd"
expect_rc "create bad size" 2 "$VHDTOOL" create fixed 12Q "$T_TMP/x.vhd"
expect_rc "create size not a sector multiple" 2 "$VHDTOOL" create fixed 1000 "$T_TMP/x.vhd"
expect_rc "create diff without --parent" 2 "$VHDTOOL" create diff "$T_TMP/x.vhd"
expect_rc "create fixed with --block-size" 2 "$VHDTOOL" create fixed 8M "$T_TMP/x.vhd" --block-size 1M
expect_rc "create unknown option" 2 "$VHDTOOL" create dynamic 8M "$T_TMP/x.vhd" --frob
t_grep "create unknown option: the message names it" "^vhdtool create: unknown option '--frob'" "$T_TMP/err"
expect_rc "convert -O without a value" 2 "$VHDTOOL" convert "$T_TMP/ok.vhd" "$T_TMP/o" -O
t_grep "convert -O without a value: the message says so" "^vhdtool convert: option '-O' needs a value" "$T_TMP/err"
expect_rc "info --json=x (a flag given a value)" 2 "$VHDTOOL" info --json=x "$T_TMP/ok.vhd"
t_grep "info --json=x: the message says so" "^vhdtool info: option '--json=x' takes no value" "$T_TMP/err"
expect_rc "read unknown short option" 2 "$VHDTOOL" read -z "$T_TMP/ok.vhd" 0 1
t_grep "read unknown short option: the message names it" "^vhdtool read: unknown option '-z'" "$T_TMP/err"
expect_rc "convert --block-size 0" 2 "$VHDTOOL" convert "$T_TMP/ok.vhd" "$T_TMP/o.vhd" --block-size 0
t_grep "convert --block-size 0: bad block size" "^vhdtool convert: bad block size '0'" "$T_TMP/err"
expect_rc "install with an argument" 2 "$VHDTOOL" install extra
t_grep "install with an argument: the message names it" "^vhdtool install: unexpected argument 'extra'" "$T_TMP/err"
expect_rc "info without file" 2 "$VHDTOOL" info
expect_rc "info two files" 2 "$VHDTOOL" info "$T_TMP/ok.vhd" "$T_TMP/ok.vhd"
expect_rc "check unknown option" 2 "$VHDTOOL" check --fix "$T_TMP/ok.vhd"
expect_rc "convert one argument" 2 "$VHDTOOL" convert "$T_TMP/ok.vhd"
expect_rc "convert unknown -O" 2 "$VHDTOOL" convert "$T_TMP/ok.vhd" "$T_TMP/o" -O qcow2
expect_rc "convert --block-size for raw output" 2 "$VHDTOOL" convert "$T_TMP/ok.vhd" "$T_TMP/o.raw" --block-size 1M
expect_rc "merge without child" 2 "$VHDTOOL" merge
expect_rc "set-parent one argument" 2 "$VHDTOOL" set-parent "$T_TMP/ok.vhd"
expect_rc "read without length" 2 "$VHDTOOL" read "$T_TMP/ok.vhd" 0
expect_rc "read bad offset" 2 "$VHDTOOL" read "$T_TMP/ok.vhd" zz 10
expect_rc "write without data" 2 "$VHDTOOL" write "$T_TMP/ok.vhd" 0
expect_rc "write pattern without length" 2 "$VHDTOOL" write "$T_TMP/ok.vhd" 0 --pattern 7
expect_rc "write pattern out of byte range" 2 "$VHDTOOL" write "$T_TMP/ok.vhd" 0 --pattern 300 --length 1
[ -e "$T_TMP/x.vhd" ] && t_fail "usage errors create nothing" "x.vhd exists" || t_ok "usage errors create nothing"

# A missing file: exit 1 and a message that names it.
missing=$T_TMP/no-such-disk.vhd
check_missing() {
    local name=$1; shift
    expect_rc "$name: missing file exits 1" 1 "$@"
    if grep -q "no-such-disk.vhd" "$T_TMP/out" "$T_TMP/err"; then t_ok "$name: message names the missing file"
    else t_fail "$name: message names the missing file"; cat "$T_TMP/out" "$T_TMP/err" | sed 's/^/# /'; fi
}
check_missing info "$VHDTOOL" info "$missing"
check_missing check "$VHDTOOL" check "$missing"
check_missing convert "$VHDTOOL" convert "$missing" "$T_TMP/out.raw"
check_missing merge "$VHDTOOL" merge "$missing"
check_missing "set-parent child" "$VHDTOOL" set-parent "$missing" "$T_TMP/ok.vhd"
check_missing read "$VHDTOOL" read "$missing" 0 512
check_missing write "$VHDTOOL" write "$missing" 0 --pattern 1 --length 512
check_missing "create diff parent" "$VHDTOOL" create diff --parent "$missing" "$T_TMP/child.vhd"
[ -e "$T_TMP/child.vhd" ] && t_fail "failed create diff leaves no file" || t_ok "failed create diff leaves no file"

# Operation failures exit 1: existing target, range beyond the disk, not a VHD.
expect_rc "create refuses an existing file" 1 "$VHDTOOL" create dynamic 8M "$T_TMP/ok.vhd"
expect_rc "read beyond the disk" 1 "$VHDTOOL" read "$T_TMP/ok.vhd" 8M 1
expect_rc "merge of a non-differencing disk" 1 "$VHDTOOL" merge "$T_TMP/ok.vhd"
head -c 1M /dev/zero >"$T_TMP/plain.raw"
expect_rc "check of a raw file" 1 "$VHDTOOL" check "$T_TMP/plain.raw"
t_grep "check of a raw file says why" "plain.raw.*conectix" "$T_TMP/out"
exit $T_FAILED
