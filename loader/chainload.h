/* vhdboot: finding and starting the inner boot file on the virtual disk. */
#ifndef VB_LOADER_CHAINLOAD_H
#define VB_LOADER_CHAINLOAD_H

#include <efi.h>
#include "efi/efi_trace.h"
#include "format/diag.h"

#define VB_DEFAULT_EFI_1 "\\EFI\\BOOT\\BOOTX64.EFI"
#define VB_DEFAULT_EFI_2 "\\EFI\\Microsoft\\Boot\\bootmgfw.efi"

/* Looks for efi_path (or, when it is empty, the two defaults) on every file
 * system under disk_path (the EFI system partition first), loads it by
 * device path with LoadImage and starts it. Returns only when that failed or
 * the image returned; diag then says why, naming vhd_name or the boot file. */
vb_status vb_chainload(EFI_HANDLE parent, const EFI_DEVICE_PATH *disk_path, const char *vhd_name,
                       const char *efi_path, efi_trace *trace, vb_diag *diag);

#endif
