/* vhdboot: one VHDX file as a layer — open, BAT validation, coalesced reads.
 *
 * Open order: file identifier and headers (from the file), the log (a dirty
 * log is replayed in memory for read-only opens, on disk before anything else
 * for writable ones), then region tables, metadata and BAT through the
 * replayed view. Every BAT entry covering the disk is checked at open.
 *
 * Payload block states as read (MS-VHDX 2.5.1.1): FULLY_PRESENT from the
 * file; PARTIALLY_PRESENT (differencing only) per logical sector, from the
 * file where the sector bitmap bit is set, else from the parent; ZERO and
 * UNMAPPED read as zeros; NOT_PRESENT and UNDEFINED read from the parent in
 * a differencing file and as zeros otherwise.
 *
 * Reads are grouped into runs of one kind (zeros, this file, the parent) and
 * each run is one underlying read; file runs continue across blocks that lie
 * back to back in the file. A file without a parent whose blocks are all
 * FULLY_PRESENT and back to back (a fixed VHDX, a fully written dynamic one)
 * is found at open and read like a fixed VHD: one offset added, no table
 * lookup per request. */
#include "bytes.h"
#include "diag.h"
#include "platform.h"
#include "vhdx_internal.h"

const vb_vhdx_info *vb_layer_vhdx(const vb_layer *layer)
{
    return layer && layer->vhdx ? &layer->vhdx->info : NULL;
}

/* Whether bit s of a VHDX sector bitmap is set (least significant bit first). */
static inline bool bit_test(const uint8_t *bits, uint32_t s)
{
    return (bits[s >> 3] >> (s & 7)) & 1u;
}

/* Names a payload state for messages. */
static const char *state_name(unsigned s)
{
    static const char *const names[8] = { "NOT_PRESENT", "UNDEFINED", "ZERO", "UNMAPPED",
                                          "reserved 4",  "reserved 5", "FULLY_PRESENT", "PARTIALLY_PRESENT" };
    return names[s & 7];
}

/* Checks that an allocated area (block or bitmap) of len bytes at off lies
 * inside the file, past the header section and clear of the log, BAT and
 * metadata regions. */
static vb_status check_area(const struct vb_vhdx *x, const char *name, const char *what, uint64_t index,
                            uint64_t off, uint64_t len, vb_diag *diag)
{
    const vb_vhdx_info *i = &x->info;
    if (off < VB_VHDX_MIB || off > x->file_end || len > x->file_end - off)
        return vb_fail(diag, VB_ERR_BAD_BAT_ENTRY, "%s: %s %llu at offset %llu (%llu bytes) is not inside the file (%llu bytes)",
                       name, what, (unsigned long long)index, (unsigned long long)off, (unsigned long long)len,
                       (unsigned long long)x->file_end);
    const char *other = vb_vhdx_overlap(off, len, i->bat_offset, i->bat_length)      ? "the BAT region"
                      : vb_vhdx_overlap(off, len, i->meta_offset, i->meta_length)    ? "the metadata region"
                      : i->log_length && vb_vhdx_overlap(off, len, i->log_offset, i->log_length) ? "the log"
                                                                                      : NULL;
    if (other)
        return vb_fail(diag, VB_ERR_BAD_BAT_ENTRY, "%s: %s %llu at offset %llu overlaps %s", name, what,
                       (unsigned long long)index, (unsigned long long)off, other);
    return VB_OK;
}

/* Validates every payload entry covering the disk and, in a differencing
 * file, every sector bitmap entry; counts the states. */
