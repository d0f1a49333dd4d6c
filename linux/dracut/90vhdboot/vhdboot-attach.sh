#!/bin/sh
# dracut initqueue/settled hook: attach the virtual disk once, before the
# root= device is waited for (see vhdboot-lib.sh).
[ -e /run/initramfs/vhdboot/state/tried ] && return 0 2>/dev/null
. /usr/lib/vhdboot/vhdboot-lib.sh
vb_boot
mkdir -p "$VB_STATE" && : >"$VB_STATE/tried"
# With a disk attached, ask for dracut's return to the initramfs at shutdown
# (dracut-initramfs-restore unpacks it only when this flag exists), where
# the shutdown hook detaches the disk and unmounts the host volumes.
if [ -s "$VB_STATE/devices" ]; then
    if command -v need_shutdown >/dev/null 2>&1; then need_shutdown; else : >/run/initramfs/.need_shutdown; fi
fi
