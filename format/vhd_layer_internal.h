/* vhdboot: the VHD layer object, shared by vhd_layer.c, vhd_write.c and
 * vhd_check.c (not part of the public API). */
#ifndef VB_VHD_LAYER_INTERNAL_H
#define VB_VHD_LAYER_INTERNAL_H

#include "vhd.h"
#include "vhd_internal.h"
#include "vhd_struct.h"
#include "bytes.h"

/* Sane block sizes: Windows and QEMU use 2 MiB, old Virtual PC 512 KiB. */
#define VB_MIN_BLOCK_SIZE (4u << 10)
#define VB_MAX_BLOCK_SIZE (256u << 20)
/* At most this many BAT entries are loaded (32 MiB of BAT): with blocks of
 * 512 KiB or more that covers every legal disk size. */
#define VB_MAX_BAT_ENTRIES (1u << 23)
/* Bitmap cache: up to VB_BITMAP_SLOTS blocks' bitmaps are kept, least
 * recently used evicted, as many as fit in VB_BITMAP_CACHE_BYTES but never
 * fewer than VB_BITMAP_MIN_SLOTS (2 MiB blocks: 128 bitmaps in 64 KiB;
 * 256 MiB blocks: 16 bitmaps of 64 KiB). */
#define VB_BITMAP_SLOTS 128u
#define VB_BITMAP_MIN_SLOTS 16u
#define VB_BITMAP_CACHE_BYTES (64u << 10)

typedef struct vb_bitmap_slot {
    uint8_t *bits;            /* bitmap_size bytes, NULL until first use */
    uint32_t block;
    uint32_t last_use;
    bool valid;
    /* write-back (vhd_write_back.c): a dirty slot holds bits the file does
     * not have yet (bitmap sectors dirty_first..dirty_last) and is never
     * evicted; a fresh one belongs to a block allocated since the last
     * commit, whose first bitmap sector and BAT entry are not written */
    bool dirty;
    bool fresh;
    uint32_t dirty_first, dirty_last;
} vb_bitmap_slot;

struct vb_layer {
    vb_source self;           /* the layer as a block source (ctx = this layer) */
    vb_source *file;          /* the VHD file (not owned) */
    vb_source *parent;        /* differencing: where absent sectors come from */
    char name[VB_PATH_MAX];   /* for messages */
    bool writable;
    vb_vhd_info info;
    uint8_t footer[VB_FOOTER_SIZE];   /* raw footer as it is (re)written */
    uint8_t header[VB_HEADER_SIZE];   /* raw dynamic header */
    uint64_t data_end;        /* blocks must end at or before this offset */
    bool copy_stale;          /* footer copy at 0 differs from the footer */
    bool parent_name_bad;     /* header name could not be decoded */
    /* dynamic / differencing */
    uint32_t block_count;     /* BAT entries covering the disk */
    uint8_t *bat;             /* raw big-endian BAT, bat_bytes long */
    uint32_t bat_bytes;       /* block_count * 4 rounded up to a sector */
    uint32_t sectors_per_block;
    vb_bitmap_slot slots[VB_BITMAP_SLOTS];
    uint32_t use_clock;
    uint8_t *block_buf;       /* scratch for new blocks (vhd_write.c), lazily allocated */
    size_t block_buf_size;
    vb_locator locators[VB_MAX_LOCATORS];
    unsigned locator_count;
    vb_status locator_status; /* why decoding failed (dynamic disks only; check reports it) */
    char locator_error[VB_DIAG_TEXT_MAX];
    struct vb_vhdx *vhdx;     /* VHDX state (vhdx_*.c); NULL for a VHD */
    /* write-back (vhd_write_back.c) */
    bool write_back;          /* metadata writes wait for the next flush */
    unsigned dirty_slots;     /* bitmap slots marked dirty */
    vb_status wb_error;       /* a failed commit: every later write and flush fails with it */
};

/* Returns the BAT entry of a block (VB_BAT_UNUSED when unallocated). */
static inline uint32_t vb_bat_get(const vb_layer *layer, uint32_t block)
{
    return vb_be32(layer->bat + (size_t)block * 4);
}

/* The part of a request at disk offset (len bytes) that lies in one block of
 * a dynamic or differencing layer: the block, the byte within it, and the
 * bytes up to the block's end or the request's, whichever comes first.
 * Readers and writers walk a request block by block with it. */
typedef struct vb_block_span {
    uint32_t block;
    uint32_t in_block;
    size_t len;
} vb_block_span;

static inline vb_block_span vb_block_span_at(const vb_vhd_info *info, uint64_t offset, size_t len)
{
    vb_block_span s;
    s.block = (uint32_t)(offset / info->block_size);
    s.in_block = (uint32_t)(offset % info->block_size);
    s.len = info->block_size - s.in_block;
    if (s.len > len)
        s.len = len;
    return s;
}

