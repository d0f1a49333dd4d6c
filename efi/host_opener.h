/* vhdboot: the chain opener over host volumes (see host_volumes.h).
 *
 * The top file is looked for on a home volume first (and, when
 * top_anywhere is set, then on every other volume in scan order); each
 * parent on its child's volume first, then on every other volume. Files are read through their extent maps, straight
 * from the host disk. The one exception: a writable open on a volume whose
 * files the firmware can grow (FAT, which has a SimpleFileSystem driver)
 * goes through the firmware's file driver when grow_through_firmware is
 * set, so a persistent dynamic VHD there can gain new blocks. Anywhere else a
 * write that needs room past the file's end fails with VB_ERR_NO_SPACE and
 * prints, once per boot, "vhdboot: error: <path>: write needs a new block
 * but <volume> cannot grow the file". */
#ifndef VB_EFI_HOST_OPENER_H
#define VB_EFI_HOST_OPENER_H

#include <stdbool.h>
#include "host_volumes.h"

#define EFI_HOST_OPENER_MAX_FILES (VB_MAX_CHAIN_DEPTH + 2u)

struct efi_host_open_file;

typedef struct efi_host_opener {
    vb_opener opener;            /* pass &this->opener to vb_chain_open */
    efi_host_volume *home;       /* tried first for a file with no open child */
    bool grow_through_firmware;
    bool top_anywhere;
    struct efi_host_open_file *files[EFI_HOST_OPENER_MAX_FILES]; /* still open; NULL = free slot */
    unsigned long sequence;      /* age stamp of the newest open */
    vb_diag detail;              /* why the last failed open failed, when known */
} efi_host_opener;

/* Fills *o. home may be NULL (then the top file is looked for on every
 * volume in scan order). The opener must outlive every source it opens. */
void efi_host_opener_init(efi_host_opener *o, efi_host_volume *home, bool grow_through_firmware, bool top_anywhere);
/* Describes the oldest file o still has open (after vb_chain_open: the top
 * VHD): the volume it was found on, and whether it goes through an extent
 * map (so it cannot grow). Returns false when o has no open file. */
bool efi_host_opener_oldest(const efi_host_opener *o, efi_host_volume **volume, bool *extent_mapped);
/* The volume of the file o opened index-th among those still open (0 = the
 * oldest: after vb_chain_open, layer index of the chain, top first), or
 * NULL when fewer files are open. */
efi_host_volume *efi_host_opener_volume_at(const efi_host_opener *o, unsigned index);

#endif
