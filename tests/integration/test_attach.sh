#!/bin/bash
# vhdtool attach / detach inside a Linux guest under QEMU+OVMF (TCG): the
# host ESP's vhdboot boots a VHD holding systemd-boot, Debian's kernel and a
# busybox initramfs carrying build/vhdtool-static and the kernel's nbd.ko.
# A second virtual disk carries a tar of a 3-layer chain (base <- mid <- top,
# each layer with its own data) and two test patterns. The guest:
#   read-only:  attach --read-only, sha256 of the device, a write must fail,
#               the device is read-only, files unchanged afterwards
#   volatile:   attach --volatile=1M: a 64 KiB write reads back; a 4 MiB
#               write fails with an I/O error (not silent loss) and the
#               daemon logs it; files unchanged afterwards
#   persistent: attach, write 1 MiB at 2 MiB (a new block: through the
#               core), write 1 MiB over it (allocated, marked sectors:
#               spliced into the file), sha256 of the whole device, detach;
#               the daemon's argv[0] starts with '@'
#   explicit:   attach --read-only TOP MID BASE reads the same as the
#               locator-resolved chain
#   VHDX:       a fixed VHDX (read-only: a loop device over its data,
#               behind its headers; persistent: NBD), a dynamic one and a
#               3-layer differencing chain read as the host flattens them;
#               persistent writes into the fixed VHDX and the chain's top
#   Windows:    ../shared/data/vhd-samples/fat-differential.vhd (made by
#               Windows 10; its parent is not published, so one is made here
#               with the UUID the child records): the device reads the
#               child's sectors (TESTVOLUME at 152) over the parent's
# then tars the three files back onto the second disk and powers off. The
# host checks: the guest's read-only sha256 is the host-flattened chain's,
# after the persistent write the top layer holds the pattern, the parents
# are byte-identical, `vhdtool check` passes, and the flattened chain's
# sha256 equals what the guest read through the device (the same for the
# VHDX chain; the fixed VHDX holds its write and a new DataWriteGuid).
. "$(dirname "$0")/lib.sh"
it_require_qemu
W=$T_TMP
[ -x "$T_BUILD/vhdtool-static" ] || it_setup_fail "missing $T_BUILD/vhdtool-static (make test-build)"
. "$(dirname "$0")/attach_guest.sh"

