# shellcheck shell=bash
# Host ESP image helpers (sourced by lib.sh): a raw GPT disk whose only
# partition is a FAT32 ESP holding build/vhdboot.efi as \EFI\BOOT\BOOTX64.EFI,
# its \EFI\BOOT\vhdboot.conf, and the VHD files under \vms\... .
# Paths on the ESP are written with '/' (mtools); the loader sees '\'.

# esp_create IMG [SIZE_MIB]: creates the host ESP image (sparse, default 512
# MiB) with the loader installed. Returns non-zero on failure.
esp_create() {
    local img=$1 size=${2:-512}
    [ -s "$T_BUILD/vhdboot.efi" ] || { echo "missing $T_BUILD/vhdboot.efi (make all)" >&2; return 1; }
    rm -f "$img"
    truncate -s "${size}M" "$img" &&
        sgdisk -n 1:2048:0 -t 1:ef00 -c 1:HOSTESP "$img" >/dev/null &&
        mkfs.vfat -F 32 -n HOSTESP --offset 2048 "$img" $(((size - 2) * 1024)) >/dev/null 2>&1 &&
        mmd -i "$img@@1M" ::/EFI ::/EFI/BOOT ::/vms &&
        mcopy -i "$img@@1M" "$T_BUILD/vhdboot.efi" ::/EFI/BOOT/BOOTX64.EFI
}

# esp_mkdirs IMG DIR: creates DIR (e.g. /vms/lab) and its parents on the ESP.
esp_mkdirs() {
    local img=$1 path="" part
    local IFS=/
    for part in $2; do
        [ -z "$part" ] && continue
        path="$path/$part"
        mdir -i "$img@@1M" "::$path" >/dev/null 2>&1 || mmd -i "$img@@1M" "::$path" || return 1
    done
}

# esp_put IMG SRC DEST: copies host file SRC to DEST (e.g. /vms/lab/a.vhd) on
# the ESP, creating folders and replacing an existing file.
esp_put() {
    esp_mkdirs "$1" "$(dirname "$3")" && mcopy -o -i "$1@@1M" "$2" "::$3"
}

# esp_get IMG SRC DEST: copies SRC from the ESP to host file DEST.
esp_get() { rm -f "$3"; mcopy -n -i "$1@@1M" "::$2" "$3"; }

# esp_del IMG PATH: deletes a file from the ESP.
esp_del() { mdel -i "$1@@1M" "::$2"; }

# esp_conf IMG: replaces \EFI\BOOT\vhdboot.conf with standard input.
esp_conf() { mcopy -o -i "$1@@1M" - ::/EFI/BOOT/vhdboot.conf; }

# esp_sha IMG PATH: prints the sha256 of a file on the ESP.
esp_sha() { mtype -i "$1@@1M" "::$2" | sha256sum | cut -d' ' -f1; }
