/* vhdboot: where an entry's top VHD is looked for — shared by a boot
 * (boot.c) and the menu's info screen (discover.c), so both look alike. */
#ifndef VB_LOADER_LOCATE_H
#define VB_LOADER_LOCATE_H

#include <efi.h>
#include <stdbool.h>
#include "config.h"
#include "efi/efi_host_volumes.h"
#include "format/diag.h"
#include "format/vhd.h"

typedef struct vb_vhd_place {
    efi_host_volume *home;      /* the volume searched first (NULL: none known) */
    bool anywhere;              /* a bare path: every other volume too */
    char path[VB_PATH_MAX];     /* volume-absolute, '\' separated */
    char shown[VB_PATH_MAX + VB_CONFIG_VOLUME_MAX + 2]; /* the VHD as messages name it */
} vb_vhd_place;

/* Fills place for entry: a path without a volume is on the loader's volume
 * (loader_device; relative to the folder of loader_path) first, then on
 * every other volume; LABEL:\path or PARTUUID:\path only on that volume.
 * Returns VB_OK, VB_ERR_INVALID_ARG for a bad path or VB_ERR_NOT_FOUND when
 * no volume has the label or PARTUUID (diag lists the volumes there are). */
vb_status vb_locate(EFI_HANDLE loader_device, const char *loader_path, const vb_boot_entry *entry,
                    vb_vhd_place *place, vb_diag *diag);

#endif
