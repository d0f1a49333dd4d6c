/* vhdboot: VHD discovery on the host volumes, and chain details.
 *
 * Discovery walks every NTFS or FAT host volume (efi/efi_host_volumes.h: every
 * partition of every disk, read with fs/ rather than the firmware's drivers)
 * and lists each *.vhd file in the folders of cfg->discover_paths (default
 * \, \vms, \VHD, \images). Each file is opened read-only through the host
 * opener, as a boot would: its footer gives type and size, its chain (parents
 * on the same volume first, then on others) the depth. The entries are added
 * by vb_discover_add (discover_list.h). */
#ifndef VB_LOADER_DISCOVER_H
#define VB_LOADER_DISCOVER_H

#include <efi.h>
#include "config.h"

/* Adds an entry for each VHD found to cfg (after its configured entries).
 * loader_device's volume is named SELF (ids without a volume prefix).
 * Returns the number of entries added. */
unsigned vb_discover(vb_config *cfg, EFI_HANDLE loader_device);

/* Opens entry's chain read-only and prints each layer: path, type, size,
 * UUID (and the parent UUID of differencing layers), or the error. */
void vb_discover_show_chain(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry);

#endif
