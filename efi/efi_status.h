/* vhdboot: the one place where core statuses become firmware statuses. */
#ifndef VB_EFI_STATUS_H
#define VB_EFI_STATUS_H

#include <efi.h>
#include "format/status.h"

/* Returns the EFI_STATUS that best matches a core status (VB_OK -> EFI_SUCCESS). */
EFI_STATUS efi_from_vb(vb_status status);
/* The status a BlockIO read, write or flush reports for a core I/O result:
 * EFI_SUCCESS, EFI_WRITE_PROTECTED, or EFI_DEVICE_ERROR for any other failure. */
EFI_STATUS efi_block_io_status(vb_status status);
/* Returns a short ASCII name for an EFI_STATUS, e.g. "Access Denied" (never NULL). */
const char *efi_status_text(EFI_STATUS status);

#endif
