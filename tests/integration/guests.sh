# shellcheck shell=bash
# Guest disk builders for the integration tests and the demo (sourced by lib.sh).
#
# Everything downloaded or built once lives in $GUEST_CACHE (build/guest-cache):
#   debs/          the .deb files fetched with apt-get download
#   linux/vmlinuz  Debian's EFI-stub kernel (only this file is unpacked)
#   busybox, systemd-bootx64.efi, grub/x86_64-efi/   unpacked from their packages
#   initrd.gz      busybox initramfs printing "GUEST-MARKER: <vhdboot.marker=...>"
# Guest disks are raw GPT images: partition 1 an ESP (FAT), partition 2 a data
# partition (holding the test pattern for payload guests). No root, no loop devices.

GUEST_CACHE=${GUEST_CACHE:-$T_BUILD/guest-cache}
GUEST_KERNEL_OPTS=${GUEST_KERNEL_OPTS:-console=ttyS0 quiet panic=-1}
export MTOOLS_SKIP_CHECK=1

# guest_log MSG: progress note on stderr (kept out of TAP output).
guest_log() { echo "# $*" >&2; }

# guest_kernel_package: prints the linux-image package linux-image-amd64 points at.
guest_kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# guest_download PKG...: apt-get downloads the packages into $GUEST_CACHE/debs
# unless a .deb of that name is already there. Returns non-zero on failure.
guest_download() {
    local pkg need=()
    mkdir -p "$GUEST_CACHE/debs"
    for pkg in "$@"; do
        compgen -G "$GUEST_CACHE/debs/${pkg}_*.deb" >/dev/null || need+=("$pkg")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    guest_log "downloading ${need[*]} into $GUEST_CACHE/debs"
    (cd "$GUEST_CACHE/debs" && apt-get download "${need[@]}" >/dev/null 2>&1) && return 0
    # Stale package lists on a fresh machine: refresh them once and retry.
    guest_log "apt-get download failed; refreshing the package lists and retrying"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq >/dev/null 2>&1
    (cd "$GUEST_CACHE/debs" && apt-get download "${need[@]}" >/dev/null 2>&1) ||
        { echo "apt-get download ${need[*]} failed even after apt-get update" >&2; return 1; }
}

# guest_deb_extract PKG DEST PATTERN...: unpacks only the members matching the
# tar wildcards PATTERN from the cached PKG .deb into DEST.
guest_deb_extract() {
    local pkg=$1 dest=$2; shift 2
    local deb
    deb=$(compgen -G "$GUEST_CACHE/debs/${pkg}_*.deb" | sort | tail -n 1)
    [ -n "$deb" ] || { echo "no cached .deb for $pkg" >&2; return 1; }
    mkdir -p "$dest"
    # tar stops reading once it has all members; dpkg-deb then sees SIGPIPE.
    dpkg-deb --fsys-tarfile "$deb" 2>/dev/null | tar -x --wildcards -C "$dest" "$@"
    [ "${PIPESTATUS[1]}" -eq 0 ]
}

# cache_locked NAME CMD...: runs CMD holding the lock $GUEST_CACHE/.NAME.lock,
# so that tests running side by side (tests/run-all.sh) build each cached item
# once; CMD runs in a subshell (its output is what callers capture). Returns
# CMD's status.
cache_locked() {
    local name=$1
    shift
    mkdir -p "$GUEST_CACHE" || return 1
    (flock 9 && "$@") 9>"$GUEST_CACHE/.$name.lock"
}

# guest_prepare: makes sure kernel, busybox, systemd-boot, GRUB modules and the
# initramfs are in the cache (downloading on the first run). Returns non-zero
# with a message on failure.
guest_prepare() { cache_locked guest guest_prepare_unlocked; }