static vb_status validate_bat(struct vb_vhdx *x, const char *name, vb_diag *diag)
{
    vb_vhdx_info *i = &x->info;
    vb_status st;
    if (i->has_parent)
        for (uint64_t c = 0; c < i->bitmap_blocks; c++) {
            uint64_t e = vb_vhdx_bat_get(x, c * ((uint64_t)i->chunk_ratio + 1) + i->chunk_ratio);
            unsigned s = VB_VHDX_BAT_STATE(e);
            if (s != VB_VHDX_SB_NOT_PRESENT && s != VB_VHDX_SB_PRESENT)
                return vb_fail(diag, VB_ERR_VHDX_BAT_STATE, "%s: sector bitmap %llu has state %u (0 or 6 allowed)",
                               name, (unsigned long long)c, s);
            if (s == VB_VHDX_SB_PRESENT) {
                st = check_area(x, name, "sector bitmap", c, VB_VHDX_BAT_OFFSET(e), VB_VHDX_SECTOR_BITMAP_SIZE, diag);
                if (st != VB_OK)
                    return st;
                i->bitmaps_present++;
            }
        }
    for (uint64_t b = 0; b < i->data_blocks; b++) {
        uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b));
        unsigned s = VB_VHDX_BAT_STATE(e);
        if (s == 4 || s == 5 || (s == VB_VHDX_PAYLOAD_PARTIALLY_PRESENT && !i->has_parent))
            return vb_fail(diag, VB_ERR_VHDX_BAT_STATE, "%s: block %llu has state %s%s", name, (unsigned long long)b,
                           state_name(s), s > 5 ? " in a file without a parent" : "");
        i->payload_states[s]++;
        if (s != VB_VHDX_PAYLOAD_FULLY_PRESENT && s != VB_VHDX_PAYLOAD_PARTIALLY_PRESENT)
            continue;
        uint64_t covered = i->virtual_size - b * i->block_size;
        st = check_area(x, name, "block", b, VB_VHDX_BAT_OFFSET(e), covered < i->block_size ? covered : i->block_size,
                        diag);
        if (st != VB_OK)
            return st;
        if (s == VB_VHDX_PAYLOAD_PARTIALLY_PRESENT &&
            VB_VHDX_BAT_STATE(vb_vhdx_bat_get(x, vb_vhdx_bitmap_index(x, b))) != VB_VHDX_SB_PRESENT)
            return vb_fail(diag, VB_ERR_VHDX_BITMAP_MISSING,
                           "%s: block %llu is partially present but the sector bitmap of its chunk is not", name,
                           (unsigned long long)b);
    }
    return VB_OK;
}

/* Fills the generic layer info from the VHDX facts. */
static void fill_layer_info(vb_layer *layer)
{
    const vb_vhdx_info *x = &layer->vhdx->info;
    vb_vhd_info *info = &layer->info;
    info->format = VB_FORMAT_VHDX;
    info->type = x->has_parent ? VB_DISK_DIFF : x->leave_block_allocated ? VB_DISK_FIXED : VB_DISK_DYNAMIC;
    info->disk_size = info->current_size = info->original_size = x->virtual_size;
    info->sector_size = x->logical_sector_size;
    info->physical_sector_size = x->physical_sector_size;
    vb_memcpy(info->creator_app, "vhdx", 5);
    vb_memcpy(info->uuid, x->data_write_guid, 16);
    if (x->has_parent)
        vb_memcpy(info->parent_uuid, x->parent.linkage, 16);
    info->block_size = x->block_size;
    info->bat_offset = x->bat_offset;
    info->bat_entries = (uint32_t)x->bat_entries;
    info->allocated_blocks =
        (uint32_t)(x->payload_states[VB_VHDX_PAYLOAD_FULLY_PRESENT] + x->payload_states[VB_VHDX_PAYLOAD_PARTIALLY_PRESENT]);
    info->footer_offset = layer->file->size;
}

/* ---- reads ---- */

enum run_kind { RUN_NONE, RUN_ZERO, RUN_FILE, RUN_PARENT };

typedef struct read_run {
    enum run_kind kind;
    uint64_t from;
    uint8_t *dst;
    size_t len;
} read_run;

/* Performs a pending run with one underlying read. Returns the read status. */
static vb_status run_flush(vb_layer *layer, read_run *run)
{
    vb_status st = VB_OK;
    switch (run->kind) {
    case RUN_ZERO:
        vb_memset(run->dst, 0, run->len);
        break;
    case RUN_FILE:
        st = vb_source_read(layer->vhdx->io, run->from, run->dst, run->len);
        break;
    case RUN_PARENT:
        st = layer->parent ? vb_source_read(layer->parent, run->from, run->dst, run->len) : VB_ERR_PARENT_NOT_FOUND;
        break;
    case RUN_NONE:
        break;
    }
    run->kind = RUN_NONE;
    return st;
}

