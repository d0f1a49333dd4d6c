/* vhdboot: a block source published to the firmware as a disk
 * (EFI_BLOCK_IO_PROTOCOL + EFI_DEVICE_PATH on a new handle). */
#ifndef VB_EFI_VDISK_H
#define VB_EFI_VDISK_H

#include <efi.h>
#include <stdbool.h>
#include <stdint.h>
#include "format/diag.h"
#include "format/source.h"
#include "efi_trace.h"

/* The project's vendor GUID: the virtual disk's device path is the host
 * partition's path + HW_VENDOR_DP(VB_VDISK_GUID, VHD UUID as 16 bytes of data). */
#define VB_VDISK_GUID \
    { 0x8af2f81d, 0x2f26, 0x4a6a, { 0xa9, 0x87, 0x25, 0x76, 0xbc, 0x46, 0xe7, 0x91 } }

typedef struct efi_vdisk efi_vdisk;

/* Publishes disk (size a multiple of 512) on a new handle whose device path
 * is host_path (may be NULL) + the vendor node carrying uuid, then connects
 * drivers recursively. disk must stay open until efi_vdisk_uninstall
 * succeeds. read_only makes WriteBlocks return EFI_WRITE_PROTECTED. With a
 * trace (may be NULL), every ReadBlocks, WriteBlocks and FlushBlocks call
 * from then on is traced (request and status), the drivers' first reads
 * included; the trace must outlive the disk or efi_vdisk_stop_trace. */
vb_status efi_vdisk_install(vb_source *disk, const uint8_t uuid[16], const EFI_DEVICE_PATH *host_path,
                            bool read_only, efi_trace *trace, efi_vdisk **out, vb_diag *diag);
/* The same with a given BlockSize (512 or 4096; the disk size a multiple of
 * it): a VHDX with 4096-byte logical sectors is published as a 4Kn disk. */
vb_status efi_vdisk_install_sized(vb_source *disk, uint32_t block_size, const uint8_t uuid[16],
                                  const EFI_DEVICE_PATH *host_path, bool read_only, efi_trace *trace,
                                  efi_vdisk **out, vb_diag *diag);
/* Stops tracing the disk's requests (its trace may then be stopped). */
void efi_vdisk_stop_trace(efi_vdisk *vdisk);
EFI_HANDLE efi_vdisk_handle(const efi_vdisk *vdisk);
EFI_DEVICE_PATH *efi_vdisk_device_path(const efi_vdisk *vdisk);
/* Disconnects the drivers and removes the protocols, then frees the vdisk.
 * Returns false (and keeps the vdisk, whose disk must then stay open) when
 * the firmware refuses to let go of it. */
bool efi_vdisk_uninstall(efi_vdisk *vdisk);

#endif
