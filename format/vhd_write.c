/* vhdboot: writes to one VHD layer, never to its parent.
 *
 * Fixed disks are written in place. In dynamic and differencing disks, a
 * write to an allocated block writes the data, then sets the bitmap bits of
 * the written sectors (one write of the bitmap sectors that changed). A write
 * to an unallocated block allocates it at the old footer position, or just
 * past it so that the block's data starts on a 4 KiB boundary: the block
 * (bitmap + data, zeros where nothing was written) is written except its
 * first sector, then the footer after it; a flush makes the longer file
 * durable; only then is the first sector written (over the old footer when
 * the block starts there), then flushed, then the one BAT sector holding
 * the entry. A crash at any point leaves a file that ends in a valid footer
 * and whose BAT only references complete blocks. The flushes matter on file
 * systems that update a file's size lazily (the UEFI FAT driver writes the
 * new size only on Flush): the old footer is never overwritten, nor the BAT
 * pointed past it, while the recorded size may still be the old one.
 *
 * With write-back on (vhd_write_back.c) the bitmap and BAT writes and the
 * flushes wait for the next flush of the layer, in the same order.
 *
 * Unaligned writes (offset or length not a multiple of 512) are supported by
 * read-modify-write of the partial first/last sector through the layer (so
 * parent data is preserved in a differencing disk). */
#include "bytes.h"
#include "platform.h"
#include "vhd_layer_internal.h"

/* New blocks' data starts at a multiple of this many bytes in the file. */
#define VB_DATA_ALIGN 4096u
/* New blocks are composed in a scratch buffer of at most this size. */
#define VB_BLOCK_BUF_MAX ((4u << 20) + (64u << 10))

vb_status vb_layer_write_bitmap(vb_layer *layer, uint32_t block, const uint8_t *bits, uint32_t first, uint32_t last)
{
    uint64_t at = (uint64_t)vb_bat_get(layer, block) * VB_SECTOR + (uint64_t)first * VB_SECTOR;
    return vb_source_write(layer->file, at, bits + (size_t)first * VB_SECTOR, (size_t)(last - first + 1) * VB_SECTOR);
}

/* Sets the bits of sectors [first, end) in a block bitmap. Returns whether
 * any of them was clear. */
static bool set_bits(uint8_t *bits, uint32_t first, uint32_t end)
{
    bool changed = false;
    for (uint32_t s = first; s < end; s++) {
        if (!vb_bitmap_test(bits, s)) {
            vb_bitmap_set(bits, s);
            changed = true;
        }
    }
    return changed;
}

/* Writes the data of an allocated block, flushes, then sets and writes the bitmap
 * bits of the written sectors. Returns the first failing status. */
static vb_status write_allocated(vb_layer *layer, uint32_t block, uint32_t in_block, const uint8_t *src, size_t len)
{
    const vb_vhd_info *info = &layer->info;
    uint64_t start = (uint64_t)vb_bat_get(layer, block) * VB_SECTOR;
    vb_status st = layer->write_back ? vb_wb_make_room(layer) : VB_OK;
    if (st == VB_OK)
        st = vb_source_write(layer->file, start + info->bitmap_size + in_block, src, len);
    if (st != VB_OK)
        return st;
    uint8_t *bits;
    st = vb_layer_bitmap(layer, block, &bits);
    if (st != VB_OK)
        return st;
    uint32_t first = in_block / VB_SECTOR, end = first + (uint32_t)(len / VB_SECTOR);
    if (!set_bits(bits, first, end))
        return VB_OK;
    uint32_t first_sector = first / 8 / VB_SECTOR, last_sector = (end - 1) / 8 / VB_SECTOR;
    if (layer->write_back) {
        /* the bits wait in the cache for the next commit (vhd_write_back.c) */
        vb_wb_mark(layer, vb_layer_bitmap_cached(layer, block), first_sector, last_sector);
        return VB_OK;
    }
    /* the data must be durable before a bit says it is there: between
     * flushes a disk or the firmware's file cache may store writes in any
     * order, and a bit set over lost data would read stale bytes instead
     * of the parent's (or zeros) */
    st = vb_source_flush(layer->file);
    if (st != VB_OK) {
        vb_layer_bitmap_forget(layer, block);
        return st;
    }
    st = vb_layer_write_bitmap(layer, block, bits, first_sector, last_sector);
    if (st != VB_OK)
        vb_layer_bitmap_forget(layer, block); /* the file still has the old bits */
    return st;
}

