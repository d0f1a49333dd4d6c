/* vhdboot: finding the host volume that holds a VHD, and opening its root. */
#ifndef VB_EFI_VOLUME_H
#define VB_EFI_VOLUME_H

#include <efi.h>
#include "format/diag.h"

enum efi_volume_match { EFI_VOLUME_BY_LABEL, EFI_VOLUME_BY_PARTUUID };

/* Finds the SimpleFileSystem handle whose volume label (how = BY_LABEL) or
 * GPT partition GUID (BY_PARTUUID) equals name, ignoring case. Returns
 * VB_ERR_NOT_FOUND (diag: "no volume with label 'X'") when there is none. */
vb_status efi_volume_find(enum efi_volume_match how, const char *name, EFI_HANDLE *out, vb_diag *diag);
/* Opens the root directory of the file system on handle. */
vb_status efi_volume_open_root(EFI_HANDLE handle, EFI_FILE_HANDLE *root, vb_diag *diag);

#endif
