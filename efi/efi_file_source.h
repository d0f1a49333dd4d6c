/* vhdboot: a file on a firmware file system (SimpleFileSystem) as a block
 * source, and the chain opener that maps core paths to such files. */
#ifndef VB_EFI_FILE_SOURCE_H
#define VB_EFI_FILE_SOURCE_H

#include <efi.h>
#include <stdbool.h>
#include "format/vhd.h"

/* Opens path (CHAR16, volume-absolute) under root as a block source.
 * Read-only unless writable; a writable file grows when written past its end
 * (through the firmware's FAT driver). Returns VB_ERR_NOT_FOUND when the file
 * does not exist, VB_ERR_IO on other failures. */
vb_status efi_file_source_open(EFI_FILE_HANDLE root, const CHAR16 *path, bool writable, vb_source *out);

/* An opener whose core paths ("\vms\a.vhd", UTF-8) are opened under root. */
typedef struct efi_file_opener {
    vb_opener opener;       /* pass &this->opener to vb_chain_open */
    EFI_FILE_HANDLE root;
} efi_file_opener;

/* Fills *o so that it opens files under root (root stays owned by the caller). */
void efi_file_opener_init(efi_file_opener *o, EFI_FILE_HANDLE root);

#endif
