/* vhdboot: the chain opener over host volumes (see host_volumes.h).
 *
 * The top file is looked for on a home volume first, each parent on its
 * child's volume first; then, when search_others is set, on every other
 * volume in scan order. Files are read through their extent maps, straight
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
    bool search_others;
    struct efi_host_open_file *files[EFI_HOST_OPENER_MAX_FILES]; /* still open; NULL = free slot */
    unsigned long sequence;      /* age stamp of the newest open */
    vb_diag detail;              /* why the last failed open failed, when known */
} efi_host_opener;

/* Fills *o. home may be NULL (then every volume is tried in scan order).
 * The opener must outlive every source it opens. */
void efi_host_opener_init(efi_host_opener *o, efi_host_volume *home, bool grow_through_firmware, bool search_others);
/* The volume the still-open source src (opened through o) was found on, or NULL. */
efi_host_volume *efi_host_opener_volume_of(const efi_host_opener *o, const vb_source *src);
/* Whether src (opened through o) reads and writes through an extent map,
 * i.e. cannot grow. */
bool efi_host_opener_is_extent_mapped(const efi_host_opener *o, const vb_source *src);

#endif