# guest_prepare_unlocked: guest_prepare without the lock.
guest_prepare_unlocked() {
    local c=$GUEST_CACHE kpkg tmp
    if [ -s "$c/linux/vmlinuz" ] && [ -x "$c/busybox" ] && [ -s "$c/systemd-bootx64.efi" ] &&
       [ -s "$c/grub/x86_64-efi/normal.mod" ] && [ -s "$c/initrd.gz" ]; then
        return 0
    fi
    mkdir -p "$c"
    tmp=$(mktemp -d "$c/.unpack.XXXXXX")
    kpkg=$(guest_kernel_package)
    [ -n "$kpkg" ] || { echo "cannot find the kernel package behind linux-image-amd64 (apt-cache)" >&2; rm -rf "$tmp"; return 1; }
    guest_download "$kpkg" busybox-static systemd-boot-efi grub-efi-amd64-bin || { rm -rf "$tmp"; return 1; }
    if [ ! -s "$c/linux/vmlinuz" ]; then
        guest_deb_extract "$kpkg" "$tmp/k" './boot/vmlinuz-*' || { echo "cannot unpack vmlinuz from $kpkg" >&2; rm -rf "$tmp"; return 1; }
        mkdir -p "$c/linux" && mv "$(ls "$tmp"/k/boot/vmlinuz-* | head -n 1)" "$c/linux/vmlinuz"
    fi
    if [ ! -x "$c/busybox" ]; then
        guest_deb_extract busybox-static "$tmp/b" './bin/busybox' || { rm -rf "$tmp"; return 1; }
        mv "$tmp/b/bin/busybox" "$c/busybox"
    fi
    if [ ! -s "$c/systemd-bootx64.efi" ]; then
        guest_deb_extract systemd-boot-efi "$tmp/s" './usr/lib/systemd/boot/efi/systemd-bootx64.efi' || { rm -rf "$tmp"; return 1; }
        mv "$tmp/s/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$c/systemd-bootx64.efi"
    fi
    if [ ! -s "$c/grub/x86_64-efi/normal.mod" ]; then
        guest_deb_extract grub-efi-amd64-bin "$tmp/g" './usr/lib/grub/x86_64-efi/*' || { rm -rf "$tmp"; return 1; }
        rm -rf "$c/grub" && mkdir -p "$c/grub" && mv "$tmp/g/usr/lib/grub/x86_64-efi" "$c/grub/"
    fi
    rm -rf "$tmp"
    [ -s "$c/initrd.gz" ] || guest_make_initrd "$c/initrd.gz"
}

