# shellcheck shell=sh
# vhdboot in the initramfs: attach the virtual disk the loader booted from,
# so that the normal root= lookup finds the root file system inside it, and
# release it cleanly at shutdown. POSIX sh (busybox ash); sourced by the
# initramfs-tools scripts, the dracut module and the shutdown program.
#
# The loader's record (EFI variable VhdbootDisk, or vhdboot.disk= on the
# kernel command line) is decoded by `vhdtool handoff`, which prints
# VHDBOOT_* shell assignments (see format/handoff.h).
#
# Host volumes are mounted below /run/initramfs/vhdboot: systemd-shutdown
# never unmounts (or force-unmounts, which would abort a FUSE ntfs-3g host)
# anything below /run/initramfs, and /run/vhdboot/host points there. The
# boot step makes /run/initramfs a tmpfs of its own, allowing exec: systemd
# runs the shutdown program there (see shutdown.sh) only if it can.

VB_BOOT_MNT=/run/initramfs/vhdboot  # where the boot step mounts host volumes
VB_MNT=${VB_MNT:-$VB_BOOT_MNT}       # the same seen from here (shutdown: /vhdboot)
VB_STATE=$VB_MNT/state              # devices, mounts: what shutdown releases
VB_LINK=/run/vhdboot                # user-facing names (symlinks)
VB_TOOL=${VB_TOOL:-vhdtool}
VB_WAIT=${VB_WAIT:-20}              # seconds to wait for a host partition

# vb_msg TEXT: one console line, prefixed "vhdboot:".
vb_msg() {
    echo "vhdboot: $*" >&2
}

# vb_load_modules: loads what attaching needs; a module built into the
# kernel or absent is not an error here (the step that needs it reports).
vb_load_modules() {
    for m in nbd loop fat vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1 efivarfs fuse; do
        modprobe -q "$m" 2>/dev/null
    done
    return 0
}

# vb_mount_efivars: mounts efivarfs when the firmware is UEFI and it is not
# mounted yet.
vb_mount_efivars() {
    [ -d /sys/firmware/efi/efivars ] || return 0
    grep -q ' /sys/firmware/efi/efivars ' /proc/mounts 2>/dev/null && return 0
    mount -t efivarfs efivarfs /sys/firmware/efi/efivars 2>/dev/null
    return 0
}

# vb_read_record: decodes the record into VHDBOOT_* variables. Returns 0 when
# a usable record is there, 2 when there is none (not booted by vhdboot),
# 1 after printing why the record is unusable.
vb_read_record() {
    # VB_CMDLINE (tests): decode this kernel command line instead.
    if [ -n "${VB_CMDLINE:-}" ]; then
        vb_out=$("$VB_TOOL" handoff --cmdline "$VB_CMDLINE" 2>"$VB_STATE/handoff.err")
    else
        vb_out=$("$VB_TOOL" handoff --auto 2>"$VB_STATE/handoff.err")
    fi
    vb_rc=$?
    case $vb_rc in
        0) ;;
        2) return 2 ;;
        *) vb_msg "the boot record is unusable: $(head -n 3 "$VB_STATE/handoff.err" 2>/dev/null | tr '\n' ' ')"
           return 1 ;;
    esac
    # Only lines of the form VHDBOOT_NAME=value reach eval.
    vb_bad=$(printf '%s\n' "$vb_out" | grep -v '^VHDBOOT_[A-Z0-9_]*=' | head -n 1)
    if [ -n "$vb_bad" ]; then
        vb_msg "the boot record decoder printed an unexpected line: $vb_bad"
        return 1
    fi
    eval "$vb_out"
    case ${VHDBOOT_MODE:-} in
        persistent | volatile | readonly) ;;
        *) vb_msg "the boot record has an unknown write mode '${VHDBOOT_MODE:-}'"; return 1 ;;
    esac
    case ${VHDBOOT_LAYERS:-} in
        '' | *[!0-9]* | 0) vb_msg "the boot record lists no layers"; return 1 ;;
    esac
    return 0
}

# vb_host_partuuid: prints the PARTUUID of the top layer's host partition
# (GPT partition GUID, or MBR "signature-partition" as blkid names it).
vb_host_partuuid() {
    if [ -n "${VHDBOOT_HOST_PARTUUID:-}" ]; then
        echo "$VHDBOOT_HOST_PARTUUID" | tr 'A-F' 'a-f'
    elif [ -n "${VHDBOOT_HOST_MBRSIG:-}" ] && [ -n "${VHDBOOT_HOST_PARTNO:-}" ]; then
        printf '%s-%02x\n' "$(echo "$VHDBOOT_HOST_MBRSIG" | tr 'A-F' 'a-f')" "$VHDBOOT_HOST_PARTNO"
    fi
}