/* Extends the pending run when the piece continues it, else performs it and
 * starts a new one. Returns the status. */
static vb_status run_add(vb_layer *layer, read_run *run, enum run_kind kind, uint64_t from, uint8_t *dst, size_t len)
{
    if (run->kind == kind && (kind == RUN_ZERO || run->from + run->len == from)) {
        run->len += len;
        return VB_OK;
    }
    vb_status st = run_flush(layer, run);
    run->kind = kind;
    run->from = from;
    run->dst = dst;
    run->len = len;
    return st;
}

/* First sector in [first, end) whose bit differs from value (end if none). */
static uint32_t bit_run_end(const uint8_t *bits, uint32_t first, uint32_t end, bool value)
{
    uint32_t s = first;
    uint8_t same = value ? 0xFF : 0x00;
    while (s < end) {
        if ((s & 7) == 0 && end - s >= 8 && bits[s >> 3] == same) {
            s += 8;
            continue;
        }
        if (bit_test(bits, s) != value)
            break;
        s++;
    }
    return s;
}

vb_status vb_vhdx_block_bitmap(vb_layer *layer, uint64_t b, uint8_t **bits)
{
    struct vb_vhdx *x = layer->vhdx;
    vb_vhdx_bitmap_slot *victim = &x->slots[0];
    x->use_clock++;
    for (unsigned i = 0; i < VB_VHDX_BITMAP_SLOTS; i++) {
        vb_vhdx_bitmap_slot *s = &x->slots[i];
        if (s->valid && s->block == b) {
            s->last_use = x->use_clock;
            *bits = s->bits;
            return VB_OK;
        }
        if (victim->valid && (!s->valid || s->last_use < victim->last_use))
            victim = s;
    }
    if (!victim->bits && !(victim->bits = vb_alloc(x->bitmap_bytes)))
        return VB_ERR_NO_MEMORY;
    victim->valid = false;
    uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_bitmap_index(x, b));
    uint64_t at = VB_VHDX_BAT_OFFSET(e) + (b % x->info.chunk_ratio) * (uint64_t)x->bitmap_bytes;
    vb_status st = vb_source_read(x->io, at, victim->bits, x->bitmap_bytes);
    if (st != VB_OK)
        return st;
    victim->valid = true;
    victim->block = b;
    victim->last_use = x->use_clock;
    *bits = victim->bits;
    return VB_OK;
}

void vb_vhdx_bitmap_forget(vb_layer *layer, uint64_t b)
{
    for (unsigned i = 0; i < VB_VHDX_BITMAP_SLOTS; i++)
        if (layer->vhdx->slots[i].valid && layer->vhdx->slots[i].block == b)
            layer->vhdx->slots[i].valid = false;
}

/* vb_source read of a VHDX layer. */
static vb_status vhdx_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    vb_layer *layer = ctx;
    struct vb_vhdx *x = layer->vhdx;
    const vb_vhdx_info *i = &x->info;
    if (offset > i->virtual_size || len > i->virtual_size - offset)
        return VB_ERR_OUT_OF_RANGE;
    if (x->linear)
        return len ? vb_source_read(x->io, x->linear_base + offset, buf, len) : VB_OK;
    uint8_t *dst = buf;
    read_run run = { RUN_NONE, 0, NULL, 0 };
    vb_status st = VB_OK;
    while (len > 0) {
        uint64_t b = offset >> x->block_shift;
        uint32_t in = (uint32_t)(offset & (i->block_size - 1));
        size_t piece = i->block_size - in;
        if (piece > len)
            piece = len;
        uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b));
        enum run_kind kind;
        uint64_t from = offset;
        switch (VB_VHDX_BAT_STATE(e)) {
        case VB_VHDX_PAYLOAD_FULLY_PRESENT:
            kind = RUN_FILE;
            from = VB_VHDX_BAT_OFFSET(e) + in;
            break;
        case VB_VHDX_PAYLOAD_PARTIALLY_PRESENT: {
            uint8_t *bits;
            st = vb_vhdx_block_bitmap(layer, b, &bits);
            if (st != VB_OK)
                goto done;
            uint32_t ss = i->logical_sector_size;
            uint32_t first = in / ss, last = (uint32_t)((in + piece - 1) / ss);
            bool present = bit_test(bits, first);
            uint32_t end = bit_run_end(bits, first + 1, last + 1, present);
            size_t span = (size_t)end * ss - in;
            if (span < piece)
                piece = span;
            kind = present ? RUN_FILE : RUN_PARENT;
            if (present)
                from = VB_VHDX_BAT_OFFSET(e) + in;
            break;
        }
        case VB_VHDX_PAYLOAD_NOT_PRESENT:
        case VB_VHDX_PAYLOAD_UNDEFINED:
            kind = i->has_parent ? RUN_PARENT : RUN_ZERO;
            break;
        default: /* ZERO, UNMAPPED */
            kind = RUN_ZERO;
            break;
        }
        st = run_add(layer, &run, kind, from, dst, piece);
        if (st != VB_OK)
            goto done;
        offset += piece;
        dst += piece;
        len -= piece;
    }
