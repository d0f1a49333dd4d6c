/* vhdboot: the partitions of every disk the firmware exposes, each as a
 * byte-addressed block source (offsets relative to the partition).
 *
 * A partition is read and written through its whole disk's BlockIO: the
 * partition's start (from its hard-drive device-path node, in the disk's
 * blocks) is added and requests are cut to the disk's BlockSize and IoAlign
 * by fs/disk_window.c, skipping the firmware's partition driver and its two
 * DiskIO layers. Only when that disk cannot be found (a nested or El Torito
 * partition, a partition past the disk's end, a first block that does not read
 * the same both ways) does the source go through the partition's DiskIO.
 *
 * Coherence: neither path caches. edk2's DiskIO and partition drivers keep
 * no data between calls (only a bounce buffer within one), and the firmware
 * FAT driver writes its dirty cache to the disk before each file call
 * returns, so a file grown through it reads right through the disk
 * afterwards. Writes through the disk window go below the FAT driver's read
 * cache, as DiskIO writes did: the loader never writes a FAT file's extents
 * while that file is open through the firmware (writable FAT files go
 * through the firmware's driver for both reads and writes). */
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
 * bytes; reads and writes at any byte offset, through the whole disk's
 * BlockIO when it can be found, else through DiskIO). Writes are
 * refused (no write function) unless writable and the medium allows them.
 * Returns VB_ERR_NOT_FOUND when the handle has no BlockIO/DiskIO,
 * VB_ERR_NO_MEMORY. */
vb_status efi_partition_source_open(EFI_HANDLE handle, bool writable, vb_source *out);

#endif
