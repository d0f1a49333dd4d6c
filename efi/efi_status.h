/* vhdboot: the one place where core statuses become firmware statuses. */
#ifndef VB_EFI_STATUS_H
#define VB_EFI_STATUS_H

#include <efi.h>
#include "format/status.h"

/* The status a BlockIO read, write or flush reports for a core I/O result:
 * EFI_SUCCESS, EFI_WRITE_PROTECTED, or EFI_DEVICE_ERROR for any other failure. */
EFI_STATUS efi_block_io_status(vb_status status);
/* Returns a short ASCII name for an EFI_STATUS, e.g. "Access Denied" (never NULL). */
const char *efi_status_text(EFI_STATUS status);

#endif
