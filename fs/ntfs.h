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

#define NTFS_MAX_RECORD_SIZE 65536u
#define NTFS_MAX_CLUSTER_SIZE (2u * 1024 * 1024)
#define NTFS_MAX_ATTR_LIST_SIZE (8u * 1024 * 1024) /* metadata we load into memory */
#define NTFS_MAX_LIST_RECORDS 65536u               /* extension records visited per attribute */
#define NTFS_MAX_INDEX_DEPTH 32u
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

/* ntfs_index.c: looks name up in the $I30 index of directory record dir_recno
 * (record buffer dir_rec) and returns the file reference found.
 * VB_ERR_NOT_FOUND if absent. O(depth x node size). */
vb_status ntfs_dir_lookup(ntfs_volume *vol, uint64_t dir_recno, const uint8_t *dir_rec, const vb_fs_name *name,
                          uint64_t *file_ref, vb_diag *diag);
/* Compares two UTF-16 names through the volume's upcase table: <0, 0, >0. */
int ntfs_collate_names(const ntfs_volume *vol, const uint16_t *a, size_t alen, const uint8_t *b_le, size_t blen);

/* ntfs_volume.c: mounts vol over dev (boot sector, $MFT, $UpCase, label). */
vb_status ntfs_mount(ntfs_volume *vol, vb_source *dev, vb_diag *diag);
/* Finds a file by core path and returns its extent map. */
vb_status ntfs_lookup(ntfs_volume *vol, const char *path, vb_extent_map *map, vb_diag *diag);
/* Releases what ntfs_mount allocated. */
void ntfs_unmount(ntfs_volume *vol);

#endif
