/* vhdboot: host volumes — recognise NTFS or FAT on a partition and turn a
 * file path into an extent map (or straight into a block source).
 *
 * Paths are core paths: "\dir\file.vhd", UTF-8, matched case-insensitively
 * (NTFS through the volume's $UpCase, FAT long names with built-in folding,
 * FAT 8.3 names in ASCII). */
#ifndef VB_FS_VOLUME_H
#define VB_FS_VOLUME_H

#include <stdbool.h>
#include <stdint.h>
#include "extent.h"
#include "format/diag.h"
#include "format/source.h"

typedef enum vb_fs_type {
    VB_FS_UNKNOWN = 0,
    VB_FS_FAT12,
    VB_FS_FAT16,
    VB_FS_FAT32,
    VB_FS_NTFS,
} vb_fs_type;

typedef struct vb_fs vb_fs;

/* Recognises the file system on vol (a partition's block source) by its boot
 * sector and mounts it. On success *out is a new handle (vb_fs_close it);
 * VB_ERR_FS_NOT_RECOGNISED when neither NTFS nor FAT, VB_ERR_FS_CORRUPT
 * with diag explaining when the metadata is damaged. vol must outlive it. */
vb_status vb_fs_probe(vb_source *vol, vb_fs **out, vb_diag *diag);
/* Returns the type of a mounted volume. */
vb_fs_type vb_fs_type_of(const vb_fs *fs);
/* Returns a short name for a type: "NTFS", "FAT32", ... */
const char *vb_fs_type_name(vb_fs_type type);
/* Returns the volume label in UTF-8 ("" when none). */
const char *vb_fs_label(const vb_fs *fs);
/* Finds a file by path and fills map (free it with vb_extent_map_free).
 * VB_ERR_NOT_FOUND, VB_ERR_FS_UNSUPPORTED (compressed, encrypted, sparse)
 * or VB_ERR_FS_CORRUPT, each with diag naming the path. */
vb_status vb_fs_lookup(vb_fs *fs, const char *path, vb_extent_map *map, vb_diag *diag);
/* Looks a file up and opens it as a block source reading the volume directly
 * (see vb_extent_source_open). The volume must outlive the source. */
vb_status vb_fs_open_file(vb_fs *fs, const char *path, vb_source *out, vb_diag *diag);
/* One directory entry reported by vb_fs_list_dir. */
typedef struct vb_fs_dirent {
    const char *name;   /* UTF-8 long name (valid during the callback only) */
    bool is_dir;
    uint64_t size;      /* bytes; 0 for a directory (NTFS: as its directory index records it) */
} vb_fs_dirent;
/* Called once per entry; returns true to stop the listing (vb_fs_list_dir then returns VB_OK). */
typedef bool (*vb_fs_list_fn)(void *ctx, const vb_fs_dirent *entry);
/* Entries one listing reports at most (the FAT limit of a directory). */
#define VB_FS_LIST_MAX_ENTRIES 65536u
/* Lists the directory at path ("\" for the root) in on-disk order (NTFS:
 * index collation order), skipping ".", "..", DOS-only 8.3 names and NTFS
 * metadata files on NTFS, and long-name fragments, deleted entries and the
 * volume label on FAT. VB_ERR_NOT_FOUND when path is absent,
 * VB_ERR_INVALID_ARG when it is a file, VB_ERR_FS_CORRUPT when the directory
 * is damaged or exceeds the caps; diag names the path. */
vb_status vb_fs_list_dir(vb_fs *fs, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag);
/* Releases a mounted volume; NULL allowed. */
void vb_fs_close(vb_fs *fs);

#endif
