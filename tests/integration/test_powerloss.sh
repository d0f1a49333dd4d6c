#!/bin/bash
# Power loss during guest writes in persistent mode.
#
# A 64 MiB payload guest (partition 2 holds the test pattern) becomes a
# dynamic base VHD with an empty differencing child on top; vhdboot opens
# the child in persistent mode. \EFI\BOOT\WRITELOOP on the guest's ESP puts
# the payload in write-loop mode: 8 sectors at every MiB of partition 2,
# pass after pass, flushed after each pass. QEMU is killed with SIGKILL:
#   boot 1: in the middle of pass 1, while blocks are being allocated in
#           the child (bitmap, block, footer, BAT through OVMF's FAT driver);
#   boot 2: the same files again (the loader must accept the crashed
#           child), killed as soon as pass 1 has been flushed.
# After each kill: vhdtool check passes on the child, the parent is
# byte-identical, every sector outside the written ones still reads as the
# original disk, and every written sector reads either the original data or
# a complete stamp of some pass (never a mix or a wrong LBA). After boot 2
# every written sector must hold a stamp (the flush made pass 1 durable).
. "$(dirname "$0")/lib.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img

# --- the guest, its VHDs and the host ESP -------------------------------------
[ -s "$T_BUILD/payload.efi" ] || it_setup_fail "missing $T_BUILD/payload.efi"
guest_disk "$W/guest.img" 64 6 &&
    mcopy -i "$W/guest.img@@1M" "$T_BUILD/payload.efi" ::/EFI/BOOT/BOOTX64.EFI &&
    echo "write loop for test_powerloss.sh" | mcopy -i "$W/guest.img@@1M" - ::/EFI/BOOT/WRITELOOP &&
    guest_pattern "$W/guest.img" || it_setup_fail "write-loop guest disk"
read -r P2_FIRST P2_COUNT < <(guest_part2 "$W/guest.img")
mkdir -p "$W/pl"
vhd_from_raw "$W/guest.img" "$W/pl/base.vhd" dynamic &&
    "$VHDTOOL" create diff --parent "$W/pl/base.vhd" "$W/pl/child.vhd" >/dev/null || it_setup_fail "base and child VHDs"
esp_create "$ESP" 192 &&
    esp_put "$ESP" "$W/pl/base.vhd" /vms/pl/base.vhd &&
    esp_put "$ESP" "$W/pl/child.vhd" /vms/pl/child.vhd || it_setup_fail "host ESP image"
it_conf_single "Write loop" '\vms\pl\child.vhd' persistent | esp_conf "$ESP" || it_setup_fail "vhdboot.conf"
BASE_SHA=$(esp_sha "$ESP" /vms/pl/base.vhd)

# QEMU through a wrapper that records its pid, so the test can SIGKILL it.
cat >"$W/qemu-pid" <<EOF
#!/bin/sh
exec $QEMU -pidfile "$W/qemu.pid" "\$@"
EOF
chmod +x "$W/qemu-pid"

# boot_and_kill NAME REGEX: boots the ESP and kills QEMU with SIGKILL as soon
# as REGEX shows on the console. Sets IT_LOG; KILLED=1 when it was killed.
boot_and_kill() {
    local name=$1 regex=$2 bg i
    rm -f "$W/qemu.pid"
    QEMU=$W/qemu-pid IT_STOP='PAYLOAD: (FAIL|loop done)|^Shell> |X64 Exception Type|vhdboot: returning to menu' \
        IT_LIMIT=150 it_boot "$name" "$ESP" >"$W/$name.out" 2>&1 &
    bg=$!
    KILLED=0
    for ((i = 0; i < 1200; i++)); do
        sleep 0.1
        kill -0 "$bg" 2>/dev/null || break
        if [ -s "$W/qemu.pid" ] && qemu_clean "$T_TMP/$name.log.raw" 2>/dev/null | grep -qE -- "$regex"; then
            kill -9 "$(cat "$W/qemu.pid")" && KILLED=1
            break
        fi
    done
    wait "$bg"
    grep "^# " "$W/$name.out"
    IT_LOG=$T_TMP/$name.log
}

