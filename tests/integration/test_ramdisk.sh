#!/bin/bash
# `write ram`: the loader copies the flattened chain into a RAM disk that
# OVMF's RamDiskDxe publishes in the ACPI NFIT, and Linux finds it as
# /dev/pmem0 with no vhdboot driver.
#   1. A 2-layer chain (dynamic base, differencing top that changes the boot
#      entry's marker) boots through systemd-boot from the RAM disk; the
#      busybox guest (pmem_guest.sh) loads nfit + nd_pmem and reports
#      /dev/pmem0: its size is the virtual disk's and its sha256 the chain
#      flattened on the host with `vhdtool convert -O raw`; it writes to it
#      and reads the data back; the VHD files stay byte-identical. The
#      firmware's free memory is dirty first (build/dirtymem.efi fills it
#      with 0xA5, then starts vhdboot), so the sha256 shows that every hole
#      of the chain was made zero, not left as memory happened to be.
#      Run twice: with one processor (the holes zeroed after the reads),
#      and with two (the second processor zeroes them during the reads).
#   2. A VHD larger than the guest's memory, switched to ram in the `e`
#      editor, is refused with a message naming both sizes, back at the
#      menu, nothing started.
#   3. Esc during the load of a large image (its host disk throttled) cancels
#      it back to the menu; the same entry then loads in full (so the
#      cancelled load freed its memory: two copies would not fit); a load
#      over a second shows the progress line.
#   4. Firmware without EFI_RAM_DISK_PROTOCOL (build/noramdisk.efi removes
#      it from OVMF, then starts vhdboot): the loader says so and offers
#      volatile writes; v takes the offer and the guest boots.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pmem_guest.sh"
it_require_qemu

W=$T_TMP
ESP=$W/esp.img

# --- the chain and its flattened image -----------------------------------------
pmem_guest "$W/g1.img" RAM-LAYER1 || it_setup_fail "pmem guest disk"
cp "$W/g1.img" "$W/g2.img" && guest_sdboot_marker "$W/g2.img" RAM-LAYER2 || it_setup_fail "layer 2 entry"
vhd_from_raw "$W/g1.img" "$W/base.vhd" dynamic || it_setup_fail "base VHD"
vhd_diff_layer "$W/base.vhd" "$W/top.vhd" "$W/g1.img" "$W/g2.img" || it_setup_fail "top layer"
# the differencing layer names its parent by path: convert from where the files sit
"$VHDTOOL" convert "$W/top.vhd" "$W/flat.raw" -O raw >/dev/null || it_setup_fail "vhdtool convert -O raw"
FLAT_SHA=$(sha256sum "$W/flat.raw" | cut -d' ' -f1)
FLAT_SIZE=$(stat -c %s "$W/flat.raw")
t_eq "host: the flattened chain is the newest raw guest" "$(sha256sum "$W/g2.img" | cut -d' ' -f1)" "$FLAT_SHA"

esp_create "$ESP" 160 || it_setup_fail "host ESP image"
esp_put "$ESP" "$W/base.vhd" /vms/ram/base.vhd && esp_put "$ESP" "$W/top.vhd" /vms/ram/top.vhd ||
    it_setup_fail "copy the chain"
SHA_BASE=$(esp_sha "$ESP" /vms/ram/base.vhd)
SHA_TOP=$(esp_sha "$ESP" /vms/ram/top.vhd)

# --- 1. Linux finds the chain as /dev/pmem0 ------------------------------------------
[ -s "$T_BUILD/dirtymem.efi" ] && [ -s "$T_BUILD/noramdisk.efi" ] ||
    it_setup_fail "missing $T_BUILD/dirtymem.efi or noramdisk.efi (make test-build)"
esp_put "$ESP" "$T_BUILD/vhdboot.efi" /EFI/BOOT/VHDBOOT.EFI && esp_put "$ESP" "$T_BUILD/dirtymem.efi" /EFI/BOOT/BOOTX64.EFI ||
    it_setup_fail "dirtymem.efi as the boot file"