done:;
    vb_status flushed = run_flush(layer, &run);
    return st != VB_OK ? st : flushed;
}

/* vb_source flush of a VHDX layer. */
static vb_status vhdx_flush(void *ctx)
{
    vb_layer *layer = ctx;
    return vb_source_flush(layer->file);
}

bool vb_vhdx_block_allocated(vb_layer *layer, uint64_t sector)
{
    const struct vb_vhdx *x = layer->vhdx;
    uint64_t byte = sector * VB_SECTOR;
    if (byte >= x->info.virtual_size)
        return false;
    unsigned s = VB_VHDX_BAT_STATE(vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, byte / x->info.block_size)));
    return s == VB_VHDX_PAYLOAD_FULLY_PRESENT || s == VB_VHDX_PAYLOAD_PARTIALLY_PRESENT;
}

bool vb_vhdx_sector_present(vb_layer *layer, uint64_t sector)
{
    struct vb_vhdx *x = layer->vhdx;
    uint64_t byte = sector * VB_SECTOR;
    if (byte >= x->info.virtual_size)
        return false;
    uint64_t b = byte / x->info.block_size;
    unsigned s = VB_VHDX_BAT_STATE(vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b)));
    switch (s) {
    case VB_VHDX_PAYLOAD_PARTIALLY_PRESENT: {
        uint8_t *bits;
        if (vb_vhdx_block_bitmap(layer, b, &bits) != VB_OK)
            return false;
        return bit_test(bits, (uint32_t)((byte % x->info.block_size) / x->info.logical_sector_size));
    }
    case VB_VHDX_PAYLOAD_NOT_PRESENT:
    case VB_VHDX_PAYLOAD_UNDEFINED:
        return !x->info.has_parent;
    default:
        return true;
    }
}

/* Sets x->linear when the file has no parent and payload block b lies at
 * linear_base + b * block_size, FULLY_PRESENT, for every b (see vb_vhdx). */
static void find_linear(struct vb_vhdx *x)
{
    const vb_vhdx_info *i = &x->info;
    x->linear = false;
    if (i->has_parent || i->data_blocks == 0)
        return;
    uint64_t base = VB_VHDX_BAT_OFFSET(vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, 0)));
    for (uint64_t b = 0; b < i->data_blocks; b++) {
        uint64_t e = vb_vhdx_bat_get(x, vb_vhdx_payload_index(x, b));
        if (VB_VHDX_BAT_STATE(e) != VB_VHDX_PAYLOAD_FULLY_PRESENT || VB_VHDX_BAT_OFFSET(e) != base + b * i->block_size)
            return;
    }
    x->linear = true;
    x->linear_base = base;
}

bool vb_vhdx_linear_data(const vb_layer *layer, uint64_t *offset)
{
    const struct vb_vhdx *x = layer ? layer->vhdx : NULL;
    if (!x || !x->linear || x->info.log_replayed_in_memory)
        return false;
    *offset = x->linear_base;
    return true;
}

