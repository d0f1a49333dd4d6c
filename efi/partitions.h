/* vhdboot: the partitions of every disk the firmware exposes, each as a
 * byte-addressed block source over its DiskIO (offsets are relative to the
 * partition: the firmware's partition driver adds the partition's start). */
#ifndef VB_EFI_PARTITIONS_H
#define VB_EFI_PARTITIONS_H

#include <efi.h>
#include <stdbool.h>
#include "format/source.h"

/* Lists the handles of every partition (BlockIO with LogicalPartition set,
 * GPT or MBR, found by the firmware's partition driver) and of every whole
 * disk that has no partition (a "superfloppy"), skipping media that are
 * absent and vhdboot's own virtual disks. The first call connects every
 * driver to every controller, so that disks the firmware did not need for
 * booting get their BlockIO too. *handles is pool memory
 * (FreePool it). Returns the count (0 with *handles NULL when none). */
UINTN efi_partitions_list(EFI_HANDLE **handles);

/* Opens the partition on handle as a block source (size = the partition's
 * bytes; reads and writes at any byte offset through DiskIO). Writes are
 * refused (no write function) unless writable and the medium allows them.
 * Returns VB_ERR_NOT_FOUND when the handle has no BlockIO/DiskIO,
 * VB_ERR_NO_MEMORY. */
vb_status efi_partition_source_open(EFI_HANDLE handle, bool writable, vb_source *out);

#endif