/* Returns the scratch buffer for composing new blocks (allocated once). */
static uint8_t *block_buffer(vb_layer *layer)
{
    if (!layer->block_buf) {
        uint64_t whole = (uint64_t)layer->info.bitmap_size + layer->info.block_size;
        size_t size = whole < VB_BLOCK_BUF_MAX ? (size_t)whole : VB_BLOCK_BUF_MAX;
        layer->block_buf = vb_alloc(size);
        if (layer->block_buf)
            layer->block_buf_size = size;
    }
    return layer->block_buf;
}

/* Writes a new block at `at` except its first sector (the caller writes
 * bits[0..512) there later): bitmap with the bits of the written sectors
 * set, data of [in_block, in_block+len) from src (zeros when src is NULL),
 * zeros elsewhere (composed piecewise in the scratch buffer); for a
 * differencing disk with write-back only the bitmap and src's data (none
 * when NULL). Returns the first failing status. */
static vb_status write_new_block(vb_layer *layer, uint64_t at, const uint8_t *bits, uint32_t in_block,
                                 const uint8_t *src, size_t len)
{
    uint64_t bitmap = layer->info.bitmap_size;
    /* write-back, differencing: the sectors not written have clear bits and
     * read the parent, so their bytes never matter; they are left out (a
     * hole where the block extends the file) */
    bool sparse = layer->write_back && layer->info.type == VB_DISK_DIFF;
    if (sparse || (in_block == 0 && len == layer->info.block_size)) {
        /* the whole block's data is given, or only the given data matters:
         * bitmap and data straight from their buffers, nothing to compose */
        vb_status st = vb_source_write(layer->file, at + VB_SECTOR, bits + VB_SECTOR, (size_t)bitmap - VB_SECTOR);
        return st != VB_OK || !src ? st : vb_source_write(layer->file, at + bitmap + in_block, src, len);
    }
    uint8_t *buf = block_buffer(layer);
    if (!buf)
        return VB_ERR_NO_MEMORY;
    uint64_t total = bitmap + layer->info.block_size;
    uint64_t data_from = bitmap + in_block, data_to = data_from + len;
    for (uint64_t pos = 0; pos < total; pos += layer->block_buf_size) {
        uint64_t piece = total - pos < layer->block_buf_size ? total - pos : layer->block_buf_size;
        vb_memset(buf, 0, (size_t)piece);
        if (pos < bitmap)
            vb_memcpy(buf, bits + pos, (size_t)((bitmap - pos < piece) ? bitmap - pos : piece));
        uint64_t lo = data_from > pos ? data_from : pos;
        uint64_t hi = data_to < pos + piece ? data_to : pos + piece;
        if (lo < hi && src)
            vb_memcpy(buf + (lo - pos), src + (lo - data_from), (size_t)(hi - lo));
        size_t skip = pos == 0 ? VB_SECTOR : 0; /* bitmap_size >= 512: the first piece has it */
        vb_status st = vb_source_write(layer->file, at + pos + skip, buf + skip, (size_t)piece - skip);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Write-back: the block is in the file but its first sector; records it
 * as fresh in the bitmap cache and in the BAT in memory, for the next
 * commit to write (vhd_write_back.c). Returns the status. */
static vb_status allocate_later(vb_layer *layer, uint32_t block, uint64_t at, uint64_t new_footer, const uint8_t *bits)
{
    vb_bitmap_slot *slot = vb_layer_bitmap_store(layer, block, bits);
    if (!slot)
        return VB_ERR_NO_MEMORY; /* nothing refers to the block: the next allocation reuses its space */
    layer->info.footer_offset = new_footer;
    layer->info.short_footer = false;
    layer->data_end = new_footer;
    vb_put_be32(layer->bat + (size_t)block * 4, (uint32_t)(at / VB_SECTOR));
    layer->info.allocated_blocks++;
    slot->fresh = true;
    vb_wb_mark(layer, slot, 0, 0);
    return VB_OK;
}

/* Allocates a block for a write of len bytes at in_block: block but its
 * first sector, footer, flush, first sector, flush, BAT sector, then (if it
 * differed) the footer copy. With src NULL (write-back only, vb_layer_place)
 * a dynamic block is all zeros, a differencing one has the range neither
 * written nor marked. Returns the status; on failure the BAT in memory and
 * on disk still lacks the block. */
static vb_status allocate_block(vb_layer *layer, uint32_t block, uint32_t in_block, const uint8_t *src, size_t len)
{
    vb_vhd_info *info = &layer->info;
    /* past the data and every metadata area: a locator's data space may lie
     * beyond the footer in files others wrote */
    uint64_t end = layer->data_end;
    vb_area areas[VB_MAX_META_AREAS];
    unsigned n = vb_layer_meta_areas(layer, areas);
    for (unsigned i = 0; i < n; i++)
        if (areas[i].start <= UINT64_MAX - areas[i].len && areas[i].start + areas[i].len > end)
            end = areas[i].start + areas[i].len;
    if (end > UINT64_MAX - info->bitmap_size - VB_DATA_ALIGN)
        return VB_ERR_NO_SPACE;
    /* the block's data starts on a 4 KiB boundary of the file (Windows does
     * the same): a page-aligned 4 KiB request of the OS then covers one
     * whole page of the host file, with no read of two partly written
     * pages first; the gap before the bitmap is slack */
    uint64_t data_at = (end + info->bitmap_size + VB_DATA_ALIGN - 1) / VB_DATA_ALIGN * VB_DATA_ALIGN;
    uint64_t at = data_at - info->bitmap_size;
    uint64_t new_footer = at + info->bitmap_size + info->block_size;
    if (at / VB_SECTOR >= VB_BAT_UNUSED || new_footer / VB_SECTOR >= VB_BAT_UNUSED)
        return VB_ERR_NO_SPACE;

    uint8_t *bits = vb_alloc(info->bitmap_size);
    if (!bits)
        return VB_ERR_NO_MEMORY;
    /* A dynamic disk's new block is zeros wherever nothing is written, which
     * is what a clear bit reads as: every bit is set, so later writes into
     * the block never touch the bitmap (and need no flush before it). In a
     * differencing disk a clear bit reads the parent: only the written
     * sectors' bits are set. */
    bool whole = info->type != VB_DISK_DIFF;
    uint32_t from = whole ? 0 : in_block / VB_SECTOR;
    uint32_t to = whole ? layer->sectors_per_block : (uint32_t)((in_block + len) / VB_SECTOR);
    for (uint32_t s = from; s < to; s++)
        if (src || whole)
            vb_bitmap_set(bits, s);

    /* the old footer stays intact until the file has durably grown */
    vb_status st = layer->write_back ? vb_wb_make_room(layer) : VB_OK;
    if (st == VB_OK)
        st = write_new_block(layer, at, bits, in_block, src, len);
    if (st == VB_OK)
        st = vb_source_write(layer->file, new_footer, layer->footer, VB_FOOTER_SIZE);
    if (st == VB_OK && !layer->write_back)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        goto out;
    if (layer->write_back) {
        st = allocate_later(layer, block, at, new_footer, bits);
        goto out;
    }
    info->footer_offset = new_footer;
    info->short_footer = false;
    layer->data_end = new_footer;
    st = vb_source_write(layer->file, at, bits, VB_SECTOR);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        goto out;

    uint32_t sector = block / (VB_SECTOR / 4);
    uint8_t *entry = layer->bat + (size_t)block * 4;
    vb_put_be32(entry, (uint32_t)(at / VB_SECTOR));
    st = vb_source_write(layer->file, info->bat_offset + (uint64_t)sector * VB_SECTOR,
                         layer->bat + (size_t)sector * VB_SECTOR, VB_SECTOR);
    if (st != VB_OK) {
        vb_put_be32(entry, VB_BAT_UNUSED);
        goto out;
    }
    info->allocated_blocks++;
    vb_layer_bitmap_store(layer, block, bits);
    if (layer->copy_stale) {
        st = vb_source_write(layer->file, 0, layer->footer, VB_FOOTER_SIZE);
        if (st == VB_OK)
            layer->copy_stale = false;
    }
out:
    vb_free(bits);
    return st;
}

/* Writes whole sectors (offset and len multiples of 512) to this layer. */
static vb_status write_sectors(vb_layer *layer, uint64_t offset, const uint8_t *src, size_t len)
{
    const vb_vhd_info *info = &layer->info;
    if (info->type == VB_DISK_FIXED)
        return vb_source_write(layer->file, offset, src, len);
    while (len > 0) {
        vb_block_span s = vb_block_span_at(info, offset, len);
        vb_status st = vb_bat_get(layer, s.block) == VB_BAT_UNUSED
                           ? allocate_block(layer, s.block, s.in_block, src, s.len)
                           : write_allocated(layer, s.block, s.in_block, src, s.len);
        if (st != VB_OK)
            return st;
        offset += s.len;
        src += s.len;
        len -= s.len;
    }
    return VB_OK;
}

/* Read-modify-writes part of one sector: n bytes of src at byte `skip` of
 * the sector at `sector_offset`. Returns the status. */
static vb_status write_partial(vb_layer *layer, uint64_t sector_offset, size_t skip, const uint8_t *src, size_t n)
{
    uint8_t sector[VB_SECTOR];
    vb_status st = vb_layer_read(layer, sector_offset, sector, VB_SECTOR);
    if (st != VB_OK)
        return st;
    vb_memcpy(sector + skip, src, n);
    return write_sectors(layer, sector_offset, sector, VB_SECTOR);
}

vb_status vb_layer_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    vb_layer *layer = ctx;
    const uint8_t *src = buf;
    if (!layer->writable)
        return VB_ERR_WRITE_PROTECTED;
    if (layer->wb_error != VB_OK)
        return layer->wb_error;
    if (offset > layer->info.disk_size || len > layer->info.disk_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    if (len == 0)
        return VB_OK;
    if (layer->info.type == VB_DISK_FIXED)
        return vb_source_write(layer->file, offset, src, len);
    vb_status st;
    size_t head = (size_t)(offset % VB_SECTOR);
    if (head) {
        size_t n = VB_SECTOR - head < len ? VB_SECTOR - head : len;
        st = write_partial(layer, offset - head, head, src, n);
        if (st != VB_OK)
            return st;
        offset += n;
        src += n;
        len -= n;
    }
    size_t whole = len / VB_SECTOR * VB_SECTOR;
    if (whole) {
        st = write_sectors(layer, offset, src, whole);
        if (st != VB_OK)
            return st;
        offset += whole;
        src += whole;
        len -= whole;
    }
    if (len)
        return write_partial(layer, offset, 0, src, len);
    return VB_OK;
}

vb_status vb_layer_place(vb_layer *layer, uint64_t offset, uint64_t len, uint64_t *file_offset)
{
    const vb_vhd_info *info = &layer->info;
    if (!layer->write_back)
        return VB_ERR_UNSUPPORTED;
    if (layer->wb_error != VB_OK)
        return layer->wb_error;
    if (offset > info->disk_size || len > info->disk_size - offset || len == 0 || offset % VB_SECTOR ||
        len % VB_SECTOR)
        return VB_ERR_OUT_OF_RANGE;
    vb_block_span span = vb_block_span_at(info, offset, (size_t)len);
    if (span.len != len)
        return VB_ERR_OUT_OF_RANGE; /* more than one block */
    if (vb_bat_get(layer, span.block) == VB_BAT_UNUSED) {
        vb_status st = allocate_block(layer, span.block, span.in_block, NULL, span.len);
        if (st != VB_OK)
            return st;
    }
    *file_offset = (uint64_t)vb_bat_get(layer, span.block) * VB_SECTOR + info->bitmap_size + span.in_block;
    return VB_OK;
}

vb_status vb_layer_mark(vb_layer *layer, uint64_t offset, uint64_t len)
{
    const vb_vhd_info *info = &layer->info;
    if (!layer->write_back)
        return VB_ERR_UNSUPPORTED;
    if (offset > info->disk_size || len > info->disk_size - offset || offset % VB_SECTOR || len % VB_SECTOR)
        return VB_ERR_OUT_OF_RANGE;
    while (len > 0) {
        vb_block_span s = vb_block_span_at(info, offset, (size_t)(len < SIZE_MAX ? len : SIZE_MAX));
        if (vb_bat_get(layer, s.block) == VB_BAT_UNUSED)
            return VB_ERR_OUT_OF_RANGE;
        uint8_t *bits;
        vb_status st = vb_wb_make_room(layer);
        if (st == VB_OK)
            st = vb_layer_bitmap(layer, s.block, &bits);
        if (st != VB_OK)
            return st;
        uint32_t first = s.in_block / VB_SECTOR, end = first + (uint32_t)(s.len / VB_SECTOR);
        if (set_bits(bits, first, end))
            vb_wb_mark(layer, vb_layer_bitmap_cached(layer, s.block), first / 8 / VB_SECTOR, (end - 1) / 8 / VB_SECTOR);
        offset += s.len;
        len -= s.len;
    }
    return VB_OK;
}
