#!/bin/sh
# Runs in the Debian guest at multi-user (vhdboot-guest-test.service): prints
# the root device and what the previous boot left, writes a marker file and
# 8 MiB of data, and powers off. The host volume (/run/vhdboot/host) may hold
# vhdboot-test.mode: "write" (default), "reboot" (the same, then a reboot
# instead of a poweroff: QEMU runs with -no-reboot and ends) or "powerloss"
# (write without end; the test kills QEMU meanwhile).
d=/var/lib/vhdboot-test
say() { echo "VHDBOOT-TEST: $*"; }
mode=$(cat /run/vhdboot/host/vhdboot-test.mode 2>/dev/null || echo write)
say "root=$(findmnt -no SOURCE /) attached=$(cat /run/vhdboot/device 2>/dev/null || echo none) mode=$mode"
say "host=$(findmnt -no SOURCE,FSTYPE,OPTIONS /run/initramfs/vhdboot/host 2>/dev/null | tr -s ' ' ,) shutdown-program=$(test -x /run/initramfs/shutdown && echo yes || echo no)"
say "previous=$(cat $d/marker 2>/dev/null || echo none)"
marker=boot-$(cat /proc/sys/kernel/random/uuid)
if [ "$mode" = powerloss ]; then
    say "writing"
    i=0
    while :; do
        dd if=/dev/urandom of=$d/data.$((i % 4)) bs=1M count=4 conv=fsync status=none
        i=$((i + 1))
    done
fi
if dd if=/dev/urandom of=$d/data bs=1M count=8 status=none &&
    echo "$marker" >$d/marker.new && sync && mv $d/marker.new $d/marker && sync; then
    say "wrote=$marker data=$(sha256sum $d/data | cut -c1-64)"
else
    say "write-failed"
fi
say "done"
if [ "$mode" = reboot ]; then systemctl --no-block reboot; else systemctl --no-block poweroff; fi