# guest_make_initrd OUT: builds a gzip'd busybox initramfs. Its /init mounts
# proc/sys/dev, prints "GUEST-MARKER: <value of vhdboot.marker=>" on the console
# and powers off. Needs no device nodes (devtmpfs provides the console).
guest_make_initrd() {
    local out=$1 dir
    dir=$(mktemp -d "$GUEST_CACHE/.initrd.XXXXXX")
    mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev"
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
echo "GUEST: Linux $(uname -r) is running from the initramfs"
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

# guest_disk IMG TOTAL_MIB ESP_MIB: creates a raw GPT disk, partition 1 an ESP
# of ESP_MIB formatted FAT (FAT32 when >= 36 MiB, else FAT16), partition 2 the
# rest (type Linux data). Prints nothing; returns non-zero on failure.
guest_disk() {
    local img=$1 total=$2 esp=$3 fat=16
    [ "$esp" -ge 36 ] && fat=32
    rm -f "$img"
    truncate -s "${total}M" "$img" || return 1
    sgdisk -n 1:2048:+"${esp}M" -t 1:ef00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:data "$img" >/dev/null || return 1
    mkfs.vfat -F "$fat" -S 512 -s 1 -n GUESTESP --offset 2048 "$img" $((esp * 1024)) >/dev/null 2>&1 || return 1
    mmd -i "$img@@1M" ::/EFI ::/EFI/BOOT || return 1
}

# guest_part2 IMG: prints "FIRST_LBA COUNT" of partition 2 of IMG.
guest_part2() {
    sgdisk -i 2 "$1" 2>/dev/null | awk '/^First sector:/ { f = $3 } /^Last sector:/ { l = $3 } END { print f, l - f + 1 }'
}

# guest_pattern IMG: writes the payload's test pattern over all of partition 2.
guest_pattern() {
    local img=$1 range
    range=$(guest_part2 "$img")
    guest_pattern_range "$img" $range
}

# guest_pattern_range IMG FIRST_LBA COUNT: writes the pattern over COUNT
# sectors from FIRST_LBA (tools/mkpattern.py, the payload's counterpart).
guest_pattern_range() { python3 "$T_ROOT/tools/mkpattern.py" "$@"; }

# guest_payload IMG: a 16 MiB payload guest: ESP with build/payload.efi as
# \EFI\BOOT\BOOTX64.EFI, partition 2 filled with the pattern.
guest_payload() {
    local img=$1
    [ -s "$T_BUILD/payload.efi" ] || { echo "missing $T_BUILD/payload.efi (make $T_BUILD/payload.efi)" >&2; return 1; }
    guest_disk "$img" 16 6 &&
        mcopy -i "$img@@1M" "$T_BUILD/payload.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        guest_pattern "$img"
}

# guest_sdboot IMG MARKER: a 64 MiB guest booting Debian's kernel through
# systemd-boot; the entry's command line carries vhdboot.marker=MARKER.
guest_sdboot() {
    local img=$1 marker=$2
    guest_prepare || return 1
    guest_disk "$img" 64 48 &&
        mmd -i "$img@@1M" ::/loader ::/loader/entries &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/linux/vmlinuz" ::/vmlinuz &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/initrd.gz" ::/initrd.gz &&
        printf 'timeout 0\ndefault linux.conf\n' | mcopy -i "$img@@1M" - ::/loader/loader.conf &&
        guest_sdboot_marker "$img" "$marker"
}

# guest_sdboot_marker IMG MARKER: rewrites the systemd-boot entry with MARKER.
guest_sdboot_marker() {
    printf 'title Debian (vhdboot test)\nlinux /vmlinuz\ninitrd /initrd.gz\noptions %s vhdboot.marker=%s\n' \
        "$GUEST_KERNEL_OPTS" "$2" | mcopy -o -i "$1@@1M" - ::/loader/entries/linux.conf
}

# guest_grub IMG MARKER: a 64 MiB guest booting Debian's kernel through a
# standalone GRUB whose embedded grub.cfg sources \grub.cfg on the ESP; that
# file carries vhdboot.marker=MARKER.
guest_grub() {
    local img=$1 marker=$2 grubefi
    guest_prepare || return 1
    grubefi=$GUEST_CACHE/grubx64-standalone.efi
    cache_locked grub guest_grub_build "$grubefi" || return 1
    guest_disk "$img" 64 48 &&
        mcopy -i "$img@@1M" "$grubefi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/linux/vmlinuz" ::/vmlinuz &&
        mcopy -i "$img@@1M" "$GUEST_CACHE/initrd.gz" ::/initrd.gz &&
        guest_grub_marker "$img" "$marker"
}

# guest_grub_build OUT: builds the standalone GRUB image OUT unless it exists.
# Returns non-zero with a message on failure.
guest_grub_build() {
    local grubefi=$1 cfg
    if [ ! -s "$grubefi" ]; then
        cfg=$(mktemp "$GUEST_CACHE/.grubcfg.XXXXXX")
        # The virtual disk is not necessarily hd0: find the ESP by a file on it.
        printf '%s\n' 'insmod part_gpt' 'insmod fat' 'search --no-floppy --file /vmlinuz --set=root' \
            'configfile ($root)/grub.cfg' >"$cfg"
        grub-mkstandalone -O x86_64-efi -d "$GUEST_CACHE/grub/x86_64-efi" -o "$grubefi.tmp" \
            --modules="part_gpt fat search search_fs_file configfile" \
            --install-modules="part_gpt fat search search_fs_file configfile linux normal echo test" \
            --locales= --themes= --fonts= "boot/grub/grub.cfg=$cfg" >/dev/null 2>&1
        local rc=$?
        rm -f "$cfg"
        [ $rc -eq 0 ] && mv "$grubefi.tmp" "$grubefi" || { echo "grub-mkstandalone failed" >&2; return 1; }
    fi
}

# guest_grub_marker IMG MARKER: rewrites \grub.cfg on the guest's ESP with MARKER.
guest_grub_marker() {
    printf 'set timeout=0\nmenuentry "Debian (vhdboot test)" {\n  linux /vmlinuz %s vhdboot.marker=%s\n  initrd /initrd.gz\n}\n' \
        "$GUEST_KERNEL_OPTS" "$2" | mcopy -o -i "$1@@1M" - ::/grub.cfg
}
