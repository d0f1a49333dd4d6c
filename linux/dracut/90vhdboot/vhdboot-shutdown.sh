#!/bin/sh
# dracut pre-shutdown hook (run from /run/initramfs, the old root at /oldroot,
# before dracut kills the processes using it and unmounts it):
# unmount the root on the virtual disk, detach it, unmount the host volumes.
[ -s /vhdboot/state/devices ] || return 0 2>/dev/null
VB_MNT=/vhdboot
. /usr/lib/vhdboot/vhdboot-lib.sh
vb_release /oldroot /oldsys
: >"$VB_STATE/devices"
