/* vhdboot: the host volumes — every NTFS or FAT partition of every disk the
 * firmware exposes, read straight through BlockIO/DiskIO (see partitions.h)
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
#include "efi/volume.h"
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
    char partuuid[37];              /* GPT partition GUID, lowercase; "" on MBR or no partition table */
    uint64_t size;                  /* bytes */
    bool can_grow_files;            /* the firmware can extend files here (FAT with SimpleFileSystem) */
    vb_source part;                 /* the partition as a byte-addressed block source */
    vb_fs *fs;                      /* the mounted reader */
} efi_host_volume;

/* Finds every partition of every disk, probes each for NTFS or FAT and keeps
 * those recognised. Calling it again rescans (earlier pointers then become
 * invalid). Returns the number of volumes found. Partitions that cannot be
 * read or hold something else are skipped quietly. */
unsigned efi_host_volumes_scan(void);
/* Number of volumes of the last scan. */
unsigned efi_host_volume_count(void);
/* Volume i (0 <= i < count), or NULL. */
efi_host_volume *efi_host_volume_at(unsigned i);
/* The volume on the partition handle (e.g. the loader's DeviceHandle), or NULL. */
efi_host_volume *efi_host_volume_of_handle(EFI_HANDLE handle);
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
/* Releases every volume of the last scan. */
void efi_host_volumes_release(void);

/* ---- Chain opener over host volumes ----
 * Opens core paths on a home volume first, then on every other volume, and
 * parents on the volume of their child first. All files are read through
 * extent maps, except that a writable open on a volume whose files the
 * firmware can grow (FAT) uses the firmware's file driver when
 * grow_top_through_firmware is set (so new VHD blocks can be appended). A
 * write needing room past an extent-mapped file's end prints, once per boot,
 * "vhdboot: error: <path>: write needs a new block but <volume> cannot grow
 * the file" and fails with VB_ERR_NO_SPACE. */
#define EFI_HOST_OPENER_MAX_FILES (VB_MAX_CHAIN_DEPTH + 2u)

typedef struct efi_host_opener {
    vb_opener opener;                  /* pass &this->opener to vb_chain_open */
    efi_host_volume *home;             /* tried first for the top file */
    bool grow_top_through_firmware;
    bool search_others;                /* also try volumes other than home/child's */
    struct efi_host_open_file *open_files[EFI_HOST_OPENER_MAX_FILES]; /* still open, by age */
    unsigned long sequence;
    efi_host_volume *last_volume;      /* where the last successful open found its file */
} efi_host_opener;

/* Fills *o. home may be NULL (then every volume is tried in order). The
 * opener must outlive every source it opens. */
void efi_host_opener_init(efi_host_opener *o, efi_host_volume *home, bool grow_top_through_firmware);
/* The volume the source src (opened by o and still open) was found on, or NULL. */
efi_host_volume *efi_host_opener_volume_of(const efi_host_opener *o, const vb_source *src);

#endif
