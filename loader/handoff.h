/* vhdboot: the VhdbootDisk variable — the handoff record (format/handoff.h)
 * telling the OS which virtual disk it runs from, set just before the inner
 * boot file starts and deleted when the boot fails. */
#ifndef VB_LOADER_HANDOFF_H
#define VB_LOADER_HANDOFF_H

#include <efi.h>
#include "config.h"
#include "efi/host_opener.h"
#include "format/vhd.h"

#define VB_VAR_DISK L"VhdbootDisk"

/* Builds the record of chain (opened through opener; its top layer's volume
 * is host) published with size bytes in write mode, and stores it in the
 * volatile variable VhdbootDisk under the vendor GUID. Returns VB_OK, or a
 * status with diag saying why nothing was stored. */
vb_status vb_handoff_publish(vb_chain *chain, const efi_host_opener *opener, efi_host_volume *host,
                             enum vb_write_mode mode, uint64_t size, vb_diag *diag);
/* Deletes VhdbootDisk (nothing to do when absent). */
void vb_handoff_withdraw(void);

#endif
