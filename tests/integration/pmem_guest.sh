# shellcheck shell=bash
# The RAM-disk guest (sourced by test_ramdisk.sh after lib.sh): Debian's
# kernel under systemd-boot, as guests.sh builds it, with an initramfs that
# loads the persistent-memory drivers (libnvdimm, nd_btt, nd_pmem, nfit from
# the same kernel package) and reports what the OS sees of the RAM disk:
#   PMEM: size BYTES            (blockdev --getsize64 /dev/pmem0)
#   PMEM: sha256 HEX            (of all of /dev/pmem0, before writing)
#   PMEM: write ok|failed       (1 MiB of new data written at 1 MiB and read back)
#   GUEST-MARKER: MARKER
# then powers off. Without /dev/pmem0 after 20 s it prints "PMEM: none" and
# the kernel's nvdimm messages.

PMEM_MODULES="drivers/nvdimm/libnvdimm.ko drivers/nvdimm/nd_btt.ko drivers/nvdimm/nd_pmem.ko drivers/acpi/nfit/nfit.ko"

# pmem_initrd OUT: builds the gzip'd busybox initramfs described above.
pmem_initrd() {
    local out=$1 dir kpkg m
    guest_prepare || return 1
    kpkg=$(guest_kernel_package)
    dir=$(mktemp -d "$GUEST_CACHE/.pmem.XXXXXX")
    mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp" "$dir/mod" "$dir/k"
    for m in $PMEM_MODULES; do
        guest_deb_extract "$kpkg" "$dir/k" "./lib/modules/*/kernel/$m" || { rm -rf "$dir"; return 1; }
    done
    find "$dir/k" -name '*.ko' -exec mv {} "$dir/mod/" \;
    rm -rf "$dir/k"
    cp "$GUEST_CACHE/busybox" "$dir/bin/busybox"
    cat >"$dir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
marker=none
for word in $(cat /proc/cmdline); do
    case "$word" in vhdboot.marker=*) marker=${word#vhdboot.marker=} ;; esac
done
for m in libnvdimm nd_btt nd_pmem nfit; do insmod /mod/$m.ko || echo "PMEM: insmod $m failed"; done
n=0
while [ ! -b /dev/pmem0 ] && [ $n -lt 80 ]; do sleep 0.25; n=$((n + 1)); done
if [ -b /dev/pmem0 ]; then
    echo "PMEM: size $(blockdev --getsize64 /dev/pmem0)"
    echo "PMEM: sha256 $(sha256sum /dev/pmem0 | cut -d' ' -f1)"
    dd if=/dev/urandom of=/tmp/new bs=1M count=1 2>/dev/null
    dd if=/tmp/new of=/dev/pmem0 bs=1M seek=1 conv=fsync 2>/dev/null
    echo 3 >/proc/sys/vm/drop_caches
    dd if=/dev/pmem0 of=/tmp/back bs=1M skip=1 count=1 2>/dev/null
    if cmp -s /tmp/new /tmp/back; then echo "PMEM: write ok"; else echo "PMEM: write failed"; fi
else
    echo "PMEM: none"
    dmesg | grep -iE 'nfit|nvdimm|pmem|nd_' | tail -n 20
fi
echo "GUEST-MARKER: $marker"
sync
poweroff -f
EOF
    chmod 755 "$dir/init" "$dir/bin/busybox"
    (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9) >"$out.tmp" &&
        mv "$out.tmp" "$out"
    local rc=$?
    rm -rf "$dir"
    return $rc
}

# pmem_guest IMG MARKER: a 64 MiB systemd-boot guest (guests.sh) whose
# initramfs is the one above.
pmem_guest() {
    local img=$1 marker=$2 initrd=$T_TMP/initrd-pmem.gz
    [ -s "$initrd" ] || pmem_initrd "$initrd" || return 1
    guest_sdboot "$img" "$marker" && mcopy -o -i "$img@@1M" "$initrd" ::/initrd.gz
}
