/* vhdboot: the ranges of a chain's disk that hold data (see data_walk.h).
 *
 * Each layer has a cursor: the first run of its present sectors that ends
 * after the last position asked about. Positions only grow during a walk, so
 * a cursor is reused until the walk passes its run, and each layer's table
 * and bitmaps are scanned once from start to end: the walk is linear in the
 * number of blocks, whatever the layers look like. */
#include "data_walk.h"
#include "vhd_layer_internal.h"

/* One layer's cursor: [start, end) in sectors, the first present run ending
 * after the last query; start == end == the disk's sector count when none. */
struct cursor {
    vb_layer *layer;
    uint64_t start, end;
    bool valid;
};

/* Returns the first bit index in [first, end) of bits whose value is value,
 * or end when there is none. Skips whole bytes that cannot hold it. */
static uint32_t find_bit(const uint8_t *bits, uint32_t first, uint32_t end, bool value)
{
    uint8_t skip = value ? 0x00 : 0xFF;
    uint32_t i = first;
    while (i < end) {
        if ((i & 7) == 0 && end - i >= 8 && bits[i >> 3] == skip) {
            i += 8;
            continue;
        }
        if (vb_bitmap_test(bits, i) == value)
            return i;
        i++;
    }
    return end;
}

/* Sets *pos to the first sector >= *pos of a sparse layer (below limit)
 * whose presence is `present`, or limit when none. Passing present = false
 * stops at the first absent sector, which includes the end of an allocated
 * run of blocks. Returns VB_OK or a bitmap read error. */
static vb_status sparse_seek(vb_layer *layer, uint64_t *pos, uint64_t limit, bool present)
{
    uint64_t spb = layer->sectors_per_block;
    bool diff = layer->info.type == VB_DISK_DIFF;
    uint64_t s = *pos;
    while (s < limit) {
        uint32_t block = (uint32_t)(s / spb);
        uint64_t block_start = (uint64_t)block * spb;
        uint64_t block_end = block_start + spb < limit ? block_start + spb : limit;
        bool allocated = vb_bat_get(layer, block) != VB_BAT_UNUSED;
        if (!allocated || !diff) {
            if (allocated == present)
                break;
            s = block_end;
            continue;
        }
        uint8_t *bits;
        vb_status st = vb_layer_bitmap(layer, block, &bits);
        if (st != VB_OK)
            return st;
        uint32_t end_bit = (uint32_t)(block_end - block_start);
        uint32_t bit = find_bit(bits, (uint32_t)(s - block_start), end_bit, present);
        s = block_start + bit;
        if (bit < end_bit)
            break;
    }
    *pos = s < limit ? s : limit;
    return VB_OK;
}

/* Finds the first present run of the cursor's layer ending after sector
 * from, below n (the top layer's sector count); *start = *end = n when
 * there is none. Returns VB_OK or a bitmap read error. */
static vb_status cursor_next(struct cursor *c, uint64_t from, uint64_t n, uint64_t *start, uint64_t *end)
{
    if (!c->valid || (from >= c->end && c->start < n)) {
        const vb_vhd_info *info = &c->layer->info;
        uint64_t limit = (info->disk_size + VB_SECTOR - 1) / VB_SECTOR;
        if (limit > n)
            limit = n;
        uint64_t s = from, e = from;
        if (from >= limit) {
            s = e = n;
        } else if (info->type == VB_DISK_FIXED) {
            e = limit;
        } else {
            vb_status st = sparse_seek(c->layer, &s, limit, true);
            if (st != VB_OK)
                return st;
            e = s;
            if (s < limit && (st = sparse_seek(c->layer, &e, limit, false)) != VB_OK)
                return st;
            if (s >= limit)
                s = e = n;
        }
        c->start = s;
        c->end = e;
        c->valid = true;
    }
    *start = c->start > from ? c->start : from;
    *end = c->end;
    if (c->start >= n)
        *start = *end = n;
    return VB_OK;
}

vb_status vb_data_walk(vb_layer *const *layers, unsigned count, vb_data_fn fn, void *ctx)
{
    struct cursor cursors[VB_MAX_CHAIN_DEPTH];
    if (count == 0)
        return VB_OK;
    if (count > VB_MAX_CHAIN_DEPTH)
        return VB_ERR_INVALID_ARG;
    for (unsigned i = 0; i < count; i++) {
        cursors[i].layer = layers[i];
        cursors[i].valid = false;
    }
    uint64_t size = layers[0]->info.disk_size;
    uint64_t n = (size + VB_SECTOR - 1) / VB_SECTOR;
    uint64_t pos = 0;
    vb_status st;
    while (pos < n) {
        /* the earliest run of any layer from pos on ... */
        uint64_t first = n, s, e;
        for (unsigned i = 0; i < count; i++) {
            if ((st = cursor_next(&cursors[i], pos, n, &s, &e)) != VB_OK)
                return st;
            if (s < first)
                first = s;
        }
        if (first >= n)
            break;
        /* ... grown while some layer's run goes on where it ends */
        uint64_t last = first;
        bool grown = true;
        while (grown && last < n) {
            grown = false;
            for (unsigned i = 0; i < count; i++) {
                if ((st = cursor_next(&cursors[i], last, n, &s, &e)) != VB_OK)
                    return st;
                if (s == last && e > last) {
                    last = e;
                    grown = true;
                }
            }
        }
        uint64_t from = first * VB_SECTOR;
        uint64_t to = last * VB_SECTOR < size ? last * VB_SECTOR : size;
        if ((st = fn(ctx, from, to - from)) != VB_OK)
            return st;
        pos = last;
    }
    return VB_OK;
}

vb_status vb_chain_data_walk(vb_chain *chain, vb_data_fn fn, void *ctx)
{
    vb_layer *layers[VB_MAX_CHAIN_DEPTH];
    unsigned depth = vb_chain_depth(chain);
    if (depth > VB_MAX_CHAIN_DEPTH)
        return VB_ERR_INVALID_ARG;
    for (unsigned i = 0; i < depth; i++)
        layers[i] = vb_chain_layer(chain, i);
    return vb_data_walk(layers, depth, fn, ctx);
}

/* vb_data_fn adding each range's length to *(uint64_t *)ctx. */
static vb_status add_length(void *ctx, uint64_t offset, uint64_t length)
{
    (void)offset;
    *(uint64_t *)ctx += length;
    return VB_OK;
}

vb_status vb_chain_data_bytes(vb_chain *chain, uint64_t *bytes)
{
    *bytes = 0;
    return vb_chain_data_walk(chain, add_length, bytes);
}
