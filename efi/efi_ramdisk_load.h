/* vhdboot: `write ram` — the whole flattened chain copied into a RAM disk
 * that the firmware publishes to the OS (ACPI NFIT) and to the inner boot
 * manager (BlockIO) once registered (efi_ramdisk_register, ramdisk.h). */
#ifndef VB_EFI_RAMDISK_LOAD_H
#define VB_EFI_RAMDISK_LOAD_H

#include "efi_ramdisk.h"
#include "format/diag.h"
#include "format/vhd.h"

/* Memory left free beside the RAM disk for the firmware and the OS to start:
 * the largest free range must hold the disk plus this much. */
#define EFI_RAM_MARGIN (64ull << 20)

/* Checks that the disk fits in memory, allocates it, and reads the chain's
 * data ranges into it (everything else zeroed) with a progress line when
 * that takes over a second; prints the time taken. shown names the VHD in
 * messages. Returns VB_OK with *out set (not yet registered); *took_us
 * (may be NULL) gets the load's time. VB_ERR_CANCELLED when Esc was pressed
 * during the load; VB_ERR_NO_SPACE when the disk does not fit (diag names
 * both sizes); another status with diag set. Nothing is kept on failure. */
vb_status efi_ramdisk_load(vb_chain *chain, const char *shown, efi_ramdisk **out, uint64_t *took_us, vb_diag *diag);

#endif
