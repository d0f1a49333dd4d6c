/* vhdboot: a RAM disk published through the firmware's EFI_RAM_DISK_PROTOCOL.
 *
 * The memory is EfiReservedMemoryType pages, so the OS never reuses it, and
 * edk2's RamDiskDxe adds a range of that type to the ACPI NFIT as a virtual
 * disk: the OS sees a persistent-memory block device (Linux: nfit + nd_pmem
 * give /dev/pmem0) with the disk's bytes, with no driver of ours. Before
 * ExitBootServices the firmware's RamDisk driver produces the BlockIO the
 * inner boot manager reads. */
#ifndef VB_EFI_RAMDISK_H
#define VB_EFI_RAMDISK_H

#include <efi.h>
#include <stdbool.h>
#include <stdint.h>
#include "format/diag.h"

typedef struct efi_ramdisk efi_ramdisk;

/* Whether the firmware offers EFI_RAM_DISK_PROTOCOL. */
bool efi_ramdisk_available(void);

/* Reads the memory map: *largest gets the largest run of free
 * (EfiConventionalMemory) pages in bytes, adjacent descriptors joined;
 * *total all free memory. Returns VB_OK or VB_ERR_NO_MEMORY / VB_ERR_IO. */
vb_status efi_memory_free(uint64_t *largest, uint64_t *total);

/* Allocates size bytes (a multiple of 512) of EfiReservedMemoryType pages.
 * The memory is not cleared. Returns VB_OK, or VB_ERR_NO_MEMORY with diag
 * saying so. */
vb_status efi_ramdisk_alloc(uint64_t size, efi_ramdisk **out, vb_diag *diag);

/* The disk's memory (size bytes from efi_ramdisk_alloc). */
uint8_t *efi_ramdisk_memory(const efi_ramdisk *rd);

/* Registers the memory as a virtual disk; the firmware installs its BlockIO
 * and device path, connects its drivers and publishes the NFIT entry.
 * Returns VB_OK or VB_ERR_IO (diag names the firmware's status). */
vb_status efi_ramdisk_register(efi_ramdisk *rd, vb_diag *diag);

/* The registered disk's device path (NULL before registration). */
EFI_DEVICE_PATH *efi_ramdisk_device_path(const efi_ramdisk *rd);

/* Unregisters the disk if registered (its drivers disconnected first) and
 * frees the pages and rd. Returns false, keeping everything, when the
 * firmware refuses to unregister it. */
bool efi_ramdisk_free(efi_ramdisk *rd);

#endif
