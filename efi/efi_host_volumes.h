/* vhdboot: the host volumes — every NTFS or FAT partition of every disk the
 * firmware exposes, read straight through the disk's BlockIO (see efi_partitions.h)
 * with the portable readers of fs/.
 *
 * The list is built once by efi_host_volumes_scan() (call it before any
 * virtual disk is installed; partitions of vhdboot's own virtual disks are
 * never listed) and lives until efi_host_volumes_release(). Volumes are in
 * firmware handle order. Paths are core paths: "\dir\file.vhd", UTF-8,
 * matched case-insensitively. Files are read through their extent maps,
 * bypassing the firmware's file-system drivers. */
#ifndef VB_EFI_HOST_VOLUMES_H
#define VB_EFI_HOST_VOLUMES_H

#include <efi.h>
#include <stdbool.h>
#include "efi/efi_volume.h"
#include "format/diag.h"
#include "format/source.h"
#include "format/vhd.h"
#include "fs/extent.h"
#include "fs/volume.h"

#define EFI_HOST_LABEL_MAX 80u

typedef struct efi_host_volume {
    EFI_HANDLE handle;              /* the partition's handle (BlockIO, DiskIO, DevicePath) */
    EFI_DEVICE_PATH *device_path;   /* the firmware's path of the partition (not a copy) */
    vb_fs_type type;                /* VB_FS_NTFS, VB_FS_FAT12/16/32 */
    char label[EFI_HOST_LABEL_MAX]; /* UTF-8, "" when the volume has none */
    char partuuid[37];              /* GPT partition GUID, lowercase; on MBR "1a2b3c4d-02" (disk
                                     * signature, partition number, as Linux); "" without a table */
    uint64_t size;                  /* bytes */
    bool can_grow_files;            /* the firmware can extend files here (FAT with SimpleFileSystem) */
    vb_source part;                 /* the partition as a byte-addressed block source */
    vb_fs *fs;                      /* the mounted reader */
} efi_host_volume;

/* Finds every partition of every disk, probes each for NTFS or FAT and keeps
 * those recognised. Calling it again rescans (earlier pointers then become
 * invalid). Returns the number of volumes found. Partitions that hold
 * something else are skipped quietly; those that look like NTFS or FAT but
 * cannot be mounted are remembered for efi_host_unreadable_note(). */
unsigned efi_host_volumes_scan(void);
/* Partitions of the last scan whose boot sector says NTFS or FAT but whose
 * reader refused them (a torn $MFT record, a bad FAT, ...): their volumes
 * cannot be listed, so a file looked for on them is "not found". Writes
 * "partition 3 of disk 2 (NTFS): <reader's message>" for each (", "
 * between, cut to cap) into text. Returns how many there are (0: text ""). */
unsigned efi_host_unreadable_note(char *text, int cap);
/* Number of volumes of the last scan. */
unsigned efi_host_volume_count(void);
/* Volume i (0 <= i < count), or NULL. */
efi_host_volume *efi_host_volume_at(unsigned i);
/* The volume on the partition handle (e.g. the loader's DeviceHandle), or NULL. */
efi_host_volume *efi_host_volume_of_handle(EFI_HANDLE handle);
/* How efi_host_volume_find matches a name. */
enum efi_volume_match { EFI_VOLUME_BY_LABEL, EFI_VOLUME_BY_PARTUUID };

/* The first volume whose label (BY_LABEL, case-insensitive) or PARTUUID
 * (BY_PARTUUID) is name, or NULL. */
efi_host_volume *efi_host_volume_find(enum efi_volume_match how, const char *name);
/* A short text naming the volume for messages: "NTFS volume 'DATA'", or
 * "NTFS volume <partuuid>" when it has no label (static buffer). */
const char *efi_host_volume_name(const efi_host_volume *vol);

/* Looks path up on vol. VB_OK when it names a file (map filled when map is
 * non-NULL: free it with vb_extent_map_free), VB_ERR_NOT_FOUND, or another
 * status with diag explaining. */
vb_status efi_host_volume_lookup(efi_host_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag);
/* Opens path on vol as a block source reading the host disk through the
 * file's extent map. writable lets writes into the file's existing bytes
 * through; a write past them fails with VB_ERR_NO_SPACE (extent maps cannot
 * grow). The source must be closed before efi_host_volumes_release(). */
vb_status efi_host_volume_open_file(efi_host_volume *vol, const char *path, bool writable, vb_source *out,
                                    vb_diag *diag);
/* Mounts vol again from the disk (same pointer, same fields), so that the
 * reader forgets what it cached of the metadata: needed after the
 * firmware's file driver changed the volume (a FAT file grew). Returns the
 * probe's status; on failure vol stays listed but every lookup fails. */
vb_status efi_host_volume_refresh(efi_host_volume *vol);
/* Releases every volume of the last scan. */
void efi_host_volumes_release(void);

/* The chain opener over these volumes is in efi/efi_host_opener.h. */

#endif
