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
expect_rc "attach --nbd --direct-io: usage error (direct I/O is for the loop device)" 2 "$VHDTOOL" attach --nbd --direct-io "$T_TMP/child.vhd"
t_grep "the message says why" "not with --nbd" "$T_TMP/err"
expect_rc "attach of a missing file fails" 1 "$VHDTOOL" attach "$T_TMP/none.vhd"
expect_rc "attach with a PARENT that is not the parent fails" 1 "$VHDTOOL" attach --read-only "$T_TMP/child.vhd" "$T_TMP/other.vhd"
t_grep "the message names the wrong parent" "other.vhd: not the parent of" "$T_TMP/err"
expect_rc "detach of a bad device name: usage error" 2 "$VHDTOOL" detach /dev/sdb

# --- fixed VHDs take a loop device over their data (needs /dev/loop-control) ---
loop_ok=0
if [ -w /dev/loop-control ]; then
    "$VHDTOOL" create fixed 8M "$T_TMP/fixed.vhd" >/dev/null 2>&1 &&
        "$VHDTOOL" write "$T_TMP/fixed.vhd" 0 --pattern 0x33 --length 65536 >/dev/null || { t_fail "setup: fixed VHD"; exit 1; }
    if dev=$("$VHDTOOL" attach --read-only "$T_TMP/fixed.vhd" 2>"$T_TMP/err") && [ -b "$dev" ]; then loop_ok=1; fi
fi
if [ $loop_ok = 0 ]; then
    t_skip "fixed VHD through a loop device" "no usable loop device here: $(head -n 1 "$T_TMP/err" 2>/dev/null)"