# vb_find_partition PARTUUID: prints the partition's device node, waiting up
# to VB_WAIT seconds for it to appear. Returns 1 when it never does.
vb_find_partition() {
    vb_i=0
    while [ "$vb_i" -le "$((VB_WAIT * 4))" ]; do
        if [ -e "/dev/disk/by-partuuid/$1" ]; then
            readlink -f "/dev/disk/by-partuuid/$1"
            return 0
        fi
        vb_dev=$(blkid -o device -t "PARTUUID=$1" 2>/dev/null | head -n 1)
        [ -n "$vb_dev" ] && { echo "$vb_dev"; return 0; }
        sleep 0.25
        vb_i=$((vb_i + 1))
    done
    return 1
}

# vb_ntfs_kernel: true when the kernel has its own NTFS driver (ntfs3).
vb_ntfs_kernel() {
    grep -qw ntfs3 /proc/filesystems 2>/dev/null && return 0
    modprobe -q ntfs3 2>/dev/null && grep -qw ntfs3 /proc/filesystems 2>/dev/null
}

# vb_mount_volume DEV FS DIR rw|ro: mounts a host volume. NTFS goes through
# ntfs3 when the kernel has it, else ntfs-3g started as "@ntfs-3g" so that
# systemd's shutdown spares it. Returns 1 after a message naming the volume
# and the reason when it cannot be mounted, or not read-write when asked.
vb_mount_volume() {
    mkdir -p "$3"
    case $2 in
        fat) mount -t vfat -o "$4" "$1" "$3" 2>"$VB_STATE/mount.err" ;;
        ntfs)
            if vb_ntfs_kernel; then
                mount -t ntfs3 -o "$4" "$1" "$3" 2>"$VB_STATE/mount.err"
            else
                "@ntfs-3g" -o "$4" "$1" "$3" >"$VB_STATE/mount.err" 2>&1
            fi ;;
        *) echo "unknown file system '$2'" >"$VB_STATE/mount.err"; false ;;
    esac
    if [ $? -ne 0 ]; then
        vb_msg "host volume $1 ($2) will not mount $4: $(grep -v '^$' "$VB_STATE/mount.err" | head -n 3 | tr '\n' ' ')"
        return 1
    fi
    if [ "$4" = rw ] && ! awk -v d="$3" '$2 == d { split($4, o, ","); if (o[1] == "rw") ok = 1 } END { exit !ok }' /proc/mounts; then
        vb_msg "host volume $1 ($2) mounted read-only, not read-write: $(grep -v '^$' "$VB_STATE/mount.err" | head -n 2 | tr '\n' ' ')"
        umount "$3" 2>/dev/null
        return 1
    fi
    echo "$3" >>"$VB_STATE/mounts"
    return 0
}

