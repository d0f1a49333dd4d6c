/* vhdboot: Windows in a VHD — start Microsoft's boot manager from a small
 * in-memory FAT disk with a BCD whose loader entry names the VHD file, so
 * that Windows' own VHD driver opens the file and its parents once the
 * kernel runs (the firmware's BlockIO is gone by then). */
#ifndef VB_LOADER_WINDOWS_H
#define VB_LOADER_WINDOWS_H

#include <efi.h>
#include "config.h"
#include "efi/efi_host_volumes.h"
#include "efi/efi_vdisk.h"
#include "format/diag.h"
#include "format/vhd.h"

/* Looks for Windows on the attached VHD (disk: its BlockIO device path, chain:
 * the open chain): \EFI\Microsoft\Boot\bootmgfw.efi on a volume the firmware
 * reads, or \Windows\Boot\EFI\bootmgfw.efi with \Windows\System32\winload.efi
 * on an NTFS partition (read with the project's NTFS reader). When found,
 * checks Windows' rules (the VHD file on an NTFS host volume; parents
 * resolvable by their locators, else a warning), builds the BCD and the FAT
 * disk and starts bootmgfw.efi from it. Returns VB_ERR_NOT_FOUND (diag
 * untouched) when the VHD holds no Windows boot manager or the entry names
 * another boot file; else returns only on failure, with diag set. */
vb_status vb_windows_boot(EFI_HANDLE image, const vb_boot_entry *entry, efi_vdisk *vhd_disk, vb_chain *chain,
                          efi_host_volume *host, const char *shown, vb_diag *diag);

#endif
