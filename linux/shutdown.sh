#!/bin/sh
# vhdboot's /run/initramfs/shutdown: systemd-shutdown switches into
# /run/initramfs (the old root at /oldroot) and runs this with the action
# (poweroff, reboot, halt, kexec) once it has stopped and unmounted all it
# could. The root file system still lives on the virtual disk, served by
# vhdtool from a file on a host volume that is still mounted: release them in
# order, then end the way systemd asked. Never hangs, never returns.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
/bin/busybox --install -s /bin 2>/dev/null
VB_MNT=/vhdboot            # /run/initramfs/vhdboot before the switch
. /usr/lib/vhdboot/vhdboot-lib.sh
VB_TOOL=/usr/bin/vhdtool
[ -d /oldroot ] && vb_release /oldroot
case ${1:-poweroff} in
    reboot | kexec) reboot -f ;;
    halt) halt -f ;;
    *) poweroff -f ;;
esac
# Only if the call above failed: keep PID 1 alive rather than panic.
while :; do sleep 60; done
