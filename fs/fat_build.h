/* vhdboot: a small read-only FAT16 disk built in memory from a file list —
 * the virtual disk vhdboot starts Windows' boot manager from (the role of
 * wimboot's virtual disk): an MBR with one FAT16 partition holding, e.g.,
 * \EFI\Microsoft\Boot\bootmgfw.efi, its resources and a generated BCD. */
#ifndef VB_FAT_BUILD_H
#define VB_FAT_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include "format/status.h"

#define VB_FAT_BUILD_PART_LBA 64u     /* the partition starts at 32 KiB */
#define VB_FAT_BUILD_MAX_FILES 256u

typedef struct vb_fat_file {
    const char *path;         /* "\EFI\Microsoft\Boot\BCD": folders are created */
    const uint8_t *data;      /* copied into the image */
    uint32_t size;
} vb_fat_file;

/* Builds the disk: 512-byte sectors, MBR (signature disk_signature, one
 * partition of type 0x0E at VB_FAT_BUILD_PART_LBA), FAT16 with two FATs,
 * long names (and 8.3 aliases) where a name is not plain upper-case 8.3.
 * *image comes from vb_alloc (vb_free it), *size is a multiple of 512.
 * VB_ERR_INVALID_ARG on a bad or duplicate path, VB_ERR_NO_SPACE when the
 * files exceed what FAT16 with 32 KiB clusters holds (about 2 GiB). */
vb_status vb_fat_build(const vb_fat_file *files, size_t count, const char *label,
                       uint32_t disk_signature, uint8_t **image, uint64_t *size);

#endif