# --- the guest: its /init runs the steps above ------------------------------
{ printf '%s' "$ATTACH_GUEST_PROLOGUE"; cat <<'GUEST'
say() { echo "ATTACH: $*"; }
files_sha() { cat /w/base.vhd /w/mid.vhd /w/top.vhd | sha256sum | cut -d' ' -f1; }
[ -d /sys/module/nbd ] && say "nbd loaded"
say "chain unpacked: $(ls /w | tr '\n' ' ')"
[ -s /w/top.vhd ] || { say "no chain: stopping"; say DONE; poweroff -f; }

# read-only
before=$(files_sha)
dev=$(vhdtool attach --read-only /w/top.vhd); say "ro attach rc=$? dev=$dev"
say "ro sha $(sha256sum <"$dev" | cut -d' ' -f1)"
say "ro sysfs ro=$(cat /sys/block/${dev#/dev/}/ro)"
dd if=/w/pat1m of="$dev" bs=65536 count=1 conv=fsync 2>/dev/null; say "ro write rc=$?"
vhdtool detach "$dev"; say "ro detach rc=$?"
[ "$(files_sha)" = "$before" ] && say "ro files unchanged" || say "ro files CHANGED"

# volatile with a 1 MiB cap
dev=$(vhdtool attach --volatile=1M /w/top.vhd); say "vol attach rc=$? dev=$dev"
dd if=/w/pat1m of="$dev" bs=65536 count=1 conv=fsync 2>/dev/null; say "vol small write rc=$?"
echo 3 >/proc/sys/vm/drop_caches
a=$(dd if="$dev" bs=65536 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
b=$(dd if=/w/pat1m bs=65536 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$a" = "$b" ] && say "vol small write reads back" || say "vol small write LOST"
dd if=/w/pat4m of="$dev" bs=1048576 seek=4 conv=fsync 2>/dev/null; say "vol big write rc=$?"
vhdtool detach "$dev"; say "vol detach rc=$?"
[ "$(files_sha)" = "$before" ] && say "vol files unchanged" || say "vol files CHANGED"

# persistent
dev=$(vhdtool attach /w/top.vhd); say "rw attach rc=$? dev=$dev"
for p in /proc/[0-9]*; do
    case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in @*attach*) say "rw daemon argv0 $(tr '\0' ' ' <"$p/cmdline")" ;; esac
done
dd if=/w/pat4m of="$dev" bs=1048576 seek=2 count=1 conv=fsync 2>/dev/null; say "rw first write rc=$?"
dd if=/w/pat1m of="$dev" bs=1048576 seek=2 conv=fsync 2>/dev/null; say "rw write rc=$?"
echo 3 >/proc/sys/vm/drop_caches
say "rw sha $(sha256sum <"$dev" | cut -d' ' -f1)"
vhdtool detach "$dev"; say "rw detach rc=$?"

# explicit parents
dev=$(vhdtool attach --read-only /w/top.vhd /w/mid.vhd /w/base.vhd); say "ex attach rc=$? dev=$dev"
say "ex sha $(sha256sum <"$dev" | cut -d' ' -f1)"
vhdtool detach "$dev"; say "ex detach rc=$?"

# a differencing VHD made by Windows, over a parent made here
if [ -s /w/win/fat-differential.vhd ]; then
    dev=$(vhdtool attach --read-only /w/win/fat-differential.vhd); say "win attach rc=$? dev=$dev"
    say "win sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    say "win sector152 $(dd if="$dev" bs=512 skip=152 count=1 2>/dev/null | grep -c TESTVOLUME)"
    say "win sector0 $(dd if="$dev" bs=512 count=1 2>/dev/null | sha256sum | cut -d' ' -f1)"
    vhdtool detach "$dev"; say "win detach rc=$?"
fi

# VHDX: a fixed one (NBD, never a loop device over its headers), a
# dynamic one, and a 3-layer differencing chain; read-only, then persistent
if [ -s /w/x/fixed.vhdx ]; then
    x_sha() { cat /w/x/fixed.vhdx /w/x/base.vhdx /w/x/mid.avhdx /w/x/top.avhdx | sha256sum | cut -d' ' -f1; }
    xbefore=$(x_sha)
    dev=$(vhdtool attach --read-only /w/x/fixed.vhdx); say "xfixed ro attach rc=$? dev=$dev"
    say "xfixed ro sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    vhdtool detach "$dev"; say "xfixed ro detach rc=$?"
    dev=$(vhdtool attach --read-only /w/x/base.vhdx); say "xdyn ro attach rc=$? dev=$dev"
    say "xdyn ro sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    vhdtool detach "$dev"; say "xdyn ro detach rc=$?"
    dev=$(vhdtool attach --read-only /w/x/top.avhdx); say "xchain ro attach rc=$? dev=$dev"
    say "xchain ro sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    say "xchain ro sysfs ro=$(cat /sys/block/${dev#/dev/}/ro)"
    dd if=/w/pat1m of="$dev" bs=65536 count=1 conv=fsync 2>/dev/null; say "xchain ro write rc=$?"
    vhdtool detach "$dev"; say "xchain ro detach rc=$?"
    [ "$(x_sha)" = "$xbefore" ] && say "x ro files unchanged" || say "x ro files CHANGED"
    dev=$(vhdtool attach /w/x/fixed.vhdx); say "xfixed rw attach rc=$? dev=$dev"
    dd if=/w/pat1m of="$dev" bs=1048576 seek=1 conv=fsync 2>/dev/null; say "xfixed rw write rc=$?"
    vhdtool detach "$dev"; say "xfixed rw detach rc=$?"
    dev=$(vhdtool attach /w/x/top.avhdx); say "xchain rw attach rc=$? dev=$dev"
    dd if=/w/pat1m of="$dev" bs=1048576 seek=2 conv=fsync 2>/dev/null; say "xchain rw write rc=$?"
    echo 3 >/proc/sys/vm/drop_caches
    say "xchain rw sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    vhdtool detach "$dev"; say "xchain rw detach rc=$?"
    dev=$(vhdtool attach --read-only /w/x/top.avhdx /w/x/mid.avhdx /w/x/base.vhdx); say "xex attach rc=$? dev=$dev"
    say "xex sha $(sha256sum <"$dev" | cut -d' ' -f1)"
    vhdtool detach "$dev"; say "xex detach rc=$?"
fi

cd /w && tar cf /dev/vdb base.vhd mid.vhd top.vhd $([ -d x ] && echo x) && sync && say "files written back"
say DONE
poweroff -f
GUEST
} >"$W/init"
attach_guest_build "$W" "$W/init" || it_setup_fail "the attach guest"

# --- the chain on the second disk --------------------------------------------
D=$W/d2
mkdir -p "$D"
head -c $((3 << 20)) /dev/urandom >"$W/r3m"
"$VHDTOOL" create dynamic 16M "$D/base.vhd" --exact-size >/dev/null 2>&1 &&
    "$VHDTOOL" write "$D/base.vhd" 0 --in "$W/r3m" >/dev/null &&
    "$VHDTOOL" create diff --parent "$D/base.vhd" "$D/mid.vhd" >/dev/null &&
    "$VHDTOOL" write "$D/mid.vhd" $((1 << 20)) --pattern 0x4d --length $((3 << 20)) >/dev/null &&
    "$VHDTOOL" create diff --parent "$D/mid.vhd" "$D/top.vhd" >/dev/null &&
    "$VHDTOOL" write "$D/top.vhd" $((512 * 3)) --pattern 0x54 --length 5000 >/dev/null ||
    it_setup_fail "3-layer chain"
head -c $((1 << 20)) /dev/urandom >"$D/pat1m"
head -c $((4 << 20)) /dev/urandom >"$D/pat4m"
"$VHDTOOL" convert "$D/top.vhd" "$W/flat-before.raw" -O raw >/dev/null 2>&1 || it_setup_fail "flatten the chain"
SHA_BEFORE=$(sha256sum <"$W/flat-before.raw" | cut -d' ' -f1)
SHA_BASE=$(sha256sum <"$D/base.vhd" | cut -d' ' -f1)
SHA_MID=$(sha256sum <"$D/mid.vhd" | cut -d' ' -f1)
# Windows' differencing VHD (its parent is not published): a parent made
# here with the UUID the child records and 0x50 in every sector
WIN=$SAMPLES/fat-differential.vhd
HAVE_WIN=0
if [ -f "$WIN" ]; then
    mkdir -p "$D/win" && cp "$WIN" "$D/win/" &&
        "$VHDTOOL" create dynamic 4M "$D/win/fat-parent.vhd" --exact-size >/dev/null 2>&1 &&
        "$VHDTOOL" write "$D/win/fat-parent.vhd" 0 --pattern 0x50 --length $((4 << 20)) >/dev/null &&
        python3 - "$D/win/fat-parent.vhd" "$D/win/fat-differential.vhd" <<'PY' && HAVE_WIN=1
import struct, sys
parent, child = sys.argv[1], sys.argv[2]
c = open(child, "rb").read()
hdr_off = struct.unpack(">Q", c[16:24])[0]
uuid = c[hdr_off + 40:hdr_off + 56]                # the parent UUID the child records
data = bytearray(open(parent, "rb").read())
def seal(off):
    f = data[off:off + 512]
    f[68:84] = uuid
    f[64:68] = b"\0\0\0\0"
    f[64:68] = struct.pack(">I", ~sum(f) & 0xFFFFFFFF)
    data[off:off + 512] = f
seal(0)
seal(len(data) - 512)
open(parent, "wb").write(data)
PY
    [ $HAVE_WIN = 1 ] && "$VHDTOOL" convert "$D/win/fat-differential.vhd" "$W/win.raw" -O raw >/dev/null 2>&1 &&
        WIN_SHA=$(sha256sum <"$W/win.raw" | cut -d' ' -f1) || HAVE_WIN=0
fi
# VHDX: fixed (8 MiB of random data), dynamic base (1 MiB blocks) <- mid <- top
X=$D/x
mkdir -p "$X"
head -c $((8 << 20)) /dev/urandom >"$W/x8m"
"$VHDTOOL" create fixed 8M "$X/fixed.vhdx" --format vhdx --block-size 1M >/dev/null &&
    "$VHDTOOL" write "$X/fixed.vhdx" 0 --in "$W/x8m" >/dev/null &&
    "$VHDTOOL" create dynamic 16M "$X/base.vhdx" --format vhdx --block-size 1M >/dev/null &&
    "$VHDTOOL" write "$X/base.vhdx" 0 --in "$W/r3m" >/dev/null &&
    "$VHDTOOL" create diff --parent "$X/base.vhdx" "$X/mid.avhdx" >/dev/null &&
    "$VHDTOOL" write "$X/mid.avhdx" $((1 << 20)) --pattern 0x4d --length $((3 << 20)) >/dev/null &&
    "$VHDTOOL" create diff --parent "$X/mid.avhdx" "$X/top.avhdx" >/dev/null &&
    "$VHDTOOL" write "$X/top.avhdx" $((512 * 3)) --pattern 0x54 --length 5000 >/dev/null ||
    it_setup_fail "VHDX files"
"$VHDTOOL" convert "$X/top.avhdx" "$W/xflat-before.raw" -O raw >/dev/null 2>&1 &&
    "$VHDTOOL" convert "$X/base.vhdx" "$W/xbase.raw" -O raw >/dev/null 2>&1 || it_setup_fail "flatten the VHDX chain"
XSHA_BEFORE=$(sha256sum <"$W/xflat-before.raw" | cut -d' ' -f1)
for f in fixed.vhdx base.vhdx mid.avhdx; do eval "XSHA_${f%%.*}=$(sha256sum <"$X/$f" | cut -d' ' -f1)"; done
(cd "$D" && tar cf "$W/disk2.img" base.vhd mid.vhd top.vhd pat1m pat4m x $([ $HAVE_WIN = 1 ] && echo win)) && truncate -s 160M "$W/disk2.img" ||
    it_setup_fail "second disk"

IT_LIMIT=600
QEMU_DISK2=$W/disk2.img it_boot attach-guest "$W/esp.img"
g() { grep -E "^ATTACH: $1" "$IT_LOG" | head -n 1; }
it_expect_guest "the guest ran every step and powered off" '^ATTACH: DONE'
it_expect "the guest loaded nbd.ko" '^ATTACH: nbd loaded'
it_expect "the guest unpacked the chain from the second disk" '^ATTACH: chain unpacked: base.vhd mid.vhd pat1m pat4m top.vhd'
t_eq "read-only: attach printed a device" "ATTACH: ro attach rc=0 dev=/dev/nbd0" "$(g 'ro attach')"
t_eq "read-only: the device reads as the host-flattened chain" "ATTACH: ro sha $SHA_BEFORE" "$(g 'ro sha')"
t_eq "read-only: the block device is read-only" "ATTACH: ro sysfs ro=1" "$(g 'ro sysfs')"
if g 'ro write rc=' | grep -qE 'rc=[1-9]'; then t_ok "read-only: a write fails"; else t_fail "read-only: a write fails" "$(g 'ro write')"; fi
t_eq "read-only: detach" "ATTACH: ro detach rc=0" "$(g 'ro detach')"
t_eq "read-only: every file unchanged" "ATTACH: ro files unchanged" "$(g 'ro files')"
t_eq "volatile: attach" "ATTACH: vol attach rc=0 dev=/dev/nbd0" "$(g 'vol attach')"
t_eq "volatile: a 64 KiB write succeeds" "ATTACH: vol small write rc=0" "$(g 'vol small write rc')"
t_eq "volatile: the write reads back from the overlay" "ATTACH: vol small write reads back" "$(g 'vol small write r[el]')"
if g 'vol big write rc=' | grep -qE 'rc=[1-9]'; then t_ok "volatile: a write past the 1 MiB cap fails (I/O error, not silent loss)"; else
    t_fail "volatile: a write past the 1 MiB cap fails (I/O error, not silent loss)" "$(g 'vol big write')"; fi
it_expect "volatile: the daemon logs the full overlay" 'vhdtool attach: volatile overlay full \([0-9]+ bytes used, cap 1048576\)'
t_eq "volatile: detach" "ATTACH: vol detach rc=0" "$(g 'vol detach')"
t_eq "volatile: every file unchanged" "ATTACH: vol files unchanged" "$(g 'vol files')"
t_eq "persistent: attach" "ATTACH: rw attach rc=0 dev=/dev/nbd0" "$(g 'rw attach')"
it_expect "persistent: the daemon's argv[0] starts with '@'" '^ATTACH: rw daemon argv0 @'
it_reject "the daemon locked its memory and set PR_SET_IO_FLUSHER (no warning)" 'vhdtool attach: warning: cannot'
t_eq "persistent: a 1 MiB write into a new block succeeds" "ATTACH: rw first write rc=0" "$(g 'rw first write')"
t_eq "persistent: a 1 MiB write over it succeeds" "ATTACH: rw write rc=0" "$(g 'rw write')"
it_expect "read-only: reads were spliced from the layer files" 'detached \(.*; [1-9][0-9]* reads and 0 writes spliced\)'
it_expect "persistent: the write into allocated sectors was spliced into the top layer" 'detached \(.*; [0-9]+ reads and [1-9][0-9]* writes spliced\)'
t_eq "persistent: detach" "ATTACH: rw detach rc=0" "$(g 'rw detach')"
t_eq "explicit parents: attach" "ATTACH: ex attach rc=0 dev=/dev/nbd0" "$(g 'ex attach')"
it_expect "the files were written back" '^ATTACH: files written back'

if [ $HAVE_WIN = 1 ]; then
    t_eq "Windows differencing VHD: attach" "ATTACH: win attach rc=0 dev=/dev/nbd0" "$(g 'win attach')"
    t_eq "Windows differencing VHD: the device reads as the chain flattened on the host" "ATTACH: win sha $WIN_SHA" "$(g 'win sha')"
    t_eq "Windows differencing VHD: sector 152 (the child's root directory) says TESTVOLUME" "ATTACH: win sector152 1" "$(g 'win sector152')"
    t_eq "Windows differencing VHD: sector 0 comes from the parent (0x50s)" \
        "ATTACH: win sector0 $(head -c 512 /dev/zero | tr '\0' 'P' | sha256sum | cut -d' ' -f1)" "$(g 'win sector0')"
else
    t_skip "Windows differencing VHD" "../shared/data/vhd-samples/fat-differential.vhd not found"
fi
if g 'xfixed ro attach' | grep -qE '^ATTACH: xfixed ro attach rc=0 dev=/dev/loop[0-9]+$'; then
    t_ok "VHDX fixed, read-only: a loop device (over its data)"
else
    t_fail "VHDX fixed, read-only: a loop device (over its data)" "$(g 'xfixed ro attach')"
fi
t_eq "VHDX fixed, read-only: the device reads the disk's data" "ATTACH: xfixed ro sha $(sha256sum <"$W/x8m" | cut -d' ' -f1)" \
    "$(g 'xfixed ro sha')"
t_eq "VHDX dynamic, read-only: the device reads as the host converts it" \
    "ATTACH: xdyn ro sha $(sha256sum <"$W/xbase.raw" | cut -d' ' -f1)" "$(g 'xdyn ro sha')"
t_eq "VHDX chain, read-only: attach" "ATTACH: xchain ro attach rc=0 dev=/dev/nbd0" "$(g 'xchain ro attach')"
t_eq "VHDX chain, read-only: the device reads as the host-flattened chain" "ATTACH: xchain ro sha $XSHA_BEFORE" \
    "$(g 'xchain ro sha')"
t_eq "VHDX chain, read-only: the block device is read-only" "ATTACH: xchain ro sysfs ro=1" "$(g 'xchain ro sysfs')"
if g 'xchain ro write rc=' | grep -qE 'rc=[1-9]'; then t_ok "VHDX chain, read-only: a write fails"; else
    t_fail "VHDX chain, read-only: a write fails" "$(g 'xchain ro write')"; fi
t_eq "VHDX, read-only: every file unchanged" "ATTACH: x ro files unchanged" "$(g 'x ro files')"
t_eq "VHDX fixed, persistent: through NBD (the first write renews its write GUIDs)" \
    "ATTACH: xfixed rw attach rc=0 dev=/dev/nbd0" "$(g 'xfixed rw attach')"
t_eq "VHDX fixed, persistent: the 1 MiB write succeeds" "ATTACH: xfixed rw write rc=0" "$(g 'xfixed rw write')"
t_eq "VHDX fixed, persistent: detach" "ATTACH: xfixed rw detach rc=0" "$(g 'xfixed rw detach')"
t_eq "VHDX chain, persistent: attach" "ATTACH: xchain rw attach rc=0 dev=/dev/nbd0" "$(g 'xchain rw attach')"
t_eq "VHDX chain, persistent: the 1 MiB write succeeds" "ATTACH: xchain rw write rc=0" "$(g 'xchain rw write')"
t_eq "VHDX chain, persistent: detach" "ATTACH: xchain rw detach rc=0" "$(g 'xchain rw detach')"

O=$W/out
mkdir -p "$O" && tar xf "$W/disk2.img" -C "$O" 2>/dev/null
# VHDX: the writes landed in the top file only, and every file checks
OX=$O/x
t_eq "host: VHDX base byte-identical" "$XSHA_base" "$(sha256sum <"$OX/base.vhdx" 2>/dev/null | cut -d' ' -f1)"
t_eq "host: VHDX middle layer byte-identical" "$XSHA_mid" "$(sha256sum <"$OX/mid.avhdx" 2>/dev/null | cut -d' ' -f1)"
t_check "host: vhdtool check passes on the written VHDX chain" "$VHDTOOL" check "$OX/top.avhdx"
t_check "host: vhdtool check passes on the written fixed VHDX" "$VHDTOOL" check "$OX/fixed.vhdx"
"$VHDTOOL" read "$OX/top.avhdx" $((2 << 20)) $((1 << 20)) --out "$W/xreadback" >/dev/null 2>&1
t_eq "host: the top VHDX holds the guest's write" "$(sha256sum <"$D/pat1m" | cut -d' ' -f1)" \
    "$(sha256sum <"$W/xreadback" 2>/dev/null | cut -d' ' -f1)"
"$VHDTOOL" convert "$OX/top.avhdx" "$W/xflat-after.raw" -O raw >/dev/null 2>&1
XSHA_AFTER=$(sha256sum <"$W/xflat-after.raw" | cut -d' ' -f1)
t_eq "host: the flattened VHDX chain is what the guest read after writing" "ATTACH: xchain rw sha $XSHA_AFTER" \
    "$(g 'xchain rw sha')"
t_eq "VHDX explicit parents read the same chain" "ATTACH: xex sha $XSHA_AFTER" "$(g 'xex sha')"
{ head -c $((1 << 20)) "$W/x8m"; cat "$D/pat1m"; tail -c +$(((2 << 20) + 1)) "$W/x8m"; } >"$W/x8m-after"
"$VHDTOOL" convert "$OX/fixed.vhdx" "$W/xfixed-after.raw" -O raw >/dev/null 2>&1
t_eq "host: the fixed VHDX holds the guest's write at 1 MiB and nothing else changed" \
    "$(sha256sum <"$W/x8m-after" | cut -d' ' -f1)" "$(sha256sum <"$W/xfixed-after.raw" 2>/dev/null | cut -d' ' -f1)"
"$VHDTOOL" info "$OX/fixed.vhdx" >"$W/xfixed-info" 2>&1
"$VHDTOOL" info "$X/fixed.vhdx" >"$W/xfixed-info-before" 2>&1
if [ "$(grep '^DataWriteGuid' "$W/xfixed-info")" != "$(grep '^DataWriteGuid' "$W/xfixed-info-before")" ] &&
    grep -q '^DataWriteGuid' "$W/xfixed-info"; then
    t_ok "host: the persistent write renewed the fixed VHDX's DataWriteGuid"
else
    t_fail "host: the persistent write renewed the fixed VHDX's DataWriteGuid" "$(grep WriteGuid "$W/xfixed-info")"
fi
t_eq "host: the base is byte-identical" "$SHA_BASE" "$(sha256sum <"$O/base.vhd" | cut -d' ' -f1)"
t_eq "host: the middle layer is byte-identical" "$SHA_MID" "$(sha256sum <"$O/mid.vhd" | cut -d' ' -f1)"
t_check "host: vhdtool check passes on the written chain" "$VHDTOOL" check "$O/top.vhd"
"$VHDTOOL" read "$O/top.vhd" $((2 << 20)) $((1 << 20)) --out "$W/readback" >/dev/null 2>&1
t_eq "host: the top layer holds the guest's write" "$(sha256sum <"$D/pat1m" | cut -d' ' -f1)" \
    "$(sha256sum <"$W/readback" | cut -d' ' -f1)"
"$VHDTOOL" convert "$O/top.vhd" "$W/flat-after.raw" -O raw >/dev/null 2>&1
SHA_AFTER=$(sha256sum <"$W/flat-after.raw" | cut -d' ' -f1)
t_eq "host: the flattened chain is what the guest read after writing" "ATTACH: rw sha $SHA_AFTER" "$(g 'rw sha')"
t_eq "explicit parents read the same chain" "ATTACH: ex sha $SHA_AFTER" "$(g 'ex sha')"
cmp -s <(head -c $((2 << 20)) "$W/flat-before.raw") <(head -c $((2 << 20)) "$W/flat-after.raw") &&
    cmp -s <(tail -c +$(((3 << 20) + 1)) "$W/flat-before.raw") <(tail -c +$(((3 << 20) + 1)) "$W/flat-after.raw") &&
    [ "$SHA_AFTER" != "$SHA_BEFORE" ] &&
    [ "$SHA_AFTER" != "$SHA_BEFORE" ] &&
    t_ok "host: nothing outside the written range changed" || t_fail "host: nothing outside the written range changed"
exit $T_FAILED