# vb_resolve DIR PATH: prints DIR/PATH, matching each component without regard
# to case when the exact name is absent (Windows paths on a case-sensitive
# ntfs-3g mount). Prints nothing when a component is missing.
vb_resolve() {
    vb_cur=$1
    vb_rest=${2#/}
    while [ -n "$vb_rest" ]; do
        vb_part=${vb_rest%%/*}
        if [ "$vb_part" = "$vb_rest" ]; then vb_rest=""; else vb_rest=${vb_rest#*/}; fi
        [ -z "$vb_part" ] && continue
        if [ -e "$vb_cur/$vb_part" ]; then
            vb_cur=$vb_cur/$vb_part
            continue
        fi
        vb_hit=$(ls -a "$vb_cur" 2>/dev/null | awk -v n="$vb_part" 'tolower($0) == tolower(n) { print; exit }')
        [ -n "$vb_hit" ] || return 1
        vb_cur=$vb_cur/$vb_hit
    done
    echo "$vb_cur"
}

# vb_release_mounts: unmounts what vb_mount_volume mounted (failure path).
vb_release_mounts() {
    [ -s "$VB_STATE/mounts" ] || return 0
    sort -r "$VB_STATE/mounts" | while read -r m; do umount "$m" 2>/dev/null; done
    rm -f "$VB_STATE/mounts"
}

# vb_own_run: makes /run/initramfs a tmpfs of its own (exec allowed: the
# initramfs mounts /run noexec, and systemd runs /run/initramfs/shutdown only
# when it is executable). Returns 1 after a message when it cannot.
vb_own_run() {
    vb_run_mounted=0
    [ "$VB_MNT" = "$VB_BOOT_MNT" ] || return 0          # tests: elsewhere
    grep -q ' /run/initramfs ' /proc/mounts && return 0
    mkdir -p /run/initramfs
    mount -t tmpfs -o mode=0755,nodev,nosuid,size=64m vhdboot /run/initramfs ||
        { vb_msg "cannot mount a tmpfs on /run/initramfs"; return 1; }
    vb_run_mounted=1
    mkdir -p "$VB_STATE" "$VB_LINK"
}

# vb_drop_run: undoes vb_own_run after a failure.
vb_drop_run() {
    [ "${vb_run_mounted:-0}" = 1 ] && umount /run/initramfs 2>/dev/null
    vb_run_mounted=0
}

# vb_wait_partitions DEV: waits up to 5 s for DEV's partitions to appear and
# asks the kernel to scan the partition table once more when they do not.
vb_wait_partitions() {
    vb_i=0
    while [ "$vb_i" -lt 20 ]; do
        ls "$1"p* >/dev/null 2>&1 && return 0
        [ "$vb_i" = 10 ] && blockdev --rereadpt "$1" 2>/dev/null
        sleep 0.25
        vb_i=$((vb_i + 1))
    done
    return 0
}

# vb_attach: mounts the host volume(s), attaches the chain with vhdtool and
# waits for the virtual disk's partitions. Returns 0 when attached, 1 after
# a message (everything it did undone) so the boot goes on the normal path.
vb_attach() {
    mkdir -p "$VB_STATE" "$VB_LINK"
    vb_hostrw=rw
    vb_flag=--persistent
    case $VHDBOOT_MODE in
        volatile) vb_hostrw=ro; vb_flag=--volatile ;;
        readonly) vb_hostrw=ro; vb_flag=--read-only ;;
    esac
    vb_pu=$(vb_host_partuuid)
    [ -n "$vb_pu" ] || { vb_msg "the boot record names no host partition"; return 1; }
    vb_dev=$(vb_find_partition "$vb_pu") ||
        { vb_msg "host partition PARTUUID=$vb_pu not found after ${VB_WAIT} s"; return 1; }
    vb_own_run || return 1
    vb_mount_volume "$vb_dev" "$VHDBOOT_HOST_FS" "$VB_MNT/host" "$vb_hostrw" || { vb_drop_run; return 1; }
    set --
    vb_i=0
    while [ "$vb_i" -lt "$VHDBOOT_LAYERS" ]; do
        eval "vb_path=\${VHDBOOT_LAYER_${vb_i}_PATH:-}"
        eval "vb_lpu=\${VHDBOOT_LAYER_${vb_i}_PARTUUID:-}"
        eval "vb_lfs=\${VHDBOOT_LAYER_${vb_i}_FS:-}"
        vb_dir=$VB_MNT/host
        if [ -n "$vb_lpu" ]; then
            vb_lpu=$(echo "$vb_lpu" | tr 'A-F' 'a-f')
            vb_dir=$VB_MNT/vol-$vb_lpu
            if ! grep -qx "$vb_dir" "$VB_STATE/mounts" 2>/dev/null; then
                vb_ldev=$(vb_find_partition "$vb_lpu") ||
                    { vb_msg "layer $vb_i ($vb_path): its volume PARTUUID=$vb_lpu is not found"; vb_release_mounts; vb_drop_run; return 1; }
                # Parents are never written: their own volumes mount read-only.
                vb_mount_volume "$vb_ldev" "$vb_lfs" "$vb_dir" ro || { vb_release_mounts; vb_drop_run; return 1; }
            fi
        fi
        vb_file=$(vb_resolve "$vb_dir" "$vb_path")
        if [ -z "$vb_file" ] || [ ! -f "$vb_file" ]; then
            vb_msg "layer $vb_i is missing: $vb_path on ${vb_lpu:-the host volume PARTUUID=$vb_pu}"
            vb_release_mounts
            vb_drop_run
            return 1
        fi
        set -- "$@" "$vb_file"
        vb_i=$((vb_i + 1))
    done
    # A fixed VHD (persistent or read-only) becomes a loop device over its
    # data, partitions scanned: kernel-only, as fast as a raw image; the
    # rest is served by vhdtool through NBD.
    vb_nbd=$("$VB_TOOL" attach "$vb_flag" "$@" 2>"$VB_STATE/attach.err")
    if [ $? -ne 0 ] || [ ! -b "$vb_nbd" ]; then
        vb_msg "vhdtool attach failed for $VHDBOOT_LAYER_0_PATH: $(head -n 3 "$VB_STATE/attach.err" | tr '\n' ' ')"
        vb_release_mounts
        return 1
    fi
    echo "$vb_nbd" >>"$VB_STATE/devices"
    vb_wait_partitions "$vb_nbd"
    ln -sfn "$VB_MNT/host" "$VB_LINK/host"
    echo "$vb_nbd" >"$VB_LINK/device"
    vb_msg "attached $VHDBOOT_LAYER_0_PATH ($VHDBOOT_LAYERS layer(s), $VHDBOOT_MODE) as $vb_nbd"
    return 0
}

