/* vhdboot: the VHDX state behind a vb_layer, shared by the vhdx_*.c files
 * (not part of the public API). */
#ifndef VB_VHDX_INTERNAL_H
#define VB_VHDX_INTERNAL_H

#include "vhdx.h"
#include "vhdx_struct.h"
#include "vhd_layer_internal.h"

/* At most this many BAT entries are loaded (32 MiB of table): 64 TiB with
 * 32 MiB blocks, or 4 TiB with 1 MiB blocks. */
#define VB_VHDX_MAX_BAT_ENTRIES (1u << 22)
/* Per-block slices of sector bitmaps kept in memory (least recently used evicted). */
#define VB_VHDX_BITMAP_SLOTS 16u

/* One change the log makes to the file: len bytes at offset, from data
 * (4 KiB, a data sector) or zeros (data NULL). Later changes win. */
typedef struct vb_vhdx_change {
    uint64_t offset;
    uint64_t len;
    uint8_t *data;
} vb_vhdx_change;

/* The active log sequence, decoded (vhdx_log.c). */
typedef struct vb_vhdx_log {
    vb_source *base;              /* the file under the view */
    uint64_t view_size;           /* max(file size, LastFileOffset) */
    vb_vhdx_change *changes;
    unsigned count, cap;
    unsigned entries;             /* log entries in the active sequence */
    uint64_t head_seq;
    uint64_t last_file_offset;    /* largest LastFileOffset of the sequence */
} vb_vhdx_log;

typedef struct vb_vhdx_bitmap_slot {
    uint8_t *bits;                /* sectors_per_block / 8 bytes */
    uint64_t block;
    uint32_t last_use;
    bool valid;
} vb_vhdx_bitmap_slot;

struct vb_vhdx {
    vb_vhdx_info info;
    uint8_t headers[2][VB_VHDX_HEADER_SIZE];   /* raw headers as read */
    vb_source *io;                /* where structures and payload are read (file or replay view) */
    vb_source view;               /* read-only view of the file with the log applied */
    vb_vhdx_log log;
    uint8_t *bat;                 /* raw little-endian BAT, bat_entries * 8 bytes */
    uint64_t file_end;            /* size of the file (or the replayed view) */
    uint32_t sectors_per_block;
    uint32_t bitmap_bytes;        /* bytes of sector bitmap per payload block */
    /* log2 of block_size and of chunk_ratio (both powers of two: blocks of
     * 1 to 256 MiB, 512- or 4096-byte sectors), so that the per-request
     * index arithmetic is shifts and masks */
    unsigned block_shift, chunk_shift;
    vb_vhdx_bitmap_slot slots[VB_VHDX_BITMAP_SLOTS];
    uint32_t use_clock;
    bool guids_updated;           /* FileWriteGuid/DataWriteGuid renewed by this open */
    uint8_t new_guids[32];        /* file write, data write GUIDs to use on first write */
    bool have_new_guids;
    uint8_t *zero_block;          /* scratch for writes (vhdx_write.c), lazily allocated */
    /* No parent and every payload block FULLY_PRESENT, back to back in the
     * file from linear_base (a fixed VHDX, or a fully written dynamic one):
     * virtual offset o is file offset linear_base + o, read in one step.
     * Found at open; cleared when a BAT entry changes. */
    bool linear;
    uint64_t linear_base;
};

/* Known GUIDs (stored byte order). */
extern const uint8_t vb_vhdx_guid_bat[16];
extern const uint8_t vb_vhdx_guid_metadata[16];
extern const uint8_t vb_vhdx_guid_file_params[16];
extern const uint8_t vb_vhdx_guid_disk_size[16];
extern const uint8_t vb_vhdx_guid_page83[16];
extern const uint8_t vb_vhdx_guid_logical_sector[16];
extern const uint8_t vb_vhdx_guid_physical_sector[16];
extern const uint8_t vb_vhdx_guid_parent_locator[16];
extern const uint8_t vb_vhdx_guid_locator_type[16];

