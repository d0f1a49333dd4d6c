# shellcheck shell=bash
# A real Debian 12 guest for the Linux handoff tests (sourced by the tests).
#
# Cached in $GUEST_CACHE (build/guest-cache):
#   debian-base.tar        mmdebstrap minbase + kernel + systemd + initramfs-tools
#                          + busybox + ntfs-3g + systemd-boot, driver modules
#                          pruned; built once per cache (minutes)
#   debian-vhdboot-<sha>/  the base with our .deb installed and its initramfs
#                          rebuilt (keyed by the .deb's sha256; seconds)
#   debian-<sha>.img       the raw GPT guest disk made from that layer
# Packages come from Debian's registry through the machine's own apt sources
# files (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list|*.sources):
# no mirror name is written anywhere here.

GUEST_CACHE=${GUEST_CACHE:-$T_BUILD/guest-cache}
DEB_SUITE=${DEB_SUITE:-bookworm}
DEB_ESP_MIB=64          # guest ESP: systemd-boot, kernel, initrd
DEB_ROOT_MIB=900        # guest root (ext4)
# Fixed UUIDs keep the guest disk reproducible and let tests name them.
DEB_ROOT_UUID=5e1f0c3a-7d2b-4c11-9a6e-0b5d2c7f4e01
DEB_ESP_SERIAL=5EF1C0DE
DEB_INCLUDE=linux-image-amd64,systemd,systemd-sysv,udev,initramfs-tools,busybox,kmod,e2fsprogs,ntfs-3g,fuse3,systemd-boot-efi,dosfstools

# deb_log MSG: progress note on stderr.
deb_log() { echo "# debian guest: $*" >&2; }

# deb_sources: prints the machine's apt sources files, one per line.
deb_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -s "$f" ] && echo "$f"
    done
}

# deb_prune_dirs: prints what a QEMU guest never needs, relative to the root:
# documentation, translations and the driver module trees of hardware it lacks.
deb_prune_dirs() {
    local d
    echo usr/share/doc usr/share/man usr/share/locale usr/share/info lib/firmware usr/lib/firmware
    for d in drivers/gpu drivers/net drivers/media drivers/infiniband drivers/staging drivers/usb \
        drivers/bluetooth drivers/isdn drivers/iio drivers/hwmon drivers/mtd drivers/thunderbolt \
        drivers/nfc drivers/platform drivers/input drivers/hid drivers/scsi drivers/ata drivers/md \
        drivers/mmc drivers/leds drivers/power drivers/watchdog drivers/video drivers/target \
        drivers/misc drivers/edac drivers/crypto drivers/spi drivers/i2c drivers/mfd drivers/regulator \
        drivers/pinctrl drivers/gpio drivers/firewire drivers/pcmcia drivers/vfio drivers/vdpa \
        drivers/nvme drivers/accel drivers/comedi drivers/w1 drivers/ptp drivers/soundwire \
        drivers/uio drivers/rtc drivers/atm drivers/parport drivers/memstick drivers/ntb \
        sound net fs/btrfs fs/xfs fs/ocfs2 fs/gfs2 fs/nfs fs/nfsd fs/smb fs/cifs fs/ceph fs/f2fs \
        fs/jfs fs/reiserfs fs/ubifs fs/afs fs/dlm fs/nilfs2 fs/orangefs fs/ksmbd; do
        echo "usr/lib/modules/*/kernel/$d"
    done
}

# deb_base: builds $GUEST_CACHE/debian-base.tar once. Returns non-zero with a
# message on failure.
deb_base() { cache_locked debian-base deb_base_unlocked; }

