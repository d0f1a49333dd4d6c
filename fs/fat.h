/* vhdboot: read-only FAT12/16/32 — internal interfaces of the fs/fat_*.c files. */
#ifndef VB_FAT_H
#define VB_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "extent.h"
#include "fs_name.h"
#include "format/diag.h"
#include "format/source.h"
#include "volume.h"

#define FAT_CACHE_SIZE 4096u
#define FAT_MAX_DIR_BYTES (2u * 1024 * 1024) /* 65536 entries, the FAT limit */
#define FAT_LABEL_MAX 48

typedef struct fat_volume {
    vb_source *dev;
    unsigned bits;            /* 12, 16 or 32 */
    uint32_t sector_size;
    uint32_t cluster_size;
    uint32_t cluster_count;   /* data clusters, numbered 2 .. cluster_count + 1 */
    uint64_t fat_offset;      /* first FAT, bytes */
    uint64_t fat_bytes;
    uint64_t root_offset;     /* FAT12/16 fixed root directory */
    uint32_t root_entries;
    uint32_t root_cluster;    /* FAT32 */
    uint64_t data_offset;
    char label[FAT_LABEL_MAX];
    uint8_t cache[FAT_CACHE_SIZE]; /* one window of the FAT */
    uint64_t cache_offset;
    bool cache_valid;
} fat_volume;

/* A directory entry found by a lookup. */
typedef struct fat_entry {
    uint8_t attr;
    uint32_t first_cluster;
    uint32_t size;
} fat_entry;

/* fat_boot.c: parses the boot sector into vol's geometry.
 * VB_ERR_FS_NOT_RECOGNISED when it is not a FAT BPB. */
vb_status fat_parse_boot(fat_volume *vol, const uint8_t *sector, vb_diag *diag);

/* fat_chain.c: reads the FAT entry of cluster into *next. */
vb_status fat_next_cluster(fat_volume *vol, uint32_t cluster, uint32_t *next, vb_diag *diag);
/* True when value marks the end of a chain for this FAT type. */
bool fat_is_end(const fat_volume *vol, uint32_t value);
/* True when cluster is a valid data cluster number. */
bool fat_is_data_cluster(const fat_volume *vol, uint32_t cluster);
/* Byte offset on the volume of a data cluster. */
uint64_t fat_cluster_offset(const fat_volume *vol, uint32_t cluster);
/* Builds the extent map of a size-byte file starting at first (merging
 * contiguous clusters); checks range, length and loops. what names the file. */
vb_status fat_chain_map(fat_volume *vol, uint32_t first, uint32_t size, vb_extent_map *map, const char *what, vb_diag *diag);

struct fat_dirent;
/* Called by fat_walk_dir for each live short entry (volume labels
 * included) with its long name (lfn_len 0 when none). Returns true to stop
 * the walk. */
typedef bool (*fat_dir_visit)(void *ctx, const struct fat_dirent *e, const uint16_t *lfn, size_t lfn_len);
/* fat_dir.c: walks directory dir (0 = root) and calls visit for every live
 * entry; deleted entries and long-name slots are not reported. */
vb_status fat_walk_dir(fat_volume *vol, uint32_t dir, fat_dir_visit visit, void *ctx, vb_diag *diag);
/* fat_dir.c: finds name (long or 8.3, case-insensitive) in the directory
 * starting at cluster dir (0 = root). VB_ERR_NOT_FOUND when absent. */
vb_status fat_dir_find(fat_volume *vol, uint32_t dir, const vb_fs_name *name, fat_entry *out, vb_diag *diag);
/* Replaces vol->label (the boot sector's) with the root directory's volume
 * label entry when there is one. */
vb_status fat_read_label(fat_volume *vol, vb_diag *diag);
/* Copies an 11-byte space-padded label into vol->label without the padding;
 * "NO NAME" becomes empty. */
void fat_set_label(fat_volume *vol, const char *raw11);

/* fat_volume.c: mounts vol over dev given its first 512 bytes (boot sector,
 * then the label); VB_ERR_FS_NOT_RECOGNISED when it is no FAT boot sector. */
vb_status fat_mount(fat_volume *vol, vb_source *dev, const uint8_t *sector, vb_diag *diag);
/* Walks a core path from the root and fills *entry with what it names (the
 * root itself: a directory entry with first_cluster 0). Errors name the path. */
vb_status fat_resolve(fat_volume *vol, const char *path, fat_entry *entry, vb_diag *diag);
/* Finds a file by core path and returns its extent map. */
vb_status fat_lookup(fat_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag);
/* fat_list.c: lists the directory at path (see vb_fs_list_dir). */
vb_status fat_list_dir(fat_volume *vol, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag);

#endif
