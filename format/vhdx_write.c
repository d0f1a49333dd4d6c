/* vhdboot: writes to a VHDX layer.
 *
 * Crash-consistent order (no log is written; every metadata change is one
 * aligned 8-byte BAT entry or bitmap bytes inside one sector, written only
 * after what it points to is durable):
 *   1. First write of an open: both headers are rewritten with a new
 *      FileWriteGuid and DataWriteGuid (vhdx_header_write.c order), before
 *      any other byte of the file changes.
 *   2. A write into a FULLY_PRESENT block goes in place.
 *   3. A write into a PARTIALLY_PRESENT block: the data in place, flush, then
 *      the sector bitmap bits, flush. A crash between them leaves the old
 *      bits: those sectors still read from the parent.
 *   4. A write into a block the file does not hold (NOT_PRESENT, UNDEFINED,
 *      ZERO, UNMAPPED): a whole new block is appended at the 1 MiB-aligned
 *      end of the file holding the old contents (zeros, or the parent's for
 *      a not-present block of a differencing file) merged with the new data,
 *      flush; in a differencing file then the block's sector bitmap bits are
 *      set (after appending a zeroed bitmap block and pointing the BAT at it,
 *      flushed, if its chunk had none), flush; then its BAT entry is set to
 *      FULLY_PRESENT, flush. A crash before the BAT entry leaves an
 *      unreferenced block at the end of the file (and bits nobody reads for
 *      a not-present block); the disk reads as before the write.
 * A failed step fails the write; the next write starts over from the BAT. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhdx_internal.h"

/* Derives a fresh GUID from an old one and a counter (the core has no
 * randomness): CRC-32C mixing of both, then the version-4 / variant bits. */