/* Whether bit `sector` of a block bitmap is set (most significant bit first). */
static inline bool vb_bitmap_test(const uint8_t *bits, uint32_t sector)
{
    return (bits[sector >> 3] & (0x80u >> (sector & 7))) != 0;
}

/* Sets bit `sector` of a block bitmap (most significant bit first). */
static inline void vb_bitmap_set(uint8_t *bits, uint32_t sector)
{
    bits[sector >> 3] |= (uint8_t)(0x80u >> (sector & 7));
}

/* Parses and validates a 1024-byte dynamic header into info (block size,
 * BAT offset/entries, parent fields) against the disk size in info.
 * Returns VB_OK or the specific error with diag naming the file. */
vb_status vb_header_parse(const uint8_t header[VB_HEADER_SIZE], const char *name,
                          vb_vhd_info *info, bool *name_bad, vb_diag *diag);
/* Returns the cached bitmap of an allocated block, loading it if needed. */
vb_status vb_layer_bitmap(vb_layer *layer, uint32_t block, uint8_t **bits);
/* Puts a freshly built bitmap for a block into the cache. Returns the slot,
 * or NULL when its memory cannot be had. */
vb_bitmap_slot *vb_layer_bitmap_store(vb_layer *layer, uint32_t block, const uint8_t *bits);
/* The cached slot of a block, or NULL when it is not cached. */
vb_bitmap_slot *vb_layer_bitmap_cached(vb_layer *layer, uint32_t block);
/* How many bitmap cache slots this layer uses (by its bitmap size). */
unsigned vb_layer_bitmap_slots(const vb_layer *layer);
/* Writes bitmap sectors first..last of an allocated block from bits
 * (vhd_write.c). Returns the status. */
vb_status vb_layer_write_bitmap(vb_layer *layer, uint32_t block, const uint8_t *bits, uint32_t first, uint32_t last);
/* Drops a block's cached bitmap (after a failed bitmap write). */
void vb_layer_bitmap_forget(vb_layer *layer, uint32_t block);
/* A metadata area of a dynamic file, named for messages ("the block table"). */
typedef struct vb_area {
    uint64_t start, len;
    const char *what;
} vb_area;
#define VB_MAX_META_AREAS (3u + VB_MAX_LOCATORS)
/* Fills out with the footer copy, dynamic header, block table (as declared,
 * all max entries) and each decoded locator's reserved data space. Returns
 * the count. */
unsigned vb_layer_meta_areas(const vb_layer *layer, vb_area out[VB_MAX_META_AREAS]);

/* One overlap: block `block` at byte offset `at` overlaps either block
 * `other_block` (starting at or before it) or, when other_block is
 * UINT32_MAX, the metadata area `area` at other_at. */
typedef struct vb_overlap {
    uint32_t block;
    uint64_t at;
    uint32_t other_block;
    uint64_t other_at;
    const char *area;
} vb_overlap;
/* Called for each overlap found; returns true to look for more. */
typedef bool (*vb_overlap_fn)(void *ctx, const vb_overlap *o);
/* Finds the allocated blocks that overlap a metadata area (areas in
 * vb_layer_meta_areas order) and then those that overlap each other
 * (neighbours in file order), calling fn for each until it returns false.
 * O(n log n) in the allocated blocks (vhd_overlap.c). Returns VB_OK, or
 * VB_ERR_NO_MEMORY when the sort array cannot be had (fn not called). */
vb_status vb_layer_find_overlaps(const vb_layer *layer, vb_overlap_fn fn, void *ctx);
/* Names what an overlap's block runs into: "block 7" (in buf) or the area. */
const char *vb_overlap_other_name(const vb_overlap *o, char *buf, int cap);

/* vb_source read of a layer: any byte offset and length inside the disk. */
vb_status vb_layer_read(void *ctx, uint64_t offset, void *buf, size_t len);
/* vb_source write of a layer (vhd_write.c). */
vb_status vb_layer_write(void *ctx, uint64_t offset, const void *buf, size_t len);
/* vb_source flush of a layer: commits write-back metadata, flushes the file. */
vb_status vb_layer_flush(void *ctx);

/* Write-back (vhd_write_back.c). Makes sure one more bitmap slot may turn
 * dirty, committing first when all but one are. Returns the status. */
vb_status vb_wb_make_room(vb_layer *layer);
/* Marks bitmap sectors first..last of a cached block's slot dirty. */
void vb_wb_mark(vb_layer *layer, vb_bitmap_slot *slot, uint32_t first, uint32_t last);
/* Writes what write-back kept in memory, in crash-consistent order: flush,
 * dirty bitmap sectors (a new block's first one over the old footer), then
 * when blocks were allocated flush and their BAT sectors, and the footer
 * copy when stale. The caller flushes afterwards to make it durable.
 * Returns the status (sticky in wb_error on failure). */
vb_status vb_wb_commit(vb_layer *layer);

#endif