else
    t_grep "a fixed VHD becomes a loop device" '^/dev/loop[0-9]+$' <(echo "$dev")
    t_eq "the loop device has the VHD's size (footer excluded)" \
        "$("$VHDTOOL" info "$T_TMP/fixed.vhd" | awk '/^disk size:/ { print $3 }')" "$(blockdev --getsize64 "$dev")"
    "$VHDTOOL" read "$T_TMP/fixed.vhd" 0 8388608 --out "$T_TMP/want" >/dev/null
    t_eq "the loop device reads the VHD's data" "$(sha256sum <"$T_TMP/want" | cut -d' ' -f1)" \
        "$(head -c 8388608 "$dev" | sha256sum | cut -d' ' -f1)"
    t_eq "the loop device is buffered by default (like losetup)" 0 "$(cat /sys/block/${dev#/dev/}/loop/dio)"
    if dd if=/dev/zero of="$dev" bs=512 count=1 conv=fsync status=none 2>/dev/null; then
        t_fail "read-only: the loop device refuses writes"; else t_ok "read-only: the loop device refuses writes"; fi
    expect_rc "detach of the loop device" 0 "$VHDTOOL" detach "$dev"
    expect_rc "attach --direct-io" 0 "$VHDTOOL" attach --read-only --direct-io "$T_TMP/fixed.vhd"
    dev=$(cat "$T_TMP/out")
    t_eq "--direct-io: the loop device bypasses the page cache (ext4 allows it)" 1 "$(cat /sys/block/${dev#/dev/}/loop/dio)"
    t_eq "--direct-io: the loop device reads the VHD's data" "$(sha256sum <"$T_TMP/want" | cut -d' ' -f1)" \
        "$(head -c 8388608 "$dev" | sha256sum | cut -d' ' -f1)"
    expect_rc "detach of the direct-I/O loop device" 0 "$VHDTOOL" detach "$dev"
    sha_before=$(sha256sum <"$T_TMP/fixed.vhd" | cut -d' ' -f1)
    expect_rc "persistent attach of the fixed VHD" 0 "$VHDTOOL" attach "$T_TMP/fixed.vhd"
    dev=$(cat "$T_TMP/out")
    head -c 4096 /dev/urandom >"$T_TMP/pat"
    dd if="$T_TMP/pat" of="$dev" bs=4096 seek=100 conv=fsync status=none
    blockdev --getsize64 "$dev" >/dev/null
    dd if="$T_TMP/pat" of="$dev" bs=4096 seek=$(( ($(blockdev --getsize64 "$dev") - 4096) / 4096 )) conv=fsync status=none
    expect_rc "detach after writing" 0 "$VHDTOOL" detach "$dev"
    "$VHDTOOL" read "$T_TMP/fixed.vhd" 409600 4096 --out "$T_TMP/got" >/dev/null
    t_eq "the write landed in the VHD" "$(sha256sum <"$T_TMP/pat" | cut -d' ' -f1)" "$(sha256sum <"$T_TMP/got" | cut -d' ' -f1)"
    t_check "vhdtool check passes (a write at the very end left the footer alone)" "$VHDTOOL" check "$T_TMP/fixed.vhd"
    expect_rc "detach of a loop device already released succeeds (systemd's shutdown may release it first)" 0 \
        "$VHDTOOL" detach "$dev"
    # a fixed VHD holding a partition table: its partitions appear, as on NBD
    truncate -s 8M "$T_TMP/parted.raw" && sgdisk -n 1:2048:+2M -n 2:0:+2M "$T_TMP/parted.raw" >/dev/null &&
        "$VHDTOOL" convert "$T_TMP/parted.raw" "$T_TMP/parted.vhd" -O fixed >/dev/null 2>&1
    expect_rc "attach of a fixed VHD with partitions" 0 "$VHDTOOL" attach --read-only "$T_TMP/parted.vhd"
    dev=$(cat "$T_TMP/out")
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -b "${dev}p2" ] && break; sleep 0.2; done
    parts_seen=0
    [ -b "${dev}p1" ] && [ -b "${dev}p2" ] && parts_seen=1
    expect_rc "detach of the partitioned loop device" 0 "$VHDTOOL" detach "$dev"
    # the peer: losetup -P over the raw image (this machine's kernel may have
    # no GPT parser; test_debian.sh's ntfs-fixed boot has its root on one)
    peer=$(losetup -f --show -P "$T_TMP/parted.raw" 2>/dev/null)
    peer_seen=0
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "$peer" ] && [ -b "${peer}p2" ] && { peer_seen=1; break; }; sleep 0.2; done
    [ -n "$peer" ] && losetup -d "$peer"
    if [ $peer_seen = 0 ] && [ $parts_seen = 0 ]; then
        t_skip "its partitions appear" "this kernel shows no partitions for losetup -P either (no GPT support); test_debian.sh covers it"
    elif [ $parts_seen = 1 ]; then t_ok "its partitions appear, as with losetup -P"
    else t_fail "its partitions appear, as with losetup -P" "losetup -P shows them, vhdtool attach does not"; fi
    if [ ! -e /sys/module/nbd ]; then
        expect_rc "--nbd keeps a fixed VHD on NBD (fails here without nbd, naming it)" 1 "$VHDTOOL" attach --nbd --read-only "$T_TMP/fixed.vhd"
        t_grep "the message names nbd" "nbd" "$T_TMP/err"
    fi
    # A read-only fixed VHDX: a loop device over its data, behind the headers
    # and tables; the file is not written. Written, a VHDX needs NBD (its
    # first write renews the header's write GUIDs).
    head -c $((8 << 20)) /dev/urandom >"$T_TMP/x8m"
    "$VHDTOOL" create fixed 8M "$T_TMP/fixed.vhdx" --format vhdx --block-size 1M >/dev/null 2>&1 &&
        "$VHDTOOL" write "$T_TMP/fixed.vhdx" 0 --in "$T_TMP/x8m" >/dev/null || t_fail "setup: fixed VHDX"
    xsha=$(sha256sum <"$T_TMP/fixed.vhdx" | cut -d' ' -f1)
    expect_rc "read-only attach of a fixed VHDX" 0 "$VHDTOOL" attach --read-only "$T_TMP/fixed.vhdx"
    dev=$(cat "$T_TMP/out")
    t_grep "a read-only fixed VHDX becomes a loop device" '^/dev/loop[0-9]+$' "$T_TMP/out"
    t_eq "the loop device has the VHDX's virtual size" 8388608 "$(blockdev --getsize64 "$dev" 2>/dev/null)"
    t_eq "the loop device reads the VHDX's data (not its headers)" "$(sha256sum <"$T_TMP/x8m" | cut -d' ' -f1)" \
        "$(head -c 8388608 "$dev" 2>/dev/null | sha256sum | cut -d' ' -f1)"
    expect_rc "detach of the VHDX's loop device" 0 "$VHDTOOL" detach "$dev"
    t_eq "the fixed VHDX is unchanged" "$xsha" "$(sha256sum <"$T_TMP/fixed.vhdx" | cut -d' ' -f1)"
    if [ ! -e /sys/module/nbd ]; then
        expect_rc "a persistent VHDX attach takes NBD, not a loop (fails here without nbd, naming it)" 1 \
            "$VHDTOOL" attach "$T_TMP/fixed.vhdx"
        t_grep "the message names nbd" "nbd" "$T_TMP/err"
        t_eq "the fixed VHDX is still unchanged" "$xsha" "$(sha256sum <"$T_TMP/fixed.vhdx" | cut -d' ' -f1)"
    fi
fi

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