# verify STEP MIN_PASS: checks the files on the ESP after a kill. MIN_PASS 0:
# written sectors may still hold the original data; 1: all must be stamped.
verify() {
    local step=$1 min=$2 out
    rm -rf "$W/after" && mkdir -p "$W/after"
    esp_get "$ESP" /vms/pl/child.vhd "$W/after/child.vhd" && esp_get "$ESP" /vms/pl/base.vhd "$W/after/base.vhd" ||
        { t_fail "$step: read the VHDs back from the ESP"; return; }
    if out=$("$VHDTOOL" check "$W/after/child.vhd" 2>&1); then t_ok "$step: vhdtool check passes on the child"; else
        t_fail "$step: vhdtool check passes on the child" "$out"; fi
    t_eq "$step: parent byte-identical" "$BASE_SHA" "$(sha256sum <"$W/after/base.vhd" | cut -d' ' -f1)"
    if ! "$VHDTOOL" read "$W/after/child.vhd" 0 "$(stat -c %s "$W/guest.img")" --out "$W/after/disk.raw" >/dev/null 2>&1; then
        t_fail "$step: every sector reads old data or a whole stamp" "vhdtool read of the chain failed"
        return
    fi
    if out=$(python3 - "$W/guest.img" "$W/after/disk.raw" "$P2_FIRST" "$P2_COUNT" "$min" <<'EOF'
import struct, sys
raw, got = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
first, count, min_pass = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
STRIDE, SECTORS, S = 2048, 8, 512
if len(raw) != len(got):
    sys.exit("sizes differ: %d vs %d" % (len(raw), len(got)))
written = set()
lba = first
while lba + SECTORS - 1 <= first + count - 1:
    written.update(range(lba, lba + SECTORS))
    lba += STRIDE
stamped, passes, bad = 0, set(), []
for s in range(len(raw) // S):
    old, new = raw[s * S:(s + 1) * S], got[s * S:(s + 1) * S]
    if s not in written:
        if new != old:
            bad.append("sector %d (never written) changed" % s)
        continue
    if new == old and min_pass == 0:
        continue
    lba_field, pass_no = struct.unpack_from("<QQ", new)
    want = bytes(((s * 7 + pass_no + i) & 0xff) for i in range(32, S))
    if lba_field != s or new[16:32] != b"VHDBOOT-LOOPSECT" or new[32:] != want or pass_no < max(min_pass, 1):
        what = "zeros" if new == bytes(S) else "lba %d pass %d, head %s" % (lba_field, pass_no, new[:32].hex())
        bad.append("sector %d holds neither the old data nor a whole stamp (%s)" % (s, what))
        continue
    stamped += 1
    passes.add(pass_no)
if bad:
    sys.exit("; ".join(bad[:5]) + (" (%d bad sectors)" % len(bad)))
print("%d of %d written sectors stamped, passes %s" % (stamped, len(written), sorted(passes)))
EOF
    ); then
        t_ok "$step: every sector reads old data or a whole stamp ($out)"
    else
        t_fail "$step: every sector reads old data or a whole stamp" "$out"
    fi
}

# --- boot 1: killed while pass 1 allocates blocks ------------------------------
boot_and_kill powerloss-1 '^PAYLOAD: loop pass 1 write 21 '
if [ "$KILLED" = 1 ] && grep -q '^vhdboot: installed disk .*(persistent)' "$IT_LOG"; then
    t_ok "boot 1: QEMU killed with SIGKILL during pass 1 (block allocation)"
else
    t_fail "boot 1: QEMU killed with SIGKILL during pass 1 (block allocation)" "no kill; last lines:"
    tail -n 15 "$IT_LOG" | sed 's/^/#   /'
fi
it_reject "boot 1: no payload failure or firmware exception" 'PAYLOAD: FAIL|X64 Exception'
verify "after kill 1" 0

# --- boot 2: the crashed child reopened, killed after pass 1 was flushed -------
boot_and_kill powerloss-2 '^PAYLOAD: loop pass 1 flushed'
if [ "$KILLED" = 1 ]; then
    t_ok "boot 2: the loader reopened the crashed child; killed after pass 1 was flushed"
else
    t_fail "boot 2: the loader reopened the crashed child; killed after pass 1 was flushed" "last lines:"
    tail -n 15 "$IT_LOG" | sed 's/^/#   /'
fi
it_reject "boot 2: no payload failure or firmware exception" 'PAYLOAD: FAIL|X64 Exception|vhdboot: error'
verify "after kill 2" 1
exit $T_FAILED