/* Whether [a, a+alen) and [b, b+blen) intersect. */
static inline bool vb_vhdx_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Returns BAT entry i (host order). */
static inline uint64_t vb_vhdx_bat_get(const struct vb_vhdx *x, uint64_t i)
{
    return vb_le64(x->bat + i * 8);
}
/* BAT index of payload block b and of the sector bitmap of its chunk. */
static inline uint64_t vb_vhdx_payload_index(const struct vb_vhdx *x, uint64_t b)
{
    return b + (b >> x->chunk_shift);
}
static inline uint64_t vb_vhdx_bitmap_index(const struct vb_vhdx *x, uint64_t b)
{
    return (b >> x->chunk_shift) * ((uint64_t)x->info.chunk_ratio + 1) + x->info.chunk_ratio;
}

/* vhdx_header.c: reads the file identifier, both headers (current one by
 * sequence number) and both region tables into x->info. */
vb_status vb_vhdx_read_headers(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag);
/* Validates one raw 4 KiB header (signature, CRC, fields against file_size);
 * returns VB_OK or why it is unusable (diag text without the file name). */
vb_status vb_vhdx_header_check(const uint8_t raw[VB_VHDX_HEADER_SIZE], uint64_t file_size, char *why, int cap);
/* vhdx_header.c: reads and validates the region tables through src. */
vb_status vb_vhdx_read_regions(struct vb_vhdx *x, vb_source *src, const char *name, vb_diag *diag);
/* vhdx_meta.c: reads and validates the metadata region through x->io. */
vb_status vb_vhdx_read_metadata(struct vb_vhdx *x, const char *name, vb_diag *diag);
/* vhdx_log.c: finds the active sequence of a dirty log (header's LogGuid)
 * and decodes it into x->log; checks every change lies inside the file and
 * outside the headers. */
vb_status vb_vhdx_log_load(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag);
/* Builds x->view: file with x->log applied, read-only. */
vb_status vb_vhdx_log_view(struct vb_vhdx *x, vb_source *file);
/* Writes x->log's changes to the file and flushes (on-disk replay). */
vb_status vb_vhdx_log_apply(struct vb_vhdx *x, vb_source *file, const char *name, vb_diag *diag);
void vb_vhdx_log_free(vb_vhdx_log *log);
/* vhdx_write.c: writes both headers anew from the current one with the given
 * changes (log GUID cleared or kept, new write GUIDs), sequence numbers
 * above both, non-current slot first, each flushed. */
vb_status vb_vhdx_write_headers(struct vb_vhdx *x, vb_source *file, const uint8_t *file_write_guid,
                                const uint8_t *data_write_guid, bool clear_log);
/* Builds a raw header (CRC filled). */
void vb_vhdx_header_build(uint8_t raw[VB_VHDX_HEADER_SIZE], uint64_t seq, const uint8_t fw[16], const uint8_t dw[16],
                          const uint8_t log_guid[16], uint32_t log_length, uint64_t log_offset);

/* vhdx_layer.c */
vb_status vb_vhdx_layer_open(vb_layer *layer, unsigned flags, vb_diag *diag);
void vb_vhdx_layer_free(vb_layer *layer);
bool vb_vhdx_block_allocated(vb_layer *layer, uint64_t sector);
bool vb_vhdx_sector_present(vb_layer *layer, uint64_t sector);
vb_status vb_vhdx_check(vb_layer *layer, void (*report)(void *ctx, const char *line), void *ctx);
/* Returns the bitmap slice of payload block b (a PARTIALLY_PRESENT block). */
vb_status vb_vhdx_block_bitmap(vb_layer *layer, uint64_t b, uint8_t **bits);
void vb_vhdx_bitmap_forget(vb_layer *layer, uint64_t b);
/* vhdx_check.c: finds allocated areas overlapping each other, reporting up
 * to max of them through line; returns the count or -1 without memory. */
long vb_vhdx_find_overlaps(const struct vb_vhdx *x, void (*line)(void *ctx, const char *text), void *ctx,
                           unsigned max);
/* vhdx_meta.c: the parent locator paths as generic layer locators. */
void vb_vhdx_fill_locators(vb_layer *layer);
/* vhdx_write.c: vb_source write of a VHDX layer. */
vb_status vb_vhdx_layer_write(void *ctx, uint64_t offset, const void *buf, size_t len);

#endif
