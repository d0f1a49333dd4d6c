#!/bin/bash
# Builds one guest disk by hand, the same way the integration tests do.
#   tests/integration/mkguest.sh sdboot|grub IMG [MARKER]   Debian kernel + busybox
#                                                           initramfs (prints MARKER)
#   tests/integration/mkguest.sh payload IMG               build/payload.efi + pattern
# Add a VHD with: build/vhdtool convert IMG OUT.vhd -O dynamic
# Boot the raw disk directly under OVMF to try it: the guests power off when done.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
kind=$1 img=$2 marker=${3:-MANUAL}
case $kind in
    sdboot) guest_sdboot "$img" "$marker" ;;
    grub) guest_grub "$img" "$marker" ;;
    payload) guest_payload "$img" ;;
    *) echo "mkguest.sh: unknown guest kind '$kind' (sdboot, grub, payload)" >&2; exit 2 ;;
esac || { echo "mkguest.sh: building $img failed" >&2; exit 1; }
echo "$img: $kind guest, $(du -h --apparent-size "$img" | cut -f1)"