# vb_boot: the whole boot-time step; never fails the boot.
vb_boot() {
    [ -s "$VB_STATE/devices" ] && return 0      # already attached
    mkdir -p "$VB_STATE"
    vb_load_modules
    vb_mount_efivars
    vb_read_record
    case $? in
        0) ;;
        2) return 0 ;;
        *) vb_msg "continuing the boot without the virtual disk"; return 0 ;;
    esac
    vb_attach || vb_msg "continuing the boot without the virtual disk"
    return 0
}

# vb_wait_gone NAME SECONDS: waits until no process whose command line
# starts with NAME is left (an ntfs-3g finishing its unmount).
vb_wait_gone() {
    vb_i=0
    while [ "$vb_i" -lt "$(($2 * 4))" ]; do
        vb_left=0
        for vb_p in /proc/[0-9]*; do
            vb_cmd=$(tr '\0' ' ' <"$vb_p/cmdline" 2>/dev/null)
            case $vb_cmd in "$1"*) vb_left=1 ;; esac
        done
        [ $vb_left = 0 ] && return 0
        sleep 0.25
        vb_i=$((vb_i + 1))
    done
    return 1
}

# vb_release OLDROOT [OLDRUN]: the clean end, run as systemd's
# return-to-initramfs (/run/initramfs/shutdown, where VB_MNT's mounts are
# seen below OLDROOT, or below OLDRUN when the shutdown environment has
# moved the old /run's parent there: dracut moves /oldroot/run to
# /oldsys/run): moves the host mounts out, unmounts OLDROOT (the root on the
# virtual disk), detaches the virtual disk (flushed, closed) and unmounts the
# host volumes. Every step goes on after a failure, with a message.
vb_release() {
    vb_old=$1
    vb_from=${2:-$1}$VB_BOOT_MNT/
    mount -o rprivate / 2>/dev/null
    # Host mounts: from OLDROOT/run/initramfs/vhdboot/* to /vhdboot/* here.
    for vb_m in $(awk -v p="$vb_from" 'index($2, p) == 1 { print $2 }' /proc/mounts); do
        vb_to=$VB_MNT/${vb_m#"$vb_from"}
        mkdir -p "$vb_to"
        mount -o move "$vb_m" "$vb_to" || vb_msg "cannot move $vb_m out of the old root"
    done
    sync
    # Everything below OLDROOT, deepest first, then OLDROOT itself.
    for vb_m in $(awk -v p="$vb_old/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$vb_m" 2>/dev/null || umount -l "$vb_m" 2>/dev/null
    done
    if grep -q " $vb_old " /proc/mounts; then
        umount "$vb_old" 2>/dev/null ||
            { vb_msg "cannot unmount the root on the virtual disk; remounting it read-only"
              mount -o remount,ro "$vb_old" 2>/dev/null; sync; }
    fi
    if [ -s "$VB_STATE/devices" ]; then
        while read -r vb_d; do
            "$VB_TOOL" detach "$vb_d" || vb_msg "detaching $vb_d failed"
        done <"$VB_STATE/devices"
    fi
    sync
    for vb_m in $(awk -v p="$VB_MNT/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
        umount "$vb_m" || vb_msg "cannot unmount host volume $vb_m"
    done
    vb_wait_gone @ntfs-3g 20 || vb_msg "ntfs-3g did not finish within 20 s"
    sync
    vb_msg "virtual disk detached, host volumes unmounted"
}
