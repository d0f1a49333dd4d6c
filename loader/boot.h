/* vhdboot: booting one entry — open the VHD chain, publish it as a disk,
 * start its boot file, and undo everything if that fails. */
#ifndef VB_LOADER_BOOT_H
#define VB_LOADER_BOOT_H

#include <efi.h>
#include "config.h"

/* Boots entry. Returns only when booting failed or the inner image returned,
 * after printing "vhdboot: error: ..." and releasing the disk and chain.
 * loader_path is the loader's own file path (relative vhd paths start from
 * its folder); loader_device is the volume it was started from. */
void vb_boot(EFI_HANDLE image, EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry);

#endif
