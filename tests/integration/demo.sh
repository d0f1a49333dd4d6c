#!/bin/bash
# make demo: boots Debian's kernel from a 2-layer differencing VHD with
# vhdboot, under QEMU + OVMF, with the serial console on this terminal.
#
#   1. downloads Debian's kernel, busybox and systemd-boot (apt-get download,
#      cached in build/guest-cache/) and builds a busybox initramfs;
#   2. builds a small GPT guest disk: an ESP with systemd-boot, the kernel and
#      the initramfs; the boot entry's command line says
#      vhdboot.marker=BASE-LAYER;
#   3. turns it into base.vhd (dynamic), then makes child.vhd, a differencing
#      disk on top of it that only holds the sectors of a changed boot entry
#      (vhdboot.marker=HELLO-FROM-THE-CHILD-LAYER);
#   4. puts build/vhdboot.efi (as \EFI\BOOT\BOOTX64.EFI), vhdboot.conf and
#      both VHDs on a host ESP image and boots it.
# vhdboot opens child.vhd and its parent, publishes the disk to the firmware
# and starts systemd-boot inside it; Linux prints the marker and powers off.
# Everything stays in build/demo/ (console.log, the images, run-qemu.sh).
# Works without a terminal (CI): the console is copied to stdout either way.
. "$(dirname "$0")/lib.sh"

DEMO=$T_BUILD/demo
MARKER=HELLO-FROM-THE-CHILD-LAYER
# Show the kernel starting, but not every driver line.
GUEST_KERNEL_OPTS="console=ttyS0 loglevel=5 panic=-1"

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }

why=$(qemu_missing)
[ -z "$why" ] || die "$why (run: make deps)"
[ -x "$VHDTOOL" ] && [ -s "$T_BUILD/vhdboot.efi" ] || die "build/vhdtool or build/vhdboot.efi missing (run: make all)"
mkdir -p "$DEMO"

say "Fetching Debian's kernel, busybox and systemd-boot (cached in build/guest-cache/)"
guest_prepare || die "could not prepare the guest packages"

say "Building the guest disk: GPT, ESP with systemd-boot + vmlinuz + initrd.gz"
guest_sdboot "$DEMO/base.img" BASE-LAYER || die "guest disk"
cp "$DEMO/base.img" "$DEMO/child.img" && guest_sdboot_marker "$DEMO/child.img" "$MARKER" || die "changed boot entry"

say "Making base.vhd (dynamic) and child.vhd (differencing, parent base.vhd)"
vhd_from_raw "$DEMO/base.img" "$DEMO/base.vhd" dynamic || die "vhdtool convert"
vhd_diff_layer "$DEMO/base.vhd" "$DEMO/child.vhd" "$DEMO/base.img" "$DEMO/child.img" || die "vhdtool create diff / write"
echo "base.vhd: $(du -h --apparent-size "$DEMO/base.vhd" | cut -f1), child.vhd: $(du -h --apparent-size "$DEMO/child.vhd" | cut -f1) (only the changed sectors)"
"$VHDTOOL" info "$DEMO/child.vhd" | sed 's/^/    /' | head -n 30

say "Building the host ESP: \\EFI\\BOOT\\BOOTX64.EFI = vhdboot.efi, vhdboot.conf, \\vms\\demo\\*.vhd"
esp_create "$DEMO/host-esp.img" 256 || die "host ESP image"
esp_put "$DEMO/host-esp.img" "$DEMO/base.vhd" /vms/demo/base.vhd &&
    esp_put "$DEMO/host-esp.img" "$DEMO/child.vhd" /vms/demo/child.vhd || die "copy the VHDs"
cat >"$DEMO/vhdboot.conf" <<'EOF'
# vhdboot.conf: sits next to vhdboot (\EFI\BOOT\BOOTX64.EFI) on the ESP
timeout 2
default demo
entry demo
  title Debian from a differencing VHD
  vhd \vms\demo\child.vhd
  write volatile
EOF
esp_conf "$DEMO/host-esp.img" <"$DEMO/vhdboot.conf" || die "vhdboot.conf"
sed 's/^/    /' "$DEMO/vhdboot.conf"
rm -f "$DEMO/base.img" "$DEMO/child.img"

cat >"$DEMO/run-qemu.sh" <<EOF
#!/bin/sh
# Boots the demo's host ESP interactively (Ctrl-A X quits QEMU).
cp "$OVMF_VARS" "$DEMO/vars.fd"
exec $QEMU -machine q35 -accel tcg -m $QEMU_MEM \\
    -drive if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE \\
    -drive if=pflash,format=raw,unit=1,file=$DEMO/vars.fd \\
    -drive if=none,id=disk0,format=raw,file=$DEMO/host-esp.img \\
    -device virtio-blk-pci,drive=disk0,bootindex=0 \\
    -nographic -serial mon:stdio -no-reboot -net none
EOF
chmod +x "$DEMO/run-qemu.sh"

say "Booting under QEMU + OVMF (TCG, about a minute); serial console follows"
t0=$SECONDS
IT_STOP='vhdboot: returning to menu|Kernel panic|^Shell> |X64 Exception Type'
QEMU_SERIAL_TEE=1 qemu_run "$DEMO/console.log" 300 "$IT_STOP" "$DEMO/host-esp.img"
rc=$?
rm -f "$DEMO/console.log.raw"
echo
if [ $rc -eq 0 ] && grep -q "^GUEST-MARKER: $MARKER\$" "$DEMO/console.log"; then
    say "demo: OK in $((SECONDS - t0)) s: vhdboot opened child.vhd + base.vhd, systemd-boot and Linux ran from the virtual disk, and the marker came from the child layer."
    echo "    console log: $DEMO/console.log; boot it again by hand: $DEMO/run-qemu.sh"
    exit 0
fi
die "no 'GUEST-MARKER: $MARKER' from a cleanly powered-off guest ($(qemu_verdict $rc)); see $DEMO/console.log"