/* Keeps the first overlap line for the open refusal. */
static void copy_first_line(void *ctx, const char *text)
{
    vb_strlcpy(ctx, text, VB_DIAG_TEXT_MAX);
}

/* Loads the BAT (only the entries the disk needs) through x->io. */
static vb_status load_bat(struct vb_vhdx *x, const char *name, vb_diag *diag)
{
    size_t bytes = (size_t)x->info.bat_entries * 8;
    x->bat = vb_alloc(bytes ? bytes : 8);
    if (!x->bat)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for a BAT of %llu entries", name,
                       (unsigned long long)x->info.bat_entries);
    vb_status st = vb_source_read(x->io, x->info.bat_offset, x->bat, bytes);
    if (st != VB_OK)
        return vb_fail(diag, st, "%s: cannot read the BAT", name);
    return validate_bat(x, name, diag);
}

vb_status vb_vhdx_layer_open(vb_layer *layer, unsigned flags, vb_diag *diag)
{
    const char *name = layer->name;
    struct vb_vhdx *x = vb_alloc(sizeof(*x));
    if (!x)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory for a VHDX layer", name);
    layer->vhdx = x;
    vb_status st = vb_vhdx_read_headers(x, layer->file, name, diag);
    if (st != VB_OK)
        return st;
    x->io = layer->file;
    x->file_end = layer->file->size;
    if (x->info.log_dirty) {
        st = vb_vhdx_log_load(x, layer->file, name, diag);
        if (st != VB_OK)
            return st;
        if (flags & VB_OPEN_WRITABLE) {
            /* replay on disk before anything else is written, then mark the log empty */
            st = vb_vhdx_log_apply(x, layer->file, name, diag);
            if (st != VB_OK)
                return st;
            st = vb_vhdx_write_headers(x, layer->file, NULL, NULL, true);
            if (st != VB_OK)
                return vb_fail(diag, st, "%s: cannot clear the log after replaying it", name);
            x->info.log_replayed_on_disk = true;
            x->file_end = layer->file->size;
        } else {
            vb_vhdx_log_view(x, layer->file);
            x->io = &x->view;
            x->file_end = x->view.size;
            x->info.log_replayed_in_memory = true;
        }
    }
    st = vb_vhdx_read_regions(x, x->io, name, diag);
    if (st == VB_OK)
        st = vb_vhdx_read_metadata(x, name, diag);
    if (st == VB_OK && x->info.log_length &&
        (vb_vhdx_overlap(x->info.log_offset, x->info.log_length, 0, VB_VHDX_MIB)))
        st = vb_fail(diag, VB_ERR_VHDX_REGION_OVERLAP, "%s: the log overlaps the header section", name);
    if (st == VB_OK)
        st = load_bat(x, name, diag);
    if (st != VB_OK)
        return st;
    char first[VB_DIAG_TEXT_MAX] = "";
    long overlaps = vb_vhdx_find_overlaps(x, copy_first_line, first, 1);
    if (overlaps < 0)
        return vb_fail(diag, VB_ERR_NO_MEMORY, "%s: no memory to check the blocks for overlaps", name);
    if (overlaps > 0)
        return vb_fail(diag, VB_ERR_BAD_BAT_ENTRY, "%s: %s", name, first);
    find_linear(x);
    fill_layer_info(layer);
    if (x->info.has_parent)
        vb_vhdx_fill_locators(layer);
    layer->self.size = x->info.virtual_size;
    layer->self.ctx = layer;
    layer->self.read = vhdx_read;
    layer->self.write = layer->writable ? vb_vhdx_layer_write : NULL;
    layer->self.flush = vhdx_flush;
    layer->self.close = NULL;
    return VB_OK;
}

void vb_vhdx_layer_free(vb_layer *layer)
{
    struct vb_vhdx *x = layer->vhdx;
    if (!x)
        return;
    for (unsigned i = 0; i < VB_VHDX_BITMAP_SLOTS; i++)
        vb_free(x->slots[i].bits);
    vb_vhdx_log_free(&x->log);
    vb_free(x->bat);
    vb_free(x->zero_block);
    vb_free(x);
    layer->vhdx = NULL;
}