static void derive_guid(const uint8_t old[16], uint64_t counter, uint32_t salt, uint8_t out[16])
{
    uint8_t seed[28];
    vb_memcpy(seed, old, 16);
    vb_put_le32(seed + 16, (uint32_t)counter);
    vb_put_le32(seed + 20, (uint32_t)(counter >> 32));
    vb_put_le32(seed + 24, salt);
    for (unsigned i = 0; i < 4; i++) {
        seed[27] = (uint8_t)(salt + i);
        vb_put_le32(out + 4 * i, vb_crc32c(seed, sizeof(seed), sizeof(seed)) ^ vb_le32(old + 4 * i));
    }
    out[7] = (uint8_t)((out[7] & 0x0F) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

void vb_vhdx_set_write_guids(vb_layer *layer, const uint8_t guids[32])
{
    if (!layer->vhdx)
        return;
    vb_memcpy(layer->vhdx->new_guids, guids, 32);
    layer->vhdx->have_new_guids = true;
}

/* Before the first change of the file: new FileWriteGuid and DataWriteGuid
 * in both headers. Returns the status. */
static vb_status first_write(vb_layer *layer)
{
    struct vb_vhdx *x = layer->vhdx;
    if (x->guids_updated)
        return VB_OK;
    uint8_t fw[16], dw[16];
    if (x->have_new_guids) {
        vb_memcpy(fw, x->new_guids, 16);
        vb_memcpy(dw, x->new_guids + 16, 16);
    } else {
        uint64_t seq = x->info.header_seq[0] > x->info.header_seq[1] ? x->info.header_seq[0] : x->info.header_seq[1];
        derive_guid(x->info.file_write_guid, seq, 0x46570000u, fw);
        derive_guid(x->info.data_write_guid, seq, 0x44570000u, dw);
    }
    vb_status st = vb_vhdx_write_headers(x, layer->file, fw, dw, false);
    if (st != VB_OK)
        return st;
    x->guids_updated = true;
    vb_memcpy(layer->info.uuid, dw, 16);
    return VB_OK;
}

/* Writes BAT entry i (host order) to memory and the file, then flushes. */
static vb_status set_bat(vb_layer *layer, uint64_t i, uint64_t entry)
{
    struct vb_vhdx *x = layer->vhdx;
    uint8_t raw[8];
    vb_put_le32(raw, (uint32_t)entry);
    vb_put_le32(raw + 4, (uint32_t)(entry >> 32));
    vb_status st = vb_source_write(layer->file, x->info.bat_offset + i * 8, raw, 8);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st == VB_OK)
        vb_memcpy(x->bat + i * 8, raw, 8);
    x->linear = false; /* the layout may no longer be one run */
    return st;
}

static vb_status set_bits(vb_layer *layer, uint64_t b, uint32_t first, uint32_t count);

/* Appends a zeroed 1 MiB sector bitmap block for the chunk of payload block b
 * to a differencing file that has none, flushes, then points the BAT at it. */
static vb_status allocate_bitmap(vb_layer *layer, uint64_t b)
{
    struct vb_vhdx *x = layer->vhdx;
    uint64_t at = (x->file_end > layer->file->size ? x->file_end : layer->file->size);
    at = (at + VB_VHDX_MIB - 1) / VB_VHDX_MIB * VB_VHDX_MIB;
    uint8_t *zeros = vb_alloc(VB_VHDX_KIB64);
    if (!zeros)
        return VB_ERR_NO_MEMORY;
    vb_status st = VB_OK;
    for (uint32_t done = 0; done < VB_VHDX_SECTOR_BITMAP_SIZE && st == VB_OK; done += VB_VHDX_KIB64)
        st = vb_source_write(layer->file, at + done, zeros, VB_VHDX_KIB64);
    vb_free(zeros);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        return st;
    x->file_end = at + VB_VHDX_SECTOR_BITMAP_SIZE;
    return set_bat(layer, vb_vhdx_bitmap_index(x, b), at | VB_VHDX_SB_PRESENT);
}

/* Appends a new block for payload block b holding its current contents with
 * len bytes of buf at in; flushes, then points the BAT at it. */
static vb_status allocate_block(vb_layer *layer, uint64_t b, uint32_t in, const uint8_t *buf, size_t len)
{
    struct vb_vhdx *x = layer->vhdx;
    const vb_vhdx_info *i = &x->info;
    if (!x->zero_block && !(x->zero_block = vb_alloc(i->block_size)))
        return VB_ERR_NO_MEMORY;
    uint8_t *block = x->zero_block;
    uint64_t start = b * i->block_size;
    uint64_t covered = i->virtual_size - start < i->block_size ? i->virtual_size - start : i->block_size;
    /* old contents: what reads return now (zeros or the parent's data) */
    vb_memset(block, 0, i->block_size);
    vb_status st = layer->self.read(layer, start, block, (size_t)covered);
    if (st != VB_OK)
        return st;
    vb_memcpy(block + in, buf, len);
    uint64_t at = (x->file_end + VB_VHDX_MIB - 1) / VB_VHDX_MIB * VB_VHDX_MIB;
    if (layer->file->size > at)
        at = (layer->file->size + VB_VHDX_MIB - 1) / VB_VHDX_MIB * VB_VHDX_MIB;
    st = vb_source_write(layer->file, at, block, i->block_size);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        return st;
    x->file_end = at + i->block_size;
    if (i->has_parent) {
        /* the block's bits too, so readers that consult the sector bitmap
         * whatever the payload state (libvhdi) read it from this file */
        if (VB_VHDX_BAT_STATE(vb_vhdx_bat_get(x, vb_vhdx_bitmap_index(x, b))) != VB_VHDX_SB_PRESENT &&
            (st = allocate_bitmap(layer, b)) != VB_OK)
            return st;
        if ((st = set_bits(layer, b, 0, x->sectors_per_block)) != VB_OK)
            return st;
    }
    return set_bat(layer, vb_vhdx_payload_index(x, b), at | VB_VHDX_PAYLOAD_FULLY_PRESENT);
}

/* Sets the bitmap bits of sectors [first, first+count) of block b: the
 * bytes that change are rewritten in the sector bitmap block, then flushed. */
static vb_status set_bits(vb_layer *layer, uint64_t b, uint32_t first, uint32_t count)
{
    struct vb_vhdx *x = layer->vhdx;
    uint8_t *bits;
    vb_status st = vb_vhdx_block_bitmap(layer, b, &bits);
    if (st != VB_OK)
        return st;
    for (uint32_t s = first; s < first + count; s++)
        bits[s >> 3] |= (uint8_t)(1u << (s & 7));
    uint32_t lo = first / 8, hi = (first + count - 1) / 8 + 1;
    uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_bitmap_index(x, b));
    uint64_t at = VB_VHDX_BAT_OFFSET(e) + (b % x->info.chunk_ratio) * (uint64_t)x->bitmap_bytes + lo;
    st = vb_source_write(layer->file, at, bits + lo, hi - lo);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st != VB_OK)
        vb_vhdx_bitmap_forget(layer, b);
    return st;
}