it_conf_single "RAM disk chain" '\vms\ram\top.vhd' ram | esp_conf "$ESP"
IT_LIMIT=240
for smp in 1 2; do
    QEMU_SMP=$smp it_boot ram-pmem-smp$smp "$ESP"
    on="on $smp processors?"
    it_expect "ram ($smp cpu): the free memory was made dirty first" '^DIRTYMEM: filled [1-9][0-9]* MiB of free memory with 0xA5'
    it_expect "ram ($smp cpu): the loader reads the chain's data into memory" \
        "^vhdboot: loading .*top\.vhd into memory: $((FLAT_SIZE >> 20)) MiB disk, [0-9]+ MiB of data \(Esc cancels\)"
    it_expect "ram ($smp cpu): the load reports its time and rate, the holes zeroed $on" \
        "^vhdboot: loaded [0-9]+ MiB of data in [0-9]+ ms \([0-9]+\.[0-9] MiB/s; [0-9]+ MiB of holes zeroed $on, adding [0-9]+ ms to the reads, [0-9]+ MiB of them written\)"
    it_expect "ram ($smp cpu): the holes lay on dirty memory and were written" 'MiB of holes zeroed on [0-9]+ processors?, adding [0-9]+ ms to the reads, [1-9][0-9]* MiB of them written\)'
    it_expect "ram ($smp cpu): the RAM disk is installed" "^vhdboot: installed RAM disk of $((FLAT_SIZE >> 20)) MiB \(ram\)"
    it_expect "ram ($smp cpu): systemd-boot started from the RAM disk" '^vhdboot: starting .*BOOTX64.EFI'
    it_expect "guest ($smp cpu): /dev/pmem0 has the virtual disk's size ($FLAT_SIZE bytes)" "^PMEM: size $FLAT_SIZE\$"
    it_expect "guest ($smp cpu): /dev/pmem0's sha256 is the flattened chain's (vhdtool convert -O raw)" "^PMEM: sha256 $FLAT_SHA\$"
    it_expect "guest ($smp cpu): data written to /dev/pmem0 reads back" '^PMEM: write ok$'
    it_expect_guest "guest ($smp cpu): the top layer's marker (the chain's newest data) and a clean power-off" '^GUEST-MARKER: RAM-LAYER2$'
    t_eq "the base VHD is byte-identical after the guest wrote to its disk ($smp cpu)" "$SHA_BASE" "$(esp_sha "$ESP" /vms/ram/base.vhd)"
    t_eq "the top VHD is byte-identical after the guest wrote to its disk ($smp cpu)" "$SHA_TOP" "$(esp_sha "$ESP" /vms/ram/top.vhd)"
done

# --- 2. larger than the guest's memory: refused, back at the menu ------------------
# The entry says readonly; the `e` editor switches it to ram for this boot.
esp_put "$ESP" "$T_BUILD/vhdboot.efi" /EFI/BOOT/BOOTX64.EFI || it_setup_fail "vhdboot.efi as the boot file again"
"$VHDTOOL" create dynamic 1G "$W/huge.vhd" --exact-size >/dev/null || it_setup_fail "1 GiB dynamic VHD"
esp_put "$ESP" "$W/huge.vhd" /vms/ram/huge.vhd || it_setup_fail "copy huge.vhd"
printf 'timeout 5\ndefault big\nentry big\n  title Too big for memory\n  vhd \\vms\\ram\\huge.vhd\n  write readonly\n' |
    esp_conf "$ESP"
IT_LIMIT=120
IT_STOP="booting 'Too big for memory' failed: the reason is above|X64 Exception Type" it_boot ram-too-big "$ESP" \
    'booting Too big for memory in [0-9]+ s' 'e' \
    'write mode: readonly' 'w' \
    'write mode: ram' '\r'
it_expect "editor: w cycles readonly -> ram" '^  write mode: ram'
it_expect "editor: the entry is booted in ram mode" '^vhdboot: selected 1\. Too big for memory'
it_expect "too big: refused with the disk's size and the largest free range" \
    "^vhdboot: error: .*huge\.vhd: the disk needs 1024 MiB of memory \(\+ 64 MiB margin\), but the largest free memory range is [0-9]+ MiB \([0-9]+ MiB free in all\); use 'write volatile' instead"