# deb_base_unlocked: deb_base without the lock.
deb_base_unlocked() {
    local tar=$GUEST_CACHE/debian-base.tar tmp=$GUEST_CACHE/debian-base.tmp.tar src=() f
    [ -s "$tar" ] && return 0
    command -v mmdebstrap >/dev/null || { echo "mmdebstrap not installed (make deps)" >&2; return 1; }
    while read -r f; do src+=("$f"); done < <(deb_sources)
    [ ${#src[@]} -gt 0 ] || { echo "no apt sources file on this machine" >&2; return 1; }
    mkdir -p "$GUEST_CACHE"
    deb_log "building the Debian $DEB_SUITE base with mmdebstrap (minutes, once per cache)"
    # update-initramfs is pointless here: the layer with our package rebuilds it.
    # shellcheck disable=SC2046
    nice -n 10 mmdebstrap --variant=minbase --include="$DEB_INCLUDE" \
        --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; echo "COMPRESS=gzip" > "$1/etc/initramfs-tools/conf.d/vhdboot-test.conf"' \
        --customize-hook='rm -f "$1"/boot/initrd.img-*' \
        --customize-hook="cd \"\$1\" && rm -rf $(deb_prune_dirs | tr '\n' ' ') && chroot \"\$1\" sh -c 'depmod -a \$(ls /usr/lib/modules)'" \
        --customize-hook='echo vhdboot-guest > "$1/etc/hostname"' \
        --customize-hook='chroot "$1" passwd -d root >/dev/null' \
        "$DEB_SUITE" "$tmp" "${src[@]}" >"$GUEST_CACHE/mmdebstrap.log" 2>&1 ||
        { echo "mmdebstrap failed; see $GUEST_CACHE/mmdebstrap.log" >&2; tail -n 20 "$GUEST_CACHE/mmdebstrap.log" >&2; rm -f "$tmp"; return 1; }
    mv "$tmp" "$tar"
}

# deb_chroot DIR CMD...: runs CMD inside DIR with /proc, /sys and /dev
# mounted, in a private mount namespace (nothing leaks onto the host).
deb_chroot() {
    local dir=$1; shift
    unshare -m sh -c 'd=$1; shift; mount -t proc proc "$d/proc" && mount -t sysfs sys "$d/sys" &&
        mount --bind /dev "$d/dev" && exec chroot "$d" "$@"' sh "$dir" "$@"
}

# deb_guest_files DIR: the test's own part of the guest: a unit that runs
# tests/integration/debian_guest_test.sh at multi-user and powers off.
deb_guest_files() {
    local dir=$1
    install -m 755 "$IT_DIR/debian_guest_test.sh" "$dir/usr/local/sbin/vhdboot-guest-test" &&
        cat >"$dir/etc/systemd/system/vhdboot-guest-test.service" <<'UNIT' &&
[Unit]
Description=vhdboot guest test: print the root device, write, power off
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vhdboot-guest-test
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
UNIT
        ln -sf /etc/systemd/system/vhdboot-guest-test.service \
            "$dir/etc/systemd/system/multi-user.target.wants/vhdboot-guest-test.service" &&
        printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$DEB_ROOT_UUID" >"$dir/etc/fstab" &&
        mkdir -p "$dir/var/lib/vhdboot-test"
}

# deb_layer DEB: prints the directory of the base with DEB installed, the
# test unit added and the initramfs rebuilt (built once per .deb content).
deb_layer() { cache_locked debian-layer deb_layer_unlocked "$@"; }

# deb_layer_unlocked DEB: deb_layer without the lock.
deb_layer_unlocked() {
    local deb=$1 sum dir
    sum=$( (sha256sum "$deb" "$IT_DIR/debian_guest_test.sh"; declare -f deb_guest_files) | sha256sum | cut -c1-12)
    dir=$GUEST_CACHE/debian-vhdboot-$sum
    if [ -s "$dir/.done" ]; then echo "$dir"; return 0; fi
    deb_base || return 1
    rm -rf "$GUEST_CACHE"/debian-vhdboot-* && mkdir -p "$dir" || return 1
    deb_log "deriving the layer with $(basename "$deb")"
    tar -C "$dir" -xf "$GUEST_CACHE/debian-base.tar" &&
        cp "$deb" "$dir/tmp/vhdboot.deb" &&
        deb_guest_files "$dir" &&
        deb_chroot "$dir" dpkg -i /tmp/vhdboot.deb >"$GUEST_CACHE/layer.log" 2>&1 &&
        rm -f "$dir/tmp/vhdboot.deb" ||
        { echo "installing $(basename "$deb") into the guest failed; see $GUEST_CACHE/layer.log" >&2; tail -n 20 "$GUEST_CACHE/layer.log" >&2; return 1; }
    ls "$dir"/boot/initrd.img-* >/dev/null 2>&1 ||
        deb_chroot "$dir" update-initramfs -c -k all >>"$GUEST_CACHE/layer.log" 2>&1 ||
        { echo "update-initramfs failed; see $GUEST_CACHE/layer.log" >&2; return 1; }
    date >"$dir/.done"
    echo "$dir"
}

# deb_disk LAYER OUT: builds the raw GPT guest disk OUT from LAYER: partition 1
# an ESP with systemd-boot, the kernel, the initrd and a loader entry booting
# root=UUID=$DEB_ROOT_UUID; partition 2 the ext4 root made with mke2fs -d.
deb_disk() {
    local layer=$1 out=$2 w kernel initrd esp_kib root_kib
    w=$(mktemp -d "${T_TMP:-/tmp}/debdisk.XXXXXX")
    kernel=$(ls "$layer"/boot/vmlinuz-* | head -n 1)
    initrd=$(ls "$layer"/boot/initrd.img-* | head -n 1)
    esp_kib=$((DEB_ESP_MIB * 1024)) root_kib=$((DEB_ROOT_MIB * 1024))
    rm -f "$out"
    truncate -s $(((1 + DEB_ESP_MIB + DEB_ROOT_MIB + 1) * 1024 * 1024)) "$out" &&
        sgdisk -n 1:2048:+${DEB_ESP_MIB}M -t 1:ef00 -c 1:ESP -u 1:0c1a7e11-3f0e-4c5b-9d2f-1e5b0c0de001 \
            -n 2:0:+${DEB_ROOT_MIB}M -t 2:8304 -c 2:root -u 2:0c1a7e11-3f0e-4c5b-9d2f-1e5b0c0de002 \
            -U 0c1a7e11-3f0e-4c5b-9d2f-1e5b0c0de000 "$out" >/dev/null &&
        mkfs.vfat -F 32 -n GUESTESP -i "$DEB_ESP_SERIAL" -C "$w/esp.img" "$esp_kib" >/dev/null &&
        mmd -i "$w/esp.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries &&
        mcopy -i "$w/esp.img" "$layer/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$w/esp.img" "$kernel" ::/vmlinuz &&
        mcopy -i "$w/esp.img" "$initrd" ::/initrd.img &&
        printf 'timeout 0\ndefault debian.conf\n' | mcopy -i "$w/esp.img" - ::/loader/loader.conf &&
        printf 'title Debian on vhdboot\nlinux /vmlinuz\ninitrd /initrd.img\noptions root=UUID=%s ro console=ttyS0 panic=-1 systemd.gpt_auto=0 %s\n' \
            "$DEB_ROOT_UUID" "${DEB_KERNEL_EXTRA:-}" | mcopy -i "$w/esp.img" - ::/loader/entries/debian.conf &&
        mkfs.ext4 -q -F -L root -U "$DEB_ROOT_UUID" -d "$layer" -E lazy_itable_init=0 "$w/root.img" "${root_kib}k" &&
        dd if="$w/esp.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none &&
        dd if="$w/root.img" of="$out" bs=1M seek=$((1 + DEB_ESP_MIB)) conv=notrunc,sparse status=none
    local rc=$?
    rm -rf "$w"
    return $rc
}

# deb_root_range: prints "OFFSET LENGTH" (bytes) of the root partition.
deb_root_range() { echo $(((1 + DEB_ESP_MIB) * 1024 * 1024)) $((DEB_ROOT_MIB * 1024 * 1024)); }

# deb_dracut_base: builds $GUEST_CACHE/debian-dracut.tar once: the same
# minbase with dracut instead of initramfs-tools (for the dracut module test).
deb_dracut_base() { cache_locked debian-dracut deb_dracut_base_unlocked; }

# deb_dracut_base_unlocked: deb_dracut_base without the lock.
deb_dracut_base_unlocked() {
    local tar=$GUEST_CACHE/debian-dracut.tar tmp=$GUEST_CACHE/debian-dracut.tmp.tar src=() f
    [ -s "$tar" ] && return 0
    while read -r f; do src+=("$f"); done < <(deb_sources)
    [ ${#src[@]} -gt 0 ] || { echo "no apt sources file on this machine" >&2; return 1; }
    mkdir -p "$GUEST_CACHE"
    deb_log "building the Debian $DEB_SUITE base with dracut (once per cache)"
    nice -n 10 mmdebstrap --variant=minbase \
        --include="${DEB_INCLUDE/initramfs-tools/dracut}" \
        --customize-hook="cd \"\$1\" && rm -rf $(deb_prune_dirs | tr '\n' ' ') && chroot \"\$1\" sh -c 'depmod -a \$(ls /usr/lib/modules)'" \
        "$DEB_SUITE" "$tmp" "${src[@]}" >"$GUEST_CACHE/mmdebstrap-dracut.log" 2>&1 ||
        { echo "mmdebstrap failed; see $GUEST_CACHE/mmdebstrap-dracut.log" >&2; rm -f "$tmp"; return 1; }
    mv "$tmp" "$tar"
}