/* Writes len bytes at in of PARTIALLY_PRESENT block b (BAT entry e): whole
 * logical sectors go straight in; a partial first or last sector is merged
 * with what it reads as now (file or parent). Data, flush, then bits. */
static vb_status write_partial_block(vb_layer *layer, uint64_t b, uint64_t e, uint32_t in, const uint8_t *src,
                                     size_t len)
{
    struct vb_vhdx *x = layer->vhdx;
    const vb_vhdx_info *i = &x->info;
    uint32_t ss = i->logical_sector_size;
    uint32_t lo = in / ss * ss;
    uint32_t hi = (uint32_t)((in + len + ss - 1) / ss * ss);
    const uint8_t *data = src;
    vb_status st;
    if (lo != in || hi != in + len) {
        if (!x->zero_block && !(x->zero_block = vb_alloc(i->block_size)))
            return VB_ERR_NO_MEMORY;
        uint64_t start = b * i->block_size;
        uint64_t end = start + hi < i->virtual_size ? start + hi : i->virtual_size;
        vb_memset(x->zero_block, 0, hi - lo);
        st = layer->self.read(layer, start + lo, x->zero_block, (size_t)(end - start - lo));
        if (st != VB_OK)
            return st;
        vb_memcpy(x->zero_block + (in - lo), src, len);
        data = x->zero_block;
    }
    st = vb_source_write(layer->file, VB_VHDX_BAT_OFFSET(e) + lo, data, hi - lo);
    if (st == VB_OK)
        st = vb_source_flush(layer->file);
    if (st == VB_OK)
        st = set_bits(layer, b, lo / ss, (hi - lo) / ss);
    return st;
}

vb_status vb_vhdx_layer_write(void *ctx, uint64_t offset, const void *buf, size_t len)
{
    vb_layer *layer = ctx;
    struct vb_vhdx *x = layer->vhdx;
    const vb_vhdx_info *i = &x->info;
    if (offset > i->virtual_size || len > i->virtual_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    if (len == 0)
        return VB_OK;
    vb_status st = first_write(layer);
    const uint8_t *src = buf;
    while (st == VB_OK && len > 0) {
        uint64_t b = offset / i->block_size;
        uint32_t in = (uint32_t)(offset % i->block_size);
        size_t piece = i->block_size - in < len ? i->block_size - in : len;
        uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b));
        switch (VB_VHDX_BAT_STATE(e)) {
        case VB_VHDX_PAYLOAD_FULLY_PRESENT:
            st = vb_source_write(layer->file, VB_VHDX_BAT_OFFSET(e) + in, src, piece);
            break;
        case VB_VHDX_PAYLOAD_PARTIALLY_PRESENT:
            st = write_partial_block(layer, b, e, in, src, piece);
            break;
        default:
            st = allocate_block(layer, b, in, src, piece);
            break;
        }
        offset += piece;
        src += piece;
        len -= piece;
    }
    return st;
}
