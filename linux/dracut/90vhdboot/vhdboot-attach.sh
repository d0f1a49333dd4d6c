#!/bin/sh
# dracut initqueue/settled hook: attach the virtual disk once, before the
# root= device is waited for (see vhdboot-lib.sh).
[ -e /run/initramfs/vhdboot/state/tried ] && return 0 2>/dev/null
. /usr/lib/vhdboot/vhdboot-lib.sh
vb_boot
mkdir -p "$VB_STATE" && : >"$VB_STATE/tried"