it_expect "too big: back at the menu" "^vhdboot: returning to menu"
it_expect "too big: the menu says the boot failed" "booting 'Too big for memory' failed: the reason is above"
it_reject "too big: nothing was loaded or started" "^vhdboot: loading |^vhdboot: starting |$IT_GUEST_OUTPUT"

# --- 3. Esc cancels the load; the memory comes back ------------------------------
# 256 MiB of data read from a host disk QEMU throttles to 32 MB/s: the load
# takes about 8 s whatever the machine, so Esc and the progress line come
# during it. With 512 MiB of guest memory a second copy would not fit beside
# a cancelled load that kept its memory.
"$VHDTOOL" create fixed 256M "$W/big.vhd" --exact-size >/dev/null || it_setup_fail "256 MiB fixed VHD"
esp_create "$W/esp2.img" 320 || it_setup_fail "second host ESP image"
esp_put "$W/esp2.img" "$W/big.vhd" /vms/big.vhd || it_setup_fail "copy big.vhd"
rm -f "$W/big.vhd"
it_conf_single "Big RAM disk" '\vms\big.vhd' ram | esp_conf "$W/esp2.img"
IT_LIMIT=300
QEMU_DISK_OPTS=throttling.bps-read=33554432 IT_STOP='^vhdboot: installed RAM disk|X64 Exception Type' \
    it_boot ram-cancel "$W/esp2.img" \
    '^vhdboot: loading .*big\.vhd into memory' '\e' \
    '^vhdboot: returning to menu' '\r'
it_expect "Esc: the load is cancelled and its memory freed" \
    '^vhdboot: error: .*big\.vhd: loading into memory cancelled \(Esc\); the memory is freed'
it_expect "Esc: back at the menu" '^vhdboot: returning to menu'
it_expect "Esc: the same entry then loads in full (the cancelled load gave its memory back)" \
    '^vhdboot: loaded 256 MiB of data in [0-9]+ ms'
it_expect "Esc: a load over a second shows a progress bar with percent, MiB/s and time left" \
    '\[[#-]{20}\] +[0-9]+%  [0-9]+\.[0-9] MiB/s  [0-9:?]+ left  [0-9]+/256 MiB'
it_expect "Esc: the full load's RAM disk is installed" '^vhdboot: installed RAM disk of 256 MiB \(ram\)'

# --- 4. firmware without EFI_RAM_DISK_PROTOCOL: volatile offered -------------------
# build/noramdisk.efi removes the protocol from OVMF, then starts vhdboot.
esp_put "$ESP" "$T_BUILD/noramdisk.efi" /EFI/BOOT/BOOTX64.EFI ||
    it_setup_fail "noramdisk.efi as the boot file"
it_conf_single "RAM disk chain" '\vms\ram\top.vhd' ram | esp_conf "$ESP"
IT_LIMIT=240
it_boot ram-noprotocol "$ESP" 'press v to boot it with .write volatile. instead' 'v'
it_expect "no protocol: the test firmware lacks it" '^NORAMDISK: removed the RAM disk protocol from [1-9][0-9]* handle'
it_expect "no protocol: the loader says so" \
    "top\.vhd: this firmware has no RAM disk protocol \(EFI_RAM_DISK_PROTOCOL\), so 'write ram' cannot hand the disk to the OS"
it_expect "no protocol: v takes the offer: the disk is installed volatile" '^vhdboot: installed disk of 64 MiB \(volatile\)'
it_reject "no protocol: nothing was loaded into memory" '^vhdboot: loading '
it_expect "no protocol: the guest sees no persistent memory" '^PMEM: none$'
it_expect_guest "no protocol: the guest booted from the volatile disk (top layer's marker)" '^GUEST-MARKER: RAM-LAYER2$'
t_eq "no protocol: the top VHD is byte-identical" "$SHA_TOP" "$(esp_sha "$ESP" /vms/ram/top.vhd)"

exit $T_FAILED
