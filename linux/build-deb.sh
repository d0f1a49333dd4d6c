#!/bin/sh
# Builds the vhdboot .deb with dpkg-deb from the built vhdtool and loader.
# Usage: build-deb.sh BUILD_DIR VERSION   (prints the .deb's path)
set -eu
build=$1
version=$2
src=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$src/.." && pwd)
root=$build/deb-root
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/vhdboot" "$root/usr/share/doc/vhdboot" \
    "$root/usr/share/initramfs-tools/hooks" "$root/usr/share/initramfs-tools/scripts/local-top" \
    "$root/usr/share/initramfs-tools/scripts/init-bottom" "$root/usr/lib/dracut/modules.d/90vhdboot"
install -m 755 "$build/vhdtool" "$root/usr/bin/vhdtool"
install -m 644 "$build/vhdboot.efi" "$root/usr/lib/vhdboot/vhdboot.efi"
install -m 644 "$src/vhdboot-lib.sh" "$root/usr/lib/vhdboot/vhdboot-lib.sh"
install -m 755 "$src/shutdown.sh" "$root/usr/lib/vhdboot/shutdown"
install -m 755 "$src/initramfs-tools/hooks/vhdboot" "$root/usr/share/initramfs-tools/hooks/vhdboot"
install -m 755 "$src/initramfs-tools/scripts/local-top/vhdboot" "$root/usr/share/initramfs-tools/scripts/local-top/vhdboot"
install -m 755 "$src/initramfs-tools/scripts/init-bottom/vhdboot" "$root/usr/share/initramfs-tools/scripts/init-bottom/vhdboot"
install -m 755 "$src"/dracut/90vhdboot/*.sh "$root/usr/lib/dracut/modules.d/90vhdboot/"
install -m 644 "$top/README.md" "$root/usr/share/doc/vhdboot/README.md"
gzip -9n "$root/usr/share/doc/vhdboot/README.md"
printf 'vhdboot\nSee /usr/share/doc/vhdboot/README.md.gz.\n' >"$root/usr/share/doc/vhdboot/copyright"
install -m 755 "$src/debian/postinst" "$src/debian/postrm" "$root/DEBIAN/"
# Depends: the packages owning the shared libraries vhdtool links against.
depends=$(ldd "$build/vhdtool" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
    dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null
done | cut -d: -f1 | sort -u | paste -sd, - | sed 's/,/, /g')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@DEPENDS@/${depends:-libc6}/" -e "s/@SIZE@/$size/" \
    "$src/debian/control.in" >"$root/DEBIAN/control"
out=$build/vhdboot_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
