/* vhdboot: write-back of a dynamic or differencing VHD's metadata.
 *
 * Without write-back every write that sets bitmap bits or allocates a block
 * flushes the file once or twice before it returns (vhd_write.c). A block
 * device served to an OS (vhdtool attach) need not: a completed write is
 * durable only after the OS's next flush request, so the bitmap sectors and
 * BAT entries can wait in memory until then and the flushes are paid once
 * per flush request instead of once or twice per block.
 *
 * With write-back on, a write puts its data in the file as before (a new
 * block: everything but its first sector, then the new footer after it, so
 * the old footer stays intact) and records the rest in the bitmap cache: a
 * dirty slot holds bits the file does not have, a fresh slot belongs to a
 * block allocated since the last commit. Reads see the cached state. A
 * commit (each flush, and whenever all but one slot are dirty) keeps the
 * order the synchronous path has: flush (data and the grown file durable),
 * bitmap sectors (a fresh block's first sector lands over the footer it
 * displaced), flush, BAT sectors of the fresh blocks, footer copy. A crash
 * before a commit completes loses only writes not yet flushed: their bits
 * or BAT entries are not on disk, so those sectors read as before, and a
 * block written but not referenced is slack the next allocation reuses. */
#include "platform.h"
#include "vhd_layer_internal.h"

vb_status vb_layer_set_write_back(vb_layer *layer, bool on)
{
    if (!on && layer->write_back) {
        vb_status st = vb_layer_flush(layer);
        layer->write_back = false;
        return st;
    }
    if (on && layer->writable && !layer->vhdx && layer->info.type != VB_DISK_FIXED)
        layer->write_back = true;
    return VB_OK;
}

vb_status vb_wb_make_room(vb_layer *layer)
{
    if (layer->wb_error != VB_OK)
        return layer->wb_error;
    if (layer->dirty_slots + 1 < vb_layer_bitmap_slots(layer))
        return VB_OK;
    return vb_wb_commit(layer);
}

void vb_wb_mark(vb_layer *layer, vb_bitmap_slot *slot, uint32_t first, uint32_t last)
{
    if (!slot->dirty) {
        slot->dirty = true;
        slot->dirty_first = first;
        slot->dirty_last = last;
        layer->dirty_slots++;
        return;
    }
    if (first < slot->dirty_first)
        slot->dirty_first = first;
    if (last > slot->dirty_last)
        slot->dirty_last = last;
}

/* Writes the dirty bitmap sectors of every dirty slot. Returns the status. */
static vb_status write_bitmaps(vb_layer *layer)
{
    unsigned count = vb_layer_bitmap_slots(layer);
    for (unsigned i = 0; i < count; i++) {
        vb_bitmap_slot *s = &layer->slots[i];
        if (!s->dirty)
            continue;
        vb_status st = vb_layer_write_bitmap(layer, s->block, s->bits, s->dirty_first, s->dirty_last);
        if (st != VB_OK)
            return st;
    }
    return VB_OK;
}

/* Finds the BAT sectors holding the entries of fresh blocks: *lo to *hi
 * (every entry in between is either on disk already or fresh, so they are
 * written as one run). Returns whether there are fresh blocks. */
static bool fresh_bat_sectors(const vb_layer *layer, uint32_t *lo, uint32_t *hi)
{
    unsigned count = vb_layer_bitmap_slots(layer);
    *lo = UINT32_MAX;
    *hi = 0;
    for (unsigned i = 0; i < count; i++) {
        const vb_bitmap_slot *s = &layer->slots[i];
        if (!s->fresh)
            continue;
        uint32_t sector = s->block / (VB_SECTOR / 4);
        *lo = sector < *lo ? sector : *lo;
        *hi = sector > *hi ? sector : *hi;
    }
    return *lo != UINT32_MAX;
}

vb_status vb_wb_commit(vb_layer *layer)
{
    if (layer->wb_error != VB_OK)
        return layer->wb_error;
    if (layer->dirty_slots == 0)
        return VB_OK;
    uint32_t lo, hi;
    bool fresh = fresh_bat_sectors(layer, &lo, &hi);
    vb_status st = vb_source_flush(layer->file);
    if (st == VB_OK)
        st = write_bitmaps(layer);
    if (st == VB_OK && fresh)
        st = vb_source_flush(layer->file);
    if (st == VB_OK && fresh)
        st = vb_source_write(layer->file, layer->info.bat_offset + (uint64_t)lo * VB_SECTOR,
                             layer->bat + (size_t)lo * VB_SECTOR, (size_t)(hi - lo + 1) * VB_SECTOR);
    if (st == VB_OK && fresh && layer->copy_stale) {
        st = vb_source_write(layer->file, 0, layer->footer, VB_FOOTER_SIZE);
        if (st == VB_OK)
            layer->copy_stale = false;
    }
    if (st != VB_OK) {
        layer->wb_error = st; /* memory and file now disagree: no later write may build on either */
        return st;
    }
    unsigned count = vb_layer_bitmap_slots(layer);
    for (unsigned i = 0; i < count; i++)
        layer->slots[i].dirty = layer->slots[i].fresh = false;
    layer->dirty_slots = 0;
    return VB_OK;
}
