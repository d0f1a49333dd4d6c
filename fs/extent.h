/* vhdboot: a host file's extent map, and a block source that reads through it.
 *
 * fs/ turns a file on a host volume (NTFS, FAT) into a list of runs
 * { file_offset, disk_offset, length } in bytes, relative to the volume's
 * block source. The runs are sorted by file_offset, gap-free from 0 and
 * together exactly cover file_size bytes. Bytes at or past valid_size (NTFS
 * "initialized size") have never been written and read as zeros. */
#ifndef VB_FS_EXTENT_H
#define VB_FS_EXTENT_H

#include <stddef.h>
#include <stdint.h>
#include "format/diag.h"
#include "format/source.h"

typedef struct vb_extent {
    uint64_t file_offset;
    uint64_t disk_offset;
    uint64_t length;
} vb_extent;

typedef struct vb_extent_map {
    vb_extent *extents;
    size_t count;
    size_t capacity;
    uint64_t file_size;  /* bytes the file holds (= sum of extent lengths) */
    uint64_t valid_size; /* bytes ever written; the rest reads as zeros */
} vb_extent_map;

/* Appends length bytes at disk_offset as the next piece of the file (its file
 * offset is the current end of the map). Merges with the previous extent when
 * physically contiguous. Returns VB_ERR_NO_MEMORY or VB_ERR_OUT_OF_RANGE on
 * overflow; file_size grows by length. */
vb_status vb_extent_map_append(vb_extent_map *map, uint64_t disk_offset, uint64_t length);
/* Cuts the map down to new_size bytes (no-op when already shorter). */
void vb_extent_map_truncate(vb_extent_map *map, uint64_t new_size);
/* Returns the index of the extent holding file offset off (map non-empty,
 * off < file_size), by binary search. */
size_t vb_extent_map_find(const vb_extent_map *map, uint64_t off);
/* Checks that no two extents share disk bytes and that all lie below
 * disk_limit. Returns VB_OK, VB_ERR_FS_CORRUPT (with diag naming what) or
 * VB_ERR_NO_MEMORY. O(n log n). */
vb_status vb_extent_map_check(const vb_extent_map *map, uint64_t disk_limit, const char *what, vb_diag *diag);
/* Frees the extent array and zeroes the map. */
void vb_extent_map_free(vb_extent_map *map);

/* Builds a block source over volume that reads and writes the file described
 * by map. Takes ownership of map's array (map is zeroed). The volume must
 * outlive the source. Reads past valid_size return zeros; writes are allowed
 * only below valid_size (VB_ERR_NO_SPACE otherwise: the file cannot grow).
 * Returns VB_ERR_NO_MEMORY or VB_ERR_INVALID_ARG (extents past the volume). */
vb_status vb_extent_source_open(vb_source *volume, vb_extent_map *map, vb_source *out);

#endif
