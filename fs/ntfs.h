/* vhdboot: read-only NTFS — internal interfaces shared by the fs/ntfs_*.c files.
 *
 * The public entry points are in fs/volume.h; this header ties together the
 * boot sector, MFT records, runlists, attributes and directory indexes. */
#ifndef VB_NTFS_H
#define VB_NTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "extent.h"
#include "fs_name.h"
#include "format/diag.h"
#include "format/source.h"
#include "volume.h"

#define NTFS_MAX_RECORD_SIZE 65536u
#define NTFS_MAX_CLUSTER_SIZE (2u * 1024 * 1024)
#define NTFS_MAX_ATTR_LIST_SIZE (8u * 1024 * 1024) /* metadata we load into memory */
#define NTFS_MAX_LIST_RECORDS 65536u               /* extension records visited per attribute */
#define NTFS_MAX_INDEX_DEPTH 32u
#define NTFS_MAX_LIST_BLOCKS 16384u                /* index blocks one listing reads */
#define NTFS_UPCASE_UNITS 65536u
#define NTFS_LABEL_MAX 256

/* One run of a runlist: len clusters at vcn, stored at lcn (or a hole). */
typedef struct ntfs_run {
    uint64_t vcn;
    uint64_t lcn;
    uint64_t len;
    bool hole;
} ntfs_run;

typedef struct ntfs_runs {
    ntfs_run *v;
    size_t count;
    size_t cap;
} ntfs_runs;

/* A mounted volume. */
typedef struct ntfs_volume {
    vb_source *dev;
    uint32_t sector_size;
    uint32_t cluster_size;
    uint32_t record_size;
    uint32_t index_block_size;
    uint64_t total_clusters;
    uint64_t mft_lcn;
    ntfs_runs mft_runs;      /* where $MFT's data lives */
    uint64_t mft_valid;      /* initialized bytes of $MFT */
    uint16_t *upcase;        /* NTFS_UPCASE_UNITS entries */
    char label[NTFS_LABEL_MAX];
} ntfs_volume;

/* A parsed attribute inside a record buffer (pointers into that buffer). */
typedef struct ntfs_attr {
    uint32_t type;
    bool non_resident;
    uint16_t flags;
    const uint8_t *name;     /* little-endian UTF-16 */
    uint8_t name_len;
    const uint8_t *value;    /* resident */
    uint32_t value_len;
    uint64_t lowest_vcn;     /* non-resident */
    uint64_t highest_vcn;
    uint8_t compression_unit;
    uint64_t allocated_size;
    uint64_t data_size;
    uint64_t initialized_size;
    const uint8_t *pairs;
    size_t pairs_len;
} ntfs_attr;

/* A whole attribute gathered from all its extents (through $ATTRIBUTE_LIST). */
typedef struct ntfs_attr_data {
    bool resident;
    uint16_t flags;
    uint8_t *value;          /* resident: a copy of the value (vb_alloc) */
    uint32_t value_len;
    uint64_t allocated_size; /* non-resident */
    uint64_t data_size;
    uint64_t initialized_size;
    ntfs_runs runs;
} ntfs_attr_data;

/* A name wanted for an attribute (NULL/0 = unnamed). */
typedef struct ntfs_attr_name {
    const uint16_t *units;
    size_t len;
} ntfs_attr_name;

/* ntfs_boot.c: parses and validates the boot sector (first 512 bytes).
 * Fills geometry fields of vol. VB_ERR_FS_NOT_RECOGNISED without the NTFS
 * signature, VB_ERR_FS_CORRUPT on impossible geometry. */
vb_status ntfs_parse_boot(ntfs_volume *vol, const uint8_t *sector, vb_diag *diag);

/* ntfs_record.c: undoes the update-sequence fixup of a FILE or INDX buffer
 * (size bytes, stride 512) after checking its magic. what names it in errors. */
vb_status ntfs_apply_fixup(uint8_t *buf, uint32_t size, const char *magic, const char *what, vb_diag *diag);
/* Reads MFT record recno into buf (vol->record_size bytes) and validates it. */
vb_status ntfs_read_record(ntfs_volume *vol, uint64_t recno, uint8_t *buf, vb_diag *diag);
/* Validates a fixed-up FILE record header (bytes in use, first attribute). */
vb_status ntfs_check_record(const uint8_t *buf, uint32_t size, uint64_t recno, vb_diag *diag);
/* Iterates attributes: *cursor starts at 0; fills attr and returns VB_OK,
 * VB_ERR_NOT_FOUND at the end marker, VB_ERR_FS_CORRUPT on a bad header. */
vb_status ntfs_next_attr(const uint8_t *rec, uint32_t size, uint64_t recno, uint32_t *cursor, ntfs_attr *attr, vb_diag *diag);
/* True when the attribute has the given type and name (case-sensitive). */
bool ntfs_attr_matches(const ntfs_attr *attr, uint32_t type, ntfs_attr_name name);

/* ntfs_runlist.c: decodes the mapping pairs of a non-resident attribute and
 * appends its runs to runs. Checks signed-delta arithmetic, LCN ranges
 * against total_clusters, and that the runs end at highest_vcn + 1. */
vb_status ntfs_decode_runs(const ntfs_volume *vol, const ntfs_attr *attr, uint64_t recno, ntfs_runs *runs, vb_diag *diag);
/* Reads len bytes at byte offset off of the data described by runs (holes
 * read as zeros). VB_ERR_FS_CORRUPT when the range is not mapped. */
vb_status ntfs_read_runs(ntfs_volume *vol, const ntfs_runs *runs, uint64_t off, void *buf, size_t len, vb_diag *diag);
/* Frees a run array. */
void ntfs_runs_free(ntfs_runs *runs);

