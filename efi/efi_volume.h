/* vhdboot: opening the root folder of a firmware file system volume. */
#ifndef VB_EFI_VOLUME_H
#define VB_EFI_VOLUME_H

#include <efi.h>
#include "format/diag.h"

/* Opens the root directory of the file system on handle. */
vb_status efi_volume_open_root(EFI_HANDLE handle, EFI_FILE_HANDLE *root, vb_diag *diag);

#endif
