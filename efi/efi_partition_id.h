/* vhdboot: the identity Windows gives a firmware partition — GPT partition
 * and disk GUIDs, or MBR disk signature and byte offset (format/disk_id.h). */
#ifndef VB_EFI_PARTITION_ID_H
#define VB_EFI_PARTITION_ID_H

#include <efi.h>
#include "format/diag.h"
#include "format/disk_id.h"

/* Reads the identity of the partition on handle from its hard-drive
 * device-path node (GPT partition GUID, or MBR signature and start) and,
 * for GPT, the disk GUID from the GPT header of the disk below it.
 * VB_ERR_UNSUPPORTED (diag says why) when the handle is no GPT/MBR partition. */
vb_status efi_partition_identity(EFI_HANDLE handle, vb_disk_id *out, vb_diag *diag);

#endif