/* ntfs_attr.c: gathers attribute (type, name) of the file whose base record
 * recno is in rec, following $ATTRIBUTE_LIST when present. VB_ERR_NOT_FOUND
 * when absent. The caller frees out with ntfs_attr_data_free. */
vb_status ntfs_get_attr(ntfs_volume *vol, uint64_t recno, const uint8_t *rec, uint32_t type, ntfs_attr_name name,
                        ntfs_attr_data *out, vb_diag *diag);
/* Reads a whole attribute value (resident or not, at most max bytes) into a
 * new buffer; *len receives its size. */
vb_status ntfs_load_attr_value(ntfs_volume *vol, const ntfs_attr_data *data, uint32_t max, uint8_t **value, size_t *len,
                               vb_diag *diag);
void ntfs_attr_data_free(ntfs_attr_data *data);

/* An open $I30 index of a directory (ntfs_index.c). */
typedef struct ntfs_index {
    uint64_t dir_recno;
    const uint8_t *dir_rec;      /* the directory's base record (caller's buffer) */
    ntfs_attr_data root;         /* $INDEX_ROOT value */
    ntfs_attr_data alloc;        /* $INDEX_ALLOCATION, loaded on first block read */
    bool have_alloc;
    uint32_t block_size;         /* validated: power of two, 512 .. NTFS_MAX_RECORD_SIZE */
    const uint8_t *root_node;    /* node header inside root.value */
    size_t root_avail;           /* bytes from root_node to the end of the value */
} ntfs_index;

/* One validated index entry (pointers into the node's buffer). */
typedef struct ntfs_index_item {
    uint32_t length;             /* bytes to the next entry */
    bool last;                   /* end marker: no key */
    bool has_child;
    uint64_t child_vcn;          /* when has_child */
    uint64_t file_ref;           /* the rest: only when !last */
    const uint8_t *key;          /* $FILE_NAME value */
    const uint8_t *name;         /* little-endian UTF-16 */
    uint8_t name_len;
    uint8_t name_space;          /* 0 POSIX, 1 Win32, 2 DOS, 3 Win32+DOS */
    uint64_t data_size;          /* as recorded in the index */
    uint32_t file_attributes;
} ntfs_index_item;

/* ntfs_index.c: opens the $I30 index of directory record dir_recno (record
 * buffer dir_rec, which must outlive ix) and validates its root. Close it
 * with ntfs_index_close. */
vb_status ntfs_index_open(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, ntfs_index *ix, vb_diag *diag);
/* Reads index block vcn into block (ix->block_size bytes), applies its
 * fixup and checks that it says it is that block. */
vb_status ntfs_index_read_block(ntfs_volume *vol, ntfs_index *ix, uint64_t vcn, uint8_t *block, vb_diag *diag);
/* Points *node and *avail at the node header of a block read by ntfs_index_read_block. */
void ntfs_index_block_node(const ntfs_index *ix, const uint8_t *block, const uint8_t **node, size_t *avail);
/* Checks a node header (avail bytes to the end of its buffer); fills the
 * offset of the first entry and the bytes in use, both within avail. */
vb_status ntfs_index_node_bounds(uint64_t dir_recno, const uint8_t *node, size_t avail, uint32_t *first, uint32_t *used,
                                 vb_diag *diag);
/* Validates the entry at pos of a node with used bytes and fills item:
 * length, subnode pointer, and (except for the last entry) a key whose
 * name lies inside the entry. */
vb_status ntfs_index_entry_at(uint64_t dir_recno, const uint8_t *node, uint32_t used, uint32_t pos, ntfs_index_item *item,
                              vb_diag *diag);
/* Releases what ntfs_index_open and ntfs_index_read_block loaded. */
void ntfs_index_close(ntfs_index *ix);

/* ntfs_index.c: looks name up in the $I30 index of directory record dir_recno
 * (record buffer dir_rec) and returns the file reference found.
 * VB_ERR_NOT_FOUND if absent. O(depth x node size). */
vb_status ntfs_dir_lookup(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, const vb_fs_name *name,
                          uint64_t *file_ref, vb_diag *diag);
/* Compares two UTF-16 names through the volume's upcase table: <0, 0, >0. */
int ntfs_collate_names(const ntfs_volume *vol, const uint16_t *a, size_t alen, const uint8_t *b_le, size_t blen);

/* ntfs_volume.c: mounts vol over dev given its first 512 bytes (boot
 * sector, then $MFT, $UpCase, label); VB_ERR_FS_NOT_RECOGNISED when it is
 * no NTFS boot sector. */
vb_status ntfs_mount(ntfs_volume *vol, vb_source *dev, const uint8_t *sector, vb_diag *diag);
/* Walks a core path from the root directory ("\\" is the root itself) and
 * leaves the base record it names in rec (vol->record_size bytes), its
 * number in *recno and whether it is a directory in *is_dir. Errors name
 * the path. */
vb_status ntfs_walk(ntfs_volume *vol, const char *path, uint8_t *rec, uint64_t *recno, bool *is_dir, vb_diag *diag);
/* Finds a file by core path and returns its extent map. */
vb_status ntfs_lookup(ntfs_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag);
/* ntfs_list.c: lists the directory at path (see vb_fs_list_dir). */
vb_status ntfs_list_dir(ntfs_volume *vol, const char *path, vb_fs_list_fn fn, void *ctx, vb_diag *diag);
/* Releases what ntfs_mount allocated. */
void ntfs_unmount(ntfs_volume *vol);

#endif
